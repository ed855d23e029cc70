"""The aiohttp application factory: one cleanup context per resource, typed state keys."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry

from recorder import __version__
from recorder.clock import Clock, SystemClock
from recorder.core.lifecycle import Policy
from recorder.ingest import Recording
from recorder.metrics import RecorderMetrics
from recorder.preflight import probe_prometheus
from recorder.settings import Settings, mask_url
from recorder.storage_state import StorageState, bring_up, keep_bringing_up
from recorder.store.errors import StorageMisconfigured, StoreError
from recorder.store.factory import open_store
from recorder.store.protocol import Store
from recorder.web import api, charts, draining, health, openapi, pages, samples
from recorder.web.identifiers import check_identifiers
from recorder.web.inflight import Draining
from recorder.web.keys import (
    BODY_PARSER,
    CLOCK,
    DRAINING,
    LOG,
    METRICS,
    PROMETHEUS_SESSION,
    RECORDING,
    SETTINGS,
    STORAGE_STATE,
    STORE,
)
from recorder.web.metrics_endpoint import metrics_handler
from recorder.web.parsing import BodyParser
from recorder.web.problems import Handler, problems_and_access_log
from recorder.web.sampler_task import add_sampling
from recorder.web.security import init_security
from recorder.web.silencing import add_silence_polling
from recorder.web.webhooks import alertmanager, grafana, pagerduty

_NEEDS_STORAGE = ("/webhooks/", "/api/v1/incidents")
STATIC = Path(__file__).parent / "static"


@web.middleware
async def request_gate(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Before any handler: 404 for path identifiers nothing can have, then 503 quickly on
    storage paths until storage has come up once."""
    check_identifiers(request)
    state = request.app[STORAGE_STATE]
    if not state.ready and request.path.startswith(_NEEDS_STORAGE):
        state.require(request.app[STORE].backend)
    return await handler(request)


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    clock: Clock | None = None,
    registry: CollectorRegistry | None = None,
    migrate: bool = True,
    start_parser: bool = False,
) -> web.Application:
    """Build the recorder's web application.

    `store`, `clock` and `registry` are injectable for tests; by default the store comes
    from `settings.database_url`, the clock is the system clock and metrics go to a fresh
    registry. Storage is connected (and migrated unless `migrate=False`) at startup; if
    that fails the app still serves, answers 503 on storage paths and keeps retrying.
    With `start_parser` (`recorder serve`) the body-parsing worker process starts at
    startup, beside storage, and /readyz waits for it; otherwise (apps in tests) it
    starts with the first big body.
    """
    app = web.Application(
        middlewares=[problems_and_access_log, draining.drain_gate, request_gate],
        client_max_size=settings.body_limit,
    )
    store = store or open_store(settings.database_url)
    log: structlog.typing.FilteringBoundLogger = structlog.get_logger("recorder")
    if structlog.get_config()["cache_logger_on_first_use"]:
        log = log.bind()  # what the lazy proxy caches at first use, minus its indirection
    metrics = RecorderMetrics(
        registry or CollectorRegistry(), version=__version__, backend=store.backend
    )
    app[SETTINGS] = settings
    app[STORE] = store
    app[CLOCK] = clock or SystemClock()
    app[LOG] = log
    app[METRICS] = metrics
    app[STORAGE_STATE] = StorageState()
    app[DRAINING] = Draining()
    app[BODY_PARSER] = BodyParser()
    app[RECORDING] = Recording(
        store,
        policy=Policy(reopen_window=settings.reopen_window, severity_map=settings.severity),
        correlate_by=settings.correlate_by,
        clock=app[CLOCK],
        metrics=metrics,
        log=log,
        figure_settings=settings.figure_snapshot(),
    )

    async def storage_ctx(app: web.Application) -> AsyncIterator[None]:
        state = app[STORAGE_STATE]
        retry: asyncio.Task[None] | None = None
        try:
            await bring_up(store, state, migrate=migrate)
            log.info("storage_ready", backend=store.backend)
        except StorageMisconfigured:
            # No retry can fix it: fail the start (`serve` exits 3 and says what to do).
            await store.close()
            raise
        except StoreError as exc:
            state.last_error = str(exc)
            log.warning("storage_unavailable_at_start", error=str(exc), backend=store.backend)
            retry = asyncio.create_task(keep_bringing_up(store, state, log, migrate=migrate))
        yield
        if retry is not None:
            retry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await retry
        await store.close()

    # First: the worker process starts while storage comes up (and is closed if it fails).
    app.cleanup_ctx.append(_body_parser_ctx(start=start_parser))
    app.cleanup_ctx.append(storage_ctx)
    app.on_shutdown.append(draining.on_shutdown)
    if settings.prometheus_url is not None:
        add_sampling(app)
        app.cleanup_ctx.append(prometheus_probe_ctx)
    if settings.alertmanager_urls:
        add_silence_polling(app)
    _warn_open_endpoints(settings, log)
    init_security(app)
    _add_routes(app)
    return app


