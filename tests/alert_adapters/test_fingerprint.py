"""Alertmanager's fingerprint computed from labels (protocols.md 5.1) against real bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from alert_adapters.fingerprint import label_fingerprint
from tests.conftest import FIXTURES


def alerts_in(value: Any) -> Iterator[dict[str, Any]]:
    """Every object with `labels` and `fingerprint`, also inside JSON-in-strings."""
    if isinstance(value, dict):
        if isinstance(value.get("labels"), dict) and isinstance(value.get("fingerprint"), str):
            yield value
        for item in value.values():
            yield from alerts_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from alerts_in(item)
    elif isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            yield from alerts_in(json.loads(value))
        except ValueError:
            return


def fixture_alerts() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for path in sorted(FIXTURES.glob("alertmanager_*.json")):
        found += [(path.name, alert) for alert in alerts_in(json.loads(path.read_bytes()))]
    return found


FIXTURE_ALERTS = fixture_alerts()


def test_the_shared_fixtures_hold_alertmanager_fingerprints() -> None:
    """The check below is not vacuous: the lab captures carry many fingerprinted alerts."""
    assert len(FIXTURE_ALERTS) >= 13
    assert len({alert["fingerprint"] for _, alert in FIXTURE_ALERTS}) >= 6


@pytest.mark.parametrize(
    ("name", "alert"), FIXTURE_ALERTS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(FIXTURE_ALERTS)]
)
def test_fingerprint_from_labels_equals_alertmanagers(name: str, alert: dict[str, Any]) -> None:
    """Every fingerprint Alertmanager 0.25 sent in the fixtures is reproduced from labels."""
    assert label_fingerprint(alert["labels"]) == alert["fingerprint"], name


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        # grafana/grafana channels/webhook_test.go: alerts whose body shows all labels.
        ({"alertname": "alert1", "lbl1": "val1"}, "fac0861a85de433a"),
        ({"alertname": "alert1", "lbl1": "val2"}, "fab6861a85d5eeb5"),
        ({}, "cbf29ce484222325"),
    ],
    ids=["grafana-test-1", "grafana-test-2", "empty"],
)
def test_known_vectors(labels: dict[str, str], expected: str) -> None:
    """Published vectors, and the FNV offset basis for an empty label set."""
    assert label_fingerprint(labels) == expected


def test_names_sort_bytewise_and_values_are_utf8() -> None:
    """Order of the mapping does not matter; non-ASCII values hash by their UTF-8 bytes."""
    forward = {"b": "ü", "a": "x", "B": "y"}
    backward = dict(reversed(list(forward.items())))
    assert label_fingerprint(forward) == label_fingerprint(backward)
    assert label_fingerprint({"a": "ü"}) != label_fingerprint({"a": "u"})


def test_separator_keeps_name_value_boundaries() -> None:
    """Moving characters between a name and its value changes the fingerprint."""
    assert label_fingerprint({"ab": "c"}) != label_fingerprint({"a": "bc"})
