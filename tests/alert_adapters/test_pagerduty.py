"""PagerDuty V3 and legacy V2 webhook bodies through parse_pagerduty."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from alert_adapters.errors import PayloadInvalid, PayloadNotJSON
from alert_adapters.pagerduty import is_legacy_v2, parse_pagerduty
from recorder.core.events import PagedIncident, PagedIncidentStatus, PageEvent, PageEventKind
from tests.conftest import fixture_bytes

Kind = PageEventKind
TRIGGERED = PagedIncidentStatus.TRIGGERED
ACKNOWLEDGED = PagedIncidentStatus.ACKNOWLEDGED
RESOLVED = PagedIncidentStatus.RESOLVED

PIG_URL = "https://pig208.pagerduty.com/incidents/"
HARSH_URL = "https://harsh0303.pagerduty.com/incidents/"
CHECKOUT = "Critical: Checkout API High Latency"


def utc(text: str) -> datetime:
    """An aware UTC datetime from ISO text without offset."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def pig_incident(
    incident_id: str, number: int, title: str, status: PagedIncidentStatus, *assignees: str
) -> PagedIncident:
    """An incident of the 2021 Zulip captures: no incident_key, no created_at, no priority."""
    return PagedIncident(
        id=incident_id,
        html_url=PIG_URL + incident_id,
        title=title,
        number=number,
        status=status,
        service="pig208",
        urgency="high",
        assignees=assignees,
    )


def checkout_reference() -> PagedIncident:
    """The incident reference that note, status-update and responder events carry."""
    return PagedIncident(
        id="Q3B15VLMF3ASBD",
        html_url=HARSH_URL + "Q3B15VLMF3ASBD",
        title=CHECKOUT,
        reference_only=True,
    )


def checkout_incident(priority: str) -> PagedIncident:
    """The 2026 capture's full incident, with incident_key and created_at."""
    return PagedIncident(
        id="Q3B15VLMF3ASBD",
        html_url=HARSH_URL + "Q3B15VLMF3ASBD",
        title=CHECKOUT,
        number=5,
        status=TRIGGERED,
        incident_key="d387d7bd2e0a4294a5307339dfe1669a",
        service="Default Service",
        urgency="high",
        priority=priority,
        created_at=utc("2026-04-01T02:07:30"),
        assignees=("Harsh Santwani",),
    )


def v3(
    event_id: str,
    event_type: str,
    kind: PageEventKind,
    occurred: str,
    *,
    agent: str | None = None,
    incident: PagedIncident | None = None,
    text: str | None = None,
) -> PageEvent:
    """A V3 PageEvent; `occurred` is UTC without offset."""
    return PageEvent(
        source="PagerDuty",
        event_id=event_id,
        event_type=event_type,
        kind=kind,
        occurred_at=utc(occurred),
        agent=agent,
        incident=incident,
        text=text,
    )


