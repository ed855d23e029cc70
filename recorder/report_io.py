"""Loading what a report needs from storage and rendering it in the asked-for format.

The shell of the report: it reads the store and the settings, builds the pure report's
input (recorder.report.ReportInput) and renders it. Nothing here imports recorder.web.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from operator import itemgetter
from typing import Protocol
from urllib.parse import quote

from recorder.core.incident import AlertState, IncidentView, TimelineEntry
from recorder.core.timeline import alert_entries
from recorder.evidence.figures import Evidence
from recorder.evidence.incident import (
    ENTRY_AT,
    build_derived_entries,
    build_incident_evidence,
    merge_timeline,
)
from recorder.evidence.model import Thresholds
from recorder.evidence.units import unit_of
from recorder.prometheus.failures import signal_causes
from recorder.prometheus.signals import find_service
from recorder.report import (
    ReportInput,
    SignalTable,
    build_report,
    render_markdown,
    report_json_text,
)
from recorder.report.charts import build_chart, build_charts
from recorder.report.html import render_report_html
from recorder.report.model import AffectedService
from recorder.settings import Settings
from recorder.store.protocol import IncidentReads, SampleReads

FORMATS = {
    "markdown": "text/markdown",
    "json": "application/json",
    "html": "text/html",
}
RELATED_LIMIT = 10


class ReportStore(IncidentReads, SampleReads, Protocol):
    """What a report reads from storage: the incident, its timeline and related
    incidents, and what was (or could not be) sampled for it."""


TABLE_ROWS = 6
Samples = Mapping[str, Sequence[tuple[datetime, float]]]
NO_PROMETHEUS = "no Prometheus configured: set RECORDER_PROMETHEUS_URL"


def evidence_thresholds(settings: Settings) -> Thresholds:
    """The configured warning and outage levels: the one threshold value the figures,
    the detection lines and the charts all use."""
    t = settings.thresholds
    return Thresholds(
        pool_warning=t.pool_warning,
        error_rate_factor=t.error_rate_factor,
        error_rate_min=t.error_rate_min,
        outage_error_rate=t.outage_error_rate,
    )


class UnknownFormat(ValueError):
    """A report format other than markdown, json or html."""

    def __init__(self, fmt: str) -> None:
        super().__init__(f"unknown report format {fmt!r}: use markdown, json or html")
        self.format = fmt


def chart_url(incident_id: str, signal: str, base_url: str = "") -> str:
    """Where the chart of one signal is served (GET …/charts/{signal}.svg).

    With `base_url` the link is absolute, so a report pasted into a postmortem repository
    still shows its charts in any Markdown viewer.
    """
    path = f"/api/v1/incidents/{quote(incident_id, safe='')}/charts/{quote(signal, safe='')}.svg"
    return base_url.rstrip("/") + path


def sample_rows(
    samples: Sequence[tuple[datetime, float]], started_at: datetime, limit: int = TABLE_ROWS
) -> list[tuple[datetime, float]]:
    """A few telling samples: first, last, the one at the first alert, the peak, and
    evenly spaced others up to `limit`, in time order."""
    if len(samples) <= limit:
        return list(samples)
    at_alert = next((i for i, (at, _) in enumerate(samples) if at >= started_at), 0)
    values = list(map(itemgetter(1), samples))
    peak = values.index(max(values))  # the first index holding the maximum, as max() meets it
    picked = {0, len(samples) - 1, at_alert, peak}
    step = (len(samples) - 1) / (limit - 1)
    for k in range(limit):
        if len(picked) >= limit:
            break
        picked.add(round(k * step))
    return [samples[i] for i in sorted(picked)]


def constant_value(samples: Sequence[tuple[datetime, float]]) -> float | None:
    """The one value of a series that never changed (every sample finite and equal)."""
    if len(samples) < 2:
        return None
    first = samples[0][1]
    if not math.isfinite(first) or any(value != first for _, value in samples):
        return None
    return first


def signal_table(
    name: str, rows: Sequence[tuple[datetime, float]], started_at: datetime
) -> SignalTable:
    """A few samples of one signal in its unit, or its one value when it never changed."""
    constant = constant_value(rows)
    if constant is not None:
        return SignalTable(name, (), unit_of(name), constant=constant)
    return SignalTable(name, sample_rows(rows, started_at), unit_of(name))


def build_evidence_for(
    view: IncidentView,
    settings: Settings,
    samples: Samples,
    unsampled: Mapping[str, str],
    now: datetime,
) -> Evidence | None:
    """The incident's evidence, or None when there is none to be had (no Prometheus and
    nothing stored). `unsampled` maps a signal to the cause it has no samples; the storage
    side records those causes (missing label, Prometheus unreachable, no series)."""
    if settings.prometheus_url is None and not any(samples.values()) and not unsampled:
        return None
    incident = view.incident
    return build_incident_evidence(
        samples,
        started_at=incident.started_at,
        resolved_at=incident.resolved_at,
        now=now,
        baseline_window=settings.sampling.baseline_window,
        interval_seconds=settings.sampling.interval.total_seconds(),
        thresholds=evidence_thresholds(settings),
        unsampled=unsampled,
        configured=[signal.name for signal in settings.effective_signals()],
    )


async def load_report_input(
    store: ReportStore,
    settings: Settings,
    incident_id: str,
    now: datetime,
    *,
    samples: Samples | None = None,
    base_url: str = "",
) -> ReportInput:
    """Everything the pure report needs: incident, timeline, related, samples and the
    evidence built from them (pass `samples` when the caller already loaded them)."""
    view = await store.load(incident_id)
    # A resolved incident's figures follow the settings it resolved under.
    settings = settings.with_figure_snapshot(view.incident.figure_settings)
    timeline = report_timeline(await store.load_timeline(incident_id), view.alerts.values())
    related = await store.find_related(view.incident, limit=RELATED_LIMIT)
    if samples is None:
        samples = await store.load_samples(incident_id)
    started = view.incident.started_at
    tables = [signal_table(name, rows, started) for name, rows in samples.items() if rows]
    unsampled = await load_signal_causes(store, incident_id)
    evidence = build_evidence_for(view, settings, samples, unsampled, now)
    if evidence is not None:
        # Derived entries are recomputed from the samples on every report, never stored.
        timeline = merge_timeline(timeline, build_derived_entries(evidence))
    return ReportInput(
        view=view,
        timeline=timeline,
        related=related,
        slo_target=settings.slo_target,
        now=now,
        metrics=evidence,
        metrics_unknown_reason=NO_PROMETHEUS,
        signal_tables=tables,
        chart_links={
            t.name: chart_url(incident_id, t.name, base_url) for t in tables if t.constant is None
        },
        severity_map=settings.severity,
        sampled_service=_sampled_service(view.incident.labels, settings),
    )


def report_timeline(
    stored: Sequence[TimelineEntry], alerts: Iterable[AlertState]
) -> list[TimelineEntry]:
    """`recorder.core.timeline.full_timeline` for a long timeline: alert entries first,
    then stored ones, put in time order by one stable sort on the time alone, so at the
    same instant alert entries still come first and each side keeps its own order. The
    stored side comes in time order already, so the sort costs little more than a merge."""
    return sorted([*alert_entries(alerts), *stored], key=ENTRY_AT)


def _sampled_service(labels: Mapping[str, str], settings: Settings) -> AffectedService | None:
    """The service the signals are sampled for, when sampling is configured."""
    if settings.prometheus_url is None:
        return None
    found = find_service(labels, settings.service_labels)
    return None if found is None else AffectedService(found.label, found.value, sampled=True)


async def load_signal_causes(store: ReportStore, incident_id: str) -> dict[str, str]:
    """Why each signal without samples has none: a label its query needs, or its failed
    queries (Prometheus unreachable, no series, ...), as the report states it."""
    return signal_causes(
        await store.load_unsampled(incident_id), await store.load_sampling_failures(incident_id)
    )


async def render_chart(
    store: ReportStore, settings: Settings, incident_id: str, signal: str, now: datetime
) -> str | None:
    """The SVG of one stored signal with the figures' warning level; None when the
    incident has no samples of `signal`."""
    view = await store.load(incident_id)
    # A resolved incident's chart draws the levels it resolved under, as its figures do.
    settings = settings.with_figure_snapshot(view.incident.figure_settings)
    samples = await store.load_samples(incident_id)
    if signal not in samples:
        return None
    unsampled = await load_signal_causes(store, incident_id)
    evidence = build_evidence_for(view, settings, samples, unsampled, now)
    return build_chart(view.incident, signal, samples, evidence, now)


async def render_report(
    store: ReportStore,
    settings: Settings,
    incident_id: str,
    fmt: str = "markdown",
    now: datetime | None = None,
    *,
    base_url: str = "",
) -> tuple[str, str]:
    """The report as text plus its content type; `base_url` makes chart links absolute."""
    if fmt not in FORMATS:
        raise UnknownFormat(fmt)
    samples = await store.load_samples(incident_id)
    now = now or datetime.now(UTC)
    data = await load_report_input(
        store, settings, incident_id, now, samples=samples, base_url=base_url
    )
    report = build_report(data)
    if fmt == "json":
        return report_json_text(report), FORMATS[fmt]
    if fmt == "html":
        charts = build_charts(data, samples)
        return render_report_html(report, data, charts=charts), FORMATS[fmt]
    return render_markdown(report), FORMATS[fmt]
