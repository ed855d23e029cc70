"""Report data: what `build_report` takes in and the structured report it hands back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from recorder.core.incident import (
    Incident,
    IncidentStatus,
    IncidentView,
    PagerDutyLink,
    TimelineEntry,
    TimelineKind,
)

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class Unknown:
    """A figure the evidence could not give; `reason` is printed as "unknown (reason)"."""

    reason: str


NOT_SAMPLED = Unknown("not sampled")


@dataclass(frozen=True, slots=True)
class Onset:
    """The first sample at which `signal` crossed its warning level."""

    at: datetime
    signal: str


@dataclass(frozen=True, slots=True)
class MetricFigures:
    """Evidence from Prometheus samples, already reduced to the figures the report prints.

    Every figure is either a value or `Unknown(reason)`; nothing is ever guessed.
    Units: rates are fractions (0.05 = 5 %), counts are plain numbers, times are
    timezone-aware UTC datetimes, spans are seconds.

    - `onset`: first warning-level crossing of any signal (pool >= 80 % of max, error
      rate >= 10x baseline and >= 1 %), with the signal's name.
    - `normal_error_rate`: baseline error rate before the first alert;
      `normal_error_rate_method` says how it was computed (e.g. "median over the 1h
      before the first alert").
    - `error_rate_mean`, `error_rate_peak` (+ `error_rate_peak_at`): error rate inside
      the incident.
    - `peak_error_count` (+ `peak_error_count_at`): peak of `error_count`, failed
      requests per minute. `total_failed_requests`: failed requests over the incident.
    - `pool_peak_in_use`, `pool_max` (+ `pool_peak_at`): connection pool peak usage.
      `time_at_pool_max_seconds`: time the pool spent at its maximum.
    - `downtime_seconds`: time the error rate spent above the outage level inside the
      incident; None means no error-rate signal, and the report falls back to the
      incident's duration, marked as such. `downtime_method` describes the rule.
    - `detection_quality`: one plain-text line per signal, e.g. "pool_in_use crossed
      80 % of max 3 minutes before the first alert".
    """

    onset: Onset | Unknown = NOT_SAMPLED
    normal_error_rate: float | Unknown = NOT_SAMPLED
    normal_error_rate_method: str = ""
    error_rate_mean: float | Unknown = NOT_SAMPLED
    error_rate_peak: float | Unknown = NOT_SAMPLED
    error_rate_peak_at: datetime | None = None
    peak_error_count: float | Unknown = NOT_SAMPLED
    peak_error_count_at: datetime | None = None
    total_failed_requests: float | Unknown = NOT_SAMPLED
    pool_peak_in_use: float | Unknown = NOT_SAMPLED
    pool_max: float | Unknown = NOT_SAMPLED
    pool_peak_at: datetime | None = None
    time_at_pool_max_seconds: float | Unknown = NOT_SAMPLED
    downtime_seconds: float | None = None
    downtime_method: str = "time the error rate spent above the 5% outage level"
    detection_quality: Sequence[str] | Unknown = NOT_SAMPLED


@dataclass(frozen=True, slots=True)
class SignalTable:
    """A few samples of one signal, printed as a small table in Metrics."""

    name: str
    rows: Sequence[tuple[datetime, float]]
    unit: str


@dataclass(frozen=True, slots=True)
class ReportInput:
    """Everything a report is built from. `now` stands in for the clock (ongoing incidents).

    `metrics` is None when no evidence exists; `metrics_unknown_reason` then says why
    (e.g. "no Prometheus configured"). `communication` defaults to the timeline's
    STATUS_UPDATE entries. `chart_links` maps a signal name to its chart's URL.
    """

    view: IncidentView
    timeline: Sequence[TimelineEntry]
    related: Sequence[Incident]
    slo_target: float | None
    now: datetime
    metrics: MetricFigures | None
    metrics_unknown_reason: str = "no Prometheus configured"
    signal_tables: Sequence[SignalTable] = ()
    communication: Sequence[TimelineEntry] | None = None
    chart_links: Mapping[str, str] = field(default_factory=dict)
    sampled_service: AffectedService | None = None
    """The service `{{service}}` was filled with, and the label it came from."""

    @property
    def status_updates(self) -> Sequence[TimelineEntry]:
        """The communication entries: given explicitly, else the timeline's status updates."""
        if self.communication is not None:
            return self.communication
        return [e for e in self.timeline if e.kind is TimelineKind.STATUS_UPDATE]


# --------------------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class Instant:
    """A stored instant figures are derived from.

    `source` says what it records in words ("earliest alert startsAt"), `stored_as` where
    it is stored ("incident.started_at"); `at` is None only with an `unknown_reason`.
    """

    name: str
    at: datetime | None
    source: str
    stored_as: str
    unknown_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Figure:
    """One reported figure: value + unit, its plain-text rendering, and its derivation.

    `value` is None exactly when the figure is unknown (`unknown_reason` says why);
    `note` qualifies a known value (e.g. "so far", "incident duration; no error-rate
    signal"); `source` names the instants or signals it came from.
    """

    name: str
    value: float | bool | None
    unit: str
    text: str
    source: str
    unknown_reason: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class HumanText:
    """A section only people can write: their text, or the template prompt to show."""

    field: str
    text: str | None
    prompt: str

    @property
    def filled(self) -> bool:
        return self.text is not None


@dataclass(frozen=True, slots=True)
class AffectedService:
    """A label value that names an affected service (labels service, job, namespace).

    `sampled` marks the service the signals were sampled for: the value that filled
    `{{service}}`, from the first of the configured service labels the incident has.
    """

    label: str
    value: str
    sampled: bool = False


@dataclass(frozen=True, slots=True)
class RelatedIncident:
    """An earlier incident with the same alertname or service."""

    id: str
    title: str
    started_at: datetime
    status: IncidentStatus


@dataclass(frozen=True, slots=True)
class Link:
    """A documentation link gathered from stored data (PagerDuty, runbooks, alert sources)."""

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Report:
    """A filled report, independent of output format. Build with `build_report`.

    `instants` and `figures` are keyed by name in report order; `human` is keyed by the
    HUMAN_FIELDS names. Free text is stored raw: renderers escape it.
    """

    incident_id: str
    title: str
    status: IncidentStatus
    severity: str | None
    opened_by: str
    generated_at: datetime
    ongoing: bool
    instants: Mapping[str, Instant]
    figures: Mapping[str, Figure]
    summary: str
    summary_is_draft: bool
    services_affected: Sequence[AffectedService]
    alert_names: Sequence[str]
    alert_summaries: Sequence[str]
    detected_by_alert: bool
    acknowledged_by: str | None
    resolved_by: str | None
    detection_quality: Sequence[str]
    detection_quality_unknown: str | None
    timeline: Sequence[TimelineEntry]
    immediate_actions: Sequence[TimelineEntry]
    status_updates: Sequence[TimelineEntry]
    human: Mapping[str, HumanText]
    related: Sequence[RelatedIncident]
    links: Sequence[Link]
    pagerduty: PagerDutyLink | None
    signal_tables: Sequence[SignalTable]
    chart_links: Mapping[str, str]
    # Acks and notes beyond the first IMMEDIATE_ACTIONS_SHOWN are only in the Timeline.
    immediate_actions_more: int = 0
