"""How figures read in report text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from recorder.evidence.wording import clock, duration_words, fraction, percent


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (0, "0 seconds"),
        (0.3, "less than a second"),
        (1, "1 second"),
        (12, "12 seconds"),
        (90, "1 minute 30 seconds"),
        (180, "3 minutes"),
        (7500, "2 hours 5 minutes"),
        (90061, "1 day 1 hour 1 minute 1 second"),
    ],
)
def test_durations_read_in_words_exact_to_the_second(seconds: float, words: str) -> None:
    """Durations print in words, as the interface specifies."""
    assert duration_words(seconds) == words


@pytest.mark.parametrize(
    ("ratio", "text"), [(0.992, "99.2 %"), (0.001, "0.1 %"), (1.0, "100 %"), (0.0005, "0.05 %")]
)
def test_percentages(ratio: float, text: str) -> None:
    """Ratios print as percentages with up to three significant digits."""
    assert percent(ratio) == text


def test_clock_and_fraction() -> None:
    """Whole minutes drop the seconds; pool usage prints as in_use/max."""
    assert clock(datetime(2025, 1, 1, 14, 2, tzinfo=UTC)) == "14:02"
    assert clock(datetime(2025, 1, 1, 14, 2, 7, 500000, tzinfo=UTC)) == "14:02:07"
    assert fraction(100.0, 100.0) == "100/100"
    assert fraction(99.5, 100) == "99.5/100"
