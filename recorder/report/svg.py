"""SVG line charts of one sampled signal over an incident (pure: data in, markup out).

The markup uses presentation attributes only (no `style` attributes, no `<style>`), so a
chart renders unchanged inline in a page under `style-src 'self'` and as a standalone
`image/svg+xml` document under `default-src 'none'`. Every piece of text is escaped.
"""

from __future__ import annotations

import math
import operator
import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

from recorder.core.incident import Incident
from recorder.evidence.figures import Evidence
from recorder.evidence.units import ERROR_RATE, FRACTION, POOL_IN_USE, POOL_MAX, unit_of
from recorder.evidence.wording import number, percent

GAP_FACTOR = 2.5
"""A spacing above this many median spacings breaks the line: the samples are missing."""

Samples = Sequence[tuple[datetime, float]]
_TIME = operator.itemgetter(0)
_VALUE = operator.itemgetter(1)


WIDTH, HEIGHT = 720, 260
_LEFT, _RIGHT, _TOP, _BOTTOM = 72, 20, 34, 44
_LABEL_CHAR_WIDTH = 6  # px per character of a 10 px label, generously
_TICK_STEPS = tuple(
    timedelta(seconds=s)
    for s in (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
)
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")

SERIES_COLOR = "#1d4ed8"
BASELINE_FILL = "#e0e7ff"
THRESHOLD_COLOR = "#c2410c"
MARKER_COLOR = "#475569"
GRID_COLOR = "#e5e7eb"
TEXT_COLOR = "#334155"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"


@dataclass(frozen=True, slots=True)
class Marker:
    """A labelled instant drawn as a vertical line (first alert, ack, resolve)."""

    label: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Chart:
    """What one chart shows. Times are timezone-aware; `unit` "fraction" prints as percent.

    `baseline` is the (start, end) of the shaded baseline band, `threshold` the value of
    the dashed warning line with its `threshold_label`; either may be None.
    """

    signal: str
    unit: str
    samples: Samples
    start: datetime
    end: datetime
    baseline: tuple[datetime, datetime] | None = None
    threshold: float | None = None
    threshold_label: str = "warning level"
    markers: Sequence[Marker] = ()


def split_at_gaps(
    samples: Samples, factor: float = GAP_FACTOR
) -> list[list[tuple[datetime, float]]]:
    """Runs of consecutive finite samples; a run ends at a non-finite value or where the
    spacing exceeds `factor` times the median spacing."""
    ordered = sorted(samples, key=_TIME)
    times = list(map(_TIME, ordered))
    # C-level maps over thousands of samples: exact timedelta seconds, as one by one.
    spacings = list(map(timedelta.total_seconds, map(operator.sub, times[1:], times[:-1])))
    limit = factor * statistics.median(spacings) if spacings else math.inf
    if (not spacings or max(spacings) <= limit) and all(map(math.isfinite, map(_VALUE, ordered))):
        return [list(ordered)] if ordered else []  # one run: no gap, nothing non-finite
    runs: list[list[tuple[datetime, float]]] = []
    current: list[tuple[datetime, float]] = []
    previous: datetime | None = None
    for at, value in ordered:
        gap = previous is not None and (at - previous).total_seconds() > limit
        previous = at
        if not math.isfinite(value) or gap:
            if current:
                runs.append(current)
            current = []
        if math.isfinite(value):
            current.append((at, value))
    if current:
        runs.append(current)
    return runs


def warning_level(
    signal: str, samples_by_signal: Mapping[str, Samples], evidence: Evidence | None
) -> tuple[float, str] | None:
    """The warning line the figures used, with its label, or None (other signals, or no
    level computed).

    Error rate: the evidence's level (the larger of factor × normal and the floor). Pool:
    the evidence's warning ratio times the largest `pool_max` sample, in connections.
    """
    if evidence is None:
        return None
    onset = next((o for o in evidence.onsets if o.signal == signal), None)
    if onset is None or onset.level is None:
        return None
    th = evidence.thresholds
    if signal == POOL_IN_USE:
        sizes = [v for _, v in samples_by_signal.get(POOL_MAX, ()) if math.isfinite(v)]
        if not sizes:
            return None
        return onset.level * max(sizes), f"warning {percent(onset.level)} of max"
    if signal == ERROR_RATE:
        floor = percent(th.error_rate_min)
        if evidence.error_rate_normal.value is None:
            return onset.level, f"warning {floor} (no baseline)"
        return onset.level, f"warning max({number(th.error_rate_factor)}× baseline, {floor})"
    return None


def incident_chart(
    incident: Incident,
    signal: str,
    samples_by_signal: Mapping[str, Samples],
    *,
    baseline_window: timedelta,
    now: datetime,
    evidence: Evidence | None,
) -> Chart:
    """The chart of one stored signal: the samples from the baseline to the end of the
    incident (or `now`), and on past resolution when samples were taken after it (the
    recovery tail), with the baseline band, the figures' warning line and markers."""
    samples = sorted(samples_by_signal.get(signal, ()), key=_TIME)
    started = incident.started_at
    end = incident.resolved_at or now
    start = min([started, *(at for at, _ in samples[:1])])
    end = max([end, *(at for at, _ in samples[-1:])])
    baseline_start = max(start, started - baseline_window)
    markers = [Marker("first alert", started)]
    if incident.acknowledged_at is not None:
        markers.append(Marker("ack", incident.acknowledged_at))
    if incident.resolved_at is not None:
        markers.append(Marker("resolved", incident.resolved_at))
    level = warning_level(signal, samples_by_signal, evidence)
    return Chart(
        signal=signal,
        unit=unit_of(signal),
        samples=samples,
        start=start,
        end=end,
        baseline=(baseline_start, started) if baseline_start < started else None,
        threshold=level[0] if level else None,
        threshold_label=level[1] if level else "",
        markers=markers,
    )


def render_svg(chart: Chart, *, width: int = WIDTH, height: int = HEIGHT) -> str:
    """The chart as one `<svg>` element: a `<title>` and `aria-label`, axes with UTC times
    and the unit, and exactly one `<path class="series">` with one coordinate pair per
    finite sample (a new `M` subpath after each gap)."""
    plot = _Plot(chart, width, height)
    title = _text(plot.describe())
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}"'
        f' width="{width}" height="{height}" role="img" aria-label="{title}"'
        f' font-family="{_text(FONT)}" font-size="11" fill="{TEXT_COLOR}">',
        f"<title>{title}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
        *plot.baseline(),
        *plot.y_axis(),
        *plot.x_axis(),
        *plot.threshold(),
        *plot.markers(),
        *plot.series(),
        "</svg>",
    ]
    return "\n".join(parts)


