"""Lifecycle decisions over plain data: open, dedup, resolve, re-open, severity."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from recorder.core.correlation import split_by_key
from recorder.core.events import AlertEvent, AlertNotification, AlertStatus
from recorder.core.incident import IncidentStatus, IncidentView, Outcome, TimelineKind, Transition
from recorder.core.lifecycle import Policy, decide_notification, highest_severity
from recorder.core.timeline import full_timeline

T0 = datetime(2026, 11, 28, 14, 0, 0, tzinfo=UTC)
POLICY = Policy(reopen_window=timedelta(minutes=10))


def alert(
    fp: str = "aaaa",
    *,
    status: AlertStatus = AlertStatus.FIRING,
    starts: datetime = T0,
    ends: datetime | None = None,
    severity: str = "critical",
    service: str = "checkout",
) -> AlertEvent:
    labels = {"alertname": "PoolExhausted", "service": service, "severity": severity, "fp": fp}
    return AlertEvent(
        fingerprint=fp,
        status=status,
        starts_at=starts,
        ends_at=ends,
        labels=labels,
        annotations={"summary": "pool at 100/100"},
    )


def note(*alerts: AlertEvent, truncated: int = 0, group: str = "G") -> AlertNotification:
    return AlertNotification(
        source="Alertmanager",
        receiver="r",
        group_key=group,
        alerts=alerts,
        truncated_alerts=truncated,
    )


def apply(
    view: IncidentView | None, notification: AlertNotification, now: datetime, new_id: str = "i1"
) -> Outcome:
    return decide_notification(
        view, notification, correlation_key="k", now=now, new_id=new_id, policy=POLICY
    )


def view_after(view: IncidentView | None, outcome: Outcome) -> IncidentView:
    """Fold an outcome into a view the way a store would persist it."""
    assert outcome.incident is not None
    alerts = dict(view.alerts) if view else {}
    for state in outcome.alerts:
        alerts[state.key] = state
    return IncidentView(incident=outcome.incident, alerts=alerts)


def test_first_firing_alert_opens_incident_with_instants() -> None:
    """started_at is the alert's startsAt and detected_at the arrival time."""
    out = apply(None, note(alert()), T0 + timedelta(seconds=40))
    assert out.created
    assert out.incident is not None
    assert out.incident.started_at == T0
    assert out.incident.detected_at == T0 + timedelta(seconds=40)
    assert out.incident.status is IncidentStatus.INVESTIGATING
    assert out.incident.severity == "SEV1"
    assert out.incident.title == "PoolExhausted on checkout"
    assert out.transitions == (Transition.OPENED,)
    assert [e.kind for e in out.timeline] == [TimelineKind.OPENED]
    assert [e.kind for e in full_timeline(out.timeline, out.alerts)] == [
        TimelineKind.ALERT_FIRING,
        TimelineKind.OPENED,
    ]


def test_repeated_notification_writes_nothing() -> None:
    """The same alert with the same status is recorded once."""
    first = apply(None, note(alert()), T0)
    repeat = apply(view_after(None, first), note(alert()), T0 + timedelta(minutes=5))
    assert not repeat.changed
    assert repeat.incident == first.incident


def test_duplicate_alert_inside_one_message_counts_once() -> None:
    """Two copies of one alert in a message make one alert state and one entry."""
    out = apply(None, note(alert(), alert()), T0)
    assert len(out.alerts) == 1
    kinds = [e.kind for e in full_timeline(out.timeline, out.alerts)]
    assert kinds.count(TimelineKind.ALERT_FIRING) == 1


def test_partial_resolve_keeps_incident_open() -> None:
    """One of two alerts resolving leaves the incident open."""
    v = view_after(None, apply(None, note(alert("a"), alert("b")), T0))
    out = apply(
        v,
        note(alert("a", status=AlertStatus.RESOLVED, ends=T0 + timedelta(minutes=3)), alert("b")),
        T0 + timedelta(minutes=4),
    )
    assert out.incident is not None
    assert out.incident.is_open
    assert out.timeline == ()
    assert [(a.fingerprint, a.status) for a in out.alerts] == [("a", AlertStatus.RESOLVED)]


def test_last_alert_resolving_closes_at_latest_ends_at() -> None:
    """Resolution time is the latest endsAt, even when only the last alert is listed."""
    v = view_after(None, apply(None, note(alert("a"), alert("b")), T0))
    v = view_after(
        v,
        apply(
            v,
            note(alert("a", status=AlertStatus.RESOLVED, ends=T0 + timedelta(minutes=9))),
            T0 + timedelta(minutes=9),
        ),
    )
    out = apply(
        v,
        note(alert("b", status=AlertStatus.RESOLVED, ends=T0 + timedelta(minutes=7))),
        T0 + timedelta(minutes=10),
    )
    assert out.incident is not None
    assert out.incident.status is IncidentStatus.RESOLVED
    assert out.incident.resolved_at == T0 + timedelta(minutes=9)
    assert Transition.RESOLVED in out.transitions


def test_truncated_message_never_resolves() -> None:
    """A truncated message's all-resolved view is not trusted."""
    v = view_after(None, apply(None, note(alert("a")), T0))
    out = apply(
        v,
        note(alert("a", status=AlertStatus.RESOLVED, ends=T0 + timedelta(minutes=2)), truncated=1),
        T0 + timedelta(minutes=2),
    )
    assert out.incident is not None
    assert out.incident.is_open


def _resolved_view() -> IncidentView:
    v = view_after(None, apply(None, note(alert("a")), T0))
    return view_after(
        v,
        apply(
            v,
            note(alert("a", status=AlertStatus.RESOLVED, ends=T0 + timedelta(minutes=5))),
            T0 + timedelta(minutes=5),
        ),
    )


