"""Incident lifecycle for alert notifications: open, dedup, resolve, re-open. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from recorder.core.durations import format_duration
from recorder.core.events import AlertEvent, AlertNotification, AlertStatus
from recorder.core.incident import (
    RECORDER,
    AlertState,
    AlertText,
    Incident,
    IncidentStatus,
    IncidentView,
    Outcome,
    TimelineEntry,
    TimelineKind,
    Transition,
)
from recorder.core.timeline import describe_alert, opened_entry

DEFAULT_SEVERITY_MAP: Mapping[str, str] = {"critical": "SEV1", "error": "SEV2", "warning": "SEV3"}


@dataclass(frozen=True, slots=True)
class Policy:
    """The configurable rules the lifecycle follows."""

    reopen_window: timedelta = timedelta(minutes=10)
    severity_map: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_SEVERITY_MAP))


def severity_rank(severity: str) -> tuple[int, str]:
    """Sort key where the most severe comes first: SEV1 < SEV2 < SEV3 < anything else."""
    digits = "".join(ch for ch in severity if ch.isdigit())
    return (int(digits) if digits else 1_000, severity)


def highest_severity(
    labels: Iterable[Mapping[str, str]], severity_map: Mapping[str, str]
) -> str | None:
    """The most severe mapped `severity` label over the given label sets, or None."""
    mapped = {
        severity_map[value]
        for value in (label_set.get("severity", "") for label_set in labels)
        if value in severity_map
    }
    return min(mapped, key=severity_rank) if mapped else None


def common_labels(states: Iterable[AlertState]) -> dict[str, str]:
    """Labels whose value is the same on every alert (Alertmanager's commonLabels rule),
    in the first alert's label order."""
    first: Mapping[str, str] | None = None
    shared: set[tuple[str, str]] = set()
    for state in states:
        if first is None:
            first = state.labels
            shared = set(first.items())
        elif shared:
            # Set intersection runs in C: a 10,000-alert storm is 10,000 of these.
            shared &= state.labels.items()
    if first is None:
        return {}
    return {name: value for name, value in first.items() if (name, value) in shared}


def build_title(labels: Mapping[str, str]) -> str:
    """Alert name plus service, the way people name incidents in the channel."""
    name = labels.get("alertname") or "Alert"
    service = labels.get("service") or labels.get("job")
    return f"{name} on {service}" if service else name


def new_alert_events(
    alerts: Mapping[tuple[str, datetime], AlertState], events: Iterable[AlertEvent]
) -> list[AlertEvent]:
    """Events not recorded yet: dedup on (fingerprint, starts_at, status).

    A resolved alert stays resolved for its starts_at, so a late firing copy of it (an HA
    peer's delayed duplicate) is a duplicate too. Repeats inside one message count once.
    """
    fresh: dict[tuple[str, datetime], AlertEvent] = {}
    for event in events:
        key = (event.fingerprint, event.starts_at)
        known = alerts.get(key)
        if known is not None and (
            known.status is AlertStatus.RESOLVED or event.status is AlertStatus.FIRING
        ):
            continue
        earlier = fresh.get(key)
        if earlier is not None and earlier.status is AlertStatus.RESOLVED:
            continue
        fresh[key] = event
    return list(fresh.values())


def _to_state(event: AlertEvent, known: AlertState | None, now: datetime) -> AlertState:
    """The alert's new state. Its text at firing is the first firing notification's (the
    repeats Alertmanager sends are duplicates); its text at resolution the resolved one's."""
    text = AlertText(dict(event.annotations), event.value_text)
    resolved = event.status is AlertStatus.RESOLVED
    # Values and links are kept as first seen: the values when the alert fired. A
    # resolved-only alert (first seen resolved) has only its resolution's.
    value_text = known.value_text if known is not None else event.value_text
    links = {**event.links, **known.links} if known is not None else dict(event.links)
    return AlertState(
        fingerprint=event.fingerprint,
        starts_at=event.starts_at,
        status=event.status,
        ends_at=event.ends_at if resolved else None,
        labels=dict(event.labels),
        annotations=dict(event.annotations),
        generator_url=event.generator_url,
        received_at=known.received_at if known else now,
        updated_at=now,
        at_firing=known.at_firing if known else (None if resolved else text),
        at_resolution=text if resolved else None,
        value_text=value_text,
        links=links,
    )


def _reopens(incident: Incident, events: Iterable[AlertEvent], window: timedelta) -> bool:
    resolved_at = incident.resolved_at
    if resolved_at is None:
        return True
    return any(
        e.status is AlertStatus.FIRING and e.starts_at - resolved_at <= window for e in events
    )


def decide_notification(
    view: IncidentView | None,
    notification: AlertNotification,
    *,
    correlation_key: str,
    now: datetime,
    new_id: str,
    policy: Policy,
) -> Outcome:
    """Apply one notification's alerts (already split to one correlation key).

    `view` is the incident `recorder.core.join.choose_for_alerts` chose: the newest
    incident with that key, open or resolved, or an incident PagerDuty opened for this
    group (found by its link key), or None. Such an incident is adopted: it takes this
    correlation and group key, and its start moves to the earliest alert's startsAt when
    that is earlier; alerts that started before PagerDuty resolved it join it as it is
    (they are no re-fire). Opens an incident at the first new alert when there is no
    incident to join; re-opens a resolved one when an alert fires again within
    `policy.reopen_window` of its resolution; resolves when every alert of the incident
    is resolved (at the latest `ends_at`) unless the message was truncated. Returns
    NOTHING-like outcomes for duplicates, so repeats and HA copies write nothing.
    """
    known = view.alerts if view is not None else {}
    fresh = new_alert_events(known, notification.alerts)
    if not fresh:
        return Outcome(incident=view.incident if view else None)

    adopting = view is not None and view.incident.correlation_key != correlation_key
    if view is not None and not view.incident.is_open and not adopting:
        within = _reopens(view.incident, fresh, policy.reopen_window)
        only_resolved = all(e.status is AlertStatus.RESOLVED for e in fresh)
        late_resolved = only_resolved and all(
            e.starts_at <= (view.incident.resolved_at or now) + policy.reopen_window for e in fresh
        )
        if not (within or late_resolved):
            view = None
            known = {}

    source = notification.source
    timeline: list[TimelineEntry] = []
    transitions: list[Transition] = []
    states = dict(known)
    changed_states: list[AlertState] = []
    for event in fresh:
        before = states.get((event.fingerprint, event.starts_at))
        state = _to_state(event, before, now)
        states[state.key] = state
        changed_states.append(state)

    labels = common_labels(states.values())
    severity_auto = highest_severity((s.labels for s in states.values()), policy.severity_map)
    earliest = min(s.starts_at for s in states.values())

    if view is None:
        incident = Incident(
            id=new_id,
            correlation_key=correlation_key,
            group_key=notification.group_key,
            title=build_title(labels or changed_states[0].labels),
            status=IncidentStatus.INVESTIGATING,
            severity=severity_auto,
            labels=labels,
            started_at=earliest,
            detected_at=now,
            updated_at=now,
            opened_by=source,
        )
        timeline.append(opened_entry(source, now))
        transitions.append(Transition.OPENED)
        created = True
    else:
        incident = view.incident
        created = False
        if incident.correlation_key != correlation_key:
            # PagerDuty opened it before this group's first notification arrived.
            incident = replace(
                incident,
                correlation_key=correlation_key,
                group_key=notification.group_key,
                title=build_title(labels or changed_states[0].labels),
            )
        refires = [e for e in fresh if e.status is AlertStatus.FIRING]
        if adopting and incident.resolved_at is not None:
            # The late-join rule: what started before the resolution belongs to it.
            refires = [e for e in refires if e.starts_at >= incident.resolved_at]
        if not incident.is_open and refires:
            first = min(refires, key=lambda e: e.starts_at)
            gap = first.starts_at - (incident.resolved_at or first.starts_at)
            timeline.append(
                TimelineEntry(
                    at=max(first.starts_at, incident.resolved_at or first.starts_at),
                    event=f"Re-opened: {describe_alert(first)} fired again "
                    f"{format_duration(gap.total_seconds())} after resolution",
                    action="Incident re-opened",
                    by=source,
                    source=source,
                    kind=TimelineKind.REOPENED,
                )
            )
            transitions.append(Transition.REOPENED)
            incident = replace(
                incident,
                status=IncidentStatus.INVESTIGATING,
                resolved_at=None,
                resolved_by=None,
                reopen_count=incident.reopen_count + 1,
            )
        if (
            incident.severity_source == "alerts"
            and severity_auto is not None
            and (
                incident.severity is None
                or severity_rank(severity_auto) < severity_rank(incident.severity)
            )
        ):
            raised_by = next(
                (
                    state
                    for state in sorted(changed_states, key=lambda st: st.starts_at)
                    if policy.severity_map.get(state.labels.get("severity", "")) == severity_auto
                ),
                None,
            )
            by_alert = f" by {describe_alert(raised_by)}" if raised_by else ""
            timeline.append(
                TimelineEntry(
                    at=now,
                    event=(
                        f"Severity raised from {incident.severity or 'none'} to {severity_auto}"
                        f"{by_alert}"
                    ),
                    action="Severity changed",
                    by=RECORDER,
                    source=RECORDER,
                    kind=TimelineKind.SEVERITY,
                )
            )
            transitions.append(Transition.SEVERITY_CHANGED)
            incident = replace(incident, severity=severity_auto)
        incident = replace(
            incident, labels=labels, started_at=min(incident.started_at, earliest), updated_at=now
        )

    all_resolved = all(s.status is AlertStatus.RESOLVED for s in states.values())
    if incident.is_open and all_resolved and notification.truncated_alerts == 0:
        resolved_at = max(s.ends_at or s.starts_at for s in states.values())
        incident = replace(
            incident,
            status=IncidentStatus.RESOLVED,
            resolved_at=resolved_at,
            resolved_by=source,
        )
        timeline.append(
            TimelineEntry(
                at=resolved_at,
                event="All alerts resolved; incident resolved",
                action="Incident resolved",
                by=source,
                source=source,
                kind=TimelineKind.RESOLVED,
            )
        )
        transitions.append(Transition.RESOLVED)
    elif not incident.is_open and all_resolved:
        # Late resolved alerts joining a resolved incident may move its end later.
        latest = max(s.ends_at or s.starts_at for s in states.values())
        if incident.resolved_at is not None and latest > incident.resolved_at:
            incident = replace(incident, resolved_at=latest)

    return Outcome(
        incident=incident,
        created=created,
        incident_changed=True,
        alerts=tuple(changed_states),
        timeline=tuple(timeline),
        transitions=tuple(transitions),
    )
