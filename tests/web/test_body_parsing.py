"""Big bodies are parsed in a worker process: what comes back is what parsing here gives."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import pytest

from alert_adapters.errors import PayloadError
from alert_adapters.versions import parse_alert_webhook
from recorder.web import parsing
from recorder.web.parsing import BodyParser, ParserUnavailable
from tests.conftest import fixture_bytes

FIXTURES = [
    "alertmanager_multi_alert_group.json",
    "alertmanager_resolved.json",
    "grafana/grafana10_firing_values.json",  # value text and links
    "grafana/grafana11_firing_image.json",
]


async def test_results_and_errors_cross_the_process_unchanged() -> None:
    parser = BodyParser(off_loop_bytes=0)  # every body goes to the worker
    try:
        for name in FIXTURES:
            body = fixture_bytes(name)
            assert await parser.run(len(body), parse_alert_webhook, body) == (
                parse_alert_webhook(body)
            )
        broken = fixture_bytes(FIXTURES[0]).replace(b'"startsAt":"', b'"startsAt":"x', 1)
        with pytest.raises(PayloadError) as here:
            parse_alert_webhook(broken)
        with pytest.raises(PayloadError) as there:
            await parser.run(len(broken), parse_alert_webhook, broken)
        assert (type(there.value), str(there.value)) == (type(here.value), str(here.value))
    finally:
        parser.close()


async def test_a_worker_that_cannot_start_is_a_retryable_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the worker process cannot start, the body gets ParserUnavailable (a 503 the
    sender retries), and the next big body tries to start one again."""

    def fail(pool: Any, workers: int) -> None:
        raise BrokenProcessPool("a worker died while starting")

    body = fixture_bytes(FIXTURES[0])
    parser = BodyParser(off_loop_bytes=0)
    try:
        monkeypatch.setattr(parsing, "_start_workers", fail)
        with pytest.raises(ParserUnavailable):
            await parser.run(len(body), parse_alert_webhook, body)
        monkeypatch.undo()
        assert await parser.run(len(body), parse_alert_webhook, body) == parse_alert_webhook(body)
    finally:
        parser.close()


def worker_pids(before: set[int]) -> set[int]:
    return {child.pid for child in multiprocessing.active_children()} - before - {None}


async def test_start_starts_the_worker_before_the_first_body() -> None:
    """`start()` (what `recorder serve` calls) starts the worker in the background, and
    the first big body is parsed by it: no process starts then."""
    before = worker_pids(set())
    parser = BodyParser(off_loop_bytes=0)
    try:
        assert not parser.starting
        parser.start()
        assert parser.starting
        deadline = time.monotonic() + 60
        while parser.starting:
            assert time.monotonic() < deadline, "the worker did not start within 60 s"
            await asyncio.sleep(0.01)
        started = worker_pids(before)
        assert len(started) == 1
        body = fixture_bytes(FIXTURES[0])
        assert await parser.run(len(body), parse_alert_webhook, body) == parse_alert_webhook(body)
        assert worker_pids(before) == started
    finally:
        parser.close()


async def test_the_worker_imports_only_what_parsing_needs() -> None:
    """A worker holds the adapters and what they import, not the web app, storage,
    templates or the event loop: each import is resident memory for the daemon's life."""
    parser = BodyParser(off_loop_bytes=0)
    try:
        body = fixture_bytes(FIXTURES[0])
        await parser.run(len(body), parse_alert_webhook, body)
        source = b"sorted(__import__('sys').modules)"
        modules = set(await parser.run(len(source), eval, source))
    finally:
        parser.close()
    assert {"alert_adapters.versions", "recorder.web.parse_worker"} <= modules
    heavy = {
        "aiohttp",
        "aiosqlite",
        "asyncio",
        "asyncpg",
        "jinja2",
        "recorder.settings",
        "recorder.store",
        "recorder.web.app",
        "recorder.web.parsing",
        "structlog",
    }
    assert heavy & modules == set()
