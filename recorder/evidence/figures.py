"""Report figures built from stored samples: error rate, errors, pool, downtime, onsets.

Pure: no I/O and no clock. Every figure says how it was computed (`source`) or why it is
unknown (`unknown_reason`), and carries its text, so the report never guesses or rewords.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from recorder.evidence.detection import build_detection_notes, find_onset, within_one_sample
from recorder.evidence.model import DerivedEvent, DetectionNote, Figure, Onset, Thresholds
from recorder.evidence.series import (
    GAP_FACTOR,
    VALUE,
    Sample,
    SeriesSummary,
    between,
    finite,
    in_order,
    pair_nearest,
    summarize_series,
    time_where,
    typical_interval,
)
from recorder.evidence.wording import clock, count, duration, fraction, number, percent

ERROR_RATE = "error_rate"
"""Well-known signal: fraction of failed requests, 0..1."""
ERROR_COUNT = "error_count"
"""Well-known signal: failed requests in the preceding minute."""
POOL_IN_USE = "pool_in_use"
"""Well-known signal: database pool connections in use."""
POOL_MAX = "pool_max"
"""Well-known signal: database pool size."""

FRACTION = "fraction"
SECONDS = "seconds"
PER_MINUTE = "failed requests/minute"
REQUESTS = "failed requests"
CONNECTIONS = "connections"
UNITS: Mapping[str, str] = {
    ERROR_RATE: FRACTION,
    ERROR_COUNT: PER_MINUTE,
    POOL_IN_USE: CONNECTIONS,
    POOL_MAX: CONNECTIONS,
}
"""The unit each well-known signal is measured in (tables and charts print in it)."""


def unit_of(signal: str) -> str:
    """The unit a well-known signal is measured in; "" for any other signal."""
    return UNITS.get(signal, "")


@dataclass(frozen=True, slots=True)
class PoolPeak:
    """Highest pool usage inside the incident, as connections in use out of the maximum."""

    in_use: float | None
    max: float | None
    at: datetime | None
    method: str = ""
    unknown: str | None = None

    @property
    def ratio(self) -> float | None:
        if self.in_use is None or not self.max:
            return None
        return self.in_use / self.max

    @property
    def text(self) -> str | None:
        """`100/100`, as the report prints it."""
        if self.in_use is None or self.max is None:
            return None
        return fraction(self.in_use, self.max)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the Metrics and Detection sections need, each figure traceable.

    Ratios are fractions (0.992 = 99.2 %), durations float seconds. `error_rate_normal`
    is the baseline median, `error_rate_mean`/`_peak` cover the incident; `error_count_peak`
    is failed requests per minute. `errors_total` (failed requests) and `downtime` cover
    the evidence window: from the earlier of onset and triggered at (`window_start`) to
    the incident's end, so errors before the alert count. Without error-rate samples
    `downtime` is unknown with the cause. `onsets` holds one entry per warning signal
    (error_rate, pool_in_use), `onset` the earliest known one. `interval_seconds` is the
    sampling interval: differences within it are stated as "within one sample".
    """

    incident_start: datetime
    incident_end: datetime
    window_start: datetime
    baseline_start: datetime | None
    baseline_end: datetime
    triggered_at: datetime | None
    thresholds: Thresholds
    interval_seconds: float | None
    error_rate_normal: Figure
    error_rate_mean: Figure
    error_rate_peak: Figure
    error_count_peak: Figure
    errors_total: Figure
    pool_peak: PoolPeak
    pool_peak_usage: Figure
    pool_time_at_max: Figure
    downtime: Figure
    onsets: tuple[Onset, ...]
    onset: Onset | None
    time_to_detect: Figure
    detection_quality: tuple[DetectionNote, ...]
    derived_timeline: tuple[DerivedEvent, ...]
    signals: tuple[SeriesSummary, ...]
    unsampled: Mapping[str, str] = field(default_factory=dict)

    @property
    def figures(self) -> dict[str, Figure]:
        """The Metrics figures by report name, in report order."""
        return {
            f.name: f
            for f in (
                self.error_rate_normal,
                self.error_rate_mean,
                self.error_rate_peak,
                self.error_count_peak,
                self.errors_total,
                self.pool_peak_usage,
                self.pool_time_at_max,
            )
        }

    def reason(self, signal: str) -> str | None:
        """Why `signal` has no usable samples, or None when it has some."""
        figure = {ERROR_RATE: self.error_rate_normal, ERROR_COUNT: self.error_count_peak}.get(
            signal
        )
        return figure.unknown_reason if figure is not None else None


