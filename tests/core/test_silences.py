"""Silences as acknowledgment over plain data: matching (§5.2) and the decision."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from recorder.core.events import AlertStatus
from recorder.core.incident import (
    AlertState,
    Incident,
    IncidentStatus,
    IncidentView,
    TimelineKind,
    Transition,
)
from recorder.core.silences import Matcher, Silence, decide_silence, silence_applies

T0 = datetime(2026, 11, 28, 14, 0, 0, tzinfo=UTC)
LABELS = {"alertname": "DiskAlmostFull", "service": "db", "severity": "critical"}


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def silence(
    *matchers: Matcher,
    starts: float = 2,
    ends: float = 62,
    state: str = "active",
    by: str = "alice",
    comment: str = "looking at it",
    id_: str = "s1",
) -> Silence:
    return Silence(
        id=id_,
        state=state,
        created_by=by,
        comment=comment,
        starts_at=at(starts),
        ends_at=at(ends),
        matchers=matchers or (Matcher("alertname", "DiskAlmostFull"),),
    )


def view(
    *,
    status: AlertStatus = AlertStatus.FIRING,
    labels: dict[str, str] | None = None,
    acknowledged: tuple[float, str] | None = None,
    resolved: bool = False,
) -> IncidentView:
    alert = AlertState(
        fingerprint="fp",
        starts_at=T0,
        status=status,
        ends_at=None,
        labels=LABELS if labels is None else labels,
        annotations={},
        generator_url="",
        received_at=T0,
        updated_at=T0,
    )
    incident = Incident(
        id="i1",
        correlation_key="group:G",
        group_key="G",
        title="DiskAlmostFull on db",
        status=IncidentStatus.RESOLVED if resolved else IncidentStatus.INVESTIGATING,
        severity="SEV1",
        labels=LABELS,
        started_at=T0,
        detected_at=T0,
        updated_at=T0,
        opened_by="Alertmanager",
        resolved_at=at(30) if resolved else None,
    )
    if acknowledged is not None:
        incident = replace(
            incident, acknowledged_at=at(acknowledged[0]), acknowledged_by=acknowledged[1]
        )
    return IncidentView(incident, {alert.key: alert})


# ------------------------------------------------------------------ matching


@pytest.mark.parametrize(
    ("matcher", "expected"),
    [
        (Matcher("service", "db"), True),
        (Matcher("service", "d"), False),
        (Matcher("service", "db", is_equal=False), False),
        (Matcher("service", "web", is_equal=False), True),
        (Matcher("alertname", "Disk.*", is_regex=True), True),
        (Matcher("alertname", "Disk", is_regex=True), False),  # fully anchored
        (Matcher("alertname", "Almost", is_regex=True), False),  # no search
        (Matcher("alertname", "Disk.*", is_regex=True, is_equal=False), False),
        (Matcher("alertname", "Pool.*", is_regex=True, is_equal=False), True),
        (Matcher("alertname", "DiskAlmostFull|Other", is_regex=True), True),
        (Matcher("team", ""), True),  # a missing label is ""
        (Matcher("team", ".*", is_regex=True), True),
        (Matcher("team", ".+", is_regex=True), False),
        (Matcher("team", "", is_equal=False), False),
        (Matcher("team", "ops", is_equal=False), True),
        (Matcher("alertname", "(", is_regex=True), False),  # does not compile: no match
    ],
)
def test_matcher_follows_alertmanager_semantics(matcher: Matcher, expected: bool) -> None:
    """Equality, fully anchored regex, negation, and "" for a missing label."""
    assert matcher.matches(LABELS) is expected


def test_every_matcher_must_match() -> None:
    """A silence is the conjunction of its matchers."""
    both = silence(Matcher("alertname", "DiskAlmostFull"), Matcher("service", "web"))
    assert not both.matches(LABELS)
    assert silence(Matcher("alertname", "DiskAlmostFull"), Matcher("service", "db")).matches(LABELS)


def test_silence_without_matchers_matches_nothing() -> None:
    """Alertmanager refuses empty silences; one read anyway must not silence everything."""
    assert not replace(silence(), matchers=()).matches(LABELS)


# ------------------------------------------------------------------ applies


def test_active_matching_silence_applies() -> None:
    """Active, matching a firing alert, incident open: it counts."""
    assert silence_applies(view(), silence())


@pytest.mark.parametrize(
    ("incident", "candidate", "why"),
    [
        (view(), silence(state="pending"), "not in force yet"),
        (view(), silence(starts=-60, ends=-1, state="expired"), "ended before the incident"),
        (view(resolved=True), silence(), "incident resolved"),
        (view(status=AlertStatus.RESOLVED), silence(), "alert no longer firing"),
        (view(), silence(Matcher("service", "db", is_equal=False)), "negative matcher"),
    ],
)
def test_silence_does_not_apply(incident: IncidentView, candidate: Silence, why: str) -> None:
    """Pending, over before the incident, resolved incident, resolved alert, no match."""
    assert not silence_applies(incident, candidate), why


def test_silence_expired_during_the_incident_still_applies() -> None:
    """Created and expired between two polls: it was in force while the incident was open."""
    assert silence_applies(view(), silence(starts=1, ends=2, state="expired"))


# ------------------------------------------------------------------ decision


def test_silence_acknowledges_at_its_start_by_its_author() -> None:
    """at = the silence's startsAt, by = createdBy; the timeline says who, until when, why."""
    out = decide_silence(view(), silence(), at(3))
    assert out.incident is not None
    assert (out.incident.acknowledged_at, out.incident.acknowledged_by) == (at(2), "alice")
    assert out.transitions == (Transition.ACKNOWLEDGED,)
    silenced, acked = out.timeline
    assert silenced.kind is TimelineKind.SILENCED
    assert silenced.event == "Silenced by alice until 2026-11-28 15:02:00 UTC: looking at it"
    assert (silenced.at, silenced.by, silenced.source) == (at(2), "alice", "Alertmanager")
    assert (acked.kind, acked.by, acked.source) == (
        TimelineKind.ACKNOWLEDGED,
        "alice",
        "Alertmanager",
    )


