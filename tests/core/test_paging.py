"""Paging decisions over plain data: open, link, acknowledge, resolve, re-open, annotate."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from recorder.core.events import (
    AlertEvent,
    AlertNotification,
    AlertStatus,
    PagedIncident,
    PageEvent,
    PageEventKind,
)
from recorder.core.incident import (
    IncidentStatus,
    IncidentView,
    Outcome,
    PagerDutyLink,
    TimelineKind,
    Transition,
)
from recorder.core.lifecycle import Policy, decide_notification
from recorder.core.links import (
    event_link_key,
    group_link_key,
    incident_link_key,
    is_paged_correlation_key,
    sha256_hex,
)
from recorder.core.paging import PagingPolicy, decide_page_event, priority_severity

T0 = datetime(2026, 11, 28, 14, 0, 0, tzinfo=UTC)
GROUP = '{}:{alertname="PoolExhausted"}'
KEY = sha256_hex(GROUP)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def paged(**changes: object) -> PagedIncident:
    base = PagedIncident(
        id="PD1",
        html_url="https://acme.pagerduty.com/incidents/PD1",
        title="Pool exhausted on checkout",
        number=7,
        incident_key=KEY,
        service="checkout",
        urgency="high",
        created_at=at(5),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def page(
    kind: PageEventKind,
    when: float,
    *,
    agent: str | None = "Jane Doe",
    incident: PagedIncident | None = None,
    text: str | None = None,
) -> PageEvent:
    return PageEvent(
        source="PagerDuty",
        event_id=f"ev-{kind.value}-{when}",
        event_type=f"incident.{kind.value}",
        kind=kind,
        occurred_at=at(when),
        agent=agent,
        incident=incident or paged(),
        text=text,
    )


def decide(
    view: IncidentView | None, event: PageEvent, policy: PagingPolicy | None = None
) -> Outcome:
    return decide_page_event(
        view, event, now=at(1000), new_id="i-pd", policy=policy or PagingPolicy()
    )


def fold(view: IncidentView | None, outcome: Outcome) -> IncidentView:
    """The view a store would load after persisting `outcome`."""
    assert outcome.incident is not None
    alerts = dict(view.alerts) if view else {}
    for state in outcome.alerts:
        alerts[state.key] = state
    return IncidentView(outcome.incident, alerts)


def alert(status: AlertStatus = AlertStatus.FIRING, *, ends: datetime | None = None) -> AlertEvent:
    return AlertEvent(
        fingerprint="fp1",
        status=status,
        starts_at=T0,
        ends_at=ends,
        labels={"alertname": "PoolExhausted", "service": "checkout", "severity": "critical"},
        annotations={},
    )


def notify(*alerts: AlertEvent, now: datetime, view: IncidentView | None) -> Outcome:
    notification = AlertNotification(
        source="Alertmanager", receiver="r", group_key=GROUP, alerts=alerts
    )
    return decide_notification(
        view,
        notification,
        correlation_key=f"group:{GROUP}",
        now=now,
        new_id="i-am",
        policy=Policy(),
    )


def am_incident() -> IncidentView:
    return fold(None, notify(alert(), now=at(2), view=None))


def test_unlinked_trigger_opens_an_incident_from_the_page() -> None:
    """Title, service, severity from urgency, started at created_at, opened by PagerDuty."""
    outcome = decide(None, page(PageEventKind.TRIGGERED, 6, agent=None))
    incident = outcome.incident
    assert incident is not None
    assert outcome.created
    assert (incident.id, incident.title, incident.opened_by) == (
        "i-pd",
        "Pool exhausted on checkout",
        "PagerDuty",
    )
    assert incident.labels == {"service": "checkout"}
    assert incident.severity == "SEV2"
    assert incident.started_at == at(5)
    assert incident.detected_at == at(1000)
    assert is_paged_correlation_key(incident.correlation_key)
    assert incident.pagerduty == PagerDutyLink(
        "PD1", "https://acme.pagerduty.com/incidents/PD1", KEY, status_at=at(6)
    )
    assert incident_link_key(incident) == KEY
    assert [e.kind for e in outcome.timeline] == [TimelineKind.PAGED, TimelineKind.OPENED]
    assert outcome.transitions == (Transition.OPENED,)


@pytest.mark.parametrize(
    ("urgency", "priority", "severity"),
    [("low", None, "SEV3"), ("high", "P1", "SEV1"), ("low", "P2", "SEV2"), ("high", "P4", "SEV3")],
)
def test_opened_severity_comes_from_priority_then_urgency(
    urgency: str, priority: str | None, severity: str
) -> None:
    """Priority wins over urgency; P3 and lower are SEV3."""
    event = page(PageEventKind.TRIGGERED, 6, incident=paged(urgency=urgency, priority=priority))
    outcome = decide(None, event)
    assert outcome.incident is not None
    assert outcome.incident.severity == severity


def test_started_at_falls_back_to_occurred_at_without_created_at() -> None:
    """2021-era payloads have no created_at: the event time is the trigger time."""
    outcome = decide(None, page(PageEventKind.TRIGGERED, 9, incident=paged(created_at=None)))
    assert outcome.incident is not None
    assert outcome.incident.started_at == at(9)


def test_note_for_an_unknown_incident_opens_nothing() -> None:
    """A reference-only event has no incident_key to link by, so it cannot open."""
    reference = PagedIncident(id="PD1", html_url="", title="x", reference_only=True)
    outcome = decide(None, page(PageEventKind.ANNOTATED, 9, incident=reference, text="hi"))
    assert outcome.incident is None
    assert not outcome.changed


def test_first_page_for_an_alert_incident_links_it() -> None:
    """A trigger found by link key links the PagerDuty incident and notes the page."""
    view = am_incident()
    outcome = decide(view, page(PageEventKind.TRIGGERED, 6, agent=None))
    assert outcome.incident is not None
    assert not outcome.created
    assert outcome.incident.id == view.incident.id
    assert outcome.incident.pagerduty is not None
    assert outcome.incident.pagerduty.id == "PD1"
    assert outcome.incident.started_at == T0, "triggered at stays the alert's startsAt"
    assert [e.kind for e in outcome.timeline] == [TimelineKind.PAGED]
    assert outcome.incident.updated_at == at(1000)


def test_acknowledgment_stamps_time_and_agent() -> None:
    """incident.acknowledged sets acknowledged_at/by; the source names the agent."""
    view = fold(None, decide(None, page(PageEventKind.TRIGGERED, 6)))
    outcome = decide(view, page(PageEventKind.ACKNOWLEDGED, 120))
    assert outcome.incident is not None
    assert (outcome.incident.acknowledged_at, outcome.incident.acknowledged_by) == (
        at(120),
        "Jane Doe",
    )
    [entry] = outcome.timeline
    assert (entry.by, entry.source, entry.kind) == (
        "Jane Doe",
        "PagerDuty (Jane Doe)",
        TimelineKind.ACKNOWLEDGED,
    )
    assert outcome.transitions == (Transition.ACKNOWLEDGED,)


def test_earliest_acknowledgment_wins_in_any_arrival_order() -> None:
    """A later ack changes nothing; an earlier one arriving late replaces it."""
    view = fold(None, decide(None, page(PageEventKind.TRIGGERED, 6)))
    view = fold(view, decide(view, page(PageEventKind.ACKNOWLEDGED, 300, agent="Bob")))
    later = decide(view, page(PageEventKind.ACKNOWLEDGED, 400, agent="Carol"))
    assert later.incident is not None
    assert later.incident.acknowledged_by == "Bob"
    assert later.timeline == ()
    earlier = decide(view, page(PageEventKind.ACKNOWLEDGED, 120))
    assert earlier.incident is not None
    assert (earlier.incident.acknowledged_at, earlier.incident.acknowledged_by) == (
        at(120),
        "Jane Doe",
    )


def test_unacknowledged_lands_in_the_timeline_unless_stale() -> None:
    """Unack after the ack is recorded; one older than the last status change is not."""
    view = fold(None, decide(None, page(PageEventKind.TRIGGERED, 6)))
    view = fold(view, decide(view, page(PageEventKind.ACKNOWLEDGED, 120)))
    fresh = decide(view, page(PageEventKind.UNACKNOWLEDGED, 200, agent=None))
    assert [e.kind for e in fresh.timeline] == [TimelineKind.UNACKNOWLEDGED]
    assert fresh.incident is not None
    assert fresh.incident.acknowledged_at == at(120)
    stale = decide(view, page(PageEventKind.UNACKNOWLEDGED, 100, agent=None))
    assert not stale.changed


def test_resolve_policy_resolve_closes_despite_firing_alerts() -> None:
    """ "resolve": the incident resolves at PagerDuty's time and says what still fires."""
    view = am_incident()
    view = fold(view, decide(view, page(PageEventKind.TRIGGERED, 6)))
    outcome = decide(view, page(PageEventKind.RESOLVED, 600))
    incident = outcome.incident
    assert incident is not None
    assert incident.status is IncidentStatus.RESOLVED
    assert (incident.resolved_at, incident.resolved_by) == (at(600), "Jane Doe")
    assert outcome.timeline[-1].event == "Incident resolved (1 alert still firing)"
    assert Transition.RESOLVED in outcome.transitions


