"""Values storage could never hold are refused by the adapters, naming the field and limit."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from alert_adapters.alertmanager import parse_alertmanager
from alert_adapters.errors import PayloadInvalid, PayloadNotJSON
from alert_adapters.limits import (
    FINGERPRINT_MAX_BYTES,
    GROUP_KEY_MAX_BYTES,
    LABEL_VALUE_MAX_BYTES,
    MAX_JSON_DEPTH,
    MAX_MAP_ENTRIES,
    PAGERDUTY_ID_MAX_BYTES,
    text_problem,
)
from alert_adapters.pagerduty import decode_pagerduty, is_legacy_v2, parse_pagerduty
from tests.conftest import fixture_bytes

TEN_KB = "k" * 10_000


def alertmanager(change: Any) -> bytes:
    """The firing capture, changed in place by `change(document)`."""
    document = json.loads(fixture_bytes("alertmanager_firing.json"))
    change(document)
    return json.dumps(document).encode()


def pagerduty(change: Any) -> bytes:
    """The V3 triggered capture, changed in place by `change(document)`."""
    document = json.loads(fixture_bytes("pagerduty_v3_incident_triggered.json"))
    change(document)
    return json.dumps(document).encode()


def problems_of(body: bytes) -> list[str]:
    with pytest.raises(PayloadInvalid) as caught:
        parse_alertmanager(body)
    return caught.value.errors


def set_alert(key: str, value: object) -> Any:
    return lambda d: d["alerts"][0].__setitem__(key, value)


def set_label(name: str, value: str) -> Any:
    return lambda d: d["alerts"][0]["labels"].__setitem__(name, value)


def set_top(key: str, value: object) -> Any:
    return lambda d: d.__setitem__(key, value)


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (set_label("alertname", "Disk\x00Full"), "alerts.0.labels.alertname"),
        (set_label("bad\x00name", "x"), "alerts.0.labels.bad\\0name"),
        (lambda d: d["alerts"][0]["annotations"].update(summary="\x00"), "alerts.0.annotations"),
        (set_alert("fingerprint", "78fc\x00"), "alerts.0.fingerprint"),
        (set_alert("generatorURL", "http://x/\x00"), "alerts.0.generatorURL"),
        (set_top("groupKey", "{}:{a=\x00}"), "groupKey"),
        (set_top("receiver", "\x00"), "receiver"),
        (set_top("externalURL", "\x00"), "externalURL"),
        (lambda d: d["commonLabels"].update(x="\x00"), "commonLabels.x"),
        (lambda d: d["groupLabels"].update(x="\x00"), "groupLabels.x"),
        (lambda d: d["commonAnnotations"].update(x="\x00"), "commonAnnotations.x"),
    ],
)
def test_nul_in_any_stored_string_is_refused(change: Any, path: str) -> None:
    """A NUL character anywhere the recorder stores text is a 422 naming the field."""
    errors = problems_of(alertmanager(change))
    assert errors[0].startswith(path)
    assert "NUL" in errors[0]


@pytest.mark.parametrize(
    ("change", "path", "limit"),
    [
        (set_label("alertname", TEN_KB), "alerts.0.labels.alertname", LABEL_VALUE_MAX_BYTES),
        (set_label(TEN_KB, "x"), "alerts.0.labels.kkkk", 1024),
        (set_alert("fingerprint", TEN_KB), "alerts.0.fingerprint", FINGERPRINT_MAX_BYTES),
        (set_top("groupKey", TEN_KB), "groupKey", GROUP_KEY_MAX_BYTES),
    ],
    ids=["label-value", "label-name", "fingerprint", "groupKey"],
)
def test_ten_kb_keys_and_values_are_refused_with_the_limit(
    change: Any, path: str, limit: int
) -> None:
    """A 10 kB label name, label value, fingerprint or groupKey is refused, naming the limit."""
    errors = problems_of(alertmanager(change))
    assert errors[0].startswith(path)
    assert f"limit of {limit} bytes" in errors[0]


def test_values_at_the_limit_are_accepted() -> None:
    """The limits are inclusive: a label value of exactly the limit in bytes is stored."""
    value = "é" * (LABEL_VALUE_MAX_BYTES // 2)  # two bytes each
    notification = parse_alertmanager(alertmanager(set_label("alertname", value)))
    assert notification.alerts[0].labels["alertname"] == value


def test_lone_surrogate_is_refused() -> None:
    """An unpaired \\ud800 escape decodes to no Unicode text: 422, not an encoding 500."""
    body = alertmanager(set_label("alertname", "X")).replace(b'"X"', b'"\\ud800"')
    assert "surrogate" in problems_of(body)[0]


def test_a_map_with_too_many_entries_is_refused_without_listing_them() -> None:
    """A label map over MAX_MAP_ENTRIES is one problem, however wrong its entries are."""
    labels = {f"l{i}": i for i in range(MAX_MAP_ENTRIES * 100)}
    errors = problems_of(alertmanager(set_alert("labels", labels)))
    count = MAX_MAP_ENTRIES * 100
    assert errors == [f"alerts.0.labels: has {count} entries, over the limit of {MAX_MAP_ENTRIES}"]


@pytest.mark.parametrize(
    "text",
    ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00.000Z", "0001-01-01T01:00:00+01:00"],
)
def test_go_zero_time_as_starts_at_is_refused(text: str) -> None:
    """Go's zero time, however it is written, is no start time: 422."""
    assert "zero time" in problems_of(alertmanager(set_alert("startsAt", text)))[0]


