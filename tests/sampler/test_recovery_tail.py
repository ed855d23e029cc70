"""Against a real Prometheus: sampling goes on for the recovery tail after resolution,
then the backfill and the lease release as before; an empty query is named as such."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from recorder.prometheus.failures import FailureCause
from recorder.settings import Settings, load_settings
from recorder.web.keys import STORE
from tests.conftest import require_binary
from tests.promlab import PromLab, poll_until, running_lab
from tests.sampler.scenario import (
    LAB_SIGNALS,
    after,
    incident_id_for,
    metric,
    notification,
    points,
    post_alert,
    samples_of,
    start_recorder,
    wait_for_backfill,
    wait_for_scrapes,
)

pytestmark = pytest.mark.prometheus

TAIL = timedelta(seconds=8)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromLab]:
    """One real Prometheus and exporter for this module's scenarios."""
    binary = require_binary("prometheus")
    with running_lab(binary, tmp_path_factory.mktemp("prometheus")) as running:
        yield running


def settings_for(lab: PromLab, database_url: str, signals: list[dict[str, str]]) -> Settings:
    """Sampling every second from the lab with an 8 s recovery tail."""
    return load_settings(
        environ={
            "RECORDER_DATABASE_URL": database_url,
            "RECORDER_PROMETHEUS_URL": lab.prometheus.url,
        },
        flags={
            "sampling": {
                "interval": "1s",
                "baseline_window": "10s",
                "recovery_tail": f"{TAIL.total_seconds():g}s",
            },
            "signals": signals,
        },
    )


async def test_sampling_goes_on_for_the_recovery_tail_then_backfills_once(
    lab: PromLab, aiohttp_client: Any, database_url: str
) -> None:
    """After the resolved notification the incident is still sampled live; the backfill
    waits for the tail, stores samples up to resolved_at + tail showing the recovery held,
    and frees the lease for good."""
    registry = CollectorRegistry()
    client = await start_recorder(
        aiohttp_client, settings_for(lab, database_url, LAB_SIGNALS), registry
    )
    normal_from = lab.exporter.set(error_ratio=0.001, pool_in_use=20)
    await wait_for_scrapes(lab, normal_from, 3)
    fault_at = lab.exporter.set(error_ratio=0.9, pool_in_use=100)
    await wait_for_scrapes(lab, fault_at, 3)
    starts_at = after(fault_at, 2)
    await post_alert(client, notification("firing", starts_at=starts_at))
    incident_id = await incident_id_for(client, "CheckoutErrors")
    recovered_at = lab.exporter.set(error_ratio=0.001, pool_in_use=20)
    await wait_for_scrapes(lab, recovered_at, 3)
    resolved_at = datetime.now(UTC)
    await post_alert(client, notification("resolved", starts_at=starts_at, ends_at=resolved_at))

    async def sampled_after_resolution() -> bool:
        signals = await samples_of(client, incident_id)
        cutoff = (resolved_at + timedelta(seconds=3)).timestamp()
        return any(t > cutoff for t, _ in points(signals, "pool_in_use"))

    await poll_until(sampled_after_resolution, within=20, what="a live sample after resolution")
    await wait_for_backfill(registry, within=40)
    assert datetime.now(UTC) >= resolved_at + TAIL, "backfilled before the tail was over"

    signals = await samples_of(client, incident_id)
    tail = [(t, v) for t, v in points(signals, "pool_in_use") if t > resolved_at.timestamp()]
    assert tail, "no samples after resolution"
    assert all(v == 20 for _, v in tail), tail
    last = max(t for t, _ in tail)
    assert (resolved_at + TAIL).timestamp() - 1 <= last <= (resolved_at + TAIL).timestamp()
    assert metric(registry, "recorder_incident_time_to_detect_seconds_count") == 1

    store = client.app[STORE]
    now = datetime.now(UTC)
    taken = await store.acquire_leases(
        "another-replica",
        now=now + timedelta(minutes=5),
        ttl=timedelta(seconds=30),
        resolved_since=now - timedelta(hours=1),
        limit=10,
    )
    assert incident_id not in {t.incident_id for t in taken}


async def test_a_query_that_returns_no_series_is_named_as_such(
    lab: PromLab, aiohttp_client: Any, database_url: str
) -> None:
    """A signal whose query matches nothing in a real Prometheus is recorded as "no
    series", and the report says so with the Prometheus URL."""
    signals = [
        s if s["name"] != "pool_max" else {**s, "query": "absent_metric"} for s in LAB_SIGNALS
    ]
    client = await start_recorder(
        aiohttp_client, settings_for(lab, database_url, signals), CollectorRegistry()
    )
    await post_alert(
        client, notification("firing", starts_at=datetime.now(UTC) - timedelta(seconds=3))
    )
    incident_id = await incident_id_for(client, "CheckoutErrors")
    store = client.app[STORE]

    async def recorded() -> bool:
        failures = await store.load_sampling_failures(incident_id)
        return any(f.signal == "pool_max" for f in failures)

    await poll_until(recorded, within=20, what="pool_max's empty answer recorded")
    failures = await store.load_sampling_failures(incident_id)
    assert ("pool_max", FailureCause.NO_SERIES) in {(f.signal, f.cause) for f in failures}
    report = await (await client.get(f"/api/v1/incidents/{incident_id}/report")).text()
    assert f"the query returned no series from Prometheus at {lab.prometheus.url}" in report