_Absent = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class _Window:
    baseline_start: datetime | None
    baseline_end: datetime
    start: datetime
    end: datetime
    triggered_at: datetime | None
    max_hold: float | None

    # Every series here is time-ordered (build_evidence sorts once): windows are slices.
    def baseline(self, samples: Sequence[Sample]) -> Sequence[Sample]:
        return between(samples, self.baseline_start, self.baseline_end, include_hi=False)

    def incident(
        self, samples: Sequence[Sample], start: datetime | None = None
    ) -> Sequence[Sample]:
        return between(samples, self.start if start is None else start, self.end)

    def searched(self, samples: Sequence[Sample]) -> Sequence[Sample]:
        return between(samples, self.baseline_start, self.end)

    @property
    def day(self) -> date:
        return self.start.date()

    @property
    def reference(self) -> datetime:
        """When the alert fired (or, unknown, when the incident started): onsets lead to it."""
        return self.triggered_at or self.start

    def span(self, start: datetime | None = None) -> str:
        return f"{clock(start or self.start, self.day)}–{clock(self.end, self.day)}"


def build_evidence(
    samples_by_signal: Mapping[str, Sequence[Sample]],
    *,
    baseline_end: datetime,
    incident_start: datetime,
    incident_end: datetime,
    triggered_at: datetime | None,
    thresholds: Thresholds | None = None,
    unsampled: Mapping[str, str] | None = None,
    configured: Sequence[str] | None = None,
    baseline_start: datetime | None = None,
    sample_interval_seconds: float | None = None,
    summarize: bool = True,
) -> Evidence:
    """Compute the report's figures from stored samples; unknown figures say why.

    `summarize=False` skips the per-signal summaries (`signals`), which the report does
    not print.

    `baseline_end` is the incident's `started_at`: "normal" comes from samples in
    [baseline_start, baseline_end). Mean and peak use samples in [incident_start,
    incident_end] (`incident_end` = resolved_at, or "now" passed in for an open incident);
    downtime and failed requests start at the earlier of the onset and `incident_start`.
    Onsets are searched from `baseline_start` to `incident_end`, since a signal usually
    crosses its warning level before the alert fires.

    `unsampled` maps a signal name to the cause it has no samples (a missing label,
    Prometheus unreachable, ...): that cause is what every figure it feeds reads.
    `configured` names the signals sampling is configured for (None: unknown); a signal
    outside it reads "no such signal configured". `sample_interval_seconds` bounds how
    long one sample's value is held in integrations (2.5 intervals), finds gaps and sets
    what "within one sample" means; when None it is the median spacing of the samples.
    """
    if incident_end < incident_start:
        raise ValueError("incident_end is before incident_start")
    th = thresholds or Thresholds()
    skipped = dict(unsampled or {})
    interval = sample_interval_seconds or typical_interval(samples_by_signal)
    window = _Window(
        baseline_start,
        baseline_end,
        incident_start,
        incident_end,
        triggered_at,
        GAP_FACTOR * interval if interval else None,
    )
    series = {name: in_order(finite(s)) for name, s in samples_by_signal.items()}

    def absent(name: str) -> str | None:
        if name in skipped:
            return f"{name} was not sampled: {skipped[name]}"
        if configured is not None and name not in configured and not samples_by_signal.get(name):
            return f"no {name} signal configured"
        if not samples_by_signal.get(name):
            return f"no {name} samples stored for this incident"
        if not series[name]:
            return f"every stored {name} sample is NaN or infinite"
        return None

    normal, mean, peak, rate_onset, rate_events = _error_rate(series, window, th, absent)
    pool_peak, usage, at_max, pool_onset, pool_events = _pool(series, window, th, absent)
    onsets = (rate_onset, pool_onset)
    known = [o for o in onsets if o.at is not None]
    onset = min(known, key=lambda o: o.at or incident_start) if known else None
    window_start = min(incident_start, onset.at) if onset and onset.at else incident_start
    count_peak, total = _errors(series, window, window_start, absent)
    return Evidence(
        incident_start=incident_start,
        incident_end=incident_end,
        window_start=window_start,
        baseline_start=baseline_start,
        baseline_end=baseline_end,
        triggered_at=triggered_at,
        thresholds=th,
        interval_seconds=interval,
        error_rate_normal=normal,
        error_rate_mean=mean,
        error_rate_peak=peak,
        error_count_peak=count_peak,
        errors_total=total,
        pool_peak=pool_peak,
        pool_peak_usage=usage,
        pool_time_at_max=at_max,
        downtime=_downtime(series, window, window_start, th, absent),
        onsets=onsets,
        onset=onset,
        time_to_detect=_time_to_detect(onset, triggered_at, interval),
        detection_quality=tuple(
            build_detection_notes(
                onsets,
                triggered_at,
                good_within=th.good_detection_seconds,
                interval_seconds=interval,
            )
        ),
        derived_timeline=tuple(sorted(rate_events + pool_events, key=lambda e: e.at)),
        signals=tuple(
            summarize_series(name, samples, interval_seconds=interval)
            for name, samples in sorted(samples_by_signal.items())
            if summarize
        ),
        unsampled=skipped,
    )


