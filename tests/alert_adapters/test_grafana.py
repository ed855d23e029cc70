"""Grafana-managed alerting webhook bodies (Grafana 8 to 12) to normalized notifications."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from alert_adapters.errors import PayloadInvalid, PayloadNotJSON, UnsupportedVersion
from alert_adapters.fingerprint import label_fingerprint
from alert_adapters.grafana import LegacyGrafanaPayload, format_values, parse_grafana
from alert_adapters.versions import parse_alert_webhook
from recorder.core.events import AlertStatus
from tests.conftest import fixture_bytes

FIRING_BODIES = [
    "grafana/grafana8_firing.json",
    "grafana/grafana10_firing_values.json",
    "grafana/grafana11_firing_image.json",
    "grafana/grafana12_test_notification.json",
]
RESOLVED_BODIES = [
    "grafana/grafana8_resolved.json",
    "grafana/grafana10_resolved.json",
    "grafana/grafana11_resolved.json",
]


def body(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(fixture_bytes(name))
    return loaded


def encoded(document: dict[str, Any]) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize("name", FIRING_BODIES + RESOLVED_BODIES)
def test_every_grafana_major_version_is_read(name: str) -> None:
    """Each body keeps its alerts, statuses, fingerprints and group key, source Grafana."""
    raw = body(name)
    notification = parse_grafana(fixture_bytes(name))

    assert notification.source == "Grafana"
    assert notification.group_key == raw["groupKey"]
    assert [a.fingerprint for a in notification.alerts] == [a["fingerprint"] for a in raw["alerts"]]
    assert [a.status.value for a in notification.alerts] == [a["status"] for a in raw["alerts"]]
    for alert in notification.alerts:
        assert alert.starts_at.tzinfo is UTC
        assert (alert.ends_at is None) == (alert.status is AlertStatus.FIRING)


def test_zone_offsets_become_utc() -> None:
    """`+02:00` and `-05:00` start times are the same instants in UTC."""
    grafana10 = parse_grafana(fixture_bytes("grafana/grafana10_firing_values.json"))
    grafana11 = parse_grafana(fixture_bytes("grafana/grafana11_resolved.json"))

    assert grafana10.alerts[0].starts_at == datetime(2023, 6, 20, 7, 51, 3, 157076, tzinfo=UTC)
    assert grafana11.alerts[0].starts_at == datetime(2025, 2, 3, 19, 5, tzinfo=UTC)
    assert grafana11.alerts[0].ends_at == datetime(2025, 2, 3, 19, 31, tzinfo=UTC)


def test_values_become_value_text_by_query_ref() -> None:
    """Grafana 9+ `values` read "B=44.2394, C=1"; the long valueString is not repeated."""
    notification = parse_grafana(fixture_bytes("grafana/grafana10_firing_values.json"))

    assert [a.value_text for a in notification.alerts] == ["B=44.2394, C=1", "B=38.5, C=1"]


def test_grafana8_value_string_is_the_value_text() -> None:
    """Grafana 8 sends no `values`: its valueString is kept as the value text."""
    notification = parse_grafana(fixture_bytes("grafana/grafana8_firing.json"))

    assert notification.alerts[0].value_text == (
        "[ metric='{service=\"checkout\"}' labels={service=checkout} value=0.0731 ]"
    )


def test_null_values_and_empty_value_string_give_no_value_text() -> None:
    """`values: null` with an empty valueString is no value, not an error."""
    notification = parse_grafana(fixture_bytes("grafana/grafana11_resolved.json"))

    assert notification.alerts[0].value_text == ""


@pytest.mark.parametrize(
    ("values", "text"),
    [
        ({"C": 1, "B": 44.23943737541908}, "B=44.2394, C=1"),
        ({"A": 0.0}, "A=0"),
        ({"A": -3.0e-7}, "A=-3e-07"),
        ({"A": 1.5e20}, "A=1.5e+20"),
        ({}, ""),
    ],
)
def test_format_values(values: dict[str, float], text: str) -> None:
    """Sorted by ref, integers without a fraction, others to six significant digits."""
    assert format_values(values) == text


def test_links_are_kept_by_kind_and_empty_ones_dropped() -> None:
    """Dashboard, panel and silence URLs become links; empty strings are not links."""
    first, second = parse_grafana(fixture_bytes("grafana/grafana10_firing_values.json")).alerts

    assert set(first.links) == {"dashboard", "panel", "silence"}
    assert first.links["panel"].endswith("viewPanel=2")
    assert set(second.links) == {"silence"}


def test_image_url_is_a_link() -> None:
    """Grafana 11's screenshot URL is kept as the `image` link."""
    alert = parse_grafana(fixture_bytes("grafana/grafana11_firing_image.json")).alerts[0]

    assert alert.links["image"] == (
        "https://grafana.example.com/public/img/attachments/Hk3s9TqvZ.png"
    )


def test_relative_generator_url_is_resolved_against_external_url() -> None:
    """`/alerting/...` and `?orgId=1` become absolute URLs on Grafana's externalURL."""
    image = parse_grafana(fixture_bytes("grafana/grafana11_firing_image.json")).alerts[0]
    test = parse_grafana(fixture_bytes("grafana/grafana12_test_notification.json")).alerts[0]

    assert image.generator_url == (
        "https://grafana.example.com/alerting/grafana/be4c2f1a9d7e/view?orgId=1"
    )
    assert test.generator_url == "https://grafana.example.com/?orgId=1"


