"""POST /webhooks/pagerduty on both backends: signatures, linking, order, dedup, bad input."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import time
from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from recorder.store.protocol import PageDelivery
from recorder.web.keys import SETTINGS
from tests.conftest import fixture_bytes
from tests.store.reads import read_page_deliveries
from tests.web.conftest import FakeClock, MakeClient

JSON = {"Content-Type": "application/json"}
SECRET = "pd-test-secret-0123456789abcdef"
VECTORS: list[dict[str, Any]] = json.loads(fixture_bytes("pagerduty_v3_signature_vectors.json"))[
    "vectors"
]

# The linked scenario: Alertmanager group G fires at STARTS, PagerDuty pages, Jane Doe
# acknowledges exactly two minutes after the alert started, adds a note; G resolves.
GROUP_KEY = '{}:{alertname="DiskAlmostFull"}'
INCIDENT_KEY = hashlib.sha256(GROUP_KEY.encode()).hexdigest()
STARTS = "2026-11-28T17:37:03.194Z"
PD_ID = "PFQZPSY"
PD_URL = "https://pig208.pagerduty.com/incidents/PFQZPSY"
NOTE = "Freed 20 GB by rotating the WAL archive"


def sign(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {**JSON, "X-PagerDuty-Signature": f"v1={digest}"}


def pd_body(
    name: str,
    *,
    event_id: str,
    occurred_at: str,
    agent: str | None = None,
    incident_key: str | None = INCIDENT_KEY,
    created_at: str | None = None,
    **data: Any,
) -> bytes:
    """A fixture's event with its id, time, agent and incident fields replaced."""
    document = json.loads(fixture_bytes(f"pagerduty_v3_incident_{name}.json"))
    event = document["event"]
    event.update(id=event_id, occurred_at=occurred_at)
    event["agent"] = (
        None
        if agent is None
        else {"id": "PJANE01", "type": "user_reference", "summary": agent, "html_url": ""}
    )
    target = event["data"].get("incident", event["data"])
    target.update(id=PD_ID, html_url=PD_URL)
    if "incident" not in event["data"]:
        target["incident_key"] = incident_key
        if created_at is not None:
            target["created_at"] = created_at
    event["data"].update(data)
    return json.dumps(document).encode()


def am_body(status: str, ends: str = "0001-01-01T00:00:00Z") -> bytes:
    document = json.loads(fixture_bytes("alertmanager_firing.json"))
    document["status"] = status
    document["alerts"][0].update(status=status, endsAt=ends)
    return json.dumps(document).encode()


TRIGGERED = pd_body(
    "triggered",
    event_id="01EVTRIGGERED0000000000001",
    occurred_at="2026-11-28T17:37:10.000Z",
    created_at="2026-11-28T17:37:09Z",
)
ACKNOWLEDGED = pd_body(
    "acknowledged",
    event_id="01EVACKNOWLEDGED000000001",
    occurred_at="2026-11-28T17:39:03.194Z",
    agent="Jane Doe",
)
ANNOTATED = pd_body(
    "annotated",
    event_id="01EVANNOTATED00000000001",
    occurred_at="2026-11-28T17:40:00.000Z",
    agent="Jane Doe",
    content=NOTE,
)
RESOLVED = pd_body(
    "resolved",
    event_id="01EVRESOLVED0000000000001",
    occurred_at="2026-11-28T17:44:00.000Z",
    agent="Jane Doe",
)
AM_FIRING = am_body("firing")
AM_RESOLVED = am_body("resolved", "2026-11-28T17:45:00Z")


