"""Alertmanager webhook bodies, recorded and constructed, through parse_alertmanager."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from alert_adapters.alertmanager import parse_alertmanager
from alert_adapters.errors import PayloadInvalid, PayloadNotJSON, UnsupportedVersion
from recorder.core.events import AlertStatus
from tests.conftest import fixture_bytes

FIRING = AlertStatus.FIRING
RESOLVED = AlertStatus.RESOLVED


def at(text: str) -> datetime:
    """An aware UTC datetime from a short `HH:MM:SS.fff` on the lab capture day."""
    return datetime.fromisoformat(f"2026-11-28T{text}").replace(tzinfo=UTC)


# fixture -> (receiver, groupKey, truncatedAlerts, [(fingerprint, status, startsAt, endsAt)])
EXPECTED = {
    "alertmanager_firing.json": (
        "ops-webhook",
        '{}:{alertname="DiskAlmostFull"}',
        0,
        [("78fcb9cb1710e078", FIRING, at("17:37:03.194"), None)],
    ),
    "alertmanager_firing_v0.34_schema_CONSTRUCTED.json": (
        "ops-webhook",
        '{}:{alertname="DiskAlmostFull"}',
        0,
        [("78fcb9cb1710e078", FIRING, at("17:37:03.194"), None)],
    ),
    "alertmanager_resolved.json": (
        "ops-webhook",
        '{}:{alertname="DiskAlmostFull"}',
        0,
        [("78fcb9cb1710e078", RESOLVED, at("17:37:03.194"), at("17:37:34.194"))],
    ),
    "alertmanager_multi_alert_group.json": (
        "ops-webhook",
        '{}:{alertname="HighQueueDepth"}',
        0,
        [
            ("8ea5ee7e245d8519", FIRING, at("17:37:03.194"), None),
            ("d9a7913fc3aeed7f", FIRING, at("17:37:03.194"), None),
        ],
    ),
    "alertmanager_partial_resolve_mixed_group.json": (
        "ops-webhook",
        '{}:{alertname="HighQueueDepth"}',
        0,
        [
            ("8ea5ee7e245d8519", RESOLVED, at("17:37:03.194"), at("17:37:20.194")),
            ("d9a7913fc3aeed7f", FIRING, at("17:37:03.194"), None),
        ],
    ),
    "alertmanager_group_all_resolved_remaining_only.json": (
        "ops-webhook",
        '{}:{alertname="HighQueueDepth"}',
        0,
        [("d9a7913fc3aeed7f", RESOLVED, at("17:37:03.194"), at("17:37:48.194"))],
    ),
    "alertmanager_truncated_max_alerts.json": (
        "truncate",
        '{}/{scenario="truncate"}:{alertname="TruncateMe"}',
        1,
        [("7f13804380e9bff5", FIRING, at("17:37:03.194"), None)],
    ),
    "alertmanager_truncated_status_gotcha.json": (
        "truncate",
        '{}/{scenario="truncate"}:{alertname="TruncateMe"}',
        1,
        [("7f13804380e9bff5", RESOLVED, at("17:37:03.194"), at("17:37:20.194"))],
    ),
    "alertmanager_repeat_interval_1.json": (
        "ops-webhook",
        '{}/{scenario="repeat"}:{alertname="RepeatMe"}',
        0,
        [("63a1b7347a19506b", FIRING, at("17:38:14.194"), None)],
    ),
    "alertmanager_repeat_interval_2.json": (
        "ops-webhook",
        '{}/{scenario="repeat"}:{alertname="RepeatMe"}',
        0,
        [("63a1b7347a19506b", FIRING, at("17:38:14.194"), None)],
    ),
    "alertmanager_basic_auth_rejected_400.json": (
        "reject400",
        '{}/{scenario="reject400"}:{alertname="RejectedByReceiver"}',
        0,
        [("8e56097ec5dbd28e", FIRING, at("17:37:03.194"), None)],
    ),
}


def body_with(**changes: object) -> bytes:
    """The firing capture with top-level keys replaced (a key set to ... is removed)."""
    document = json.loads(fixture_bytes("alertmanager_firing.json"))
    for key, value in changes.items():
        if value is ...:
            del document[key]
        else:
            document[key] = value
    return json.dumps(document).encode()


def alert_with(**changes: object) -> bytes:
    """The firing capture with keys of its one alert replaced (... removes the key)."""
    document = json.loads(fixture_bytes("alertmanager_firing.json"))
    alert = document["alerts"][0]
    for key, value in changes.items():
        if value is ...:
            del alert[key]
        else:
            alert[key] = value
    return json.dumps(document).encode()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recorded_payload_maps_to_expected_alerts(name: str) -> None:
    """Every captured body yields its group key, truncation count and per-alert identity."""
    receiver, group_key, truncated, alerts = EXPECTED[name]

    notification = parse_alertmanager(fixture_bytes(name))

    assert notification.source == "Alertmanager"
    assert notification.receiver == receiver
    assert notification.group_key == group_key
    assert notification.truncated_alerts == truncated
    got = [(a.fingerprint, a.status, a.starts_at, a.ends_at) for a in notification.alerts]
    assert got == alerts


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_times_are_utc_with_datetime_utc_tzinfo(name: str) -> None:
    """Every parsed instant is aware and carries datetime.UTC, whatever pydantic produced."""
    notification = parse_alertmanager(fixture_bytes(name))

    for alert in notification.alerts:
        assert alert.starts_at.tzinfo is UTC
        assert alert.ends_at is None or alert.ends_at.tzinfo is UTC


def test_firing_alert_keeps_labels_annotations_and_decoded_generator_url() -> None:
    """Labels, annotations and the Go-escaped generatorURL (\\u0026) come through decoded."""
    notification = parse_alertmanager(fixture_bytes("alertmanager_firing.json"))

    alert = notification.alerts[0]
    assert alert.labels["mountpoint"] == "/var/lib/postgresql"
    assert alert.labels["severity"] == "critical"
    assert alert.annotations == {"summary": "Disk /var/lib/postgresql is 95% full"}
    assert alert.generator_url.endswith("demo_disk_used_ratio+%3E+0.9&g0.tab=1")
    assert notification.group_labels == {"alertname": "DiskAlmostFull"}
    assert notification.common_labels["team"] == "storage"
    assert notification.external_url == "http://127.0.0.1:19093"


def test_multi_alert_group_keeps_only_common_annotations_at_top() -> None:
    """commonAnnotations is the intersection Alertmanager computed; per-alert ones differ."""
    notification = parse_alertmanager(fixture_bytes("alertmanager_multi_alert_group.json"))

    assert "summary" not in notification.common_annotations
    summaries = [a.annotations["summary"] for a in notification.alerts]
    assert summaries == ["Queue orders depth is 25", "Queue payments depth is 40"]


def test_v034_fields_are_ignored_and_parse_like_the_v025_capture() -> None:
    """notification_reason and routeLabels (newer Alertmanager) change nothing."""
    old = parse_alertmanager(fixture_bytes("alertmanager_firing.json"))
    new = parse_alertmanager(fixture_bytes("alertmanager_firing_v0.34_schema_CONSTRUCTED.json"))

    assert new == old


def test_byte_identical_repeats_parse_equal() -> None:
    """repeat_interval re-sends are byte-identical and normalize to equal notifications."""
    first = fixture_bytes("alertmanager_repeat_interval_1.json")
    second = fixture_bytes("alertmanager_repeat_interval_2.json")

    assert first == second
    assert parse_alertmanager(first) == parse_alertmanager(second)


def test_truncated_resolved_message_still_reports_truncation() -> None:
    """A 'resolved' message that lost a firing alert to max_alerts says it is incomplete."""
    notification = parse_alertmanager(fixture_bytes("alertmanager_truncated_status_gotcha.json"))

    assert notification.truncated_alerts == 1
    assert all(alert.status is RESOLVED for alert in notification.alerts)


def test_per_alert_status_wins_over_top_level_status() -> None:
    """A top-level status that contradicts the alerts does not change any alert's status."""
    notification = parse_alertmanager(body_with(status="resolved"))

    assert notification.alerts[0].status is FIRING


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T17:37:03.194Z", datetime(2026, 11, 28, 17, 37, 3, 194000, tzinfo=UTC)),
        ("2026-11-28T17:37:03Z", datetime(2026, 11, 28, 17, 37, 3, tzinfo=UTC)),
        (
            "2026-11-28T17:37:03.123456789Z",
            datetime(2026, 11, 28, 17, 37, 3, 123456, tzinfo=UTC),
        ),
        ("2026-11-28T18:37:03.5+01:00", datetime(2026, 11, 28, 17, 37, 3, 500000, tzinfo=UTC)),
    ],
)
def test_rfc3339nano_times_become_utc_microseconds(text: str, expected: datetime) -> None:
    """Go's RFC3339Nano (ms, none, ns, offsets) parses to UTC, nanoseconds truncated."""
    notification = parse_alertmanager(alert_with(startsAt=text, endsAt=text, status="resolved"))

    alert = notification.alerts[0]
    assert alert.starts_at == expected
    assert alert.starts_at.tzinfo is UTC
    assert alert.ends_at == expected