def test_resolve_policy_record_only_keeps_the_incident_open_while_alerts_fire() -> None:
    """ "record_only": only a timeline entry while alerts fire; without them it resolves."""
    policy = PagingPolicy(resolve_policy="record_only")
    view = am_incident()
    view = fold(view, decide(view, page(PageEventKind.TRIGGERED, 6)))
    outcome = decide(view, page(PageEventKind.RESOLVED, 600), policy)
    assert outcome.incident is not None
    assert outcome.incident.is_open
    assert "1 alert still firing" in outcome.timeline[-1].event
    paged_only = fold(None, decide(None, page(PageEventKind.TRIGGERED, 6)))
    closed = decide(paged_only, page(PageEventKind.RESOLVED, 600), policy)
    assert closed.incident is not None
    assert not closed.incident.is_open


def test_reopen_after_resolution_reopens_and_stale_resolve_is_ignored() -> None:
    """Re-opened after the resolution re-opens; the resolve redelivered later does nothing."""
    view = fold(None, decide(None, page(PageEventKind.TRIGGERED, 6)))
    view = fold(view, decide(view, page(PageEventKind.RESOLVED, 600)))
    reopened = decide(view, page(PageEventKind.REOPENED, 700))
    assert reopened.incident is not None
    assert reopened.incident.is_open
    assert reopened.incident.reopen_count == 1
    assert Transition.REOPENED in reopened.transitions
    view = fold(view, reopened)
    assert not decide(view, page(PageEventKind.RESOLVED, 600)).changed
    assert not decide(view, page(PageEventKind.REOPENED, 650)).changed