@pytest.mark.parametrize(
    "text",
    ["0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "0001-01-01T00:00:00+14:00"],
)
def test_times_that_leave_years_1_to_9999_in_utc_are_refused(text: str) -> None:
    """An offset that moves a time out of years 1-9999 in UTC is a 422, not an overflow."""
    errors = problems_of(alertmanager(set_alert("startsAt", text)))
    assert errors == ["alerts.0.startsAt: outside years 1 to 9999 once converted to UTC"]


def test_the_last_representable_instant_is_refused() -> None:
    """9999-12-31T23:59:59.999999Z would be stored as infinity by PostgreSQL's driver."""
    body = alertmanager(set_alert("endsAt", "9999-12-31T23:59:59.999999Z"))
    assert "infinity" in problems_of(body)[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0001-01-01T00:00:00-01:00", datetime(1, 1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T22:30:00-01:00", datetime(9999, 12, 31, 23, 30, tzinfo=UTC)),
    ],
)
def test_times_near_the_edges_inside_the_range_are_accepted(text: str, expected: datetime) -> None:
    """Years 0001 and 9999 are accepted while the UTC instant stays inside the range."""
    notification = parse_alertmanager(alertmanager(set_alert("startsAt", text)))
    assert notification.alerts[0].starts_at == expected


@pytest.mark.parametrize(
    "text", ["0001-01-01T00:00:00.000000000Z", "0001-01-01T00:00:00+00:00"], ids=["nanos", "offset"]
)
def test_zero_ends_at_written_otherwise_still_means_firing(text: str) -> None:
    """An endsAt at Go's zero instant means 'still firing' in any spelling."""
    notification = parse_alertmanager(alertmanager(set_alert("endsAt", text)))
    assert notification.alerts[0].ends_at is None


def test_over_long_timestamp_is_refused_without_parsing() -> None:
    """A timestamp string longer than any RFC 3339 time is refused (and never cached)."""
    errors = problems_of(alertmanager(set_alert("startsAt", "2026-11-28T17:37:03Z" + " " * 100)))
    assert errors == ["alerts.0.startsAt: not an RFC 3339 timestamp with a UTC offset"]


def test_errors_are_capped_while_validating() -> None:
    """330,000 empty alerts in 1 MB are refused quickly with ten problems listed."""
    body = b'{"version":"4","groupKey":"g","alerts":[' + b",".join([b"{}"] * 330_000) + b"]}"
    started = time.perf_counter()
    errors = problems_of(body)
    elapsed = time.perf_counter() - started
    assert len(errors) == 11
    assert errors[-1] == "(validation stopped after 10 problems)"
    assert elapsed < 2.0, elapsed  # it took 8 s before the cap applied while validating


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, f"nested deeper than {MAX_JSON_DEPTH} levels"),
        (b"[" * 65 + b"]" * 65, f"nested deeper than {MAX_JSON_DEPTH} levels"),
        (b'{"version": "4", "version": "4"}', "duplicate key 'version'"),
        (b'{"version": NaN}', "NaN is not a JSON number"),
        (b'{"version": Infinity}', "Infinity is not a JSON number"),
        (b'{"version": -Infinity}', "-Infinity is not a JSON number"),
        (b'{"version": "\xff"}', "not UTF-8"),
        (b'{"n": 1' + b"0" * 5000 + b"}", "digits"),
    ],
    ids=["depth-100000", "depth-65", "duplicate-key", "nan", "inf", "-inf", "utf8", "huge-int"],
)
@pytest.mark.parametrize("parse", [parse_alertmanager, parse_pagerduty], ids=["am", "pd"])
def test_hostile_json_is_not_json(body: bytes, reason: str, parse: Any) -> None:
    """Deep nesting, duplicate keys, NaN/Infinity, bad UTF-8, huge numbers: PayloadNotJSON."""
    with pytest.raises(PayloadNotJSON) as caught:
        parse(body)
    assert reason in caught.value.reason


