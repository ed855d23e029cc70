"""Which incident an event joins: the join rules over plain lookups, and the late join."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from recorder.core.events import AlertEvent, AlertNotification, AlertStatus
from recorder.core.incident import (
    AlertState,
    Incident,
    IncidentStatus,
    IncidentView,
    PagerDutyLink,
    TimelineKind,
    Transition,
)
from recorder.core.join import JoinLookup, choose_for_alerts, choose_for_page, direct_only
from recorder.core.lifecycle import Policy, decide_notification
from recorder.core.links import paged_correlation_key

T0 = datetime(2026, 11, 28, 14, 0, 0, tzinfo=UTC)
GROUP_KEY = "group:G"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def incident(
    id_: str,
    *,
    key: str = GROUP_KEY,
    started: float = 0,
    resolved: float | None = None,
) -> Incident:
    """An incident opened at `started` minutes, resolved at `resolved` (None: open)."""
    return Incident(
        id=id_,
        correlation_key=key,
        group_key="G" if key == GROUP_KEY else "",
        title="t",
        status=IncidentStatus.INVESTIGATING if resolved is None else IncidentStatus.RESOLVED,
        severity=None,
        labels={},
        started_at=at(started),
        detected_at=at(started),
        updated_at=at(started),
        opened_by="Alertmanager" if key == GROUP_KEY else "PagerDuty",
        resolved_at=None if resolved is None else at(resolved),
    )


def paged(id_: str, *, started: float = 0, resolved: float | None = None) -> Incident:
    """An incident PagerDuty opened that no alert group adopted yet."""
    opened = incident(id_, key=paged_correlation_key(f"PD-{id_}"), started=started)
    return replace(
        opened,
        status=IncidentStatus.INVESTIGATING if resolved is None else IncidentStatus.RESOLVED,
        resolved_at=None if resolved is None else at(resolved),
        pagerduty=PagerDutyLink(f"PD-{id_}", "", "k"),
    )


def firing(starts: float, fp: str = "fp1") -> AlertEvent:
    return AlertEvent(
        fingerprint=fp,
        status=AlertStatus.FIRING,
        starts_at=at(starts),
        ends_at=None,
        labels={"alertname": "DiskAlmostFull", "service": "db"},
        annotations={},
    )


def resolved(starts: float, ends: float, fp: str = "fp1") -> AlertEvent:
    return replace(firing(starts, fp), status=AlertStatus.RESOLVED, ends_at=at(ends))


def lookup(direct: Incident | None = None, *linked: Incident) -> JoinLookup:
    return JoinLookup(None if direct is None else IncidentView(direct, {}), linked)


def chosen_id(found: Incident | None) -> str | None:
    return None if found is None else found.id


# ------------------------------------------------------------------ alerts


def test_open_incident_of_the_key_wins_over_pagerduty_ones() -> None:
    """While the group's own incident is open, alerts join it."""
    own = incident("b")
    assert chosen_id(choose_for_alerts(lookup(own, paged("c")), [firing(1)])) == "b"


def test_alerts_join_an_open_pagerduty_incident() -> None:
    """PagerDuty paged before Alertmanager's first notification arrived: adopt it."""
    assert chosen_id(choose_for_alerts(lookup(None, paged("c")), [firing(1)])) == "c"


def test_alerts_that_started_before_pagerduty_resolved_join_it() -> None:
    """The late-join rule: PagerDuty resolved before Alertmanager's retry arrived."""
    found = choose_for_alerts(lookup(None, paged("c", started=1, resolved=9)), [firing(0)])
    assert chosen_id(found) == "c"


def test_alerts_that_started_after_pagerduty_resolved_do_not_join_it() -> None:
    """A later occurrence of the group is not the resolved PagerDuty incident."""
    found = choose_for_alerts(lookup(None, paged("c", started=1, resolved=9)), [firing(9)])
    assert found is None


def test_resolved_only_notification_joins_by_its_start() -> None:
    """Alertmanager retries the group's latest state: a resolved alert joins too."""
    found = choose_for_alerts(lookup(None, paged("c", resolved=9)), [resolved(0, 12)])
    assert chosen_id(found) == "c"


def test_the_pagerduty_incident_open_when_the_alerts_started_is_chosen() -> None:
    """Of two PagerDuty incidents one after the other, the first still open at the
    alerts' start is theirs."""
    first, second = paged("c", started=0, resolved=10), paged("d", started=20, resolved=30)
    found = choose_for_alerts(lookup(None, second, first), [firing(15)])
    assert chosen_id(found) == "d"
    found = choose_for_alerts(lookup(None, second, first), [firing(-1)])
    assert chosen_id(found) == "c"


def test_pagerduty_incident_newer_than_the_groups_resolved_one_is_adopted() -> None:
    """The group had an incident yesterday; today PagerDuty paged first: join today's."""
    yesterday = incident("a", started=-1440, resolved=-1400)
    found = choose_for_alerts(lookup(yesterday, paged("c", started=1)), [firing(0)])
    assert chosen_id(found) == "c"


