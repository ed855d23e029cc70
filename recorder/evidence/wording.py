"""How evidence figures are worded in report text: percentages, clock times, durations."""

from __future__ import annotations

from datetime import datetime

from recorder.evidence.series import rfc3339


def number(value: float | None) -> str:
    """`100` for whole numbers, `99.5` otherwise, `unknown` for None."""
    if value is None:
        return "unknown"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def fraction(used: float, size: float) -> str:
    """`100/100`."""
    return f"{number(used)}/{number(size)}"


def percent(ratio: float) -> str:
    """`99.2 %`, `0.1 %`, `100 %`: three significant digits, no trailing zeros."""
    return f"{ratio * 100:.3g} %"


def clock(at: datetime) -> str:
    """`14:02` or `14:02:07`, in UTC."""
    text = (rfc3339(at) or "")[11:19]
    return text[:5] if text.endswith(":00") else text


def duration_words(seconds: float) -> str:
    """`12 seconds`, `3 minutes`, `1 minute 30 seconds`, `2 hours 5 minutes`."""
    total = round(seconds)
    if total == 0:
        return "less than a second" if seconds > 0 else "0 seconds"
    parts = []
    for size, unit in ((86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        count, total = divmod(total, size)
        if count:
            parts.append(f"{count} {unit}{'s' if count != 1 else ''}")
    return " ".join(parts)
