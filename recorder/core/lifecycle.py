"""Incident lifecycle for alert notifications: open, dedup, resolve, re-open. Pure."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from recorder.core.alerts import (
    common_labels,
    highest_severity,
    new_alert_events,
    next_alert_state,
    severity_rank,
)
from recorder.core.durations import format_duration
from recorder.core.events import AlertEvent, AlertNotification, AlertStatus
from recorder.core.incident import (
    RECORDER,
    AlertState,
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


def build_title(labels: Mapping[str, str]) -> str:
    """Alert name plus service, the way people name incidents in the channel."""
    name = labels.get("alertname") or "Alert"
    service = labels.get("service") or labels.get("job")
    return f"{name} on {service}" if service else name


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

    The decision is the steps of `_STEPS`, applied in order to a `_Draft`.
    """
    fresh = new_alert_events(view.alert_statuses() if view is not None else {}, notification.alerts)
    if not fresh:
        return Outcome(incident=view.incident if view else None)
    draft = _Draft(
        notice=_Notice(notification, correlation_key, now, new_id, policy),
        view=view,
        fresh=tuple(fresh),
        adopting=view is not None and view.incident.correlation_key != correlation_key,
    )
    for step in _STEPS:
        draft = step(draft)
    assert draft.incident is not None  # _open_or_join always sets it
    return Outcome(
        incident=draft.incident,
        created=draft.created,
        incident_changed=True,
        alerts=draft.changed,
        timeline=draft.timeline,
        transitions=draft.transitions,
    )


@dataclass(frozen=True, slots=True)
class _Notice:
    """What every step may read of the notification and its context."""

    notification: AlertNotification
    correlation_key: str
    now: datetime
    new_id: str
    policy: Policy

    @property
    def source(self) -> str:
        return self.notification.source


