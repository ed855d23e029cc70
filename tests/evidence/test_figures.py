"""Report figures over synthetic series: every number checked by hand."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from recorder.evidence.figures import Evidence, Thresholds, build_evidence
from recorder.evidence.series import Sample

T0 = datetime(2025, 10, 26, 14, 0, tzinfo=UTC)  # the alert fires and the incident starts
STEP = 15


def t(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def every(
    start: int, stop: int, value: float | Mapping[int, float], step: int = STEP
) -> list[Sample]:
    """Samples every `step` s in [start, stop); `value` may map a sample's offset to its value."""
    out = []
    for s in range(start, stop, step):
        v = value.get(s, math.nan) if isinstance(value, Mapping) else value
        out.append(Sample(t(s), v))
    return out


def build(
    samples: Mapping[str, Sequence[Sample]],
    *,
    end: float = 600,
    triggered: float | None = 0,
    **kwargs: Any,
) -> Evidence:
    return build_evidence(
        samples,
        baseline_end=T0,
        incident_start=T0,
        incident_end=t(end),
        triggered_at=None if triggered is None else t(triggered),
        sample_interval_seconds=STEP,
        **kwargs,
    )


def rate(before: float, during: float, after: float, *, fault: tuple[int, int]) -> list[Sample]:
    """error_rate every 15 s from -600 to 600: `during` inside `fault`, else before/after."""
    return [
        Sample(t(s), during if fault[0] <= s < fault[1] else before if s < fault[0] else after)
        for s in range(-600, 615, STEP)
    ]


def pool(ratio_by_offset: Mapping[int, float], default: float = 0.2) -> dict[str, list[Sample]]:
    """pool_in_use/pool_max (max 100) every 15 s from -600 to 600."""
    in_use = [Sample(t(s), 100 * ratio_by_offset.get(s, default)) for s in range(-600, 615, STEP)]
    return {"pool_in_use": in_use, "pool_max": every(-600, 615, 100.0)}


def test_normal_error_rate_is_the_median_of_samples_before_the_start() -> None:
    """Normal = median of baseline samples, so a few spikes do not move it."""
    baseline = every(-600, 0, 0.001)
    baseline[3] = Sample(baseline[3].at, 0.9)
    baseline[7] = Sample(baseline[7].at, 0.8)
    ev = build({"error_rate": [*baseline, *every(0, 600, 0.5)]})
    assert ev.error_rate_normal.value == 0.001
    assert ev.error_rate_normal.source.startswith(
        "median of 40 error_rate samples 13:50:00 UTC–13:59:45 UTC"
    )


def test_baseline_start_bounds_the_normal_window() -> None:
    """Samples before `baseline_start` do not count towards normal."""
    samples = [*every(-600, -300, 0.2), *every(-300, 0, 0.002), *every(0, 600, 0.5)]
    ev = build({"error_rate": samples}, baseline_start=t(-300))
    assert ev.error_rate_normal.value == 0.002


def test_error_rate_mean_and_peak_inside_the_incident() -> None:
    """Mean and peak use only samples in [start, end]; the peak carries its time."""
    samples = {
        "error_rate": [
            *every(-600, 0, 0.999),
            Sample(t(0), 0.2),
            Sample(t(15), 0.992),
            Sample(t(30), 0.4),
            *every(615, 700, 1.0),
        ]
    }
    ev = build(samples)
    assert ev.error_rate_mean.value == pytest.approx((0.2 + 0.992 + 0.4) / 3)
    assert (ev.error_rate_peak.value, ev.error_rate_peak.at) == (0.992, t(15))


def test_error_count_peak_and_total_integrate_per_minute_values() -> None:
    """600 failures/minute for the 600 s incident is 6000 failed requests."""
    counts = every(-600, 615, 600.0)
    counts[50] = Sample(counts[50].at, 900.0)  # t = 150
    ev = build({"error_count": counts})
    assert (ev.error_count_peak.value, ev.error_count_peak.at) == (900.0, t(150))
    assert ev.error_count_peak.unit == "failed requests/minute"
    assert ev.errors_total.value == pytest.approx(6000 + 300 * 15 / 60)
    assert ev.errors_total.unit == "failed requests"
    assert "lower bound" not in ev.errors_total.source