def test_refire_inside_window_reopens_same_incident() -> None:
    """A re-fire within reopen_window re-opens the incident and says so."""
    v = _resolved_view()
    refire = alert("a", starts=T0 + timedelta(minutes=12))
    out = apply(v, note(refire), T0 + timedelta(minutes=12), new_id="i2")
    assert out.incident is not None
    assert out.incident.id == "i1"
    assert not out.created
    assert out.incident.is_open
    assert out.incident.resolved_at is None
    assert out.incident.reopen_count == 1
    assert Transition.REOPENED in out.transitions
    reopened = [e for e in out.timeline if e.kind is TimelineKind.REOPENED]
    assert reopened
    assert "7 minutes after resolution" in reopened[0].event


def test_refire_outside_window_opens_new_incident() -> None:
    """A re-fire after reopen_window opens a new incident."""
    v = _resolved_view()
    refire = alert("a", starts=T0 + timedelta(minutes=16))
    out = apply(v, note(refire), T0 + timedelta(minutes=16), new_id="i2")
    assert out.created
    assert out.incident is not None
    assert out.incident.id == "i2"
    assert out.incident.started_at == T0 + timedelta(minutes=16)


def test_stale_firing_copy_after_resolution_is_duplicate() -> None:
    """A delayed firing copy of an already resolved alert changes nothing."""
    v = _resolved_view()
    out = apply(v, note(alert("a")), T0 + timedelta(minutes=6))
    assert not out.changed


def test_late_alert_that_started_earlier_moves_started_at() -> None:
    """started_at is the earliest startsAt over all alerts of the incident."""
    v = view_after(None, apply(None, note(alert("a")), T0))
    out = apply(v, note(alert("b", starts=T0 - timedelta(minutes=3))), T0 + timedelta(minutes=1))
    assert out.incident is not None
    assert out.incident.started_at == T0 - timedelta(minutes=3)
    assert out.incident.detected_at == T0


def test_already_resolved_first_message_opens_resolved_incident() -> None:
    """Nothing accepted is lost: a first message with only resolved alerts is recorded."""
    out = apply(
        None,
        note(alert("a", status=AlertStatus.RESOLVED, ends=T0 + timedelta(minutes=1))),
        T0 + timedelta(minutes=2),
    )
    assert out.created
    assert out.incident is not None
    assert out.incident.status is IncidentStatus.RESOLVED
    assert out.incident.resolved_at == T0 + timedelta(minutes=1)
    assert out.transitions == (Transition.OPENED, Transition.RESOLVED)


def test_more_severe_alert_raises_severity() -> None:
    """Severity is the highest mapped level over the incident's alerts."""
    v = view_after(None, apply(None, note(alert("a", severity="warning")), T0))
    assert v.incident.severity == "SEV3"
    out = apply(v, note(alert("b", severity="critical")), T0 + timedelta(minutes=1))
    assert out.incident is not None
    assert out.incident.severity == "SEV1"
    assert Transition.SEVERITY_CHANGED in out.transitions


def test_severity_change_says_from_to_and_by_which_alert() -> None:
    """The timeline entry names the old and new severity and the alert that raised it."""
    v = view_after(None, apply(None, note(alert("a", severity="warning")), T0))
    out = apply(v, note(alert("b", severity="critical")), T0 + timedelta(minutes=1))
    events = [e.event for e in out.timeline if e.kind is TimelineKind.SEVERITY]
    assert len(events) == 1
    assert events[0].startswith('Severity raised from SEV3 to SEV1 by "PoolExhausted"')


def test_manual_severity_is_not_overridden_by_alerts() -> None:
    """Once a person sets the severity, alerts no longer change it."""
    v = view_after(None, apply(None, note(alert("a", severity="warning")), T0))
    v = replace(v, incident=replace(v.incident, severity="SEV2", severity_source="manual"))
    out = apply(v, note(alert("b", severity="critical")), T0 + timedelta(minutes=1))
    assert out.incident is not None
    assert out.incident.severity == "SEV2"


def test_unmapped_severity_is_none() -> None:
    """Labels outside the mapping give no severity rather than a guess."""
    assert highest_severity([{"severity": "page"}], {"critical": "SEV1"}) is None


def test_label_correlation_splits_one_message_by_service() -> None:
    """With correlate_by labels, alerts of different services go to different keys."""
    parts = split_by_key(
        note(alert("a", service="checkout"), alert("b", service="search")),
        ["alertname", "service"],
    )
    assert len(parts) == 2
    assert sorted(len(p.alerts) for p in parts.values()) == [1, 1]


def test_group_key_correlation_keeps_message_whole() -> None:
    """The default key is Alertmanager's groupKey."""
    parts = split_by_key(note(alert("a"), alert("b"), group='{}:{alertname="X"}'), ["group_key"])
    assert list(parts) == ['group:{}:{alertname="X"}']


def test_full_timeline_orders_alert_entries_before_stored_ones_at_the_same_instant() -> None:
    """An alert resolving comes before the incident resolution it caused, at one instant."""
    v = view_after(None, apply(None, note(alert("a")), T0, new_id="i1"))
    resolved_at = T0 + timedelta(minutes=5)
    out = apply(v, note(alert("a", status=AlertStatus.RESOLVED, ends=resolved_at)), resolved_at)
    stored = [*apply(None, note(alert("a")), T0).timeline, *out.timeline]
    merged = full_timeline(stored, view_after(v, out).alerts.values())
    assert [e.kind for e in merged] == [
        TimelineKind.ALERT_FIRING,
        TimelineKind.OPENED,
        TimelineKind.ALERT_RESOLVED,
        TimelineKind.RESOLVED,
    ]
    assert merged[2].at == merged[3].at == resolved_at
