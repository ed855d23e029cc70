"""Postmortem report: pure figures, Markdown and JSON forms built from stored incident data."""

from __future__ import annotations

from recorder.report.assembly import build_report
from recorder.report.document import report_to_json
from recorder.report.markdown import render_markdown
from recorder.report.model import (
    Figure,
    HumanText,
    Instant,
    MetricFigures,
    Onset,
    Report,
    ReportInput,
    SignalTable,
    Unknown,
)

__all__ = [
    "Figure",
    "HumanText",
    "Instant",
    "MetricFigures",
    "Onset",
    "Report",
    "ReportInput",
    "SignalTable",
    "Unknown",
    "build_report",
    "render_markdown",
    "report_to_json",
]
