"""Times and figures: instants, spans, error budget and their plain-text forms (pure)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

from recorder.core.durations import format_duration
from recorder.core.incident import Incident
from recorder.report.model import Figure, Instant, MetricFigures, ReportInput, Unknown

BUDGET_PERIOD_SECONDS = 30 * 86400
"""The SLO's monthly window: budget = 30 days x (1 - target)."""

DOWNTIME_FALLBACK_NOTE = "incident duration; no error-rate signal"
SECONDS = "seconds"
FRACTION = "fraction"
CONNECTIONS = "connections"


# --------------------------------------------------------------------------- formatting


def format_rfc3339(at: datetime) -> str:
    """RFC 3339 in UTC with "Z"; sub-second digits only when the instant has them."""
    u = at if at.tzinfo is UTC else at.astimezone(UTC)
    return u.replace(tzinfo=None).isoformat() + "Z"  # C-level isoformat: reports format many


def format_day(at: datetime) -> str:
    """YYYY-MM-DD of the instant in UTC."""
    return at.astimezone(UTC).strftime("%Y-%m-%d")


def format_clock(at: datetime, day: date | None = None) -> str:
    """HH:MM:SS UTC, prefixed with the date when it differs from `day`."""
    u = at if at.tzinfo is UTC else at.astimezone(UTC)
    clock = u.time().isoformat("seconds")  # C-level; a timeline formats thousands
    if day is not None and u.date() != day:
        return f"{u.date().isoformat()} {clock} UTC"
    return f"{clock} UTC"


def format_percent(fraction: float, decimals: int = 2) -> str:
    """A fraction as a percentage: 0.001 -> "0.1%", 1.0 -> "100%"; 3 significant digits < 1 %."""
    percent = fraction * 100
    if percent == 0:
        return "0%"
    if abs(percent) < 1:
        decimals = max(decimals, 2 - math.floor(math.log10(abs(percent))))
    text = f"{percent:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


