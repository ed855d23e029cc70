"""Report figures built from stored samples: error rate, errors, pool, downtime, onsets.

Pure: no I/O and no clock. Every figure says how it was computed (`method`) or why it is
unknown (`unknown`), so the report never guesses.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from recorder.evidence.detection import DetectionNote, Onset, build_detection_notes, find_onset
from recorder.evidence.series import (
    GAP_FACTOR,
    Sample,
    SeriesSummary,
    finite,
    in_order,
    json_number,
    pair_nearest,
    rfc3339,
    summarize_series,
    time_where,
    typical_interval,
)
from recorder.evidence.wording import clock, duration_words, fraction, number, percent

ERROR_RATE = "error_rate"
"""Well-known signal: fraction of failed requests, 0..1."""
ERROR_COUNT = "error_count"
"""Well-known signal: failed requests in the preceding minute."""
POOL_IN_USE = "pool_in_use"
"""Well-known signal: database pool connections in use."""
POOL_MAX = "pool_max"
"""Well-known signal: database pool size."""

RATIO = "ratio"
SECONDS = "seconds"
PER_MINUTE = "failed requests/minute"
REQUESTS = "failed requests"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Warning and outage levels. Ratios are fractions (0.8 = 80 %)."""

    pool_warning: float = 0.8
    error_rate_factor: float = 10.0
    error_rate_min: float = 0.01
    outage_error_rate: float = 0.05
    good_detection_seconds: float = 60.0

    def __post_init__(self) -> None:
        for name in ("pool_warning", "error_rate_min", "outage_error_rate"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"threshold {name}={value!r} must be a fraction in (0, 1]")
        if self.error_rate_factor <= 0 or self.good_detection_seconds < 0:
            raise ValueError("error_rate_factor must be > 0 and good_detection_seconds >= 0")


@dataclass(frozen=True, slots=True)
class Figure:
    """One number for the report with its unit, and how it was derived or why it is unknown."""

    value: float | None
    unit: str
    method: str = ""
    at: datetime | None = None
    unknown: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": json_number(self.value),
            "unit": self.unit,
            "method": self.method,
            "at": rfc3339(self.at),
            "unknown": self.unknown,
        }


def _unknown(unit: str, reason: str) -> Figure:
    return Figure(value=None, unit=unit, unknown=reason)


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
        return f"{number(self.in_use)}/{number(self.max)}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "in_use": self.in_use,
            "max": self.max,
            "ratio": self.ratio,
            "text": self.text,
            "at": rfc3339(self.at),
            "method": self.method,
            "unknown": self.unknown,
        }


@dataclass(frozen=True, slots=True)
class DerivedEvent:
    """A timeline entry computed from samples (the lead maps it to a DERIVED TimelineEntry)."""

    at: datetime
    event: str
    signal: str

    def to_dict(self) -> dict[str, Any]:
        return {"at": rfc3339(self.at), "event": self.event, "signal": self.signal}


