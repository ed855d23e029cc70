"""Samples and series: the plain values a sampled signal is stored, summarized and integrated as."""

from __future__ import annotations

import bisect
import itertools
import math
import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, NamedTuple, cast

from recorder.evidence.wording import rfc3339

GAP_FACTOR = 2.5
"""Consecutive samples further apart than this many sampling intervals leave a gap."""


class _Point(NamedTuple):
    at: datetime
    value: float


class Sample(_Point):
    """One value of one signal at one instant (timezone-aware).

    A (time, value) pair: a tuple rather than an object with a dict or slots, because a
    long incident holds tens of thousands of them, and the collector stops tracking
    tuples of plain values after one pass instead of scanning each on every collection.
    """

    __slots__ = ()

    def __new__(cls, at: datetime, value: float) -> Sample:
        if at.tzinfo is None:
            raise ValueError(f"sample time {at.isoformat()} is naive; pass an aware UTC time")
        return tuple.__new__(cls, (at, value))


as_sample = cast(Callable[[tuple[datetime, float]], Sample], partial(tuple.__new__, Sample))
"""A stored (time, value) pair as a Sample, in C and with no check: for the stores, which
decode every time as aware UTC."""


def stored_samples(rows: Iterable[tuple[datetime, float]]) -> list[Sample]:
    """Stored (time, value) pairs as Samples (see `as_sample`); a list of Samples, as the
    stores return it, is taken as it is rather than copied."""
    if isinstance(rows, list) and set(map(type, rows)) <= {Sample}:
        return cast(list[Sample], rows)
    return list(map(as_sample, rows))


@dataclass(frozen=True, slots=True)
class Series:
    """One time series as Prometheus returned it: its labels and samples in time order."""

    labels: Mapping[str, str]
    samples: tuple[Sample, ...]


@dataclass(frozen=True, slots=True)
class Gap:
    """An interval with no samples, longer than `GAP_FACTOR` sampling intervals."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        return {"start": rfc3339(self.start), "end": rfc3339(self.end), "seconds": self.seconds}


@dataclass(frozen=True, slots=True)
class SeriesSummary:
    """What one signal's stored samples look like: for the API's `signals` field and tables.

    `finite` counts samples with a finite value; NaN and ±Inf (e.g. 0/0 with no traffic)
    are stored but left out of min, max and mean.
    """

    signal: str
    count: int
    finite: int
    min: float | None
    max: float | None
    mean: float | None
    first_at: datetime | None
    last_at: datetime | None
    gaps: tuple[Gap, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "count": self.count,
            "finite": self.finite,
            "min": self.min,
            "max": self.max,
            "mean": self.mean,
            "first_at": rfc3339(self.first_at),
            "last_at": rfc3339(self.last_at),
            "gaps": [gap.to_dict() for gap in self.gaps],
        }


AT = operator.attrgetter("at")
"""A sample's time: the sort and search key (C-level, unlike a lambda)."""
VALUE = operator.attrgetter("value")
"""A sample's value: the key of peaks."""


def in_order(samples: Sequence[Sample]) -> tuple[Sample, ...]:
    """The samples sorted by time (stable, so equal instants keep their order)."""
    return tuple(sorted(samples, key=AT))


def between(
    samples: Sequence[Sample], lo: datetime | None, hi: datetime, *, include_hi: bool = True
) -> Sequence[Sample]:
    """The time-ordered `samples` from `lo` (inclusive; None: the first) to `hi` (inclusive
    unless `include_hi` is False), by binary search rather than a scan."""
    start = 0 if lo is None else bisect.bisect_left(samples, lo, key=AT)
    search = bisect.bisect_right if include_hi else bisect.bisect_left
    return samples[start : search(samples, hi, lo=start, key=AT)]


def finite(samples: Sequence[Sample]) -> tuple[Sample, ...]:
    """Only the samples whose value is a finite number."""
    return tuple(itertools.compress(samples, map(math.isfinite, map(VALUE, samples))))


def merge_series(*parts: Sequence[Series]) -> list[Series]:
    """Join results of split range queries: one series per label set, samples by time.

    A timestamp present in two parts is kept once (the first part wins). Series come out
    sorted by labels, as Prometheus sorts them.
    """
    by_labels: dict[tuple[tuple[str, str], ...], dict[datetime, Sample]] = {}
    for part in parts:
        for series in part:
            key = tuple(sorted(series.labels.items()))
            points = by_labels.setdefault(key, {})
            for sample in series.samples:
                points.setdefault(sample.at, sample)
    return [
        Series(labels=dict(key), samples=in_order(list(points.values())))
        for key, points in sorted(by_labels.items())
    ]


