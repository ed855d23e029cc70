"""Big bodies are parsed in a worker process: what comes back is what parsing here gives."""

from __future__ import annotations

import pytest

from alert_adapters.errors import PayloadError
from alert_adapters.versions import parse_alert_webhook
from recorder.web.parsing import BodyParser
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
