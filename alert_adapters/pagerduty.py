"""PagerDuty webhooks (V3 `{"event": ...}` and legacy V2 `{"messages": [...]}`) to PageEvents.

Unknown event types are mapped to PageEventKind.IGNORED, never rejected: PagerDuty adds
event types over time and drops (then disables) subscriptions whose deliveries get a 4xx.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from alert_adapters.errors import PayloadError, PayloadInvalid, describe_validation_error
from alert_adapters.json_document import decode_document
from alert_adapters.limits import (
    INCIDENT_KEY_MAX_BYTES,
    PAGERDUTY_ID_MAX_BYTES,
    TEXT_MAX_BYTES,
    text_problem,
    utc_instant,
)
from recorder.core.events import PagedIncident, PagedIncidentStatus, PageEvent, PageEventKind

SOURCE = "PagerDuty"

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

V2_KINDS: dict[str, PageEventKind] = {
    "incident.trigger": PageEventKind.TRIGGERED,
    "incident.acknowledge": PageEventKind.ACKNOWLEDGED,
    "incident.unacknowledge": PageEventKind.UNACKNOWLEDGED,
    "incident.resolve": PageEventKind.RESOLVED,
    "incident.assign": PageEventKind.REASSIGNED,
    "incident.delegate": PageEventKind.REASSIGNED,
    "incident.escalate": PageEventKind.ESCALATED,
    "incident.annotate": PageEventKind.ANNOTATED,
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

# Lax on purpose: a 4xx makes PagerDuty drop the delivery, so accept what parses sensibly.
_CONFIG = ConfigDict(extra="ignore", frozen=True)
# Lists are bounded so that a hostile body cannot make pydantic list a million errors
# (PagerDuty sends a handful of assignees and log entries, and one V2 message at a time).
_MAX_ITEMS = 1000


class _Reference(BaseModel):
    """PagerDuty's `*_reference` object: `summary` is the display name."""

    model_config = _CONFIG

    id: str
    type: str | None = None
    summary: str | None = None
    html_url: str | None = None


class _V3Event(BaseModel):
    model_config = _CONFIG

    id: str
    event_type: str
    occurred_at: AwareDatetime
    agent: _Reference | None = None
    data: Any  # required (may be null); its shape depends on event_type


class _V3Envelope(BaseModel):
    model_config = _CONFIG

    event: _V3Event


class _V3Incident(BaseModel):
    model_config = _CONFIG

    id: str
    html_url: str = ""
    title: str = ""
    number: int | None = None
    status: str | None = None
    incident_key: str | None = None
    created_at: AwareDatetime | None = None
    service: _Reference | None = None
    urgency: str | None = None
    priority: _Reference | None = None
    assignees: list[_Reference] = Field(default_factory=list, max_length=_MAX_ITEMS)


class _V3IncidentChild(BaseModel):
    """Note, status update or responder request: `data.incident` is a reference."""

    model_config = _CONFIG

    incident: _Reference
    content: str | None = None  # incident_note
    message: str | None = None  # incident_status_update, incident_responder


class _V2Service(BaseModel):
    model_config = _CONFIG

    name: str | None = None
    summary: str | None = None


class _V2Assignment(BaseModel):
    model_config = _CONFIG

    assignee: _Reference


class _V2Incident(BaseModel):
    model_config = _CONFIG

    id: str
    html_url: str = ""
    title: str = ""
    incident_number: int | None = None
    status: str | None = None
    incident_key: str | None = None
    created_at: AwareDatetime | None = None
    service: _V2Service | None = None
    urgency: str | None = None
    priority: _Reference | None = None
    assignments: list[_V2Assignment] = Field(default_factory=list, max_length=_MAX_ITEMS)
    last_status_change_by: _Reference | None = None


class _V2Channel(BaseModel):
    model_config = _CONFIG

    summary: str | None = None


class _V2LogEntry(BaseModel):
    model_config = _CONFIG

    type: str | None = None
    agent: _Reference | None = None
    channel: _V2Channel | None = None


class _V2Message(BaseModel):
    model_config = _CONFIG

    id: str
    event: str
    created_on: AwareDatetime
    incident: Any = None  # validated only for the events the recorder understands
    log_entries: list[_V2LogEntry] = Field(default_factory=list, max_length=_MAX_ITEMS)


class _V2Envelope(BaseModel):
    model_config = _CONFIG

    # PagerDuty batches at most a few messages per V2 delivery.
    messages: Annotated[list[Any], Field(max_length=_MAX_ITEMS)]


_Model = TypeVar("_Model", bound=BaseModel)


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
        envelope = _validate(_V2Envelope, document, "")
        events: list[PageEvent] = []
        for index, message in enumerate(envelope.messages):
            at = f"messages.{index}"
            events.append(_checked(_map_v2(_validate(_V2Message, message, at), at), at))
        return events
    if "event" not in document:
        raise PayloadInvalid(SOURCE, ["event: Field required (or messages, for V2 webhooks)"])
    return [_checked(_map_v3(_validate(_V3Envelope, document, "").event), "event")]


def _is_v2(document: dict[str, Any]) -> bool:
    return "event" not in document and "messages" in document


