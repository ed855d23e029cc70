"""Generated hostile values through both webhook adapters and the API, on both backends:
not one answer may be a 500, and whatever was stored must read back.

Deterministic (derandomized, no example database) so CI runs the same examples every
time; RECORDER_HYPOTHESIS_EXAMPLES raises the count for a longer local hunt.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.hostile import (
    AM_FIXTURE,
    PD_V2_FIXTURE,
    PD_V3_FIXTURE,
    cursor_of,
    document,
    string_paths,
)
from tests.web.live import LiveServer, live_server

EXAMPLES = int(os.environ.get("RECORDER_HYPOTHESIS_EXAMPLES", "40"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text as hostile as JSON can carry: any code point, lone surrogates, NUL, long runs.
hostile_text = st.one_of(
    st.text(st.characters(codec=None, blacklist_categories=()), max_size=30),
    st.sampled_from(
        ["", "\x00", "a\x00b", "\ud800", "\udfff x", "../../etc/passwd", "%00", "\u202e"]
    ),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["k", "é", "😀", "\x01", '"']), st.integers(1, 12_000)
    ),
)


# Naive on purpose: hypothesis draws naive datetimes, and rfc3339 adds the offset.
FIRST = datetime.min  # noqa: DTZ901
LAST = datetime.max  # noqa: DTZ901


def rfc3339(moment: datetime, offset_minutes: int, nanos: bool) -> str:
    """`moment` (naive, read as local time at the offset) written in RFC 3339."""
    zone = timezone(timedelta(minutes=offset_minutes))
    text = moment.replace(tzinfo=zone).isoformat()
    return text.replace("+00:00", "Z") if nanos else text


times = st.one_of(
    st.builds(
        rfc3339,
        st.datetimes(min_value=FIRST, max_value=LAST),
        st.integers(-14 * 60, 14 * 60),
        st.booleans(),
    ),
    st.sampled_from(
        [
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:00:00+00:01",
            "9999-12-31T23:59:59.999999999Z",
            "9999-12-31T23:59:59-00:01",
            "0000-12-31T23:59:59Z",
            "10000-01-01T00:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-11-28T17:37:03.1234567890123Z",
        ]
    ),
    hostile_text,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    hostile_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)


@pytest.fixture
def server(database_url: str) -> Iterator[LiveServer]:
    with live_server(database_url) as running:
        yield running


def mutated(original: Any, data: st.DataObject) -> Any:
    """A copy of `original` with one to three strings, keys or values made hostile."""
    copy = json.loads(json.dumps(original))
    paths = list(string_paths(copy))
    for _ in range(data.draw(st.integers(1, 3))):
        path, is_key = data.draw(st.sampled_from(paths))
        parent = copy
        try:
            for part in path[:-1]:
                parent = parent[part]
            last = path[-1]
            if is_key:
                value = parent.pop(last)
                parent[data.draw(hostile_text)] = value
            elif "At" in str(last) or str(last).endswith(("_at", "_on")):
                parent[last] = data.draw(times)
            else:
                parent[last] = data.draw(st.one_of(hostile_text, json_values))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change moved this path
    return copy


def post(server: LiveServer, path: str, value: Any) -> None:
    body = json.dumps(value).encode()  # ensure_ascii: lone surrogates travel as escapes
    answer = server.request("POST", path, body)
    assert answer.status < 500, (path, answer.status, answer.body[:500])
    if answer.status == 200:
        for incident_id in json.loads(answer.body).get("incidents", []):
            read_back(server, incident_id)


def read_back(server: LiveServer, incident_id: str) -> None:
    """Everything stored reads back: the incident, its report in each format, its page."""
    base = f"/api/v1/incidents/{quote(incident_id)}"
    for path in (
        base,
        f"{base}/report?format=json",
        f"{base}/report?format=html",
        f"/incidents/{quote(incident_id)}",
        "/",
        "/api/v1/incidents",
    ):
        answer = server.request("GET", path)
        assert answer.status < 500, (path, answer.status, answer.body[:500])


@PROPERTY
@given(data=st.data())
def test_alertmanager_webhook_never_answers_500(server: LiveServer, data: st.DataObject) -> None:
    """Alertmanager bodies with hostile strings, keys, values and times: 4xx or stored."""
    post(server, "/webhooks/alertmanager", mutated(document(AM_FIXTURE), data))


@PROPERTY
@given(data=st.data(), fixture=st.sampled_from([PD_V3_FIXTURE, PD_V2_FIXTURE]))
def test_pagerduty_webhook_never_answers_500(
    server: LiveServer, data: st.DataObject, fixture: str
) -> None:
    """PagerDuty V3 and V2 bodies with hostile strings, keys, values and times."""
    post(server, "/webhooks/pagerduty", mutated(document(fixture), data))


api_cases = st.fixed_dictionaries(
    {
        "incident_id": hostile_text,
        "cursor": st.one_of(hostile_text, hostile_text.map(lambda t: cursor_of("i1:" + t))),
        "limit": st.one_of(hostile_text, st.integers().map(str)),
        "body": st.one_of(
            json_values,
            st.fixed_dictionaries(
                {"by": hostile_text, "at": times, "event": hostile_text, "title": hostile_text}
            ),
        ),
        "action": st.sampled_from(["acknowledge", "resolve", "timeline"]),
    }
)


def quoted(text: str) -> str:
    return quote(text.encode("utf-8", "surrogatepass")[:3000], safe="")


@PROPERTY
@given(case=api_cases)
def test_api_never_answers_500(server: LiveServer, case: dict[str, Any]) -> None:
    """Hostile ids, cursors, limits and bodies on the API's reads and writes."""
    safe_id, action = quoted(case["incident_id"]), case["action"]
    safe_cursor, safe_limit = quoted(case["cursor"]), quoted(case["limit"])
    raw = json.dumps(case["body"]).encode()
    requests = [
        ("GET", f"/api/v1/incidents/{safe_id}", None),
        ("GET", f"/api/v1/incidents/{safe_id}/report", None),
        ("GET", f"/incidents/{safe_id}", None),
        ("GET", f"/api/v1/incidents?cursor={safe_cursor}&limit={safe_limit}", None),
        ("GET", f"/?cursor={safe_cursor}", None),
        ("POST", f"/api/v1/incidents/{safe_id}/{action}", raw),
        ("PATCH", f"/api/v1/incidents/{safe_id}", raw),
    ]
    existing = json.loads(server.request("GET", "/api/v1/incidents?limit=1").body)["incidents"]
    if existing:
        real = existing[0]["id"]
        requests += [
            ("POST", f"/api/v1/incidents/{real}/{action}", raw),
            ("PATCH", f"/api/v1/incidents/{real}", raw),
        ]
    else:
        post(server, "/webhooks/alertmanager", document(AM_FIXTURE))
    for method, path, sent in requests:
        answer = server.request(method, path, sent)
        assert answer.status < 500, (method, path, answer.status, answer.body[:500])
    if existing:
        read_back(server, existing[0]["id"])


def test_generated_times_reach_both_edges_with_offsets() -> None:
    """rfc3339 writes years 1 and 9999 with the offsets the strategy draws."""
    assert rfc3339(FIRST, 60, False) == "0001-01-01T00:00:00+01:00"
    assert rfc3339(LAST, -60, True) == "9999-12-31T23:59:59.999999-01:00"
    assert rfc3339(FIRST, 0, True) == "0001-01-01T00:00:00Z"
