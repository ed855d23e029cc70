"""Instants and figures: time spans, availability and error budget, and the evidence's (pure)."""

from __future__ import annotations

from recorder.core.incident import Incident
from recorder.evidence.budget import error_budget_seconds
from recorder.evidence.model import Figure
from recorder.evidence.units import FRACTION, PER_MINUTE, REQUESTS, SECONDS
from recorder.evidence.wording import duration, percent
from recorder.report.model import Instant, ReportInput

ERROR_FIGURES: tuple[tuple[str, str], ...] = (
    ("normal_error_rate", FRACTION),
    ("error_rate_mean", FRACTION),
    ("error_rate_peak", FRACTION),
    ("peak_error_count", PER_MINUTE),
    ("total_failed_requests", REQUESTS),
    ("pool_peak_usage", FRACTION),
    ("time_at_pool_max", SECONDS),
)


def opened_by_pagerduty(incident: Incident) -> bool:
    """True when PagerDuty, not an alert router, opened the incident."""
    return incident.opened_by.lower().startswith("pagerduty")


def build_instants(data: ReportInput) -> dict[str, Instant]:
    """The stored instants every figure is derived from, in report order."""
    incident = data.view.incident
    evidence = data.metrics
    onset_field = "metrics.onset"
    if evidence is None:
        onset = Instant("onset", None, "signal samples", onset_field, data.metrics_unknown_reason)
    elif evidence.onset is None or evidence.onset.at is None:
        reasons = [f"{o.signal}: {o.unknown}" for o in evidence.onsets if o.unknown]
        reason = "; ".join(reasons) or "no signal crossed its warning level"
        onset = Instant("onset", None, "signal samples", onset_field, reason)
    else:
        source = f"first sample of {evidence.onset.signal} at its warning level"
        onset = Instant("onset", evidence.onset.at, source, onset_field)
    # PagerDuty may open the incident before the alerts arrive; once they do, the
    # earliest startsAt is the trigger (the lifecycle moves started_at to it).
    alert_starts = [alert.starts_at for alert in data.view.alerts.values()]
    from_alert = bool(alert_starts) and min(alert_starts) <= incident.started_at
    triggered_source = (
        "PagerDuty incident created_at"
        if opened_by_pagerduty(incident) and not from_alert
        else "earliest alert startsAt"
    )
    ack_by = f" by {incident.acknowledged_by}" if incident.acknowledged_by else ""
    resolved_by = f" by {incident.resolved_by}" if incident.resolved_by else ""
    return {
        "onset": onset,
        "triggered_at": Instant(
            "triggered_at", incident.started_at, triggered_source, "incident.started_at"
        ),
        "detected_at": Instant(
            "detected_at",
            incident.detected_at,
            "first notification received",
            "incident.detected_at",
        ),
        "acknowledged_at": Instant(
            "acknowledged_at",
            incident.acknowledged_at,
            f"acknowledgment{ack_by}",
            "incident.acknowledged_at",
            None if incident.acknowledged_at else "not acknowledged",
        ),
        "resolved_at": Instant(
            "resolved_at",
            incident.resolved_at,
            f"resolution{resolved_by}",
            "incident.resolved_at",
            None if incident.resolved_at else "ongoing",
        ),
        "generated_at": Instant("generated_at", data.now, "report generation time", "now"),
    }


def _duration(name: str, seconds: float, source: str, note: str | None = None) -> Figure:
    return Figure(name, float(seconds), SECONDS, duration(seconds), source, note=note)