def _rate(name: str, value: float, source: str, at: datetime | None, day: date) -> Figure:
    suffix = f" at {clock(at, day)}" if at is not None else ""
    return Figure(name, value, FRACTION, f"{percent(value)}{suffix}", source, at=at)


def _error_rate(
    series: Mapping[str, tuple[Sample, ...]],
    w: _Window,
    th: Thresholds,
    absent: _Absent,
) -> tuple[Figure, Figure, Figure, Onset, list[DerivedEvent]]:
    rule = f"error rate ≥ {number(th.error_rate_factor)}× normal and ≥ {percent(th.error_rate_min)}"
    names = ("normal_error_rate", "error_rate_mean", "error_rate_peak")
    reason = absent(ERROR_RATE)
    if reason is not None:
        unknown = [Figure.unknown(name, FRACTION, ERROR_RATE, reason) for name in names]
        onset = Onset(ERROR_RATE, None, None, None, rule, unknown=reason)
        return unknown[0], unknown[1], unknown[2], onset, []
    samples = series[ERROR_RATE]
    base = w.baseline(samples)
    if base:
        source = (
            f"median of {len(base)} error_rate samples {clock(base[0].at, w.day)}"
            f"–{clock(base[-1].at, w.day)}, before the incident started"
        )
        normal = _rate(names[0], statistics.median(s.value for s in base), source, None, w.day)
        level = max(th.error_rate_factor * float(normal.value or 0.0), th.error_rate_min)
    else:
        normal = Figure.unknown(
            names[0], FRACTION, ERROR_RATE, "no error_rate samples before the incident started"
        )
        level = th.error_rate_min
        rule += " (normal unknown: the floor alone applies)"
    # A level of 0 (floor 0, normal 0) would make every sample a crossing: any error is one.
    level = max(level, _SMALLEST_RATE)
    inside = w.incident(samples)
    if inside:
        mean_value = math.fsum(s.value for s in inside) / len(inside)
        mean = _rate(
            names[1],
            mean_value,
            f"mean of {len(inside)} error_rate samples, {w.span()}",
            None,
            w.day,
        )
        top = max(inside, key=VALUE)
        peak = _rate(
            names[2], top.value, f"highest of {len(inside)} error_rate samples", top.at, w.day
        )
    else:
        reason = f"no error_rate samples inside the incident ({w.span()})"
        mean = Figure.unknown(names[1], FRACTION, ERROR_RATE, reason)
        peak = Figure.unknown(names[2], FRACTION, ERROR_RATE, reason)
    onset = find_onset(
        ERROR_RATE, w.searched(samples), level=level, rule=rule, reference=w.reference
    )
    events: list[DerivedEvent] = []
    if onset.at is not None and onset.value is not None:
        events.append(
            DerivedEvent(
                onset.at,
                f"Error rate rose to {percent(onset.value)} (warning level {percent(level)})",
                ERROR_RATE,
            )
        )
    if peak.at is not None and isinstance(peak.value, float):
        events.append(
            DerivedEvent(peak.at, f"Error rate peaked at {percent(peak.value)}", ERROR_RATE)
        )
        back = next((s for s in inside if s.at > peak.at and s.value < level), None)
        if back is not None:
            events.append(
                DerivedEvent(
                    back.at, f"Error rate back to normal ({percent(back.value)})", ERROR_RATE
                )
            )
    return normal, mean, peak, onset, events


