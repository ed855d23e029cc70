"""Report figures built from stored samples: error rate, errors, pool, downtime, onsets.

Pure: no I/O and no clock. Every figure says how it was computed (`source`) or why it is
unknown (`unknown_reason`), and carries its text, so the report never guesses or rewords.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from recorder.evidence.detection import build_detection_notes, find_onset, within_one_sample
from recorder.evidence.model import DerivedEvent, DetectionNote, Figure, Onset, Thresholds
from recorder.evidence.pool import PoolPeak, build_pool_figures
from recorder.evidence.series import (
    GAP_FACTOR,
    VALUE,
    Sample,
    SeriesSummary,
    finite,
    in_order,
    summarize_series,
    typical_interval,
)
from recorder.evidence.units import (
    ERROR_COUNT,
    ERROR_RATE,
    FRACTION,
    PER_MINUTE,
    REQUESTS,
    SECONDS,
)
from recorder.evidence.window import Absent, Window, step_figure
from recorder.evidence.wording import clock, count, duration, number, percent


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
    window = Window(
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
    pool_peak, usage, at_max, pool_onset, pool_events = build_pool_figures(
        series, window, th, absent
    )
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
    w: Window,
    th: Thresholds,
    absent: Absent,
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
    w: Window,
    start: datetime,
    th: Thresholds,
    absent: Absent,
) -> Figure:
    reason = absent(ERROR_RATE)
    if reason is not None:
        return Figure.unknown("downtime", SECONDS, ERROR_RATE, reason)
    return step_figure(
        "downtime",
        series[ERROR_RATE],
        lambda v: v > th.outage_error_rate,
        w,
        start,
        f"time with error rate above {percent(th.outage_error_rate)}",
        ERROR_RATE,
    )


def _errors(
    series: Mapping[str, tuple[Sample, ...]], w: Window, start: datetime, absent: Absent
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
