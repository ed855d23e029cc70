"""How figures read, everywhere: instants, clock times, durations, percents and counts.

The one place for each format. Evidence (derived timeline text, methods), the report
(Markdown, HTML, JSON) and the HTTP API all format through these functions.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import overload

from recorder.core.durations import format_duration

__all__ = [
    "clock",
    "count",
    "day",
    "duration",
    "fraction",
    "in_unit",
    "number",
    "percent",
    "rfc3339",
    "signed_duration",
    "unknown",
]


@overload
def rfc3339(at: datetime) -> str: ...


@overload
def rfc3339(at: None) -> None: ...


@overload
def rfc3339(at: datetime | None) -> str | None: ...


def rfc3339(at: datetime | None) -> str | None:
    """RFC 3339 UTC text with a `Z`: `2026-11-28T17:37:03Z`, `…T17:37:03.194000Z`.

    Sub-second digits (microseconds) appear only when the instant has them. None stays
    None (an unknown instant). The one formatter: API, samples and reports use it.
    """
    if at is None:
        return None
    u = at if at.tzinfo is UTC else at.astimezone(UTC)
    return u.isoformat()[:-6] + "Z"  # C-level, "+00:00" cut: reports format thousands


def day(at: datetime) -> str:
    """YYYY-MM-DD of the instant in UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def clock(at: datetime, on: date | None = None, *, zone: str = " UTC") -> str:
    """`HH:MM:SS UTC`, prefixed with the date when it is not the day `on`; `zone=""`
    leaves the zone out (a table whose heading names it)."""
    u = at if at.tzinfo is UTC else at.astimezone(UTC)
    text = u.time().isoformat("seconds")  # C-level; a timeline formats thousands
    if on is not None and u.date() != on:
        return f"{u.date().isoformat()} {text}{zone}"
    return text + zone


def duration(seconds: float) -> str:
    """Words exact to the second, sign kept: `1 minute 30 seconds`, `-2 minutes`.

    Under a second the value itself prints (`-0.414 seconds`), so the text never reads
    `0 seconds` beside a JSON value that is not 0.
    """
    if 0 < abs(seconds) < 0.5:
        return f"{seconds:.3g} seconds"
    return format_duration(seconds)


def signed_duration(seconds: float, *, before: str, after: str) -> str:
    """A signed difference stated as such: `2 minutes after`, `30 seconds before`."""
    words = format_duration(abs(seconds))
    return f"{words} {before if seconds < 0 else after}"


def percent(fraction: float, decimals: int = 2) -> str:
    """A fraction as a percentage: 0.001 -> `0.1%`, 1.0 -> `100%`, 0.98437 -> `98.44%`.

    Up to `decimals` decimals, trailing zeros dropped; below 1 % three significant digits.
    """
    value = fraction * 100
    if value == 0 or not math.isfinite(value):
        return "0%" if value == 0 else f"{value}%"
    if abs(value) < 1:
        decimals = max(decimals, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def count(value: float) -> str:
    """A count of things (requests, connections): a whole number with separators."""
    return f"{round(value):,}"


def number(value: float) -> str:
    """A plain value as measured: `100`, `99.5`, `0.00123` (up to 6 significant digits)."""
    if float(value).is_integer():
        return f"{int(value)}"
    return f"{value:.6g}"


def in_unit(value: float, unit: str) -> str:
    """A sample as its signal's unit reads: percent for fractions, whole counts for
    connections and requests, the plain number otherwise (unit appended when known)."""
    if unit == "fraction":
        return percent(value)
    if not math.isfinite(value):
        return f"{value}"
    if unit in {"connections", "failed requests", "failed requests/minute"}:
        return f"{count(value)} {unit}"
    return f"{number(value)} {unit}".rstrip()


def fraction(used: float, size: float) -> str:
    """`100/100`: pool connections in use out of the maximum."""
    return f"{count(used)}/{count(size)}"


def unknown(cause: str) -> str:
    """The one way an unknown figure reads."""
    return f"unknown ({cause})"