@dataclass(frozen=True, slots=True)
class Evidence:
    """Everything the Metrics and Detection sections need, each figure traceable.

    Ratios are fractions (0.992 = 99.2 %), durations float seconds. `error_rate_normal`
    is the baseline median, `error_rate_mean`/`_peak` cover the incident; `error_count_peak`
    is failed requests per minute, `errors_total` failed requests over the incident;
    `downtime` is None (with `unknown`) without error-rate samples, and the report then
    falls back to the incident's duration, marked as such. `onsets` holds one entry per
    warning signal (error_rate, pool_in_use), `onset` the earliest known one.
    """

    incident_start: datetime
    incident_end: datetime
    baseline_start: datetime | None
    baseline_end: datetime
    triggered_at: datetime | None
    thresholds: Thresholds
    error_rate_normal: Figure
    error_rate_mean: Figure
    error_rate_peak: Figure
    error_count_peak: Figure
    errors_total: Figure
    pool_peak: PoolPeak
    pool_time_at_max: Figure
    downtime: Figure
    onsets: tuple[Onset, ...]
    onset: Onset | None
    time_to_detect: Figure
    detection_quality: tuple[DetectionNote, ...]
    derived_timeline: tuple[DerivedEvent, ...]
    signals: tuple[SeriesSummary, ...]
    unsampled: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data: RFC 3339 times, NaN/Inf as null, seconds as floats."""
        t = self.thresholds
        return {
            "incident_start": rfc3339(self.incident_start),
            "incident_end": rfc3339(self.incident_end),
            "baseline_start": rfc3339(self.baseline_start),
            "baseline_end": rfc3339(self.baseline_end),
            "triggered_at": rfc3339(self.triggered_at),
            "thresholds": {name: getattr(t, name) for name in Thresholds.__dataclass_fields__},
            "error_rate_normal": self.error_rate_normal.to_dict(),
            "error_rate_mean": self.error_rate_mean.to_dict(),
            "error_rate_peak": self.error_rate_peak.to_dict(),
            "error_count_peak": self.error_count_peak.to_dict(),
            "errors_total": self.errors_total.to_dict(),
            "pool_peak": self.pool_peak.to_dict(),
            "pool_time_at_max": self.pool_time_at_max.to_dict(),
            "downtime": self.downtime.to_dict(),
            "onsets": [o.to_dict() for o in self.onsets],
            "onset": self.onset.to_dict() if self.onset else None,
            "time_to_detect": self.time_to_detect.to_dict(),
            "detection_quality": [n.to_dict() for n in self.detection_quality],
            "derived_timeline": [e.to_dict() for e in self.derived_timeline],
            "signals": [s.to_dict() for s in self.signals],
            "unsampled": dict(self.unsampled),
        }


_Absent = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class _Window:
    baseline_start: datetime | None
    baseline_end: datetime
    start: datetime
    end: datetime
    triggered_at: datetime | None
    max_hold: float | None

    def baseline(self, samples: Sequence[Sample]) -> tuple[Sample, ...]:
        lo = self.baseline_start
        return tuple(s for s in samples if (lo is None or s.at >= lo) and s.at < self.baseline_end)

    def incident(self, samples: Sequence[Sample]) -> tuple[Sample, ...]:
        return tuple(s for s in samples if self.start <= s.at <= self.end)

    def searched(self, samples: Sequence[Sample]) -> tuple[Sample, ...]:
        lo = self.baseline_start
        return tuple(s for s in samples if (lo is None or s.at >= lo) and s.at <= self.end)

    @property
    def reference(self) -> datetime:
        """When the alert fired (or, unknown, when the incident started): onsets lead to it."""
        return self.triggered_at or self.start

    @property
    def span(self) -> str:
        return f"{clock(self.start)}–{clock(self.end)} UTC"


def build_evidence(
    samples_by_signal: Mapping[str, Sequence[Sample]],
    *,
    baseline_end: datetime,
    incident_start: datetime,
    incident_end: datetime,
    triggered_at: datetime | None,
    thresholds: Thresholds | None = None,
    unsampled: Mapping[str, str] | None = None,
    baseline_start: datetime | None = None,
    sample_interval_seconds: float | None = None,
    summarize: bool = True,
) -> Evidence:
    """Compute the report's figures from stored samples; unknown figures say why.

    `summarize=False` skips the per-signal summaries (`signals`), which the report does
    not print.

    `baseline_end` is the incident's `started_at`: "normal" comes from samples in
    [baseline_start, baseline_end). Incident figures use samples in [incident_start,
    incident_end] (`incident_end` = resolved_at, or "now" passed in for an open incident).
    Onsets are searched from `baseline_start` to `incident_end`, since a signal usually
    crosses its warning level before the alert fires. `unsampled` maps a signal name to
    why it was not sampled (e.g. a missing label). `sample_interval_seconds` bounds how
    long one sample's value is held in integrations (2.5 intervals) and finds gaps; when
    None it is the median spacing of the samples.
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
        if not samples_by_signal.get(name):
            return f"no {name} samples are stored"
        if not series[name]:
            return f"every stored {name} sample is NaN or infinite"
        return None

    normal, rate_figures, rate_onset, rate_events = _error_rate(series, window, th, absent)
    count_peak, total = _errors(series, window, absent)
    pool_peak, at_max, pool_onset, pool_events = _pool(series, window, th, absent)
    onsets = (rate_onset, pool_onset)
    known = [o for o in onsets if o.at is not None]
    onset = min(known, key=lambda o: o.at or incident_start) if known else None
    return Evidence(
        incident_start=incident_start,
        incident_end=incident_end,
        baseline_start=baseline_start,
        baseline_end=baseline_end,
        triggered_at=triggered_at,
        thresholds=th,
        error_rate_normal=normal,
        error_rate_mean=rate_figures[0],
        error_rate_peak=rate_figures[1],
        error_count_peak=count_peak,
        errors_total=total,
        pool_peak=pool_peak,
        pool_time_at_max=at_max,
        downtime=rate_figures[2],
        onsets=onsets,
        onset=onset,
        time_to_detect=_time_to_detect(onset, triggered_at),
        detection_quality=tuple(
            build_detection_notes(onsets, triggered_at, good_within=th.good_detection_seconds)
        ),
        derived_timeline=tuple(sorted(rate_events + pool_events, key=lambda e: e.at)),
        signals=tuple(
            summarize_series(name, samples, interval_seconds=interval)
            for name, samples in sorted(samples_by_signal.items())
            if summarize
        ),
        unsampled=skipped,
    )


