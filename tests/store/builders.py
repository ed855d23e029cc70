"""Small builders for incidents, alerts, timeline entries and decide callbacks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from recorder.core.events import AlertStatus
from recorder.core.incident import (
    NOTHING,
    AlertState,
    Incident,
    IncidentStatus,
    IncidentView,
    Outcome,
    TimelineEntry,
    TimelineKind,
    Transition,
)
from recorder.ids import new_incident_id
from recorder.store.protocol import Decide

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    """T0 plus `seconds`."""
    return T0 + timedelta(seconds=seconds)


def make_incident(
    *,
    key: str = "group-a",
    created: datetime = T0,
    status: IncidentStatus = IncidentStatus.INVESTIGATING,
    labels: dict[str, str] | None = None,
) -> Incident:
    """An open incident for `key`, id sortable by `created`."""
    return Incident(
        id=new_incident_id(created),
        correlation_key=key,
        group_key=f'{{}}:{{alertname="{key}"}}',
        title=f"Incident for {key}",
        status=status,
        severity="SEV2",
        labels={"alertname": "HighErrorRate", "service": "checkout"} if labels is None else labels,
        started_at=created - timedelta(seconds=30),
        detected_at=created,
        updated_at=created,
        opened_by="Alertmanager",
        resolved_at=created if status is IncidentStatus.RESOLVED else None,
    )


def make_alert(
    fingerprint: str = "fp-1",
    *,
    starts_at: datetime = T0,
    status: AlertStatus = AlertStatus.FIRING,
    ends_at: datetime | None = None,
    seen: datetime = T0,
) -> AlertState:
    """A firing (or given-status) alert state."""
    return AlertState(
        fingerprint=fingerprint,
        starts_at=starts_at,
        status=status,
        ends_at=ends_at,
        labels={"alertname": "HighErrorRate", "instance": "10.0.0.1:9090"},
        annotations={"summary": "5xx above 5 %"},
        generator_url="http://prometheus:9090/graph?g0.expr=up",
        received_at=seen,
        updated_at=seen,
    )


def make_entry(
    event: str, *, when: datetime = T0, kind: TimelineKind = TimelineKind.NOTE
) -> TimelineEntry:
    """A timeline entry with the given event text."""
    return TimelineEntry(
        at=when, event=event, action="", by="Recorder", source="Recorder", kind=kind
    )


def open_if_absent(
    incident: Incident,
    alerts: Iterable[AlertState] = (),
    timeline: Iterable[TimelineEntry] = (),
) -> Decide:
    """Decide: open `incident` when the key has none yet, else change nothing."""

    def decide(view: IncidentView | None) -> Outcome:
        if view is not None:
            return NOTHING
        return Outcome(
            incident=incident,
            created=True,
            alerts=tuple(alerts),
            timeline=tuple(timeline),
            transitions=(Transition.OPENED,),
        )

    return decide


def always_open(incident: Incident) -> Decide:
    """Decide (buggy on purpose): open `incident` whatever is stored."""
    return lambda _view: Outcome(incident=incident, created=True)


def append(
    alerts: Iterable[AlertState] = (),
    timeline: Iterable[TimelineEntry] = (),
    **incident_changes: object,
) -> Decide:
    """Decide: upsert `alerts`, append `timeline`, and apply `incident_changes` if any."""

    def decide(view: IncidentView | None) -> Outcome:
        assert view is not None, "append() needs an existing incident"
        incident = replace(view.incident, **incident_changes)  # type: ignore[arg-type]
        return Outcome(
            incident=incident,
            incident_changed=bool(incident_changes),
            alerts=tuple(alerts),
            timeline=tuple(timeline),
            transitions=(Transition.UPDATED,),
        )

    return decide


def capture(seen: list[IncidentView | None]) -> Decide:
    """Decide: remember the view it was given, change nothing."""

    def decide(view: IncidentView | None) -> Outcome:
        seen.append(view)
        return NOTHING

    return decide


def fail(view: IncidentView | None) -> Outcome:
    """Decide: raise, as a buggy decision would."""
    raise RuntimeError("decision failed")
