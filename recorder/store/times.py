"""How each backend stores an instant: SQLite as integer microseconds since the epoch,
PostgreSQL as timestamptz (asyncpg gives aware UTC datetimes). Naive times are refused."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

EncodeTime = Callable[[datetime], Any]
DecodeTime = Callable[[Any], datetime]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def encode_micros(value: datetime) -> int:
    """Exact integer microseconds since the Unix epoch (SQLite's time representation)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored: use UTC")
    return (value - _EPOCH) // _MICROSECOND


def decode_micros(value: int) -> datetime:
    """The UTC datetime `encode_micros` stored."""
    return _EPOCH + timedelta(microseconds=value)


def encode_utc(value: datetime) -> datetime:
    """The datetime as PostgreSQL's timestamptz takes it; naive values are refused."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored: use UTC")
    return value


def decode_utc(value: datetime) -> datetime:
    """timestamptz as returned by asyncpg is already UTC-aware."""
    return value