def test_pagerduty_incident_older_than_the_groups_newest_is_not_adopted() -> None:
    """An unadopted PagerDuty incident from before the group's own incident is stale."""
    own = incident("b", started=0, resolved=5)
    found = choose_for_alerts(lookup(own, paged("a", started=-30)), [firing(6)])
    assert chosen_id(found) == "b"


def test_alerts_the_resolved_incident_holds_stay_with_it() -> None:
    """A late retry of the group's resolution is not taken by a newer PagerDuty incident."""
    own = incident("b", started=0, resolved=5)
    alert = resolved(0, 5)
    state = AlertState(
        fingerprint=alert.fingerprint,
        starts_at=alert.starts_at,
        status=AlertStatus.RESOLVED,
        ends_at=alert.ends_at,
        labels=alert.labels,
        annotations={},
        generator_url="",
        received_at=at(0),
        updated_at=at(5),
    )
    found = choose_for_alerts(
        JoinLookup(IncidentView(own, {state.key: state}), (paged("c", started=20),)), [alert]
    )
    assert chosen_id(found) == "b"


def test_other_groups_incidents_in_the_lookup_are_never_adopted() -> None:
    """Only incidents PagerDuty opened (their key is still PagerDuty's) are adoptable."""
    found = choose_for_alerts(lookup(None, incident("c", key="group:other")), [firing(0)])
    assert found is None


def test_direct_only_ignores_links() -> None:
    """The default choice is the incident the event names itself."""
    assert direct_only(lookup(None, paged("c"))) is None
    assert chosen_id(direct_only(lookup(incident("b")))) == "b"


# ------------------------------------------------------------------ pages


def test_page_joins_the_incident_linked_to_its_id_first() -> None:
    """The PagerDuty id's own incident wins, even when resolved."""
    own = incident("b", resolved=3)
    assert chosen_id(choose_for_page(lookup(own, incident("c")), at(10))) == "b"


def test_page_joins_the_newest_open_incident_with_its_link_key() -> None:
    """Alertmanager's notification came first: the page joins the open group incident."""
    found = choose_for_page(lookup(None, incident("c", started=5), incident("b")), at(6))
    assert chosen_id(found) == "c"


def test_page_joins_a_resolved_incident_it_was_created_during() -> None:
    """Alertmanager fired and resolved before PagerDuty's deliveries came: same incident."""
    found = choose_for_page(lookup(None, incident("b", started=0, resolved=10)), at(1))
    assert chosen_id(found) == "b"


def test_page_created_after_the_resolution_opens_its_own() -> None:
    """A PagerDuty incident created after the group's incident ended is a new one."""
    found = choose_for_page(lookup(None, incident("b", started=0, resolved=10)), at(11))
    assert found is None


# ------------------------------------------------------------------ the late join itself


def test_late_alerts_join_a_resolved_pagerduty_incident_without_reopening_it() -> None:
    """Adopting a PagerDuty-resolved incident: alerts that started before its resolution
    join it as it is (no re-open, no new incident), and its start moves to theirs."""
    opened = paged("c", started=1, resolved=7)
    notification = AlertNotification(
        source="Alertmanager", receiver="r", group_key="G", alerts=(firing(0),)
    )
    out = decide_notification(
        IncidentView(opened, {}),
        notification,
        correlation_key=GROUP_KEY,
        now=at(8),
        new_id="new",
        policy=Policy(),
    )
    assert out.incident is not None
    assert not out.created
    assert out.incident.id == "c"
    assert out.incident.status is IncidentStatus.RESOLVED
    assert out.incident.resolved_at == at(7)
    assert out.incident.reopen_count == 0
    assert out.incident.started_at == at(0)
    assert out.incident.correlation_key == GROUP_KEY
    assert Transition.REOPENED not in out.transitions
    assert TimelineKind.REOPENED not in {entry.kind for entry in out.timeline}
    assert [a.fingerprint for a in out.alerts] == ["fp1"]


def test_late_alert_firing_after_the_pagerduty_resolution_reopens() -> None:
    """In the same notification, an alert that started after the resolution is a
    re-fire, as for any resolved incident."""
    opened = paged("c", started=1, resolved=7)
    notification = AlertNotification(
        source="Alertmanager",
        receiver="r",
        group_key="G",
        alerts=(firing(0), firing(9, fp="fp2")),
    )
    out = decide_notification(
        IncidentView(opened, {}),
        notification,
        correlation_key=GROUP_KEY,
        now=at(10),
        new_id="new",
        policy=Policy(),
    )
    assert out.incident is not None
    assert out.incident.is_open
    assert out.transitions == (Transition.REOPENED,)
    [entry] = [e for e in out.timeline if e.kind is TimelineKind.REOPENED]
    assert "2 minutes after resolution" in entry.event
