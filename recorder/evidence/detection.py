"""Signal onsets and the Detection Quality lines: when each signal crossed its warning level."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from recorder.evidence.series import Sample, json_number, rfc3339
from recorder.evidence.wording import clock, duration_words, percent

_SIGNAL_WORDS = {"error_rate": "error rate", "pool_in_use": "pool"}


@dataclass(frozen=True, slots=True)
class Onset:
    """When a signal crossed its warning level: the crossing that led into the alert.

    That is the last upward crossing at or before the alert fired, or, if the signal only
    crossed later, the first one after. `since_first_sample` means the signal was already
    at or above the level at the first stored sample, so the real crossing may be earlier.
    `value` and `level` are ratios (pool in_use/max, error rate).
    """

    signal: str
    at: datetime | None
    value: float | None
    level: float | None
    rule: str
    since_first_sample: bool = False
    unknown: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "signal": self.signal,
            "at": rfc3339(self.at),
            "value": json_number(self.value),
            "level": self.level,
            "rule": self.rule,
            "since_first_sample": self.since_first_sample,
            "unknown": self.unknown,
        }


@dataclass(frozen=True, slots=True)
class DetectionNote:
    """One Detection Quality line: `verdict` is "Good" or "To Improve"."""

    verdict: str
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "text": self.text}


def find_onset(
    signal: str,
    samples: Sequence[Sample],
    *,
    level: float,
    rule: str,
    reference: datetime,
) -> Onset:
    """The onset of `signal` in time-ordered finite `samples` relative to `reference`.

    An upward crossing is a sample ≥ `level` whose previous sample was below it (or the
    first sample, when it is already at or above). `reference` is when the alert fired.
    """
    crossings = [
        i
        for i, s in enumerate(samples)
        if s.value >= level and (i == 0 or samples[i - 1].value < level)
    ]
    if not crossings:
        return Onset(signal, None, None, level, rule, unknown=f"never crossed: {rule}")
    before = [i for i in crossings if samples[i].at <= reference]
    index = before[-1] if before else crossings[0]
    hit = samples[index]
    return Onset(signal, hit.at, hit.value, level, rule, since_first_sample=index == 0)


def build_detection_notes(
    onsets: Sequence[Onset], triggered_at: datetime | None, *, good_within: float
) -> list[DetectionNote]:
    """One line per known onset: Good when the alert fired within `good_within` seconds
    of it (or before it), To Improve when the signal crossed its level earlier than that."""
    notes: list[DetectionNote] = []
    if triggered_at is None:
        return notes
    for onset in onsets:
        if onset.at is None or onset.level is None:
            continue
        what = _SIGNAL_WORDS.get(onset.signal, onset.signal)
        level = percent(onset.level)
        lead = (triggered_at - onset.at).total_seconds()
        if lead <= 0:
            text = f"alert fired {duration_words(-lead)} before {what} crossed {level}"
            notes.append(DetectionNote("Good", text))
            continue
        crossed = f"{what} crossed {level} at {clock(onset.at)} UTC"
        if lead <= good_within and not onset.since_first_sample:
            text = f"alert fired {duration_words(lead)} after onset ({crossed})"
            notes.append(DetectionNote("Good", text))
        else:
            earlier = " or earlier" if onset.since_first_sample else ""
            text = f"{crossed}{earlier}, {duration_words(lead)} before the alert"
            notes.append(DetectionNote("To Improve", text))
    return notes
