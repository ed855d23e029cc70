"""Evidence -> MetricFigures and the derived timeline entries merged at report time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.evidence.figures import Evidence, Thresholds
from recorder.report.evidence_figures import (
    build_derived_entries,
    build_incident_evidence,
    build_metric_figures,
    merge_timeline,
)
from recorder.report.model import Onset, Unknown

T = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def series(
    values: list[float], start: float = -60, step: float = 15
) -> list[tuple[datetime, float]]:
    return [(at(start + i * step), v) for i, v in enumerate(values)]


SAMPLES = {
    "error_rate": series([0.001, 0.001, 0.001, 0.001, 0.5, 0.98, 0.98, 0.001]),
    "pool_in_use": series([20, 20, 20, 100, 100, 100, 100, 20]),
    "pool_max": series([100] * 8),
}


def evidence(unsampled: dict[str, str] | None = None) -> Evidence:
    return build_incident_evidence(
        SAMPLES,
        started_at=at(0),
        resolved_at=at(45),
        now=at(600),
        baseline_window=timedelta(minutes=1),
        interval_seconds=15,
        thresholds=Thresholds(),
        unsampled=unsampled,
    )


def test_figures_carry_values_from_samples_and_unknowns_with_reasons() -> None:
    """Known figures are sample values; a signal without samples gives its reason."""
    figures = build_metric_figures(evidence({"error_count": "no value for label 'service'"}))
    assert figures.normal_error_rate == 0.001
    assert figures.error_rate_peak == 0.98
    assert (figures.pool_peak_in_use, figures.pool_max) == (100, 100)
    assert figures.onset == Onset(at(-15), "pool_in_use")
    assert figures.peak_error_count == Unknown(
        "error_count was not sampled: no value for label 'service'"
    )
    assert figures.downtime_seconds is not None
    assert figures.downtime_seconds > 0
    assert not isinstance(figures.detection_quality, Unknown)


def test_unsampled_reason_is_dropped_once_the_signal_has_samples() -> None:
    """A stored reason for a signal that has samples after all does not hide them."""
    figures = build_metric_figures(evidence({"pool_in_use": "missing label"}))
    assert figures.pool_peak_in_use == 100


def test_derived_entries_merge_into_the_timeline_by_time() -> None:
    """Derived entries are marked derived and interleave with stored ones by time."""
    derived = build_derived_entries(evidence())
    assert derived
    assert all(e.derived and e.kind is TimelineKind.DERIVED for e in derived)
    stored = TimelineEntry(at(0), "Alert fired", "", "", "Alertmanager", TimelineKind.ALERT_FIRING)
    merged = merge_timeline([stored], derived)
    assert [e.at for e in merged] == sorted(e.at for e in merged)
    assert stored in merged
    assert any(e.event == "Database connections at max (100/100)" for e in merged)
