"""The recorder's own Prometheus metrics, on an injected registry."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)

from recorder.core.incident import Incident, Outcome, Transition

# Seconds to days: incidents are acknowledged in seconds and resolved in hours or days.
DURATION_BUCKETS = (
    5,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    14400,
    28800,
    86400,
    172800,
    604800,
)
REQUEST_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)

SOURCES = ("alertmanager", "grafana", "pagerduty")
OUTCOMES = ("stored", "duplicate", "ignored", "rejected", "error")
SAMPLER_OUTCOMES = ("ok", "error")
# ok: silences read and applied; unreachable: no Alertmanager URL answered with 200;
# invalid: one answered with something that is not a list of silences; storage_error:
# silences read but the incidents could not be read or written.
SILENCE_POLL_OUTCOMES = ("ok", "unreachable", "invalid", "storage_error")
# Transitions after which the stored count of open incidents must be read again.
_CHANGES_OPEN_COUNT = frozenset({Transition.OPENED, Transition.REOPENED, Transition.RESOLVED})


@dataclass(frozen=True, slots=True)
class DeliverySeries:
    """One source's delivery series, resolved once: counters by outcome, the duration."""

    source: str
    family: Counter
    received: dict[str, Counter]
    duration: Histogram

    def count(self, outcome: str, seconds: float) -> None:
        """Count one delivery with `outcome` that took `seconds` to answer."""
        counter = self.received.get(outcome)
        if counter is None:
            counter = self.family.labels(source=self.source, outcome=outcome)
        counter.inc()
        self.duration.observe(seconds)


