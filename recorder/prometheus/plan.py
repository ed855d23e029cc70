"""What to ask Prometheus next for one incident: baseline, live ticks, backfill (pure).

Every query is a range query on one grid: instants that are whole multiples of the
sampling interval since the epoch. Baseline, live ticks, catch-up after an outage and the
backfill at resolution therefore produce the same instants, and a sample fetched twice is
stored once (the store ignores a repeated (incident, signal, at)).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from recorder.prometheus.promapi import MAX_POINTS
from recorder.prometheus.signals import (
    DEFAULT_SERVICE_LABELS,
    MissingLabels,
    RenderedQuery,
    Signal,
    render_query,
)

LEASE_INTERVALS = 3
"""A lease lasts this many sampling intervals (at least): renewed every round."""
TAIL_INTERVALS = 4
"""Without a configured recovery tail, sampling runs this many intervals past resolved_at."""
MAX_SETTLE = timedelta(seconds=5)


@dataclass(frozen=True, slots=True)
class Timing:
    """The sampling grid and windows. `tail` is how long sampling goes on after
    resolution (the recovery tail: did recovery hold?); `settle` is how long after a grid
    instant it is queried, so Prometheus has ingested the scrapes that instant depends on."""

    interval: timedelta
    baseline_window: timedelta
    tail: timedelta
    settle: timedelta

    @classmethod
    def for_interval(
        cls, interval: timedelta, baseline_window: timedelta, tail: timedelta | None = None
    ) -> Timing:
        """Settle of half an interval (at most 5 s); `tail` defaults to 4 intervals (the
        daemon passes `[sampling] recovery_tail`)."""
        if interval <= timedelta(0) or baseline_window < timedelta(0):
            raise ValueError(f"interval {interval} must be > 0 and baseline {baseline_window} >= 0")
        if tail is not None and tail < timedelta(0):
            raise ValueError(f"recovery tail {tail} must be >= 0")
        return cls(
            interval=interval,
            baseline_window=baseline_window,
            tail=TAIL_INTERVALS * interval if tail is None else tail,
            settle=min(interval / 2, MAX_SETTLE),
        )

    @property
    def step_seconds(self) -> float:
        return self.interval.total_seconds()


@dataclass(frozen=True, slots=True)
class Query:
    """One range query of one signal: instants start, start + step, …, end (on the grid)."""

    signal: str
    expr: str
    start: datetime
    end: datetime
    step_seconds: float


@dataclass(frozen=True, slots=True)
class TargetWork:
    """What to do for one incident this round.

    `backfill` means the queries re-read the whole incident (plus baseline and tail) and,
    once they all succeed, the incident's sampling is finished.
    """

    queries: tuple[Query, ...]
    unsampled: tuple[MissingLabels, ...]
    backfill: bool


def align_down(at: datetime, step_seconds: float) -> datetime:
    """The last grid instant at or before `at`."""
    ticks = math.floor(round(at.timestamp() * 1000) / round(step_seconds * 1000))
    return _from_ms(ticks * round(step_seconds * 1000))


def align_after(at: datetime, step_seconds: float) -> datetime:
    """The first grid instant strictly after `at`."""
    step_ms = round(step_seconds * 1000)
    ticks = math.floor(round(at.timestamp() * 1000) / step_ms) + 1
    return _from_ms(ticks * step_ms)


def align_up(at: datetime, step_seconds: float) -> datetime:
    """The first grid instant at or after `at`."""
    down = align_down(at, step_seconds)
    return down if down == at else align_after(at, step_seconds)


def _from_ms(ms: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


def split_range(
    start: datetime, end: datetime, step_seconds: float, *, max_points: int = MAX_POINTS
) -> list[tuple[datetime, datetime]]:
    """[start, end] cut into pieces of at most `max_points` grid instants each, so a long
    range never makes the client coarsen the step (which would leave the grid)."""
    if end < start:
        return []
    span = timedelta(seconds=step_seconds * (max_points - 1))
    pieces = []
    lo = start
    while lo <= end:
        hi = min(lo + span, end)
        pieces.append((lo, hi))
        lo = hi + timedelta(seconds=step_seconds)
    return pieces


def lease_ttl(interval: timedelta, query_timeout: float) -> timedelta:
    """3 intervals, or longer when a round can take longer (two query timeouts)."""
    return max(LEASE_INTERVALS * interval, timedelta(seconds=2 * query_timeout) + interval)


def query_timeout(interval: timedelta) -> float:
    """Seconds one query may take: the interval, within 2..10 s."""
    return min(10.0, max(2.0, interval.total_seconds()))


def backfill_due(resolved_at: datetime, now: datetime, timing: Timing) -> bool:
    """True once Prometheus has the tail after the resolution."""
    return now >= resolved_at + timing.tail + timing.settle


def backfill_range(
    started_at: datetime, resolved_at: datetime, timing: Timing
) -> tuple[datetime, datetime]:
    """From the baseline window before started_at (re-reading it also fills a baseline
    missed at open, and follows started_at moving earlier) to resolved_at + tail."""
    step = timing.step_seconds
    return (
        align_up(started_at - timing.baseline_window, step),
        align_down(resolved_at + timing.tail, step),
    )


def next_range(
    cursor: datetime | None, started_at: datetime, now: datetime, timing: Timing
) -> tuple[datetime, datetime] | None:
    """The grid instants not yet read for one signal: after `cursor` (the last instant
    read or stored; None: from the baseline start) up to the last settled instant."""
    step = timing.step_seconds
    start = (
        align_up(started_at - timing.baseline_window, step)
        if cursor is None
        else align_after(cursor, step)
    )
    end = align_down(now - timing.settle, step)
    return (start, end) if start <= end else None


def plan_target(
    *,
    labels: Mapping[str, str],
    started_at: datetime,
    resolved_at: datetime | None,
    signals: Sequence[Signal],
    cursors: Mapping[str, datetime],
    now: datetime,
    timing: Timing,
    service_labels: Sequence[str] = DEFAULT_SERVICE_LABELS,
) -> TargetWork:
    """The queries for one incident this round.

    Open (or resolved with its tail not yet in Prometheus): each signal from its cursor to
    now. Resolved and due: every signal over the whole backfill range. Signals whose
    `{{label}}` has no value come back in `unsampled` instead of as queries;
    `{{service}}` comes from the first of `service_labels` the incident has.
    """
    rendered: list[RenderedQuery] = []
    unsampled: list[MissingLabels] = []
    for signal in signals:
        result = render_query(signal, labels, service_labels)
        if isinstance(result, MissingLabels):
            unsampled.append(result)
        else:
            rendered.append(result)
    step = timing.step_seconds
    queries: list[Query] = []
    backfill = resolved_at is not None and backfill_due(resolved_at, now, timing)
    for query in rendered:
        if backfill and resolved_at is not None:
            start, end = backfill_range(started_at, resolved_at, timing)
            pieces = split_range(start, end, step)
        else:
            span = next_range(cursors.get(query.signal), started_at, now, timing)
            pieces = split_range(*span, step) if span else []
        queries.extend(Query(query.signal, query.expr, lo, hi, step) for lo, hi in pieces)
    return TargetWork(tuple(queries), tuple(unsampled), backfill)