def test_reopen_older_than_the_resolution_does_not_reopen() -> None:
    """A re-open that happened before the recorded resolution (AM resolved later) is kept
    as a timeline entry only."""
    view = am_incident()
    view = fold(view, decide(view, page(PageEventKind.TRIGGERED, 6)))
    view = fold(view, notify(alert(AlertStatus.RESOLVED, ends=at(900)), now=at(901), view=view))
    outcome = decide(view, page(PageEventKind.REOPENED, 800))
    assert outcome.incident is not None
    assert not outcome.incident.is_open
    assert [e.kind for e in outcome.timeline] == [TimelineKind.STATUS]


@pytest.mark.parametrize(
    ("kind", "text", "timeline_kind", "expected"),
    [
        (
            PageEventKind.ANNOTATED,
            "Killed the batch job",
            TimelineKind.NOTE,
            "Killed the batch job",
        ),
        (
            PageEventKind.STATUS_UPDATE_PUBLISHED,
            "Checkout degraded, fix rolling out",
            TimelineKind.STATUS_UPDATE,
            "Checkout degraded, fix rolling out",
        ),
        (
            PageEventKind.RESPONDER_ADDED,
            "Need DBA",
            TimelineKind.RESPONDER,
            "Responder requested: Need DBA",
        ),
        (PageEventKind.ESCALATED, None, TimelineKind.ESCALATED, "Escalated in PagerDuty to Bob"),
        (PageEventKind.REASSIGNED, None, TimelineKind.REASSIGNED, "Reassigned in PagerDuty to Bob"),
    ],
)
def test_activity_events_become_timeline_entries(
    kind: PageEventKind, text: str | None, timeline_kind: TimelineKind, expected: str
) -> None:
    """Notes, status updates, responders, escalations and reassignments are recorded."""
    view = fold(None, decide(None, page(PageEventKind.TRIGGERED, 6)))
    incident = (
        PagedIncident(id="PD1", html_url="", title="", reference_only=True)
        if text is not None
        else paged(assignees=("Bob",))
    )
    outcome = decide(view, page(kind, 50, incident=incident, text=text))
    [entry] = outcome.timeline
    assert (entry.kind, entry.event, entry.by, entry.at) == (
        timeline_kind,
        expected,
        "Jane Doe",
        at(50),
    )


