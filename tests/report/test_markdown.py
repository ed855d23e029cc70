"""Markdown report: template headings in order, markers, escaping of untrusted text."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from recorder.core.incident import HUMAN_FIELDS, IncidentStatus, TimelineKind
from recorder.report import ReportInput, build_report, render_markdown
from recorder.report.template import PROMPTS
from tests.report.cases import (
    GOLDEN_CASES,
    POOL_LABELS,
    T0,
    alert,
    at,
    entry,
    incident,
    report_input,
)

# CI clones only this repository, so the user's template is copied next to the tests.
TEMPLATE = Path(__file__).parent / "report-template.md"
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^(#{1,3}) ")
TITLE_PLACEHOLDER = "[Incident Title]"
UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def headings(markdown: str) -> list[str]:
    """Lines starting with #, ## or ### outside fenced code blocks."""
    found: list[str] = []
    fence: str | None = None
    for line in markdown.splitlines():
        match = FENCE.match(line)
        if fence is not None:
            if match and match.group(1).startswith(fence):
                fence = None
        elif match:
            fence = match.group(1)[0] * 3
        elif HEADING.match(line):
            found.append(line.rstrip())
    return found


def template_headings(title: str) -> list[str]:
    """The template's headings with the incident title substituted."""
    text = TEMPLATE.read_text(encoding="utf-8")
    return [h.replace(TITLE_PLACEHOLDER, title) for h in headings(text)]


def is_subsequence(wanted: list[str], found: list[str]) -> bool:
    """True when every wanted item appears in `found`, in the same order."""
    remaining = iter(found)
    return all(item in remaining for item in wanted)


def render(data: ReportInput) -> str:
    """build_report + render_markdown."""
    return render_markdown(build_report(data))


def test_template_copy_has_the_expected_headings() -> None:
    """The copied template parses into its 34 headings, code-block comments excluded."""
    found = template_headings("X")
    assert found[0] == "# Incident Report: X"
    assert "## Appendices" in found
    assert "# Check connection pool" not in found
    assert len(found) == 34


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_report_has_every_template_heading_in_order(name: str) -> None:
    """Every #, ## and ### heading of the template appears in the report, in order."""
    case: Callable[[], ReportInput] = GOLDEN_CASES[name]
    data = case()
    found = headings(render(data))
    wanted = template_headings(data.view.incident.title)
    assert is_subsequence(wanted, found), (wanted, found)
    assert [h for h in found if not h.startswith("### ")] == [
        h for h in wanted if not h.startswith("### ")
    ]


def test_prompts_exist_for_every_human_field() -> None:
    """Each PATCH-able human field has a template prompt to fall back on."""
    assert set(PROMPTS) == set(HUMAN_FIELDS)


def test_unfilled_sections_carry_the_to_fill_in_marker() -> None:
    """Each unfilled human section is quoted under "_To fill in_ (`field`):"."""
    markdown = render(report_input(incident()))
    for field in ("users_affected", "root_cause", "action_items", "commands_run"):
        assert f"> _To fill in_ (`{field}`):" in markdown


def test_filled_human_fields_replace_the_prompts() -> None:
    """A human root cause is printed and its prompt marker disappears."""
    inc = incident(human={"root_cause": "**What broke**: the disk filled up."})
    markdown = render(report_input(inc))
    assert "**What broke**: the disk filled up." in markdown
    assert "(`root_cause`)" not in markdown


def test_summary_draft_is_marked_and_human_summary_is_not() -> None:
    """A drafted summary starts with the Draft marker; a human one replaces it verbatim."""
    drafted = render(report_input(incident()))
    assert "_Draft_ (from stored data; set `summary` to replace): On 2025-10-26 at" in drafted
    written = render(report_input(incident(human={"summary": "Disk full on db-1."})))
    assert "_Draft_" not in written
    assert "\nDisk full on db-1.\n" in written


