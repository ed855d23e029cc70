"""Exact figures: spans between stored instants, downtime, error budget, SLA breach."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recorder.core.incident import IncidentStatus
from recorder.evidence.figures import Evidence, build_evidence
from recorder.evidence.series import Sample
from recorder.evidence.wording import count, percent, rfc3339
from recorder.report import build_report
from tests.report.cases import T0, at, incident, pool_outage_evidence, report_input, series


def outage(minutes: float, *, end: float = 30, interval: float = 15) -> Evidence:
    """Error rate at 50 % for the first `minutes` of the incident, 0.1 % otherwise."""
    rates = series({-60: 0.001, 0: 0.5, minutes: 0.001}, -60, end)
    return build_evidence(
        {"error_rate": rates},
        baseline_end=T0,
        incident_start=T0,
        incident_end=at(end),
        triggered_at=T0,
        baseline_start=at(-60),
        sample_interval_seconds=interval,
    )


def test_time_to_acknowledge_is_two_minutes_for_instants_two_minutes_apart() -> None:
    """Acknowledged two minutes after the alert fired gives 120 s, printed "2 minutes"."""
    report = build_report(report_input(incident(acknowledged_at=at(2))))
    figure = report.figures["time_to_acknowledge"]
    assert figure.value == 120
    assert figure.unit == "seconds"
    assert figure.text == "2 minutes"
    assert figure.source == "acknowledged_at − triggered_at"


def test_unacknowledged_incident_has_unknown_time_to_acknowledge() -> None:
    """No acknowledgment gives no number, only "unknown (not acknowledged)"."""
    figure = build_report(report_input(incident())).figures["time_to_acknowledge"]
    assert figure.value is None
    assert figure.text == "unknown (not acknowledged)"


def test_notification_delay_is_detected_minus_triggered() -> None:
    """The notification delay is detected at − triggered at, exact to the second."""
    inc = incident(detected_at=T0 + timedelta(seconds=31))
    figure = build_report(report_input(inc)).figures["notification_delay"]
    assert figure.value == 31
    assert figure.text == "31 seconds"


def test_time_to_detect_is_triggered_minus_onset() -> None:
    """The pool crossed 80 % three minutes before the alert: that is the time to detect."""
    report = build_report(report_input(incident(), metrics=pool_outage_evidence()))
    assert report.figures["time_to_detect"].value == 180
    assert report.figures["time_to_detect"].text == "3 minutes"
    assert report.instants["onset"].source == "first sample of pool_in_use at its warning level"


def test_time_to_detect_is_unknown_without_signal_onset() -> None:
    """Without an onset the figure reads "unknown (no signal onset; cause)"."""
    ev = build_evidence(
        {},
        baseline_end=T0,
        incident_start=T0,
        incident_end=at(30),
        triggered_at=T0,
        unsampled={"error_rate": "Prometheus unreachable", "pool_in_use": "no series"},
    )
    figure = build_report(report_input(incident(), metrics=ev)).figures["time_to_detect"]
    assert figure.value is None
    assert figure.text == (
        "unknown (no signal onset; error_rate: error_rate was not sampled: Prometheus"
        " unreachable; pool_in_use: pool_in_use was not sampled: no series)"
    )


def test_a_negative_time_to_detect_is_stated_as_such_in_text_and_json() -> None:
    """The alert fired 0.414 s before the signal crossed: JSON and text carry -0.414 and
    say it is within one sample, not a finding."""
    rates = [
        Sample(at(-1), 0.001),
        Sample(T0 + timedelta(seconds=0.414), 0.5),
        Sample(at(1), 0.5),
    ]
    ev = build_evidence(
        {"error_rate": rates},
        baseline_end=T0,
        incident_start=T0,
        incident_end=at(2),
        triggered_at=T0,
        baseline_start=at(-60),
        sample_interval_seconds=15,
    )
    figure = build_report(report_input(incident(), metrics=ev)).figures["time_to_detect"]
    assert figure.value == pytest.approx(-0.414)
    assert figure.text.startswith("-0.414 seconds (negative: ")
    assert "within one sample (15 s): not a finding" in figure.text


def test_time_to_resolve_is_resolved_minus_triggered() -> None:
    """Resolved 30 minutes after the alert fired gives 1800 s."""
    figure = build_report(report_input(incident())).figures["time_to_resolve"]
    assert (figure.value, figure.text) == (1800, "30 minutes")


def test_ongoing_incident_has_no_time_to_resolve_and_duration_so_far() -> None:
    """An open incident reads "ongoing" and its duration counts up to `now`."""
    inc = incident(status=IncidentStatus.INVESTIGATING, resolved_at=None, resolved_by=None)
    report = build_report(report_input(inc, now=at(12.5)))
    assert report.figures["time_to_resolve"].value is None
    assert report.figures["time_to_resolve"].text == "ongoing"
    assert report.figures["duration"].value == 750
    assert report.figures["duration"].text == "ongoing (12 minutes 30 seconds so far)"


def test_without_error_rate_samples_downtime_budget_and_breach_are_unknown() -> None:
    """No error-rate signal: downtime, budget used and SLA breach read unknown with the
    cause, never the incident's duration."""
    cause = "the incident's common labels have no value for label 'service'"
    ev = pool_outage_evidence(unsampled={"error_rate": cause})
    report = build_report(report_input(incident(), metrics=ev))
    downtime = report.figures["downtime"]
    assert downtime.value is None
    assert downtime.text == f"unknown (error_rate was not sampled: {cause})"
    for name in ("budget_used", "sla_breach"):
        assert report.figures[name].value is None
        assert report.figures[name].text == (
            f"unknown (downtime unknown: error_rate was not sampled: {cause})"
        )
    assert "Total downtime" not in report.summary


