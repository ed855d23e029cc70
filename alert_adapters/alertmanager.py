"""Alertmanager webhook (payload version 4) to AlertNotification."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from alert_adapters.alert_body import (
    GO_ZERO_TIME,
    STATUSES,
    check_map_sizes,
    check_strings,
    read_instant,
    valid_instants,
)
from alert_adapters.errors import ProblemList, UnsupportedVersion
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
)
from alert_adapters.whole_body import (
    EXACT,
    LOOSE,
    alert_list,
    fast_schema,
    map_pairs,
    string_map,
    text,
    validate_whole,
)
from recorder.core.events import AlertEvent, AlertNotification

SOURCE = "Alertmanager"
SUPPORTED_VERSION = "4"

# TypedDicts rather than BaseModels: validating straight into dicts is measurably faster
# at 50 alerts per notification. Strict: JSON numbers are not accepted as strings.
# Unknown keys are ignored because every Alertmanager release may add some
# (notification_reason in v0.32, routeLabels in v0.34).
_CONFIG = ConfigDict(strict=True, extra="ignore")
_Labels = dict[str, str]


# Key names are the vendor's camelCase: no aliases to look up, easy to grep against docs.
@with_config(_CONFIG)
class _Alert(TypedDict):
    status: Literal["firing", "resolved"]
    labels: _Labels
    annotations: NotRequired[_Labels]
    startsAt: str
    endsAt: NotRequired[str]
    generatorURL: NotRequired[str]
    fingerprint: NotRequired[str]  # absent before Alertmanager 0.19: computed from labels


@with_config(_CONFIG)
class _Message(TypedDict):
    # The top-level `status` is deliberately absent: it describes only the alerts left
    # after max_alerts truncation, so it can say "resolved" while a truncated alert still
    # fires. Per-alert status is the truth.
    version: str
    groupKey: str
    # Each alert is validated as _Alert on its own, so validation stops at the error cap.
    alerts: list[Any]
    receiver: NotRequired[str]
    groupLabels: NotRequired[_Labels]
    commonLabels: NotRequired[_Labels]
    commonAnnotations: NotRequired[_Labels]
    externalURL: NotRequired[str]
    truncatedAlerts: NotRequired[Annotated[int, Field(ge=0, le=2**31 - 1)]]


_MESSAGE = TypeAdapter(_Message)
_ALERT = TypeAdapter(_Alert)


def fast_message_schema(scale: int) -> Any:
    """_Message with the storage limits in it and every known field named, for
    alert_adapters.whole_body (`scale`: EXACT or LOOSE)."""
    labels = string_map(LABEL_NAME_MAX_BYTES, LABEL_VALUE_MAX_BYTES, scale)
    annotations = string_map(ANNOTATION_NAME_MAX_BYTES, ANNOTATION_VALUE_MAX_BYTES, scale)
    alert = fast_schema(
        "_FastAlert",
        {"status": Literal["firing", "resolved"], "labels": labels, "startsAt": str},
        {
            "annotations": annotations,
            "endsAt": str,
            "generatorURL": text(TEXT_MAX_BYTES, scale),
            "fingerprint": text(FINGERPRINT_MAX_BYTES, scale),
        },
    )
    return fast_schema(
        "_FastMessage",
        {
            "version": Literal["4"],
            "groupKey": text(GROUP_KEY_MAX_BYTES, scale),
            "alerts": alert_list(alert),
        },
        {
            "receiver": text(TEXT_MAX_BYTES, scale),
            "groupLabels": labels,
            "commonLabels": labels,
            "commonAnnotations": annotations,
            "externalURL": text(TEXT_MAX_BYTES, scale),
            "truncatedAlerts": Annotated[int, Field(ge=0, le=2**31 - 1)],
            # Sent, and ignored by the recorder (see _Message).
            "status": str,
            "notification_reason": str,  # Alertmanager 0.32
            "routeLabels": dict[str, str],  # Alertmanager 0.34
        },
    )


_FAST = {scale: TypeAdapter(fast_message_schema(scale)) for scale in (EXACT, LOOSE)}


def parse_alertmanager(body: bytes) -> AlertNotification:
    """Validate one Alertmanager webhook body and normalize it.

    Timestamps become timezone-aware UTC datetimes (Go's nanoseconds are truncated to
    microseconds); the zero `endsAt` of a firing alert becomes None. The message's
    top-level `status` is ignored: only per-alert status is trustworthy. Strings must fit
    the limits in alert_adapters.limits. Validation stops after MAX_REPORTED_ERRORS
    problems, so its cost does not grow with a hostile body's number of errors.

    Raises:
        PayloadNotJSON: the body is empty, not UTF-8 or not JSON (see decode_document).
        UnsupportedVersion: `version` is a string other than "4".
        PayloadInvalid: JSON that breaks the version 4 schema (wrong types, no `alerts`,
            a timestamp that is not RFC 3339 or outside years 1-9999, Go's zero time as
            `startsAt`) or that storage cannot hold (NUL characters, values over the
            limits).
    """
    if not is_value_dense(body):
        found = validate_whole(body, _FAST)
        if found is not None:
            notification = read_valid_alertmanager(*found)
            if notification is not None:
                return notification
    return read_alertmanager(decode_document(body, SOURCE))


def read_valid_alertmanager(document: Any, pairs_in_body: int) -> AlertNotification | None:
    """The notification of a body alert_adapters.whole_body validated, or None when it
    needs the careful path: a repeated key (fewer pairs here than `pairs_in_body`), or a
    time out of range."""
    pairs = len(document) + map_pairs(
        document.get("groupLabels"),
        document.get("commonLabels"),
        document.get("commonAnnotations"),
        document.get("routeLabels"),
    )
    alerts: list[AlertEvent] = []
    for alert in document["alerts"]:
        pairs += len(alert) + len(alert["labels"]) + len(alert.get("annotations", ()))
        instants = valid_instants(alert)
        if instants is None:
            return None
        alerts.append(_event(alert, *instants))
    if pairs != pairs_in_body:
        return None
    return _notification(document, alerts)


def read_alertmanager(document: Any) -> AlertNotification:
    """parse_alertmanager for a body already decoded by decode_document."""
    if isinstance(document, dict):
        version = document.get("version")
        if isinstance(version, str) and version != SUPPORTED_VERSION:
            raise UnsupportedVersion(SOURCE, version, SUPPORTED_VERSION)
    problems = ProblemList()
    if not isinstance(document, dict):
        problems.add("", "Input should be an object")
    elif check_map_sizes(document, "", problems):
        try:
            _MESSAGE.validate_python(document)
        except ValidationError as exc:
            problems.add_validation_error(exc)
        else:
            check_strings(document, "", problems)
    problems.raise_if_any(SOURCE)

    alerts: list[AlertEvent] = []
    for index, alert in enumerate(document["alerts"]):
        if problems.full:
            break
        event = _alert_event(alert, f"alerts.{index}", problems)
        if event is not None:
            alerts.append(event)
    problems.raise_if_any(SOURCE)
    return _notification(document, alerts)


def _notification(document: Any, alerts: list[AlertEvent]) -> AlertNotification:
    return AlertNotification(
        source=SOURCE,
        receiver=document.get("receiver", ""),
        group_key=document["groupKey"],
        alerts=tuple(alerts),
        group_labels=document.get("groupLabels", {}),
        common_labels=document.get("commonLabels", {}),
        common_annotations=document.get("commonAnnotations", {}),
        external_url=document.get("externalURL", ""),
        truncated_alerts=document.get("truncatedAlerts", 0),
    )


def _alert_event(alert: Any, at: str, problems: ProblemList) -> AlertEvent | None:
    """One validated alert, or None after adding its problems to `problems`."""
    if isinstance(alert, dict) and not check_map_sizes(alert, at, problems):
        return None
    try:
        _ALERT.validate_python(alert)
    except ValidationError as exc:
        problems.add_validation_error(exc, at)
        return None
    # Validation passed in strict mode, so the decoded values have exactly the declared
    # types: use them rather than the validated copy (half the objects for the GC).
    before = len(problems.lines)
    check_strings(alert, at, problems)
    starts_at = read_instant(alert["startsAt"], f"{at}.startsAt", problems, start=True)
    ends_raw = alert.get("endsAt", GO_ZERO_TIME)
    ends_at = read_instant(ends_raw, f"{at}.endsAt", problems, start=False)
    if starts_at is None or len(problems.lines) > before:
        return None
    return _event(alert, starts_at, ends_at)


def _event(alert: Any, starts_at: datetime, ends_at: datetime | None) -> AlertEvent:
    """The event of a valid alert, with its times read."""
    return AlertEvent(
        fingerprint=alert.get("fingerprint") or label_fingerprint(alert["labels"]),
        status=STATUSES[alert["status"]],
        starts_at=starts_at,
        ends_at=ends_at,
        labels=alert["labels"],
        annotations=alert.get("annotations", {}),
        generator_url=alert.get("generatorURL", ""),
    )
