"""The evidence window: baseline, incident and the step-wise time a condition held (pure)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from recorder.evidence.model import Figure
from recorder.evidence.series import Sample, between, time_where
from recorder.evidence.units import SECONDS
from recorder.evidence.wording import clock, duration, number

Absent = Callable[[str], "str | None"]


@dataclass(frozen=True, slots=True)
class Window:
    """The instants one incident's figures are computed over: the baseline before it, the
    incident itself, and how long one sample holds (`max_hold`, seconds)."""

    baseline_start: datetime | None
    baseline_end: datetime
    start: datetime
    end: datetime
    triggered_at: datetime | None
    max_hold: float | None

    # Every series here is time-ordered (build_evidence sorts once): windows are slices.
    def baseline(self, samples: Sequence[Sample]) -> Sequence[Sample]:
        return between(samples, self.baseline_start, self.baseline_end, include_hi=False)

    def incident(
        self, samples: Sequence[Sample], start: datetime | None = None
    ) -> Sequence[Sample]:
        return between(samples, self.start if start is None else start, self.end)

    def searched(self, samples: Sequence[Sample]) -> Sequence[Sample]:
        return between(samples, self.baseline_start, self.end)

    @property
    def day(self) -> date:
        return self.start.date()

    @property
    def reference(self) -> datetime:
        """When the alert fired (or, unknown, when the incident started): onsets lead to it."""
        return self.triggered_at or self.start

    def span(self, start: datetime | None = None) -> str:
        return f"{clock(start or self.start, self.day)}–{clock(self.end, self.day)}"


def step_figure(  # noqa: PLR0917 - one call per figure, each argument named at the call
    name: str,
    samples: Sequence[Sample],
    condition: Callable[[float], bool],
    w: Window,
    start: datetime,
    what: str,
    signal: str,
) -> Figure:
    """Seconds `condition` held, step-wise (each sample holds until the next, at most
    `max_hold`), from `start` to the window's end; unknown when no sample covers it."""
    cover = time_where(samples, condition, start=start, end=w.end, max_hold=w.max_hold)
    span = (w.end - start).total_seconds()
    if cover.covered <= 0:
        reason = f"no {signal} samples cover the incident ({w.span(start)})"
        return Figure.unknown(name, SECONDS, signal, reason)
    hold = f" (at most {number(w.max_hold)} s)" if w.max_hold else ""
    method = (
        f"{what}, {w.span(start)}, step-wise: each sample holds until the next{hold};"
        f" samples cover {number(cover.covered)} of {number(span)} s"
    )
    return Figure(name, cover.matched, SECONDS, duration(cover.matched), method)
