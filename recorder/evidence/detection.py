"""Signal onsets and the Detection Quality lines: when each signal crossed its warning level."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Sequence
from datetime import datetime

from recorder.evidence.model import DetectionNote, Onset
from recorder.evidence.series import VALUE, Sample
from recorder.evidence.wording import clock, duration, number, percent

_SIGNAL_WORDS = {"error_rate": "error rate", "pool_in_use": "pool"}
WITHIN_ONE_SAMPLE = "Within one sample"


def within_one_sample(interval_seconds: float | None) -> str:
    """`within one sample (15 s)`: how a difference no larger than the sampling interval reads."""
    if not interval_seconds:
        return "within one sample"
    return f"within one sample ({number(interval_seconds)} s)"


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
    # At or above the level, and the previous sample below it (the samples are finite);
    # C-level maps, as a long incident has thousands of samples.
    above = list(map(level.__le__, map(VALUE, samples)))
    rose = map(operator.gt, above, [False, *above])
    crossings = list(itertools.compress(itertools.count(), rose))
    if not crossings:
        return Onset(signal, None, None, level, rule, unknown=f"never crossed: {rule}")
    before = [i for i in crossings if samples[i].at <= reference]
    index = before[-1] if before else crossings[0]
    hit = samples[index]
    return Onset(signal, hit.at, hit.value, level, rule, since_first_sample=index == 0)


def build_detection_notes(
    onsets: Sequence[Onset],
    triggered_at: datetime | None,
    *,
    good_within: float,
    interval_seconds: float | None,
) -> list[DetectionNote]:
    """One line per known onset, each carrying the signed difference it states.

    A difference no larger than the sampling interval is not a finding: the line says the
    two happened within one sample. Otherwise Good when the alert fired before the signal
    crossed, or within `good_within` seconds after; To Improve when the signal crossed
    earlier than that (or was already past its level at the first sample).
    """
    notes: list[DetectionNote] = []
    if triggered_at is None:
        return notes
    tolerance = interval_seconds or 0.0
    for onset in onsets:
        if onset.at is None or onset.level is None:
            continue
        what = _SIGNAL_WORDS.get(onset.signal, onset.signal)
        level = percent(onset.level)
        lead = (triggered_at - onset.at).total_seconds()
        crossed = f"{what} crossed {level} at {clock(onset.at)}"
        if abs(lead) <= tolerance and not onset.since_first_sample:
            text = (
                f"alert fired and {what} crossed {level} {within_one_sample(interval_seconds)}"
                f" ({crossed})"
            )
            notes.append(DetectionNote(WITHIN_ONE_SAMPLE, text, lead))
        elif lead < 0:
            text = f"alert fired {duration(-lead)} before {crossed}"
            notes.append(DetectionNote("Good", text, lead))
        elif lead <= good_within and not onset.since_first_sample:
            text = f"alert fired {duration(lead)} after {crossed}"
            notes.append(DetectionNote("Good", text, lead))
        else:
            earlier = " or earlier" if onset.since_first_sample else ""
            text = f"{crossed}{earlier}, {duration(lead)} before the alert"
            notes.append(DetectionNote("To Improve", text, lead))
    return notes
