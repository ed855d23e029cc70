"""Stored samples to the report's evidence: Evidence -> MetricFigures, derived timeline (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.evidence.figures import Evidence, Figure, Thresholds, build_evidence
from recorder.evidence.series import Sample
from recorder.report.model import MetricFigures, Onset, Unknown

DERIVED_SOURCE = "Prometheus samples"

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
) -> Evidence:
    """Evidence for one incident from its stored samples.

    Baseline: `baseline_window` before started_at; incident: started_at to resolved_at
    (`now` while open); triggered at = started_at. A reason stored for a signal that has
    samples after all (its label appeared later) is dropped: the samples speak.
    """
    series = {name: [Sample(at, value) for at, value in rows] for name, rows in samples.items()}
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
        baseline_start=started_at - baseline_window,
        sample_interval_seconds=interval_seconds,
        summarize=False,
    )


def _value(figure: Figure) -> float | Unknown:
    if figure.value is None:
        return Unknown(figure.unknown or "no samples")
    return figure.value


def build_metric_figures(evidence: Evidence) -> MetricFigures:
    """The report's MetricFigures; every unknown carries the evidence's reason."""
    onset: Onset | Unknown
    if evidence.onset is not None and evidence.onset.at is not None:
        onset = Onset(evidence.onset.at, evidence.onset.signal)
    else:
        reasons = [f"{o.signal}: {o.unknown}" for o in evidence.onsets if o.unknown]
        onset = Unknown("; ".join(reasons) or "no signal crossed its warning level")
    pool = evidence.pool_peak
    pool_reason = Unknown(pool.unknown or "no pool samples")
    notes = [f"{note.verdict}: {note.text}" for note in evidence.detection_quality]
    quality: Sequence[str] | Unknown = notes
    if not notes and not isinstance(onset, Onset):
        quality = onset
    downtime = evidence.downtime
    return MetricFigures(
        onset=onset,
        normal_error_rate=_value(evidence.error_rate_normal),
        normal_error_rate_method=evidence.error_rate_normal.method,
        error_rate_mean=_value(evidence.error_rate_mean),
        error_rate_peak=_value(evidence.error_rate_peak),
        error_rate_peak_at=evidence.error_rate_peak.at,
        peak_error_count=_value(evidence.error_count_peak),
        peak_error_count_at=evidence.error_count_peak.at,
        total_failed_requests=_value(evidence.errors_total),
        pool_peak_in_use=pool.in_use if pool.in_use is not None else pool_reason,
        pool_max=pool.max if pool.max is not None else pool_reason,
        pool_peak_at=pool.at,
        time_at_pool_max_seconds=_value(evidence.pool_time_at_max),
        downtime_seconds=downtime.value,
        downtime_method=downtime.method,
        detection_quality=quality,
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
    return sorted([*stored, *derived], key=lambda entry: entry.at)
