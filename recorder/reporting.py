"""Loading what a report needs from storage and rendering it in the asked-for format."""

from __future__ import annotations

import gc
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import quote

from recorder.core.timeline import full_timeline
from recorder.evidence.figures import Thresholds
from recorder.report import (
    ReportInput,
    SignalTable,
    build_report,
    render_markdown,
    report_to_json,
)
from recorder.report.charts import build_charts
from recorder.report.evidence_figures import (
    build_derived_entries,
    build_incident_evidence,
    build_metric_figures,
    merge_timeline,
)
from recorder.report.html import render_report_html
from recorder.report.model import AffectedService
from recorder.report.svg import unit_of
from recorder.sampling.failures import signal_causes
from recorder.sampling.signals import find_service
from recorder.settings import Settings
from recorder.store.protocol import Store

FORMATS = {
    "markdown": "text/markdown",
    "json": "application/json",
    "html": "text/html",
}
RELATED_LIMIT = 10
TABLE_ROWS = 6
Samples = Mapping[str, Sequence[tuple[datetime, float]]]
# Thresholds needs a positive floor; a configured 0 means "the factor alone", which a
# floor far below any real error rate gives.
_NO_FLOOR = 1e-12


def evidence_thresholds(settings: Settings) -> Thresholds:
    """The configured warning and outage levels, as the evidence maths takes them."""
    t = settings.thresholds
    return Thresholds(
        pool_warning=t.pool_warning,
        error_rate_factor=t.error_rate_factor,
        error_rate_min=max(t.error_rate_min, _NO_FLOOR),
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
    peak = max(range(len(samples)), key=lambda i: samples[i][1])
    picked = {0, len(samples) - 1, at_alert, peak}
    step = (len(samples) - 1) / (limit - 1)
    for k in range(limit):
        if len(picked) >= limit:
            break
        picked.add(round(k * step))
    return [samples[i] for i in sorted(picked)]


async def load_report_input(
    store: Store,
    settings: Settings,
    incident_id: str,
    now: datetime,
    *,
    samples: Samples | None = None,
    base_url: str = "",
) -> ReportInput:
    """Everything the pure report needs: incident, timeline, related and samples
    (pass `samples` when the caller already loaded them)."""
    view = await store.load(incident_id)
    # A resolved incident's figures follow the settings it resolved under.
    settings = settings.with_figure_snapshot(view.incident.figure_settings)
    timeline = full_timeline(await store.load_timeline(incident_id), view.alerts.values())
    related = await store.find_related(view.incident, limit=RELATED_LIMIT)
    if samples is None:
        samples = await store.load_samples(incident_id)
    tables = [
        SignalTable(name, sample_rows(rows, view.incident.started_at), unit_of(name))
        for name, rows in samples.items()
        if rows
    ]
    reason = (
        "no Prometheus configured: set RECORDER_PROMETHEUS_URL"
        if settings.prometheus_url is None
        else "no samples stored for this incident"
    )
    metrics = None
    # Why a signal has no samples: a label its query needs, or its failed queries.
    unsampled = signal_causes(
        await store.load_unsampled(incident_id), await store.load_sampling_failures(incident_id)
    )
    if any(samples.values()) or unsampled:
        incident = view.incident
        evidence = build_incident_evidence(
            samples,
            started_at=incident.started_at,
            resolved_at=incident.resolved_at,
            now=now,
            baseline_window=settings.sampling.baseline_window,
            interval_seconds=settings.sampling.interval.total_seconds(),
            thresholds=evidence_thresholds(settings),
            unsampled=unsampled,
        )
        metrics = build_metric_figures(evidence)
        # Derived entries are recomputed from the samples on every report, never stored.
        timeline = merge_timeline(timeline, build_derived_entries(evidence))
    return ReportInput(
        view=view,
        timeline=timeline,
        related=related,
        slo_target=settings.slo_target,
        now=now,
        metrics=metrics,
        metrics_unknown_reason=reason,
        signal_tables=tables,
        chart_links={t.name: chart_url(incident_id, t.name, base_url) for t in tables},
        sampled_service=_sampled_service(view.incident.labels, settings),
    )


def _sampled_service(labels: Mapping[str, str], settings: Settings) -> AffectedService | None:
    """The service the signals are sampled for, when sampling is configured."""
    if settings.prometheus_url is None:
        return None
    found = find_service(labels, settings.service_labels)
    return None if found is None else AffectedService(found.label, found.value, sampled=True)


@contextmanager
def paused_gc() -> Iterator[None]:
    """Keep the cyclic garbage collector out of one report.

    A large report allocates tens of thousands of short-lived, acyclic objects (timeline
    entries, samples); the collector's passes over them were a third of the time for
    10,000 entries and 24 h of samples. Reference counting still frees them at once.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


async def render_report(
    store: Store,
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
    with paused_gc():
        return await _render(store, settings, incident_id, fmt, now=now, base_url=base_url)


async def _render(
    store: Store,
    settings: Settings,
    incident_id: str,
    fmt: str,
    *,
    now: datetime | None,
    base_url: str,
) -> tuple[str, str]:
    samples = await store.load_samples(incident_id)
    now = now or datetime.now(UTC)
    data = await load_report_input(
        store, settings, incident_id, now, samples=samples, base_url=base_url
    )
    report = build_report(data)
    settings = settings.with_figure_snapshot(data.view.incident.figure_settings)
    if fmt == "json":
        return json.dumps(report_to_json(report), separators=(",", ":")), FORMATS[fmt]
    if fmt == "html":
        charts = build_charts(data.view.incident, samples, settings, now)
        return render_report_html(report, data, charts=charts), FORMATS[fmt]
    return render_markdown(report), FORMATS[fmt]
