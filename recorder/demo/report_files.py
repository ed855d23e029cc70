"""The demo's saved report: Markdown, HTML and chart SVGs side by side in its working
directory, linked relatively, so they still render once the demo's recorder is gone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from recorder.report_io import chart_url

CHARTS_DIR = "charts"


class ReportSource(Protocol):
    """Reads documents from the running recorder (the demo stack)."""

    def get_text(self, path: str) -> str: ...


@dataclass(frozen=True, slots=True)
class SavedReport:
    """Where the demo wrote the incident's report files."""

    markdown: Path
    html: Path
    charts: tuple[Path, ...]


def sampled_signals(samples_document: Any) -> list[str]:
    """The signals with at least one stored sample, from GET …/samples."""
    signals = samples_document.get("signals") or {}
    return [name for name, signal in signals.items() if signal.get("samples")]


def chart_file(signal: str) -> str:
    """The chart's path relative to the report files (`charts/<signal>.svg`)."""
    return f"{CHARTS_DIR}/{quote(signal, safe='')}.svg"


def relink_charts(markdown: str, incident_id: str, signals: list[str]) -> str:
    """Markdown whose chart images point at the saved SVGs instead of the recorder's route
    (absolute under whatever base URL served the report)."""
    for signal in signals:
        route = re.escape(chart_url(incident_id, signal))
        markdown = re.sub(rf"\]\([^()\s]*{route}\)", f"]({chart_file(signal)})", markdown)
    return markdown


def save_report(
    source: ReportSource, incident_id: str, signals: list[str], into: Path
) -> SavedReport:
    """Fetch the report (Markdown and HTML) and every chart, and write them under `into`.

    The Markdown links each chart as the relative path of the SVG written beside it; the
    HTML carries its charts inline already.
    """
    report = f"/api/v1/incidents/{quote(incident_id, safe='')}/report"
    markdown = source.get_text(report + "?format=markdown")
    html = source.get_text(report + "?format=html")
    (into / CHARTS_DIR).mkdir(parents=True, exist_ok=True)
    charts = []
    for signal in signals:
        svg = source.get_text(chart_url(incident_id, signal))
        path = into / chart_file(signal)
        path.write_text(svg, encoding="utf-8")
        charts.append(path)
    markdown = relink_charts(markdown, incident_id, signals)
    md_path = into / f"incident-{incident_id}.md"
    html_path = into / f"incident-{incident_id}.html"
    md_path.write_text(markdown, encoding="utf-8")
    html_path.write_text(html, encoding="utf-8")
    return SavedReport(md_path, html_path, tuple(charts))