def test_errors_total_is_a_lower_bound_across_sampling_gaps() -> None:
    """A 180 s gap counts only the last minute, and the method says so."""
    counts = [Sample(t(s), 60.0) for s in (0, 60, 240, 300)]
    ev = build({"error_count": counts}, end=300)
    assert ev.errors_total.value == pytest.approx(180.0)
    assert "lower bound: 2 minutes of sampling gaps are not counted" in ev.errors_total.source


def test_pool_peak_reads_in_use_over_max() -> None:
    """The peak is the highest in_use/max, printed as 100/100."""
    ev = build(pool(dict.fromkeys(range(60, 240, STEP), 1.0)))
    assert ev.pool_peak.text == "100/100"
    assert ev.pool_peak.ratio == 1.0
    assert ev.pool_peak.at == t(60)


def test_pool_time_at_max_sums_intervals_at_max() -> None:
    """12 samples at max, 15 s apart, hold for 180 s."""
    ev = build(pool(dict.fromkeys(range(60, 240, STEP), 1.0)))
    assert ev.pool_time_at_max.value == pytest.approx(180.0)


def test_downtime_integrates_time_above_outage_level() -> None:
    """20 samples above 5% at 15 s spacing: 300 s of downtime."""
    ev = build({"error_rate": rate(0.001, 0.5, 0.001, fault=(0, 300))})
    assert ev.downtime.value == pytest.approx(300.0)
    assert "step-wise" in ev.downtime.source
    assert "samples cover 600 of 600 s" in ev.downtime.source


def test_downtime_does_not_hold_a_value_across_a_gap() -> None:
    """A sample holds for at most 2.5 intervals: a 60 s gap loses 22.5 s of coverage."""
    samples = [
        s
        for s in rate(0.001, 0.5, 0.001, fault=(0, 300))
        if not 90 < (s.at - T0).total_seconds() < 150
    ]
    ev = build({"error_rate": samples})
    assert ev.downtime.value == pytest.approx(300.0 - 22.5)
    assert "samples cover 577.5 of 600 s" in ev.downtime.source


def test_downtime_is_unknown_without_an_error_rate_signal() -> None:
    """No error_rate: downtime is None with the reason, so the report falls back."""
    ev = build(pool({}))
    assert ev.downtime.value is None
    assert ev.downtime.unknown_reason == "no error_rate samples stored for this incident"


def test_unsampled_reason_is_carried_into_every_dependent_figure() -> None:
    """A signal left unsampled explains each figure it would have fed."""
    reason = "the incident's common labels have no value for label 'service'"
    ev = build({}, unsampled={"error_rate": reason, "pool_max": reason})
    expected = f"error_rate was not sampled: {reason}"
    assert ev.error_rate_normal.unknown_reason == expected
    assert ev.error_rate_peak.unknown_reason == expected
    assert ev.downtime.unknown_reason == expected
    assert ev.pool_peak.unknown == "no pool_in_use samples stored for this incident"
    assert ev.unsampled == {"error_rate": reason, "pool_max": reason}


def test_no_samples_at_all_leaves_every_figure_unknown() -> None:
    """Nothing stored: no figure is guessed, no onset, no detection lines."""
    ev = build({})
    figures = [
        ev.error_rate_normal,
        ev.error_rate_mean,
        ev.error_rate_peak,
        ev.error_count_peak,
        ev.errors_total,
        ev.pool_time_at_max,
        ev.downtime,
    ]
    assert all(f.value is None and f.unknown_reason for f in figures)
    assert ev.onset is None
    assert ev.time_to_detect.unknown_reason == "no signal onset"
    assert ev.detection_quality == ()
    assert ev.derived_timeline == ()


def test_pool_without_max_keeps_the_in_use_peak_but_no_ratio() -> None:
    """Only pool_in_use sampled: the peak count is known, the usage is not."""
    samples = pool(dict.fromkeys(range(60, 240, STEP), 1.0))
    del samples["pool_max"]
    ev = build(samples)
    assert ev.pool_peak.in_use == 100
    assert (ev.pool_peak.text, ev.pool_peak.ratio) == (None, None)
    assert ev.pool_peak.unknown == "no pool_max samples stored for this incident"


def test_no_error_rate_samples_before_the_start_leaves_normal_unknown() -> None:
    """Normal needs baseline samples; the onset then uses the 1% floor alone, and says so."""
    ev = build({"error_rate": [Sample(t(0), 0.005), Sample(t(15), 0.012), Sample(t(30), 0.5)]})
    assert (
        ev.error_rate_normal.unknown_reason == "no error_rate samples before the incident started"
    )
    onset = ev.onsets[0]
    assert (onset.at, onset.level) == (t(15), 0.01)
    assert "normal unknown" in onset.rule


