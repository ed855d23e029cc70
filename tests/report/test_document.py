"""JSON form of the report: RFC 3339 "Z" instants, seconds, value + unit + source per figure."""

from __future__ import annotations

import json
import re

from recorder.core.incident import IncidentStatus
from recorder.report import build_report, render_markdown, report_to_json
from tests.report.cases import (
    at,
    incident,
    ongoing_without_metrics,
    report_input,
    resolved_with_metrics,
)

RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def test_json_instants_are_rfc3339_utc_with_z() -> None:
    """Every known instant is an RFC 3339 UTC string ending in Z, and names where it is stored."""
    document = report_to_json(build_report(resolved_with_metrics()))
    for instant in document["instants"].values():
        assert RFC3339_Z.match(instant["at"])
        assert instant["stored_as"]
    assert document["instants"]["triggered_at"]["stored_as"] == "incident.started_at"
    assert all(RFC3339_Z.match(e["at"]) for e in document["timeline"])


def test_json_durations_are_seconds_with_units() -> None:
    """Durations carry seconds as numbers plus the unit and the words Markdown prints."""
    document = report_to_json(build_report(resolved_with_metrics()))
    tta = document["figures"]["time_to_acknowledge"]
    assert tta == {
        "value": 120.0,
        "unit": "seconds",
        "text": "2 minutes",
        "source": "acknowledged_at − triggered_at",
        "unknown_reason": None,
        "note": None,
        "at": None,
    }


def test_json_unknown_figures_are_null_with_reason() -> None:
    """Unknown figures are null with the reason, never a made-up number."""
    document = report_to_json(build_report(ongoing_without_metrics()))
    figure = document["figures"]["error_rate_peak"]
    assert figure["value"] is None
    assert figure["unknown_reason"] == "no Prometheus configured"
    assert document["instants"]["resolved_at"] == {
        "at": None,
        "source": "resolution",
        "stored_as": "incident.resolved_at",
        "unknown_reason": "ongoing",
    }


def test_json_downtime_without_error_rate_is_null_with_cause() -> None:
    """No error-rate evidence: downtime, budget used and SLA breach are null with the cause
    in JSON too, never the incident's duration."""
    inc = incident(status=IncidentStatus.RESOLVED, resolved_at=at(50))
    document = report_to_json(build_report(report_input(inc)))
    for name in ("downtime", "budget_used", "sla_breach"):
        figure = document["figures"][name]
        assert figure["value"] is None, name
        assert "no Prometheus configured" in figure["unknown_reason"], name


def test_json_carries_the_sentences_the_text_prints() -> None:
    """The composed sentences are in JSON exactly as Markdown prints them (no escaping
    needed for these)."""
    report = build_report(resolved_with_metrics())
    document = report_to_json(report)
    markdown = render_markdown(report)
    assert f"- Time to detection: {document['text']['detection']}" in markdown
    assert f"- **During incident**: {document['text']['during']}" in markdown


def test_json_document_is_strict_json() -> None:
    """The document serializes with allow_nan=False and round-trips unchanged."""
    document = report_to_json(build_report(resolved_with_metrics()))
    assert json.loads(json.dumps(document, allow_nan=False)) == document


def test_json_detection_notes_carry_the_signed_seconds_the_lines_state() -> None:
    """The alert fired 4 minutes before the error rate crossed (-240 s) and 3 minutes
    after the pool crossed (180 s): JSON carries those signed values beside the lines."""
    document = report_to_json(build_report(resolved_with_metrics()))
    notes = document["detection"]["notes"]
    assert [(n["verdict"], n["seconds"]) for n in notes] == [
        ("Good", -240.0),
        ("To Improve", 180.0),
    ]
    assert notes[0]["text"].startswith("alert fired 4 minutes before error rate crossed")
    assert notes[1]["text"].endswith("3 minutes before the alert")
    assert document["detection"]["quality"] == [f"{n['verdict']}: {n['text']}" for n in notes]
