"""Correlation keys stay short enough for storage's index, whatever the labels hold."""

from __future__ import annotations

from datetime import UTC, datetime

from recorder.core.correlation import MAX_KEY_BYTES, bounded_key, split_by_key
from recorder.core.events import AlertEvent, AlertNotification, AlertStatus


def notification(group_key: str, **labels: str) -> AlertNotification:
    alert = AlertEvent(
        fingerprint="f",
        status=AlertStatus.FIRING,
        starts_at=datetime(2026, 11, 28, tzinfo=UTC),
        ends_at=None,
        labels=labels,
        annotations={},
    )
    return AlertNotification(source="test", receiver="r", group_key=group_key, alerts=(alert,))


def test_short_keys_are_kept_as_they_are() -> None:
    """A usual groupKey is its own correlation key, readable in the API."""
    assert list(split_by_key(notification('{}:{a="b"}'), ["group_key"])) == ['group:{}:{a="b"}']


def test_a_groupkey_at_the_adapters_limit_is_not_hashed() -> None:
    """A 2048-byte groupKey (the adapters' limit) keeps its own key: no change for stored ones."""
    (key,) = split_by_key(notification("g" * 2048), ["group_key"])
    assert key == "group:" + "g" * 2048


def test_long_label_keys_become_distinct_hashes() -> None:
    """Several long, escaped label values give a SHA-256 key, distinct per value."""
    control = "\x01" * 2048  # JSON escapes each to six bytes
    by = ["alertname", "service"]
    first = split_by_key(notification("g", alertname=control, service="a"), by)
    second = split_by_key(notification("g", alertname=control, service="b"), by)
    (one,), (two,) = first, second
    assert one.startswith("sha256:")
    assert one != two
    assert len(one.encode()) <= MAX_KEY_BYTES


def test_bounded_key_is_stable() -> None:
    """The same long key always maps to the same hash, so re-sends join one incident."""
    assert bounded_key("x" * 5000) == bounded_key("x" * 5000)