_SMALLEST_RATE = 1e-12


def _downtime(
    series: Mapping[str, tuple[Sample, ...]],
    w: _Window,
    start: datetime,
    th: Thresholds,
    absent: _Absent,
) -> Figure:
    reason = absent(ERROR_RATE)
    if reason is not None:
        return Figure.unknown("downtime", SECONDS, ERROR_RATE, reason)
    return _step_figure(
        "downtime",
        series[ERROR_RATE],
        lambda v: v > th.outage_error_rate,
        w,
        start,
        f"time with error rate above {percent(th.outage_error_rate)}",
        ERROR_RATE,
    )


def _errors(
    series: Mapping[str, tuple[Sample, ...]], w: _Window, start: datetime, absent: _Absent
) -> tuple[Figure, Figure]:
    names = ("peak_error_count", "total_failed_requests")
    reason = absent(ERROR_COUNT)
    if reason is None and not w.incident(series[ERROR_COUNT], start):
        reason = f"no error_count samples inside the incident ({w.span(start)})"
    if reason is not None:
        return (
            Figure.unknown(names[0], PER_MINUTE, ERROR_COUNT, reason),
            Figure.unknown(names[1], REQUESTS, ERROR_COUNT, reason),
        )
    counted = w.incident(series[ERROR_COUNT], start)
    top = max(counted, key=VALUE)
    per_minute = round(top.value)  # a count of requests: whole, in JSON as in text
    peak = Figure(
        names[0],
        per_minute,
        PER_MINUTE,
        f"{count(per_minute)} {PER_MINUTE} at {clock(top.at, w.day)}",
        f"highest of {len(counted)} error_count samples, {w.span(start)}",
        at=top.at,
    )
    # error_count(t) counts failures in the minute before t, so it describes the time since
    # the previous sample: add value × (that time, clipped to the window, at most 60 s) / 60.
    total = clipped = 0.0
    since = start.timestamp()
    for cur in counted:
        at = cur.at.timestamp()
        span = at - since
        if span > 60.0:
            clipped += span - 60.0
            total += cur.value
        else:
            total += cur.value * span / 60.0
        since = at
    tail = (w.end - counted[-1].at).total_seconds()
    if w.max_hold is not None and tail > w.max_hold:
        clipped += tail
    method = (
        f"sum over {len(counted)} error_count samples {w.span(start)} (failures in the "
        "preceding minute) of value × seconds since the previous sample (at most 60) / 60"
    )
    if clipped > 0:
        method += f"; lower bound: {duration(clipped)} of sampling gaps are not counted"
    requests = round(total)
    return peak, Figure(names[1], requests, REQUESTS, f"{count(requests)} {REQUESTS}", method)


