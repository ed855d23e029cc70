"""Alertmanager webhook (payload version 4) to AlertNotification."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import lru_cache
from typing import Annotated, Any, Literal, NotRequired

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from alert_adapters.errors import ProblemList, UnsupportedVersion
from alert_adapters.json_document import decode_document
from alert_adapters.limits import (
    ANNOTATION_NAME_MAX_BYTES,
    ANNOTATION_VALUE_MAX_BYTES,
    FINGERPRINT_MAX_BYTES,
    GROUP_KEY_MAX_BYTES,
    LABEL_NAME_MAX_BYTES,
    LABEL_VALUE_MAX_BYTES,
    MAX_MAP_ENTRIES,
    TEXT_MAX_BYTES,
    TIMESTAMP_MAX_CHARS,
    map_problems,
    text_problem,
    utc_instant,
)
from recorder.core.events import AlertEvent, AlertNotification, AlertStatus

SOURCE = "Alertmanager"
SUPPORTED_VERSION = "4"

# Go's zero time.Time, which Alertmanager sends as endsAt of every alert still firing.
_GO_ZERO_TIME = "0001-01-01T00:00:00Z"
_ZERO_INSTANT = datetime(1, 1, 1, tzinfo=UTC)
_EXCESS_FRACTION = re.compile(r"(\.\d{6})\d+")
_TIME_PROBLEM = "not an RFC 3339 timestamp with a UTC offset"
_ZERO_START_PROBLEM = "is Go's zero time (0001-01-01T00:00:00Z): the alert has no start time"

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
    fingerprint: str


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
_LABEL_MAPS = ("groupLabels", "commonLabels")
# (key, name limit, value limit) of the string maps an alert or a message carries.
_MAPS = {
    "labels": (LABEL_NAME_MAX_BYTES, LABEL_VALUE_MAX_BYTES),
    "groupLabels": (LABEL_NAME_MAX_BYTES, LABEL_VALUE_MAX_BYTES),
    "commonLabels": (LABEL_NAME_MAX_BYTES, LABEL_VALUE_MAX_BYTES),
    "annotations": (ANNOTATION_NAME_MAX_BYTES, ANNOTATION_VALUE_MAX_BYTES),
    "commonAnnotations": (ANNOTATION_NAME_MAX_BYTES, ANNOTATION_VALUE_MAX_BYTES),
}
_TEXTS = {
    "groupKey": GROUP_KEY_MAX_BYTES,
    "receiver": TEXT_MAX_BYTES,
    "externalURL": TEXT_MAX_BYTES,
    "fingerprint": FINGERPRINT_MAX_BYTES,
    "generatorURL": TEXT_MAX_BYTES,
}


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
    document = decode_document(body, SOURCE)
    if isinstance(document, dict):
        version = document.get("version")
        if isinstance(version, str) and version != SUPPORTED_VERSION:
            raise UnsupportedVersion(SOURCE, version, SUPPORTED_VERSION)
    problems = ProblemList()
    if isinstance(document, dict) and _check_map_sizes(document, "", problems):
        try:
            _MESSAGE.validate_python(document)
        except ValidationError as exc:
            problems.add_validation_error(exc)
        else:
            _check_strings(document, "", problems)
    elif not isinstance(document, dict):
        problems.add("", "Input should be an object")
    problems.raise_if_any(SOURCE)

    alerts: list[AlertEvent] = []
    for index, alert in enumerate(document["alerts"]):
        if problems.full:
            break
        event = _alert_event(alert, f"alerts.{index}", problems)
        if event is not None:
            alerts.append(event)
    problems.raise_if_any(SOURCE)
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
    if isinstance(alert, dict) and not _check_map_sizes(alert, at, problems):
        return None
    try:
        _ALERT.validate_python(alert)
    except ValidationError as exc:
        problems.add_validation_error(exc, at)
        return None
    # Validation passed in strict mode, so the decoded values have exactly the declared
    # types: use them rather than the validated copy (half the objects for the GC).
    before = len(problems.lines)
    _check_strings(alert, at, problems)
    starts_at = _instant(alert["startsAt"], f"{at}.startsAt", problems, start=True)
    ends_raw = alert.get("endsAt", _GO_ZERO_TIME)
    ends_at = _instant(ends_raw, f"{at}.endsAt", problems, start=False)
    if starts_at is None or len(problems.lines) > before:
        return None
    return AlertEvent(
        fingerprint=alert["fingerprint"],
        status=AlertStatus(alert["status"]),
        starts_at=starts_at,
        ends_at=ends_at,
        labels=alert["labels"],
        annotations=alert.get("annotations", {}),
        generator_url=alert.get("generatorURL", ""),
    )


def _check_map_sizes(container: dict[str, Any], at: str, problems: ProblemList) -> bool:
    """False (with a problem each) when a string map has more than MAX_MAP_ENTRIES entries.

    Checked before pydantic runs: it would list every bad entry of a huge map.
    """
    fits = True
    for key in _MAPS:
        value = container.get(key)
        if isinstance(value, dict) and len(value) > MAX_MAP_ENTRIES:
            problems.add(
                f"{at}.{key}".lstrip("."),
                f"has {len(value)} entries, over the limit of {MAX_MAP_ENTRIES}",
            )
            fits = False
    return fits


def _check_strings(container: dict[str, Any], at: str, problems: ProblemList) -> None:
    """Add a problem for each validated string or map entry that storage cannot hold."""
    prefix = f"{at}." if at else ""
    for key, limit in _TEXTS.items():
        value = container.get(key)
        if isinstance(value, str):
            problem = text_problem(value, limit)
            if problem is not None:
                problems.add(prefix + key, problem)
    for key, (name_limit, value_limit) in _MAPS.items():
        entries = container.get(key)
        if isinstance(entries, dict):
            for name, problem in map_problems(entries, name_limit, value_limit):
                problems.add(f"{prefix}{key}.{name}", problem)


def _instant(text: str, at: str, problems: ProblemList, *, start: bool) -> datetime | None:
    """The instant `text` names, or None: for a start, after adding a problem; for an end,
    also when it is Go's zero time (the alert still fires)."""
    parsed = _parse_time(text) if len(text) <= TIMESTAMP_MAX_CHARS else _TIME_PROBLEM
    if isinstance(parsed, str):
        problems.add(at, parsed)
        return None
    if parsed == _ZERO_INSTANT:
        if start:
            problems.add(at, _ZERO_START_PROBLEM)
        return None
    instant = utc_instant(parsed)
    if isinstance(instant, str):
        problems.add(at, instant)
        return None
    return instant


@lru_cache(maxsize=4096)
def _parse_time(text: str) -> datetime | str:
    """RFC 3339 (Go's RFC3339Nano) to an aware datetime, or the problem with `text`.

    Cached: an alert group repeats the same few instants in every re-send.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # Older 3.11 patch releases reject more than 6 fractional digits; Go sends up to 9.
        try:
            moment = datetime.fromisoformat(_EXCESS_FRACTION.sub(r"\1", text, count=1))
        except ValueError:
            return _TIME_PROBLEM
    if moment.tzinfo is None:  # also date-only text: an instant needs its offset
        return _TIME_PROBLEM
    # Go's zero time is recognised by its instant, however it is written.
    return _ZERO_INSTANT if moment == _ZERO_INSTANT else moment