def _error_rate(
    series: Mapping[str, tuple[Sample, ...]],
    w: _Window,
    th: Thresholds,
    absent: _Absent,
) -> tuple[Figure, tuple[Figure, Figure, Figure], Onset, list[DerivedEvent]]:
    rule = f"error rate ≥ {number(th.error_rate_factor)}× normal and ≥ {percent(th.error_rate_min)}"
    reason = absent(ERROR_RATE)
    if reason is not None:
        return (
            _unknown(RATIO, reason),
            (_unknown(RATIO, reason), _unknown(RATIO, reason), _unknown(SECONDS, reason)),
            Onset(ERROR_RATE, None, None, None, rule, unknown=reason),
            [],
        )
    samples = series[ERROR_RATE]
    base = w.baseline(samples)
    if base:
        normal = Figure(
            statistics.median(s.value for s in base),
            RATIO,
            f"median of {len(base)} error_rate samples "
            f"{clock(base[0].at)}–{clock(base[-1].at)} UTC, before the incident started",
        )
        level = max(th.error_rate_factor * (normal.value or 0.0), th.error_rate_min)
    else:
        normal = _unknown(RATIO, "no error_rate samples before the incident started")
        level = th.error_rate_min
        rule += " (normal unknown: the floor alone applies)"
    inside = w.incident(samples)
    if inside:
        mean = Figure(
            math.fsum(s.value for s in inside) / len(inside),
            RATIO,
            f"mean of {len(inside)} error_rate samples, {w.span}",
        )
        top = max(inside, key=lambda s: s.value)
        peak = Figure(top.value, RATIO, f"highest of {len(inside)} error_rate samples", top.at)
    else:
        mean = peak = _unknown(RATIO, f"no error_rate samples inside the incident ({w.span})")
    downtime = _step_figure(
        samples,
        lambda v: v > th.outage_error_rate,
        w,
        f"time with error rate > {percent(th.outage_error_rate)}",
        ERROR_RATE,
    )
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
    if peak.at is not None and peak.value is not None:
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
    return normal, (mean, peak, downtime), onset, events


