"""Markdown renderer: the user's template, heading for heading, filled from a Report."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

from recorder.core.incident import TimelineEntry
from recorder.report.escaping import escape_inline, escape_url, neutralize_block, quote_block
from recorder.report.figures import format_clock, format_day
from recorder.report.model import Figure, HumanText, Report
from recorder.report.template import (
    DETECTION_OTHER_OPTIONS,
    DRAFT,
    HOW_DETECTED_PROMPT,
    REPORT_CREATED_BY_DEFAULT,
    REVIEW_STATUS_DEFAULT,
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
    marker, drafted text the `_Draft_` marker.
    """
    started = report.instants["triggered_at"].at or report.generated_at
    writer = _Writer(report, started.astimezone(UTC).date())
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

    def __init__(self, report: Report, day: date) -> None:
        self.report = report
        self.day = day
        self.lines: list[str] = []
        self.fig = report.figures
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

    def clock(self, at: datetime | None) -> str:
        return "unknown" if at is None else format_clock(at, self.day)

    # ------------------------------------------------------------------ sections

    def header(self) -> None:
        r = self.report
        title = escape_inline(r.title)
        if title.endswith("#"):
            title = title[:-1] + "\\#"
        resolved = r.instants["resolved_at"].at
        severity = escape_inline(r.severity) if r.severity else f"{TO_FILL_IN}: {SEVERITY_PROMPT}"
        self.add(
            f"# Incident Report: {title}",
            "",
            f"**Date**: {self.day.isoformat()}",
            f"**Time Started**: {self.clock(r.instants['triggered_at'].at)}",
            f"**Time Resolved**: {self.clock(resolved) if resolved else 'Ongoing'}",
            f"**Duration**: {self.fig['duration'].text}",
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
        self.add(f"- **SLA Breach**: {self.fig['sla_breach'].text}", "")
        self.human("business_impact")
        self.add("")

    def timeline(self) -> None:
        self.section("Timeline")
        self.add(
            "| Time (UTC) | Event | Action Taken | By Whom |",
            "|------------|-------|--------------|---------|",
        )
        day, esc = self.day, self.esc
        rows = self.lines
        for entry in self.report.timeline:
            at = format_clock(entry.at, day).removesuffix(" UTC")
            event = esc(entry.event) + (DERIVED_MARK if entry.derived else "")
            rows.append(
                f"| {at} | {event} | {esc(entry.action)} | {esc(entry.by or entry.source)} |"
            )
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
        names = ", ".join(f'"{escape_inline(n)}"' for n in r.alert_names)
        if not names and r.opened_by.lower().startswith("pagerduty"):
            names = f'"{escape_inline(r.title)}" (PagerDuty incident title)'
        triggered = r.instants["triggered_at"]
        ack = self.fig["time_to_acknowledge"]
        ack_by = (
            f", by {escape_inline(r.acknowledged_by)}" if r.acknowledged_by and ack.value else ""
        )
        self.add(
            "",
            "**Alert Details**:",
            f"- Alert name: {names or 'unknown (no alertname label)'}",
            *(f"- Alert summary: {self.esc(summary)}" for summary in r.alert_summaries),
            f"- Alert triggered at: {self.clock(triggered.at)} ({triggered.source})",
            f"- Time to detection: {self._detect_text()}",
            f"- Time to acknowledgment: {ack.text}{ack_by}",
        )
        self.sub("Detection Quality")
        if r.detection_quality_unknown is not None:
            self.add(f"- unknown ({escape_inline(r.detection_quality_unknown)})")
        self.add(*(f"- {escape_inline(line)}" for line in r.detection_quality))
        self.add("")

    def _detect_text(self) -> str:
        ttd, delay = self.fig["time_to_detect"], self.fig["notification_delay"]
        onset = self.report.instants["onset"]
        detected = self.report.instants["detected_at"]
        text = escape_inline(ttd.text)
        if onset.at is not None:
            text += f" (from onset at {self.clock(onset.at)}, {escape_inline(onset.source)})"
        if ttd.note:
            text += f" ({ttd.note})"
        return (
            f"{text}; notification delay: {delay.text}"
            f" (first notification received at {self.clock(detected.at)})"
        )

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
        text = self.esc(entry.event)
        if entry.action and entry.action != entry.event:
            text += f" — {self.esc(entry.action)}"
        return text

    def _when_by(self, entry: TimelineEntry) -> str:
        by = self.esc(entry.by or entry.source)
        return f"{self.clock(entry.at)}, {by}" if by else self.clock(entry.at)

    def resolution(self) -> None:
        self.section("Resolution")
        r = self.report
        resolved = r.instants["resolved_at"].at
        if resolved is not None:
            by = f" by {escape_inline(r.resolved_by)}" if r.resolved_by else ""
            self.add(f"Resolved at {self.clock(resolved)}{by}.", "")
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
        f = self.fig
        self.add(
            "### Response Time",
            f"- **Time to detect**: {self._detect_text()}",
            f"- **Time to acknowledge**: {f['time_to_acknowledge'].text}",
            f"- **Time to triage**: unknown (not recorded) — {TO_FILL_IN}: {TRIAGE_PROMPT}",
            "- **Time to identify root cause**: unknown (not recorded) — "
            f"{TO_FILL_IN}: {ROOT_CAUSE_TIME_PROMPT}",
            f"- **Time to resolution**: {f['time_to_resolve'].text}",
            "",
            "### Availability",
            f"- **Uptime target**: {f['uptime_target'].text}",
            f"- **Actual downtime**: {self._figure(f['downtime'], with_source=True)}",
            f"- **Error budget used**: {f['budget_used'].text}",
            f"- **SLA breach**: {f['sla_breach'].text}",
            "",
            "### Error Rate",
            f"- **Normal error rate**: {self._figure(f['normal_error_rate'], with_source=True)}",
            f"- **During incident**: {self._during()}",
            f"- **Peak error count**: {self._figure(f['peak_error_count'])}",
            f"- **Total failed requests**: {self._figure(f['total_failed_requests'])}",
            f"- **Pool peak usage**: {self._figure(f['pool_peak_usage'])}",
            f"- **Time at pool max**: {self._figure(f['time_at_pool_max'])}",
            "",
        )
        self._signals()

    def _source(self, figure: Figure) -> str:
        if figure.note is not None or figure.value is None:
            return ""
        return f" ({escape_inline(figure.source)})"

    def _figure(self, figure: Figure, with_source: bool = False) -> str:
        text = escape_inline(figure.text)
        return text + self._source(figure) if with_source else text

    def _during(self) -> str:
        mean, peak = self.fig["error_rate_mean"], self.fig["error_rate_peak"]
        if mean.value is None and peak.value is None and mean.text == peak.text:
            return escape_inline(mean.text)
        return f"mean {escape_inline(mean.text)}, peak {escape_inline(peak.text)}"

    def _signals(self) -> None:
        tables = self.report.signal_tables
        charts = self.report.chart_links
        if not tables and not charts:
            return
        self.add("### Signal Samples", "")
        charted = {t.name for t in tables}
        for table in tables:
            name = escape_inline(table.name)
            self.add(
                f"**{name}** ({escape_inline(table.unit)}):",
                "",
                f"| Time (UTC) | {name} |",
                "|------------|-------|",
            )
            for at, value in table.rows:
                self.add(f"| {format_clock(at, self.day).removesuffix(' UTC')} | {value:.6g} |")
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
                f"- [{format_day(related.started_at)}] {escape_inline(related.title)}"
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
        human = self.report.human
        created = human["report_created_by"].text or REPORT_CREATED_BY_DEFAULT
        review = human["review_status"].text or REVIEW_STATUS_DEFAULT
        reviewer = human["reviewed_by"]
        reviewed = (
            escape_inline(reviewer.text) if reviewer.text else f"{TO_FILL_IN}: {reviewer.prompt}"
        )
        self.add(
            RULE,
            "",
            f"**Report Created By**: {escape_inline(created)}",
            f"**Report Date**: {format_day(self.report.generated_at)}",
            f"**Review Status**: {escape_inline(review)}",
            f"**Reviewed By**: {reviewed}",
        )


def _human_lines(human: HumanText) -> Sequence[str]:
    if human.text is not None:
        return neutralize_block(human.text).split("\n")
    return [f"> {TO_FILL_IN} (`{human.field}`):", ">", *quote_block(human.prompt)]


def _chart(signal: str, url: str) -> str:
    return f"![{escape_inline(signal)}]({escape_url(url)})"
