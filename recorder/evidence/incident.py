"""One incident's evidence from its stored samples, and the derived timeline entries (pure)."""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.evidence.figures import Evidence, build_evidence
from recorder.evidence.model import Thresholds
from recorder.evidence.series import stored_samples

DERIVED_SOURCE = "Prometheus samples"
ENTRY_AT = operator.attrgetter("at")

StoredSeries = Mapping[str, Sequence[tuple[datetime, float]]]


def build_incident_evidence(
    samples: StoredSeries,
    *,
    started_at: datetime,
    resolved_at: datetime | None,
    now: datetime,
    baseline_window: timedelta,
    interval_seconds: float | None,
    thresholds: Thresholds,
    unsampled: Mapping[str, str] | None = None,
    configured: Sequence[str] | None = None,
) -> Evidence:
    """Evidence for one incident from its stored samples.

    Baseline: `baseline_window` before started_at; incident: started_at to resolved_at
    (`now` while open); triggered at = started_at. Samples stored after resolution (the
    recovery tail) are charted but do not count in the incident's figures. A cause stored
    for a signal that has samples after all (its label appeared later) is dropped: the
    samples speak.
    """
    series = {name: stored_samples(rows) for name, rows in samples.items()}
    skipped = {name: why for name, why in (unsampled or {}).items() if not series.get(name)}
    end = resolved_at or now
    return build_evidence(
        series,
        baseline_end=started_at,
        incident_start=started_at,
        incident_end=max(end, started_at),
        triggered_at=started_at,
        thresholds=thresholds,
        unsampled=skipped,
        configured=configured,
        baseline_start=started_at - baseline_window,
        sample_interval_seconds=interval_seconds,
        summarize=False,
    )


def build_derived_entries(evidence: Evidence) -> list[TimelineEntry]:
    """The evidence's derived events as timeline entries marked derived (never stored)."""
    return [
        TimelineEntry(
            at=event.at,
            event=event.event,
            action="",
            by="",
            source=f"{DERIVED_SOURCE} ({event.signal})",
            kind=TimelineKind.DERIVED,
            derived=True,
        )
        for event in evidence.derived_timeline
    ]


def merge_timeline(
    stored: Sequence[TimelineEntry], derived: Sequence[TimelineEntry]
) -> list[TimelineEntry]:
    """One timeline sorted by time; at equal times stored entries come first (stable)."""
    return sorted([*stored, *derived], key=ENTRY_AT)
