"""Hostile variants of real payloads, and a walk over every read endpoint."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from tests.conftest import fixture_bytes
from tests.web.live import LiveServer

AM_FIXTURE = "alertmanager_multi_alert_group.json"
GRAFANA_FIXTURE = "grafana/grafana10_firing_values.json"
PD_V3_FIXTURE = "pagerduty_v3_incident_triggered.json"
PD_V2_FIXTURE = "pagerduty_v2_legacy.json"

# Endpoint -> the fixture its bodies are variants of.
WEBHOOKS = {
    "/webhooks/alertmanager": AM_FIXTURE,
    "/webhooks/grafana": GRAFANA_FIXTURE,
    "/webhooks/pagerduty": PD_V3_FIXTURE,
}
PD_V2 = ("/webhooks/pagerduty", PD_V2_FIXTURE)


def document(name: str) -> Any:
    return json.loads(fixture_bytes(name))


def encoded(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


Path = tuple[str | int, ...]


def string_paths(value: Any, path: Path = ()) -> Iterator[tuple[Path, bool]]:
    """(path, is_key) of every string in a JSON value: values, and object keys."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield (*path, key), True
            yield from string_paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from string_paths(child, (*path, index))
    elif isinstance(value, str):
        yield path, False


def replaced(value: Any, path: Path, is_key: bool, change: Any) -> Any:
    """A deep copy of `value` with the string (or key) at `path` passed through `change`."""
    copy = json.loads(json.dumps(value))
    parent = copy
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if is_key:
        assert isinstance(last, str)
        items = list(parent.items())
        parent.clear()
        for key, child in items:
            parent[change(key) if key == last else key] = child
    else:
        parent[last] = change(parent[last])
    return copy


def every_string_changed(name: str, change: Any) -> Iterator[tuple[str, bytes]]:
    """(description, body) for each string and key of a fixture, changed one at a time."""
    original = document(name)
    for path, is_key in string_paths(original):
        label = ".".join(str(p) for p in path) + (" (key)" if is_key else "")
        yield label, encoded(replaced(original, path, is_key, change))


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode("utf-8", "surrogatepass")).decode().rstrip("=")


FORGED_CURSORS = [
    "x",
    "!!!!",
    "é",
    cursor_of("i1:"),
    cursor_of("i1:\x00"),
    cursor_of("i1:../../etc/passwd"),
    cursor_of("i1:" + "a" * 5000),
    cursor_of("i2:01jabc"),
    cursor_of("i1:\ud800"),
    "A" * 6000,
]
BAD_IDS = [
    "%00",
    "abc%00def",
    "..",
    "..%2F..%2Fetc%2Fpasswd",
    "%2E%2E%2F%2E%2E%2Fetc",
    "a" * 5000,
    "%F0%9F%92%A5",
    "%C3%28",
    "id%0Awith%0Dnewline",
]
BAD_LIMITS = ["-1", "0", "501", "-99999999999999999999", "1" * 30, "1e3", "NaN", "", "1" * 5000]


def read_everything(server: LiveServer) -> list[tuple[str, int]]:
    """GET every list and every read endpoint of every incident: (path, status)."""
    answers: list[tuple[str, int]] = []

    def get(path: str) -> bytes:
        answer = server.request("GET", path)
        answers.append((path, answer.status))
        return answer.body

    get("/")
    get("/?status=open")
    cursor: str | None = None
    ids: list[str] = []
    for _ in range(20):
        path = "/api/v1/incidents?limit=50" + (f"&cursor={quote(cursor)}" if cursor else "")
        listing = json.loads(get(path) or b"{}")
        ids += [incident["id"] for incident in listing.get("incidents", [])]
        cursor = listing.get("next_cursor")
        if not cursor:
            break
    for incident_id in ids:
        base = f"/api/v1/incidents/{incident_id}"
        get(base)
        for fmt in ("markdown", "json", "html"):
            get(f"{base}/report?format={fmt}")
        get(f"{base}/samples")
        get(f"/incidents/{incident_id}")
    return answers
