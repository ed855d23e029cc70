"""Exact figures: spans between stored instants, downtime fallback, error budget, SLA breach."""

from __future__ import annotations

from datetime import timedelta

import pytest

from recorder.core.incident import IncidentStatus
from recorder.report import MetricFigures, Onset, Unknown, build_report
from recorder.report.figures import format_count, format_percent, format_rfc3339
from tests.report.cases import T0, at, incident, report_input


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
    """An onset 3 minutes 15 seconds before the alert gives that time to detect."""
    metrics = MetricFigures(onset=Onset(T0 - timedelta(minutes=3, seconds=15), "pool_in_use"))
    report = build_report(report_input(incident(), metrics=metrics))
    assert report.figures["time_to_detect"].value == 195
    assert report.figures["time_to_detect"].text == "3 minutes 15 seconds"
    assert report.instants["onset"].source == "first sample of pool_in_use at its warning level"


def test_time_to_detect_is_unknown_without_signal_onset() -> None:
    """Without an onset the figure reads "unknown (no signal onset; reason)"."""
    metrics = MetricFigures(onset=Unknown("no error_rate samples"))
    figure = build_report(report_input(incident(), metrics=metrics)).figures["time_to_detect"]
    assert figure.value is None
    assert figure.text == "unknown (no signal onset; no error_rate samples)"


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


def test_downtime_falls_back_to_incident_duration_marked_as_such() -> None:
    """With no error-rate downtime the incident duration is used and says so."""
    report = build_report(report_input(incident(), metrics=MetricFigures()))
    figure = report.figures["downtime"]
    assert figure.value == 1800
    assert figure.note == "incident duration; no error-rate signal"
    assert figure.text == "30 minutes (incident duration; no error-rate signal)"


def test_downtime_comes_from_error_rate_when_measured() -> None:
    """An error-rate downtime is used as is, without the fallback mark."""
    report = build_report(report_input(incident(), metrics=MetricFigures(downtime_seconds=1560)))
    assert report.figures["downtime"].value == 1560
    assert report.figures["downtime"].note is None


def test_thirty_minutes_down_uses_69_4_percent_of_a_99_9_budget() -> None:
    """30 minutes against 43.2 minutes/month is 69.4 % of the budget, no breach."""
    report = build_report(report_input(incident(), slo_target=0.999))
    assert report.figures["error_budget"].value == pytest.approx(2592)
    assert report.figures["budget_used"].value == pytest.approx(69.444, abs=1e-3)
    assert report.figures["budget_used"].text.startswith("69.4% ")
    assert report.figures["sla_breach"].value is False
    assert report.figures["uptime_target"].text == "99.9% (43 minutes 12 seconds downtime/month)"


def test_fifty_minutes_down_breaches_a_99_9_slo() -> None:
    """50 minutes of downtime exceeds the 43.2-minute monthly budget: SLA breach Yes."""
    inc = incident(resolved_at=at(50))
    figure = build_report(report_input(inc, slo_target=0.999)).figures["sla_breach"]
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
    """A pool peak of 90 of 100 connections is 90 % usage."""
    metrics = MetricFigures(pool_peak_in_use=90, pool_max=100, pool_peak_at=at(3))
    figure = build_report(report_input(incident(), metrics=metrics)).figures["pool_peak_usage"]
    assert figure.value == pytest.approx(0.9)
    assert figure.text == "90/100 connections (90%) at 14:03:00 UTC"


@pytest.mark.parametrize(
    ("fraction", "text"),
    [(0.001, "0.1%"), (1.0, "100%"), (0.4213, "42.13%"), (0.0000123, "0.00123%"), (0, "0%")],
)
def test_percentages_print_without_losing_small_rates(fraction: float, text: str) -> None:
    """Small rates keep three significant digits instead of rounding to 0%."""
    assert format_percent(fraction) == text


def test_counts_print_with_thousands_separators() -> None:
    """Whole counts print as integers, fractional ones with one decimal."""
    assert (format_count(152340), format_count(1234.56)) == ("152,340", "1,234.6")


def test_instants_print_as_rfc3339_utc_with_z() -> None:
    """Instants are RFC 3339 UTC ending in Z, with sub-seconds only when present."""
    assert format_rfc3339(T0) == "2025-10-26T14:00:00Z"
    assert format_rfc3339(T0 + timedelta(milliseconds=194)) == "2025-10-26T14:00:00.194000Z"
