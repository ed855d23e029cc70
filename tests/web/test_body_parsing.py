"""Big bodies are parsed in a worker process: what comes back is what parsing here gives."""

from __future__ import annotations

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
