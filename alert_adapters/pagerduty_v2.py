"""Legacy PagerDuty V2 webhooks (`{"messages": [...]}`) to PageEvents.

V2 deliveries are unsigned and may batch messages; PagerDuty still sends them to old
subscriptions. `alert_adapters.pagerduty` tells the forms apart and calls `parse_v2`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, Field

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
from recorder.core.events import PagedIncident, PageEvent, PageEventKind

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


class _V2Service(BaseModel):
    model_config = LAX

    name: str | None = None
    summary: str | None = None


class _V2Assignment(BaseModel):
    model_config = LAX

    assignee: Reference


class _V2Incident(BaseModel):
    model_config = LAX

    id: str
    html_url: str = ""
    title: str = ""
    incident_number: int | None = None
    status: str | None = None
    incident_key: str | None = None
    created_at: AwareDatetime | None = None
    service: _V2Service | None = None
    urgency: str | None = None
    priority: Reference | None = None
    assignments: list[_V2Assignment] = Field(default_factory=list, max_length=MAX_ITEMS)
    last_status_change_by: Reference | None = None


class _V2Channel(BaseModel):
    model_config = LAX

    summary: str | None = None


class _V2LogEntry(BaseModel):
    model_config = LAX

    type: str | None = None
    agent: Reference | None = None
    channel: _V2Channel | None = None


class _V2Message(BaseModel):
    model_config = LAX

    id: str
    event: str
    created_on: AwareDatetime
    incident: Any = None  # validated only for the events the recorder understands
    log_entries: list[_V2LogEntry] = Field(default_factory=list, max_length=MAX_ITEMS)


class _V2Envelope(BaseModel):
    model_config = LAX

    # PagerDuty batches at most a few messages per V2 delivery.
    messages: Annotated[list[Any], Field(max_length=MAX_ITEMS)]


def parse_v2(document: dict[str, Any]) -> list[PageEvent]:
    """One event per message of a V2 body; the first message with a problem stops."""
    envelope = validate(_V2Envelope, document, "")
    events: list[PageEvent] = []
    for index, message in enumerate(envelope.messages):
        at = f"messages.{index}"
        events.append(checked(_map_v2(validate(_V2Message, message, at), at), at))
    return events


def _map_v2(message: _V2Message, prefix: str) -> PageEvent:
    kind = V2_KINDS.get(message.event, PageEventKind.IGNORED)
    incident: PagedIncident | None = None
    text: str | None = None
    agent = next((entry.agent.summary for entry in message.log_entries if entry.agent), None)
    if kind is not PageEventKind.IGNORED:
        data = validate(_V2Incident, message.incident, f"{prefix}.incident")
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
        occurred_at=utc(message.created_on, f"{prefix}.created_on"),
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
        status=paged_status(data.status),
        incident_key=data.incident_key,
        service=service,
        urgency=data.urgency,
        priority=data.priority.summary if data.priority else None,
        created_at=utc_or_none(data.created_at, f"{at}.created_at"),
        assignees=tuple(a.assignee.summary for a in data.assignments if a.assignee.summary),
    )