async def post_pd(
    client: TestClient[Any, Any], body: bytes, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    resp = await client.post("/webhooks/pagerduty", data=body, headers=headers or JSON)
    assert resp.status == 200, await resp.text()
    return dict(await resp.json())


async def post_am(client: TestClient[Any, Any], body: bytes) -> None:
    resp = await client.post("/webhooks/alertmanager", data=body, headers=JSON)
    assert resp.status == 200, await resp.text()


async def all_incidents(client: TestClient[Any, Any]) -> list[dict[str, Any]]:
    resp = await client.get("/api/v1/incidents", params={"limit": "500"})
    assert resp.status == 200
    return list((await resp.json())["incidents"])


async def only_incident(client: TestClient[Any, Any]) -> dict[str, Any]:
    found = await all_incidents(client)
    assert len(found) == 1, [i["title"] for i in found]
    resp = await client.get(f"/api/v1/incidents/{found[0]['id']}")
    return dict(await resp.json())


async def markdown(client: TestClient[Any, Any], incident_id: str) -> str:
    resp = await client.get(f"/api/v1/incidents/{incident_id}/report")
    assert resp.status == 200
    return await resp.text()


async def deliveries(client: TestClient[Any, Any]) -> list[PageDelivery]:
    app = client.app
    assert app is not None
    return await read_page_deliveries(app[SETTINGS].database_url, limit=100)


async def metric(client: TestClient[Any, Any], outcome: str) -> float:
    text = await (await client.get("/metrics")).text()
    name = f'recorder_webhooks_received_total{{outcome="{outcome}",source="pagerduty"}}'
    for line in text.splitlines():
        if line.startswith(name):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not exported")


async def assert_linked_figures(client: TestClient[Any, Any]) -> dict[str, Any]:
    """The one incident carries the acknowledgment, note, link and figures of the story."""
    incident = await only_incident(client)
    assert incident["acknowledged_at"] == "2026-11-28T17:39:03.194000Z"
    assert incident["acknowledged_by"] == "Jane Doe"
    assert incident["started_at"] == "2026-11-28T17:37:03.194000Z"
    assert incident["status"] == "resolved"
    assert incident["resolved_at"] == "2026-11-28T17:45:00Z"
    assert incident["pagerduty"] == {"id": PD_ID, "html_url": PD_URL, "incident_key": INCIDENT_KEY}
    timeline = incident["timeline"]
    acks = [e for e in timeline if e["kind"] == "acknowledged"]
    assert [(e["by"], e["source"]) for e in acks] == [("Jane Doe", "PagerDuty (Jane Doe)")]
    notes = [e for e in timeline if e["kind"] == "note"]
    assert [(e["event"], e["by"], e["at"]) for e in notes] == [
        (NOTE, "Jane Doe", "2026-11-28T17:40:00Z")
    ]
    report = await markdown(client, incident["id"])
    assert "- **Time to acknowledge**: 2 minutes" in report
    assert "Time to acknowledgment: 2 minutes, by Jane Doe" in report
    assert "| Jane Doe |" in report  # timeline "By Whom"
    appendices = report.split("## Appendices", 1)[1]
    assert PD_URL in appendices
    return incident


async def test_linked_scenario_gives_one_incident_acknowledged_through_pagerduty(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """AM fires, PD pages (incident_key = sha256(groupKey)), Jane acks, notes; AM resolves."""
    client = await make_client(pagerduty_secret=SECRET)
    await post_am(client, AM_FIRING)
    for body in (TRIGGERED, ACKNOWLEDGED, ANNOTATED):
        clock.current += timedelta(seconds=30)
        assert (await post_pd(client, body, sign(body)))["status"] == "stored"
    clock.current += timedelta(minutes=5)
    await post_am(client, AM_RESOLVED)

    incident = await assert_linked_figures(client)
    assert incident["opened_by"] == "Alertmanager"
    assert incident["detected_at"] == "2026-11-28T17:37:05Z"
    paged = [e for e in incident["timeline"] if e["kind"] == "paged"]
    assert len(paged) == 1
    assert "linked" in paged[0]["event"]


async def test_pagerduty_first_and_twice_gives_the_same_single_incident(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """PD events first, each delivered twice, then AM: the AM group joins the PD incident."""
    client = await make_client(pagerduty_secret=SECRET)
    for body in (TRIGGERED, ACKNOWLEDGED, ANNOTATED):
        clock.current += timedelta(seconds=20)
        first = await post_pd(client, body, sign(body))
        again = await post_pd(client, body, sign(body))
        assert (first["status"], again["status"]) == ("stored", "duplicate")
        assert first["incidents"] == again["incidents"] or again["incidents"] == []
    opened = await only_incident(client)
    assert opened["opened_by"] == "PagerDuty"
    assert opened["started_at"] == "2026-11-28T17:37:09Z"  # PD created_at until alerts come
    clock.current += timedelta(seconds=20)
    await post_am(client, AM_FIRING)
    await post_am(client, AM_FIRING)
    clock.current += timedelta(minutes=5)
    await post_am(client, AM_RESOLVED)

    incident = await assert_linked_figures(client)
    assert incident["id"] == opened["id"]
    assert incident["correlation_key"] == f"group:{GROUP_KEY}"
    assert incident["title"] == "DiskAlmostFull on demo-exporter"
    assert [a["fingerprint"] for a in incident["alerts"]] == ["78fcb9cb1710e078"]
    assert len(await deliveries(client)) == 3


async def test_pagerduty_resolved_before_alertmanager_arrived_still_one_incident(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """PD triggered, acknowledged, annotated and resolved (each twice), then AM firing and
    resolved (Alertmanager was retrying): the alert joins the PagerDuty incident."""
    client = await make_client(pagerduty_secret=SECRET)
    for body in (TRIGGERED, ACKNOWLEDGED, ANNOTATED, RESOLVED):
        clock.current += timedelta(seconds=20)
        first = await post_pd(client, body, sign(body))
        again = await post_pd(client, body, sign(body))
        assert (first["status"], again["status"]) == ("stored", "duplicate")
    opened = await only_incident(client)
    assert (opened["status"], opened["resolved_at"]) == ("resolved", "2026-11-28T17:44:00Z")
    clock.current += timedelta(minutes=6)
    await post_am(client, AM_FIRING)
    joined = await only_incident(client)
    assert joined["id"] == opened["id"]
    assert joined["status"] == "resolved"  # the alert started before the resolution
    assert joined["reopen_count"] == 0
    clock.current += timedelta(minutes=1)
    await post_am(client, AM_RESOLVED)

    incident = await assert_linked_figures(client)
    assert incident["id"] == opened["id"]
    assert incident["correlation_key"] == f"group:{GROUP_KEY}"
    assert [(a["fingerprint"], a["status"]) for a in incident["alerts"]] == [
        ("78fcb9cb1710e078", "resolved")
    ]
    assert not [e for e in incident["timeline"] if e["kind"] == "reopened"]
    assert len(await deliveries(client)) == 4


PD_STORY = (TRIGGERED, ACKNOWLEDGED, ANNOTATED, RESOLVED)
AM_STORY = (AM_FIRING, AM_RESOLVED)


def interleavings() -> list[tuple[str, ...]]:
    """Every arrival order of the two stories, each keeping its own order (15)."""
    orders = []
    for am_slots in itertools.combinations(range(6), 2):
        pd_names, am_names = iter("TANR"), iter(["F", "FR"])
        orders.append(tuple(next(am_names) if n in am_slots else next(pd_names) for n in range(6)))
    return orders


@pytest.mark.parametrize("order", interleavings(), ids="-".join)
async def test_every_arrival_order_gives_the_same_single_incident(
    make_client: MakeClient, clock: FakeClock, order: tuple[str, ...]
) -> None:
    """PagerDuty's and Alertmanager's deliveries of one story, in any interleaving,
    end as one incident with the same start, acknowledgment, note, link and end."""
    bodies = dict(zip("TANR", PD_STORY, strict=True)) | dict(
        zip(["F", "FR"], AM_STORY, strict=True)
    )
    client = await make_client()
    for name in order:
        clock.current += timedelta(seconds=30)
        if name.startswith("F"):
            await post_am(client, bodies[name])
        else:
            assert (await post_pd(client, bodies[name]))["status"] == "stored"
    incident = await assert_linked_figures(client)
    assert incident["reopen_count"] == 0


async def test_later_arriving_earlier_acknowledgment_wins(make_client: MakeClient) -> None:
    """The earliest occurred_at is the acknowledgment, whatever the arrival order."""
    client = await make_client()
    late = pd_body(
        "acknowledged", event_id="01LATEACK", occurred_at="2026-11-28T17:50:00Z", agent="Bob"
    )
    await post_pd(client, TRIGGERED)
    await post_pd(client, late)
    await post_pd(client, ACKNOWLEDGED)
    incident = await only_incident(client)
    assert (incident["acknowledged_at"], incident["acknowledged_by"]) == (
        "2026-11-28T17:39:03.194000Z",
        "Jane Doe",
    )


@pytest.mark.parametrize(
    ("policy", "status", "text"),
    [
        ("resolve", "resolved", "Incident resolved (1 alert still firing)"),
        ("record_only", "investigating", "1 alert still firing, so the incident stays open"),
    ],
)
async def test_pagerduty_resolve_while_alerts_fire_follows_the_policy(
    make_client: MakeClient, policy: str, status: str, text: str
) -> None:
    """incident.resolved resolves (saying what still fires) or only lands in the timeline."""
    client = await make_client(pagerduty_resolve_policy=policy)
    await post_am(client, AM_FIRING)
    await post_pd(client, TRIGGERED)
    resolved = pd_body(
        "resolved", event_id="01RESOLVED", occurred_at="2026-11-28T17:41:00Z", agent="Jane Doe"
    )
    await post_pd(client, resolved)
    incident = await only_incident(client)
    assert incident["status"] == status
    assert any(text in e["event"] for e in incident["timeline"])
    if status == "resolved":
        assert incident["resolved_at"] == "2026-11-28T17:41:00Z"
        assert incident["resolved_by"] == "Jane Doe"


# ----------------------------------------------------------------------- signatures


def vector_body(vector: dict[str, Any]) -> bytes:
    if "body_file" in vector:
        return fixture_bytes(vector["body_file"])
    body: bytes = vector["body_utf8"].encode("utf-8")
    return body


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
async def test_signature_vector_through_the_endpoint(
    make_client: MakeClient, vector: dict[str, Any]
) -> None:
    """Each vector's body and header pass (200) or fail (401, nothing stored) over HTTP."""
    client = await make_client(pagerduty_secret=vector["secret"])
    headers = {**JSON, "X-PagerDuty-Signature": vector["x_pagerduty_signature"]}
    resp = await client.post("/webhooks/pagerduty", data=vector_body(vector), headers=headers)
    if str(vector["expect"]).startswith("valid"):
        assert resp.status == 200, await resp.text()
        assert len(await deliveries(client)) == 1
    else:
        assert resp.status == 401
        assert resp.content_type == "application/problem+json"
        assert await deliveries(client) == []
        assert await all_incidents(client) == []


async def test_reserialized_body_fails_the_signature(make_client: MakeClient) -> None:
    """The same JSON value, re-serialized, no longer matches the signature of the raw bytes."""
    client = await make_client(pagerduty_secret=SECRET)
    raw = fixture_bytes("pagerduty_v3_incident_triggered.json")
    reserialized = json.dumps(json.loads(raw)).encode()
    resp = await client.post("/webhooks/pagerduty", data=reserialized, headers=sign(raw))
    assert resp.status == 401
    assert await all_incidents(client) == []
    resp = await client.post("/webhooks/pagerduty", data=raw, headers=sign(raw))
    assert resp.status == 200


async def test_rotated_secret_passes(make_client: MakeClient) -> None:
    """With old and new secrets configured, a body signed with either one is accepted."""
    client = await make_client(pagerduty_secret="pd-old-secret-AAAA, pd-new-secret-BBBB")
    for secret, body in (("pd-new-secret-BBBB", TRIGGERED), ("pd-old-secret-AAAA", ANNOTATED)):
        resp = await client.post("/webhooks/pagerduty", data=body, headers=sign(body, secret))
        assert resp.status == 200, await resp.text()
    assert [d.outcome for d in await deliveries(client)] == ["stored", "stored"]


# ----------------------------------------------------------------------- bad input


async def assert_nothing_stored(client: TestClient[Any, Any]) -> None:
    assert await all_incidents(client) == []
    assert await deliveries(client) == []


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b'{"event": ', "signed", 400),
        (TRIGGERED, {**JSON, "X-PagerDuty-Signature": "v1=" + "0" * 64}, 401),
        (TRIGGERED, JSON, 401),
        (
            json.dumps(
                {"event": {"id": "01X", "event_type": "incident.triggered", "occurred_at": STARTS}}
            ).encode(),
            "signed",
            422,
        ),
        (
            json.dumps(
                {
                    "event": {
                        "id": "01X",
                        "event_type": "incident.acknowledged",
                        "occurred_at": STARTS,
                        "data": {"type": "incident"},
                    }
                }
            ).encode(),
            "signed",
            422,
        ),
    ],
    ids=["bad-json", "wrong-signature", "missing-signature", "no-data", "data-without-id"],
)
async def test_bad_input_is_rejected_and_stores_nothing(
    make_client: MakeClient, body: bytes, headers: Any, status: int
) -> None:
    """Bad JSON 400, wrong or missing signature 401, missing data 422: all problem+json."""
    client = await make_client(pagerduty_secret=SECRET)
    resp = await client.post(
        "/webhooks/pagerduty", data=body, headers=sign(body) if headers == "signed" else headers
    )
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    problem = await resp.json()
    assert problem["status"] == status
    await assert_nothing_stored(client)
    assert await metric(client, "rejected") == 1


async def test_unknown_event_type_is_ignored_logged_and_counted(make_client: MakeClient) -> None:
    """An event type the recorder does not use: 200, delivery log says ignored, /metrics counts."""
    client = await make_client(pagerduty_secret=SECRET)
    body = fixture_bytes("pagerduty_v3_service_updated_DOCS.json")
    headers = {**sign(body), "X-Webhook-Id": "wh-service-1"}
    for _ in range(2):
        resp = await client.post("/webhooks/pagerduty", data=body, headers=headers)
        assert resp.status == 200
    assert [
        (d.event_type, d.outcome, d.webhook_id, d.incident_id) for d in await deliveries(client)
    ] == [("service.updated", "ignored", "wh-service-1", None)]
    assert await all_incidents(client) == []
    assert await metric(client, "ignored") == 1
    assert await metric(client, "duplicate") == 1


async def test_ping_is_acknowledged_and_ignored(make_client: MakeClient) -> None:
    """PagerDuty's test ping gets 200 and is only logged."""
    client = await make_client()
    result = await post_pd(client, fixture_bytes("pagerduty_v3_pagey_ping_THIRD_PARTY.json"))
    assert result == {"status": "ignored", "incidents": []}
    assert [d.kind for d in await deliveries(client)] == ["ping"]


async def test_note_for_an_unknown_pagerduty_incident_is_logged_unmatched(
    make_client: MakeClient,
) -> None:
    """A note can't open an incident (no incident_key to link by): logged, nothing opened."""
    client = await make_client()
    assert (await post_pd(client, ANNOTATED))["status"] == "ignored"
    assert [d.outcome for d in await deliveries(client)] == ["unmatched"]
    assert await all_incidents(client) == []


# ----------------------------------------------------------------------- retries, speed


async def test_retry_with_same_event_id_is_recorded_once(make_client: MakeClient) -> None:
    """A redelivery (same event id and X-Webhook-Id) answers 200 duplicate and writes nothing."""
    client = await make_client(pagerduty_secret=SECRET)
    headers = {**sign(ACKNOWLEDGED), "X-Webhook-Id": "wh-ack-1"}
    await post_pd(client, TRIGGERED, sign(TRIGGERED))
    results = [await post_pd(client, ACKNOWLEDGED, headers) for _ in range(3)]
    assert [r["status"] for r in results] == ["stored", "duplicate", "duplicate"]
    incident = await only_incident(client)
    assert [e["kind"] for e in incident["timeline"]].count("acknowledged") == 1
    logged = {d.event_id: d for d in await deliveries(client)}
    assert logged["01EVACKNOWLEDGED000000001"].webhook_id == "wh-ack-1"
    assert logged["01EVACKNOWLEDGED000000001"].incident_id == incident["id"]
    assert await metric(client, "duplicate") == 2


async def test_concurrent_redeliveries_answer_fast_and_store_once(
    make_client: MakeClient,
) -> None:
    """Twenty copies of each event racing: all 200 well within PagerDuty's 5 s, one incident."""
    client = await make_client(pagerduty_secret=SECRET)
    started = time.perf_counter()
    bodies = [TRIGGERED, ACKNOWLEDGED] * 20
    responses = await asyncio.gather(
        *(client.post("/webhooks/pagerduty", data=b, headers=sign(b)) for b in bodies)
    )
    elapsed = time.perf_counter() - started
    assert [r.status for r in responses] == [200] * len(bodies)
    assert elapsed < 2.5, f"40 deliveries took {elapsed:.2f} s"
    statuses = [(await r.json())["status"] for r in responses]
    assert statuses.count("stored") == 2
    incident = await only_incident(client)
    assert incident["acknowledged_by"] == "Jane Doe"


# ----------------------------------------------------------------------- legacy V2


def basic(credentials: str) -> dict[str, str]:
    return {**JSON, "Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()}


async def test_legacy_v2_trigger_acknowledge_resolve_drive_the_lifecycle(
    make_client: MakeClient,
) -> None:
    """Without a V3 secret, the V2 fixtures open, acknowledge and resolve one incident."""
    client = await make_client()
    for name in ("", "_acknowledge", "_resolve"):
        assert (await post_pd(client, fixture_bytes(f"pagerduty_v2_legacy{name}.json")))[
            "status"
        ] == "stored"
    incident = await only_incident(client)
    assert incident["opened_by"] == "PagerDuty"
    assert incident["title"] == "My new incident"
    assert incident["started_at"] == "2017-09-26T15:14:36Z"
    assert incident["acknowledged_at"] == "2017-09-26T15:15:17Z"
    assert incident["acknowledged_by"] == "Laura Haley"
    assert incident["status"] == "resolved"
    assert incident["resolved_at"] == "2017-09-26T15:18:09Z"
    assert incident["pagerduty"]["id"] == "PRORDTY"
    report = await markdown(client, incident["id"])
    assert "- **Time to acknowledge**: 41 seconds" in report


@pytest.mark.parametrize(
    ("headers", "status"),
    [(JSON, 401), (basic("pd:wrong"), 401), (basic("pd:s3cret"), 200)],
    ids=["no-basic-auth", "wrong-basic-auth", "right-basic-auth"],
)
async def test_legacy_v2_with_a_v3_secret_needs_basic_auth(
    make_client: MakeClient, headers: dict[str, str], status: int
) -> None:
    """While a V3 secret is set, unsigned V2 is accepted only with the configured Basic auth."""
    client = await make_client(pagerduty_secret=SECRET, pagerduty_v2_basic_auth="pd:s3cret")
    body = fixture_bytes("pagerduty_v2_legacy.json")
    resp = await client.post("/webhooks/pagerduty", data=body, headers=headers)
    assert resp.status == status, await resp.text()
    if status == 401:
        await assert_nothing_stored(client)
    else:
        assert len(await all_incidents(client)) == 1


async def test_legacy_v2_refused_when_a_v3_secret_is_set_and_no_basic_auth_configured(
    make_client: MakeClient,
) -> None:
    """A V3 secret without V2 credentials leaves no way to trust a V2 body: 401."""
    client = await make_client(pagerduty_secret=SECRET)
    resp = await client.post(
        "/webhooks/pagerduty", data=fixture_bytes("pagerduty_v2_legacy.json"), headers=JSON
    )
    assert resp.status == 401
    await assert_nothing_stored(client)
