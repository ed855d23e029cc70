"""Loading what a report needs from storage and rendering it in the asked-for format."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from recorder.report import ReportInput, build_report, render_markdown, report_to_json
from recorder.settings import Settings
from recorder.store.protocol import Store

FORMATS = {
    "markdown": "text/markdown",
    "json": "application/json",
    "html": "text/html",
}
RELATED_LIMIT = 10


class UnknownFormat(ValueError):
    """A report format other than markdown, json or html."""

    def __init__(self, fmt: str) -> None:
        super().__init__(f"unknown report format {fmt!r}: use markdown, json or html")
        self.format = fmt


async def load_report_input(
    store: Store, settings: Settings, incident_id: str, now: datetime
) -> ReportInput:
    """Everything the pure report needs, in three queries: incident, timeline, related."""
    view = await store.load(incident_id)
    timeline = await store.load_timeline(incident_id)
    related = await store.find_related(view.incident, limit=RELATED_LIMIT)
    reason = (
        "no Prometheus configured (RECORDER_PROMETHEUS_URL)"
        if settings.prometheus_url is None
        else "no samples stored for this incident"
    )
    return ReportInput(
        view=view,
        timeline=timeline,
        related=related,
        slo_target=settings.slo_target,
        now=now,
        metrics=None,
        metrics_unknown_reason=reason,
    )


async def render_report(
    store: Store,
    settings: Settings,
    incident_id: str,
    fmt: str = "markdown",
    now: datetime | None = None,
) -> tuple[str, str]:
    """The report as text plus its content type."""
    if fmt not in FORMATS:
        raise UnknownFormat(fmt)
    data = await load_report_input(store, settings, incident_id, now or datetime.now(UTC))
    report = build_report(data)
    if fmt == "json":
        return json.dumps(report_to_json(report), indent=2), FORMATS[fmt]
    if fmt == "html":
        from recorder.web.report_page import render_report_html  # noqa: PLC0415

        return render_report_html(report, data), FORMATS[fmt]
    return render_markdown(report), FORMATS[fmt]
