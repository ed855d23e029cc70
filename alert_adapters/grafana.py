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

import json
import math
from typing import Annotated, NotRequired
from urllib.parse import urljoin, urlsplit

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, with_config
from typing_extensions import TypedDict  # pydantic needs this one on Python < 3.12

from alert_adapters.alertmanager import _GO_ZERO_TIME, _TIME_PROBLEM, _parse_time
from alert_adapters.errors import (
    PayloadInvalid,
    PayloadNotJSON,
    UnsupportedVersion,
    describe_validation_error,
    json_error,
)
from alert_adapters.fingerprint import label_fingerprint
from recorder.core.events import AlertEvent, AlertNotification, AlertStatus

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
    status: AlertStatus
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
    alerts: list[_Alert]
    receiver: NotRequired[str]
    groupLabels: NotRequired[dict[str, str] | None]
    commonLabels: NotRequired[dict[str, str] | None]
    commonAnnotations: NotRequired[dict[str, str] | None]
    externalURL: NotRequired[str]
    truncatedAlerts: NotRequired[Annotated[int, Field(ge=0)] | None]


_MESSAGE = TypeAdapter(_Message)


class LegacyGrafanaPayload(UnsupportedVersion):
    """A legacy Grafana alerting (Grafana 7 and earlier) body (HTTP 400)."""

    def __init__(self) -> None:
        super().__init__(SOURCE, "legacy", SUPPORTED_VERSION)
        self.args = (
            "legacy Grafana alerting (Grafana 7 and earlier: evalMatches, ruleId, no alerts) "
            "is not supported; use Grafana-managed alerting (Grafana 8 or later), whose "
            'webhook contact point sends payload version "1"',
        )


def parse_grafana(body: bytes) -> AlertNotification:
    """Validate one Grafana-managed alerting webhook body and normalize it.

    Times become aware UTC datetimes (zone offsets are honoured); the zero `endsAt` of a
    firing alert becomes None. An alert without `fingerprint` gets the one computed from
    its labels. `values` (or, from Grafana 8, `valueString`) become the alert's
    value text; relative URLs are resolved against `externalURL`, and the dashboard,
    panel, image and silence URLs become the alert's links. Null maps count as empty.

    Raises:
        PayloadNotJSON: the body is empty or not JSON.
        LegacyGrafanaPayload: a legacy (Grafana 7 and earlier) alerting body.
        UnsupportedVersion: `version` is a string other than "1".
        PayloadInvalid: JSON that breaks the version 1 schema.
    """
    try:
        message = _MESSAGE.validate_json(body)
    except ValidationError as exc:
        raise _classify(body, exc) from None
    if message["version"] != SUPPORTED_VERSION:
        raise UnsupportedVersion(SOURCE, message["version"], SUPPORTED_VERSION)

    external_url = message.get("externalURL", "")
    alerts: list[AlertEvent] = []
    problems: list[str] = []
    for index, alert in enumerate(message["alerts"]):
        starts_at = _parse_time(alert["startsAt"])
        ends_raw = alert.get("endsAt", _GO_ZERO_TIME)
        ends_at = None if ends_raw == _GO_ZERO_TIME else _parse_time(ends_raw)
        if starts_at is None:
            problems.append(f"alerts.{index}.startsAt: {_TIME_PROBLEM}")
        if ends_at is None and ends_raw != _GO_ZERO_TIME:
            problems.append(f"alerts.{index}.endsAt: {_TIME_PROBLEM}")
        if starts_at is None or problems:
            continue
        labels = alert["labels"] or {}
        alerts.append(
            AlertEvent(
                fingerprint=alert.get("fingerprint") or label_fingerprint(labels),
                status=alert["status"],
                starts_at=starts_at,
                ends_at=ends_at,
                labels=labels,
                annotations=alert.get("annotations") or {},
                generator_url=_absolute(alert.get("generatorURL", ""), external_url) or "",
                value_text=format_values(alert.get("values") or {})
                or alert.get("valueString", "").strip(),
                links={
                    kind: url
                    for kind, field in _LINK_FIELDS
                    if (url := _absolute(str(alert.get(field, "")), external_url))
                    and _is_web_url(url)
                },
            )
        )
    if problems:
        raise PayloadInvalid(SOURCE, problems)
    return AlertNotification(
        source=SOURCE,
        receiver=message.get("receiver", ""),
        group_key=message["groupKey"],
        alerts=tuple(alerts),
        group_labels=message.get("groupLabels") or {},
        common_labels=message.get("commonLabels") or {},
        common_annotations=message.get("commonAnnotations") or {},
        external_url=external_url,
        truncated_alerts=message.get("truncatedAlerts") or 0,
    )


def format_values(values: dict[str, float]) -> str:
    """`{"B": 44.23943737541908, "C": 1}` as "B=44.2394, C=1": by query ref, 6 digits."""
    return ", ".join(f"{ref}={_number(values[ref])}" for ref in sorted(values))


def is_legacy_grafana(body: bytes) -> bool:
    """True for a legacy Grafana (7 and earlier) alerting body: no `alerts`, no
    `version`, and at least one of the fields only it sent (`evalMatches`, `ruleId`...)."""
    try:
        document = json.loads(body)
    except ValueError:
        return False
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


def _classify(body: bytes, exc: ValidationError) -> Exception:
    """Turn a validation failure into the adapter error the caller should see."""
    syntax = json_error(exc)
    if syntax is not None:
        return PayloadNotJSON(SOURCE, "empty body" if not body.strip() else syntax)
    if is_legacy_grafana(body):
        return LegacyGrafanaPayload()
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if isinstance(document, dict):
        version = document.get("version")
        if isinstance(version, str) and version != SUPPORTED_VERSION:
            return UnsupportedVersion(SOURCE, version, SUPPORTED_VERSION)
    return PayloadInvalid(SOURCE, describe_validation_error(exc))
