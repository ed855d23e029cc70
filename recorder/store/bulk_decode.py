"""Decoding the long reads of one incident (its timeline, its samples) row by row in bulk.

A long incident's report reads tens of thousands of rows: each is unpacked by position
once, each distinct stored time is decoded once (the signals share their ticks), and the
samples come out as `recorder.evidence.series.Sample` pairs, which the evidence and the
charts take as they are.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from typing import Any, Protocol

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.evidence.series import as_sample
from recorder.store.codec import TIMELINE_COLUMNS
from recorder.store.times import DecodeTime

FETCH_CHUNK = 8192
"""Rows per fetch where a driver fetches a long read in chunks."""


class ChunkedCursor(Protocol):
    """A cursor that fetches its rows a chunk at a time (aiosqlite's)."""

    async def fetchmany(self, size: int) -> Iterable[Any]: ...


async def chunks(cursor: ChunkedCursor) -> AsyncIterator[list[Any]]:
    """The cursor's rows, `FETCH_CHUNK` at a time, so each chunk can be freed before the
    next is fetched; a short chunk is the last (no fetch that comes back empty: each
    fetch is a trip to the driver's thread)."""
    while True:
        rows = list(await cursor.fetchmany(FETCH_CHUNK))
        if rows:
            yield rows
        if len(rows) < FETCH_CHUNK:
            return


# Enum lookups by value through the class call are slow on 10,000-entry timelines.
_KINDS: dict[str, TimelineKind] = {kind.value: kind for kind in TimelineKind}
if TIMELINE_COLUMNS != ("at", "event", "action", "actor", "source", "kind", "derived"):
    raise RuntimeError("decode_timeline unpacks timeline rows by position: update it")


def decode_timeline(
    rows: Iterable[Iterable[Any]], decode_time: DecodeTime | None
) -> list[TimelineEntry]:
    """The timeline entries stored in `rows` (columns in `TIMELINE_COLUMNS` order);
    `decode_time` None: the driver hands back times decoded already (asyncpg)."""
    kinds = _KINDS
    if decode_time is None:
        return [
            TimelineEntry(at, event, action, actor, source, kinds[kind], bool(derived))
            for at, event, action, actor, source, kind, derived in rows
        ]
    return [
        TimelineEntry(decode_time(at), event, action, actor, source, kinds[kind], bool(derived))
        for at, event, action, actor, source, kind, derived in rows
    ]


def decode_samples(
    rows: Iterable[Iterable[Any]],
    decode_time: DecodeTime,
    *,
    series: dict[str, list[tuple[datetime, float]]] | None = None,
    times: dict[Any, datetime] | None = None,
) -> dict[str, list[tuple[datetime, float]]]:
    """(signal, stored time, value or NULL) rows as each signal's (time, value) pairs
    (Samples, so the report's evidence takes them without a copy), in row order; NULL
    reads as NaN, each distinct time is decoded once.

    Rows fetched in chunks go in chunk by chunk: pass the same `series` (extended and
    returned) and `times` (the decoded times) with each, so a chunk's rows can be freed
    before the next is fetched."""
    times = {} if times is None else times
    series = {} if series is None else series
    points: list[tuple[datetime, float]] = []
    current = None
    nan = math.nan
    for signal, stored, value in rows:
        if signal != current:
            current = signal
            points = series.setdefault(signal, [])
        at = times.get(stored)
        if at is None:
            at = times[stored] = decode_time(stored)
        points.append(as_sample((at, nan if value is None else value)))
    return series


def sample_pairs(
    times: Iterable[datetime], values: Iterable[float]
) -> list[tuple[datetime, float]]:
    """One signal's aggregated times and values as its (time, value) pairs (Samples)."""
    return list(map(as_sample, zip(times, values, strict=True)))