EXPECTED_V3 = {
    "pagerduty_v3_incident_triggered.json": v3(
        "01BZYIL05THJDFF2Y08X9SVMTU",
        "incident.triggered",
        Kind.TRIGGERED,
        "2021-06-04T13:35:29.781",
        agent="PIG 208",
        incident=pig_incident("PFQZPSY", 9, "Test Incident 3", TRIGGERED, "PIG 208"),
    ),
    "pagerduty_v3_incident_acknowledged.json": v3(
        "01BZYK8N47N5JG55J1EEEHPEJI",
        "incident.acknowledged",
        Kind.ACKNOWLEDGED,
        "2021-06-04T13:55:30.394",
        agent="PIG 208",
        incident=pig_incident("PQ1K5C8", 10, "Test Incident", ACKNOWLEDGED, "PIG 208"),
    ),
    "pagerduty_v3_incident_unacknowledged.json": v3(
        "01BZYK5B3WC0QI62S87MJX7FCD",
        "incident.unacknowledged",
        Kind.UNACKNOWLEDGED,
        "2021-06-04T13:54:23.185",
        agent="PIG 208",
        incident=pig_incident("PQ1K5C8", 10, "Test Incident", TRIGGERED, "PIG 208"),
    ),
    "pagerduty_v3_incident_resolved.json": v3(
        "01BZYH1JJY09P9LEIST8HG2PMN",
        "incident.resolved",
        Kind.RESOLVED,
        "2021-06-04T13:16:53.816",
        agent="PIG 208",
        incident=pig_incident("PCPZE64", 6, "Test Incident", RESOLVED),
    ),
    "pagerduty_v3_incident_reassigned.json": v3(
        "01BZY282OVDQMFPDC3VB98DR1L",
        "incident.reassigned",
        Kind.REASSIGNED,
        "2021-06-04T10:17:54.838",
        agent="PIG 208",
        incident=pig_incident("PIQUG8X", 3, "Test Incident", TRIGGERED, "Test User"),
    ),
    "pagerduty_v3_incident_escalated.json": v3(
        "01GI0JWUU28G8XE5M6IIT4BZ39",
        "incident.escalated",
        Kind.ESCALATED,
        "2026-04-01T02:08:04.642",
        agent="Harsh Santwani",
        incident=checkout_incident("P1"),
    ),
    "pagerduty_v3_incident_priority_updated.json": v3(
        "01GI0KJAEAC3CFEOFSC8BIJF3O",
        "incident.priority_updated",
        Kind.PRIORITY_UPDATED,
        "2026-04-01T02:15:36.315",
        agent="Harsh Santwani",
        incident=checkout_incident("P2"),
    ),
    "pagerduty_v3_incident_reopened.json": v3(
        "01GI0KHLHVH4YZ44BJY1VLT6F2",
        "incident.reopened",
        Kind.REOPENED,
        "2026-04-01T02:15:02.274",
        agent="Harsh Santwani",
        incident=PagedIncident(
            id="Q05XJA8GDXGOB3",
            html_url=HARSH_URL + "Q05XJA8GDXGOB3",
            title="Test Incident 2",
            number=4,
            status=TRIGGERED,
            incident_key="07261e18031d41268a16c774c1892cae",
            service="Default Service",
            urgency="low",
            priority="P3",
            created_at=utc("2026-03-30T13:37:07"),
            assignees=("Harsh Santwani",),
        ),
    ),
    "pagerduty_v3_incident_priority_updated_DOCS.json": v3(
        "5ac64822-4adc-4fda-ade0-410becf0de4f",
        "incident.priority_updated",
        Kind.PRIORITY_UPDATED,
        "2020-10-02T18:45:22.169",
        agent="Tenex Engineer",
        incident=PagedIncident(
            id="PGR0VU2",
            html_url="https://acme.pagerduty.com/incidents/PGR0VU2",
            title="A little bump in the road",
            number=2,
            status=TRIGGERED,
            incident_key="d3640fbd41094207a1c11e58e46b1662",
            service="API Service",
            urgency="high",
            priority="P1",
            created_at=utc("2020-04-09T15:16:27"),
            assignees=("User 123",),
        ),
    ),
    "pagerduty_v3_incident_annotated.json": v3(
        "01GI0KTE33V5QXBVIJDEVJFUNE",
        "incident.annotated",
        Kind.ANNOTATED,
        "2026-04-01T02:18:59.674",
        agent="Harsh Santwani",
        incident=checkout_reference(),
        text="Running KILL on long-running queries from the reporting-service.",
    ),
    "pagerduty_v3_incident_responder_added.json": v3(
        "01GI0KX4BFZXPEDNCS4USCAH22",
        "incident.responder.added",
        Kind.RESPONDER_ADDED,
        "2026-04-01T02:20:14.737",
        agent="Harsh Santwani",
        incident=checkout_reference(),
        text=f'Please help with "{CHECKOUT}"',
    ),
    "pagerduty_v3_incident_status_update_published.json": v3(
        "01GI0KPHX6I892N2PFKDLH25XK",
        "incident.status_update_published",
        Kind.STATUS_UPDATE_PUBLISHED,
        "2026-04-01T02:17:41.211",
        agent="Harsh Santwani",
        incident=checkout_reference(),
        text=(
            "Investigating a P1 incident with the Checkout API in us-east-1. Customers may "
            "see 504 errors or delays during purchase. We've identified a database lock and "
            "are working on a fix. Expected remediation within 30 minutes; next update at "
            "08:15 UTC."
        ),
    ),
    "pagerduty_v3_pagey_ping_THIRD_PARTY.json": v3(
        "01FKZOXA868SHYEE4DVNWB5P9W", "pagey.ping", Kind.PING, "2025-04-07T03:00:55.532"
    ),
    "pagerduty_v3_service_updated_DOCS.json": v3(
        "01BRB6ZP4M6T8ZG4X6BP63ZB9O", "service.updated", Kind.IGNORED, "2021-03-02T13:35:11.682"
    ),
}


