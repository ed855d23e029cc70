"""Paging-system events (PagerDuty) on incidents: link, open, acknowledge, resolve. Pure."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from recorder.core.actions import Actor, acknowledge, resolve
from recorder.core.events import AlertStatus, PagedIncident, PageEvent, PageEventKind
from recorder.core.incident import (
    Incident,
    IncidentStatus,
    IncidentView,
    Outcome,
    PagerDutyLink,
    TimelineEntry,
    TimelineKind,
    Transition,
)
from recorder.core.links import paged_correlation_key
from recorder.core.timeline import opened_entry

PAGERDUTY = "PagerDuty"
URGENCY_SEVERITY = {"high": "SEV2", "low": "SEV3"}
# Status changes: each one moves PagerDutyLink.status_at forward.
_STATUS_KINDS = frozenset(
    {
        PageEventKind.TRIGGERED,
        PageEventKind.ACKNOWLEDGED,
        PageEventKind.UNACKNOWLEDGED,
        PageEventKind.RESOLVED,
        PageEventKind.REOPENED,
    }
)

ResolvePolicy = Literal["resolve", "record_only"]


@dataclass(frozen=True, slots=True)
class PagingPolicy:
    """What PagerDuty may do to an incident.

    `resolve_policy`: "resolve" lets `incident.resolved` resolve an incident whose alerts
    still fire (the timeline says how many); "record_only" then only writes a timeline
    entry and leaves the incident open until its alerts resolve.
    """

    resolve_policy: ResolvePolicy = "resolve"


def priority_severity(priority: str | None) -> str | None:
    """PagerDuty priority name to severity: P1 -> SEV1, P2 -> SEV2, P3 and lower -> SEV3."""
    if priority is None or not priority.upper().startswith("P"):
        return None
    digits = priority[1:].strip()
    if not digits.isdigit():
        return None
    rank = int(digits)
    if rank < 1:
        return None
    return f"SEV{min(rank, 3)}"


def decide_page_event(
    view: IncidentView | None,
    event: PageEvent,
    *,
    now: datetime,
    new_id: str,
    policy: PagingPolicy,
) -> Outcome:
    """Apply one paging event to the incident it is linked to.

    `view` is the incident with the event's PagerDuty incident id, else the newest open
    incident with the event's link key, else None. With None, an event carrying a full
    PagerDuty incident opens a recorder incident (`new_id`); a note, status update or
    responder request (which carry only a reference) for an unknown incident changes
    nothing. The first acknowledgment wins by `occurred_at`; resolve, re-open and
    unacknowledge apply only when newer than the last status change applied (so a
    redelivered or reordered old event cannot regress the status).
    """
    paged = event.incident
    if paged is None or event.kind in {PageEventKind.PING, PageEventKind.IGNORED}:
        return Outcome(incident=view.incident if view is not None else None)
    actor = page_actor(event)
    if view is None:
        if paged.reference_only:
            return Outcome(incident=None)
        opened = _open(paged, event, now, new_id)
        view = IncidentView(opened, {})
        first = Outcome(
            incident=opened,
            created=True,
            timeline=_opening_entries(opened, paged, event, actor, now),
            transitions=(Transition.OPENED,),
        )
    else:
        linked = _link(view.incident, paged, event, actor)
        first = Outcome(
            incident=linked.incident,
            incident_changed=linked.incident != view.incident,
            timeline=linked.timeline,
        )
        view = replace(view, incident=linked.incident)
    step = _STEPS.get(event.kind)
    if step is None:
        return first
    applied = step(view, event, actor, now, policy)
    if event.kind in _STATUS_KINDS and _is_newer_status(view.incident, event.occurred_at):
        stamped = _stamp_status(applied.incident or view.incident, event.occurred_at)
        applied = replace(applied, incident=stamped, incident_changed=True)
    return _chain(first, applied, now)


def page_actor(event: PageEvent) -> Actor:
    """Who did it: the agent's name (or "PagerDuty" for automation), shown as
    "PagerDuty (Jane Doe)" in the timeline's source."""
    if event.agent:
        return Actor(by=event.agent, source=f"{PAGERDUTY} ({event.agent})")
    return Actor(by=PAGERDUTY, source=PAGERDUTY)


Step = Callable[[IncidentView, PageEvent, Actor, datetime, PagingPolicy], Outcome]


@dataclass(frozen=True, slots=True)
class _Linked:
    incident: Incident
    timeline: tuple[TimelineEntry, ...]