def typical_interval(samples_by_signal: Mapping[str, Sequence[Sample]]) -> float | None:
    """Median spacing in seconds between consecutive samples of the same signal, if any."""
    spacings: list[float] = []
    for samples in samples_by_signal.values():
        ordered = in_order(samples)
        spacings.extend(
            d for a, b in itertools.pairwise(ordered) if (d := (b.at - a.at).total_seconds()) > 0
        )
    if not spacings:
        return None
    spacings.sort()
    mid = len(spacings) // 2
    return spacings[mid] if len(spacings) % 2 else (spacings[mid - 1] + spacings[mid]) / 2


def summarize_series(
    signal: str, samples: Sequence[Sample], *, interval_seconds: float | None
) -> SeriesSummary:
    """Count, range, mean, first/last time and gaps (> 2.5 intervals) of one signal."""
    ordered = in_order(samples)
    values = [s.value for s in finite(ordered)]
    gaps: tuple[Gap, ...] = ()
    if interval_seconds is not None:
        limit = GAP_FACTOR * interval_seconds
        gaps = tuple(
            Gap(a.at, b.at)
            for a, b in itertools.pairwise(ordered)
            if (b.at - a.at).total_seconds() > limit
        )
    return SeriesSummary(
        signal=signal,
        count=len(ordered),
        finite=len(values),
        min=min(values) if values else None,
        max=max(values) if values else None,
        mean=math.fsum(values) / len(values) if values else None,
        first_at=ordered[0].at if ordered else None,
        last_at=ordered[-1].at if ordered else None,
        gaps=gaps,
    )


@dataclass(frozen=True, slots=True)
class Coverage:
    """Result of a step-wise integration: seconds where a condition held, seconds known."""

    matched: float
    covered: float


def time_where(
    samples: Sequence[Sample],
    condition: Callable[[float], bool],
    *,
    start: datetime,
    end: datetime,
    max_hold: float | None,
) -> Coverage:
    """Step-wise integration: each sample's value holds until the next sample.

    A value holds for at most `max_hold` seconds (so a gap in sampling counts as unknown,
    not as the last value), and only the part inside [start, end] counts. A sample taken
    before `start` therefore covers the start of the window. Non-finite values count as
    covered time where the condition is false.
    """
    ordered = in_order(samples)
    # Float seconds once per sample: datetime arithmetic dominated this loop on long series.
    stamps = list(map(datetime.timestamp, map(AT, ordered)))
    start_ts, end_ts = start.timestamp(), end.timestamp()
    matched = covered = 0.0
    hold_limit = math.inf if max_hold is None else max_hold
    isfinite = math.isfinite
    # Each sample with the time of the next (the window's end after the last).
    nexts = [*stamps[1:], end_ts]
    for at, following, value in zip(stamps, nexts, map(VALUE, ordered), strict=False):
        # max() and min() written out: this loop runs once per sample.
        hold = following - at
        until = at + (hold if hold <= hold_limit else hold_limit)
        lo = at if at >= start_ts else start_ts
        hi = until if until <= end_ts else end_ts
        if hi <= lo:
            continue
        covered += hi - lo
        if isfinite(value) and condition(value):
            matched += hi - lo
    return Coverage(matched=matched, covered=covered)


def pair_nearest(
    left: Sequence[Sample], right: Sequence[Sample]
) -> list[tuple[datetime, float, float]]:
    """For each left sample, (time, left value, value of the right sample nearest in time).

    Used to divide pool in-use by pool max: both are sampled on the same tick, and the
    max rarely changes, so the nearest max is the one that applied. Ties go to the earlier.
    """
    ordered = in_order(finite(left))
    nearest = nearest_values(ordered, right)
    return [(s.at, s.value, v) for s, v in zip(ordered, nearest, strict=False)]


def nearest_values(left: Sequence[Sample], right: Sequence[Sample]) -> list[float]:
    """For each of the time-ordered finite `left` samples, the value of the finite right
    sample nearest in time (ties go to the earlier); [] when the right has none. What
    `pair_nearest` pairs, as plain values: no tuple per sample."""
    right_sorted = in_order(finite(right))
    if not right_sorted:
        return []
    times = [s.at.timestamp() for s in right_sorted]
    last = len(times) - 1
    values: list[float] = []
    i = 0  # both sides are in time order: walk them together instead of searching
    for sample in left:
        at = sample.at.timestamp()
        while i <= last and times[i] < at:
            i += 1
        if i == 0:
            best = 0
        elif i > last:
            best = last
        else:
            # Ties go to the earlier sample.
            best = i - 1 if at - times[i - 1] <= times[i] - at else i
        values.append(right_sorted[best].value)
    return values
