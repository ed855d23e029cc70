"""Row <-> domain conversions shared by both backends; each backend brings its time codec."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from recorder.core.events import AlertStatus
from recorder.core.incident import (
    AlertState,
    AlertText,
    Incident,
    IncidentStatus,
    PagerDutyLink,
    TimelineEntry,
    TimelineKind,
)
from recorder.core.links import incident_link_key
from recorder.ids import is_incident_id
from recorder.store.errors import InvalidCursor
from recorder.store.protocol import PageDelivery

EncodeTime = Callable[[datetime], Any]
DecodeTime = Callable[[Any], datetime]

INCIDENT_COLUMNS: tuple[str, ...] = (
    "id",
    "correlation_key",
    "group_key",
    "title",
    "status",
    "severity",
    "labels",
    "started_at",
    "detected_at",
    "updated_at",
    "opened_by",
    "acknowledged_at",
    "acknowledged_by",
    "resolved_at",
    "resolved_by",
    "reopen_count",
    "severity_source",
    "human",
    "pagerduty_id",
    "pagerduty_html_url",
    "pagerduty_incident_key",
    "pagerduty_status_at",
    # Derived on write (recorder.core.links.incident_link_key), read only by queries.
    "link_key",
    "figure_settings",
)

ALERT_COLUMNS: tuple[str, ...] = (
    "fingerprint",
    "starts_at",
    "status",
    "ends_at",
    "labels",
    "annotations",
    "generator_url",
    "received_at",
    "updated_at",
    "firing_text",
    "resolved_text",
    "value_text",
    "links",
)

TIMELINE_COLUMNS: tuple[str, ...] = (
    "at",
    "event",
    "action",
    "actor",
    "source",
    "kind",
    "derived",
)


DELIVERY_COLUMNS: tuple[str, ...] = (
    "event_id",
    "webhook_id",
    "event_type",
    "kind",
    "incident_id",
    "received_at",
    "outcome",
)


class Row(Protocol):
    """What both drivers' rows offer: values by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


