"""Report data: what `build_report` takes in and the structured report it hands back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from recorder.core.incident import (
    Incident,
    IncidentStatus,
    IncidentView,
    PagerDutyLink,
    TimelineEntry,
    TimelineKind,
)
from recorder.evidence.figures import Evidence
from recorder.evidence.model import DetectionNote, Figure
from recorder.evidence.wording import in_unit

if TYPE_CHECKING:
    from recorder.report.text import ReportText

# --------------------------------------------------------------------------- inputs


@dataclass(frozen=True, slots=True)
class SignalTable:
    """A few samples of one signal, printed as a small table in Metrics, or one line when
    the signal never changed (`constant`: "pool_max 100 connections throughout")."""

    name: str
    rows: Sequence[tuple[datetime, float]]
    unit: str
    constant: float | None = None

    def cell(self, value: float) -> str:
        """One sample as the table prints it: in the signal's unit (percent for error_rate)."""
        return in_unit(value, self.unit)

    @property
    def summary(self) -> str | None:
        """The one line a constant series reads as: `pool_max: 100 connections throughout`."""
        if self.constant is None:
            return None
        return f"{self.name}: {in_unit(self.constant, self.unit)} throughout"


@dataclass(frozen=True, slots=True)
class ReportInput:
    """Everything a report is built from. `now` stands in for the clock (ongoing incidents).

    `metrics` is the evidence (recorder.evidence.figures.build_evidence, whose figures the
    report prints as they are), or None when no evidence exists; `metrics_unknown_reason`
    then says why (e.g. "no Prometheus configured"). Causes of missing signals (no such
    signal configured, missing label, Prometheus unreachable, no series) reach the
    evidence through its `unsampled` mapping. `slo_target` and `severity_map` are what
    shaped the figures: the configured ones, or a resolved incident's frozen copy.
    What each alert said at firing and at resolution comes with the alerts themselves
    (AlertState.firing_text / resolution_text). `communication` defaults to the
    timeline's STATUS_UPDATE entries.
    `chart_links` maps a signal name to its chart's URL.
    """

    view: IncidentView
    timeline: Sequence[TimelineEntry]
    related: Sequence[Incident]
    slo_target: float | None
    now: datetime
    metrics: Evidence | None
    metrics_unknown_reason: str = "no Prometheus configured"
    signal_tables: Sequence[SignalTable] = ()
    communication: Sequence[TimelineEntry] | None = None
    chart_links: Mapping[str, str] = field(default_factory=dict)
    severity_map: Mapping[str, str] = field(default_factory=dict)
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
    detection_notes: Sequence[DetectionNote]
    timeline: Sequence[TimelineEntry]
    immediate_actions: Sequence[TimelineEntry]
    status_updates: Sequence[TimelineEntry]
    human: Mapping[str, HumanText]
    related: Sequence[RelatedIncident]
    links: Sequence[Link]
    pagerduty: PagerDutyLink | None
    signal_tables: Sequence[SignalTable]
    chart_links: Mapping[str, str]
    text: ReportText
    # Acks and notes beyond the first IMMEDIATE_ACTIONS_SHOWN are only in the Timeline.
    immediate_actions_more: int = 0
