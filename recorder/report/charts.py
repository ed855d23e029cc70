"""Charts of an incident's stored samples: one SVG per signal, with the warning level."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from recorder.core.incident import Incident
from recorder.report.svg import HEIGHT, WIDTH, WarningLevels, incident_chart, render_svg
from recorder.settings import Settings

Samples = Mapping[str, Sequence[tuple[datetime, float]]]


def warning_levels(settings: Settings) -> WarningLevels:
    """The configured warning levels, as the chart renderer takes them."""
    t = settings.thresholds
    return WarningLevels(
        pool_ratio=t.pool_warning, error_factor=t.error_rate_factor, error_floor=t.error_rate_min
    )


def build_chart(
    incident: Incident,
    signal: str,
    samples: Samples,
    settings: Settings,
    now: datetime,
    *,
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> str:
    """The SVG of one stored signal over the incident, with the configured warning level,
    laid out for `size` (width, height) in px: a narrower one keeps its text legible
    where the page shows charts side by side or on a phone."""
    chart = incident_chart(
        incident,
        signal,
        samples,
        baseline_window=settings.sampling.baseline_window,
        now=now,
        levels=warning_levels(settings),
    )
    return render_svg(chart, width=size[0], height=size[1])


def build_charts(
    incident: Incident,
    samples: Samples,
    settings: Settings,
    now: datetime,
    *,
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> dict[str, str]:
    """One SVG per stored signal, in the store's signal order."""
    return {
        signal: build_chart(incident, signal, samples, settings, now, size=size)
        for signal in samples
    }