def format_count(value: float) -> str:
    """A count with thousands separators; one decimal only when the count is fractional."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def unknown_text(reason: str) -> str:
    """The one way an unknown figure prints."""
    return f"unknown ({reason})"


# --------------------------------------------------------------------------- instants


def span_seconds(start: datetime, end: datetime) -> float:
    """Seconds from `start` to `end` (negative when `end` comes first)."""
    return (end - start).total_seconds()


def opened_by_pagerduty(incident: Incident) -> bool:
    """True when PagerDuty, not an alert router, opened the incident."""
    return incident.opened_by.lower().startswith("pagerduty")


def build_instants(data: ReportInput) -> dict[str, Instant]:
    """The stored instants every figure is derived from, in report order."""
    incident = data.view.incident
    metrics = data.metrics
    onset_field = "metrics.onset"
    if metrics is None:
        onset = Instant("onset", None, "signal samples", onset_field, data.metrics_unknown_reason)
    elif isinstance(metrics.onset, Unknown):
        onset = Instant("onset", None, "signal samples", onset_field, metrics.onset.reason)
    else:
        signal = metrics.onset.signal
        source = f"first sample of {signal} at its warning level"
        onset = Instant("onset", metrics.onset.at, source, onset_field)
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


# --------------------------------------------------------------------------- figures


def _duration(name: str, seconds: float, source: str, note: str | None = None) -> Figure:
    text = format_duration(seconds)
    return Figure(name, float(seconds), SECONDS, text, source, note=note)


def _unknown(name: str, unit: str, source: str, reason: str, text: str | None = None) -> Figure:
    return Figure(name, None, unit, text or unknown_text(reason), source, unknown_reason=reason)


def build_time_figures(data: ReportInput, instants: dict[str, Instant]) -> dict[str, Figure]:
    """Time to detect / acknowledge / resolve, notification delay, duration."""
    incident = data.view.incident
    triggered = incident.started_at
    onset = instants["onset"]
    figures: dict[str, Figure] = {}

    source = "triggered_at − onset"
    if onset.at is None:
        reason = f"no signal onset; {onset.unknown_reason}"
        figures["time_to_detect"] = _unknown("time_to_detect", SECONDS, source, reason)
    else:
        seconds = span_seconds(onset.at, triggered)
        note = "the signal crossed its warning level after the alert fired" if seconds < 0 else None
        figures["time_to_detect"] = _duration("time_to_detect", seconds, source, note)

    figures["notification_delay"] = _duration(
        "notification_delay",
        span_seconds(triggered, incident.detected_at),
        "detected_at − triggered_at",
    )

    source = "acknowledged_at − triggered_at"
    if incident.acknowledged_at is None:
        figures["time_to_acknowledge"] = _unknown(
            "time_to_acknowledge", SECONDS, source, "not acknowledged"
        )
    else:
        figures["time_to_acknowledge"] = _duration(
            "time_to_acknowledge", span_seconds(triggered, incident.acknowledged_at), source
        )

    source = "resolved_at − triggered_at"
    if incident.resolved_at is None:
        figures["time_to_resolve"] = _unknown(
            "time_to_resolve", SECONDS, source, "ongoing", text="ongoing"
        )
        so_far = span_seconds(incident.started_at, data.now)
        figures["duration"] = Figure(
            "duration",
            so_far,
            SECONDS,
            f"ongoing ({format_duration(so_far)} so far)",
            "generated_at − triggered_at",
            note="so far",
        )
    else:
        seconds = span_seconds(triggered, incident.resolved_at)
        figures["time_to_resolve"] = _duration("time_to_resolve", seconds, source)
        figures["duration"] = _duration("duration", seconds, "resolved_at − triggered_at")
    return figures


def build_availability_figures(
    data: ReportInput, duration_seconds: float, duration_source: str, ongoing: bool
) -> dict[str, Figure]:
    """Downtime, uptime target, error budget, budget used and SLA breach."""
    figures: dict[str, Figure] = {}
    metrics = data.metrics
    if metrics is not None and metrics.downtime_seconds is not None:
        downtime_seconds = metrics.downtime_seconds
        figures["downtime"] = _duration("downtime", downtime_seconds, metrics.downtime_method)
    else:
        downtime_seconds = duration_seconds
        so_far = " so far" if ongoing else ""
        figures["downtime"] = Figure(
            "downtime",
            float(downtime_seconds),
            SECONDS,
            f"{format_duration(downtime_seconds)}{so_far} ({DOWNTIME_FALLBACK_NOTE})",
            duration_source,
            note=DOWNTIME_FALLBACK_NOTE,
        )

    slo = data.slo_target
    if slo is None:
        reason = "no SLO target configured"
        figures["uptime_target"] = _unknown("uptime_target", FRACTION, "slo_target", reason)
        figures["error_budget"] = _unknown("error_budget", SECONDS, "slo_target", reason)
        figures["budget_used"] = _unknown("budget_used", "percent", "downtime", reason)
        figures["sla_breach"] = _unknown("sla_breach", "boolean", "downtime", reason)
        return figures

    # Rounded to the millisecond: 30 d x (1 - 0.999) is 2592.0000000000023 in floats.
    budget = round(BUDGET_PERIOD_SECONDS * (1 - slo), 3)
    budget_text = format_duration(budget)
    figures["uptime_target"] = Figure(
        "uptime_target",
        slo,
        FRACTION,
        f"{format_percent(slo, decimals=4)} ({budget_text} downtime/month)",
        "slo_target",
    )
    figures["error_budget"] = Figure(
        "error_budget", budget, SECONDS, budget_text, "30 days × (1 − slo_target)"
    )
    budget_source = "downtime ÷ error_budget"
    so_far = " so far" if ongoing else ""
    if budget > 0:
        used = round(downtime_seconds / budget * 100, 3)
        figures["budget_used"] = Figure(
            "budget_used",
            used,
            "percent",
            f"{format_percent(used / 100, decimals=1)} of the monthly error budget{so_far}",
            budget_source,
        )
    else:
        figures["budget_used"] = _unknown(
            "budget_used", "percent", budget_source, "zero error budget at a 100% target"
        )
    breach = downtime_seconds > budget
    text = (
        f"Yes (this incident alone exceeds the monthly budget of {budget_text}{so_far})"
        if breach
        else f"No (within the monthly budget of {budget_text}{so_far})"
    )
    figures["sla_breach"] = Figure("sla_breach", breach, "boolean", text, "downtime > error_budget")
    return figures


def build_error_figures(data: ReportInput) -> dict[str, Figure]:
    """Normal vs during-incident error rate, peak error count, failed requests, pool usage."""
    metrics = data.metrics
    if metrics is None:
        reason = data.metrics_unknown_reason
        return {
            name: _unknown(name, unit, "metrics", reason)
            for name, unit in (
                ("normal_error_rate", FRACTION),
                ("error_rate_mean", FRACTION),
                ("error_rate_peak", FRACTION),
                ("peak_error_count", "failed requests/minute"),
                ("total_failed_requests", "requests"),
                ("pool_peak_in_use", CONNECTIONS),
                ("pool_max", CONNECTIONS),
                ("pool_peak_usage", FRACTION),
                ("time_at_pool_max", SECONDS),
            )
        }
    day = data.view.incident.started_at.astimezone(UTC).date()
    return {
        "normal_error_rate": _rate_figure(
            "normal_error_rate",
            metrics.normal_error_rate,
            metrics.normal_error_rate_method or "error_rate baseline",
        ),
        "error_rate_mean": _rate_figure(
            "error_rate_mean", metrics.error_rate_mean, "mean of error_rate inside the incident"
        ),
        "error_rate_peak": _rate_figure(
            "error_rate_peak",
            metrics.error_rate_peak,
            "peak of error_rate inside the incident",
            metrics.error_rate_peak_at,
            day,
        ),
        "peak_error_count": _count_figure(
            "peak_error_count",
            metrics.peak_error_count,
            "failed requests/minute",
            "peak of error_count inside the incident",
            at=metrics.peak_error_count_at,
            day=day,
        ),
        "total_failed_requests": _count_figure(
            "total_failed_requests",
            metrics.total_failed_requests,
            "requests",
            "failed requests over the incident",
        ),
        "pool_peak_in_use": _count_figure(
            "pool_peak_in_use", metrics.pool_peak_in_use, CONNECTIONS, "peak of pool_in_use"
        ),
        "pool_max": _count_figure("pool_max", metrics.pool_max, CONNECTIONS, "pool_max"),
        "pool_peak_usage": _pool_figure(metrics, day),
        "time_at_pool_max": (
            _unknown(
                "time_at_pool_max",
                SECONDS,
                "pool_in_use = pool_max",
                metrics.time_at_pool_max_seconds.reason,
            )
            if isinstance(metrics.time_at_pool_max_seconds, Unknown)
            else _duration(
                "time_at_pool_max", metrics.time_at_pool_max_seconds, "pool_in_use = pool_max"
            )
        ),
    }


def _at_suffix(at: datetime | None, day: date) -> str:
    return f" at {format_clock(at, day)}" if at is not None else ""


def _rate_figure(
    name: str,
    value: float | Unknown,
    source: str,
    at: datetime | None = None,
    day: date | None = None,
) -> Figure:
    if isinstance(value, Unknown):
        return _unknown(name, FRACTION, source, value.reason)
    suffix = _at_suffix(at, day) if day is not None else ""
    return Figure(name, value, FRACTION, f"{format_percent(value)}{suffix}", source)


def _count_figure(
    name: str,
    value: float | Unknown,
    unit: str,
    source: str,
    *,
    at: datetime | None = None,
    day: date | None = None,
) -> Figure:
    if isinstance(value, Unknown):
        return _unknown(name, unit, source, value.reason)
    suffix = _at_suffix(at, day) if day is not None else ""
    return Figure(name, value, unit, f"{format_count(value)} {unit}{suffix}", source)


def _pool_figure(metrics: MetricFigures, day: date) -> Figure:
    source = "peak of pool_in_use ÷ pool_max"
    in_use, maximum = metrics.pool_peak_in_use, metrics.pool_max
    if isinstance(in_use, Unknown):
        return _unknown("pool_peak_usage", FRACTION, source, in_use.reason)
    if isinstance(maximum, Unknown) or maximum <= 0:
        reason = maximum.reason if isinstance(maximum, Unknown) else "pool_max is zero"
        return Figure(
            "pool_peak_usage",
            None,
            FRACTION,
            f"{format_count(in_use)} connections in use (share unknown: {reason})",
            source,
            unknown_reason=reason,
        )
    usage = in_use / maximum
    text = (
        f"{format_count(in_use)}/{format_count(maximum)} connections ({format_percent(usage)})"
        f"{_at_suffix(metrics.pool_peak_at, day)}"
    )
    return Figure("pool_peak_usage", usage, FRACTION, text, source)
