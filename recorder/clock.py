"""Clocks: the shell reads time here and passes it into the pure core."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Source of the current UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The machine's clock, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
