"""The one-pass fast path gives exactly what the careful path gives, for every body.

Each body below is parsed twice: by parse_alert_webhook (fast path first) and by the
careful path alone (decode_document, then read_alert_document). The outcomes (the
notification, or the error class and message) must be equal. Bodies are the recorded
fixtures changed in the ways the fast path reasons about: repeated keys, whitespace and
escapes around colons, sizes at and past each limit in ASCII, UTF-8 and escapes, NUL,
surrogates, NaN and huge numbers, unknown fields, out-of-range times.
"""

from __future__ import annotations

import copy
import json
import os
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alert_adapters import alertmanager, grafana, versions
from alert_adapters.errors import PayloadError
from alert_adapters.json_document import decode_document
from alert_adapters.whole_body import validate_whole
from tests.conftest import fixture_bytes

AM = "alertmanager_multi_alert_group.json"
GRAFANA = "grafana/grafana10_firing_values.json"
FIXTURES = [
    AM,
    "alertmanager_firing_v0.34_schema_CONSTRUCTED.json",
    "alertmanager_truncated_status_gotcha.json",
    GRAFANA,
    "grafana/grafana8_firing.json",
    "grafana/grafana11_firing_image.json",
    "grafana/grafana12_test_notification.json",
]
Outcome = tuple[str, Any]


def outcome(parse: Callable[[bytes], Any], body: bytes) -> Outcome:
    try:
        return "ok", parse(body)
    except PayloadError as exc:
        return type(exc).__name__, str(exc)


def careful(body: bytes) -> Any:
    return versions.read_alert_document(decode_document(body, "Alert webhook"))


def assert_same(body: bytes) -> Outcome:
    fast = outcome(versions.parse_alert_webhook, body)
    assert fast == outcome(careful, body), body[:300]
    return fast


