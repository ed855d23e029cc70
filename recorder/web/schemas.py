"""The JSON shapes the HTTP API answers with, as pydantic models: the source of the OpenAPI
schemas. `serialize.py` builds these shapes; tests validate real responses against the
generated schemas, so the two cannot drift apart."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Status = Literal["investigating", "mitigating", "resolved"]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow")


class Problem(_Shape):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str


class WebhookResult(_Shape):
    """What a webhook delivery became, and the incidents it touched."""

    status: Literal["stored", "duplicate", "ignored"]
    incidents: list[str]


class PagerDutyRef(_Shape):
    """The PagerDuty incident linked to a recorder incident."""

    id: str
    html_url: str | None
    incident_key: str | None


class IncidentSummary(_Shape):
    """An incident as listed: no alerts, timeline or signals."""

    id: str
    title: str
    status: Status
    severity: str | None
    correlation_key: str
    labels: dict[str, str]
    started_at: datetime
    detected_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    opened_by: str | None = None
    reopen_count: int = 0
    updated_at: datetime | None = None
    pagerduty: PagerDutyRef | None


class Alert(_Shape):
    """One distinct alert (fingerprint + starts_at) with its current status."""

    fingerprint: str
    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None
    generator_url: str | None = None
    value_text: str = Field(
        "", description='the evaluated values when it fired, e.g. "B=44.2394, C=1" (Grafana)'
    )
    links: dict[str, str] = Field(
        default_factory=dict,
        description="pages about the alert by kind: dashboard, panel, image, silence",
    )


class TimelineEntry(_Shape):
    """One timeline entry; `derived` entries come from alert states, not from storage."""

    at: datetime
    event: str
    action: str = ""
    by: str
    source: str
    kind: str | None = None
    derived: bool = False


class Incident(IncidentSummary):
    """One incident with its alerts, timeline, signal summaries and human fields."""

    alerts: list[Alert]
    timeline: list[TimelineEntry]
    signals: dict[str, dict[str, Any]]
    human: dict[str, str | None]


class IncidentPage(_Shape):
    """A page of incidents, newest first; `next_cursor` continues the listing."""

    incidents: list[IncidentSummary]
    next_cursor: str | None


class SignalSamples(_Shape):
    """One signal's stored samples as [RFC 3339 time, value or null] pairs."""

    samples: list[tuple[datetime, float | None]]
    unsampled_reason: str | None


class Samples(_Shape):
    """Every stored sample of an incident, per signal."""

    incident_id: str
    interval_seconds: float
    signals: dict[str, SignalSamples]


class Health(_Shape):
    """Liveness or readiness."""

    status: str
    backend: str | None = Field(default=None, description="storage backend (readiness only)")
