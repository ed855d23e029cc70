"""Charts of an incident's stored samples: one SVG per changing signal, with the warning
level the figures computed (pure: data in, markup out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from recorder.core.incident import Incident
from recorder.evidence.figures import Evidence
from recorder.report.model import ReportInput
from recorder.report.svg import HEIGHT, WIDTH, incident_chart, render_svg

Samples = Mapping[str, Sequence[tuple[datetime, float]]]


def build_chart(
    incident: Incident,
    signal: str,
    samples: Samples,
    evidence: Evidence | None,
    now: datetime,
    *,
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> str:
    """The SVG of one stored signal over the incident (and its recovery tail, when
    sampled), with the baseline band and the evidence's warning level, laid out for
    `size` (width, height) in px: a narrower one keeps its text legible where the page
    shows charts side by side or on a phone."""
    baseline = evidence.baseline_start if evidence is not None else None
    window = incident.started_at - baseline if baseline is not None else timedelta(0)
    chart = incident_chart(
        incident, signal, samples, baseline_window=window, now=now, evidence=evidence
    )
    return render_svg(chart, width=size[0], height=size[1])


def build_charts(
    data: ReportInput, samples: Samples, *, size: tuple[int, int] = (WIDTH, HEIGHT)
) -> dict[str, str]:
    """One SVG per charted signal of the report (constant series read as one line
    instead), in the store's signal order."""
    incident = data.view.incident
    return {
        signal: build_chart(incident, signal, samples, data.metrics, data.now, size=size)
        for signal in samples
        if signal in data.chart_links
    }