def test_optional_keys_default_when_absent() -> None:
    """A minimal hand-made body (curl, amtool tests) parses with empty defaults."""
    body = json.dumps(
        {
            "version": "4",
            "groupKey": "{}:{}",
            "alerts": [
                {
                    "status": "firing",
                    "labels": {"alertname": "X"},
                    "startsAt": "2026-01-01T00:00:00Z",
                    "fingerprint": "0123456789abcdef",
                }
            ],
        }
    ).encode()

    notification = parse_alertmanager(body)

    alert = notification.alerts[0]
    assert (alert.ends_at, alert.annotations, alert.generator_url) == (None, {}, "")
    assert (notification.receiver, notification.truncated_alerts) == ("", 0)


def test_empty_alert_list_is_accepted() -> None:
    """An empty `alerts` list is valid schema; deciding what it means is the core's job."""
    notification = parse_alertmanager(body_with(alerts=[]))

    assert notification.alerts == ()


@pytest.mark.parametrize("body", [b"", b"   \n"], ids=["empty", "whitespace"])
def test_empty_body_is_not_json(body: bytes) -> None:
    """An empty body raises PayloadNotJSON saying it was empty."""
    with pytest.raises(PayloadNotJSON, match="empty body"):
        parse_alertmanager(body)


@pytest.mark.parametrize(
    "body",
    [b"{", b"not json", b'{"version": "4",}', b"\xff\xfe"],
    ids=["truncated", "text", "trailing-comma", "not-utf8"],
)
def test_malformed_json_is_not_json(body: bytes) -> None:
    """Bodies that are not JSON raise PayloadNotJSON."""
    with pytest.raises(PayloadNotJSON):
        parse_alertmanager(body)