def _chain(first: Outcome, second: Outcome, now: datetime) -> Outcome:
    """`first` then `second`, as one outcome; updated_at moves when anything changed."""
    incident = second.incident if second.incident is not None else first.incident
    merged = Outcome(
        incident=incident,
        created=first.created or second.created,
        incident_changed=first.incident_changed or second.incident_changed,
        alerts=(*first.alerts, *second.alerts),
        timeline=(*first.timeline, *second.timeline),
        transitions=(*first.transitions, *second.transitions),
    )
    if merged.changed and incident is not None and not merged.created:
        merged = replace(merged, incident=replace(incident, updated_at=now), incident_changed=True)
    return merged


def _entry(
    event: PageEvent, actor: Actor, kind: TimelineKind, text: str, action: str
) -> TimelineEntry:
    return TimelineEntry(
        at=event.occurred_at, event=text, action=action, by=actor.by, source=actor.source, kind=kind
    )


def _only(view: IncidentView, entry: TimelineEntry) -> Outcome:
    return Outcome(incident=view.incident, timeline=(entry,), transitions=(Transition.UPDATED,))


def _describe_page(paged: PagedIncident) -> str:
    number = f" #{paged.number}" if paged.number is not None else ""
    title = f": {paged.title}" if paged.title else ""
    return f"PagerDuty incident{number}{title}"


def _open(paged: PagedIncident, event: PageEvent, now: datetime, new_id: str) -> Incident:
    by_priority = priority_severity(paged.priority)
    return Incident(
        id=new_id,
        correlation_key=paged_correlation_key(paged.id),
        group_key="",
        title=paged.title or f"PagerDuty incident {paged.id}",
        status=IncidentStatus.INVESTIGATING,
        severity=by_priority or URGENCY_SEVERITY.get(paged.urgency or ""),
        labels={"service": paged.service} if paged.service else {},
        started_at=paged.created_at or event.occurred_at,
        detected_at=now,
        updated_at=now,
        opened_by=PAGERDUTY,
        # A priority is a person's call; urgency is only the service default.
        severity_source="pagerduty" if by_priority else "alerts",
        pagerduty=PagerDutyLink(
            id=paged.id, html_url=paged.html_url, incident_key=paged.incident_key
        ),
    )


def _opening_entries(
    incident: Incident, paged: PagedIncident, event: PageEvent, actor: Actor, now: datetime
) -> tuple[TimelineEntry, ...]:
    triggered = TimelineEntry(
        at=incident.started_at,
        event=f"{_describe_page(paged)} triggered",
        action="Paged on-call",
        by=actor.by if event.kind is PageEventKind.TRIGGERED else PAGERDUTY,
        source=actor.source if event.kind is PageEventKind.TRIGGERED else PAGERDUTY,
        kind=TimelineKind.PAGED,
    )
    opened = opened_entry(PAGERDUTY, now)
    return (triggered, opened)


def _link(incident: Incident, paged: PagedIncident, event: PageEvent, actor: Actor) -> _Linked:
    """Attach the PagerDuty incident; a new page for the incident lands in the timeline."""
    current = incident.pagerduty
    if current is not None and current.id == paged.id:
        merged = replace(
            current,
            html_url=current.html_url or paged.html_url,
            incident_key=current.incident_key or paged.incident_key,
        )
        return _Linked(replace(incident, pagerduty=merged), ())
    if paged.reference_only and current is not None:
        return _Linked(incident, ())
    link = PagerDutyLink(id=paged.id, html_url=paged.html_url, incident_key=paged.incident_key)
    entry = _entry(
        event,
        actor if event.kind is PageEventKind.TRIGGERED else Actor(PAGERDUTY, PAGERDUTY),
        TimelineKind.PAGED,
        f"{_describe_page(paged)} linked to this incident",
        "Paged on-call",
    )
    return _Linked(replace(incident, pagerduty=link), (entry,))


def _is_newer_status(incident: Incident, at: datetime) -> bool:
    link = incident.pagerduty
    return link is None or link.status_at is None or at > link.status_at


def _stamp_status(incident: Incident, at: datetime) -> Incident:
    link = incident.pagerduty
    if link is None:
        return incident
    return replace(incident, pagerduty=replace(link, status_at=at))


