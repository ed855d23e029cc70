"""PagerDuty webhooks (V3 `{"event": ...}` and legacy V2 `{"messages": [...]}`) to PageEvents.

The V3 form is mapped here; the legacy V2 form in `alert_adapters.pagerduty_v2`.

Unknown event types are mapped to PageEventKind.IGNORED, never rejected: PagerDuty adds
event types over time and drops (then disables) subscriptions whose deliveries get a 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import AwareDatetime, BaseModel, Field

from alert_adapters.errors import PayloadError, PayloadInvalid
from alert_adapters.json_document import decode_document
from alert_adapters.pagerduty_fields import (
    LAX,
    MAX_ITEMS,
    SOURCE,
    Reference,
    checked,
    paged_status,
    utc,
    utc_or_none,
    validate,
)
from alert_adapters.pagerduty_v2 import parse_v2
from recorder.core.events import PagedIncident, PageEvent, PageEventKind

V3_KINDS: dict[str, PageEventKind] = {
    "incident.triggered": PageEventKind.TRIGGERED,
    "incident.acknowledged": PageEventKind.ACKNOWLEDGED,
    "incident.unacknowledged": PageEventKind.UNACKNOWLEDGED,
    "incident.resolved": PageEventKind.RESOLVED,
    "incident.reopened": PageEventKind.REOPENED,
    "incident.escalated": PageEventKind.ESCALATED,
    "incident.reassigned": PageEventKind.REASSIGNED,
    # Delegation hands the incident to another escalation policy: a reassignment.
    "incident.delegated": PageEventKind.REASSIGNED,
    "incident.annotated": PageEventKind.ANNOTATED,
    "incident.priority_updated": PageEventKind.PRIORITY_UPDATED,
    "incident.responder.added": PageEventKind.RESPONDER_ADDED,
    "incident.status_update_published": PageEventKind.STATUS_UPDATE_PUBLISHED,
    "pagey.ping": PageEventKind.PING,
}

# Events whose `data` is a full incident; the others carry `data.incident`, a reference.
_FULL_INCIDENT_KINDS = frozenset(
    {
        PageEventKind.TRIGGERED,
        PageEventKind.ACKNOWLEDGED,
        PageEventKind.UNACKNOWLEDGED,
        PageEventKind.RESOLVED,
        PageEventKind.REOPENED,
        PageEventKind.ESCALATED,
        PageEventKind.REASSIGNED,
        PageEventKind.PRIORITY_UPDATED,
    }
)


class _V3Event(BaseModel):
    model_config = LAX

    id: str
    event_type: str
    occurred_at: AwareDatetime
    agent: Reference | None = None
    data: Any  # required (may be null); its shape depends on event_type


class _V3Envelope(BaseModel):
    model_config = LAX

    event: _V3Event


class _V3Incident(BaseModel):
    model_config = LAX

    id: str
    html_url: str = ""
    title: str = ""
    number: int | None = None
    status: str | None = None
    incident_key: str | None = None
    created_at: AwareDatetime | None = None
    service: Reference | None = None
    urgency: str | None = None
    priority: Reference | None = None
    assignees: list[Reference] = Field(default_factory=list, max_length=MAX_ITEMS)


class _V3IncidentChild(BaseModel):
    """Note, status update or responder request: `data.incident` is a reference."""

    model_config = LAX

    incident: Reference
    content: str | None = None  # incident_note
    message: str | None = None  # incident_status_update, incident_responder


@dataclass(frozen=True, slots=True)
class PagerDutyBody:
    """A PagerDuty webhook body decoded once: the raw bytes, which signatures cover, and
    their JSON value."""

    raw: bytes
    document: Any

    @property
    def legacy_v2(self) -> bool:
        """True for the legacy V2 form (`messages`, no `event`); anything else is V3."""
        return isinstance(self.document, dict) and _is_v2(self.document)


@dataclass(frozen=True, slots=True)
class PagerDutyDelivery:
    """A webhook body decoded and parsed in one pass (in a worker, for a big body).

    The web layer must know the form (V2 or V3) to authenticate the delivery before it
    may tell the sender what is wrong with it, so a schema problem is kept, not raised.
    """

    legacy_v2: bool
    events: tuple[PageEvent, ...] = ()
    problem: PayloadInvalid | None = None

    def checked_events(self) -> list[PageEvent]:
        """The events; raises the body's PayloadInvalid, if it had one."""
        if self.problem is not None:
            raise self.problem
        return list(self.events)


