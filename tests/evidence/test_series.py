"""Samples and series: ordering, merging, integration, pairing and summaries."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from recorder.evidence.series import (
    Sample,
    Series,
    merge_series,
    pair_nearest,
    summarize_series,
    time_where,
    typical_interval,
)

T0 = datetime(2025, 10, 26, 14, 0, tzinfo=UTC)


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_naive_sample_time_is_rejected() -> None:
    """A naive datetime cannot be placed on the UTC timeline."""
    with pytest.raises(ValueError, match="naive"):
        Sample(datetime(2025, 1, 1), 1.0)  # noqa: DTZ001


def test_merge_series_joins_parts_by_labels_and_drops_duplicate_instants() -> None:
    """Halves of a split range query become one series per label set, in time order."""
    a = {"service": "a"}
    b = {"service": "b"}
    left = [Series(b, (Sample(t(0), 1),)), Series(a, (Sample(t(0), 1), Sample(t(1), 2)))]
    right = [Series(a, (Sample(t(1), 99), Sample(t(2), 3)))]
    merged = merge_series(left, right)
    assert [s.labels for s in merged] == [a, b]
    assert [(s.at, s.value) for s in merged[0].samples] == [(t(0), 1), (t(1), 2), (t(2), 3)]


def test_time_where_holds_each_value_until_the_next_sample() -> None:
    """Step-wise: 10 s above, then below; a sample before the window covers its start."""
    samples = [Sample(t(-5), 1.0), Sample(t(10), 0.0), Sample(t(20), 1.0)]
    cover = time_where(samples, lambda v: v > 0.5, start=t(0), end=t(30), max_hold=None)
    assert (cover.matched, cover.covered) == (20.0, 30.0)


def test_time_where_caps_a_hold_at_max_hold() -> None:
    """A value does not stretch over a gap longer than max_hold."""
    samples = [Sample(t(0), 1.0), Sample(t(100), 1.0)]
    cover = time_where(samples, lambda v: v > 0.5, start=t(0), end=t(110), max_hold=25)
    assert (cover.matched, cover.covered) == (35.0, 35.0)


def test_time_where_counts_nan_as_covered_but_not_matching() -> None:
    """NaN is a known "no data" value: covered time, condition false."""
    samples = [Sample(t(0), math.nan), Sample(t(10), 1.0)]
    cover = time_where(samples, lambda v: True, start=t(0), end=t(20), max_hold=None)
    assert (cover.matched, cover.covered) == (10.0, 20.0)


def test_pair_nearest_matches_each_sample_with_the_closest_in_time() -> None:
    """In-use samples pair with the nearest pool max; ties go to the earlier max."""
    in_use = [Sample(t(0), 5), Sample(t(10), 6), Sample(t(16), 7)]
    size = [Sample(t(1), 100), Sample(t(20), 200)]
    assert pair_nearest(in_use, size) == [(t(0), 5, 100), (t(10), 6, 100), (t(16), 7, 200)]
    assert pair_nearest(in_use, []) == []


def test_typical_interval_is_the_median_spacing() -> None:
    """Median spacing over all signals; None without two samples of one signal."""
    samples = {"a": [Sample(t(s), 1) for s in (0, 15, 30, 100)], "b": [Sample(t(0), 1)]}
    assert typical_interval(samples) == 15
    assert typical_interval({"b": [Sample(t(0), 1)]}) is None


def test_summary_counts_finite_values_and_gaps() -> None:
    """NaN is counted but not averaged; spacing over 2.5 intervals is a gap."""
    samples = [Sample(t(s), v) for s, v in ((30, 2.0), (0, 1.0), (15, math.nan), (90, 6.0))]
    summary = summarize_series("x", samples, interval_seconds=15)
    assert (summary.count, summary.finite, summary.min, summary.max) == (4, 3, 1.0, 6.0)
    assert summary.mean == 3.0
    assert (summary.first_at, summary.last_at) == (t(0), t(90))
    assert [(g.start, g.end, g.seconds) for g in summary.gaps] == [(t(30), t(90), 60.0)]
    assert summary.to_dict()["gaps"] == [
        {"start": "2025-10-26T14:00:30Z", "end": "2025-10-26T14:01:30Z", "seconds": 60.0}
    ]


def test_summary_of_no_samples() -> None:
    """An empty series summarizes to zero counts and None values."""
    summary = summarize_series("x", [], interval_seconds=None)
    assert (summary.count, summary.min, summary.first_at, summary.gaps) == (0, None, None, ())
