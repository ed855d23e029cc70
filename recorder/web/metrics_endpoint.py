"""GET /metrics: the recorder's own metrics, served by prometheus_client's aiohttp handler."""

from __future__ import annotations

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from recorder.web.keys import METRICS, STORE


async def metrics_handler(request: web.Request) -> web.Response:
    """Refresh the storage connection gauge from the store, then expose the registry."""
    metrics = request.app[METRICS]
    stats = getattr(request.app[STORE], "connection_stats", None)
    if callable(stats):
        for state, count in stats().items():
            metrics.storage_connections.labels(state=state).set(count)
    handler = make_aiohttp_handler(metrics.registry)
    response = await handler(request)
    assert isinstance(response, web.Response)
    return response
