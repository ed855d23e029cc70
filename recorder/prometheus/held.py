"""What the sampler remembers of an incident while its replica holds the lease. Pure.

Sampling failures wait here until they are due to be written: when one is new (a signal
or cause not written yet), FAILURES_EVERY after the last write, or at the backfill. An
outage or an always-empty query so costs a write a minute per incident, not one a round,
and the counts still add up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from recorder.prometheus.failures import FailureCause, SamplingFailure

FAILURES_EVERY = timedelta(minutes=1)
"""Repeated sampling failures of one incident are written at most this often."""


@dataclass
class HeldIncident:
    """Per-incident state while this replica holds its lease: each signal's cursor, the
    unsampled reasons already written, and the failures waiting to be written."""

    cursors: dict[str, datetime]
    unsampled_saved: set[str] = field(default_factory=set)
    failures: list[SamplingFailure] = field(default_factory=list)
    failures_saved: set[tuple[str, FailureCause]] = field(default_factory=set)
    failures_saved_at: datetime | None = None

    def failures_due(self, now: datetime, *, final: bool) -> bool:
        """True when the waiting failures should be written now (see the module docstring)."""
        if not self.failures:
            return False
        return (
            final
            or not self._failure_keys() <= self.failures_saved
            or self.failures_saved_at is None
            or now - self.failures_saved_at >= FAILURES_EVERY
        )

    def failures_written(self, now: datetime) -> None:
        """Note that the waiting failures were written at `now`."""
        self.failures_saved |= self._failure_keys()
        self.failures = []
        self.failures_saved_at = now

    def _failure_keys(self) -> set[tuple[str, FailureCause]]:
        return {(f.signal, f.cause) for f in self.failures}
