"""One incident's evidence from stored rows, and the derived timeline entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.evidence.figures import Evidence
from recorder.evidence.incident import (
    build_derived_entries,
    build_incident_evidence,
    merge_timeline,
)
from recorder.evidence.model import Thresholds

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
    """Known figures are sample values; a signal without samples gives its cause."""
    ev = evidence({"error_count": "no value for label 'service'"})
    assert ev.error_rate_normal.value == 0.001
    assert ev.error_rate_peak.value == 0.98
    assert (ev.pool_peak.in_use, ev.pool_peak.max) == (100, 100)
    assert ev.onset is not None
    assert (ev.onset.at, ev.onset.signal) == (at(-15), "pool_in_use")
    assert ev.error_count_peak.value is None
    assert ev.error_count_peak.text == (
        "unknown (error_count was not sampled: no value for label 'service')"
    )
    assert ev.downtime.value is not None
    assert ev.downtime.value > 0
    assert ev.detection_quality


def test_unsampled_reason_is_dropped_once_the_signal_has_samples() -> None:
    """A stored reason for a signal that has samples after all does not hide them."""
    ev = evidence({"pool_in_use": "missing label"})
    assert ev.pool_peak.in_use == 100


def test_downtime_counts_from_the_onset_before_the_alert() -> None:
    """The evidence window starts at the earlier of onset and triggered at: errors above
    the outage level before the alert count as downtime."""
    samples = {
        "error_rate": series([0.001] * 6 + [0.5] * 4 + [0.001] * 2, start=-120),
    }
    ev = build_incident_evidence(
        samples,
        started_at=at(0),
        resolved_at=at(45),
        now=at(600),
        baseline_window=timedelta(minutes=2),
        interval_seconds=15,
        thresholds=Thresholds(),
    )
    assert ev.onset is not None
    assert ev.onset.at == at(-30)
    assert ev.window_start == at(-30)
    # 0.5 from -30 s to +30 s: 60 s, of which 30 s before the alert.
    assert ev.downtime.value == 60.0


def test_a_signal_not_configured_reads_as_such() -> None:
    """A signal sampling is not configured for names that as the cause."""
    ev = build_incident_evidence(
        {"pool_in_use": SAMPLES["pool_in_use"], "pool_max": SAMPLES["pool_max"]},
        started_at=at(0),
        resolved_at=at(45),
        now=at(600),
        baseline_window=timedelta(minutes=1),
        interval_seconds=15,
        thresholds=Thresholds(),
        configured=["pool_in_use", "pool_max"],
    )
    assert ev.downtime.text == "unknown (no error_rate signal configured)"


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