def test_json_array_is_invalid_payload() -> None:
    """A JSON array is valid JSON but not a notification: PayloadInvalid."""
    with pytest.raises(PayloadInvalid) as caught:
        parse_alertmanager(b"[]")

    assert caught.value.errors == ["(body): Input should be an object"]


def test_other_version_is_unsupported() -> None:
    """version "3" raises UnsupportedVersion carrying the version."""
    with pytest.raises(UnsupportedVersion) as caught:
        parse_alertmanager(body_with(version="3"))

    assert caught.value.version == "3"
    assert caught.value.supported == "4"


def test_other_version_with_other_shape_is_still_unsupported() -> None:
    """A foreign version is reported as such even when its shape differs too."""
    with pytest.raises(UnsupportedVersion):
        parse_alertmanager(b'{"version": "5", "events": []}')


def test_missing_version_is_invalid() -> None:
    """A body without `version` is a schema violation, not an unsupported version."""
    with pytest.raises(PayloadInvalid, match="version: Field required"):
        parse_alertmanager(body_with(version=...))


def test_missing_alerts_is_invalid() -> None:
    """A body without `alerts` raises PayloadInvalid naming the field."""
    with pytest.raises(PayloadInvalid) as caught:
        parse_alertmanager(body_with(alerts=...))

    assert caught.value.errors == ["alerts: Field required"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"labels": ["alertname", "X"]}, "alerts.0.labels: Input should be an object"),
        ({"labels": {"alertname": 1}}, "alerts.0.labels.alertname: Input should be a valid string"),
        ({"status": "pending"}, "alerts.0.status: Input should be 'firing' or 'resolved'"),
        ({"startsAt": 1795887423}, "alerts.0.startsAt: Input should be a valid string"),
        ({"startsAt": "yesterday"}, "alerts.0.startsAt: not an RFC 3339 timestamp"),
        ({"startsAt": "2026-11-28T17:37:03"}, "alerts.0.startsAt: not an RFC 3339 timestamp"),
        ({"startsAt": "2026-11-28"}, "alerts.0.startsAt: not an RFC 3339 timestamp"),
        ({"endsAt": "soon"}, "alerts.0.endsAt: not an RFC 3339 timestamp"),
    ],
    ids=[
        "labels-list",
        "label-value-number",
        "unknown-status",
        "startsAt-number",
        "startsAt-garbage",
        "startsAt-naive",
        "startsAt-date-only",
        "endsAt-garbage",
    ],
)
def test_wrong_alert_fields_are_invalid(changes: dict[str, object], expected: str) -> None:
    """Each wrong alert field raises PayloadInvalid with its path and a short message."""
    with pytest.raises(PayloadInvalid) as caught:
        parse_alertmanager(alert_with(**changes))

    assert caught.value.errors[0].startswith(expected)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"alerts": {}}, "alerts: Input should be a valid array"),
        ({"groupKey": 7}, "groupKey: Input should be a valid string"),
        ({"truncatedAlerts": -1}, "truncatedAlerts: Input should be greater than or equal to 0"),
        ({"commonLabels": None}, "commonLabels: Input should be an object"),
    ],
    ids=["alerts-object", "groupKey-number", "negative-truncation", "null-labels"],
)
def test_wrong_top_level_fields_are_invalid(changes: dict[str, object], expected: str) -> None:
    """Each wrong top-level field raises PayloadInvalid with its path."""
    with pytest.raises(PayloadInvalid) as caught:
        parse_alertmanager(body_with(**changes))

    assert caught.value.errors == [expected]


