"""Row <-> domain conversions shared by both backends; each backend brings its time codec."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from recorder.core.events import AlertStatus
from recorder.core.incident import (
    AlertState,
    AlertText,
    Incident,
    IncidentStatus,
    PagerDutyLink,
    TimelineEntry,
)
from recorder.core.links import incident_link_key
from recorder.store.protocol import PageDelivery
from recorder.store.times import DecodeTime, EncodeTime

# JSON data (dicts, lists, strings; None for NULL) to what a driver stores, and back.
EncodeJSON = Callable[[Any], Any]
DecodeJSON = Callable[[Any], Any]

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
    if not value:
        return "{}"
    return _MAPPING_ENCODER.encode(dict(value))


def load_mapping(text: str) -> dict[str, str]:
    """The string map stored by `dump_mapping`, keys sorted: jsonb reorders keys, so
    sorting here gives both backends the same iteration order."""
    if text == "{}":
        return {}
    loaded: dict[str, str] = json.loads(text)
    return dict(sorted(loaded.items()))


def canonical_json(stored: str | None) -> str | None:
    """JSON text with sorted keys and no spaces: jsonb re-spaces and reorders what it
    keeps, so both backends hand back the same text."""
    if stored is None:
        return None
    return json.dumps(json.loads(stored), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def json_text(data: Any) -> str | None:
    """JSON text of decoded JSON data (dicts, other Mappings, lists, strings, numbers),
    keys sorted so equal data store equal text; None stays NULL."""
    if data is None:
        return None
    return _DATA_ENCODER.encode(data)


def json_data(stored: str | None) -> Any:
    """The data `json_text` stored (None for NULL)."""
    return None if stored is None else json.loads(stored)


def json_default(value: object) -> dict[str, Any]:
    """json.dumps' `default`: it takes dicts; other Mappings (frozen views) are copied."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


# What json.dumps builds on every call with these arguments, built once.
_MAPPING_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_DATA_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=json_default
)


def alert_text_data(text: AlertText | None) -> dict[str, Any] | None:
    """What an alert said at one moment as JSON data: {"annotations": {...}, "value":
    "..."} ("value" only when there is one); None stays None (NULL)."""
    if text is None:
        return None
    data: dict[str, Any] = {"annotations": text.annotations}
    if text.value:
        data["value"] = text.value
    return data


def build_alert_text(data: Mapping[str, Any] | None) -> AlertText | None:
    """The AlertText in data `alert_text_data` made (None for NULL: not recorded)."""
    if data is None:
        return None
    annotations: dict[str, str] = data["annotations"]
    return AlertText(dict(sorted(annotations.items())), data.get("value", ""))


def dump_alert_text(text: AlertText | None) -> str | None:
    """JSON text of what an alert said at one moment (see alert_text_data)."""
    return json_text(alert_text_data(text))


def load_alert_text(stored: str | None) -> AlertText | None:
    """The text `dump_alert_text` stored (None for NULL: not recorded)."""
    return build_alert_text(json_data(stored))


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
        status=_INCIDENT_STATUSES[row["status"]],
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


def alert_values(
    alert: AlertState, encode_time: EncodeTime, encode_json: EncodeJSON | None = json_text
) -> tuple[Any, ...]:
    """The alert's column values in `ALERT_COLUMNS` order.

    JSON columns (maps, what the alert said) go through `encode_json`: JSON text by
    default. None leaves them as data: PostgreSQL's bulk path encodes a whole batch as
    one JSON document, with no call per value.
    """
    if encode_json is None:
        return alert_data_values(alert, encode_time)
    encode = encode_json
    return (
        alert.fingerprint,
        encode_time(alert.starts_at),
        _STATUS_VALUES[alert.status],
        None if alert.ends_at is None else encode_time(alert.ends_at),
        encode(alert.labels),
        encode(alert.annotations),
        alert.generator_url,
        encode_time(alert.received_at),
        encode_time(alert.updated_at),
        encode(alert_text_data(alert.at_firing)),
        encode(alert_text_data(alert.at_resolution)),
        alert.value_text,
        encode(alert.links),
    )


def alert_data_values(alert: AlertState, encode_time: EncodeTime) -> tuple[Any, ...]:
    """`alert_values(alert, encode_time, None)`: JSON columns left as data, written out
    without a call per value (a 50-alert notification builds 50 of these a request)."""
    ends_at = alert.ends_at
    firing = alert.at_firing
    resolution = alert.at_resolution
    return (
        alert.fingerprint,
        encode_time(alert.starts_at),
        _STATUS_VALUES[alert.status],
        None if ends_at is None else encode_time(ends_at),
        alert.labels,
        alert.annotations,
        alert.generator_url,
        encode_time(alert.received_at),
        encode_time(alert.updated_at),
        None if firing is None else alert_text_data(firing),
        None if resolution is None else alert_text_data(resolution),
        alert.value_text,
        alert.links,
    )


def _same(value: Any) -> Any:
    return value


def build_alert(
    row: Row, decode_time: DecodeTime, decode_json: DecodeJSON | None = json_data
) -> AlertState:
    """The alert state stored in `row` (columns named as in `ALERT_COLUMNS`).

    JSON columns go through `decode_json`: from JSON text by default. None takes them as
    already decoded (PostgreSQL's bulk path). Maps come back with sorted keys: jsonb
    reorders keys, so both backends iterate them in the same order.
    """
    decode = _same if decode_json is None else decode_json
    ends_at = row["ends_at"]
    return AlertState(
        fingerprint=row["fingerprint"],
        starts_at=decode_time(row["starts_at"]),
        status=_STATUSES[row["status"]],
        ends_at=None if ends_at is None else decode_time(ends_at),
        labels=_sorted(decode(row["labels"])),
        annotations=_sorted(decode(row["annotations"])),
        generator_url=row["generator_url"],
        received_at=decode_time(row["received_at"]),
        updated_at=decode_time(row["updated_at"]),
        at_firing=build_alert_text(decode(row["firing_text"])),
        at_resolution=build_alert_text(decode(row["resolved_text"])),
        value_text=row["value_text"],
        links=_sorted(decode(row["links"])),
    )


def _sorted(value: Mapping[str, str]) -> dict[str, str]:
    return dict(sorted(value.items()))


# Enum lookups by value through the class call are slow on 10,000-alert groups.
_INCIDENT_STATUSES: dict[str, IncidentStatus] = {status.value: status for status in IncidentStatus}
_STATUSES: dict[str, AlertStatus] = {status.value: status for status in AlertStatus}
_STATUS_VALUES: dict[AlertStatus, str] = {status: status.value for status in AlertStatus}


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
