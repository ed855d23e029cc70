"""Markdown renderer: the user's template, heading for heading, filled from a Report."""

from __future__ import annotations

from collections.abc import Sequence

from recorder.core.incident import TimelineEntry
from recorder.report.escaping import escape_inline, escape_url, neutralize_block, quote_block
from recorder.report.model import HumanText, Report
from recorder.report.template import (
    DETECTION_OTHER_OPTIONS,
    DRAFT,
    HOW_DETECTED_PROMPT,
    ROOT_CAUSE_TIME_PROMPT,
    SERVICE_OPTIONS,
    SEVERITY_PROMPT,
    TO_FILL_IN,
    TRIAGE_PROMPT,
)

RULE = "---"
DERIVED_MARK = " _(derived from samples)_"


def render_markdown(report: Report) -> str:
    """The report as Markdown that follows report-template.md heading for heading.

    Free text from alerts and webhooks is escaped (`escape_inline`); people's PATCH text
    stays Markdown with raw HTML made inert. Unfilled prompts carry the `_To fill in_`
    marker, drafted text the `_Draft_` marker. Every sentence is the report's own
    (`report.text`, composed once); this renderer only escapes and places it.
    """
    writer = _Writer(report)
    writer.header()
    writer.summary()
    writer.impact()
    writer.timeline()
    writer.root_cause()
    writer.detection()
    writer.response()
    writer.resolution()
    writer.communication()
    writer.metrics()
    writer.action_items()
    writer.lessons()
    writer.appendices()
    writer.footer()
    return "\n".join(writer.lines) + "\n"