def test_error_rate_onset_needs_ten_times_normal_and_the_floor() -> None:
    """Normal 0.2%: 1.5% is above the floor but under 10×, 3% crosses."""
    samples = [
        *every(-600, -60, 0.002),
        Sample(t(-60), 0.015),
        Sample(t(-30), 0.03),
        *every(0, 600, 0.5),
    ]
    ev = build({"error_rate": samples})
    onset = ev.onsets[0]
    assert (onset.signal, onset.at) == ("error_rate", t(-30))
    assert onset.level == pytest.approx(0.02)


def test_pool_onset_is_the_crossing_that_led_into_the_alert() -> None:
    """An earlier blip that recovered is not the onset; the last crossing before the alert is."""
    ev = build(
        pool({-450: 0.85, -180: 0.85, -165: 0.85} | dict.fromkeys(range(-150, 240, STEP), 1.0))
    )
    onset = ev.onsets[1]
    assert (onset.signal, onset.at, onset.value, onset.since_first_sample) == (
        "pool_in_use",
        t(-180),
        0.85,
        False,
    )
    assert ev.onset == onset


def test_overall_onset_is_the_earliest_signal() -> None:
    """Pool at -180 s beats the error rate at -30 s."""
    samples = pool(dict.fromkeys(range(-180, 240, STEP), 0.9))
    samples["error_rate"] = rate(0.001, 0.5, 0.001, fault=(-30, 300))
    ev = build(samples)
    assert ev.onset is not None
    assert (ev.onset.signal, ev.onset.at) == ("pool_in_use", t(-180))
    assert ev.time_to_detect.value == 180.0


def test_detection_is_good_when_the_alert_fires_soon_after_onset() -> None:
    """Error rate crossed 45 s before the alert (more than one sample): a Good line."""
    samples = [*every(-600, -45, 0.001), *every(-45, 600, 0.5)]
    ev = build({"error_rate": samples})
    assert [(n.verdict, n.text, n.seconds) for n in ev.detection_quality] == [
        ("Good", "alert fired 45 seconds after error rate crossed 1% at 13:59:15 UTC", 45.0)
    ]


def test_a_difference_within_one_sample_is_not_a_finding() -> None:
    """Error rate crossed 12 s before the alert, sampled every 15 s: the line says the
    two happened within one sample instead of "Good" or "after"."""
    samples = [*every(-600, -15, 0.001), Sample(t(-12), 0.3), *every(0, 600, 0.5)]
    ev = build({"error_rate": samples})
    assert [(n.verdict, n.text, n.seconds) for n in ev.detection_quality] == [
        (
            "Within one sample",
            "alert fired and error rate crossed 1% within one sample (15 s)"
            " (error rate crossed 1% at 13:59:48 UTC)",
            12.0,
        )
    ]
    assert ev.time_to_detect.value == 12.0
    assert ev.time_to_detect.text == "12 seconds (within one sample (15 s): not a finding)"


def test_detection_to_improve_when_the_pool_crossed_long_before() -> None:
    """Pool crossed 80% three minutes before the alert: a To Improve line."""
    ev = build(pool({-180: 0.85, -165: 0.9} | dict.fromkeys(range(-150, 240, STEP), 1.0)))
    assert [(n.verdict, n.text) for n in ev.detection_quality] == [
        ("To Improve", "pool crossed 80% at 13:57:00 UTC, 3 minutes before the alert")
    ]


def test_detection_is_good_when_the_alert_fires_before_the_signal() -> None:
    """An alert ahead of the signal's crossing is Good, and the onset is the later crossing."""
    ev = build(pool(dict.fromkeys(range(30, 240, STEP), 1.0)))
    assert ev.onsets[1].at == t(30)
    assert [(n.verdict, n.text) for n in ev.detection_quality] == [
        ("Good", "alert fired 30 seconds before pool crossed 80% at 14:00:30 UTC")
    ]


def test_signal_already_high_at_the_first_sample_may_have_crossed_earlier() -> None:
    """Above the level from the first stored sample: flagged, and never called Good."""
    ev = build(pool({}, default=0.9))
    onset = ev.onsets[1]
    assert (onset.at, onset.since_first_sample) == (t(-600), True)
    assert [(n.verdict, n.text) for n in ev.detection_quality] == [
        (
            "To Improve",
            "pool crossed 80% at 13:50:00 UTC or earlier, 10 minutes before the alert",
        )
    ]


