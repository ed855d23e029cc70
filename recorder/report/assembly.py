"""`build_report`: turns stored incident data and evidence into a format-free Report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC

from recorder.core.alerts import severity_rank
from recorder.core.events import LINK_KINDS
from recorder.core.incident import HUMAN_FIELDS, AlertState, Incident, TimelineKind
from recorder.core.lifecycle import build_title
from recorder.evidence.model import Figure
from recorder.evidence.wording import clock, day, duration
from recorder.report.figures import (
    build_availability_figures,
    build_error_figures,
    build_instants,
    build_time_figures,
    opened_by_pagerduty,
)
from recorder.report.model import (
    AffectedService,
    HumanText,
    Link,
    RelatedIncident,
    Report,
    ReportInput,
)
from recorder.report.template import PROMPTS
from recorder.report.text import compose_text

SERVICE_LABELS: tuple[str, ...] = ("service", "job", "namespace")
RUNBOOK_ANNOTATIONS: tuple[str, ...] = ("runbook_url", "runbook")
_LINK_TITLES: Mapping[str, str] = {
    "dashboard": "Dashboard",
    "panel": "Panel",
    "image": "Panel image",
    "silence": "Silence",
}
ACTION_KINDS = frozenset({TimelineKind.ACKNOWLEDGED, TimelineKind.NOTE, TimelineKind.MANUAL})
# A list people read, not a second timeline: the rest stays in the Timeline section.
IMMEDIATE_ACTIONS_SHOWN = 25


def build_report(data: ReportInput) -> Report:
    """Fill every figure and section the stored data supports; leave the rest to people.

    Pure: reads only `data` (its `now` stands in for the clock), never guesses a number.
    Each figure carries its value, unit, plain-text form and the instants it came from.
    """
    incident = data.view.incident
    ongoing = incident.resolved_at is None
    actions = tuple(e for e in data.timeline if e.kind in ACTION_KINDS)
    instants = build_instants(data)
    figures = build_time_figures(data, instants)
    figures |= build_availability_figures(data, ongoing=ongoing)
    figures |= build_error_figures(data)
    label_sets = _label_sets(data)
    services = _services(label_sets, data.sampled_service)
    alert_names = _distinct(labels.get("alertname", "") for labels in label_sets)
    human = {
        name: HumanText(name, _human_text(incident.human, name), PROMPTS[name])
        for name in HUMAN_FIELDS
    }
    summary = human["summary"].text
    quality, quality_unknown = _detection_quality(data)
    title = _title(data)
    text = compose_text(
        title=title,
        opened_by=incident.opened_by,
        alert_names=alert_names,
        instants=instants,
        figures=figures,
        acknowledged_by=incident.acknowledged_by,
        resolved_by=incident.resolved_by,
        human=human,
        generated_at=data.now,
    )
    return Report(
        incident_id=incident.id,
        title=title,
        status=incident.status,
        severity=incident.severity,
        opened_by=incident.opened_by,
        generated_at=data.now,
        ongoing=ongoing,
        instants=instants,
        figures=figures,
        summary=summary
        if summary is not None
        else _draft_summary(incident, alert_names, services, figures),
        summary_is_draft=summary is None,
        services_affected=services,
        alert_names=alert_names,
        alert_summaries=_distinct(
            alert.firing_text.annotations.get("summary", "") for alert in _alerts_in_order(data)
        ),
        detected_by_alert=_opened_by_alert(incident),
        acknowledged_by=incident.acknowledged_by,
        resolved_by=incident.resolved_by,
        detection_quality=quality,
        detection_quality_unknown=quality_unknown,
        detection_notes=data.metrics.detection_quality if data.metrics else (),
        timeline=tuple(data.timeline),
        immediate_actions=actions[:IMMEDIATE_ACTIONS_SHOWN],
        immediate_actions_more=max(0, len(actions) - IMMEDIATE_ACTIONS_SHOWN),
        status_updates=tuple(data.status_updates),
        human=human,
        related=tuple(RelatedIncident(r.id, r.title, r.started_at, r.status) for r in data.related),
        links=_links(data),
        pagerduty=incident.pagerduty,
        signal_tables=tuple(data.signal_tables),
        chart_links=dict(data.chart_links),
        text=text,
    )


def _title(data: ReportInput) -> str:
    """The incident's title; an automatic one names the highest-severity alert, with
    "+N more" when other alert names fired too. A title people set is kept as it is."""
    incident = data.view.incident
    alerts = _alerts_in_order(data)
    automatic = {build_title(incident.labels), *(build_title(a.labels) for a in alerts)}
    if not alerts or incident.title not in automatic:
        return incident.title
    unranked = (1_000_000, "")

    def rank(alert: AlertState) -> tuple[int, str]:
        mapped = data.severity_map.get(alert.labels.get("severity", ""))
        return severity_rank(mapped) if mapped else unranked

    top = min(alerts, key=rank)  # stable: the earliest of the most severe
    names = _distinct(a.labels.get("alertname", "") for a in alerts)
    others = len([n for n in names if n != top.labels.get("alertname", "")])
    title = build_title(top.labels)
    return f"{title} (+{others} more)" if others else title


def _seconds(figure: Figure) -> float:
    value = figure.value
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{figure.name} has no duration in seconds")
    return float(value)


def _human_text(human: Mapping[str, str], name: str) -> str | None:
    text = human.get(name)
    if text is None or not text.strip():
        return None
    return text.strip("\n")


def _opened_by_alert(incident: Incident) -> bool:
    return opened_by_pagerduty(incident) or incident.opened_by.lower().startswith("alertmanager")


def _alerts_in_order(data: ReportInput) -> list[AlertState]:
    return sorted(data.view.alerts.values(), key=lambda a: (a.starts_at, a.fingerprint))


def _label_sets(data: ReportInput) -> list[Mapping[str, str]]:
    """The incident's common labels, then each alert's labels in order of start."""
    return [data.view.incident.labels, *(alert.labels for alert in _alerts_in_order(data))]


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def _services(
    label_sets: Sequence[Mapping[str, str]], sampled: AffectedService | None
) -> tuple[AffectedService, ...]:
    """The sampled service first (it names its label), then the other service labels."""
    others = tuple(
        AffectedService(label, value)
        for label in SERVICE_LABELS
        for value in sorted(_distinct(labels.get(label, "") for labels in label_sets))
        if sampled is None or (label, value) != (sampled.label, sampled.value)
    )
    return others if sampled is None else (sampled, *others)


def _detection_quality(data: ReportInput) -> tuple[tuple[str, ...], str | None]:
    evidence = data.metrics
    if evidence is None:
        return (), data.metrics_unknown_reason
    lines = tuple(note.line for note in evidence.detection_quality)
    if lines:
        return lines, None
    reasons = [f"{o.signal}: {o.unknown}" for o in evidence.onsets if o.unknown]
    if evidence.triggered_at is None:
        return (), "trigger time unknown"
    return (), "; ".join(reasons) or "no signal reached its warning level"


def _links(data: ReportInput) -> tuple[Link, ...]:
    """PagerDuty incident, runbooks and alert sources; only http(s) URLs are linked."""
    links: list[Link] = []
    pagerduty = data.view.incident.pagerduty
    if pagerduty is not None and pagerduty.html_url:
        links.append(Link(f"PagerDuty incident {pagerduty.id}", pagerduty.html_url))
    for alert in _alerts_in_order(data):
        name = alert.labels.get("alertname", "alert")
        links.extend(
            Link(f"Runbook ({name})", alert.annotations[key])
            for key in RUNBOOK_ANNOTATIONS
            if key in alert.annotations
        )
        if alert.generator_url:
            links.append(Link(f"Alert source ({name})", alert.generator_url))
        links.extend(
            Link(f"{_LINK_TITLES[kind]} ({name})", alert.links[kind])
            for kind in LINK_KINDS
            if kind in alert.links
        )
    seen: set[str] = set()
    unique: list[Link] = []
    for link in links:
        if link.url in seen or not link.url.lower().startswith(("https://", "http://")):
            continue
        seen.add(link.url)
        unique.append(link)
    return tuple(unique)


def _draft_summary(
    incident: Incident,
    alert_names: Sequence[str],
    services: Sequence[AffectedService],
    figures: Mapping[str, Figure],
) -> str:
    """One paragraph from stored facts only: when, what fired, where, ack, resolution."""
    started = incident.started_at.astimezone(UTC)
    on = started.date()
    if alert_names:
        quoted = ", ".join(f'"{name}"' for name in alert_names)
        what = f"the alert{'s' if len(alert_names) > 1 else ''} {quoted} fired"
    elif opened_by_pagerduty(incident):
        what = f'PagerDuty opened the incident "{incident.title}"'
    else:
        what = f'the incident "{incident.title}" was opened'
    where = ""
    if services:
        where = " for " + ", ".join(f"{s.label} {s.value}" for s in services)
    severity = f" (severity {incident.severity})" if incident.severity else ""
    parts = [f"On {day(started)} at {clock(started)}, {what}{where}{severity}."]

    ack = figures["time_to_acknowledge"]
    if ack.value is None:
        parts.append("It has not been acknowledged.")
    else:
        by = f" by {incident.acknowledged_by}" if incident.acknowledged_by else ""
        parts.append(f"It was acknowledged after {ack.text}{by}.")
    if incident.resolved_at is None:
        parts.append(f"It is ongoing ({duration(_seconds(figures['duration']))} so far).")
    else:
        resolved = clock(incident.resolved_at, on)
        parts.append(f"It was resolved at {resolved} after {figures['time_to_resolve'].text}.")
    downtime = figures["downtime"]
    if downtime.value is not None and downtime.note is None:
        parts.append(f"Total downtime: {downtime.text}.")
    return " ".join(parts)
