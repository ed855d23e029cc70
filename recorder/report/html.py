"""The report as HTML: the Markdown report's sections, in its order, every text escaped.

Templates autoescape; nothing from alerts, webhooks or people is ever marked safe. The
only markup inserted verbatim is our own: the SVG charts (their renderer escapes every
text) and our stylesheet.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from recorder.core.incident import AlertState, TimelineEntry
from recorder.report import Report, ReportInput
from recorder.report.figures import format_clock, format_day
from recorder.report.prompt_html import prompt_html
from recorder.report.template import REPORT_CREATED_BY_DEFAULT, REVIEW_STATUS_DEFAULT

TEMPLATES = Path(__file__).parent / "templates"
# The site's one stylesheet: the web pages serve it, the standalone report inlines it.
STYLESHEET = Path(__file__).parents[1] / "web" / "static" / "recorder.css"

# Human fields editable from the page, grouped as the report's sections show them.
EDIT_GROUPS: Mapping[str, tuple[str, ...]] = {
    "summary": ("summary",),
    "impact": ("users_affected", "business_impact"),
    "root-cause": ("root_cause",),
    "response": ("immediate_actions", "what_worked_well", "what_could_be_improved"),
    "resolution": ("short_term_fix", "long_term_fix"),
    "communication": ("internal_communication", "external_communication"),
    "action-items": ("action_items",),
    "lessons": ("lessons_went_well", "lessons_went_wrong", "lessons_prevent_recurrence"),
    "appendices": ("related_documentation", "commands_run"),
    "review": ("report_created_by", "review_status", "reviewed_by"),
}
FIELD_LABELS: Mapping[str, str] = {
    "summary": "Summary",
    "users_affected": "Users affected",
    "business_impact": "Business impact",
    "root_cause": "Root cause",
    "immediate_actions": "Immediate actions taken",
    "what_worked_well": "What worked well",
    "what_could_be_improved": "What could be improved",
    "short_term_fix": "Short-term fix",
    "long_term_fix": "Long-term fix",
    "internal_communication": "Internal communication",
    "external_communication": "External communication",
    "action_items": "Action items",
    "lessons_went_well": "What went well",
    "lessons_went_wrong": "What went wrong",
    "lessons_prevent_recurrence": "Action items to prevent recurrence",
    "related_documentation": "Related documentation",
    "commands_run": "Commands run",
    "report_created_by": "Report created by",
    "review_status": "Review status",
    "reviewed_by": "Reviewed by",
}
_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class EditForms:
    """Where the page's edit forms post, with the session's CSRF token."""

    action: str
    csrf: str


def make_environment(*directories: Path) -> jinja2.Environment:
    """A template environment over `directories`, then the report's own templates
    (report_body.html, report_export.html, _macros.html), autoescaped."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([*directories, TEMPLATES]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["slug"] = slug
    env.filters["href"] = safe_href
    env.filters["prompt_html"] = prompt_html
    env.globals["field_labels"] = FIELD_LABELS
    env.globals["edit_groups"] = EDIT_GROUPS
    return env


@cache
def environment() -> jinja2.Environment:
    """The report's template environment, built on first use (never at import)."""
    return make_environment()


@cache
def export_css() -> str:
    """The stylesheet, as inlined into the standalone report document."""
    return STYLESHEET.read_text(encoding="utf-8")


@cache
def export_style_hash() -> str:
    """CSP source expression allowing exactly the inlined stylesheet."""
    digest = hashlib.sha256(export_css().encode()).digest()
    return "sha256-" + base64.b64encode(digest).decode()


def slug(value: object) -> str:
    """Lower-case letters, digits and dashes: safe inside a class name."""
    return _SLUG.sub("-", str(value).lower()).strip("-") or "none"


def safe_href(url: str) -> str | None:
    """`url` when it is http(s) (or a path on this site), else None: data from alerts
    must never become a `javascript:` link."""
    parts = urlsplit(url.strip())
    if parts.scheme in {"http", "https"} and parts.netloc:
        return url.strip()
    if not parts.scheme and not parts.netloc and url.startswith("/") and not url.startswith("//"):
        return url
    return None