def test_header_of_ongoing_incident_says_ongoing() -> None:
    """An open incident reads Time Resolved "Ongoing" and Status "Investigating"."""
    inc = incident(status=IncidentStatus.INVESTIGATING, resolved_at=None, resolved_by=None)
    markdown = render(report_input(inc, now=at(5)))
    assert "**Time Resolved**: Ongoing\n" in markdown
    assert "**Duration**: ongoing (5 minutes so far)\n" in markdown
    assert "**Status**: Investigating\n" in markdown


def test_header_times_are_exact_to_the_second() -> None:
    """Time Started prints HH:MM:SS UTC, as the figures are exact to the second."""
    inc = incident(started_at=T0 + timedelta(seconds=7), resolved_at=at(30))
    markdown = render(report_input(inc))
    assert "**Time Started**: 14:00:07 UTC\n" in markdown
    assert "**Duration**: 29 minutes 53 seconds\n" in markdown


def test_resolution_on_a_later_day_prints_its_date() -> None:
    """An instant on another day than the start carries its date."""
    inc = incident(resolved_at=T0 + timedelta(hours=11))
    assert "**Time Resolved**: 2025-10-27 01:00:00 UTC\n" in render(report_input(inc))


def test_services_affected_are_ticked_from_labels() -> None:
    """Service, job and namespace label values across alerts are ticked."""
    alerts = [
        alert(POOL_LABELS, T0),
        alert({**POOL_LABELS, "service": "api", "job": "api"}, at(1), fingerprint="f2"),
    ]
    markdown = render(report_input(incident(), alerts))
    for line in (
        "- [X] api (service label)",
        "- [X] payment-service (service label)",
        "- [X] api (job label)",
        "- [X] prod (namespace label)",
    ):
        assert f"\n{line}\n" in markdown


def test_alert_opened_incident_ticks_automated_monitoring() -> None:
    """Incidents opened by Alertmanager tick "Automated monitoring alert"."""
    assert "- [X] Automated monitoring alert" in render(report_input(incident()))


def test_manually_opened_incident_leaves_detection_to_people() -> None:
    """An incident opened through the API ticks nothing and asks how it was detected."""
    markdown = render(report_input(incident(opened_by="API")))
    assert "- [ ] Automated monitoring alert" in markdown
    assert "_To fill in_: tick how this was detected" in markdown


def test_derived_timeline_entries_are_marked() -> None:
    """Entries computed from samples carry "(derived from samples)"."""
    timeline = [entry(at(-2), "pool at 80%", "", "Recorder", TimelineKind.DERIVED, derived=True)]
    markdown = render(report_input(incident(), timeline=timeline))
    assert "| 13:58:00 | pool at 80% _(derived from samples)_ |  | Recorder |" in markdown


def test_acks_and_notes_are_listed_as_immediate_actions_in_order() -> None:
    """Acknowledgments and notes from the timeline become numbered actions with times."""
    timeline = [
        entry(at(2), "Acknowledged", "Acknowledged alert", "Jane", TimelineKind.ACKNOWLEDGED),
        entry(at(3), "Alert resolved", "", "Alertmanager", TimelineKind.ALERT_RESOLVED),
        entry(at(5), "Checked pool", "Checked pool", "Jane", TimelineKind.NOTE),
    ]
    markdown = render(report_input(incident(), timeline=timeline))
    assert "1. ✅ Acknowledged — Acknowledged alert (14:02:00 UTC, Jane)\n" in markdown
    assert "2. ✅ Checked pool (14:05:00 UTC, Jane)\n" in markdown
    assert "(`immediate_actions`)" not in markdown


def test_status_updates_are_listed_under_communication() -> None:
    """PagerDuty status updates appear with their times."""
    timeline = [entry(at(4), "Investigating", "", "Jane", TimelineKind.STATUS_UPDATE)]
    markdown = render(report_input(incident(), timeline=timeline))
    assert "- [14:04:00 UTC, Jane] Investigating\n" in markdown


