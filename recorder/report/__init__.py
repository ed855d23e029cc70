"""Postmortem report: pure figures, Markdown, JSON and HTML forms built from stored data."""

from __future__ import annotations

from recorder.report.assembly import build_report
from recorder.report.document import report_json_text, report_to_json
from recorder.report.markdown import render_markdown
from recorder.report.model import (
    HumanText,
    Instant,
    Report,
    ReportInput,
    SignalTable,
)

__all__ = [
    "HumanText",
    "Instant",
    "Report",
    "ReportInput",
    "SignalTable",
    "build_report",
    "render_markdown",
    "report_json_text",
    "report_to_json",
]
