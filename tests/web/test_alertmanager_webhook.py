"""POST /webhooks/alertmanager on both backends: golden captures, dedup, flaps, bad input."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import FIXTURES, fixture_bytes
from tests.web.conftest import FakeClock, MakeClient

JSON = {"Content-Type": "application/json"}


def capture_order() -> list[tuple[float, str]]:
    """(arrival time, file) of the Alertmanager lab captures, in capture order."""
    index = json.loads((FIXTURES / "alertmanager_captures_index.json").read_text())
    files = sorted(index["files"], key=lambda f: f["capture_seq"])
    return [(f["received_unix"], f["file"]) for f in files]


async def incidents(client: TestClient[Any, Any], **query: str) -> list[dict[str, Any]]:
    resp = await client.get("/api/v1/incidents", params={"limit": "500", **query})
    assert resp.status == 200
    body = await resp.json()
    return list(body["incidents"])


async def detail(client: TestClient[Any, Any], incident_id: str) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/incidents/{incident_id}")
    assert resp.status == 200
    return dict(await resp.json())


def by_title(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Incidents keyed by their alertname label."""
    return {i["labels"]["alertname"]: i for i in items}


async def test_lab_captures_in_order_yield_the_implied_incidents(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """Fed in capture order, the lab payloads give five incidents with exact instants."""
    client = await make_client()
    answers = []
    for received, name in capture_order():
        clock.set_unix(received)
        resp = await client.post("/webhooks/alertmanager", data=fixture_bytes(name), headers=JSON)
        assert resp.status == 200, await resp.text()
        answers.append((name, (await resp.json())["status"]))
    assert ("alertmanager_repeat_interval_2.json", "duplicate") in answers

    found = by_title(await incidents(client))
    assert set(found) == {
        "DiskAlmostFull",
        "HighQueueDepth",
        "TruncateMe",
        "RejectedByReceiver",
        "RepeatMe",
    }
    disk = found["DiskAlmostFull"]
    assert disk["status"] == "resolved"
    assert disk["started_at"] == "2026-11-28T17:37:03.194000Z"
    assert disk["detected_at"] == "2026-11-28T17:37:05.227000Z"
    assert disk["resolved_at"] == "2026-11-28T17:37:34.194000Z"
    assert disk["severity"] == "SEV1"

    queue = await detail(client, found["HighQueueDepth"]["id"])
    assert queue["status"] == "resolved"
    assert queue["resolved_at"] == "2026-11-28T17:37:48.194000Z"
    assert [(a["fingerprint"], a["status"], a["ends_at"]) for a in queue["alerts"]] == [
        ("8ea5ee7e245d8519", "resolved", "2026-11-28T17:37:20.194000Z"),
        ("d9a7913fc3aeed7f", "resolved", "2026-11-28T17:37:48.194000Z"),
    ]
    assert [(e["at"], e["kind"]) for e in queue["timeline"]] == [
        ("2026-11-28T17:37:03.194000Z", "alert_firing"),
        ("2026-11-28T17:37:03.194000Z", "alert_firing"),
        ("2026-11-28T17:37:05.227000Z", "opened"),
        ("2026-11-28T17:37:20.194000Z", "alert_resolved"),
        ("2026-11-28T17:37:48.194000Z", "alert_resolved"),
        ("2026-11-28T17:37:48.194000Z", "resolved"),
    ]
    assert queue["timeline"][-1]["source"] == "Alertmanager"

    truncated = await detail(client, found["TruncateMe"]["id"])
    assert truncated["status"] == "investigating", "a truncated 'resolved' must not close"
    assert truncated["alerts"][0]["status"] == "resolved"

    repeat = await detail(client, found["RepeatMe"]["id"])
    assert [e["kind"] for e in repeat["timeline"]] == ["alert_firing", "opened"]
    assert set(by_title(await incidents(client, status="open"))) == {
        "TruncateMe",
        "RejectedByReceiver",
        "RepeatMe",
    }


async def test_twenty_concurrent_identical_notifications_open_one_incident(
    make_client: MakeClient,
) -> None:
    """HA pairs and retries racing for a new group produce exactly one incident."""
    client = await make_client()
    body = fixture_bytes("alertmanager_multi_alert_group.json")
    responses = await asyncio.gather(
        *(client.post("/webhooks/alertmanager", data=body, headers=JSON) for _ in range(20))
    )
    assert [r.status for r in responses] == [200] * 20
    statuses = sorted([(await r.json())["status"] for r in responses])
    assert statuses.count("stored") == 1
    found = await incidents(client)
    assert len(found) == 1
    timeline = (await detail(client, found[0]["id"]))["timeline"]
    assert [e["kind"] for e in timeline] == ["alert_firing", "alert_firing", "opened"]


def flap_payload(status: str, starts: str, ends: str = "0001-01-01T00:00:00Z") -> bytes:
    data = json.loads(fixture_bytes("alertmanager_firing.json"))
    data["status"] = status
    data["alerts"][0].update(status=status, startsAt=starts, endsAt=ends)
    return json.dumps(data).encode()


async def send_flap(client: TestClient[Any, Any], clock: FakeClock, refire_at: str) -> None:
    """firing at 17:37:03 → resolved at 17:40:00 → firing again at `refire_at`."""
    steps = [
        flap_payload("firing", "2026-11-28T17:37:03Z"),
        flap_payload("resolved", "2026-11-28T17:37:03Z", "2026-11-28T17:40:00Z"),
        flap_payload("firing", refire_at),
    ]
    for body in steps:
        clock.current += timedelta(minutes=1)
        assert (await client.post("/webhooks/alertmanager", data=body, headers=JSON)).status == 200


async def test_flap_inside_reopen_window_reopens_same_incident(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """firing → resolved → firing within 10 minutes re-opens the same incident."""
    client = await make_client()
    await send_flap(client, clock, "2026-11-28T17:45:00Z")
    found = await incidents(client)
    assert len(found) == 1
    assert found[0]["status"] == "investigating"
    assert found[0]["reopen_count"] == 1
    timeline = (await detail(client, found[0]["id"]))["timeline"]
    reopened = [e for e in timeline if e["kind"] == "reopened"]
    assert len(reopened) == 1
    assert "5 minutes after resolution" in reopened[0]["event"]


async def test_flap_outside_reopen_window_opens_new_incident(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """A re-fire 20 minutes after resolution opens a second incident."""
    client = await make_client()
    await send_flap(client, clock, "2026-11-28T18:00:00Z")
    found = await incidents(client)
    assert [i["status"] for i in found] == ["investigating", "resolved"]


async def test_label_correlation_joins_groups_of_one_service(make_client: MakeClient) -> None:
    """correlate_by = ["service"] puts two alert groups of one service in one incident."""
    first = json.loads(fixture_bytes("alertmanager_firing.json"))
    second = json.loads(fixture_bytes("alertmanager_multi_alert_group.json"))
    for data in (first, second):
        for a in data["alerts"]:
            a["labels"]["service"] = "checkout"
    client2 = await make_client(correlate_by=["service"])
    for data in (first, second):
        resp = await client2.post(
            "/webhooks/alertmanager", data=json.dumps(data).encode(), headers=JSON
        )
        assert resp.status == 200
    found = await incidents(client2)
    assert len(found) == 1
    assert len((await detail(client2, found[0]["id"]))["alerts"]) == 3
