"""Database pool figures: peak usage, time at max, onset and derived entries (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from recorder.evidence.detection import find_onset
from recorder.evidence.model import DerivedEvent, Figure, Onset, Thresholds
from recorder.evidence.series import (
    VALUE,
    Sample,
    between,
    finite,
    in_order,
    nearest_values,
    stored_samples,
)
from recorder.evidence.units import CONNECTIONS, FRACTION, POOL_IN_USE, POOL_MAX, SECONDS
from recorder.evidence.window import Absent, Window, step_figure
from recorder.evidence.wording import clock, count, fraction, percent


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


def build_pool_figures(
    series: Mapping[str, tuple[Sample, ...]],
    w: Window,
    th: Thresholds,
    absent: Absent,
) -> tuple[PoolPeak, Figure, Figure, Onset, list[DerivedEvent]]:
    """Pool peak (in use / max), time at max, the pool onset and its derived entries."""
    rule = f"pool in use ≥ {percent(th.pool_warning)} of max"
    source = "peak of pool_in_use ÷ pool_max"
    reason = absent(POOL_IN_USE) or absent(POOL_MAX)
    # Each in-use sample with the nearest pool_max, kept where the max is above 0: as
    # indexes into two lists rather than a tuple per sample (long incidents).
    in_use = () if reason else in_order(finite(series[POOL_IN_USE]))
    sizes = nearest_values(in_use, series[POOL_MAX]) if in_use else []
    kept = [i for i, size in enumerate(sizes) if size > 0]
    if reason is None and not kept:
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
    ratios = stored_samples((in_use[i].at, in_use[i].value / sizes[i]) for i in kept)
    by_time = {in_use[i].at: i for i in kept}

    def used_and_size(at: datetime) -> tuple[float, float]:
        index = by_time[at]
        return in_use[index].value, sizes[index]

    inside = w.incident(ratios)
    if inside:
        top = max(inside, key=VALUE)
        used, size = used_and_size(top.at)
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
    at_max = step_figure(
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
        used, size = used_and_size(onset.at)
        text = f"Database connections crossed {percent(th.pool_warning)} ({fraction(used, size)})"
        events.append(DerivedEvent(onset.at, text, POOL_IN_USE))
    start = min(w.start, onset.at) if onset.at else w.start
    full = False
    for ratio in between(ratios, start, w.end):  # time-ordered: a slice, not a scan
        used, size = used_and_size(ratio.at)
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
