"""Bulk decoding of a long incident's timeline and samples (pure, no database)."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime

import pytest

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.store.bulk_decode import FETCH_CHUNK, chunks, decode_samples, decode_timeline
from recorder.store.times import decode_micros, encode_micros

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


class FakeCursor:
    """Hands out `total` rows, counting the fetches."""

    def __init__(self, total: int) -> None:
        self.left = list(range(total))
        self.fetches = 0

    async def fetchmany(self, size: int) -> list[int]:
        self.fetches += 1
        taken, self.left = self.left[:size], self.left[size:]
        return taken


@pytest.mark.parametrize(
    ("total", "fetches"),
    [(0, 1), (5, 1), (FETCH_CHUNK, 2), (FETCH_CHUNK + 1, 2), (2 * FETCH_CHUNK + 3, 3)],
)
def test_chunks_hand_out_every_row_and_stop_after_a_short_chunk(total: int, fetches: int) -> None:
    cursor = FakeCursor(total)

    async def drain() -> list[list[int]]:
        return [rows async for rows in chunks(cursor)]

    got = asyncio.run(drain())
    assert [row for rows in got for row in rows] == list(range(total))
    assert all(rows for rows in got)
    assert cursor.fetches == fetches