def v2_incident(status: PagedIncidentStatus, assignee: str) -> PagedIncident:
    """The incident of PagerDuty's V2 documentation examples."""
    return PagedIncident(
        id="PRORDTY",
        html_url="https://webdemo.pagerduty.com/incidents/PRORDTY",
        title="My new incident",
        number=33,
        status=status,
        incident_key=None,
        service="Production XDB Cluster",
        urgency="high",
        created_at=utc("2017-09-26T15:14:36"),
        assignees=(assignee,),
    )


EXPECTED_V2 = {
    "pagerduty_v2_legacy.json": PageEvent(
        source="PagerDuty",
        event_id="69a7ced0-a2cd-11e7-a799-22000a15839c",
        event_type="incident.trigger",
        kind=Kind.TRIGGERED,
        occurred_at=utc("2017-09-26T15:14:36"),
        agent="Laura Haley",
        incident=v2_incident(TRIGGERED, "Laura Haley"),
    ),
    "pagerduty_v2_legacy_acknowledge.json": PageEvent(
        source="PagerDuty",
        event_id="82a33960-a2cd-11e7-8f69-22000affca53",
        event_type="incident.acknowledge",
        kind=Kind.ACKNOWLEDGED,
        occurred_at=utc("2017-09-26T15:15:17"),
        agent="Laura Haley",
        incident=v2_incident(ACKNOWLEDGED, "Laura Haley"),
    ),
    "pagerduty_v2_legacy_resolve.json": PageEvent(
        source="PagerDuty",
        event_id="e82195c0-a2cd-11e7-8f69-22000affca53",
        event_type="incident.resolve",
        kind=Kind.RESOLVED,
        occurred_at=utc("2017-09-26T15:18:09"),
        agent="Laura Haley",
        incident=v2_incident(RESOLVED, "Wiley Jacobson"),
    ),
}


def v3_body(event_type: str, **event: object) -> bytes:
    """The triggered capture's body with event_type and event keys replaced (... removes)."""
    document = json.loads(fixture_bytes("pagerduty_v3_incident_triggered.json"))
    document["event"]["event_type"] = event_type
    for key, value in event.items():
        if value is ...:
            del document["event"][key]
        else:
            document["event"][key] = value
    return json.dumps(document).encode()


def v2_message(event: str, **changes: object) -> dict[str, object]:
    """The V2 trigger example's message with its event name and keys changed."""
    message: dict[str, object] = json.loads(fixture_bytes("pagerduty_v2_legacy.json"))["messages"][
        0
    ]
    message["event"] = event
    for key, value in changes.items():
        if value is ...:
            del message[key]
        else:
            message[key] = value
    return message


@pytest.mark.parametrize("name", sorted(EXPECTED_V3))
def test_v3_fixture_maps_to_expected_event(name: str) -> None:
    """Every V3 capture yields one event with the expected kind, agent, incident and text."""
    events = parse_pagerduty(fixture_bytes(name))

    assert events == [EXPECTED_V3[name]]
    assert events[0].occurred_at.tzinfo is UTC


@pytest.mark.parametrize("name", sorted(EXPECTED_V2))
def test_v2_fixture_maps_to_expected_event(name: str) -> None:
    """Every V2 example yields one event, agent from its log entry, time from created_on."""
    assert parse_pagerduty(fixture_bytes(name)) == [EXPECTED_V2[name]]


@pytest.mark.parametrize(
    ("name", "legacy"),
    [*((name, False) for name in sorted(EXPECTED_V3)), *((name, True) for name in EXPECTED_V2)],
)
def test_is_legacy_v2_tells_the_forms_apart(name: str, legacy: bool) -> None:
    """is_legacy_v2 is True for `messages` bodies and False for `event` bodies."""
    assert is_legacy_v2(fixture_bytes(name)) is legacy


@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b'{"event": {}, "messages": []}'])
def test_is_legacy_v2_is_false_for_anything_else(body: bytes) -> None:
    """Non-JSON, non-objects and bodies with an `event` key are not treated as V2."""
    assert is_legacy_v2(body) is False