def _checked(event: PageEvent, at: str) -> PageEvent:
    """The event, unless a string it carries cannot be stored (then PayloadInvalid).

    Paths name the normalized field under the event or message, e.g. `event.incident.id`.
    """
    texts: list[tuple[str, str | None, int]] = [
        ("id", event.event_id, PAGERDUTY_ID_MAX_BYTES),
        ("event_type", event.event_type, TEXT_MAX_BYTES),
        ("agent", event.agent, TEXT_MAX_BYTES),
        ("text", event.text, TEXT_MAX_BYTES),
    ]
    paged = event.incident
    if paged is not None:
        texts += [
            ("incident.id", paged.id, PAGERDUTY_ID_MAX_BYTES),
            ("incident.incident_key", paged.incident_key, INCIDENT_KEY_MAX_BYTES),
            ("incident.html_url", paged.html_url, TEXT_MAX_BYTES),
            ("incident.title", paged.title, TEXT_MAX_BYTES),
            ("incident.service", paged.service, TEXT_MAX_BYTES),
            ("incident.urgency", paged.urgency, TEXT_MAX_BYTES),
            ("incident.priority", paged.priority, TEXT_MAX_BYTES),
        ]
        texts += [
            (f"incident.assignees.{i}", name, TEXT_MAX_BYTES)
            for i, name in enumerate(paged.assignees)
        ]
    problems = [
        f"{at}.{path}: {problem}"
        for path, value, limit in texts
        if value is not None and (problem := text_problem(value, limit)) is not None
    ]
    if problems:
        raise PayloadInvalid(SOURCE, problems[:10])
    return event


def _map_v3(event: _V3Event) -> PageEvent:
    kind = V3_KINDS.get(event.event_type, PageEventKind.IGNORED)
    incident: PagedIncident | None = None
    text: str | None = None
    if kind in _FULL_INCIDENT_KINDS:
        incident = _v3_incident(_validate(_V3Incident, event.data, "event.data"))
    elif kind in {
        PageEventKind.ANNOTATED,
        PageEventKind.STATUS_UPDATE_PUBLISHED,
        PageEventKind.RESPONDER_ADDED,
    }:
        child = _validate(_V3IncidentChild, event.data, "event.data")
        incident = _incident_reference(child.incident)
        text = child.content if kind is PageEventKind.ANNOTATED else child.message
    return PageEvent(
        source=SOURCE,
        event_id=event.id,
        event_type=event.event_type,
        kind=kind,
        occurred_at=_utc(event.occurred_at, "event.occurred_at"),
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
        status=_status(data.status),
        incident_key=data.incident_key,
        service=data.service.summary if data.service else None,
        urgency=data.urgency,
        priority=data.priority.summary if data.priority else None,
        created_at=_utc_or_none(data.created_at, "event.data.created_at"),
        assignees=tuple(ref.summary for ref in data.assignees if ref.summary),
    )


def _incident_reference(ref: _Reference) -> PagedIncident:
    return PagedIncident(
        id=ref.id, html_url=ref.html_url or "", title=ref.summary or "", reference_only=True
    )


def _map_v2(message: _V2Message, prefix: str) -> PageEvent:
    kind = V2_KINDS.get(message.event, PageEventKind.IGNORED)
    incident: PagedIncident | None = None
    text: str | None = None
    agent = next((entry.agent.summary for entry in message.log_entries if entry.agent), None)
    if kind is not PageEventKind.IGNORED:
        data = _validate(_V2Incident, message.incident, f"{prefix}.incident")
        incident = _v2_incident(data, f"{prefix}.incident")
        # The status changer is a person only when it is a user (it is the service on
        # triggers raised by an integration).
        changer = data.last_status_change_by
        if agent is None and changer is not None and changer.type == "user_reference":
            agent = changer.summary
        if kind is PageEventKind.ANNOTATED:
            # No V2 annotate sample exists; PagerDuty's log entry keeps the note in the
            # channel summary. Absent, the note is just not shown.
            text = next(
                (
                    entry.channel.summary
                    for entry in message.log_entries
                    if entry.type == "annotate_log_entry" and entry.channel
                ),
                None,
            )
    return PageEvent(
        source=SOURCE,
        event_id=message.id,
        event_type=message.event,
        kind=kind,
        occurred_at=_utc(message.created_on, f"{prefix}.created_on"),
        agent=agent,
        incident=incident,
        text=text,
    )


def _v2_incident(data: _V2Incident, at: str) -> PagedIncident:
    service = (data.service.name or data.service.summary) if data.service else None
    return PagedIncident(
        id=data.id,
        html_url=data.html_url,
        title=data.title,
        number=data.incident_number,
        status=_status(data.status),
        incident_key=data.incident_key,
        service=service,
        urgency=data.urgency,
        priority=data.priority.summary if data.priority else None,
        created_at=_utc_or_none(data.created_at, f"{at}.created_at"),
        assignees=tuple(a.assignee.summary for a in data.assignments if a.assignee.summary),
    )


def _status(raw: str | None) -> PagedIncidentStatus | None:
    # An unknown status must not fail the delivery; the event kind says what happened.
    try:
        return PagedIncidentStatus(raw) if raw is not None else None
    except ValueError:
        return None


def _utc(moment: datetime, at: str) -> datetime:
    """The instant in UTC; PayloadInvalid when storage could not hold it."""
    instant = utc_instant(moment)
    if isinstance(instant, str):
        raise PayloadInvalid(SOURCE, [f"{at}: {instant}"])
    return instant


def _utc_or_none(moment: datetime | None, at: str) -> datetime | None:
    return None if moment is None else _utc(moment, at)


def _validate(model: type[_Model], value: object, at: str) -> _Model:
    """Validate a decoded JSON value, reporting error paths from the document root."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise PayloadInvalid(SOURCE, describe_validation_error(exc, at)) from None
