"""How figures read, everywhere: the one wording module."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from recorder.evidence.wording import (
    clock,
    count,
    day,
    duration,
    fraction,
    in_unit,
    percent,
    rfc3339,
    unknown,
)

T0 = datetime(2025, 10, 26, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 seconds"),
        (0.3, "0.3 seconds"),
        (-0.414, "-0.414 seconds"),
        (1, "1 second"),
        (12, "12 seconds"),
        (90, "1 minute 30 seconds"),
        (180, "3 minutes"),
        (-120, "-2 minutes"),
        (7500, "2 hours 5 minutes"),
        (90061, "1 day 1 hour 1 minute 1 second"),
    ],
)
def test_durations_read_in_words_exact_to_the_second(seconds: float, words: str) -> None:
    """Durations print in words with their sign; under half a second the value itself."""
    assert duration(seconds) == words


@pytest.mark.parametrize(
    ("ratio", "text"), [(0.992, "99.2%"), (0.001, "0.1%"), (1.0, "100%"), (0.0005, "0.05%")]
)
def test_percentages(ratio: float, text: str) -> None:
    """Ratios print as percentages the same way in every section."""
    assert percent(ratio) == text


def test_clock_day_and_rfc3339() -> None:
    """Clock times carry UTC and the date when not the report's day; RFC 3339 ends in Z."""
    assert clock(T0) == "14:00:00 UTC"
    assert clock(T0 + timedelta(days=1), date(2025, 10, 26)) == "2025-10-27 14:00:00 UTC"
    assert day(T0) == "2025-10-26"
    assert rfc3339(T0) == "2025-10-26T14:00:00Z"
    assert rfc3339(T0 + timedelta(seconds=0.25)) == "2025-10-26T14:00:00.250000Z"
    assert rfc3339(None) is None


def test_counts_units_and_unknowns() -> None:
    """Counts are whole; samples read in their unit; unknown reads with its cause."""
    assert count(4879.9) == "4,880"
    assert fraction(100.0, 100.0) == "100/100"
    assert in_unit(0.0123, "fraction") == "1.23%"
    assert in_unit(100.0, "connections") == "100 connections"
    assert in_unit(2.5, "") == "2.5"
    assert unknown("no SLO target configured") == "unknown (no SLO target configured)"