def _triggered(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    return Outcome(incident=view.incident)


def _acknowledged(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    return acknowledge(view, actor, event.occurred_at, now)


def _unacknowledged(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    if not _is_newer_status(view.incident, event.occurred_at):
        return Outcome(incident=view.incident)
    text = "PagerDuty incident unacknowledged; on-call is paged again"
    return _only(view, _entry(event, actor, TimelineKind.UNACKNOWLEDGED, text, "Unacknowledged"))


def _firing_count(view: IncidentView) -> int:
    return sum(1 for alert in view.alerts.values() if alert.status is AlertStatus.FIRING)


def _resolved(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    incident = view.incident
    if not _is_newer_status(incident, event.occurred_at):
        return Outcome(incident=incident)
    firing = _firing_count(view)
    still = f"{firing} alert{'s' if firing != 1 else ''} still firing" if firing else ""
    if not incident.is_open:
        text = "PagerDuty incident resolved (the incident was already resolved)"
        return _only(view, _entry(event, actor, TimelineKind.STATUS, text, "Resolved in PagerDuty"))
    if firing and policy.resolve_policy == "record_only":
        text = f"PagerDuty incident resolved; {still}, so the incident stays open"
        return _only(view, _entry(event, actor, TimelineKind.STATUS, text, "Resolved in PagerDuty"))
    return resolve(view, actor, event.occurred_at, now, note=still)


def _reopened(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    incident = view.incident
    if not _is_newer_status(incident, event.occurred_at):
        return Outcome(incident=incident)
    resolved_at = incident.resolved_at
    if incident.is_open or resolved_at is None or event.occurred_at <= resolved_at:
        text = "PagerDuty incident re-opened"
        return _only(
            view, _entry(event, actor, TimelineKind.STATUS, text, "Re-opened in PagerDuty")
        )
    entry = _entry(
        event, actor, TimelineKind.REOPENED, "Re-opened in PagerDuty", "Incident re-opened"
    )
    return Outcome(
        incident=replace(
            incident,
            status=IncidentStatus.INVESTIGATING,
            resolved_at=None,
            resolved_by=None,
            reopen_count=incident.reopen_count + 1,
        ),
        incident_changed=True,
        timeline=(entry,),
        transitions=(Transition.REOPENED,),
    )


def _assignees(event: PageEvent) -> str:
    names = event.incident.assignees if event.incident is not None else ()
    return f" to {', '.join(names)}" if names else ""


def _escalated(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    text = f"Escalated in PagerDuty{_assignees(event)}"
    return _only(view, _entry(event, actor, TimelineKind.ESCALATED, text, "Escalated"))


def _reassigned(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    text = f"Reassigned in PagerDuty{_assignees(event)}"
    return _only(view, _entry(event, actor, TimelineKind.REASSIGNED, text, "Reassigned"))


def _responder_added(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    text = "Responder requested" + (f": {event.text}" if event.text else "")
    return _only(view, _entry(event, actor, TimelineKind.RESPONDER, text, "Requested a responder"))


def _annotated(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    text = event.text or "(note without text)"
    return _only(view, _entry(event, actor, TimelineKind.NOTE, text, "Added a note in PagerDuty"))


def _status_update(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    text = event.text or "(status update without text)"
    action = "Published a status update"
    return _only(view, _entry(event, actor, TimelineKind.STATUS_UPDATE, text, action))


def _priority_updated(
    view: IncidentView, event: PageEvent, actor: Actor, now: datetime, policy: PagingPolicy
) -> Outcome:
    incident = view.incident
    priority = event.incident.priority if event.incident is not None else None
    severity = priority_severity(priority)
    action = "Priority changed"
    if priority is None:
        text = "Priority cleared in PagerDuty"
    elif severity is None:
        text = f"Priority set to {priority} in PagerDuty"
    elif incident.severity_source == "manual":
        kept = incident.severity or "none"
        text = f"Priority set to {priority} in PagerDuty; severity {kept} kept (set by hand)"
    elif severity == incident.severity:
        text = f"Priority set to {priority} in PagerDuty; severity stays {severity}"
    else:
        entry = _entry(
            event,
            actor,
            TimelineKind.SEVERITY,
            f"Priority set to {priority} in PagerDuty; severity {severity}",
            action,
        )
        return Outcome(
            incident=replace(incident, severity=severity, severity_source="pagerduty"),
            incident_changed=True,
            timeline=(entry,),
            transitions=(Transition.SEVERITY_CHANGED,),
        )
    return _only(view, _entry(event, actor, TimelineKind.SEVERITY, text, action))


_STEPS: dict[PageEventKind, Step] = {
    PageEventKind.TRIGGERED: _triggered,
    PageEventKind.ACKNOWLEDGED: _acknowledged,
    PageEventKind.UNACKNOWLEDGED: _unacknowledged,
    PageEventKind.RESOLVED: _resolved,
    PageEventKind.REOPENED: _reopened,
    PageEventKind.ESCALATED: _escalated,
    PageEventKind.REASSIGNED: _reassigned,
    PageEventKind.RESPONDER_ADDED: _responder_added,
    PageEventKind.ANNOTATED: _annotated,
    PageEventKind.STATUS_UPDATE_PUBLISHED: _status_update,
    PageEventKind.PRIORITY_UPDATED: _priority_updated,
}