def loaded(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(fixture_bytes(name))
    return document


@pytest.mark.parametrize("name", FIXTURES)
def test_recorded_bodies_take_the_fast_path_with_the_careful_result(name: str) -> None:
    """The fast path accepts every recorded body, and both paths agree on it."""
    body = fixture_bytes(name)
    found = validate_whole(body, versions._FAST)
    assert found is not None
    document, pairs = found
    read = (
        alertmanager.read_valid_alertmanager
        if document["version"] == "4"
        else grafana.read_valid_grafana
    )
    assert read(document, pairs) == careful(body)


def changed(name: str, change: Callable[[dict[str, Any]], None]) -> bytes:
    document = copy.deepcopy(loaded(name))
    change(document)
    return json.dumps(document, ensure_ascii=False).encode()


def set_at(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """A change setting the dotted `path` (list indexes as numbers) to `value`."""

    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = document
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        node[int(last) if isinstance(node, list) else last] = value

    return change


# (path, byte limit) of every limited string the fast schema checks.
LIMITED = [
    ("groupKey", 2048),
    ("receiver", 65536),
    ("externalURL", 65536),
    ("alerts.0.fingerprint", 256),
    ("alerts.0.generatorURL", 65536),
    ("alerts.0.labels.alertname", 2048),
    ("alerts.0.annotations.summary", 65536),
    ("commonLabels.alertname", 2048),
]


@pytest.mark.parametrize("name", [AM, GRAFANA])
@pytest.mark.parametrize(("path", "limit"), LIMITED)
@pytest.mark.parametrize(
    "fill",
    [
        lambda n: "a" * n,  # ASCII: characters are bytes
        lambda n: "a" * (n + 1),
        lambda n: "é" * (n // 2),  # two bytes each
        lambda n: "é" * (n // 2) + "a",
        lambda n: "€" * (n // 3) + "é",  # three bytes each
        lambda n: "😀" * (n // 4),  # four bytes each
        lambda n: "😀" * (n // 4) + "a",
        lambda n: "a" * (n // 4 + 1) + "é",
    ],
)
def test_sizes_at_and_past_each_limit(
    name: str, path: str, limit: int, fill: Callable[[int], str]
) -> None:
    """Strings at a limit pass and one byte more is a 422, in ASCII, UTF-8 and escapes."""
    document = copy.deepcopy(loaded(name))
    set_at(path, fill(limit))(document)
    assert_same(json.dumps(document, ensure_ascii=False).encode())
    assert_same(json.dumps(document, ensure_ascii=True).encode())  # \u00e9 escapes


@pytest.mark.parametrize("name", [AM, GRAFANA])
def test_label_names_at_and_past_the_limit(name: str) -> None:
    for key in ("n" * 1024, "n" * 1025, "é" * 512, "é" * 513, "😀" * 256, "😀" * 256 + "n"):
        document = copy.deepcopy(loaded(name))
        document["alerts"][0]["labels"][key] = "v"
        for ascii_only in (False, True):
            assert_same(json.dumps(document, ensure_ascii=ascii_only).encode())


@pytest.mark.parametrize("name", [AM, GRAFANA])
def test_map_sizes_at_and_past_the_limit(name: str) -> None:
    for entries in (1000, 1001):
        labels = {f"l{i}": "v" for i in range(entries)}
        assert_same(changed(name, set_at("alerts.0.labels", labels)))
        assert_same(changed(name, set_at("groupLabels", labels)))


# Raw texts: (old, new) replacements in the compact fixture bytes.
RAW_CHANGES = [
    # Repeated keys, with and without whitespace and escapes near the colon.
    (b'"receiver":', b'"receiver":"x","receiver":'),
    (b'"version":"4"', b'"version":"4","version":"4"'),
    (b'"version":"4"', b'"version" : "4", "version" :"4"'),
    (b'"version":"4"', b'"version"\n:"4",\t"version"\r:"4"'),
    (b'"status":"firing"', b'"status":"firing","status":"resolved"'),
    (b'"alertname":', b'"alertname":"A","alertname":'),
    (b'"alertname":', b'"alertname":":a","alertname":'),
    (b'"alertname":', b'"alertname" :":a",\n"alertname":'),
    (b'"alertname":', b'"a\\":":"x","alertname":"A","alertname":'),
    (b'"alertname":', b'"a\\\\":"x","alertname":"A","alertname":'),
    (b'"alertname":', b'"\\u0061lertname":"A","alertname":'),
    (b'"groupLabels":{', b'"groupLabels":{"x":"1","x":"2",'),
    (b'"commonAnnotations":{', b'"commonAnnotations":{"x":"1","x":"2",'),
    (b'"annotations":{', b'"annotations":{"x":":","x":":",'),
    (b'"values":{', b'"values":{"B":1,"B":2,'),
    # Colons and escapes inside strings.
    (b'"alertname":"', b'"alertname":":'),
    (b'"alertname":"', b'"alertname":" :\\":'),
    (b'"alertname":"', b'"alertname" : "\\\\'),
    (b'"alertname":"', b'"alertname":"\\u003a\\u003A'),
    # NUL, control characters, surrogates, non-ASCII escapes.
    (b'"alertname":"', b'"alertname":"\\u0000'),
    (b'"alertname":"', b'"alertname":"\x00'),
    (b'"alertname":"', b'"alertname":"\x01'),
    (b'"alertname":"', b'"alertname":"\\ud800'),
    (b'"alertname":"', b'"alertname":"\\udc00x'),
    (b'"alertname":"', b'"alertname":"\\uD83D\\uDE00'),
    (b'"alertname":"', b'"alertname":"\\u00e9\\u20ac'),
    (b'"alertname":"', b'"alertname":"\\n\\t\\/\\b\\f\\r'),
    (b'"alertname":"', b'"alertname":"\xc3\x28'),
    (b'"alertname":"', b'"alertname":"\xed\xa0\x80'),
    # Numbers JSON has not, and those storage cannot take.
    (b'"truncatedAlerts":0', b'"truncatedAlerts":NaN'),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":1.0'),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":-0'),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":-1'),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":2147483648'),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":1' + b"0" * 5000),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":null'),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":0,"x":NaN'),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":0,"x":Infinity'),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":0,"x":1' + b"0" * 5000),
    (b'"values":{', b'"values":{"N":NaN,'),
    (b'"values":{', b'"values":{"N":-Infinity,'),
    (b'"values":{', b'"values":{"N":1e400,'),
    (b'"values":{', b'"values":{"N":-0,"M":1e15,"O":123456789012345678,'),
    (b'"values":{', b'"values":{"N":1' + b"0" * 400 + b","),
    (b'"values":{', b'"values":{"N":"1",'),
    # Unknown and ignored fields, nesting, nulls.
    (b'"truncatedAlerts":0', b'"truncatedAlerts":0,"new":{"a":[1,{"b":null}]}'),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":0,"new":' + b"[" * 70 + b"]" * 70),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":0,"new":' + b"[" * 300 + b"]" * 300),
    (b'"truncatedAlerts":0', b'"truncatedAlerts":0,"labels":{"a":"\\u0000"}'),
    (b'"status":"firing","labels"', b'"status":"firing","receiver":"\\u0000","labels"'),
    (
        b'"status":"firing","labels"',
        b'"status":"firing","groupKey":"' + b"g" * 3000 + b'","labels"',
    ),
    (b'"receiver":"', b'"status":5,"receiver":"'),
    (b'"receiver":"', b'"orgId":1.5,"receiver":"'),
    (b'"receiver":"', b'"routeLabels":{"a":"b","a":"c"},"receiver":"'),
    (b'"receiver":"', b'"notification_reason":"\\u0000","receiver":"'),
    (b'"labels":{', b'"labels":null,"x":{'),
    (b'"annotations":{', b'"annotations":null,"x":{'),
    (b'"commonLabels":{', b'"commonLabels":null,"x":{'),
    (b'"version":"4"', b'"version":"1"'),
    (b'"version":"1"', b'"version":"4"'),
    (b'"version":"4"', b'"version":"3"'),
    (b'"version":"4"', b'"version":4'),
    # Times.
    (b'"startsAt":"', b'"startsAt":"0001-01-01T00:00:00Z","x":"'),
    (b'"startsAt":"', b'"startsAt":"0001-01-01T00:30:00+01:00","x":"'),
    (b'"startsAt":"', b'"startsAt":"9999-12-31T23:59:59.999999Z","x":"'),
    (b'"startsAt":"', b'"startsAt":"2026-11-28T17:37:03.123456789Z","x":"'),
    (b'"startsAt":"', b'"startsAt":"2026-11-28","x":"'),
    (b'"endsAt":"', b'"endsAt":"not a time","x":"'),
    # Whole-body shapes.
    (b"{", b"\xef\xbb\xbf{"),
    (b"{", b" \n{"),
    (b'"alerts":[', b'"alerts":[{},'),
    (b'"alerts":[', b'"alerts":[' + b"{}," * 30),
    (b'"fingerprint":"', b'"fingerprint":"","x":"'),
]


@pytest.mark.parametrize("name", FIXTURES)
@pytest.mark.parametrize(("old", "new"), RAW_CHANGES)
def test_raw_changes_give_the_same_outcome(name: str, old: bytes, new: bytes) -> None:
    body = fixture_bytes(name).replace(old, new, 1)
    assert_same(body)
    assert_same(body + b" \n")
    assert_same(body + b"}")


def test_repeated_keys_are_refused_as_before() -> None:
    """The fast path's counting sees a repeated key even when other texts could hide it."""
    body = fixture_bytes(AM).replace(b'"alertname":', b'"alertname":":a","alertname":', 1)
    kind, message = assert_same(body)
    assert kind == "PayloadNotJSON"
    assert "duplicate key 'alertname'" in message


@pytest.mark.parametrize("name", FIXTURES)
def test_pretty_printed_bodies_take_the_fast_path(name: str) -> None:
    """Whitespace between tokens (as Python's json.dumps writes) keeps the fast path."""
    body = json.dumps(loaded(name), indent=2).encode()
    assert validate_whole(body, versions._FAST) is not None
    assert assert_same(body)[0] == "ok"


def test_each_adapter_agrees_with_the_dispatcher() -> None:
    """parse_alertmanager and parse_grafana give what parse_alert_webhook gives."""
    for name, parse in ((AM, alertmanager.parse_alertmanager), (GRAFANA, grafana.parse_grafana)):
        body = fixture_bytes(name)
        assert parse(body) == versions.parse_alert_webhook(body)
        repeated = body.replace(b'"groupKey":', b'"groupKey":"g","groupKey":', 1)
        assert outcome(parse, repeated)[0] == "PayloadNotJSON"


# Generated changes: any string, key or value of a fixture replaced by hostile JSON.
# Deterministic; RECORDER_HYPOTHESIS_EXAMPLES raises the count for a longer local hunt.
GENERATED = settings(
    max_examples=int(os.environ.get("RECORDER_HYPOTHESIS_EXAMPLES", "400")),
    derandomize=True,
    database=None,
    deadline=None,
)
hostile_text = st.one_of(
    st.builds(  # around the limits, in one to four UTF-8 bytes a character
        lambda c, n: c * n,
        st.sampled_from(["k", "é", "€", "😀", '"', ":"]),
        st.sampled_from([64, 65, 256, 257, 512, 513, 1024, 1025, 2048, 2049, 16384, 16385]),
    ),
    st.sampled_from(["", ":", '":', "\\", '\\"', "\x00", "\ud800", "é", "😀", " :", "NaN"]),
    st.text(st.characters(codec=None, blacklist_categories=()), max_size=20),
)
json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(),
        hostile_text,
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(hostile_text, inner, max_size=3),
    max_leaves=8,
)


def paths_of(document: Any, at: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every value in a JSON document, the document's own included."""
    found = [at]
    if isinstance(document, dict):
        for key, child in document.items():
            found += paths_of(child, (*at, key))
    elif isinstance(document, list):
        for index, child in enumerate(document):
            found += paths_of(child, (*at, index))
    return found


@GENERATED
@given(name=st.sampled_from(FIXTURES), data=st.data())
def test_generated_changes_give_the_same_outcome(name: str, data: st.DataObject) -> None:
    """Replace a value, or rename a key, anywhere: both paths say the same."""
    document = copy.deepcopy(loaded(name))
    path = data.draw(st.sampled_from(paths_of(document)[1:]))
    parent = document
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if isinstance(last, str) and data.draw(st.booleans()):
        parent[data.draw(hostile_text)] = parent.pop(last)
    else:
        parent[last] = data.draw(st.one_of(hostile_text, json_value))
    for ascii_only in (False, True):
        body = json.dumps(document, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
        assert_same(body)
        assert_same(body.replace(b'": ', b'" :', 1))