def test_many_errors_are_capped() -> None:
    """A body with hundreds of bad alerts yields a short error list, not a dump."""
    document = json.loads(fixture_bytes("alertmanager_firing.json"))
    document["alerts"] = [{"status": "firing"}] * 200

    with pytest.raises(PayloadInvalid) as caught:
        parse_alertmanager(json.dumps(document).encode())

    assert len(caught.value.errors) == 11
    assert caught.value.errors[-1] == "(validation stopped after 10 problems)"


def test_every_bad_timestamp_is_reported() -> None:
    """Timestamp errors in several alerts are all listed, each with its index."""
    document = json.loads(fixture_bytes("alertmanager_multi_alert_group.json"))
    for alert in document["alerts"]:
        alert["startsAt"] = "garbage"

    with pytest.raises(PayloadInvalid) as caught:
        parse_alertmanager(json.dumps(document).encode())

    assert [e.split(":")[0] for e in caught.value.errors] == [
        "alerts.0.startsAt",
        "alerts.1.startsAt",
    ]


def test_alert_without_fingerprint_gets_alertmanagers_from_labels() -> None:
    """Alertmanager before 0.19 sent no fingerprint: the one 0.19+ would send is computed."""
    original = json.loads(fixture_bytes("alertmanager_multi_alert_group.json"))
    for alert in original["alerts"]:
        del alert["fingerprint"]

    notification = parse_alertmanager(json.dumps(original).encode())

    expected = json.loads(fixture_bytes("alertmanager_multi_alert_group.json"))
    assert [a.fingerprint for a in notification.alerts] == [
        a["fingerprint"] for a in expected["alerts"]
    ]