class _Writer:
    """Accumulates lines section by section; one method per template `##` section."""

    def __init__(self, report: Report) -> None:
        self.report = report
        self.text = report.text
        self.lines: list[str] = []
        # Names, actions and sources repeat on every row, events recur in later sections.
        self._escaped: dict[str, str] = {}

    def esc(self, text: str) -> str:
        """escape_inline, memoized for this one rendering."""
        escaped = self._escaped.get(text)
        if escaped is None:
            escaped = self._escaped[text] = escape_inline(text)
        return escaped

    # ------------------------------------------------------------------ primitives

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def section(self, title: str) -> None:
        self.add(RULE, "", f"## {title}", "")

    def sub(self, title: str) -> None:
        if self.lines and self.lines[-1] != "":
            self.add("")
        self.add(f"### {title}")

    def human(self, name: str) -> None:
        """People's text when set, else the template prompt quoted under the marker."""
        self.add(*_human_lines(self.report.human[name]))

    def figure(self, name: str) -> str:
        return escape_inline(self.text.figure(name))

    # ------------------------------------------------------------------ sections

    def header(self) -> None:
        r = self.report
        title = escape_inline(r.title)
        if title.endswith("#"):
            title = title[:-1] + "\\#"
        text = self.text
        severity = escape_inline(r.severity) if r.severity else f"{TO_FILL_IN}: {SEVERITY_PROMPT}"
        self.add(
            f"# Incident Report: {title}",
            "",
            f"**Date**: {text.date}",
            f"**Time Started**: {text.time_started}",
            f"**Time Resolved**: {text.time_resolved}",
            f"**Duration**: {self.figure('duration')}",
            f"**Severity**: {severity}",
            f"**Status**: {r.status.value.capitalize()}",
            "",
        )

    def summary(self) -> None:
        self.section("Summary")
        r = self.report
        if r.summary_is_draft:
            self.add(
                f"{DRAFT} (from stored data; set `summary` to replace): {escape_inline(r.summary)}"
            )
        else:
            self.add(neutralize_block(r.summary))
        self.add("")

    def impact(self) -> None:
        self.section("Impact")
        self.add("### Users Affected")
        self.human("users_affected")
        self.sub("Services Affected")
        services = self.report.services_affected
        for service in services:
            if service.sampled:
                # Label names are [a-zA-Z_][a-zA-Z0-9_]*: nothing to escape in code spans.
                line = f"{escape_inline(service.value)} (from label `{service.label}`)"
            else:
                line = f"{escape_inline(service.value)} ({service.label} label)"
            self.add(f"- [X] {line}")
        self.add(*(f"- [ ] {option}" for option in SERVICE_OPTIONS))
        if not services:
            self.add(f"- [ ] {TO_FILL_IN}: other service (no service, job or namespace label)")
        self.sub("Business Impact")
        self.add(f"- **SLA Breach**: {self.figure('sla_breach')}", "")
        self.human("business_impact")
        self.add("")

    def timeline(self) -> None:
        self.section("Timeline")
        self.add(
            "| Time (UTC) | Event | Action Taken | By Whom |",
            "|------------|-------|--------------|---------|",
        )
        row_clock, escaped = self.text.row_clock, self._escaped
        rows = self.lines
        # self.esc written out: this loop runs once per entry, tens of thousands of times.
        for entry in self.report.timeline:
            event, action, by = entry.event, entry.action, entry.by or entry.source
            if (event_md := escaped.get(event)) is None:
                event_md = escaped[event] = escape_inline(event)
            if (action_md := escaped.get(action)) is None:
                action_md = escaped[action] = escape_inline(action)
            if (by_md := escaped.get(by)) is None:
                by_md = escaped[by] = escape_inline(by)
            derived = DERIVED_MARK if entry.derived else ""
            rows.append(f"| {row_clock(entry.at)} | {event_md}{derived} | {action_md} | {by_md} |")
        if not self.report.timeline:
            self.add("", "No timeline entries recorded.")
        self.add("")

    def root_cause(self) -> None:
        self.section("Root Cause")
        self.human("root_cause")
        self.add("")

    def detection(self) -> None:
        self.section("Detection")
        r = self.report
        self.add("### How We Detected")
        self.add(f"- [{'X' if r.detected_by_alert else ' '}] Automated monitoring alert")
        self.add(*(f"- [ ] {option}" for option in DETECTION_OTHER_OPTIONS))
        if not r.detected_by_alert:
            self.add("", f"{TO_FILL_IN}: {HOW_DETECTED_PROMPT}")
        text = self.text
        self.add(
            "",
            "**Alert Details**:",
            f"- Alert name: {escape_inline(text.alert_names)}",
            *(f"- Alert summary: {self.esc(summary)}" for summary in r.alert_summaries),
            f"- Alert triggered at: {escape_inline(text.triggered)}",
            f"- Time to detection: {escape_inline(text.detection)}",
            f"- Time to acknowledgment: {escape_inline(text.acknowledgment)}",
        )
        self.sub("Detection Quality")
        if r.detection_quality_unknown is not None:
            self.add(f"- unknown ({escape_inline(r.detection_quality_unknown)})")
        self.add(*(f"- {escape_inline(line)}" for line in r.detection_quality))
        self.add("")

    def response(self) -> None:
        self.section("Response")
        self.add("### Immediate Actions Taken")
        actions = self.report.immediate_actions
        if self.report.human["immediate_actions"].filled or not actions:
            self.human("immediate_actions")
        else:
            for number, entry in enumerate(actions, start=1):
                self.add(f"{number}. ✅ {self._action_text(entry)} ({self._when_by(entry)})")
            if self.report.immediate_actions_more:
                self.add(f"- … and {self.report.immediate_actions_more} more in the Timeline")
        self.sub("What Worked Well")
        self.human("what_worked_well")
        self.sub("What Could Be Improved")
        self.human("what_could_be_improved")
        self.add("")

    def _action_text(self, entry: TimelineEntry) -> str:
        return self.esc(self.text.action(entry))

    def _when_by(self, entry: TimelineEntry) -> str:
        return self.esc(self.text.when_by(entry))

    def resolution(self) -> None:
        self.section("Resolution")
        if self.text.resolution is not None:
            self.add(escape_inline(self.text.resolution), "")
        self.add("### Short-term Fix (Immediate)")
        self.human("short_term_fix")
        self.sub("Long-term Fix (To Prevent Recurrence)")
        self.human("long_term_fix")
        self.add("")

    def communication(self) -> None:
        self.section("Communication")
        self.add("### Internal Communication")
        self.human("internal_communication")
        updates = self.report.status_updates
        if updates:
            self.add("", "**Status updates (PagerDuty)**:")
            for entry in updates:
                self.add(f"- [{self._when_by(entry)}] {self.esc(entry.event)}")
        self.sub("External Communication")
        self.human("external_communication")
        self.add("")

    def metrics(self) -> None:
        self.section("Metrics")
        f, text = self.figure, self.text
        self.add(
            "### Response Time",
            f"- **Time to detect**: {escape_inline(text.detection)}",
            f"- **Time to acknowledge**: {f('time_to_acknowledge')}",
            f"- **Time to triage**: unknown (not recorded) — {TO_FILL_IN}: {TRIAGE_PROMPT}",
            "- **Time to identify root cause**: unknown (not recorded) — "
            f"{TO_FILL_IN}: {ROOT_CAUSE_TIME_PROMPT}",
            f"- **Time to resolution**: {f('time_to_resolve')}",
            "",
            "### Availability",
            f"- **Uptime target**: {f('uptime_target')}",
            f"- **Actual downtime**: {escape_inline(text.downtime)}",
            f"- **Error budget used**: {f('budget_used')}",
            f"- **SLA breach**: {f('sla_breach')}",
            "",
            "### Error Rate",
            f"- **Normal error rate**: {escape_inline(text.normal_error_rate)}",
            f"- **During incident**: {escape_inline(text.during)}",
            f"- **Peak error count**: {f('peak_error_count')}",
            f"- **Total failed requests**: {f('total_failed_requests')}",
            f"- **Pool peak usage**: {f('pool_peak_usage')}",
            f"- **Time at pool max**: {f('time_at_pool_max')}",
            "",
        )
        self._signals()

    def _signals(self) -> None:
        tables = self.report.signal_tables
        charts = self.report.chart_links
        if not tables and not charts:
            return
        self.add("### Signal Samples", "")
        charted = {t.name for t in tables}
        row_clock = self.text.row_clock
        for table in tables:
            if table.summary is not None:
                self.add(f"- {escape_inline(table.summary)}", "")
                continue
            name = escape_inline(table.name)
            self.add(
                f"**{name}** ({escape_inline(table.unit)}):",
                "",
                f"| Time (UTC) | {name} |",
                "|------------|-------|",
            )
            for at, value in table.rows:
                self.add(f"| {row_clock(at)} | {escape_inline(table.cell(value))} |")
            self.add("")
            if table.name in charts:
                self.add(_chart(table.name, charts[table.name]), "")
        for signal, url in charts.items():
            if signal not in charted:
                self.add(_chart(signal, url), "")

    def action_items(self) -> None:
        self.section("Action Items")
        self.human("action_items")
        self.add("")

    def lessons(self) -> None:
        self.section("Lessons Learned")
        self.add("### What Went Well")
        self.human("lessons_went_well")
        self.sub("What Went Wrong")
        self.human("lessons_went_wrong")
        self.sub("Action Items to Prevent Recurrence")
        self.human("lessons_prevent_recurrence")
        self.add("")

    def appendices(self) -> None:
        self.section("Appendices")
        r = self.report
        self.add("### Related Incidents")
        for related in r.related:
            self.add(
                f"- [{self.text.day_of(related.started_at)}] {escape_inline(related.title)}"
                f" ({escape_inline(related.id)})"
            )
        if not r.related:
            self.add("- None found with the same alertname or service")
        self.sub("Related Documentation")
        for link in r.links:
            self.add(f"- [{escape_inline(link.label)}]({escape_url(link.url)})")
        if r.links:
            self.add("")
        self.human("related_documentation")
        self.sub("Commands Run")
        self.human("commands_run")
        self.add("")

    def footer(self) -> None:
        self.add(RULE, "")
        for label, value, prompt in self.text.footer:
            text = f"{TO_FILL_IN}: {value}" if prompt else escape_inline(value)
            self.add(f"**{label}**: {text}")


def _human_lines(human: HumanText) -> Sequence[str]:
    if human.text is not None:
        return neutralize_block(human.text).split("\n")
    return [f"> {TO_FILL_IN} (`{human.field}`):", ">", *quote_block(human.prompt)]


def _chart(signal: str, url: str) -> str:
    return f"![{escape_inline(signal)}]({escape_url(url)})"