def test_acknowledged_event_names_who_acknowledged() -> None:
    """The V3 acknowledgment carries the agent's display name for "acknowledged by"."""
    (event,) = parse_pagerduty(fixture_bytes("pagerduty_v3_incident_acknowledged.json"))

    assert (event.kind, event.agent) == (Kind.ACKNOWLEDGED, "PIG 208")


@pytest.mark.parametrize(
    "event_type",
    [
        "service.created",
        "service.deleted",
        "incident.conference_bridge.updated",
        "incident.workflow.started",
        "incident.some_future_event",
        "",
    ],
)
def test_unknown_v3_event_type_is_ignored_not_rejected(event_type: str) -> None:
    """Types the recorder does not use become IGNORED, whatever their data looks like."""
    (event,) = parse_pagerduty(v3_body(event_type, data={"type": "something_new"}))

    assert event.kind is Kind.IGNORED
    assert event.event_type == event_type
    assert event.incident is None


def test_ignored_event_with_null_data_is_still_ignored() -> None:
    """An ignored type with `data: null` is accepted: PagerDuty drops 4xx'd deliveries."""
    (event,) = parse_pagerduty(v3_body("service.deleted", data=None))

    assert event.kind is Kind.IGNORED


def test_delegated_event_is_a_reassignment() -> None:
    """incident.delegated (another escalation policy) maps to REASSIGNED."""
    (event,) = parse_pagerduty(v3_body("incident.delegated"))

    assert event.kind is Kind.REASSIGNED
    assert event.incident is not None
    assert event.incident.id == "PFQZPSY"


def test_null_agent_means_automation() -> None:
    """`agent: null` (automation) yields agent None."""
    (event,) = parse_pagerduty(v3_body("incident.resolved", agent=None))

    assert event.agent is None


def test_unknown_incident_status_is_kept_as_none() -> None:
    """A status outside triggered/acknowledged/resolved does not fail the delivery."""
    document = json.loads(fixture_bytes("pagerduty_v3_incident_triggered.json"))
    document["event"]["data"]["status"] = "snoozed"

    (event,) = parse_pagerduty(json.dumps(document).encode())

    assert event.incident is not None
    assert event.incident.status is None


def test_offset_timestamps_become_utc() -> None:
    """occurred_at with a non-UTC offset is converted to UTC."""
    (event,) = parse_pagerduty(
        v3_body("incident.triggered", occurred_at="2024-01-01T02:00:00.000+02:00")
    )

    assert event.occurred_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert event.occurred_at.tzinfo is UTC


def test_v2_messages_each_become_an_event() -> None:
    """A V2 body with several messages yields one event per message, in order."""
    body = json.dumps(
        {
            "messages": [
                v2_message("incident.trigger", id="m1"),
                v2_message("incident.escalate", id="m2"),
                v2_message("incident.assign", id="m3"),
                v2_message("incident.unacknowledge", id="m4"),
            ]
        }
    ).encode()

    events = parse_pagerduty(body)

    assert [(e.event_id, e.kind) for e in events] == [
        ("m1", Kind.TRIGGERED),
        ("m2", Kind.ESCALATED),
        ("m3", Kind.REASSIGNED),
        ("m4", Kind.UNACKNOWLEDGED),
    ]


def test_v2_unknown_event_is_ignored_without_incident() -> None:
    """An unknown V2 event name becomes IGNORED and its incident is not validated."""
    body = json.dumps({"messages": [v2_message("incident.ping", incident=None)]}).encode()

    (event,) = parse_pagerduty(body)

    assert (event.kind, event.incident) == (Kind.IGNORED, None)


def test_v2_agent_falls_back_to_user_who_changed_status() -> None:
    """Without log entries, the V2 agent is last_status_change_by when that is a user."""
    message = v2_message("incident.acknowledge", log_entries=[])
    message["incident"]["last_status_change_by"] = {  # type: ignore[index]
        "id": "P1",
        "type": "user_reference",
        "summary": "Jane Doe",
    }

    (event,) = parse_pagerduty(json.dumps({"messages": [message]}).encode())

    assert event.agent == "Jane Doe"


def test_v2_service_that_changed_status_is_not_an_agent() -> None:
    """A service as last_status_change_by (integration trigger) is not reported as agent."""
    message = v2_message("incident.trigger", log_entries=[])

    (event,) = parse_pagerduty(json.dumps({"messages": [message]}).encode())

    assert event.agent is None