def build_time_figures(data: ReportInput, instants: dict[str, Instant]) -> dict[str, Figure]:
    """Time to detect / acknowledge / resolve, notification delay, duration."""
    incident = data.view.incident
    triggered = incident.started_at
    onset = instants["onset"]
    figures: dict[str, Figure] = {}

    evidence = data.metrics
    source = "triggered_at − onset"
    if evidence is not None and onset.at is not None:
        figures["time_to_detect"] = evidence.time_to_detect
    else:
        reason = f"no signal onset; {onset.unknown_reason}"
        figures["time_to_detect"] = Figure.unknown("time_to_detect", SECONDS, source, reason)

    figures["notification_delay"] = _duration(
        "notification_delay",
        (incident.detected_at - triggered).total_seconds(),
        "detected_at − triggered_at",
    )

    source = "acknowledged_at − triggered_at"
    if incident.acknowledged_at is None:
        figures["time_to_acknowledge"] = Figure.unknown(
            "time_to_acknowledge", SECONDS, source, "not acknowledged"
        )
    else:
        figures["time_to_acknowledge"] = _duration(
            "time_to_acknowledge", (incident.acknowledged_at - triggered).total_seconds(), source
        )

    source = "resolved_at − triggered_at"
    if incident.resolved_at is None:
        figures["time_to_resolve"] = Figure.unknown(
            "time_to_resolve", SECONDS, source, "ongoing", text="ongoing"
        )
        so_far = (data.now - incident.started_at).total_seconds()
        figures["duration"] = Figure(
            "duration",
            so_far,
            SECONDS,
            f"ongoing ({duration(so_far)} so far)",
            "generated_at − triggered_at",
            note="so far",
        )
    else:
        seconds = (incident.resolved_at - triggered).total_seconds()
        figures["time_to_resolve"] = _duration("time_to_resolve", seconds, source)
        figures["duration"] = _duration("duration", seconds, "resolved_at − triggered_at")
    return figures


def build_availability_figures(data: ReportInput, ongoing: bool) -> dict[str, Figure]:
    """Downtime, uptime target, error budget, budget used and SLA breach.

    Downtime comes from error-rate samples only; without them it is unknown with the
    cause, and so are budget used and SLA breach (never the incident's duration).
    """
    figures: dict[str, Figure] = {}
    evidence = data.metrics
    so_far = " so far" if ongoing else ""
    if evidence is None:
        downtime = Figure.unknown("downtime", SECONDS, "error_rate", data.metrics_unknown_reason)
    else:
        downtime = evidence.downtime
        if ongoing and downtime.value is not None:
            downtime = Figure(
                "downtime",
                downtime.value,
                SECONDS,
                f"{downtime.text}{so_far}",
                downtime.source,
                note="so far",
            )
    figures["downtime"] = downtime

    slo = data.slo_target
    if slo is None:
        reason = "no SLO target configured"
        figures["uptime_target"] = Figure.unknown("uptime_target", FRACTION, "slo_target", reason)
        figures["error_budget"] = Figure.unknown("error_budget", SECONDS, "slo_target", reason)
        figures["budget_used"] = Figure.unknown("budget_used", "percent", "downtime", reason)
        figures["sla_breach"] = Figure.unknown("sla_breach", "boolean", "downtime", reason)
        return figures

    budget = error_budget_seconds(slo)
    budget_text = duration(budget)
    figures["uptime_target"] = Figure(
        "uptime_target",
        slo,
        FRACTION,
        f"{percent(slo, decimals=4)} ({budget_text} downtime/month)",
        "slo_target",
    )
    figures["error_budget"] = Figure(
        "error_budget", budget, SECONDS, budget_text, "30 days × (1 − slo_target)"
    )
    budget_source = "downtime ÷ error_budget"
    if downtime.value is None or isinstance(downtime.value, bool):
        reason = f"downtime unknown: {downtime.unknown_reason}"
        figures["budget_used"] = Figure.unknown("budget_used", "percent", budget_source, reason)
        figures["sla_breach"] = Figure.unknown(
            "sla_breach", "boolean", "downtime > error_budget", reason
        )
        return figures
    seconds = float(downtime.value)
    used = round(seconds / budget * 100, 3)
    figures["budget_used"] = Figure(
        "budget_used",
        used,
        "percent",
        f"{percent(used / 100, decimals=1)} of the monthly error budget{so_far}",
        budget_source,
    )
    breach = seconds > budget
    text = (
        f"Yes (this incident alone exceeds the monthly budget of {budget_text}{so_far})"
        if breach
        else f"No (within the monthly budget of {budget_text}{so_far})"
    )
    figures["sla_breach"] = Figure("sla_breach", breach, "boolean", text, "downtime > error_budget")
    return figures


def build_error_figures(data: ReportInput) -> dict[str, Figure]:
    """Normal vs during-incident error rate, peak error count, failed requests, pool usage:
    the evidence's own figures, or unknown with the reason there is no evidence."""
    evidence = data.metrics
    if evidence is None:
        reason = data.metrics_unknown_reason
        return {name: Figure.unknown(name, unit, "metrics", reason) for name, unit in ERROR_FIGURES}
    return evidence.figures
