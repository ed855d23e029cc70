"""What an alert said, when it said it: firing text and resolution text in reports."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import fixture_bytes
from tests.web.conftest import FakeClock, MakeClient

JSON = {"Content-Type": "application/json"}
FIRING_TEXT = "checkout is failing 97.5% of requests"
RESOLVED_TEXT = "checkout is failing 8.484% of requests"


def with_summary(fixture: str, summary: str) -> bytes:
    """The recorded Alertmanager body with its alert's (and common) summary replaced."""
    body = json.loads(fixture_bytes(fixture))
    for alert in body["alerts"]:
        alert["annotations"]["summary"] = summary
    body["commonAnnotations"]["summary"] = summary
    return json.dumps(body).encode()


async def fire_then_resolve(client: TestClient[Any, Any], clock: FakeClock) -> str:
    """The DiskAlmostFull pair, the firing body saying FIRING_TEXT, the resolved one
    RESOLVED_TEXT (Alertmanager re-renders annotations with the value at resolution)."""
    clock.set_unix(1795887425.227)
    resp = await client.post(
        "/webhooks/alertmanager",
        data=with_summary("alertmanager_firing.json", FIRING_TEXT),
        headers=JSON,
    )
    assert resp.status == 200
    incident_id: str = (await resp.json())["incidents"][0]
    clock.set_unix(1795887455.23)
    resp = await client.post(
        "/webhooks/alertmanager",
        data=with_summary("alertmanager_resolved.json", RESOLVED_TEXT),
        headers=JSON,
    )
    assert resp.status == 200
    return incident_id


def timeline_line(text: str, start: str) -> str:
    """The Markdown timeline row whose event cell starts with `start`."""
    rows = [line for line in text.splitlines() if line.startswith("|") and start in line]
    assert len(rows) == 1, rows
    return rows[0]


async def test_firing_row_and_detection_quote_firing_text_resolved_row_the_resolution(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """Firing text A then resolution text B: the firing row and Detection show A, the
    resolved row shows B (Markdown, JSON and HTML alike)."""
    client = await make_client()
    incident_id = await fire_then_resolve(client, clock)

    text = await (await client.get(f"/api/v1/incidents/{incident_id}/report")).text()
    firing = timeline_line(text, "Alert firing")
    resolved = timeline_line(text, "Alert resolved")
    assert FIRING_TEXT in firing
    assert RESOLVED_TEXT not in firing
    assert RESOLVED_TEXT in resolved
    assert FIRING_TEXT not in resolved
    detection = text.split("## Detection", 1)[1].split("\n## ", 1)[0]
    assert f"Alert summary: {FIRING_TEXT}" in detection
    assert RESOLVED_TEXT not in detection

    report = await (await client.get(f"/api/v1/incidents/{incident_id}/report?format=json")).json()
    events = {e["event"] for e in report["timeline"]}
    assert f'Alert firing: "DiskAlmostFull" — {FIRING_TEXT}' in events
    assert f'Alert resolved: "DiskAlmostFull" — {RESOLVED_TEXT}' in events
    html = await (await client.get(f"/api/v1/incidents/{incident_id}/report?format=html")).text()
    assert FIRING_TEXT in html
    assert RESOLVED_TEXT in html


async def test_api_keeps_latest_annotations_and_the_texts_at_firing_and_resolution(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """The incident's alert keeps its latest annotations; the stored texts survive a
    reload from storage (both backends)."""
    client = await make_client()
    incident_id = await fire_then_resolve(client, clock)
    body = await (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    (alert,) = body["alerts"]
    assert alert["annotations"]["summary"] == RESOLVED_TEXT


async def test_repeated_firing_notification_keeps_the_first_firing_text(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """Alertmanager re-sends a firing alert with re-rendered annotations every
    group_interval: the firing row keeps what the alert said when it fired."""
    client = await make_client()
    clock.set_unix(1795887425.227)
    resp = await client.post(
        "/webhooks/alertmanager",
        data=with_summary("alertmanager_firing.json", FIRING_TEXT),
        headers=JSON,
    )
    incident_id = (await resp.json())["incidents"][0]
    clock.set_unix(1795887440.0)
    await client.post(
        "/webhooks/alertmanager",
        data=with_summary("alertmanager_firing.json", "a later re-render"),
        headers=JSON,
    )
    text = await (await client.get(f"/api/v1/incidents/{incident_id}/report")).text()
    assert FIRING_TEXT in timeline_line(text, "Alert firing")
    assert "a later re-render" not in text