def test_v2_annotation_text_comes_from_the_log_entry() -> None:
    """A V2 annotate message's note is the annotate log entry's channel summary."""
    message = v2_message(
        "incident.annotate",
        log_entries=[
            {
                "type": "annotate_log_entry",
                "agent": {"id": "P1", "type": "user_reference", "summary": "Jane Doe"},
                "channel": {"type": "note", "summary": "Rolled back the deploy."},
            }
        ],
    )

    (event,) = parse_pagerduty(json.dumps({"messages": [message]}).encode())

    assert (event.kind, event.agent, event.text) == (
        Kind.ANNOTATED,
        "Jane Doe",
        "Rolled back the deploy.",
    )


def test_v2_empty_message_list_yields_no_events() -> None:
    """`{"messages": []}` is a valid, empty V2 delivery."""
    assert parse_pagerduty(b'{"messages": []}') == []


@pytest.mark.parametrize(
    "body", [b"", b"  ", b"{", b"<html>"], ids=["empty", "blank", "cut", "html"]
)
def test_non_json_body_is_not_json(body: bytes) -> None:
    """Empty or malformed bodies raise PayloadNotJSON."""
    with pytest.raises(PayloadNotJSON):
        parse_pagerduty(body)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"[]", "(body): Input should be an object"),
        (b"{}", "event: Field required (or messages, for V2 webhooks)"),
        (b'{"event": null}', "event: Input should be an object"),
        (b'{"messages": {}}', "messages: Input should be a valid array"),
    ],
    ids=["array", "no-event", "null-event", "messages-object"],
)
def test_body_without_event_or_messages_is_invalid(body: bytes, expected: str) -> None:
    """Bodies that are neither V3 nor V2 raise PayloadInvalid naming what is missing."""
    with pytest.raises(PayloadInvalid) as caught:
        parse_pagerduty(body)

    assert caught.value.errors[0].startswith(expected)


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"data": ...}, "event.data: Field required"),
        ({"id": ...}, "event.id: Field required"),
        ({"occurred_at": "yesterday"}, "event.occurred_at: Input should be a valid datetime"),
        ({"occurred_at": "2024-01-01T00:00:00"}, "event.occurred_at: Input should have timezone"),
    ],
    ids=["no-data", "no-id", "bad-time", "naive-time"],
)
def test_broken_v3_envelope_is_invalid(event: dict[str, object], expected: str) -> None:
    """A V3 event without data or id, or with a bad time, raises PayloadInvalid."""
    with pytest.raises(PayloadInvalid) as caught:
        parse_pagerduty(v3_body("incident.triggered", **event))

    assert caught.value.errors[0].startswith(expected)


@pytest.mark.parametrize(
    ("event_type", "data", "expected"),
    [
        ("incident.triggered", {"type": "incident"}, "event.data.id: Field required"),
        ("incident.acknowledged", None, "event.data: Input should be an object"),
        ("incident.resolved", {"id": "P1", "number": "one"}, "event.data.number: Input should"),
        ("incident.annotated", {"content": "note"}, "event.data.incident: Field required"),
    ],
    ids=["incident-no-id", "incident-null", "number-text", "note-no-incident"],
)
def test_known_event_with_broken_data_is_invalid(
    event_type: str, data: object, expected: str
) -> None:
    """A known event whose data lacks the incident raises PayloadInvalid with the path."""
    with pytest.raises(PayloadInvalid) as caught:
        parse_pagerduty(v3_body(event_type, data=data))

    assert caught.value.errors[0].startswith(expected)


def test_broken_v2_message_reports_its_index() -> None:
    """A V2 message without created_on or incident id is reported with its position."""
    good = v2_message("incident.trigger")
    no_time = v2_message("incident.trigger", created_on=...)
    no_incident_id = v2_message("incident.resolve", incident={"title": "x"})

    with pytest.raises(PayloadInvalid) as caught:
        parse_pagerduty(json.dumps({"messages": [good, no_time]}).encode())
    assert caught.value.errors == ["messages.1.created_on: Field required"]

    with pytest.raises(PayloadInvalid) as caught:
        parse_pagerduty(json.dumps({"messages": [no_incident_id]}).encode())
    assert caught.value.errors == ["messages.0.incident.id: Field required"]