def test_without_any_evidence_availability_names_the_cause() -> None:
    """No Prometheus at all: downtime, budget used and SLA breach say so."""
    report = build_report(report_input(incident(), metrics_unknown_reason="no Prometheus"))
    assert report.figures["downtime"].text == "unknown (no Prometheus)"
    assert report.figures["sla_breach"].text == "unknown (downtime unknown: no Prometheus)"


def test_downtime_comes_from_error_rate_when_measured() -> None:
    """An error-rate downtime is used as is: 12 minutes above 5 %."""
    report = build_report(report_input(incident(), metrics=outage(12)))
    assert report.figures["downtime"].value == 720
    assert report.figures["downtime"].text == "12 minutes"
    assert report.figures["downtime"].note is None


def test_thirty_minutes_down_uses_69_4_percent_of_a_99_9_budget() -> None:
    """30 minutes against 43.2 minutes/month is 69.4 % of the budget, no breach."""
    report = build_report(report_input(incident(), slo_target=0.999, metrics=outage(30)))
    assert report.figures["error_budget"].value == pytest.approx(2592)
    assert report.figures["budget_used"].value == pytest.approx(69.444, abs=1e-3)
    assert report.figures["budget_used"].text.startswith("69.4% ")
    assert report.figures["sla_breach"].value is False
    assert report.figures["uptime_target"].text == "99.9% (43 minutes 12 seconds downtime/month)"


def test_fifty_minutes_down_breaches_a_99_9_slo() -> None:
    """50 minutes of downtime exceeds the 43.2-minute monthly budget: SLA breach Yes."""
    inc = incident(resolved_at=at(50))
    data = report_input(inc, slo_target=0.999, metrics=outage(50, end=50))
    figure = build_report(data).figures["sla_breach"]
    assert figure.value is True
    assert figure.text.startswith("Yes")


def test_availability_is_unknown_without_slo_target() -> None:
    """Without an SLO target no budget or breach is claimed."""
    report = build_report(report_input(incident(), slo_target=None))
    for name in ("uptime_target", "error_budget", "budget_used", "sla_breach"):
        assert report.figures[name].value is None
        assert report.figures[name].text == "unknown (no SLO target configured)"


def test_metrics_figures_are_unknown_with_reason_without_evidence() -> None:
    """No evidence turns every metric figure into "unknown (reason)", never a number."""
    report = build_report(report_input(incident(), metrics_unknown_reason="Prometheus timed out"))
    for name in ("normal_error_rate", "error_rate_peak", "peak_error_count", "pool_peak_usage"):
        assert report.figures[name].value is None
        assert report.figures[name].text == "unknown (Prometheus timed out)"


def test_pool_peak_usage_is_in_use_over_max() -> None:
    """A pool peak of 100 of 100 connections is 100 % usage, with its time."""
    figure = build_report(report_input(incident(), metrics=pool_outage_evidence())).figures[
        "pool_peak_usage"
    ]
    assert figure.value == pytest.approx(1.0)
    assert figure.text == "100/100 connections (100%) at 14:00:00 UTC"


@pytest.mark.parametrize(
    ("fraction", "text"),
    [(0.001, "0.1%"), (1.0, "100%"), (0.4213, "42.13%"), (0.0000123, "0.00123%"), (0, "0%")],
)
def test_percentages_print_without_losing_small_rates(fraction: float, text: str) -> None:
    """Small rates keep three significant digits instead of rounding to 0%."""
    assert percent(fraction) == text


def test_request_counts_are_whole_numbers() -> None:
    """Counts print as whole numbers with separators, never "4,879.9 failed requests"."""
    assert (count(152340), count(4879.9)) == ("152,340", "4,880")
    report = build_report(report_input(incident(), metrics=pool_outage_evidence()))
    for name in ("total_failed_requests", "peak_error_count"):
        figure = report.figures[name]
        assert isinstance(figure.value, int), name
        assert "." not in figure.text.split(" at ")[0], figure.text


def test_instants_print_as_rfc3339_utc_with_z() -> None:
    """Instants are RFC 3339 UTC ending in Z, with sub-seconds only when present."""
    assert rfc3339(T0) == "2025-10-26T14:00:00Z"
    assert rfc3339(T0 + timedelta(milliseconds=194)) == "2025-10-26T14:00:00.194000Z"
    assert rfc3339(None) is None