def test_relative_urls_without_an_external_url_stay_and_are_not_links() -> None:
    """With no externalURL a relative generatorURL is kept as sent; relative links drop."""
    document = body("grafana/grafana11_firing_image.json")
    document["externalURL"] = ""
    document["alerts"][0]["panelURL"] = "/d/node-disk?viewPanel=7"

    alert = parse_grafana(encoded(document)).alerts[0]

    assert alert.generator_url == "/alerting/grafana/be4c2f1a9d7e/view?orgId=1"
    assert "panel" not in alert.links


def test_empty_generator_url_stays_empty() -> None:
    """An empty generatorURL is no URL, even with an externalURL."""
    document = body("grafana/grafana10_firing_values.json")
    document["alerts"][0]["generatorURL"] = ""

    assert parse_grafana(encoded(document)).alerts[0].generator_url == ""


def test_null_and_empty_annotations_are_empty() -> None:
    """`annotations: null` (a nil Go map) and `{}` both read as no annotations."""
    grafana11 = parse_grafana(fixture_bytes("grafana/grafana11_firing_image.json"))
    grafana10 = parse_grafana(fixture_bytes("grafana/grafana10_firing_values.json"))

    assert grafana11.alerts[0].annotations == {}
    assert grafana10.alerts[1].annotations == {}


def test_test_notification_is_an_ordinary_alert() -> None:
    """The contact point's "Test" delivery reads as a firing TestAlert."""
    alert = parse_grafana(fixture_bytes("grafana/grafana12_test_notification.json")).alerts[0]

    assert alert.labels == {"alertname": "TestAlert", "instance": "Grafana"}
    assert alert.status is AlertStatus.FIRING
    assert alert.value_text == "[ metric='foo' labels={instance=bar} value=10 ]"


def test_missing_fingerprint_is_computed_from_labels() -> None:
    """A body without `fingerprint` gets the stable one computed from its labels."""
    document = body("grafana/grafana8_firing.json")
    del document["alerts"][0]["fingerprint"]

    alert = parse_grafana(encoded(document)).alerts[0]

    assert alert.fingerprint == label_fingerprint(document["alerts"][0]["labels"])


def test_legacy_grafana_body_is_refused_by_name() -> None:
    """A Grafana 7 (legacy alerting) body is an unsupported version that says what it is."""
    with pytest.raises(LegacyGrafanaPayload) as caught:
        parse_grafana(fixture_bytes("grafana/grafana7_legacy.json"))

    assert isinstance(caught.value, UnsupportedVersion)
    assert "legacy Grafana alerting" in str(caught.value)
    assert "Grafana 7" in str(caught.value)


def test_alertmanager_version_is_unsupported_here() -> None:
    """parse_grafana reads version "1" only; the dispatcher routes "4" elsewhere."""
    with pytest.raises(UnsupportedVersion) as caught:
        parse_grafana(fixture_bytes("alertmanager_firing.json"))

    assert caught.value.version == "4"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["alerts"][0].update(startsAt="soon"), "alerts.0.startsAt: not an RFC 3339"),
        (lambda d: d["alerts"][0].update(values={"B": "high"}), "alerts.0.values.B"),
        (lambda d: d["alerts"][0].update(status="pending"), "alerts.0.status"),
        (lambda d: d.pop("alerts"), "alerts: Field required"),
    ],
    ids=["startsAt", "values-string", "status", "no-alerts"],
)
def test_schema_violations_are_invalid(change: Any, expected: str) -> None:
    """Wrong field types raise PayloadInvalid naming the field."""
    document = body("grafana/grafana10_firing_values.json")
    change(document)

    with pytest.raises(PayloadInvalid) as caught:
        parse_grafana(encoded(document))

    assert caught.value.errors[0].startswith(expected)


def test_not_json_is_not_json() -> None:
    """An empty body is PayloadNotJSON, like the other adapters."""
    with pytest.raises(PayloadNotJSON):
        parse_grafana(b"  ")


@pytest.mark.parametrize(
    ("name", "source"),
    [
        ("alertmanager_firing.json", "Alertmanager"),
        ("grafana/grafana10_firing_values.json", "Grafana"),
    ],
)
def test_dispatcher_reads_either_sender(name: str, source: str) -> None:
    """parse_alert_webhook picks the adapter by payload version."""
    assert parse_alert_webhook(fixture_bytes(name)).source == source


def test_dispatcher_names_both_versions_for_another() -> None:
    """Any other version is unsupported, and the message names what is."""
    document = body("grafana/grafana10_firing_values.json")
    document["version"] = "2"

    with pytest.raises(UnsupportedVersion, match="'4 or 1'") as caught:
        parse_alert_webhook(encoded(document))

    assert caught.value.version == "2"


def test_dispatcher_refuses_legacy_grafana_by_name() -> None:
    """On the Alertmanager path too, the legacy body is named, not a schema error."""
    with pytest.raises(LegacyGrafanaPayload):
        parse_alert_webhook(fixture_bytes("grafana/grafana7_legacy.json"))


def test_dispatcher_keeps_schema_errors_of_other_bodies() -> None:
    """A body that is neither legacy Grafana nor valid stays a schema error."""
    with pytest.raises(PayloadInvalid):
        parse_alert_webhook(b'{"version": "4", "groupKey": "g"}')