def _errors(
    series: Mapping[str, tuple[Sample, ...]], w: _Window, absent: _Absent
) -> tuple[Figure, Figure]:
    reason = absent(ERROR_COUNT)
    if reason is not None:
        return _unknown(PER_MINUTE, reason), _unknown(REQUESTS, reason)
    samples = series[ERROR_COUNT]
    inside = w.incident(samples)
    if not inside:
        reason = f"no error_count samples inside the incident ({w.span})"
        return _unknown(PER_MINUTE, reason), _unknown(REQUESTS, reason)
    top = max(inside, key=lambda s: s.value)
    peak = Figure(top.value, PER_MINUTE, f"highest of {len(inside)} error_count samples", top.at)
    # error_count(t) counts failures in the minute before t, so it describes the time since
    # the previous sample: add value × (that time, clipped to the incident, at most 60 s) / 60.
    total = clipped = 0.0
    since = w.start
    for cur in inside:
        span = (cur.at - since).total_seconds()
        clipped += max(span - 60.0, 0.0)
        total += cur.value * min(span, 60.0) / 60.0
        since = cur.at
    tail = (w.end - inside[-1].at).total_seconds()
    if w.max_hold is not None and tail > w.max_hold:
        clipped += tail
    method = (
        f"sum over {len(inside)} error_count samples (failures in the preceding minute) of "
        "value × seconds since the previous sample (inside the incident, at most 60) / 60"
    )
    if clipped > 0:
        method += f"; lower bound: {duration_words(clipped)} of sampling gaps are not counted"
    return peak, Figure(total, REQUESTS, method)


def _pool(
    series: Mapping[str, tuple[Sample, ...]],
    w: _Window,
    th: Thresholds,
    absent: _Absent,
) -> tuple[PoolPeak, Figure, Onset, list[DerivedEvent]]:
    rule = f"pool in use ≥ {percent(th.pool_warning)} of max"
    reason = absent(POOL_IN_USE) or absent(POOL_MAX)
    pairs = [] if reason else pair_nearest(series[POOL_IN_USE], series[POOL_MAX])
    pairs = [p for p in pairs if p[2] > 0]
    if reason is None and not pairs:
        reason = "pool_max is never above 0, so usage cannot be computed"
    if reason is not None:
        peak_in_use = w.incident(series.get(POOL_IN_USE, ()))
        top = max(peak_in_use, key=lambda s: s.value) if peak_in_use else None
        return (
            PoolPeak(top.value if top else None, None, top.at if top else None, unknown=reason),
            _unknown(SECONDS, reason),
            Onset(POOL_IN_USE, None, None, None, rule, unknown=reason),
            [],
        )
    ratios = [Sample(at, used / size) for at, used, size in pairs]
    by_time = {at: (used, size) for at, used, size in pairs}
    inside = w.incident(ratios)
    if inside:
        top = max(inside, key=lambda s: s.value)
        used, size = by_time[top.at]
        peak = PoolPeak(
            used, size, top.at, f"highest in_use/max of {len(inside)} samples, {w.span}"
        )
    else:
        peak = PoolPeak(None, None, None, unknown=f"no pool samples inside the incident ({w.span})")
    at_max = _step_figure(ratios, lambda r: r >= 1.0, w, "time with in_use ≥ max", "pool")
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
    return peak, at_max, onset, events


def _step_figure(
    samples: Sequence[Sample], condition: Callable[[float], bool], w: _Window, what: str, name: str
) -> Figure:
    cover = time_where(samples, condition, start=w.start, end=w.end, max_hold=w.max_hold)
    duration = (w.end - w.start).total_seconds()
    if cover.covered <= 0:
        return _unknown(SECONDS, f"no {name} samples cover the incident ({w.span})")
    hold = f"at most {number(w.max_hold)} s" if w.max_hold else "no limit"
    method = (
        f"{what}, step-wise (each sample holds until the next, {hold}), inside {w.span}; "
        f"samples cover {number(cover.covered)} of {number(duration)} s"
    )
    return Figure(cover.matched, SECONDS, method)


def _time_to_detect(onset: Onset | None, triggered_at: datetime | None) -> Figure:
    if onset is None or onset.at is None:
        return _unknown(SECONDS, "no signal onset")
    if triggered_at is None:
        return _unknown(SECONDS, "trigger time unknown")
    method = f"triggered at − onset ({onset.signal} crossed its warning level)"
    return Figure((triggered_at - onset.at).total_seconds(), SECONDS, method, onset.at)
