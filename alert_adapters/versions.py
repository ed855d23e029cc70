"""Which adapter reads an alert webhook body: Alertmanager's version "4" or Grafana's "1"."""

from __future__ import annotations

from alert_adapters import alertmanager, grafana
from alert_adapters.errors import UnsupportedVersion
from alert_adapters.json_document import decode_document
from recorder.core.events import AlertNotification

SUPPORTED = f"{alertmanager.SUPPORTED_VERSION} or {grafana.SUPPORTED_VERSION}"


def parse_alert_webhook(body: bytes) -> AlertNotification:
    """An Alertmanager (version "4", every release since 0.15) or Grafana-managed
    alerting (version "1") webhook body, normalized.

    The body is decoded once; its `version` picks the adapter (Alertmanager's when it is
    missing or not a string, so the schema error names the field).

    Raises:
        PayloadNotJSON: the body is empty or not JSON.
        LegacyGrafanaPayload: a legacy Grafana (7 and earlier) alerting body.
        UnsupportedVersion: any other `version`.
        PayloadInvalid: JSON that breaks the schema of its version.
    """
    document = decode_document(body, "Alert webhook")
    if grafana.is_legacy_grafana(document):
        raise grafana.LegacyGrafanaPayload()
    try:
        return alertmanager.read_alertmanager(document)
    except UnsupportedVersion as exc:
        if exc.version == grafana.SUPPORTED_VERSION:
            return grafana.read_grafana(document)
        raise UnsupportedVersion("Alert webhook", exc.version, SUPPORTED) from None
