"""Sampling failures as stored rows (migration 0005): one row per incident, signal and
cause, with the first and last failure and how many there were."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from recorder.prometheus.failures import FailureCause, SamplingFailure
from recorder.store.codec import Row
from recorder.store.times import DecodeTime, EncodeTime

FAILURE_COLUMNS: tuple[str, ...] = (
    "signal",
    "cause",
    "error",
    "source",
    "first_at",
    "last_at",
    "count",
)


def failure_values(failure: SamplingFailure, encode_time: EncodeTime) -> tuple[Any, ...]:
    """The failure's column values in `FAILURE_COLUMNS` order."""
    return (
        failure.signal,
        failure.cause.value,
        failure.error,
        failure.source,
        encode_time(failure.first_at),
        encode_time(failure.last_at),
        failure.count,
    )


def build_failure(row: Row, decode_time: DecodeTime) -> SamplingFailure:
    """The sampling failure stored in `row` (columns named as in `FAILURE_COLUMNS`)."""
    return SamplingFailure(
        signal=row["signal"],
        cause=FailureCause(row["cause"]),
        error=row["error"],
        source=row["source"],
        first_at=decode_time(row["first_at"]),
        last_at=decode_time(row["last_at"]),
        count=int(row["count"]),
    )


def merge_failures(failures: Iterable[SamplingFailure]) -> list[SamplingFailure]:
    """One failure per (signal, cause): a batch may hold repeats, and one upsert
    statement cannot touch a row twice."""
    merged: dict[tuple[str, FailureCause], SamplingFailure] = {}
    for failure in failures:
        key = (failure.signal, failure.cause)
        known = merged.get(key)
        if known is None:
            merged[key] = failure
            continue
        newer = failure if failure.last_at >= known.last_at else known
        merged[key] = replace(
            newer,
            first_at=min(known.first_at, failure.first_at),
            count=known.count + failure.count,
        )
    return list(merged.values())