def test_priority_sets_severity_unless_set_by_hand() -> None:
    """P1 -> SEV1 from PagerDuty; a manual severity is kept."""
    view = am_incident()
    view = fold(view, decide(view, page(PageEventKind.TRIGGERED, 6)))
    event = page(PageEventKind.PRIORITY_UPDATED, 60, incident=paged(priority="P3"))
    outcome = decide(view, event)
    assert outcome.incident is not None
    assert (outcome.incident.severity, outcome.incident.severity_source) == ("SEV3", "pagerduty")
    manual = replace(view, incident=replace(view.incident, severity_source="manual"))
    kept = decide(manual, event)
    assert kept.incident is not None
    assert kept.incident.severity == "SEV1"
    assert "kept" in kept.timeline[0].event


def test_alerts_adopt_the_incident_pagerduty_opened() -> None:
    """AM data for the linked group adopts the PD incident: its key, and its start moves
    to the alert's startsAt."""
    view = fold(None, decide(None, page(PageEventKind.TRIGGERED, 6)))
    assert view.incident.started_at == at(5)
    outcome = notify(alert(), now=at(1100), view=view)
    incident = outcome.incident
    assert incident is not None
    assert not outcome.created
    assert incident.id == "i-pd"
    assert (incident.correlation_key, incident.group_key) == (f"group:{GROUP}", GROUP)
    assert incident.started_at == T0
    assert incident.title == "PoolExhausted on checkout"
    assert incident.pagerduty is not None
    assert incident.pagerduty.id == "PD1"


def test_link_keys() -> None:
    """The link key is Alertmanager's dedup_key: sha256 hex of the groupKey."""
    assert group_link_key(GROUP) == KEY == sha256_hex(GROUP)
    assert group_link_key("") is None
    assert event_link_key(page(PageEventKind.TRIGGERED, 1)) == KEY
    assert (
        event_link_key(page(PageEventKind.TRIGGERED, 1, incident=paged(incident_key=None))) is None
    )
    assert incident_link_key(am_incident().incident) == KEY


@pytest.mark.parametrize(
    ("priority", "severity"),
    [("P1", "SEV1"), ("P2", "SEV2"), ("P3", "SEV3"), ("P5", "SEV3"), ("Sev-1", None), (None, None)],
)
def test_priority_severity(priority: str | None, severity: str | None) -> None:
    """PagerDuty's default priority names map to severities; others to nothing."""
    assert priority_severity(priority) == severity