def dump_mapping(value: Mapping[str, str]) -> str:
    """JSON text of a string map, keys sorted so equal maps store equal text."""
    return json.dumps(dict(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def load_mapping(text: str) -> dict[str, str]:
    """The string map stored by `dump_mapping`, keys sorted: jsonb reorders keys, so
    sorting here gives both backends the same iteration order."""
    loaded: dict[str, str] = json.loads(text)
    return dict(sorted(loaded.items()))


def canonical_json(stored: str | None) -> str | None:
    """JSON text with sorted keys and no spaces: jsonb re-spaces and reorders what it
    keeps, so both backends hand back the same text."""
    if stored is None:
        return None
    return json.dumps(json.loads(stored), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def dump_alert_text(text: AlertText | None) -> str | None:
    """JSON of what an alert said at one moment: {"annotations": {...}, "value": "..."}
    ("value" only when there is one); None stays NULL."""
    if text is None:
        return None
    data: dict[str, Any] = {"annotations": dict(text.annotations)}
    if text.value:
        data["value"] = text.value
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def load_alert_text(stored: str | None) -> AlertText | None:
    """The text `dump_alert_text` stored (None for NULL: not recorded)."""
    if stored is None:
        return None
    data = json.loads(stored)
    annotations: dict[str, str] = data["annotations"]
    return AlertText(dict(sorted(annotations.items())), data.get("value", ""))


def incident_values(incident: Incident, encode_time: EncodeTime) -> tuple[Any, ...]:
    """The incident's column values in `INCIDENT_COLUMNS` order."""

    def maybe(value: datetime | None) -> Any:
        return None if value is None else encode_time(value)

    link = incident.pagerduty
    return (
        incident.id,
        incident.correlation_key,
        incident.group_key,
        incident.title,
        incident.status.value,
        incident.severity,
        dump_mapping(incident.labels),
        encode_time(incident.started_at),
        encode_time(incident.detected_at),
        encode_time(incident.updated_at),
        incident.opened_by,
        maybe(incident.acknowledged_at),
        incident.acknowledged_by,
        maybe(incident.resolved_at),
        incident.resolved_by,
        incident.reopen_count,
        incident.severity_source,
        dump_mapping(incident.human),
        None if link is None else link.id,
        None if link is None else link.html_url,
        None if link is None else link.incident_key,
        None if link is None else maybe(link.status_at),
        incident_link_key(incident),
        incident.figure_settings,
    )


def build_incident(row: Row, decode_time: DecodeTime) -> Incident:
    """The incident stored in `row` (columns named as in `INCIDENT_COLUMNS`)."""

    def maybe(value: Any) -> datetime | None:
        return None if value is None else decode_time(value)

    link = None
    if row["pagerduty_id"] is not None:
        link = PagerDutyLink(
            id=row["pagerduty_id"],
            html_url=row["pagerduty_html_url"],
            incident_key=row["pagerduty_incident_key"],
            status_at=maybe(row["pagerduty_status_at"]),
        )
    return Incident(
        id=row["id"],
        correlation_key=row["correlation_key"],
        group_key=row["group_key"],
        title=row["title"],
        status=IncidentStatus(row["status"]),
        severity=row["severity"],
        labels=load_mapping(row["labels"]),
        started_at=decode_time(row["started_at"]),
        detected_at=decode_time(row["detected_at"]),
        updated_at=decode_time(row["updated_at"]),
        opened_by=row["opened_by"],
        acknowledged_at=maybe(row["acknowledged_at"]),
        acknowledged_by=row["acknowledged_by"],
        resolved_at=maybe(row["resolved_at"]),
        resolved_by=row["resolved_by"],
        reopen_count=row["reopen_count"],
        severity_source=row["severity_source"],
        human=load_mapping(row["human"]),
        pagerduty=link,
        figure_settings=canonical_json(row["figure_settings"]),
    )


def delivery_values(delivery: PageDelivery, encode_time: EncodeTime) -> tuple[Any, ...]:
    """The delivery's column values in `DELIVERY_COLUMNS` order."""
    return (
        delivery.event_id,
        delivery.webhook_id,
        delivery.event_type,
        delivery.kind,
        delivery.incident_id,
        encode_time(delivery.received_at),
        delivery.outcome,
    )


def build_delivery(row: Row, decode_time: DecodeTime) -> PageDelivery:
    """The delivery stored in `row` (columns named as in `DELIVERY_COLUMNS`)."""
    return PageDelivery(
        event_id=row["event_id"],
        webhook_id=row["webhook_id"],
        event_type=row["event_type"],
        kind=row["kind"],
        incident_id=row["incident_id"],
        received_at=decode_time(row["received_at"]),
        outcome=row["outcome"],
    )


def alert_values(alert: AlertState, encode_time: EncodeTime) -> tuple[Any, ...]:
    """The alert's column values in `ALERT_COLUMNS` order."""
    return (
        alert.fingerprint,
        encode_time(alert.starts_at),
        alert.status.value,
        None if alert.ends_at is None else encode_time(alert.ends_at),
        dump_mapping(alert.labels),
        dump_mapping(alert.annotations),
        alert.generator_url,
        encode_time(alert.received_at),
        encode_time(alert.updated_at),
        dump_alert_text(alert.at_firing),
        dump_alert_text(alert.at_resolution),
        alert.value_text,
        dump_mapping(alert.links),
    )


def build_alert(row: Row, decode_time: DecodeTime) -> AlertState:
    """The alert state stored in `row` (columns named as in `ALERT_COLUMNS`)."""
    ends_at = row["ends_at"]
    return AlertState(
        fingerprint=row["fingerprint"],
        starts_at=decode_time(row["starts_at"]),
        status=AlertStatus(row["status"]),
        ends_at=None if ends_at is None else decode_time(ends_at),
        labels=load_mapping(row["labels"]),
        annotations=load_mapping(row["annotations"]),
        generator_url=row["generator_url"],
        received_at=decode_time(row["received_at"]),
        updated_at=decode_time(row["updated_at"]),
        at_firing=load_alert_text(row["firing_text"]),
        at_resolution=load_alert_text(row["resolved_text"]),
        value_text=row["value_text"],
        links=load_mapping(row["links"]),
    )


def timeline_values(entry: TimelineEntry, encode_time: EncodeTime) -> tuple[Any, ...]:
    """The entry's column values in `TIMELINE_COLUMNS` order."""
    return (
        encode_time(entry.at),
        entry.event,
        entry.action,
        entry.by,
        entry.source,
        entry.kind.value,
        entry.derived,
    )


# Enum lookups by value through the class call are slow on 10,000-entry timelines.
_KINDS: dict[str, TimelineKind] = {kind.value: kind for kind in TimelineKind}


def build_timeline_entry(row: Row, decode_time: DecodeTime) -> TimelineEntry:
    """The timeline entry stored in `row` (columns named as in `TIMELINE_COLUMNS`)."""
    return TimelineEntry(
        at=decode_time(row["at"]),
        event=row["event"],
        action=row["action"],
        by=row["actor"],
        source=row["source"],
        kind=_KINDS[row["kind"]],
        derived=bool(row["derived"]),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def encode_micros(value: datetime) -> int:
    """Exact integer microseconds since the Unix epoch (SQLite's time representation)."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored: use UTC")
    return (value - _EPOCH) // _MICROSECOND


def decode_micros(value: int) -> datetime:
    """The UTC datetime `encode_micros` stored."""
    return _EPOCH + timedelta(microseconds=value)


def encode_utc(value: datetime) -> datetime:
    """The datetime as PostgreSQL's timestamptz takes it; naive values are refused."""
    if value.tzinfo is None:
        raise ValueError(f"naive datetime {value.isoformat()} cannot be stored: use UTC")
    return value


def decode_utc(value: datetime) -> datetime:
    """timestamptz as returned by asyncpg is already UTC-aware."""
    return value


_CURSOR_PREFIX = "i1:"


def encode_cursor(last_id: str) -> str:
    """Opaque list cursor: the id of the last incident on the page."""
    raw = (_CURSOR_PREFIX + last_id).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The incident id inside a cursor from `encode_cursor`. Raises InvalidCursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
    except (UnicodeError, binascii.Error, ValueError):
        raise InvalidCursor(cursor) from None
    last_id = raw[len(_CURSOR_PREFIX) :]
    # Round-trip check: base64 decoding skips stray characters, a cursor we issued doesn't.
    if (
        not raw.startswith(_CURSOR_PREFIX)
        or not is_incident_id(last_id)
        or encode_cursor(last_id) != cursor
    ):
        raise InvalidCursor(cursor)
    return last_id
