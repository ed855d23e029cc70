"""The recorder's own Prometheus metrics, on an injected registry."""

from __future__ import annotations

from datetime import datetime

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
        self.incidents_open = Gauge(
            "recorder_incidents_open", "Incidents not resolved yet.", registry=registry
        )
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
        for source in SOURCES:
            self.webhook_duration.labels(source=source)
            for outcome in OUTCOMES:
                self.webhooks_received.labels(source=source, outcome=outcome)

    def observe(self, outcome: Outcome) -> None:
        """Count what a decision did: opens, open gauge, time-to-* at transitions."""
        incident = outcome.incident
        if incident is None:
            return
        for transition in outcome.transitions:
            if transition is Transition.OPENED:
                self.incidents_opened.labels(severity=incident.severity or "unknown").inc()
                self.incidents_open.inc()
            elif transition is Transition.REOPENED:
                self.incidents_open.inc()
            elif transition is Transition.ACKNOWLEDGED:
                self._observe_span(self.time_to_acknowledge, incident, incident.acknowledged_at)
            elif transition is Transition.RESOLVED:
                self._observe_span(self.time_to_resolve, incident, incident.resolved_at)
                self.incidents_open.dec()

    @staticmethod
    def _observe_span(histogram: Histogram, incident: Incident, end: datetime | None) -> None:
        if end is not None:
            histogram.observe(max(0.0, (end - incident.started_at).total_seconds()))
