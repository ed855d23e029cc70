"""The report as HTML: the Markdown report's sections, in its order, every text escaped.

Templates autoescape; nothing from alerts, webhooks or people is ever marked safe. The
only markup inserted verbatim is our own: the SVG charts (their renderer escapes every
text) and our stylesheet.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from markupsafe import Markup

from recorder.report.model import Report, ReportInput
from recorder.report.prompt_html import prompt_html
from recorder.report.timeline_html import timeline_rows

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
    env.globals["timeline_rows"] = partial(timeline_rows, slug_of=slug)
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
        "text": report.text,  # composed once (recorder/report/text.py); autoescaped here
        "alerts": sorted(data.view.alerts.values(), key=lambda a: (a.starts_at, a.fingerprint)),
        # The SVG renderer escapes every text it writes (tests/report/test_svg.py).
        "charts": {name: Markup(svg) for name, svg in (charts or {}).items()},  # noqa: S704
        "edit": edit,
    }
