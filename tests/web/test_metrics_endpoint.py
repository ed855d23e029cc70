"""GET /metrics: the documented series, parsed with prometheus_client's own parser."""

from __future__ import annotations

import json
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import fixture_bytes
from tests.web.conftest import FakeClock, MakeClient

JSON = {"Content-Type": "application/json"}
DOCUMENTED = {
    "recorder_webhooks_received",
    "recorder_webhook_duration_seconds",
    "recorder_incidents_opened",
    "recorder_incidents_open",
    "recorder_incident_time_to_detect_seconds",
    "recorder_incident_time_to_acknowledge_seconds",
    "recorder_incident_time_to_resolve_seconds",
    "recorder_sampler_queries",
    "recorder_sampler_query_duration_seconds",
    "recorder_storage_connections",
    "recorder_build_info",
    "process_cpu_seconds",
}


async def scrape(client: object) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    resp = await client.get("/metrics")  # type: ignore[attr-defined]
    assert resp.status == 200
    text = await resp.text()
    out: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    families = {f.name for f in text_string_to_metric_families(text)}
    assert families >= DOCUMENTED, DOCUMENTED - families
    return out


async def test_lifecycle_is_counted_with_mtta_and_mttr(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """Open, acknowledge and resolve: counters and time-to-* histograms move exactly once."""
    client = await make_client()
    resp = await client.post(
        "/webhooks/alertmanager", data=fixture_bytes("alertmanager_firing.json"), headers=JSON
    )
    incident_id = (await resp.json())["incidents"][0]
    before = await scrape(client)
    assert before["recorder_incidents_open"][()] == 1
    assert before["recorder_incidents_opened_total"][(("severity", "SEV1"),)] == 1

    clock.current += timedelta(minutes=2)
    ack_at = "2026-11-28T17:39:03.194Z"  # 2 minutes after the alert's startsAt
    await client.post(
        f"/api/v1/incidents/{incident_id}/acknowledge",
        data=json.dumps({"by": "Jane Doe", "at": ack_at}),
        headers=JSON,
    )
    resolved = json.loads(fixture_bytes("alertmanager_resolved.json"))
    await client.post("/webhooks/alertmanager", data=json.dumps(resolved), headers=JSON)
    after = await scrape(client)
    assert after["recorder_incident_time_to_acknowledge_seconds_count"][()] == 1
    assert after["recorder_incident_time_to_acknowledge_seconds_sum"][()] == 120.0
    assert after["recorder_incident_time_to_resolve_seconds_count"][()] == 1
    assert after["recorder_incident_time_to_resolve_seconds_sum"][()] == 31.0
    assert after["recorder_incidents_open"][()] == 0
    stored = (("outcome", "stored"), ("source", "alertmanager"))
    assert after["recorder_webhooks_received_total"][stored] == 2


async def test_open_gauge_is_recomputed_from_storage_at_start(
    make_client: MakeClient, database_url: str
) -> None:
    """A restarted recorder reports the open incidents it finds in storage."""
    first = await make_client()
    await first.post(
        "/webhooks/alertmanager", data=fixture_bytes("alertmanager_firing.json"), headers=JSON
    )
    await first.close()
    second = await make_client()
    assert (await scrape(second))["recorder_incidents_open"][()] == 1