@dataclass(frozen=True, slots=True)
class _Draft:
    """The decision so far; each step returns a new draft.

    `view` is the incident the alerts join (None: they open one); `adopting` says it was
    found by its PagerDuty link rather than by this correlation key. `states`, `labels`,
    `severity` and `earliest` are the incident's alerts after this notification.
    """

    notice: _Notice
    view: IncidentView | None
    fresh: tuple[AlertEvent, ...]
    adopting: bool
    states: Mapping[tuple[str, datetime], AlertState] = field(default_factory=dict)
    changed: tuple[AlertState, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    severity: str | None = None
    earliest: datetime | None = None
    incident: Incident | None = None
    created: bool = False
    timeline: tuple[TimelineEntry, ...] = ()
    transitions: tuple[Transition, ...] = ()

    @property
    def current(self) -> Incident:
        assert self.incident is not None  # set by _open_or_join, the third step
        return self.incident

    def noting(
        self,
        incident: Incident,
        entry: TimelineEntry,
        transition: Transition,
        *,
        created: bool = False,
    ) -> _Draft:
        """The draft with `incident`, one more timeline entry and one more transition
        (and marked `created` when it opened the incident)."""
        return replace(
            self,
            incident=incident,
            created=self.created or created,
            timeline=(*self.timeline, entry),
            transitions=(*self.transitions, transition),
        )


Step = Callable[[_Draft], _Draft]


def _forget_stale_incident(draft: _Draft) -> _Draft:
    """A resolved incident (of this key) is joined only by a re-fire within the re-open
    window or by late resolved alerts; otherwise the alerts open a new incident."""
    view, notice = draft.view, draft.notice
    if view is None or view.incident.is_open or draft.adopting:
        return draft
    window = notice.policy.reopen_window
    within = _reopens(view.incident, draft.fresh, window)
    only_resolved = all(e.status is AlertStatus.RESOLVED for e in draft.fresh)
    resolved_at = view.incident.resolved_at or notice.now
    late_resolved = only_resolved and all(e.starts_at <= resolved_at + window for e in draft.fresh)
    return draft if within or late_resolved else replace(draft, view=None)


def _record_alerts(draft: _Draft) -> _Draft:
    """The new alert states, and what the incident's alerts now share."""
    states = dict(draft.view.alerts) if draft.view is not None else {}
    changed: list[AlertState] = []
    now = draft.notice.now
    for event in draft.fresh:
        # The new state keeps the event's key (fingerprint, starts_at).
        key = (event.fingerprint, event.starts_at)
        state = next_alert_state(event, states.get(key), now)
        states[key] = state
        changed.append(state)
    return replace(
        draft,
        states=states,
        changed=tuple(changed),
        labels=common_labels(states.values()),
        severity=highest_severity(
            (s.labels for s in states.values()), draft.notice.policy.severity_map
        ),
        earliest=min(s.starts_at for s in states.values()),
    )


def _open_or_join(draft: _Draft) -> _Draft:
    """Join the chosen incident, or open one at the earliest alert."""
    if draft.view is not None:
        return replace(draft, incident=draft.view.incident)
    notice = draft.notice
    assert draft.earliest is not None  # there is at least one fresh alert
    incident = Incident(
        id=notice.new_id,
        correlation_key=notice.correlation_key,
        group_key=notice.notification.group_key,
        title=build_title(draft.labels or draft.changed[0].labels),
        status=IncidentStatus.INVESTIGATING,
        severity=draft.severity,
        labels=dict(draft.labels),
        started_at=draft.earliest,
        detected_at=notice.now,
        updated_at=notice.now,
        opened_by=notice.source,
    )
    entry = opened_entry(notice.source, notice.now)
    return draft.noting(incident, entry, Transition.OPENED, created=True)


def _adopt_paged_incident(draft: _Draft) -> _Draft:
    """PagerDuty opened it before this group's first notification arrived: it takes this
    correlation and group key, and the alerts' title."""
    incident, notice = draft.current, draft.notice
    if draft.created or incident.correlation_key == notice.correlation_key:
        return draft
    adopted = replace(
        incident,
        correlation_key=notice.correlation_key,
        group_key=notice.notification.group_key,
        title=build_title(draft.labels or draft.changed[0].labels),
    )
    return replace(draft, incident=adopted)


def _reopen_on_refire(draft: _Draft) -> _Draft:
    """A resolved incident re-opens when one of its alerts fires again."""
    incident, source = draft.current, draft.notice.source
    if draft.created or incident.is_open:
        return draft
    refires = [e for e in draft.fresh if e.status is AlertStatus.FIRING]
    if draft.adopting and incident.resolved_at is not None:
        # The late-join rule: what started before the resolution belongs to it.
        refires = [e for e in refires if e.starts_at >= incident.resolved_at]
    if not refires:
        return draft
    first = min(refires, key=lambda e: e.starts_at)
    gap = first.starts_at - (incident.resolved_at or first.starts_at)
    entry = TimelineEntry(
        at=max(first.starts_at, incident.resolved_at or first.starts_at),
        event=f"Re-opened: {describe_alert(first)} fired again "
        f"{format_duration(gap.total_seconds())} after resolution",
        action="Incident re-opened",
        by=source,
        source=source,
        kind=TimelineKind.REOPENED,
    )
    reopened = replace(
        incident,
        status=IncidentStatus.INVESTIGATING,
        resolved_at=None,
        resolved_by=None,
        reopen_count=incident.reopen_count + 1,
    )
    return draft.noting(reopened, entry, Transition.REOPENED)


def _raise_severity(draft: _Draft) -> _Draft:
    """A more severe alert raises a severity the alerts set (never one a person set)."""
    incident, raised = draft.current, draft.severity
    if draft.created or incident.severity_source != "alerts" or raised is None:
        return draft
    if incident.severity is not None and severity_rank(raised) >= severity_rank(incident.severity):
        return draft
    severity_map = draft.notice.policy.severity_map
    raised_by = next(
        (
            state
            for state in sorted(draft.changed, key=lambda st: st.starts_at)
            if severity_map.get(state.labels.get("severity", "")) == raised
        ),
        None,
    )
    by_alert = f" by {describe_alert(raised_by)}" if raised_by else ""
    entry = TimelineEntry(
        at=draft.notice.now,
        event=f"Severity raised from {incident.severity or 'none'} to {raised}{by_alert}",
        action="Severity changed",
        by=RECORDER,
        source=RECORDER,
        kind=TimelineKind.SEVERITY,
    )
    return draft.noting(replace(incident, severity=raised), entry, Transition.SEVERITY_CHANGED)


def _refresh_summary(draft: _Draft) -> _Draft:
    """A joined incident's labels, start and update time follow its alerts."""
    if draft.created:
        return draft
    incident = draft.current
    assert draft.earliest is not None  # there is at least one fresh alert
    refreshed = replace(
        incident,
        labels=dict(draft.labels),
        started_at=min(incident.started_at, draft.earliest),
        updated_at=draft.notice.now,
    )
    return replace(draft, incident=refreshed)


def _resolve_when_all_resolved(draft: _Draft) -> _Draft:
    """Every alert resolved (and none left out of a truncated message): resolved at the
    latest end."""
    incident, notice = draft.current, draft.notice
    if not incident.is_open or notice.notification.truncated_alerts != 0:
        return draft
    if not all(s.status is AlertStatus.RESOLVED for s in draft.states.values()):
        return draft
    resolved_at = max(s.ends_at or s.starts_at for s in draft.states.values())
    resolved = replace(
        incident, status=IncidentStatus.RESOLVED, resolved_at=resolved_at, resolved_by=notice.source
    )
    entry = TimelineEntry(
        at=resolved_at,
        event="All alerts resolved; incident resolved",
        action="Incident resolved",
        by=notice.source,
        source=notice.source,
        kind=TimelineKind.RESOLVED,
    )
    return draft.noting(resolved, entry, Transition.RESOLVED)


def _extend_late_resolution(draft: _Draft) -> _Draft:
    """Late resolved alerts joining a resolved incident may move its end later."""
    incident = draft.current
    if incident.is_open or incident.resolved_at is None:
        return draft
    if not all(s.status is AlertStatus.RESOLVED for s in draft.states.values()):
        return draft
    latest = max(s.ends_at or s.starts_at for s in draft.states.values())
    if latest <= incident.resolved_at:
        return draft
    return replace(draft, incident=replace(incident, resolved_at=latest))


# The decision, in order: which incident, the alerts, then what they do to it.
_STEPS: tuple[Step, ...] = (
    _forget_stale_incident,
    _record_alerts,
    _open_or_join,
    _adopt_paged_incident,
    _reopen_on_refire,
    _raise_severity,
    _refresh_summary,
    _resolve_when_all_resolved,
    _extend_late_resolution,
)
