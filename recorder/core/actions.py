"""Decisions for people's and pagers' actions on an incident: acknowledge, resolve, edit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from recorder.core.incident import (
    HUMAN_FIELDS,
    IncidentStatus,
    IncidentView,
    Outcome,
    TimelineEntry,
    TimelineKind,
    Transition,
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: `by` is the person or system, `source` the timeline source."""

    by: str
    source: str


def acknowledge(view: IncidentView, actor: Actor, at: datetime, now: datetime) -> Outcome:
    """Stamp the first acknowledgment: the earliest `at` wins, even when it arrives after
    a later one (pager webhooks can be delivered out of order); later ones change nothing."""
    incident = view.incident
    if incident.acknowledged_at is not None and incident.acknowledged_at <= at:
        return Outcome(incident=incident)
    entry = TimelineEntry(
        at=at,
        event="Incident acknowledged",
        action="Acknowledged alert",
        by=actor.by,
        source=actor.source,
        kind=TimelineKind.ACKNOWLEDGED,
    )
    return Outcome(
        incident=replace(incident, acknowledged_at=at, acknowledged_by=actor.by, updated_at=now),
        incident_changed=True,
        timeline=(entry,),
        transitions=(Transition.ACKNOWLEDGED,),
    )


def resolve(
    view: IncidentView, actor: Actor, at: datetime, now: datetime, *, note: str = ""
) -> Outcome:
    """Resolve by hand or by pager; an already resolved incident is left as it is."""
    incident = view.incident
    if not incident.is_open:
        return Outcome(incident=incident)
    entry = TimelineEntry(
        at=at,
        event="Incident resolved" + (f" ({note})" if note else ""),
        action="Declared incident resolved",
        by=actor.by,
        source=actor.source,
        kind=TimelineKind.RESOLVED,
    )
    return Outcome(
        incident=replace(
            incident,
            status=IncidentStatus.RESOLVED,
            resolved_at=at,
            resolved_by=actor.by,
            updated_at=now,
        ),
        incident_changed=True,
        timeline=(entry,),
        transitions=(Transition.RESOLVED,),
    )


def add_entry(view: IncidentView, entry: TimelineEntry, now: datetime) -> Outcome:
    """Append one timeline entry written by a person or a pager."""
    return Outcome(
        incident=replace(view.incident, updated_at=now),
        incident_changed=True,
        timeline=(entry,),
        transitions=(Transition.UPDATED,),
    )


@dataclass(frozen=True, slots=True)
class Edit:
    """A PATCH: only the fields given change. `human` holds HUMAN_FIELDS values."""

    title: str | None = None
    status: IncidentStatus | None = None
    severity: str | None = None
    human: Mapping[str, str] | None = None


def edit(view: IncidentView, change: Edit, actor: Actor, now: datetime) -> Outcome:
    """Apply people's edits; status and severity changes land in the timeline."""
    incident = view.incident
    timeline: list[TimelineEntry] = []
    transitions: list[Transition] = [Transition.UPDATED]
    if change.human:
        unknown = set(change.human) - set(HUMAN_FIELDS)
        if unknown:
            raise ValueError(f"not a human field: {', '.join(sorted(unknown))}")
        incident = replace(incident, human={**incident.human, **change.human})
    if change.title is not None and change.title != incident.title:
        incident = replace(incident, title=change.title)
    if change.severity is not None and change.severity != incident.severity:
        timeline.append(
            TimelineEntry(
                at=now,
                event=f"Severity set to {change.severity}",
                action="Severity changed",
                by=actor.by,
                source=actor.source,
                kind=TimelineKind.SEVERITY,
            )
        )
        incident = replace(incident, severity=change.severity, severity_source="manual")
    if change.status is not None and change.status != incident.status:
        if change.status is IncidentStatus.RESOLVED:
            resolved = resolve(replace(view, incident=incident), actor, now, now)
            return replace(
                resolved,
                timeline=(*timeline, *resolved.timeline),
                transitions=(*transitions, *resolved.transitions),
            )
        reopened = not incident.is_open
        timeline.append(
            TimelineEntry(
                at=now,
                event=f"Status set to {change.status.value.capitalize()}",
                action="Re-opened incident" if reopened else "Status changed",
                by=actor.by,
                source=actor.source,
                kind=TimelineKind.REOPENED if reopened else TimelineKind.STATUS,
            )
        )
        if reopened:
            transitions.append(Transition.REOPENED)
            incident = replace(
                incident, resolved_at=None, resolved_by=None, reopen_count=incident.reopen_count + 1
            )
        incident = replace(incident, status=change.status)
    return Outcome(
        incident=replace(incident, updated_at=now),
        incident_changed=True,
        timeline=tuple(timeline),
        transitions=tuple(transitions),
    )