def _pool(
    series: Mapping[str, tuple[Sample, ...]],
    w: _Window,
    th: Thresholds,
    absent: _Absent,
) -> tuple[PoolPeak, Figure, Figure, Onset, list[DerivedEvent]]:
    rule = f"pool in use ≥ {percent(th.pool_warning)} of max"
    source = "peak of pool_in_use ÷ pool_max"
    reason = absent(POOL_IN_USE) or absent(POOL_MAX)
    pairs = [] if reason else pair_nearest(series[POOL_IN_USE], series[POOL_MAX])
    pairs = [p for p in pairs if p[2] > 0]
    if reason is None and not pairs:
        reason = "pool_max is never above 0, so usage cannot be computed"
    if reason is not None:
        peak_in_use = w.incident(series.get(POOL_IN_USE, ()))
        top = max(peak_in_use, key=VALUE) if peak_in_use else None
        usage = Figure.unknown("pool_peak_usage", FRACTION, source, reason)
        if top is not None:
            text = f"{count(top.value)} {CONNECTIONS} in use (share unknown: {reason})"
            usage = Figure.unknown("pool_peak_usage", FRACTION, source, reason, text)
        return (
            PoolPeak(top.value if top else None, None, top.at if top else None, unknown=reason),
            usage,
            Figure.unknown("time_at_pool_max", SECONDS, "pool_in_use = pool_max", reason),
            Onset(POOL_IN_USE, None, None, None, rule, unknown=reason),
            [],
        )
    ratios = [Sample(at, used / size) for at, used, size in pairs]
    by_time = {at: (used, size) for at, used, size in pairs}
    inside = w.incident(ratios)
    if inside:
        top = max(inside, key=VALUE)
        used, size = by_time[top.at]
        method = f"highest in_use/max of {len(inside)} samples, {w.span()}"
        peak = PoolPeak(used, size, top.at, method)
        text = (
            f"{fraction(used, size)} {CONNECTIONS} ({percent(top.value)}) at {clock(top.at, w.day)}"
        )
        usage = Figure("pool_peak_usage", top.value, FRACTION, text, method, at=top.at)
    else:
        reason = f"no pool samples inside the incident ({w.span()})"
        peak = PoolPeak(None, None, None, unknown=reason)
        usage = Figure.unknown("pool_peak_usage", FRACTION, source, reason)
    at_max = _step_figure(
        "time_at_pool_max",
        ratios,
        lambda r: r >= 1.0,
        w,
        w.start,
        "time with in_use at max",
        "pool",
    )
    onset = find_onset(
        POOL_IN_USE, w.searched(ratios), level=th.pool_warning, rule=rule, reference=w.reference
    )
    events: list[DerivedEvent] = []
    if onset.at is not None and onset.value is not None and onset.value < 1.0:
        # A pool that jumps straight to max gets only the "at max" entry below.
        used, size = by_time[onset.at]
        text = f"Database connections crossed {percent(th.pool_warning)} ({fraction(used, size)})"
        events.append(DerivedEvent(onset.at, text, POOL_IN_USE))
    start = min(w.start, onset.at) if onset.at else w.start
    full = False
    for ratio in (r for r in ratios if start <= r.at <= w.end):
        used, size = by_time[ratio.at]
        # Hysteresis: "normalized" means back under the warning level, so a pool flapping
        # between 99 and 100 does not fill the timeline.
        if not full and ratio.value >= 1.0:
            text = f"Database connections at max ({fraction(used, size)})"
            events.append(DerivedEvent(ratio.at, text, POOL_IN_USE))
            full = True
        elif full and ratio.value < th.pool_warning:
            text = f"Database connections normalized ({fraction(used, size)})"
            events.append(DerivedEvent(ratio.at, text, POOL_IN_USE))
            full = False
    return peak, usage, at_max, onset, events


def _step_figure(  # noqa: PLR0917 - one call per figure, each argument named at the call
    name: str,
    samples: Sequence[Sample],
    condition: Callable[[float], bool],
    w: _Window,
    start: datetime,
    what: str,
    signal: str,
) -> Figure:
    cover = time_where(samples, condition, start=start, end=w.end, max_hold=w.max_hold)
    span = (w.end - start).total_seconds()
    if cover.covered <= 0:
        reason = f"no {signal} samples cover the incident ({w.span(start)})"
        return Figure.unknown(name, SECONDS, signal, reason)
    hold = f" (at most {number(w.max_hold)} s)" if w.max_hold else ""
    method = (
        f"{what}, {w.span(start)}, step-wise: each sample holds until the next{hold};"
        f" samples cover {number(cover.covered)} of {number(span)} s"
    )
    return Figure(name, cover.matched, SECONDS, duration(cover.matched), method)


def _time_to_detect(
    onset: Onset | None, triggered_at: datetime | None, interval: float | None
) -> Figure:
    name, source = "time_to_detect", "triggered_at − onset"
    if onset is None or onset.at is None:
        return Figure.unknown(name, SECONDS, source, "no signal onset")
    if triggered_at is None:
        return Figure.unknown(name, SECONDS, source, "trigger time unknown")
    seconds = (triggered_at - onset.at).total_seconds()
    notes = []
    if seconds < 0:
        notes.append("negative: the signal crossed its warning level after the alert fired")
    if interval and abs(seconds) <= interval and not onset.since_first_sample:
        notes.append(f"{within_one_sample(interval)}: not a finding")
    note = "; ".join(notes) or None
    text = duration(seconds) + (f" ({note})" if note else "")
    source = f"triggered_at − onset ({onset.signal} crossed its warning level)"
    return Figure(name, seconds, SECONDS, text, source, note=note, at=onset.at)
