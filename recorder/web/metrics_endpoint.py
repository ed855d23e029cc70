"""GET /metrics: the recorder's own metrics, served by prometheus_client's aiohttp handler."""

from __future__ import annotations

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from recorder.store.errors import StoreError
from recorder.web.keys import LOG, METRICS, STORE


async def metrics_handler(request: web.Request) -> web.Response:
    """Refresh the state gauges from storage (cached a few seconds) and the storage
    connection gauge from the store, then expose the registry. When storage cannot be
    read the scrape still succeeds, with the state gauges' last values."""
    metrics = request.app[METRICS]
    try:
        await metrics.state.refresh(request.app[STORE])
    except StoreError as exc:
        request.app[LOG].warning("state_gauges_stale", error=str(exc))
    stats = getattr(request.app[STORE], "connection_stats", None)
    if callable(stats):
        for state, count in stats().items():
            metrics.storage_connections.labels(state=state).set(count)
    handler = make_aiohttp_handler(metrics.registry)
    response = await handler(request)
    assert isinstance(response, web.Response)
    return response
