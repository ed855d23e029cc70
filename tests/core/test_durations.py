"""Durations in words and in the pages' compact form."""

from __future__ import annotations

import pytest

from recorder.core.durations import format_duration, format_duration_short


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (0.4, "0 s"),
        (29, "29 s"),
        (60, "1 min"),
        (303, "5 min 3 s"),
        (3600, "1 h"),
        (3600 + 6 * 60 + 6, "1 h 6 min"),
        (86400 + 59 * 60, "1 d"),
        (2 * 86400 + 3600 + 366, "2 d 1 h"),
        (2004 * 86400 + 3600 + 366, "2004 d 1 h"),
        (-120, "-2 min"),
    ],
)
def test_short_duration_keeps_the_two_largest_units(seconds: float, text: str) -> None:
    """The compact form shows at most two units, cut rather than rounded up."""
    assert format_duration_short(seconds).replace("\u00a0", " ") == text


def test_short_duration_never_has_a_breaking_space() -> None:
    """Every space is non-breaking, so "29 s" cannot wrap to "29" / "s"."""
    text = format_duration_short(2 * 86400 + 3600)
    assert " " not in text
    assert text == "2\u00a0d\u00a01\u00a0h"


def test_words_stay_exact_to_the_second() -> None:
    """The report's long form is unchanged: every unit, in words."""
    assert format_duration(2 * 86400 + 3600 + 366) == "2 days 1 hour 6 minutes 6 seconds"