def render_report_html(
    report: Report,
    data: ReportInput,
    *,
    charts: Mapping[str, str] | None = None,
) -> str:
    """The report as one self-contained HTML document (inline stylesheet, no scripts).

    Same sections, headings and order as the Markdown report. `charts` maps a signal to
    its SVG (from `recorder.report.svg`); without it, `report.chart_links` become images.
    """
    template = environment().get_template("report_export.html")
    return template.render(
        css=Markup(export_css()),  # noqa: S704 - our own stylesheet file, no user data
        **report_context(report, data, charts),
    )


def report_context(
    report: Report,
    data: ReportInput,
    charts: Mapping[str, str] | None = None,
    edit: EditForms | None = None,
) -> dict[str, Any]:
    """What templates/report_body.html needs."""
    return {
        "report": report,
        "text": ReportText(report),
        "alerts": sorted(data.view.alerts.values(), key=lambda a: (a.starts_at, a.fingerprint)),
        # The SVG renderer escapes every text it writes (tests/report/test_svg.py).
        "charts": {name: Markup(svg) for name, svg in (charts or {}).items()},  # noqa: S704
        "edit": edit,
    }


class ReportText:
    """The report's composed lines as plain text (the template escapes them)."""

    def __init__(self, report: Report) -> None:
        self.report = report
        started = report.instants["triggered_at"].at or report.generated_at
        self.day = started.astimezone(UTC).date()

    def clock(self, at: datetime | None) -> str:
        return "unknown" if at is None else format_clock(at, self.day)

    def row_clock(self, at: datetime) -> str:
        return format_clock(at, self.day).removesuffix(" UTC")

    def day_of(self, at: datetime) -> str:
        return format_day(at)

    @property
    def date(self) -> str:
        return self.day.isoformat()

    def figure(self, name: str, with_source: bool = False) -> str:
        figure = self.report.figures[name]
        if with_source and figure.note is None and figure.value is not None:
            return f"{figure.text} ({figure.source})"
        return figure.text

    def alert_names(self) -> str:
        r = self.report
        names = ", ".join(f'"{n}"' for n in r.alert_names)
        if not names and r.opened_by.lower().startswith("pagerduty"):
            names = f'"{r.title}" (PagerDuty incident title)'
        return names or "unknown (no alertname label)"

    def triggered(self) -> str:
        triggered = self.report.instants["triggered_at"]
        return f"{self.clock(triggered.at)} ({triggered.source})"

    def acknowledgment(self) -> str:
        r = self.report
        ack = r.figures["time_to_acknowledge"]
        by = f", by {r.acknowledged_by}" if r.acknowledged_by and ack.value else ""
        return ack.text + by

    def detection(self) -> str:
        ttd, delay = (
            self.report.figures["time_to_detect"],
            self.report.figures["notification_delay"],
        )
        onset = self.report.instants["onset"]
        detected = self.report.instants["detected_at"]
        text = ttd.text
        if onset.at is not None:
            text += f" (from onset at {self.clock(onset.at)}, {onset.source})"
        if ttd.note:
            text += f" ({ttd.note})"
        return (
            f"{text}; notification delay: {delay.text}"
            f" (first notification received at {self.clock(detected.at)})"
        )

    def during(self) -> str:
        mean, peak = self.report.figures["error_rate_mean"], self.report.figures["error_rate_peak"]
        if mean.value is None and peak.value is None and mean.text == peak.text:
            return mean.text
        return f"mean {mean.text}, peak {peak.text}"

    def action(self, entry: TimelineEntry) -> str:
        if entry.action and entry.action != entry.event:
            return f"{entry.event} — {entry.action}"
        return entry.event

    def when_by(self, entry: TimelineEntry) -> str:
        by = entry.by or entry.source
        return f"{self.clock(entry.at)}, {by}" if by else self.clock(entry.at)

    def footer(self) -> Sequence[tuple[str, str, bool]]:
        """(label, text, is a prompt) rows of the report's closing block."""
        human = self.report.human
        reviewer = human["reviewed_by"]
        return (
            (
                "Report Created By",
                human["report_created_by"].text or REPORT_CREATED_BY_DEFAULT,
                False,
            ),
            ("Report Date", format_day(self.report.generated_at), False),
            ("Review Status", human["review_status"].text or REVIEW_STATUS_DEFAULT, False),
            ("Reviewed By", reviewer.text or reviewer.prompt, reviewer.text is None),
        )

    def alert_window(self, alert: AlertState) -> str:
        ends = f" to {self.clock(alert.ends_at)}" if alert.ends_at else ", still firing"
        return f"from {self.clock(alert.starts_at)}{ends}"
