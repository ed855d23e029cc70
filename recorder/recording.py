"""The imperative shell around the core: load, decide, save in one transaction, then count."""

from __future__ import annotations

from collections.abc import Sequence

import structlog

from recorder.clock import Clock
from recorder.core.correlation import split_by_key
from recorder.core.events import AlertNotification
from recorder.core.incident import IncidentView, Outcome
from recorder.core.lifecycle import Policy, decide_notification
from recorder.ids import new_incident_id
from recorder.metrics import RecorderMetrics
from recorder.store.protocol import DecideExisting, Store


class Recording:
    """Writes events through the pure decisions into the store."""

    def __init__(
        self,
        store: Store,
        *,
        policy: Policy,
        correlate_by: Sequence[str],
        clock: Clock,
        metrics: RecorderMetrics,
        log: structlog.typing.FilteringBoundLogger,
    ) -> None:
        self.store = store
        self.policy = policy
        self.correlate_by = tuple(correlate_by)
        self.clock = clock
        self.metrics = metrics
        self.log = log

    async def record_alerts(self, notification: AlertNotification) -> list[Outcome]:
        """Store one alert notification: one transaction per correlation key it touches."""
        now = self.clock.now()
        outcomes = []
        for key, part in split_by_key(notification, self.correlate_by).items():
            new_id = new_incident_id(now)

            def decide(
                view: IncidentView | None,
                part: AlertNotification = part,
                key: str = key,
                new_id: str = new_id,
            ) -> Outcome:
                return decide_notification(
                    view, part, correlation_key=key, now=now, new_id=new_id, policy=self.policy
                )

            outcome = await self.store.record(key, decide)
            self._after(outcome)
            outcomes.append(outcome)
        return outcomes

    async def update(self, incident_id: str, decide: DecideExisting) -> Outcome:
        """Apply one decision to an existing incident."""
        outcome = await self.store.update(incident_id, decide)
        self._after(outcome)
        return outcome

    def _after(self, outcome: Outcome) -> None:
        self.metrics.observe(outcome)
        incident = outcome.incident
        if incident is None:
            return
        for transition in outcome.transitions:
            self.log.info(
                f"incident_{transition.value}",
                incident_id=incident.id,
                severity=incident.severity,
                title=incident.title,
            )