def _text(value: str) -> str:
    """Text safe in XML content and attributes (characters XML forbids become spaces)."""
    return escape(_NOT_XML.sub(" ", value), quote=True)


def _nice_step(span: float, ticks: int = 4) -> float:
    raw = span / ticks
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for nice in (1, 2, 2.5, 5, 10):
        if raw <= nice * magnitude:
            return float(nice * magnitude)
    return 10.0 * magnitude


def _format_value(value: float, unit: str) -> str:
    if unit == FRACTION:
        return percent(value)
    size = abs(value)
    if size >= 1e6:
        return f"{value / 1e6:g}M"
    if size >= 1e4:
        return f"{value / 1e3:g}k"
    return f"{value:g}"


def _clock(at: datetime, step: timedelta, with_date: bool) -> str:
    u = at.astimezone(UTC)
    text = u.strftime("%H:%M:%S" if step < timedelta(minutes=1) else "%H:%M")
    return f"{u:%m-%d} {text}" if with_date else text


class _Plot:
    """Scales from data to pixels and the SVG fragments of one chart."""

    def __init__(self, chart: Chart, width: int, height: int) -> None:
        self.chart = chart
        self.left, self.right = _LEFT, width - _RIGHT
        self.top, self.bottom = _TOP, height - _BOTTOM
        self.runs = split_at_gaps(chart.samples)
        self.points = sum(len(run) for run in self.runs)
        values = [v for run in self.runs for _, v in run]
        if chart.threshold is not None and math.isfinite(chart.threshold):
            values.append(chart.threshold)
        low = min([0.0, *values])
        high = max([0.0, *values])
        if high <= low:
            high = low + (1.0 if chart.unit != FRACTION else 0.01)
        self.y_step = _nice_step(high - low)
        self.y_low = math.floor(low / self.y_step) * self.y_step
        self.y_high = math.ceil(high / self.y_step) * self.y_step
        if self.y_high <= high:  # headroom so the peak does not touch the frame
            self.y_high += self.y_step
        self.t0 = chart.start.timestamp()
        self.t1 = max(chart.end.timestamp(), self.t0 + 60)

    def x(self, at: datetime) -> float:
        share = (at.timestamp() - self.t0) / (self.t1 - self.t0)
        return round(self.left + share * (self.right - self.left), 1)

    def y(self, value: float) -> float:
        share = (value - self.y_low) / (self.y_high - self.y_low)
        return round(self.bottom - share * (self.bottom - self.top), 1)

    def inside(self, at: datetime) -> bool:
        return self.t0 <= at.timestamp() <= self.t1

    def describe(self) -> str:
        c = self.chart
        unit = f" ({c.unit})" if c.unit else ""
        start, end = c.start.astimezone(UTC), c.end.astimezone(UTC)
        return (
            f"{c.signal}{unit} from {start:%Y-%m-%d %H:%M:%S} to {end:%Y-%m-%d %H:%M:%S} UTC,"
            f" {self.points} samples"
        )

    def baseline(self) -> list[str]:
        band = self.chart.baseline
        if band is None:
            return []
        x0, x1 = self.x(max(band[0], self.chart.start)), self.x(min(band[1], self.chart.end))
        if x1 <= x0:
            return []
        return [
            f'<rect class="baseline" x="{x0}" y="{self.top}" width="{round(x1 - x0, 1)}"'
            f' height="{self.bottom - self.top}" fill="{BASELINE_FILL}" fill-opacity="0.7"/>',
            f'<text x="{x0 + 4}" y="{self.top + 12}" fill="#3730a3">baseline</text>',
        ]

    def y_axis(self) -> list[str]:
        out = []
        steps = round((self.y_high - self.y_low) / self.y_step)
        for i in range(steps + 1):
            value = self.y_low + i * self.y_step
            y = self.y(value)
            out.append(
                f'<line x1="{self.left}" y1="{y}" x2="{self.right}" y2="{y}"'
                f' stroke="{GRID_COLOR}" stroke-width="1"/>'
            )
            label = _text(_format_value(value, self.chart.unit))
            out.append(f'<text x="{self.left - 6}" y="{y + 4}" text-anchor="end">{label}</text>')
        unit = "percent" if self.chart.unit == FRACTION else self.chart.unit or "value"
        middle = (self.top + self.bottom) / 2
        out.append(
            f'<text class="axis-title" x="14" y="{middle}" text-anchor="middle"'
            f' transform="rotate(-90 14 {middle})">{_text(unit)}</text>'
        )
        return out

    def x_axis(self) -> list[str]:
        span = timedelta(seconds=self.t1 - self.t0)
        step = next((s for s in _TICK_STEPS if span / s <= 7), _TICK_STEPS[-1])
        seconds = step.total_seconds()
        first = math.ceil(self.t0 / seconds) * seconds
        with_date = self.chart.start.astimezone(UTC).date() != self.chart.end.astimezone(UTC).date()
        out = [
            f'<line x1="{self.left}" y1="{self.bottom}" x2="{self.right}" y2="{self.bottom}"'
            f' stroke="{TEXT_COLOR}" stroke-width="1"/>'
        ]
        tick = first
        while tick <= self.t1:
            at = datetime.fromtimestamp(tick, tz=UTC)
            x = self.x(at)
            out.append(
                f'<line x1="{x}" y1="{self.bottom}" x2="{x}" y2="{self.bottom + 5}"'
                f' stroke="{TEXT_COLOR}" stroke-width="1"/>'
            )
            label = _text(_clock(at, step, with_date))
            out.append(f'<text x="{x}" y="{self.bottom + 18}" text-anchor="middle">{label}</text>')
            tick += seconds
        middle = (self.left + self.right) / 2
        out.append(
            f'<text class="axis-title" x="{middle}" y="{self.bottom + 36}"'
            f' text-anchor="middle">Time (UTC)</text>'
        )
        return out

    def threshold(self) -> list[str]:
        level = self.chart.threshold
        if level is None or not math.isfinite(level):
            return []
        y = self.y(level)
        label = _text(f"{self.chart.threshold_label} = {_format_value(level, self.chart.unit)}")
        return [
            f'<line class="threshold" x1="{self.left}" y1="{y}" x2="{self.right}" y2="{y}"'
            f' stroke="{THRESHOLD_COLOR}" stroke-width="1.5" stroke-dasharray="6 4"'
            f' data-value="{level:g}"/>',
            f'<text x="{self.right - 4}" y="{y - 4}" text-anchor="end"'
            f' fill="{THRESHOLD_COLOR}">{label}</text>',
        ]

    def markers(self) -> list[str]:
        out = []
        shown = [m for m in self.chart.markers if self.inside(m.at)]
        for index, marker in enumerate(shown):
            x = self.x(marker.at)
            name = _text(marker.label)
            when = marker.at.astimezone(UTC).strftime("%H:%M:%S")
            out.append(
                f'<line class="marker" data-marker="{name}" x1="{x}" y1="{self.top - 6}"'
                f' x2="{x}" y2="{self.bottom}" stroke="{MARKER_COLOR}" stroke-width="1"'
                f' stroke-dasharray="2 3"><title>{name} at {when} UTC</title></line>'
            )
            # Alternate label heights: ack often follows the first alert within a minute.
            y = self.top - 10 - 12 * (index % 2)
            # A label that would run past the chart's edge (resolution, on a narrow
            # chart) ends at its line instead of starting there.
            if x + 3 + _LABEL_CHAR_WIDTH * len(marker.label) > self.right + _RIGHT:
                out.append(
                    f'<text x="{x - 3}" y="{y}" font-size="10" text-anchor="end">{name}</text>'
                )
            else:
                out.append(f'<text x="{x + 3}" y="{y}" font-size="10">{name}</text>')
        return out

    def series(self) -> list[str]:
        if not self.runs:
            middle = (self.top + self.bottom) / 2
            return [
                f'<text x="{(self.left + self.right) / 2}" y="{middle}"'
                f' text-anchor="middle">No samples</text>'
            ]
        commands = []
        lone = []
        # self.x and self.y inlined (the same operations in the same order, so the same
        # coordinates): a long incident draws thousands of points per chart. `:.1f` prints
        # what str(round(v, 1)) prints for coordinates this size, in one step.
        t0, t_span, left, x_span = self.t0, self.t1 - self.t0, self.left, self.right - self.left
        low, y_span, bottom = self.y_low, self.y_high - self.y_low, self.bottom
        height = self.bottom - self.top
        for run in self.runs:
            coords = [
                f"{left + (at.timestamp() - t0) / t_span * x_span:.1f},"
                f"{bottom - (value - low) / y_span * height:.1f}"
                for at, value in run
            ]
            commands.append("M" + " L".join(coords))
            if len(run) == 1:
                lone.append(coords[0].split(","))
        out = [
            f'<path class="series" d="{" ".join(commands)}" data-points="{self.points}"'
            f' fill="none" stroke="{SERIES_COLOR}" stroke-width="2" stroke-linejoin="round"'
            f' stroke-linecap="round"/>'
        ]
        out.extend(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{SERIES_COLOR}"/>' for x, y in lone)
        return out
