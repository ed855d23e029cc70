"""State gauges with two replicas on one PostgreSQL: read from storage, never counted per
process, so a firing reaching one replica and its resolution the other leaves both at 0."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from recorder.settings import load_settings
from recorder.web.app import create_app
from tests.conftest import fixture_bytes
from tests.web.conftest import FakeClock

JSON = {"Content-Type": "application/json"}

pytestmark = pytest.mark.postgres


async def open_gauge(client: TestClient[Any, Any]) -> float:
    resp = await client.get("/metrics")
    assert resp.status == 200
    for family in text_string_to_metric_families(await resp.text()):
        for sample in family.samples:
            if sample.name == "recorder_incidents_open":
                return sample.value
    raise AssertionError("recorder_incidents_open missing")


async def wait_for_gauge(client: TestClient[Any, Any], expected: float, within: float) -> None:
    """Poll the gauge until it reads `expected` (state gauges are cached a few seconds)."""
    deadline = time.monotonic() + within
    value = await open_gauge(client)
    while value != expected and time.monotonic() < deadline:
        await asyncio.sleep(0.25)
        value = await open_gauge(client)
    assert value == expected


async def test_two_replicas_agree_on_open_incidents(
    aiohttp_client: Any, postgres_dsn: str, clock: FakeClock
) -> None:
    """Firing to replica A, resolution to replica B: both say 1 while open, both 0 after."""
    settings = load_settings(environ={"RECORDER_DATABASE_URL": postgres_dsn})
    replica_a = await aiohttp_client(
        create_app(settings, clock=clock, registry=CollectorRegistry())
    )
    replica_b = await aiohttp_client(
        create_app(settings, clock=clock, registry=CollectorRegistry())
    )
    # Both scraped before anything happens: each has a cached 0 to get rid of.
    assert await open_gauge(replica_a) == 0
    assert await open_gauge(replica_b) == 0

    resp = await replica_a.post(
        "/webhooks/alertmanager", data=fixture_bytes("alertmanager_firing.json"), headers=JSON
    )
    assert resp.status == 200
    assert await open_gauge(replica_a) == 1  # its own transition: read again at once
    await wait_for_gauge(replica_b, 1, within=20)

    resp = await replica_b.post(
        "/webhooks/alertmanager", data=fixture_bytes("alertmanager_resolved.json"), headers=JSON
    )
    assert resp.status == 200
    assert await open_gauge(replica_b) == 0
    await wait_for_gauge(replica_a, 0, within=20)
