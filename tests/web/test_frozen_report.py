"""Frozen at resolution: a resolved incident's report never changes with the settings."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from recorder.store.factory import open_store
from recorder.store.protocol import StoredSample
from tests.conftest import fixture_bytes
from tests.web.conftest import FakeClock, MakeClient

JSON = {"Content-Type": "application/json"}
# Chart links are absolute: the same external URL before and after the restart.
URL = "https://recorder.example.org"
FIRST = {
    "external_url": URL,
    "slo_target": 0.999,
    "severity": {"critical": "SEV1", "warning": "SEV3"},
    "thresholds": {"outage_error_rate": 0.05},
}
LATER = {
    "external_url": URL,
    "slo_target": 0.95,
    "severity": {"critical": "SEV3", "warning": "SEV4"},
    "thresholds": {"outage_error_rate": 0.5, "error_rate_min": 0.2},
    "sampling": {"baseline_window": "5m"},
}


async def post(client: TestClient[Any, Any], fixture: str) -> str:
    resp = await client.post("/webhooks/alertmanager", data=fixture_bytes(fixture), headers=JSON)
    assert resp.status == 200
    incident_id: str = (await resp.json())["incidents"][0]
    return incident_id


async def store_error_rate(database_url: str, incident_id: str) -> None:
    """Error-rate samples around the DiskAlmostFull pair (17:37:03–17:37:34): 0.2 % before,
    8 % during, so downtime and onset depend on the warning and outage levels."""
    store = open_store(database_url)
    await store.start()
    try:
        start = datetime(2026, 11, 28, 17, 30, tzinfo=UTC)
        samples = [
            StoredSample(
                "error_rate",
                start + timedelta(seconds=15 * i),
                0.08
                if start + timedelta(seconds=15 * i)
                >= datetime(2026, 11, 28, 17, 36, 45, tzinfo=UTC)
                else 0.002,
            )
            for i in range(36)
        ]
        await store.save_samples(incident_id, samples)
    finally:
        await store.close()


async def reports(client: TestClient[Any, Any], incident_id: str) -> dict[str, bytes]:
    """The incident's report in every format, its chart and its page, as bytes."""
    out = {}
    for fmt in ("markdown", "json", "html"):
        resp = await client.get(f"/api/v1/incidents/{incident_id}/report?format={fmt}")
        assert resp.status == 200
        out[fmt] = await resp.read()
    for name, path in (
        ("chart", f"/api/v1/incidents/{incident_id}/charts/error_rate.svg"),
        ("page", f"/incidents/{incident_id}"),
    ):
        resp = await client.get(path)
        assert resp.status == 200, path
        # The page's forms carry a per-session CSRF token: the rest must not change.
        out[name] = re.sub(rb'name="csrf_token" value="[0-9a-f]+"', b"", await resp.read())
    return out


async def test_resolved_report_is_byte_for_byte_the_same_after_settings_change_and_restart(
    make_client: MakeClient, clock: FakeClock, database_url: str
) -> None:
    """Resolve under one slo_target, [severity] and levels, restart with others: the
    resolved report is the same bytes in Markdown, JSON and HTML, and so are its chart
    and its page."""
    client = await make_client(**FIRST)
    clock.set_unix(1795887425.227)
    incident_id = await post(client, "alertmanager_firing.json")
    clock.set_unix(1795887455.23)
    await post(client, "alertmanager_resolved.json")
    await store_error_rate(database_url, incident_id)
    clock.set_unix(1795888000.0)
    before = await reports(client, incident_id)
    assert b"**Uptime target**: 99.9" in before["markdown"]
    await client.close()

    restarted = await make_client(**LATER)
    after = await reports(restarted, incident_id)
    for fmt in before:
        assert after[fmt] == before[fmt], fmt


async def test_open_incident_follows_the_current_settings_and_reopen_unfreezes(
    make_client: MakeClient, clock: FakeClock, database_url: str
) -> None:
    """An open incident's report follows the settings in force; a resolved one re-opened
    by a re-fire drops its frozen copy and follows the current settings again."""
    client = await make_client(**FIRST)
    clock.set_unix(1795887425.227)
    incident_id = await post(client, "alertmanager_firing.json")
    clock.set_unix(1795887455.23)
    await post(client, "alertmanager_resolved.json")
    await store_error_rate(database_url, incident_id)
    await client.close()

    later = await make_client(**LATER)
    frozen = (await reports(later, incident_id))["markdown"]
    assert b"**Uptime target**: 99.9" in frozen
    # The same alert fires again (new startsAt) within the re-open window.
    body = fixture_bytes("alertmanager_firing.json").replace(
        b"2026-11-28T17:37:03.194Z", b"2026-11-28T17:38:00.000Z"
    )
    clock.set_unix(1795887485.0)
    resp = await later.post("/webhooks/alertmanager", data=body, headers=JSON)
    assert (await resp.json())["incidents"] == [incident_id]
    reopened = (await reports(later, incident_id))["markdown"]
    assert b"**Uptime target**: 95" in reopened


async def test_resolving_and_reopening_through_the_api_freeze_and_unfreeze(
    make_client: MakeClient, clock: FakeClock, database_url: str
) -> None:
    """A resolve by a person (POST …/resolve) keeps the settings as the alert path does;
    setting the status back to investigating (PATCH) drops them."""
    client = await make_client(**FIRST)
    clock.set_unix(1795887425.227)
    incident_id = await post(client, "alertmanager_firing.json")
    clock.set_unix(1795887500.0)
    resp = await client.post(f"/api/v1/incidents/{incident_id}/resolve", json={"by": "Jane"})
    assert resp.status == 200, await resp.text()
    await store_error_rate(database_url, incident_id)
    await client.close()

    later = await make_client(**LATER)
    frozen = (await reports(later, incident_id))["markdown"]
    assert b"**Uptime target**: 99.9" in frozen
    resp = await later.patch(f"/api/v1/incidents/{incident_id}", json={"status": "investigating"})
    assert resp.status == 200, await resp.text()
    reopened = (await reports(later, incident_id))["markdown"]
    assert b"**Uptime target**: 95" in reopened


async def test_a_late_alert_joining_a_resolved_incident_ranks_severity_by_its_frozen_map(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """After a restart with a map that ranks `warning` above SEV1, a late resolved
    warning alert of the same group joins the resolved incident without raising its
    severity (SEV1 under the map it resolved under)."""
    client = await make_client(**FIRST)
    clock.set_unix(1795887425.227)
    incident_id = await post(client, "alertmanager_firing.json")
    clock.set_unix(1795887455.23)
    await post(client, "alertmanager_resolved.json")
    await client.close()

    restarted = await make_client(**(LATER | {"severity": {"warning": "SEV0"}}))
    body = json.loads(fixture_bytes("alertmanager_resolved.json"))
    alert = body["alerts"][0]
    alert["labels"]["severity"] = "warning"
    alert["fingerprint"] = "0000000000late01"
    alert["startsAt"] = "2026-11-28T17:37:10.000Z"
    alert["endsAt"] = "2026-11-28T17:37:20.000Z"
    resp = await restarted.post(
        "/webhooks/alertmanager", data=json.dumps(body).encode(), headers=JSON
    )
    assert (await resp.json())["incidents"] == [incident_id]
    detail = await (await restarted.get(f"/api/v1/incidents/{incident_id}")).json()
    assert len(detail["alerts"]) == 2
    assert detail["severity"] == "SEV1"
