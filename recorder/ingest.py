"""The imperative shell around the core: load, decide, save in one transaction, then count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal, Protocol

import structlog

from recorder.clock import Clock
from recorder.core.correlation import split_by_key
from recorder.core.events import AlertNotification, PageEvent, PageEventKind
from recorder.core.frozen import freeze_on_resolution
from recorder.core.incident import Incident, IncidentView, Outcome, Transition
from recorder.core.join import JoinLookup, choose_for_alerts, choose_for_page
from recorder.core.lifecycle import Policy, decide_notification
from recorder.core.links import event_link_key, group_link_key
from recorder.core.paging import PagingPolicy, decide_page_event
from recorder.core.silences import Silence, decide_silence
from recorder.ids import new_incident_id
from recorder.metrics import RecorderMetrics
from recorder.settings_snapshot import frozen_severity_map
from recorder.store.protocol import DecideExisting, IncidentWrites, PageDelivery, PagingLog


class IngestStore(IncidentWrites, PagingLog, Protocol):
    """What recording events needs of storage: incident writes and the paging log."""


@dataclass(frozen=True, slots=True)
class PageRecord:
    """What became of one paging event: `outcome` is stored, duplicate or ignored."""

    outcome: Literal["stored", "duplicate", "ignored"]
    incident_id: str | None


class Recording:
    """Writes events through the pure decisions into the store."""

    def __init__(
        self,
        store: IngestStore,
        *,
        policy: Policy,
        correlate_by: Sequence[str],
        clock: Clock,
        metrics: RecorderMetrics,
        log: structlog.typing.FilteringBoundLogger,
        figure_settings: str | None = None,
    ) -> None:
        """`figure_settings` (`Settings.figure_snapshot()`) is kept with each incident when
        it resolves; None keeps nothing."""
        self.store = store
        self.figure_settings = figure_settings
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
                return self._settle(self._decide_alerts(view, part, key, now, new_id))

            def choose(lookup: JoinLookup, part: AlertNotification = part) -> Incident | None:
                return choose_for_alerts(lookup, part.alerts)

            link_key = group_link_key(notification.group_key)
            outcome = await self.store.record(
                key, decide, link_key=link_key, choose=choose, size=len(part.alerts)
            )
            self._after(outcome)
            outcomes.append(outcome)
        return outcomes

    async def record_page(
        self, event: PageEvent, *, webhook_id: str | None, policy: PagingPolicy
    ) -> PageRecord:
        """Store one paging event: applied to its incident, or only logged when ignored.

        A redelivered event (same event id) writes nothing and says "duplicate".
        """
        now = self.clock.now()
        delivery = PageDelivery(
            event_id=event.event_id,
            webhook_id=webhook_id,
            event_type=event.event_type,
            kind=event.kind.value,
            received_at=now,
        )
        paged = event.incident
        if paged is None or event.kind in {PageEventKind.PING, PageEventKind.IGNORED}:
            new = await self.store.record_ignored(delivery)
            return PageRecord("ignored" if new else "duplicate", None)
        new_id = new_incident_id(now)

        def decide(view: IncidentView | None) -> Outcome:
            return self._settle(
                decide_page_event(view, event, now=now, new_id=new_id, policy=policy)
            )

        created_at = paged.created_at or event.occurred_at

        def choose(lookup: JoinLookup) -> Incident | None:
            return choose_for_page(lookup, created_at)

        outcome = await self.store.record_page(
            delivery,
            pagerduty_id=paged.id,
            link_key=event_link_key(event),
            decide=decide,
            choose=choose,
        )
        if outcome is None:
            return PageRecord("duplicate", None)
        self._after(outcome)
        if outcome.incident is None:
            return PageRecord("ignored", None)
        return PageRecord("stored", outcome.incident.id)

    async def update(self, incident_id: str, decide: DecideExisting) -> Outcome:
        """Apply one decision to an existing incident."""
        outcome = await self.store.update(incident_id, lambda view: self._settle(decide(view)))
        self._after(outcome)
        return outcome

    async def record_silence(self, incident_id: str, silence: Silence) -> Outcome | None:
        """Apply an Alertmanager silence to an incident, once per silence id (None when it
        was applied before, by this process or another)."""
        now = self.clock.now()

        def decide(view: IncidentView) -> Outcome:
            return self._settle(decide_silence(view, silence, now))

        outcome = await self.store.record_silence(incident_id, silence.id, decide, now=now)
        if outcome is not None:
            self._after(outcome)
        return outcome

    def _decide_alerts(
        self,
        view: IncidentView | None,
        notification: AlertNotification,
        key: str,
        now: datetime,
        new_id: str,
    ) -> Outcome:
        """Late alerts joining a resolved incident rank severity by the map it resolved
        under, so its report stays as it was; alerts that re-open it, by today's map."""

        def decide(policy: Policy) -> Outcome:
            return decide_notification(
                view, notification, correlation_key=key, now=now, new_id=new_id, policy=policy
            )

        frozen = frozen_severity_map(view.incident.figure_settings) if view else None
        if frozen is None:
            return decide(self.policy)
        outcome = decide(replace(self.policy, severity_map=frozen))
        if Transition.REOPENED in outcome.transitions or outcome.created:
            return decide(self.policy)
        return outcome

    def _settle(self, outcome: Outcome) -> Outcome:
        """Keep the figure settings with an incident that resolves, drop them on re-open
        (inside the decision, so the copy is written in the same transaction)."""
        return freeze_on_resolution(outcome, self.figure_settings)

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
