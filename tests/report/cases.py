"""Report inputs for the golden cases and small builders for figure tests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from recorder.core.events import AlertStatus
from recorder.core.incident import (
    AlertState,
    Incident,
    IncidentStatus,
    IncidentView,
    PagerDutyLink,
    TimelineEntry,
    TimelineKind,
)
from recorder.evidence.figures import Evidence, build_evidence
from recorder.evidence.model import Thresholds
from recorder.evidence.series import Sample
from recorder.report import ReportInput, SignalTable

T0 = datetime(2025, 10, 26, 14, 0, 0, tzinfo=UTC)

POOL_LABELS: Mapping[str, str] = {
    "alertname": "DatabaseConnectionPoolExhausted",
    "namespace": "prod",
    "service": "payment-service",
    "severity": "critical",
}


def at(minutes: float, base: datetime = T0) -> datetime:
    """An instant `minutes` after `base` (14:00:00 UTC on 2025-10-26 by default)."""
    return base + timedelta(minutes=minutes)


def alert(
    labels: Mapping[str, str],
    starts_at: datetime,
    *,
    ends_at: datetime | None = None,
    annotations: Mapping[str, str] | None = None,
    fingerprint: str = "78fcb9cb1710e078",
    generator_url: str = "",
) -> AlertState:
    """One alert state as the lifecycle stores it."""
    return AlertState(
        fingerprint=fingerprint,
        starts_at=starts_at,
        status=AlertStatus.FIRING if ends_at is None else AlertStatus.RESOLVED,
        ends_at=ends_at,
        labels=labels,
        annotations=annotations or {},
        generator_url=generator_url,
        received_at=starts_at,
        updated_at=ends_at or starts_at,
    )


def incident(**overrides: Any) -> Incident:
    """A resolved-by-default Alertmanager incident; override any field."""
    fields: dict[str, Any] = {
        "id": "inc-0001",
        "correlation_key": "alertname=DatabaseConnectionPoolExhausted,service=payment-service",
        "group_key": '{}:{alertname="DatabaseConnectionPoolExhausted"}',
        "title": "Database connection pool exhausted",
        "status": IncidentStatus.RESOLVED,
        "severity": "SEV1",
        "labels": POOL_LABELS,
        "started_at": T0,
        "detected_at": at(0.5),
        "updated_at": at(30),
        "opened_by": "Alertmanager",
        "resolved_at": at(30),
        "resolved_by": "Alertmanager",
    }
    fields.update(overrides)
    return Incident(**fields)


def entry(
    when: datetime,
    event: str,
    action: str,
    by: str,
    kind: TimelineKind,
    *,
    source: str = "Recorder",
    derived: bool = False,
) -> TimelineEntry:
    """One timeline entry."""
    return TimelineEntry(when, event, action, by, source, kind, derived)


SEVERITY_MAP: Mapping[str, str] = {"critical": "SEV1", "error": "SEV2", "warning": "SEV3"}


def series(values: Mapping[float, float], start: float, stop: float) -> list[Sample]:
    """Samples every 15 s from minute `start` to `stop`: each takes the value of the
    latest key of `values` (minutes) at or before it."""
    keys = sorted(values)
    out = []
    seconds = int(start * 60)
    while seconds <= stop * 60:
        minute = seconds / 60
        key = max((k for k in keys if k <= minute), default=keys[0])
        out.append(Sample(at(minute), values[key]))
        seconds += 15
    return out


def pool_outage_evidence(
    end: float = 30, unsampled: Mapping[str, str] | None = None, **kwargs: Any
) -> Evidence:
    """Evidence of the golden pool outage, from samples every 15 s (-60 to +40 minutes):
    the pool crosses 80 % at -3 min and is full from -2.75 to +14; errors run at 100 %
    (10,000/minute) from +4 to +16 minutes."""
    samples = {
        "error_rate": series({-60: 0.001, 4: 1.0, 16: 0.0012}, -60, 40),
        "error_count": series({-60: 0.0, 4: 10000.0, 16: 12.0}, -60, 40),
        "pool_in_use": series({-60: 20.0, -3: 82.0, -2.75: 100.0, 14: 64.0, 20: 20.0}, -60, 40),
        "pool_max": series({-60: 100.0}, -60, 40),
    }
    return build_evidence(
        {k: v for k, v in samples.items() if k not in (unsampled or {})},
        baseline_end=T0,
        incident_start=T0,
        incident_end=at(end),
        triggered_at=T0,
        thresholds=Thresholds(),
        unsampled=unsampled,
        baseline_start=at(-60),
        sample_interval_seconds=15,
        summarize=False,
        **kwargs,
    )


def report_input(
    inc: Incident,
    alerts: Sequence[AlertState] = (),
    timeline: Sequence[TimelineEntry] = (),
    **overrides: Any,
) -> ReportInput:
    """A ReportInput around `inc` with no evidence unless overridden."""
    fields: dict[str, Any] = {
        "view": IncidentView(inc, {a.key: a for a in alerts}),
        "timeline": timeline,
        "related": (),
        "slo_target": 0.999,
        "now": at(120, inc.started_at),
        "metrics": None,
        "metrics_unknown_reason": "no Prometheus configured",
        "severity_map": SEVERITY_MAP,
    }
    fields.update(overrides)
    return ReportInput(**fields)


# --------------------------------------------------------------------------- golden cases


def resolved_with_metrics() -> ReportInput:
    """(a) Alertmanager incident acknowledged in PagerDuty, resolved, with Prometheus evidence."""
    inc = incident(
        acknowledged_at=at(2),
        acknowledged_by="PagerDuty (Jane Doe)",
        pagerduty=PagerDutyLink(
            "Q1P2Z3X4", "https://example.pagerduty.com/incidents/Q1P2Z3X4", "9f2c…"
        ),
    )
    pool_alert = alert(
        POOL_LABELS,
        T0,
        ends_at=at(30),
        annotations={
            "summary": "Pool at 100/100 connections",
            "runbook_url": "https://runbooks.example.com/db/connection-pool-exhausted",
        },
        generator_url="http://prometheus:9090/graph?g0.expr=db_pool%3E0.9&g0.tab=1",
    )
    by_jane = "PagerDuty (Jane Doe)"
    timeline = (
        entry(
            at(-3),
            "pool_in_use crossed 80% of pool_max (82/100)",
            "Warning level reached",
            "Recorder",
            TimelineKind.DERIVED,
            derived=True,
        ),
        entry(
            T0,
            "First alert: DatabaseConnectionPoolExhausted",
            "Alert triggered",
            "Monitoring",
            TimelineKind.ALERT_FIRING,
            source="Alertmanager",
        ),
        entry(
            at(0.5),
            "Incident opened",
            "Recorded first notification",
            "Recorder",
            TimelineKind.OPENED,
        ),
        entry(
            at(2),
            "On-call engineer paged",
            "Acknowledged alert",
            by_jane,
            TimelineKind.ACKNOWLEDGED,
            source="PagerDuty",
        ),
        entry(
            at(5),
            "Confirmed database connections at max (100/100)",
            "Checked pg_stat_activity",
            by_jane,
            TimelineKind.NOTE,
            source="PagerDuty",
        ),
        entry(
            at(10),
            "Investigating: elevated API errors, team engaged",
            "Status update published",
            by_jane,
            TimelineKind.STATUS_UPDATE,
            source="PagerDuty",
        ),
        entry(
            at(15),
            "Restarted payment service",
            "systemctl restart payment",
            "Jane Doe",
            TimelineKind.MANUAL,
            source="API",
        ),
        entry(
            at(30),
            "Alert resolved: DatabaseConnectionPoolExhausted",
            "Alert cleared",
            "Monitoring",
            TimelineKind.ALERT_RESOLVED,
            source="Alertmanager",
        ),
        entry(
            at(30),
            "Incident resolved",
            "All alerts resolved",
            "Alertmanager",
            TimelineKind.RESOLVED,
            source="Alertmanager",
        ),
    )
    metrics = pool_outage_evidence()
    tables = (
        SignalTable(
            "pool_in_use", [(at(-3), 82), (at(0), 100), (at(15), 64), (at(30), 20)], "connections"
        ),
        SignalTable("error_rate", [(at(-3), 0.001), (at(6), 1.0), (at(30), 0.0012)], "fraction"),
        SignalTable("pool_max", (), "connections", constant=100.0),
    )
    charts = {
        name: f"/api/v1/incidents/{inc.id}/charts/{name}.svg"
        for name in ("error_rate", "pool_in_use")
    }
    return report_input(
        inc,
        [pool_alert],
        timeline,
        metrics=metrics,
        signal_tables=tables,
        chart_links=charts,
        now=datetime(2025, 10, 26, 16, 0, tzinfo=UTC),
    )


def ongoing_without_metrics() -> ReportInput:
    """(b) Ongoing, unacknowledged incident with no Prometheus and no SLO: unknown everywhere."""
    start = datetime(2025, 10, 27, 9, 15, 0, tzinfo=UTC)
    labels = {"alertname": "CheckoutLatencyHigh", "job": "checkout", "severity": "warning"}
    inc = incident(
        id="inc-0002",
        correlation_key="alertname=CheckoutLatencyHigh",
        group_key='{}:{alertname="CheckoutLatencyHigh"}',
        title="Checkout latency high",
        status=IncidentStatus.INVESTIGATING,
        severity=None,
        labels=labels,
        started_at=start,
        detected_at=start + timedelta(seconds=30),
        updated_at=start + timedelta(seconds=30),
        resolved_at=None,
        resolved_by=None,
    )
    timeline = (
        entry(
            start,
            "First alert: CheckoutLatencyHigh",
            "Alert triggered",
            "Monitoring",
            TimelineKind.ALERT_FIRING,
            source="Alertmanager",
        ),
        entry(
            start + timedelta(seconds=30),
            "Incident opened",
            "Recorded first notification",
            "Recorder",
            TimelineKind.OPENED,
        ),
    )
    return report_input(
        inc,
        [alert(labels, start, fingerprint="a1b2c3d4e5f60718")],
        timeline,
        slo_target=None,
        now=start + timedelta(minutes=27, seconds=10),
    )


HUMAN_FILLED: Mapping[str, str] = {
    "summary": (
        "On 2025-11-03 the login service rejected most sign-ins for 50 minutes after an"
        " expired signing certificate. Resolved by rotating the certificate."
    ),
    "users_affected": "- **Scope**: All users\n- **Count**: ~12,000 users\n- **Duration**: 00:50",
    "business_impact": "- **Revenue Lost**: none measured\n- **Customer Complaints**: 41 tickets",
    "root_cause": (
        "**What broke**: token signing failed.\n\n**Why it broke**: the certificate expired."
    ),
    "immediate_actions": "1. ✅ Rotated the signing certificate (10:40)",
    "what_worked_well": "- Alert fired within a minute",
    "what_could_be_improved": "- No alert on certificate expiry",
    "short_term_fix": "- Rotated the certificate by hand",
    "long_term_fix": "- [ ] Automate certificate rotation (PRIORITY 1)",
    "internal_communication": "- **Incident channel**: #incident-20251103-auth",
    "external_communication": "- **Status page**: Updated at 10:05, 10:45",
    "action_items": (
        "| # | Action | Owner | Priority | Due Date | Status |\n"
        "|---|--------|-------|----------|----------|--------|\n"
        "| 1 | Automate certificate rotation | SRE (Ana) | P1 | 2025-11-10 | Pending |"
    ),
    "lessons_went_well": "- ✅ Fast detection",
    "lessons_went_wrong": "- ❌ Expiry was not monitored <script>alert(1)</script>",
    "lessons_prevent_recurrence": "1. **Monitoring**: alert 14 days before certificate expiry",
    "related_documentation": "- Runbook: [Certificate rotation](https://wiki.example.com/cert)",
    "commands_run": (
        "```bash\n# Check the certificate\nopenssl x509 -enddate -noout -in auth.pem\n```"
    ),
    "report_created_by": "Ana (SRE)",
    "review_status": "Reviewed",
    "reviewed_by": "Sam, 2025-11-05",
}


def resolved_with_human_fields() -> ReportInput:
    """(c) PagerDuty-opened incident, resolved, with related incidents and every human field."""
    start = datetime(2025, 11, 3, 9, 55, 0, tzinfo=UTC)
    inc = incident(
        id="inc-0003",
        correlation_key="pagerduty:PABC123",
        group_key="",
        title="Login failures",
        severity="SEV2",
        labels={"service": "auth"},
        started_at=start,
        detected_at=start + timedelta(seconds=4),
        updated_at=start + timedelta(minutes=50),
        opened_by="PagerDuty",
        acknowledged_at=start + timedelta(minutes=3),
        acknowledged_by="PagerDuty (Ana Lima)",
        resolved_at=start + timedelta(minutes=50),
        resolved_by="PagerDuty (Ana Lima)",
        human=HUMAN_FILLED,
        pagerduty=PagerDutyLink("PABC123", "https://example.pagerduty.com/incidents/PABC123", None),
    )
    timeline = (
        entry(
            start,
            "PagerDuty incident triggered: Login failures",
            "Incident created",
            "PagerDuty",
            TimelineKind.OPENED,
            source="PagerDuty",
        ),
        entry(
            start + timedelta(minutes=3),
            "Acknowledged",
            "Acknowledged incident",
            "PagerDuty (Ana Lima)",
            TimelineKind.ACKNOWLEDGED,
            source="PagerDuty",
        ),
        entry(
            start + timedelta(minutes=50),
            "Incident resolved",
            "Resolved in PagerDuty",
            "PagerDuty (Ana Lima)",
            TimelineKind.RESOLVED,
            source="PagerDuty",
        ),
    )
    related = (
        replace(
            incident(id="inc-0000", title="Login failures after deploy"),
            started_at=datetime(2025, 9, 15, 8, 0, tzinfo=UTC),
        ),
        replace(
            incident(id="inc-0001", title="Auth latency high"),
            started_at=datetime(2025, 8, 10, 22, 30, tzinfo=UTC),
        ),
    )
    cause = "the incident's common labels have no value for label 'service'"
    metrics = build_evidence(
        {},
        baseline_end=start,
        incident_start=start,
        incident_end=start + timedelta(minutes=50),
        triggered_at=start,
        unsampled={"error_rate": cause, "error_count": cause, "pool_in_use": cause},
        configured=("error_rate", "error_count", "pool_in_use"),
        baseline_start=start - timedelta(hours=1),
        sample_interval_seconds=15,
        summarize=False,
    )
    return report_input(
        inc,
        (),
        timeline,
        related=related,
        metrics=metrics,
        now=datetime(2025, 11, 5, 12, 0, tzinfo=UTC),
    )


GOLDEN_CASES = {
    "resolved_with_metrics": resolved_with_metrics,
    "ongoing_without_metrics": ongoing_without_metrics,
    "resolved_with_human_fields": resolved_with_human_fields,
}