def test_depth_at_the_limit_is_decoded() -> None:
    """A document nested exactly MAX_JSON_DEPTH deep is still JSON (then a schema error)."""
    body = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    with pytest.raises(PayloadInvalid):
        parse_alertmanager(body)


def test_million_element_array_is_refused_quickly() -> None:
    """A 10^6-element `alerts` array of wrong types costs ten problems, not a million."""
    body = b'{"version":"4","groupKey":"g","alerts":[' + b",".join([b"1"] * 1_000_000) + b"]}"
    started = time.perf_counter()
    errors = problems_of(body)
    assert len(errors) == 11
    assert time.perf_counter() - started < 3.0


@pytest.mark.parametrize(
    ("change", "path"),
    [
        (lambda d: d["event"].__setitem__("id", "01\x00"), "event.id"),
        (lambda d: d["event"]["data"].__setitem__("id", "Q3\x00"), "event.incident.id"),
        (lambda d: d["event"]["data"].__setitem__("title", "\x00"), "event.incident.title"),
        (lambda d: d["event"]["agent"].__setitem__("summary", "\x00"), "event.agent"),
        (
            lambda d: d["event"]["data"].__setitem__("incident_key", "\x00"),
            "event.incident.incident_key",
        ),
        (lambda d: d["event"].__setitem__("id", TEN_KB), "event.id"),
        (lambda d: d["event"]["data"].__setitem__("id", TEN_KB), "event.incident.id"),
    ],
    ids=["nul-id", "nul-incident", "nul-title", "nul-agent", "nul-key", "long-id", "long-incident"],
)
def test_pagerduty_values_storage_cannot_hold_are_refused(change: Any, path: str) -> None:
    """NUL or over-long PagerDuty ids and text are a 422 naming the normalized field."""
    with pytest.raises(PayloadInvalid) as caught:
        parse_pagerduty(pagerduty(change))
    assert caught.value.errors[0].startswith(path)


def test_pagerduty_event_id_limit_is_named() -> None:
    """An over-long event id names PAGERDUTY_ID_MAX_BYTES."""
    with pytest.raises(PayloadInvalid) as caught:
        parse_pagerduty(pagerduty(lambda d: d["event"].__setitem__("id", TEN_KB)))
    assert f"limit of {PAGERDUTY_ID_MAX_BYTES} bytes" in caught.value.errors[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0001-01-01T00:30:00+01:00", "outside years 1 to 9999"),
        ("9999-12-31T23:30:00-01:00", "outside years 1 to 9999"),
        ("0001-01-01T00:00:00Z", "infinity"),
    ],
)
def test_pagerduty_times_outside_the_range_are_refused(text: str, expected: str) -> None:
    """occurred_at out of range in UTC is a 422, not an OverflowError."""
    with pytest.raises(PayloadInvalid) as caught:
        parse_pagerduty(pagerduty(lambda d: d["event"].__setitem__("occurred_at", text)))
    assert caught.value.errors[0].startswith("event.occurred_at:")
    assert expected in caught.value.errors[0]


def test_pagerduty_body_is_decoded_once_and_reused() -> None:
    """decode_pagerduty's result answers is_legacy_v2 and parses without decoding again."""
    decoded = decode_pagerduty(fixture_bytes("pagerduty_v2_legacy.json"))
    assert is_legacy_v2(decoded)
    assert decoded.legacy_v2
    assert len(parse_pagerduty(decoded)) == 1


def test_pagerduty_too_many_v2_messages_is_one_problem() -> None:
    """A V2 body with a million messages is refused with one short problem."""
    body = b'{"messages": [' + b",".join([b"1"] * 1_000_000) + b"]}"
    with pytest.raises(PayloadInvalid) as caught:
        parse_pagerduty(body)
    assert len(caught.value.errors) == 1
    assert caught.value.errors[0].startswith("messages:")


@pytest.mark.parametrize(
    ("value", "limit", "expected"),
    [
        ("abc", 3, None),
        ("abcd", 3, "is 4 bytes long, over the limit of 3 bytes"),
        ("éé", 3, "is 4 bytes long, over the limit of 3 bytes"),
        ("a\x00", 10, "contains a NUL character (U+0000), which storage cannot hold"),
    ],
)
def test_text_problem_counts_utf8_bytes(value: str, limit: int, expected: str | None) -> None:
    """Limits count UTF-8 bytes, the unit PostgreSQL's index limit is in."""
    assert text_problem(value, limit) == expected
