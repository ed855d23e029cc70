"""The report's sentences, composed once: Markdown escapes them, HTML autoescapes them,
JSON carries them. No renderer composes a sentence of its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from recorder.core.incident import AlertState, TimelineEntry
from recorder.evidence.model import Figure
from recorder.evidence.wording import clock, day
from recorder.report.model import HumanText, Instant
from recorder.report.template import REPORT_CREATED_BY_DEFAULT, REVIEW_STATUS_DEFAULT

__all__ = ["ReportText", "compose_text"]


@dataclass(frozen=True, slots=True)
class ReportText:
    """Every composed line of the report as plain text, plus the per-entry forms.

    The fields are whole sentences (or the value part after a label); the methods give
    the forms repeated per timeline entry, alert or table row, so that both renderers
    print those the same way too.
    """

    on: date
    date: str
    time_started: str
    time_resolved: str
    alert_names: str
    triggered: str
    detection: str
    acknowledgment: str
    during: str
    downtime: str
    normal_error_rate: str
    resolution: str | None
    footer: tuple[tuple[str, str, bool], ...]
    figures: Mapping[str, Figure]

    def figure(self, name: str) -> str:
        """A figure's text, as every format prints it."""
        return self.figures[name].text

    def clock(self, at: datetime | None) -> str:
        """`14:02:07 UTC`, with the date when it is not the report's day."""
        return "unknown" if at is None else clock(at, self.on)

    def row_clock(self, at: datetime) -> str:
        """A table's Time (UTC) cell: the clock without the zone (the heading names it)."""
        return clock(at, self.on, zone="")

    def day_of(self, at: datetime) -> str:
        return day(at)

    def action(self, entry: TimelineEntry) -> str:
        if entry.action and entry.action != entry.event:
            return f"{entry.event} — {entry.action}"
        return entry.event

    def when_by(self, entry: TimelineEntry) -> str:
        by = entry.by or entry.source
        return f"{self.clock(entry.at)}, {by}" if by else self.clock(entry.at)

    def alert_window(self, alert: AlertState) -> str:
        ends = f" to {self.clock(alert.ends_at)}" if alert.ends_at else ", still firing"
        return f"from {self.clock(alert.starts_at)}{ends}"


def _with_source(figure: Figure) -> str:
    if figure.note is not None or figure.value is None:
        return figure.text
    return f"{figure.text} ({figure.source})"


def compose_text(
    *,
    title: str,
    opened_by: str,
    alert_names: Sequence[str],
    instants: Mapping[str, Instant],
    figures: Mapping[str, Figure],
    acknowledged_by: str | None,
    resolved_by: str | None,
    human: Mapping[str, HumanText],
    generated_at: datetime,
) -> ReportText:
    """Compose the report's sentences from its instants and figures."""
    started = instants["triggered_at"].at or generated_at
    on = started.astimezone(UTC).date()

    def at(instant: datetime | None) -> str:
        return "unknown" if instant is None else clock(instant, on)

    names = ", ".join(f'"{n}"' for n in alert_names)
    if not names and opened_by.lower().startswith("pagerduty"):
        names = f'"{title}" (PagerDuty incident title)'
    triggered = instants["triggered_at"]
    ack = figures["time_to_acknowledge"]
    ack_by = f", by {acknowledged_by}" if acknowledged_by and ack.value else ""
    ttd, delay = figures["time_to_detect"], figures["notification_delay"]
    onset = instants["onset"]
    detection = ttd.text
    if onset.at is not None:
        detection += f" (from onset at {at(onset.at)}, {onset.source})"
    mean, peak = figures["error_rate_mean"], figures["error_rate_peak"]
    if mean.value is None and peak.value is None and mean.text == peak.text:
        during = mean.text
    else:
        during = f"mean {mean.text}, peak {peak.text}"
    resolved = instants["resolved_at"].at
    resolution = None
    if resolved is not None:
        by = f" by {resolved_by}" if resolved_by else ""
        resolution = f"Resolved at {at(resolved)}{by}."
    reviewer = human["reviewed_by"]
    return ReportText(
        on=on,
        date=on.isoformat(),
        time_started=at(triggered.at),
        time_resolved=at(resolved) if resolved else "Ongoing",
        alert_names=names or "unknown (no alertname label)",
        triggered=f"{at(triggered.at)} ({triggered.source})",
        detection=(
            f"{detection}; notification delay: {delay.text}"
            f" (first notification received at {at(instants['detected_at'].at)})"
        ),
        acknowledgment=ack.text + ack_by,
        during=during,
        downtime=_with_source(figures["downtime"]),
        normal_error_rate=_with_source(figures["normal_error_rate"]),
        resolution=resolution,
        footer=(
            (
                "Report Created By",
                human["report_created_by"].text or REPORT_CREATED_BY_DEFAULT,
                False,
            ),
            ("Report Date", day(generated_at), False),
            ("Review Status", human["review_status"].text or REVIEW_STATUS_DEFAULT, False),
            ("Reviewed By", reviewer.text or reviewer.prompt, reviewer.text is None),
        ),
        figures=figures,
    )