async def prometheus_probe_ctx(app: web.Application) -> AsyncIterator[None]:
    """Ask Prometheus once at start, in the background: a warning naming the URL when it
    cannot be reached (the sampler keeps retrying every round regardless)."""
    url = app[SETTINGS].prometheus_url
    assert url is not None  # only added when it is set

    async def probe() -> None:
        error = await probe_prometheus(url, app[PROMETHEUS_SESSION])
        if error is not None:
            app[LOG].warning(
                "prometheus_unreachable_at_start",
                url=mask_url(url),
                error=error,
                hint="check RECORDER_PROMETHEUS_URL; sampling keeps retrying",
            )

    task = asyncio.create_task(probe(), name="prometheus-probe")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _body_parser_ctx(*, start: bool) -> Callable[[web.Application], AsyncIterator[None]]:
    async def body_parser_ctx(app: web.Application) -> AsyncIterator[None]:
        if start:
            app[BODY_PARSER].start()
        yield
        await app[BODY_PARSER].aclose()

    return body_parser_ctx


def _warn_open_endpoints(settings: Settings, log: structlog.typing.FilteringBoundLogger) -> None:
    if settings.alertmanager_token is None:
        log.warning(
            "alertmanager_webhook_unauthenticated",
            hint="set RECORDER_ALERTMANAGER_TOKEN and the bearer credentials in Alertmanager "
            "and Grafana (/webhooks/alertmanager, /webhooks/grafana)",
        )
    if not settings.pagerduty_secrets:
        log.warning(
            "pagerduty_signatures_unchecked",
            hint="set RECORDER_PAGERDUTY_SECRET to the webhook subscription's signing secret",
        )
    if settings.api_token is None:
        log.warning("api_writes_unauthenticated", hint="set RECORDER_API_TOKEN")


def _add_routes(app: web.Application) -> None:
    """Every route of the app, here and nowhere else (the OpenAPI test reads them)."""
    app.router.add_get("/healthz", health.healthz)
    app.router.add_get("/readyz", health.readyz)
    app.router.add_get("/metrics", metrics_handler)
    app.router.add_post("/webhooks/alertmanager", alertmanager.alertmanager_webhook)
    app.router.add_post("/webhooks/grafana", grafana.grafana_webhook)
    app.router.add_post("/webhooks/pagerduty", pagerduty.pagerduty_webhook)
    app.router.add_get("/api/v1/openapi.json", openapi.openapi_handler)
    app.router.add_get("/api/v1/incidents", api.list_incidents)
    app.router.add_get("/api/v1/incidents/{id}", api.get_incident)
    app.router.add_get("/api/v1/incidents/{id}/report", api.get_report)
    app.router.add_get("/api/v1/incidents/{id}/samples", samples.get_samples)
    app.router.add_patch("/api/v1/incidents/{id}", api.patch_incident)
    app.router.add_post("/api/v1/incidents/{id}/acknowledge", api.acknowledge_incident)
    app.router.add_post("/api/v1/incidents/{id}/resolve", api.resolve_incident)
    app.router.add_post("/api/v1/incidents/{id}/timeline", api.add_timeline_entry)
    app.router.add_get("/api/v1/incidents/{id}/charts/{signal}.svg", charts.chart_svg)
    app.router.add_get("/", pages.incident_list)
    app.router.add_get("/incidents/{id}", pages.incident_page)
    app.router.add_post("/incidents/{id}/edit", pages.edit_incident)
    app.router.add_get("/login", pages.login_page)
    app.router.add_post("/login", pages.login)
    app.router.add_post("/logout", pages.logout)
    app.router.add_static("/static", STATIC, append_version=False)
