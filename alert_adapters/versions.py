"""Which adapter reads an alert webhook body: Alertmanager's version "4" or Grafana's "1"."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from alert_adapters import alertmanager, grafana
from alert_adapters.errors import UnsupportedVersion
from alert_adapters.json_document import decode_document, is_value_dense
from alert_adapters.whole_body import EXACT, LOOSE, validate_whole
from recorder.core.events import AlertNotification

SUPPORTED = f"{alertmanager.SUPPORTED_VERSION} or {grafana.SUPPORTED_VERSION}"


def _fast_adapter(scale: int) -> TypeAdapter[Any]:
    """Either adapter's fast schema, picked by `version` (alert_adapters.whole_body)."""
    either: Any = alertmanager.fast_message_schema(scale) | grafana.fast_message_schema(scale)
    return TypeAdapter(Annotated[either, Field(discriminator="version")])


_FAST = {scale: _fast_adapter(scale) for scale in (EXACT, LOOSE)}


def parse_alert_webhook(body: bytes) -> AlertNotification:
    """An Alertmanager (version "4", every release since 0.15) or Grafana-managed
    alerting (version "1") webhook body, normalized.

    Most bodies are validated in one pass (alert_adapters.whole_body); the others are
    decoded once, and their `version` picks the adapter (Alertmanager's when it is
    missing or not a string, so the schema error names the field).

    Raises:
        PayloadNotJSON: the body is empty or not JSON.
        LegacyGrafanaPayload: a legacy Grafana (7 and earlier) alerting body.
        UnsupportedVersion: any other `version`.
        PayloadInvalid: JSON that breaks the schema of its version.
    """
    if not is_value_dense(body):
        found = validate_whole(body, _FAST)
        if found is not None:
            document, pairs = found
            read = (
                alertmanager.read_valid_alertmanager
                if document["version"] == alertmanager.SUPPORTED_VERSION
                else grafana.read_valid_grafana
            )
            notification = read(document, pairs)
            if notification is not None:
                return notification
    return read_alert_document(decode_document(body, "Alert webhook"))


def read_alert_document(document: Any) -> AlertNotification:
    """parse_alert_webhook's careful path, for a body already decoded by decode_document."""
    if grafana.is_legacy_grafana(document):
        raise grafana.LegacyGrafanaPayload()
    try:
        return alertmanager.read_alertmanager(document)
    except UnsupportedVersion as exc:
        if exc.version == grafana.SUPPORTED_VERSION:
            return grafana.read_grafana(document)
        raise UnsupportedVersion("Alert webhook", exc.version, SUPPORTED) from None
