"""Golden Markdown and JSON reports; regenerate with UPDATE_GOLDEN=1 pytest tests/report."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.report import (
    ReportInput,
    build_report,
    render_markdown,
    report_json_text,
    report_to_json,
)
from tests.report.cases import GOLDEN_CASES

GOLDEN = Path(__file__).parent / "golden"


def check_golden(path: Path, actual: str) -> None:
    """Compare with the checked-in file, or rewrite it when UPDATE_GOLDEN=1."""
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path.name} is missing: run UPDATE_GOLDEN=1 pytest tests/report"
    assert actual == path.read_text(encoding="utf-8"), (
        f"{path.name} differs; if the change is intended, run UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_markdown_report_matches_golden_file(name: str) -> None:
    """The Markdown report of each golden case is byte-for-byte the checked-in file."""
    case: Callable[[], ReportInput] = GOLDEN_CASES[name]
    check_golden(GOLDEN / f"{name}.md", render_markdown(build_report(case())))


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_json_report_matches_golden_file(name: str) -> None:
    """The JSON report of each golden case is the checked-in file."""
    document = report_to_json(build_report(GOLDEN_CASES[name]()))
    text = json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"
    check_golden(GOLDEN / f"{name}.json", text)


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_served_json_text_is_the_document_dumped(name: str) -> None:
    """The JSON text the report serves (its timeline written entry by entry) is exactly
    the document dumped compactly, hostile timeline text included."""
    data = GOLDEN_CASES[name]()
    hostile = TimelineEntry(
        at=data.now,
        event='Note "é" \\ </script> \x01 ☃ 𝄞\n',
        action="Checked",
        by="",
        source="PagerDuty (Jane)",
        kind=TimelineKind.NOTE,
        derived=True,
    )
    report = build_report(replace(data, timeline=[*data.timeline, hostile]))
    assert report_json_text(report) == json.dumps(report_to_json(report), separators=(",", ":"))
