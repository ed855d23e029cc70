"""Durations: parse config strings like "10m", print spans in words exact to the second."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


class InvalidDuration(ValueError):
    """A duration string that is not like "90s", "10m", "1h30m"."""

    def __init__(self, text: str) -> None:
        super().__init__(
            f"invalid duration {text!r}: use a number with a unit, e.g. 15s, 10m, 1h30m, 2d"
        )
        self.text = text


def parse_duration(text: str) -> timedelta:
    """Parse Prometheus-style durations ("15s", "1h30m", "500ms", "2d") into a timedelta."""
    stripped = text.strip()
    pos = 0
    total = 0.0
    for match in _PART.finditer(stripped):
        if match.start() != pos:
            raise InvalidDuration(text)
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(stripped) or not stripped:
        raise InvalidDuration(text)
    return timedelta(seconds=total)


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def format_duration(seconds: float) -> str:
    """Words exact to the second: "1 minute 30 seconds", "2 hours 5 minutes", "0 seconds".

    Fractions of a second are rounded to the nearest second; negative spans keep their sign
    ("-2 minutes") because a figure must never hide that an instant came before another.
    """
    whole = round(seconds)
    sign = "-" if whole < 0 else ""
    whole = abs(whole)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        _plural(value, unit)
        for value, unit in ((days, "day"), (hours, "hour"), (minutes, "minute"), (secs, "second"))
        if value
    ]
    if not parts:
        return "0 seconds"
    return sign + " ".join(parts)


_SHORT_UNITS = ((86400, "d"), (3600, "h"), (60, "min"), (1, "s"))
NBSP = "\u00a0"


def format_duration_short(seconds: float) -> str:
    """At most the two largest units, cut (never rounded up) to the smaller: "2 d 1 h",
    "5 min 3 s", "29 s", "0 s". Spaces are non-breaking so a table cell never splits it.

    A negative span keeps its sign, as in `format_duration`.
    """
    whole = round(seconds)
    sign = "-" if whole < 0 else ""
    rest = abs(whole)
    parts: list[str] = []
    for size, unit in _SHORT_UNITS:
        count, rest = divmod(rest, size)
        if count or parts:
            parts.append(f"{count}{NBSP}{unit}")
        if len(parts) == 2:
            break
    parts = [p for p in parts if not p.startswith(f"0{NBSP}")] or [f"0{NBSP}s"]
    return sign + NBSP.join(parts)
