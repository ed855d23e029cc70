"""The evidence model the report consumes: thresholds, figures, onsets, derived events.

One model, produced where it is computed (recorder/evidence) and shown where it is
rendered (recorder/report). Every figure carries its text, composed once with
recorder.evidence.wording; Markdown, HTML and JSON only escape and place it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from recorder.evidence.wording import unknown


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Warning and outage levels, built once from settings (or a resolved incident's frozen
    copy of them). Ratios are fractions (0.8 = 80 %).

    `error_rate_min` may be 0: the warning level is then the factor times normal alone.
    """

    pool_warning: float = 0.8
    error_rate_factor: float = 10.0
    error_rate_min: float = 0.01
    outage_error_rate: float = 0.05
    good_detection_seconds: float = 60.0

    def __post_init__(self) -> None:
        for name in ("pool_warning", "outage_error_rate"):
            value = getattr(self, name)
            if not 0 < value <= 1:
                raise ValueError(f"threshold {name}={value!r} must be a fraction in (0, 1]")
        if not 0 <= self.error_rate_min <= 1:
            raise ValueError(f"error_rate_min={self.error_rate_min!r} must be in [0, 1]")
        if self.error_rate_factor <= 0 or self.good_detection_seconds < 0:
            raise ValueError("error_rate_factor must be > 0 and good_detection_seconds >= 0")


@dataclass(frozen=True, slots=True)
class Figure:
    """One reported figure: value + unit, its text as every format prints it, its derivation.

    `value` is None exactly when the figure is unknown: `unknown_reason` names the cause
    and `text` reads "unknown (cause)". `source` names the instants, signals or method it
    came from; `note` qualifies a known value ("so far"); `at` is when a peak happened.
    """

    name: str
    value: float | bool | None
    unit: str
    text: str
    source: str
    unknown_reason: str | None = None
    note: str | None = None
    at: datetime | None = None

    @classmethod
    def unknown(
        cls, name: str, unit: str, source: str, reason: str, text: str | None = None
    ) -> Figure:
        """A figure that cannot be computed, reading `unknown (reason)` unless `text`."""
        return cls(name, None, unit, text or unknown(reason), source, unknown_reason=reason)


@dataclass(frozen=True, slots=True)
class Onset:
    """When a signal crossed its warning level: the crossing that led into the alert.

    That is the last upward crossing at or before the alert fired, or, if the signal only
    crossed later, the first one after. `since_first_sample` means the signal was already
    at or above the level at the first stored sample, so the real crossing may be earlier.
    `value` and `level` are ratios (pool in_use/max, error rate); `level` is the warning
    level the figures used, which the chart draws. `unknown` says why `at` is None.
    """

    signal: str
    at: datetime | None
    value: float | None
    level: float | None
    rule: str
    since_first_sample: bool = False
    unknown: str | None = None


@dataclass(frozen=True, slots=True)
class DetectionNote:
    """One Detection Quality line: `verdict` is "Good", "To Improve" or "Within one sample";
    `seconds` is the signed difference it states (alert fired − signal crossed)."""

    verdict: str
    text: str
    seconds: float

    @property
    def line(self) -> str:
        """The line as the report prints it."""
        return f"{self.verdict}: {self.text}"


@dataclass(frozen=True, slots=True)
class DerivedEvent:
    """A timeline entry computed from samples (shown as a derived TimelineEntry)."""

    at: datetime
    event: str
    signal: str
