"""Which adapter reads an alert webhook body: Alertmanager's version "4" or Grafana's "1"."""

from __future__ import annotations

from alert_adapters import alertmanager, grafana
from alert_adapters.errors import PayloadInvalid, UnsupportedVersion
from recorder.core.events import AlertNotification

SUPPORTED = f"{alertmanager.SUPPORTED_VERSION} or {grafana.SUPPORTED_VERSION}"


def parse_alert_webhook(body: bytes) -> AlertNotification:
    """An Alertmanager (version "4", every release since 0.15) or Grafana-managed
    alerting (version "1") webhook body, normalized.

    The Alertmanager adapter reads first (the common case costs one validation); only a
    body it refuses is looked at again.

    Raises:
        PayloadNotJSON: the body is empty or not JSON.
        LegacyGrafanaPayload: a legacy Grafana (7 and earlier) alerting body.
        UnsupportedVersion: any other `version`.
        PayloadInvalid: JSON that breaks the schema of its version.
    """
    try:
        return alertmanager.parse_alertmanager(body)
    except UnsupportedVersion as exc:
        if exc.version == grafana.SUPPORTED_VERSION:
            return grafana.parse_grafana(body)
        raise UnsupportedVersion("Alert webhook", exc.version, SUPPORTED) from None
    except PayloadInvalid:
        if grafana.is_legacy_grafana(body):
            raise grafana.LegacyGrafanaPayload() from None
        raise
