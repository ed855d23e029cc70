"""Grafana-managed alerting's webhook contact point (payload version "1") to AlertNotification.

The body is Alertmanager's webhook shape (Grafana embeds Alertmanager) plus `orgId`,
`title`, `state`, `message` and, per alert, `values`, `valueString`, `dashboardURL`,
`panelURL`, `silenceURL` and `imageURL` (grafana/alerting `templates.ExtendedAlert`;
docs: alerting/configure-notifications/manage-contact-points/integrations/
webhook-notifier.md). Grafana 8 sends `valueString` only; 9 and later add `values`.
Legacy Grafana alerting (7 and earlier) sent another body altogether: it is refused with
LegacyGrafanaPayload.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired
from urllib.parse import urljoin, urlsplit

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from alert_adapters.alert_body import (
    GO_ZERO_TIME,
    MAPS,
    STATUSES,
    TEXTS,
    check_map_sizes,
    check_strings,
    read_instant,
    valid_instants,
)
from alert_adapters.errors import PayloadNotJSON, ProblemList, UnsupportedVersion
from alert_adapters.fingerprint import label_fingerprint
from alert_adapters.json_document import decode_document, is_value_dense
from alert_adapters.limits import (
    ANNOTATION_NAME_MAX_BYTES,
    ANNOTATION_VALUE_MAX_BYTES,
    FINGERPRINT_MAX_BYTES,
    GROUP_KEY_MAX_BYTES,
    LABEL_NAME_MAX_BYTES,
    LABEL_VALUE_MAX_BYTES,
    TEXT_MAX_BYTES,
    text_problem,
)
from alert_adapters.whole_body import (
    EXACT,
    LOOSE,
    alert_list,
    fast_schema,
    map_pairs,
    number_map,
    string_map,
    text,
    validate_whole,
)
from recorder.core.events import AlertEvent, AlertNotification

SOURCE = "Grafana"
SUPPORTED_VERSION = "1"

# Fields only legacy (Grafana <= 7) alerting sent; its body has no `alerts` and no `version`.
_LEGACY_FIELDS = frozenset({"evalMatches", "ruleId", "ruleName", "ruleUrl"})
# Per-alert URL fields, by the link kind the recorder stores them as (recorder.core.events).
_LINK_FIELDS: tuple[tuple[str, str], ...] = (
    ("dashboard", "dashboardURL"),
    ("panel", "panelURL"),
    ("image", "imageURL"),
    ("silence", "silenceURL"),
)

# Strict like the Alertmanager adapter, except where Grafana's Go structs marshal nil maps
# as null (annotations, values) and omit empty fields. Unknown keys are ignored.
_CONFIG = ConfigDict(strict=True, extra="ignore")


@with_config(_CONFIG)
class _Alert(TypedDict):
    status: Literal["firing", "resolved"]
    labels: dict[str, str] | None
    annotations: NotRequired[dict[str, str] | None]
    startsAt: str
    endsAt: NotRequired[str]
    generatorURL: NotRequired[str]
    fingerprint: NotRequired[str]
    values: NotRequired[dict[str, float] | None]
    valueString: NotRequired[str]
    dashboardURL: NotRequired[str]
    panelURL: NotRequired[str]
    silenceURL: NotRequired[str]
    imageURL: NotRequired[str]


@with_config(_CONFIG)
class _Message(TypedDict):
    # `status`, `state`, `title` and `message` describe the group as a whole (and the
    # latter two are templated text): per-alert status is the truth, as for Alertmanager.
    version: str
    groupKey: str
    # Each alert is validated as _Alert on its own, so validation stops at the error cap.
    alerts: list[Any]
    receiver: NotRequired[str]
    groupLabels: NotRequired[dict[str, str] | None]
    commonLabels: NotRequired[dict[str, str] | None]
    commonAnnotations: NotRequired[dict[str, str] | None]
    externalURL: NotRequired[str]
    truncatedAlerts: NotRequired[Annotated[int, Field(ge=0, le=2**31 - 1)] | None]


_MESSAGE = TypeAdapter(_Message)
_ALERT = TypeAdapter(_Alert)
_TEXTS = {
    **TEXTS,
    "valueString": TEXT_MAX_BYTES,
    **{field: TEXT_MAX_BYTES for _, field in _LINK_FIELDS},
}
# `values` maps query refs to numbers: its size and names are checked like labels'.
_MAPS = {**MAPS, "values": (LABEL_NAME_MAX_BYTES, 0)}
_STRING_MAPS = MAPS


def fast_message_schema(scale: int) -> Any:
    """_Message with the storage limits in it and every known field named, for
    alert_adapters.whole_body (`scale`: EXACT or LOOSE)."""
    labels = string_map(LABEL_NAME_MAX_BYTES, LABEL_VALUE_MAX_BYTES, scale) | None
    annotations = string_map(ANNOTATION_NAME_MAX_BYTES, ANNOTATION_VALUE_MAX_BYTES, scale) | None
    values = number_map(LABEL_NAME_MAX_BYTES, scale) | None
    url = text(TEXT_MAX_BYTES, scale)
    alert = fast_schema(
        "_FastAlert",
        {"status": Literal["firing", "resolved"], "labels": labels, "startsAt": str},
        {
            "annotations": annotations,
            "endsAt": str,
            "generatorURL": url,
            "fingerprint": text(FINGERPRINT_MAX_BYTES, scale),
            "values": values,
            "valueString": text(TEXT_MAX_BYTES, scale),
            **{field: url for _, field in _LINK_FIELDS},
            "orgId": int,  # sent by Grafana 11 and later, ignored
        },
    )
    return fast_schema(
        "_FastMessage",
        {
            "version": Literal["1"],
            "groupKey": text(GROUP_KEY_MAX_BYTES, scale),
            "alerts": alert_list(alert),
        },
        {
            "receiver": text(TEXT_MAX_BYTES, scale),
            "groupLabels": labels,
            "commonLabels": labels,
            "commonAnnotations": annotations,
            "externalURL": text(TEXT_MAX_BYTES, scale),
            "truncatedAlerts": Annotated[int, Field(ge=0, le=2**31 - 1)] | None,
            # Sent, and ignored by the recorder (see _Message).
            "status": str,
            "orgId": int,
            "title": str,
            "state": str,
            "message": str,
        },
    )


_FAST = {scale: TypeAdapter(fast_message_schema(scale)) for scale in (EXACT, LOOSE)}


class LegacyGrafanaPayload(UnsupportedVersion):
    """A legacy Grafana alerting (Grafana 7 and earlier) body (HTTP 400)."""

    def __init__(self) -> None:
        super().__init__(SOURCE, "legacy", SUPPORTED_VERSION)
        self.args = (
            "legacy Grafana alerting (Grafana 7 and earlier: evalMatches, ruleId, no alerts) "
            "is not supported; use Grafana-managed alerting (Grafana 8 or later), whose "
            'webhook contact point sends payload version "1"',
        )

    def __reduce__(self) -> tuple[type[LegacyGrafanaPayload], tuple[()]]:
        return type(self), ()


def parse_grafana(body: bytes) -> AlertNotification:
    """Validate one Grafana-managed alerting webhook body and normalize it.

    Times become aware UTC datetimes (zone offsets are honoured); the zero `endsAt` of a
    firing alert becomes None. An alert without `fingerprint` gets the one computed from
    its labels. `values` (or, from Grafana 8, `valueString`) become the alert's
    value text; relative URLs are resolved against `externalURL`, and the dashboard,
    panel, image and silence URLs become the alert's links. Null maps count as empty.
    Strings must fit the limits in alert_adapters.limits; validation stops after
    MAX_REPORTED_ERRORS problems.

    Raises:
        PayloadNotJSON: the body is empty, not UTF-8 or not JSON (see decode_document).
        LegacyGrafanaPayload: a legacy (Grafana 7 and earlier) alerting body.
        UnsupportedVersion: `version` is a string other than "1".
        PayloadInvalid: JSON that breaks the version 1 schema, or that storage cannot
            hold (as for Alertmanager).
    """
    if not is_value_dense(body):
        found = validate_whole(body, _FAST)
        if found is not None:
            notification = read_valid_grafana(*found)
            if notification is not None:
                return notification
    return read_grafana(decode_document(body, SOURCE))


def read_valid_grafana(document: Any, pairs_in_body: int) -> AlertNotification | None:
    """The notification of a body alert_adapters.whole_body validated, or None when it
    needs the careful path (see alertmanager.read_valid_alertmanager)."""
    pairs = len(document) + map_pairs(
        document.get("groupLabels"), document.get("commonLabels"), document.get("commonAnnotations")
    )
    external_url = document.get("externalURL", "")
    alerts: list[AlertEvent] = []
    for alert in document["alerts"]:
        pairs += len(alert) + map_pairs(
            alert["labels"], alert.get("annotations"), alert.get("values")
        )
        instants = valid_instants(alert)
        if instants is None:
            return None
        alerts.append(_event(alert, *instants, external_url))
    if pairs != pairs_in_body:
        return None
    return _notification(document, external_url, alerts)


def read_grafana(document: Any) -> AlertNotification:
    """parse_grafana for a body already decoded by decode_document."""
    if is_legacy_grafana(document):
        raise LegacyGrafanaPayload()
    if isinstance(document, dict):
        version = document.get("version")
        if isinstance(version, str) and version != SUPPORTED_VERSION:
            raise UnsupportedVersion(SOURCE, version, SUPPORTED_VERSION)
    problems = ProblemList()
    if not isinstance(document, dict):
        problems.add("", "Input should be an object")
    elif check_map_sizes(document, "", problems, _MAPS):
        try:
            _MESSAGE.validate_python(document)
        except ValidationError as exc:
            problems.add_validation_error(exc)
        else:
            check_strings(document, "", problems, _TEXTS, _STRING_MAPS)
    problems.raise_if_any(SOURCE)

    external_url = document.get("externalURL", "")
    alerts: list[AlertEvent] = []
    for index, alert in enumerate(document["alerts"]):
        if problems.full:
            break
        event = _alert_event(alert, f"alerts.{index}", external_url, problems)
        if event is not None:
            alerts.append(event)
    problems.raise_if_any(SOURCE)
    return _notification(document, external_url, alerts)


def _notification(document: Any, external_url: str, alerts: list[AlertEvent]) -> AlertNotification:
    return AlertNotification(
        source=SOURCE,
        receiver=document.get("receiver", ""),
        group_key=document["groupKey"],
        alerts=tuple(alerts),
        group_labels=document.get("groupLabels") or {},
        common_labels=document.get("commonLabels") or {},
        common_annotations=document.get("commonAnnotations") or {},
        external_url=external_url,
        truncated_alerts=document.get("truncatedAlerts") or 0,
    )


def _alert_event(
    alert: Any, at: str, external_url: str, problems: ProblemList
) -> AlertEvent | None:
    """One validated alert, or None after adding its problems to `problems`."""
    if isinstance(alert, dict) and not check_map_sizes(alert, at, problems, _MAPS):
        return None
    try:
        _ALERT.validate_python(alert)
    except ValidationError as exc:
        problems.add_validation_error(exc, at)
        return None
    # Strictly valid: the decoded values have the declared types (see alertmanager.py).
    before = len(problems.lines)
    check_strings(alert, at, problems, _TEXTS, _STRING_MAPS)
    for ref in alert.get("values") or {}:
        problem = text_problem(ref, LABEL_NAME_MAX_BYTES)
        if problem is not None:
            problems.add(f"{at}.values", f"a query ref {problem}")
    starts_at = read_instant(alert["startsAt"], f"{at}.startsAt", problems, start=True)
    ends_at = read_instant(alert.get("endsAt", GO_ZERO_TIME), f"{at}.endsAt", problems, start=False)
    if starts_at is None or len(problems.lines) > before:
        return None
    return _event(alert, starts_at, ends_at, external_url)


def _event(
    alert: Any, starts_at: datetime, ends_at: datetime | None, external_url: str
) -> AlertEvent:
    """The event of a valid alert, with its times read."""
    labels = alert["labels"] or {}
    return AlertEvent(
        fingerprint=alert.get("fingerprint") or label_fingerprint(labels),
        status=STATUSES[alert["status"]],
        starts_at=starts_at,
        ends_at=ends_at,
        labels=labels,
        annotations=alert.get("annotations") or {},
        generator_url=_absolute(alert.get("generatorURL", ""), external_url) or "",
        value_text=format_values(alert.get("values") or {}) or alert.get("valueString", "").strip(),
        links={
            kind: url
            for kind, field in _LINK_FIELDS
            if (url := _absolute(str(alert.get(field, "")), external_url)) and _is_web_url(url)
        },
    )


def format_values(values: dict[str, float]) -> str:
    """`{"B": 44.23943737541908, "C": 1}` as "B=44.2394, C=1": by query ref, 6 digits."""
    return ", ".join(f"{ref}={_number(values[ref])}" for ref in sorted(values))


def is_legacy_grafana(body: bytes | Any) -> bool:
    """True for a legacy Grafana (7 and earlier) alerting body: no `alerts`, no
    `version`, and at least one of the fields only it sent (`evalMatches`, `ruleId`...).

    Takes the raw body or the value decode_document made of it."""
    if isinstance(body, bytes):
        try:
            document = decode_document(body, SOURCE)
        except PayloadNotJSON:
            return False
    else:
        document = body
    return (
        isinstance(document, dict)
        and "alerts" not in document
        and "version" not in document
        and not _LEGACY_FIELDS.isdisjoint(document)
    )


def _number(value: float) -> str:
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _absolute(url: str, base: str) -> str:
    """`url` resolved against `base` when it is relative and `base` is a web URL."""
    if not url or urlsplit(url).scheme or not _is_web_url(base):
        return url
    return urljoin(base, url)


def _is_web_url(url: str) -> bool:
    return urlsplit(url).scheme.lower() in {"http", "https"}
