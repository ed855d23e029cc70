"""A storm-sized group resolving, through the real decision, on both backends: every
alert keeps what it said when it fired and gets what it said when it resolved.

On PostgreSQL, stored alerts whose new state changes only their status, end, annotations,
update time and resolution text (250 here, over the store's threshold) are written by a
separate update of those columns; an alert whose other columns change too is upserted
whole. Both must store what one upsert of every row would.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recorder.core.events import AlertEvent, AlertNotification, AlertStatus
from recorder.core.incident import IncidentStatus, IncidentView, Outcome
from recorder.core.lifecycle import Policy, decide_notification
from recorder.store.protocol import Store

ALERTS = 250
STARTS = datetime(2026, 11, 28, 3, 14, 7, 123456, tzinfo=UTC)
ENDS = STARTS + timedelta(minutes=27)
FIRED_AT = STARTS + timedelta(minutes=1)
RESOLVED_AT = ENDS + timedelta(seconds=30)


def event(n: int, status: AlertStatus) -> AlertEvent:
    resolved = status is AlertStatus.RESOLVED
    return AlertEvent(
        fingerprint=f"{n:016x}",
        status=status,
        starts_at=STARTS,
        ends_at=ENDS if resolved else None,
        labels={"alertname": "KubePodNotReady", "pod": f"pod-{n:04d}", "severity": "warning"},
        annotations={"summary": f"pod-{n:04d} {'ready again' if resolved else 'not ready'}"},
        # The last alert's link moves when it resolves: its row changes beyond the
        # columns a resolution changes.
        generator_url=f"http://prom/{'moved' if resolved and n == ALERTS - 1 else 'graph'}",
    )


async def record(store: Store, status: AlertStatus, now: datetime) -> Outcome:
    notification = AlertNotification(
        source="Alertmanager",
        receiver="r",
        group_key="storm",
        alerts=tuple(event(n, status) for n in range(ALERTS)),
    )

    def decide(view: IncidentView | None) -> Outcome:
        return decide_notification(
            view,
            notification,
            correlation_key="storm",
            now=now,
            new_id="01m8storm0000000000a",
            policy=Policy(),
        )

    return await store.record("storm", decide, size=ALERTS)


async def test_a_storm_resolution_keeps_firing_text_and_stores_resolution(store: Store) -> None:
    opened = await record(store, AlertStatus.FIRING, FIRED_AT)
    assert opened.created
    closed = await record(store, AlertStatus.RESOLVED, RESOLVED_AT)
    assert closed.incident is not None
    assert closed.incident.status is IncidentStatus.RESOLVED

    view = await store.load(closed.incident.id)
    assert view.incident.status is IncidentStatus.RESOLVED
    assert view.incident.resolved_at == ENDS
    assert len(view.alerts) == ALERTS
    for n in range(ALERTS):
        alert = view.alerts[(f"{n:016x}", STARTS)]
        assert alert.status is AlertStatus.RESOLVED
        assert alert.ends_at == ENDS
        assert alert.labels == {
            "alertname": "KubePodNotReady",
            "pod": f"pod-{n:04d}",
            "severity": "warning",
        }
        assert alert.annotations == {"summary": f"pod-{n:04d} ready again"}
        assert alert.firing_text.annotations == {"summary": f"pod-{n:04d} not ready"}
        resolution = alert.resolution_text
        assert resolution is not None
        assert resolution.annotations == {"summary": f"pod-{n:04d} ready again"}
        assert alert.received_at == FIRED_AT
        assert alert.updated_at == RESOLVED_AT
        moved = n == ALERTS - 1
        assert alert.generator_url == f"http://prom/{'moved' if moved else 'graph'}"