def test_silence_older_than_the_incident_acknowledges_at_triggered_at() -> None:
    """A silence in place before the alert fired acknowledges at triggered at."""
    out = decide_silence(view(), silence(starts=-30), at(3))
    assert out.incident is not None
    assert out.incident.acknowledged_at == T0
    assert out.timeline[0].at == T0


def test_earlier_acknowledgment_wins_but_the_silence_is_in_the_timeline() -> None:
    """Acknowledged in PagerDuty at 1 min: a silence from 2 min leaves it, and says so."""
    out = decide_silence(view(acknowledged=(1, "Jane Doe")), silence(), at(3))
    assert out.incident is not None
    assert (out.incident.acknowledged_at, out.incident.acknowledged_by) == (at(1), "Jane Doe")
    assert [e.kind for e in out.timeline] == [TimelineKind.SILENCED]
    assert out.transitions == (Transition.UPDATED,)
    assert out.incident.updated_at == at(3)


def test_earlier_silence_replaces_a_later_acknowledgment() -> None:
    """A silence seen late but started before the API acknowledgment wins."""
    out = decide_silence(view(acknowledged=(5, "bob")), silence(), at(6))
    assert out.incident is not None
    assert (out.incident.acknowledged_at, out.incident.acknowledged_by) == (at(2), "alice")


def test_silence_that_does_not_apply_changes_nothing() -> None:
    """Nothing to write, so the store does not remember the silence for this incident."""
    out = decide_silence(view(), silence(Matcher("service", "web")), at(3))
    assert not out.changed


def test_silence_without_comment_or_author() -> None:
    """The timeline text stays readable without a comment; by falls back to Alertmanager."""
    out = decide_silence(view(), silence(by="", comment=""), at(3))
    assert out.incident is not None
    assert out.timeline[0].event == "Silenced by someone until 2026-11-28 15:02:00 UTC"
    assert out.incident.acknowledged_by == "Alertmanager"
