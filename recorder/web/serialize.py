"""JSON shapes of incidents for the HTTP API (see interface.md)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from recorder.core.incident import AlertState, Incident, TimelineEntry
from recorder.timefmt import to_rfc3339


def incident_summary(incident: Incident) -> dict[str, Any]:
    """The fields of an incident shown in lists (no alerts, no timeline)."""
    return {
        "id": incident.id,
        "title": incident.title,
        "status": incident.status.value,
        "severity": incident.severity,
        "correlation_key": incident.correlation_key,
        "labels": dict(incident.labels),
        "started_at": to_rfc3339(incident.started_at),
        "detected_at": to_rfc3339(incident.detected_at),
        "acknowledged_at": to_rfc3339(incident.acknowledged_at),
        "acknowledged_by": incident.acknowledged_by,
        "resolved_at": to_rfc3339(incident.resolved_at),
        "resolved_by": incident.resolved_by,
        "opened_by": incident.opened_by,
        "reopen_count": incident.reopen_count,
        "updated_at": to_rfc3339(incident.updated_at),
        "pagerduty": (
            {
                "id": incident.pagerduty.id,
                "html_url": incident.pagerduty.html_url,
                "incident_key": incident.pagerduty.incident_key,
            }
            if incident.pagerduty
            else None
        ),
    }


def alert_json(alert: AlertState) -> dict[str, Any]:
    """One distinct alert (fingerprint + starts_at) with its current status."""
    return {
        "fingerprint": alert.fingerprint,
        "status": alert.status.value,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "starts_at": to_rfc3339(alert.starts_at),
        "ends_at": to_rfc3339(alert.ends_at),
        "generator_url": alert.generator_url,
        "value_text": alert.value_text,
        "links": dict(alert.links),
    }


def timeline_json(entry: TimelineEntry) -> dict[str, Any]:
    """One timeline entry: {at, event, action, by, source} plus its kind."""
    return {
        "at": to_rfc3339(entry.at),
        "event": entry.event,
        "action": entry.action,
        "by": entry.by,
        "source": entry.source,
        "kind": entry.kind.value,
        "derived": entry.derived,
    }


def incident_detail(
    incident: Incident,
    alerts: Iterable[AlertState],
    timeline: Iterable[TimelineEntry],
    signals: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The full incident object of `GET /api/v1/incidents/{id}`."""
    data = incident_summary(incident)
    data["alerts"] = [
        alert_json(a) for a in sorted(alerts, key=lambda a: (a.starts_at, a.fingerprint))
    ]
    data["timeline"] = [timeline_json(e) for e in timeline]
    data["signals"] = signals or {}
    data["human"] = dict(incident.human)
    return data