def read_pagerduty(body: bytes) -> PagerDutyDelivery:
    """Decode and parse a webhook body once (see decode_pagerduty and parse_pagerduty).

    Raises:
        PayloadNotJSON: the body is empty, not UTF-8 or not JSON.
    """
    decoded = decode_pagerduty(body)
    try:
        events = parse_pagerduty(decoded)
    except PayloadInvalid as exc:
        return PagerDutyDelivery(decoded.legacy_v2, problem=exc)
    return PagerDutyDelivery(decoded.legacy_v2, tuple(events))


def decode_pagerduty(body: bytes) -> PagerDutyBody:
    """Decode a webhook body once, with bounded depth (see decode_document).

    Raises:
        PayloadNotJSON: the body is empty, not UTF-8 or not JSON.
    """
    return PagerDutyBody(body, decode_document(body, SOURCE))


def is_legacy_v2(body: bytes | PagerDutyBody) -> bool:
    """True when the body is the legacy V2 form (`messages`, no `event`).

    V2 deliveries are unsigned, so the web layer gates them by basic auth instead of the
    V3 signature. Uses the same rule as parse_pagerduty; a body that is not a JSON object
    is not V2.
    """
    if isinstance(body, bytes):
        try:
            body = decode_pagerduty(body)
        except PayloadError:
            return False
    return body.legacy_v2


def parse_pagerduty(body: bytes | PagerDutyBody) -> list[PageEvent]:
    """Validate one PagerDuty webhook body (V3 or legacy V2) and normalize it.

    A V3 body yields exactly one event; a V2 body one event per message. Event types the
    recorder does not use (service.*, early-access types, ...) become IGNORED events with
    no incident, so the caller can acknowledge and count them. The first message with a
    problem stops validation.

    Raises:
        PayloadNotJSON: the body is empty, not UTF-8 or not JSON (see decode_document).
        PayloadInvalid: no `event` and no `messages`, a known event type whose fields
            are missing or of the wrong type, a time outside years 1-9999, or a value
            storage cannot hold (NUL characters, ids or text over the limits in
            alert_adapters.limits).
    """
    decoded = decode_pagerduty(body) if isinstance(body, bytes) else body
    document = decoded.document
    if not isinstance(document, dict):
        raise PayloadInvalid(SOURCE, ["(body): Input should be an object"])
    if _is_v2(document):
        return parse_v2(document)
    if "event" not in document:
        raise PayloadInvalid(SOURCE, ["event: Field required (or messages, for V2 webhooks)"])
    return [checked(_map_v3(validate(_V3Envelope, document, "").event), "event")]


def _is_v2(document: dict[str, Any]) -> bool:
    return "event" not in document and "messages" in document


def _map_v3(event: _V3Event) -> PageEvent:
    kind = V3_KINDS.get(event.event_type, PageEventKind.IGNORED)
    incident: PagedIncident | None = None
    text: str | None = None
    if kind in _FULL_INCIDENT_KINDS:
        incident = _v3_incident(validate(_V3Incident, event.data, "event.data"))
    elif kind in {
        PageEventKind.ANNOTATED,
        PageEventKind.STATUS_UPDATE_PUBLISHED,
        PageEventKind.RESPONDER_ADDED,
    }:
        child = validate(_V3IncidentChild, event.data, "event.data")
        incident = _incident_reference(child.incident)
        text = child.content if kind is PageEventKind.ANNOTATED else child.message
    return PageEvent(
        source=SOURCE,
        event_id=event.id,
        event_type=event.event_type,
        kind=kind,
        occurred_at=utc(event.occurred_at, "event.occurred_at"),
        agent=event.agent.summary if event.agent else None,
        incident=incident,
        text=text,
    )


def _v3_incident(data: _V3Incident) -> PagedIncident:
    return PagedIncident(
        id=data.id,
        html_url=data.html_url,
        title=data.title,
        number=data.number,
        status=paged_status(data.status),
        incident_key=data.incident_key,
        service=data.service.summary if data.service else None,
        urgency=data.urgency,
        priority=data.priority.summary if data.priority else None,
        created_at=utc_or_none(data.created_at, "event.data.created_at"),
        assignees=tuple(ref.summary for ref in data.assignees if ref.summary),
    )


def _incident_reference(ref: Reference) -> PagedIncident:
    return PagedIncident(
        id=ref.id, html_url=ref.html_url or "", title=ref.summary or "", reference_only=True
    )
