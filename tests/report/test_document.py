"""JSON form of the report: RFC 3339 "Z" instants, seconds, value + unit + source per figure."""

from __future__ import annotations

import json
import re

from recorder.core.incident import IncidentStatus
from recorder.report import build_report, report_to_json
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


def test_json_marks_downtime_fallback() -> None:
    """A duration-based downtime carries the fallback note in JSON too."""
    inc = incident(status=IncidentStatus.RESOLVED, resolved_at=at(50))
    document = report_to_json(build_report(report_input(inc)))
    downtime = document["figures"]["downtime"]
    assert (downtime["value"], downtime["note"]) == (
        3000.0,
        "incident duration; no error-rate signal",
    )
    assert document["figures"]["sla_breach"]["value"] is True


def test_json_document_is_strict_json() -> None:
    """The document serializes with allow_nan=False and round-trips unchanged."""
    document = report_to_json(build_report(resolved_with_metrics()))
    assert json.loads(json.dumps(document, allow_nan=False)) == document