def test_related_incidents_list_date_title_and_id() -> None:
    """Related incidents read "[YYYY-MM-DD] title (id)"."""
    related = [incident(id="inc-0099", title="Pool exhausted again")]
    markdown = render(report_input(incident(), related=related))
    assert "- [2025-10-26] Pool exhausted again (inc-0099)\n" in markdown


def test_chart_links_render_as_images() -> None:
    """Chart links become Markdown images inside Metrics."""
    charts = {"error_rate": "/api/v1/incidents/inc-0001/charts/error_rate.svg"}
    markdown = render(report_input(incident(), chart_links=charts))
    assert "![error\\_rate](/api/v1/incidents/inc-0001/charts/error_rate.svg)" not in markdown
    assert "![error_rate](/api/v1/incidents/inc-0001/charts/error_rate.svg)" in markdown


HOSTILE = "a | b\n<img src=x onerror=alert(1)>\r\n[click](javascript:x) *bold* `code`"


def test_untrusted_text_is_escaped_in_timeline_cells() -> None:
    """Pipes, HTML and newlines in timeline text cannot break the table or inject HTML."""
    timeline = [entry(at(1), HOSTILE, HOSTILE, HOSTILE, TimelineKind.NOTE)]
    markdown = render(report_input(incident(), timeline=timeline))
    row = next(line for line in markdown.splitlines() if line.startswith("| 14:01:00 |"))
    assert len(UNESCAPED_PIPE.findall(row)) == 5
    assert "<img" not in markdown
    assert "&lt;img src=x onerror=alert(1)&gt;" in row
    assert "\\[click\\](javascript:x) \\*bold\\* \\`code\\`" in row


def test_untrusted_title_labels_and_annotations_are_escaped() -> None:
    """Title, alert name, service label and summary annotation stay on one line, inert."""
    labels = {"alertname": HOSTILE, "service": "<b>svc</b>|x"}
    inc = incident(title=HOSTILE, labels=labels)
    hostile_alert = alert(labels, T0, annotations={"summary": HOSTILE})
    markdown = render(report_input(inc, [hostile_alert]))
    assert "<img" not in markdown
    assert "<b>" not in markdown
    assert markdown.startswith("# Incident Report: a \\| b &lt;img src=x onerror=alert(1)&gt; ")
    assert "- [X] &lt;b&gt;svc&lt;/b&gt;\\|x (service label)" in markdown
    summary = next(line for line in markdown.splitlines() if line.startswith("- Alert summary:"))
    assert summary.startswith("- Alert summary: a \\| b &lt;img src=x onerror=alert(1)&gt; \\[")
    assert len(headings(markdown)) == 34


def test_raw_html_in_human_fields_is_made_inert() -> None:
    """People's Markdown is kept, but an HTML tag outside code becomes text."""
    inc = incident(human={"root_cause": "- leak <script>alert(1)</script>\n```\n<ok>\n```"})
    markdown = render(report_input(inc))
    assert "- leak &lt;script>alert(1)&lt;/script>" in markdown
    assert "```\n<ok>\n```" in markdown
    assert "<script" not in markdown


def test_non_http_runbook_links_are_dropped() -> None:
    """Only http(s) URLs from annotations become links."""
    annotations = {"runbook_url": "javascript:alert(1)"}
    markdown = render(report_input(incident(), [alert(POOL_LABELS, T0, annotations=annotations)]))
    assert "javascript:" not in markdown


def test_rendering_ten_thousand_timeline_entries_stays_fast() -> None:
    """A 10,000-entry timeline renders in well under a second (guards against quadratic work)."""
    timeline = [
        entry(T0 + timedelta(seconds=i), f"event {i} | <x>", "action", "by", TimelineKind.NOTE)
        for i in range(10_000)
    ]
    data = report_input(incident(), timeline=timeline)
    started = time.perf_counter()
    markdown = render(data)
    assert time.perf_counter() - started < 1.0
    assert markdown.count("\n| ") >= 10_000
