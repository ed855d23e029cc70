"""The report's JSON form: the same figures as the Markdown, as plain JSON values."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring_ascii
from typing import Any

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.evidence.model import Figure
from recorder.evidence.wording import day, rfc3339
from recorder.report.model import Instant, Report

FORMAT_VERSION = 1
_COMPACT = (",", ":")


def report_to_json(report: Report) -> dict[str, Any]:
    """The report as a `json.dumps`-ready dict.

    Instants are RFC 3339 UTC strings ending in "Z" (null when unknown), durations are
    seconds, every figure has `value`, `unit`, `text` (as printed in Markdown), `source`
    (the instants or signals it was derived from), `unknown_reason` and `note`.
    Free text is raw, not escaped: consumers escape for their own output.
    """
    return _document(report, [_entry(e) for e in report.timeline])


def report_json_text(report: Report) -> str:
    """`report_to_json` as compact JSON text (`json.dumps` with separators `,` and `:`),
    byte for byte, with the timeline written in one pass: one string per entry from
    `timeline_json`, rather than a dict per entry for the encoder to walk."""
    document = _document(report, None)
    names = list(document)
    cut = names.index("timeline")
    head = json.dumps({name: document[name] for name in names[:cut]}, separators=_COMPACT)
    tail = json.dumps({name: document[name] for name in names[cut + 1 :]}, separators=_COMPACT)
    rows = ",".join(timeline_json(report.timeline))
    return f'{head[:-1]},"timeline":[{rows}],{tail[1:]}'


def _document(report: Report, timeline: list[dict[str, Any]] | None) -> dict[str, Any]:
    started = report.instants["triggered_at"].at
    return {
        "format_version": FORMAT_VERSION,
        "incident_id": report.incident_id,
        "title": report.title,
        "date": day(started) if started else None,
        "status": report.status.value,
        "severity": report.severity,
        "opened_by": report.opened_by,
        "ongoing": report.ongoing,
        "generated_at": rfc3339(report.generated_at),
        "acknowledged_by": report.acknowledged_by,
        "resolved_by": report.resolved_by,
        "instants": {name: _instant(i) for name, i in report.instants.items()},
        "figures": {name: _figure(f) for name, f in report.figures.items()},
        "text": {
            "alert_names": report.text.alert_names,
            "triggered": report.text.triggered,
            "detection": report.text.detection,
            "acknowledgment": report.text.acknowledgment,
            "during": report.text.during,
            "downtime": report.text.downtime,
            "normal_error_rate": report.text.normal_error_rate,
            "resolution": report.text.resolution,
        },
        "summary": {"text": report.summary, "draft": report.summary_is_draft},
        "services_affected": [
            {"label": s.label, "value": s.value, "sampled": s.sampled}
            for s in report.services_affected
        ],
        "detection": {
            "automated_alert": report.detected_by_alert,
            "alert_names": list(report.alert_names),
            "alert_summaries": list(report.alert_summaries),
            "quality": list(report.detection_quality),
            "quality_unknown_reason": report.detection_quality_unknown,
            # Each line's signed difference, alert fired − signal crossed (as the line says).
            "notes": [
                {"verdict": n.verdict, "text": n.text, "seconds": n.seconds}
                for n in report.detection_notes
            ],
        },
        "timeline": timeline,
        "immediate_actions": [_entry(e) for e in report.immediate_actions],
        "immediate_actions_more": report.immediate_actions_more,
        "status_updates": [_entry(e) for e in report.status_updates],
        "human": {
            name: {"text": h.text, "filled": h.filled, "prompt": h.prompt}
            for name, h in report.human.items()
        },
        "related_incidents": [
            {
                "id": r.id,
                "title": r.title,
                "started_at": rfc3339(r.started_at),
                "status": r.status.value,
            }
            for r in report.related
        ],
        "links": [{"label": link.label, "url": link.url} for link in report.links],
        "pagerduty": (
            None
            if report.pagerduty is None
            else {
                "id": report.pagerduty.id,
                "html_url": report.pagerduty.html_url,
                "incident_key": report.pagerduty.incident_key,
            }
        ),
        "signals": [
            {
                "name": t.name,
                "unit": t.unit,
                "constant": t.constant,
                "rows": [{"at": rfc3339(at), "value": value} for at, value in t.rows],
            }
            for t in report.signal_tables
        ],
        "charts": dict(report.chart_links),
    }


def _instant(instant: Instant) -> dict[str, Any]:
    return {
        "at": rfc3339(instant.at),
        "source": instant.source,
        "stored_as": instant.stored_as,
        "unknown_reason": instant.unknown_reason,
    }


def _figure(figure: Figure) -> dict[str, Any]:
    return {
        "value": figure.value,
        "unit": figure.unit,
        "text": figure.text,
        "source": figure.source,
        "unknown_reason": figure.unknown_reason,
        "note": figure.note,
        "at": rfc3339(figure.at),
    }


def _entry(entry: TimelineEntry) -> dict[str, Any]:
    return {
        "at": rfc3339(entry.at),
        "event": entry.event,
        "action": entry.action,
        "by": entry.by,
        "source": entry.source,
        "kind": entry.kind.value,
        "derived": entry.derived,
    }


def timeline_json(entries: Sequence[TimelineEntry]) -> Iterator[str]:
    """Each entry as the compact JSON text of its `_entry` dict (same keys, same order,
    strings encoded by json's own ASCII encoder); strings repeated on many entries
    (actions, names, sources, kinds) are encoded once."""
    encode = encode_basestring_ascii
    repeated: dict[str, str] = {}
    kinds: dict[TimelineKind, str] = {}
    for e in entries:
        # The memo written out rather than called: this loop runs once per entry.
        if (kind := kinds.get(e.kind)) is None:
            kind = kinds[e.kind] = encode(e.kind.value)
        if (action := repeated.get(e.action)) is None:
            action = repeated[e.action] = encode(e.action)
        if (by := repeated.get(e.by)) is None:
            by = repeated[e.by] = encode(e.by)
        if (source := repeated.get(e.source)) is None:
            source = repeated[e.source] = encode(e.source)
        # An RFC 3339 instant is digits and -:.TZ: nothing in it to escape.
        yield (
            f'{{"at":"{rfc3339(e.at)}","event":{encode(e.event)},"action":{action},'
            f'"by":{by},"source":{source},"kind":{kind},'
            f'"derived":{"true" if e.derived else "false"}}}'
        )