def test_no_detection_lines_without_a_trigger_time() -> None:
    """Without `triggered_at` there is nothing to compare an onset with."""
    ev = build(pool(dict.fromkeys(range(30, 240, STEP), 1.0)), triggered=None)
    assert ev.detection_quality == ()
    assert ev.time_to_detect.unknown_reason == "trigger time unknown"


def test_derived_timeline_entries() -> None:
    """Pool crossing, at max, normalized; error rate peak and back to normal, in time order."""
    samples = pool({-180: 0.85, -165: 0.85} | dict.fromkeys(range(-150, 240, STEP), 1.0))
    samples["error_rate"] = [
        *every(-600, 0, 0.001),
        *every(0, 100, 0.6),
        Sample(t(100), 0.992),
        *every(105, 300, 0.7, step=15),
        *every(300, 600, 0.001),
    ]
    events = [(e.at, e.event) for e in build(samples).derived_timeline]
    assert events == [
        (t(-180), "Database connections crossed 80% (85/100)"),
        (t(-150), "Database connections at max (100/100)"),
        (t(0), "Error rate rose to 60% (warning level 1%)"),
        (t(100), "Error rate peaked at 99.2%"),
        (t(240), "Database connections normalized (20/100)"),
        (t(300), "Error rate back to normal (0.1%)"),
    ]


def test_pool_flapping_at_max_gives_one_at_max_entry() -> None:
    """99/100 between two 100/100 samples is not "normalized"; below 80% is."""
    ev = build(pool({0: 1.0, 15: 0.99, 30: 1.0, 45: 0.99, 60: 0.5}))
    events = [e.event for e in ev.derived_timeline]
    assert events == [
        "Database connections at max (100/100)",
        "Database connections normalized (50/100)",
    ]


def test_nan_samples_are_ignored_by_the_figures() -> None:
    """NaN (0/0 with no traffic) never becomes a peak, a median or an onset."""
    samples = [
        *every(-60, 0, 0.001),
        Sample(t(0), math.nan),
        Sample(t(15), 0.4),
        Sample(t(30), math.inf),
    ]
    ev = build({"error_rate": samples})
    assert ev.error_rate_peak.value == 0.4
    assert ev.onsets[0].at == t(15)


def test_signal_summaries_cover_every_stored_signal() -> None:
    """One summary per signal, sorted by name, with gaps over 2.5 intervals."""
    samples = pool({})
    samples["custom_latency"] = [Sample(t(0), 1.0), Sample(t(15), 3.0), Sample(t(60), math.nan)]
    ev = build(samples)
    assert [s.signal for s in ev.signals] == ["custom_latency", "pool_in_use", "pool_max"]
    custom = ev.signals[0]
    assert (custom.count, custom.finite, custom.mean) == (3, 2, 2.0)
    assert [(g.start, g.end) for g in custom.gaps] == [(t(15), t(60))]


def test_thresholds_are_configurable() -> None:
    """A 50% pool warning moves the onset to the first sample at half capacity."""
    samples = pool({-300: 0.6, -285: 0.6} | dict.fromkeys(range(-270, 240, STEP), 0.9))
    assert build(samples).onsets[1].at == t(-270)
    assert build(samples, thresholds=Thresholds(pool_warning=0.5)).onsets[1].at == t(-300)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"pool_warning": 0},
        {"pool_warning": 1.5},
        {"outage_error_rate": -0.1},
        {"error_rate_factor": 0},
    ],
)
def test_thresholds_reject_values_out_of_range(kwargs: dict[str, float]) -> None:
    """Thresholds are fractions in (0, 1] and a positive factor."""
    with pytest.raises(ValueError, match="must be"):
        Thresholds(**kwargs)


def test_incident_end_before_start_is_rejected() -> None:
    """An end before the start is a caller bug, reported at once."""
    with pytest.raises(ValueError, match="incident_end is before incident_start"):
        build({}, end=-1)


def test_only_nan_samples_are_reported_as_such() -> None:
    """Samples that are all NaN are stored but give no figure, and the reason says so."""
    ev = build({"error_rate": every(-60, 60, math.nan)})
    assert ev.error_rate_peak.unknown_reason == "every stored error_rate sample is NaN or infinite"
