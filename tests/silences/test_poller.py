"""The silence poller's own branches: idle, unreadable answer, recovery, storage down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
import structlog
import structlog.testing
from aiohttp import web
from aiohttp.test_utils import TestServer
from prometheus_client import CollectorRegistry

from recorder import __version__
from recorder.clock import SystemClock
from recorder.core.lifecycle import Policy
from recorder.demo.stack import free_port
from recorder.ingest import Recording
from recorder.metrics import RecorderMetrics
from recorder.silences import SilencePoller
from recorder.store.factory import open_store
from recorder.store.protocol import Store
from tests.store.builders import make_incident, open_if_absent

log = structlog.get_logger("test")


class Answers:
    """What the stand-in HTTP server answers at /api/v2/silences (a proxy in front of
    Alertmanager that serves its own error page, then the real list)."""

    def __init__(self) -> None:
        self.body = b"<html>maintenance</html>"
        self.hits = 0

    async def handle(self, request: web.Request) -> web.Response:
        self.hits += 1
        return web.Response(body=self.body, content_type="application/json")


@pytest.fixture
async def answers() -> AsyncIterator[tuple[Answers, str]]:
    found = Answers()
    app = web.Application()
    app.router.add_get("/api/v2/silences", found.handle)
    server = TestServer(app)
    await server.start_server()
    yield found, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
async def store(sqlite_url: str) -> AsyncIterator[Store]:
    opened = open_store(sqlite_url)
    await opened.start()
    await opened.migrate()
    yield opened
    await opened.close()


def make_poller(store: Store, urls: list[str]) -> tuple[SilencePoller, RecorderMetrics]:
    metrics = RecorderMetrics(CollectorRegistry(), version=__version__, backend=store.backend)
    recording = Recording(
        store,
        policy=Policy(),
        correlate_by=("group_key",),
        clock=SystemClock(),
        metrics=metrics,
        log=log,
    )
    session = aiohttp.ClientSession()
    poller = SilencePoller(
        store,
        recording,
        session,
        urls,
        interval=timedelta(seconds=1),
        metrics=metrics,
        log=log,
    )
    return poller, metrics


def polls(metrics: RecorderMetrics, outcome: str) -> float:
    value: Any = metrics.registry.get_sample_value(
        "recorder_silence_polls_total", {"outcome": outcome}
    )
    return float(value)


async def test_no_open_incident_reads_nothing(store: Store, answers: tuple[Answers, str]) -> None:
    """While no incident is open, Alertmanager is not asked and nothing is counted."""
    stand_in, url = answers
    poller, metrics = make_poller(store, [url])
    try:
        assert await poller.poll_once() is None
    finally:
        await poller.session.close()
    assert stand_in.hits == 0
    assert polls(metrics, "ok") == 0


async def test_unreadable_answer_is_counted_then_recovers(
    store: Store, answers: tuple[Answers, str]
) -> None:
    """A 200 that is not a list of silences counts as invalid; the next good answer is ok."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))
    stand_in, url = answers
    poller, metrics = make_poller(store, [url])
    try:
        assert await poller.poll_once() == "invalid"
        stand_in.body = b"[]"
        assert await poller.poll_once() == "ok"
    finally:
        await poller.session.close()
    assert (polls(metrics, "invalid"), polls(metrics, "ok")) == (1, 1)


async def test_first_peer_that_answers_is_used_and_preferred(
    store: Store, answers: tuple[Answers, str]
) -> None:
    """A dead first peer is skipped; the peer that answered is asked first next time."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))
    stand_in, url = answers
    stand_in.body = b"[]"
    poller, metrics = make_poller(store, [f"http://127.0.0.1:{free_port()}", url])
    try:
        assert await poller.poll_once() == "ok"
        assert poller.urls[poller._preferred] == url
        assert await poller.poll_once() == "ok"
    finally:
        await poller.session.close()
    assert stand_in.hits == 2
    assert polls(metrics, "unreachable") == 0


async def test_every_peer_down_is_unreachable(store: Store) -> None:
    """No peer answers: counted as unreachable, and the poll returns (it never hangs)."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))
    poller, metrics = make_poller(store, [f"http://127.0.0.1:{free_port()}"])
    try:
        with structlog.testing.capture_logs() as logs:
            assert await poller.poll_once() == "unreachable"
            assert await poller.poll_once() == "unreachable"
    finally:
        await poller.session.close()
    assert polls(metrics, "unreachable") == 2
    # Logged as a warning once per change of state, not once per poll.
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert [e["event"] for e in warnings] == ["silence_poll_failed"]
    assert warnings[0]["outcome"] == "unreachable"


async def test_storage_down_is_counted(store: Store, answers: tuple[Answers, str]) -> None:
    """Storage that cannot be read is a storage_error poll, not a crash."""
    _, url = answers
    poller, metrics = make_poller(store, [url])
    await store.close()
    try:
        assert await poller.poll_once() == "storage_error"
    finally:
        await poller.session.close()
    assert polls(metrics, "storage_error") == 1
