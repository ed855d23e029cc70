"""Bulk decoding of a long incident's timeline and samples (pure, no database)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.store.bulk_decode import decode_samples, decode_timeline
from recorder.store.codec import decode_micros, encode_micros

T0 = datetime(2026, 11, 27, 12, 0, 0, 250_000, tzinfo=UTC)


def test_samples_group_by_signal_keep_row_order_and_read_null_as_nan() -> None:
    tick, later = encode_micros(T0), encode_micros(T0) + 15_000_000
    rows = [
        ("error_rate", tick, 0.5),
        ("error_rate", later, None),
        ("pool_max", tick, 100.0),
        ("pool_max", later, 90.0),
    ]
    series = decode_samples(rows, decode_micros)
    assert list(series) == ["error_rate", "pool_max"]
    assert series["pool_max"] == [(T0, 100.0), (decode_micros(later), 90.0)]
    (first, value), (second, missing) = series["error_rate"]
    assert (first, value) == (T0, 0.5)
    assert second == decode_micros(later)
    assert math.isnan(missing)
    assert first is series["pool_max"][0][0]  # one decoded time per distinct tick


def test_timeline_rows_decode_by_position() -> None:
    row = (encode_micros(T0), "Note", "Investigated", "Jane", "PagerDuty", "note", 1)
    assert decode_timeline([row], decode_micros) == [
        TimelineEntry(T0, "Note", "Investigated", "Jane", "PagerDuty", TimelineKind.NOTE, True)
    ]


def test_samples_decoded_chunk_by_chunk_read_as_in_one_go() -> None:
    """A signal split across fetched chunks continues in the same series."""
    rows = [("a", encode_micros(T0) + n * 15_000_000, float(n)) for n in range(5)]
    rows += [("b", encode_micros(T0) + n * 15_000_000, -float(n)) for n in range(3)]
    whole = decode_samples(rows, decode_micros)
    series: dict[str, list[tuple[datetime, float]]] = {}
    times: dict[int, datetime] = {}
    for start in range(0, len(rows), 3):
        decode_samples(rows[start : start + 3], decode_micros, series=series, times=times)
    assert series == whole
    assert [len(points) for points in series.values()] == [5, 3]


def test_timeline_rows_with_driver_decoded_times_keep_them() -> None:
    row = (T0, "Note", "", "", "Recorder", "opened", False)
    (entry,) = decode_timeline([row], None)
    assert entry.at is T0
    assert entry.kind is TimelineKind.OPENED
    assert entry.derived is False