class RecorderMetrics:
    """All series the recorder exports. Label values are bounded by construction."""

    def __init__(self, registry: CollectorRegistry, *, version: str, backend: str) -> None:
        self.registry = registry
        self.webhooks_received = Counter(
            "recorder_webhooks_received_total",
            "Webhook deliveries by source and outcome (stored, duplicate, ignored, rejected, "
            "error).",
            ["source", "outcome"],
            registry=registry,
        )
        self.webhook_duration = Histogram(
            "recorder_webhook_duration_seconds",
            "Time to answer a webhook delivery.",
            ["source"],
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.incidents_opened = Counter(
            "recorder_incidents_opened_total",
            "Incidents opened, by severity (unknown when no severity label mapped).",
            ["severity"],
            registry=registry,
        )
        self._opened_by_severity: dict[str, Counter] = {}
        # State gauges are read from storage at scrape time (see StateGauges), so every
        # replica reports the same value whichever of them saw the transitions.
        self.incidents_open = Gauge(
            "recorder_incidents_open",
            "Incidents not resolved yet, read from storage (shared by all replicas).",
            registry=registry,
        )
        self.state = StateGauges()
        self.state.add(self.incidents_open, lambda store: store.count_open())
        self.time_to_detect = Histogram(
            "recorder_incident_time_to_detect_seconds",
            "Triggered at minus signal onset, observed when an incident resolves with a "
            "known onset.",
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.time_to_acknowledge = Histogram(
            "recorder_incident_time_to_acknowledge_seconds",
            "Acknowledged at minus triggered at, observed at the first acknowledgment.",
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.time_to_resolve = Histogram(
            "recorder_incident_time_to_resolve_seconds",
            "Resolved at minus triggered at, observed at each resolution.",
            buckets=DURATION_BUCKETS,
            registry=registry,
        )
        self.sampler_queries = Counter(
            "recorder_sampler_queries_total",
            "Prometheus queries made by the sampler, by outcome (ok, error).",
            ["outcome"],
            registry=registry,
        )
        self.sampler_query_duration = Histogram(
            "recorder_sampler_query_duration_seconds",
            "Duration of one Prometheus query made by the sampler.",
            buckets=REQUEST_BUCKETS,
            registry=registry,
        )
        self.silence_polls = Counter(
            "recorder_silence_polls_total",
            "Reads of Alertmanager's silences (while incidents are open), by outcome (ok, "
            "unreachable, invalid, storage_error).",
            ["outcome"],
            registry=registry,
        )
        self.storage_connections = Gauge(
            "recorder_storage_connections",
            "Database connections by state (idle, busy).",
            ["state"],
            registry=registry,
        )
        self.build_info = Gauge(
            "recorder_build_info",
            "Version and storage backend of this recorder; always 1.",
            ["version", "backend"],
            registry=registry,
        )
        self.build_info.labels(version=version, backend=backend).set(1)
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        for outcome in SAMPLER_OUTCOMES:
            self.sampler_queries.labels(outcome=outcome)
        for outcome in SILENCE_POLL_OUTCOMES:
            self.silence_polls.labels(outcome=outcome)
        # Each delivery counts and times itself without a label lookup.
        self.deliveries = {
            source: DeliverySeries(
                source=source,
                family=self.webhooks_received,
                received={
                    outcome: self.webhooks_received.labels(source=source, outcome=outcome)
                    for outcome in OUTCOMES
                },
                duration=self.webhook_duration.labels(source=source),
            )
            for source in SOURCES
        }

    def observe(self, outcome: Outcome) -> None:
        """Count what a decision did: opens, open gauge, time-to-* at transitions."""
        incident = outcome.incident
        if incident is None:
            return
        for transition in outcome.transitions:
            if transition in _CHANGES_OPEN_COUNT:
                self.state.invalidate()
            if transition is Transition.OPENED:
                self._opened(incident.severity or "unknown").inc()
            elif transition is Transition.ACKNOWLEDGED:
                self._observe_span(self.time_to_acknowledge, incident, incident.acknowledged_at)
            elif transition is Transition.RESOLVED:
                self._observe_span(self.time_to_resolve, incident, incident.resolved_at)

    def _opened(self, severity: str) -> Counter:
        """The opened counter of `severity`, looked up once per severity."""
        child = self._opened_by_severity.get(severity)
        if child is None:
            child = self._opened_by_severity[severity] = self.incidents_opened.labels(
                severity=severity
            )
        return child

    @staticmethod
    def _observe_span(histogram: Histogram, incident: Incident, end: datetime | None) -> None:
        if end is not None:
            histogram.observe(max(0.0, (end - incident.started_at).total_seconds()))


class CountingStore(Protocol):
    """What state gauges read: the narrow part of the store they need."""

    async def count_open(self) -> int: ...


Loader = Callable[[CountingStore], Awaitable[float]]


class StateGauges:
    """Gauges of stored state, refreshed from storage when scraped.

    Never counted up and down in one process: with several replicas, a firing reaching
    one and the resolution another would leave +1 on the first and -1 on the second. A
    refresh is reused for `ttl` seconds (scrapes from several Prometheus servers cost one
    query), and this process's own transitions make the next scrape read again. When
    storage cannot be read the gauges keep their last values and the error is raised.
    """

    def __init__(
        self, *, ttl: float = 5.0, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._gauges: list[tuple[Gauge, Loader]] = []
        self._ttl = ttl
        self._monotonic = monotonic
        self._fresh_until: float | None = None
        self._lock = asyncio.Lock()

    def add(self, gauge: Gauge, loader: Loader) -> None:
        """Read `gauge`'s value with `loader(store)` at each refresh."""
        self._gauges.append((gauge, loader))

    def invalidate(self) -> None:
        """The next refresh reads storage, whatever the cache says."""
        self._fresh_until = None

    async def refresh(self, store: CountingStore) -> None:
        """Set every state gauge from storage unless a refresh is still fresh."""
        async with self._lock:
            now = self._monotonic()
            if self._fresh_until is not None and now < self._fresh_until:
                return
            values = [await loader(store) for _, loader in self._gauges]
            for (gauge, _), value in zip(self._gauges, values, strict=True):
                gauge.set(value)
            self._fresh_until = now + self._ttl
