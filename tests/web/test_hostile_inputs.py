"""The hostile-input list, on both backends: never a 500, and /healthz stays under 100 ms.

Each test runs a real recorder in its own thread and sends from others, while a watcher
asks /healthz every 5 ms; afterwards every read endpoint is walked for every incident,
so a value that was stored but cannot be read back fails here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from urllib.parse import quote

import pytest

from tests.conftest import fixture_bytes
from tests.web.hostile import (
    AM_FIXTURE,
    BAD_IDS,
    BAD_LIMITS,
    FORGED_CURSORS,
    PD_V2,
    WEBHOOKS,
    document,
    encoded,
    every_string_changed,
    read_everything,
)
from tests.web.live import HEALTHZ_BUDGET_SECONDS, LiveServer, live_server, watching_healthz

Sent = list[tuple[str, int]]


@pytest.fixture
def server(database_url: str) -> Iterator[LiveServer]:
    with live_server(database_url) as running:
        yield running


@pytest.fixture
def served(database_url: str) -> Iterator[LiveServer]:
    """A recorder started as `recorder serve` starts: its body-parsing worker process
    starts at startup, and the server is used once /readyz says ready."""
    with live_server(database_url, start_parser=True) as running:
        yield running


def send(
    server: LiveServer,
    sent: Sent,
    method: str,
    path: str,
    body: bytes | None = None,
    **headers: str,
) -> int:
    answer = server.request(method, path, body, headers)
    sent.append((f"{method} {path[:80]}", answer.status))
    if answer.status >= 400:
        assert answer.content_type.startswith("application/problem+json"), (path, answer)
    return answer.status


def watched(
    server: LiveServer, act: Callable[[Sent], None], attempts: int = 3, *, every_probe: bool = False
) -> Sent:
    """Run `act` while /healthz is probed; then no answer may be a 5xx, every read
    endpoint must answer, and /healthz must have stayed under 100 ms.

    The suite shares two cores with other work, so a probe the OS did not schedule, or
    one that met a full garbage collection (it holds the GIL, whichever thread runs it),
    says little about the loop: 95 % of probes must stay within 100 ms plus what they took
    idle just before, and none may take a second. With `every_probe`, every probe must
    take under 100 ms. A run that misses is measured again (`act` must be repeatable): a
    blocked loop misses every time.
    """
    figures: list[str] = []
    for _ in range(attempts):
        sent: Sent = []
        with watching_healthz(server) as watch:
            act(sent)
        reads = read_everything(server)
        failures = [entry for entry in sent + reads if entry[1] >= 500]
        assert failures == [], failures
        assert watch.failures == []
        assert watch.latencies, "the watcher never got an answer"
        figures.append(
            f"p95 {watch.p95 * 1000:.0f} ms, worst {watch.worst * 1000:.0f} ms of "
            f"{len(watch.latencies)} probes (idle up to {max(watch.idle) * 1000:.0f} ms)"
        )
        if every_probe and watch.worst < HEALTHZ_BUDGET_SECONDS:
            return sent
        if not every_probe and watch.p95 < watch.budget and watch.worst < 1.0:
            return sent
    raise AssertionError("/healthz was slow in every run: " + "; ".join(figures))


def alert_body(**changes: object) -> bytes:
    data = document(AM_FIXTURE)
    data["alerts"][0].update(changes)
    return encoded(data)


def test_zero_time_starts_at_is_422(server: LiveServer) -> None:
    """Go's zero time as startsAt is refused on both alert webhooks; nothing is stored."""

    def act(sent: Sent) -> None:
        for path in ("/webhooks/alertmanager", "/webhooks/grafana"):
            data = document(WEBHOOKS[path])
            data["alerts"][0]["startsAt"] = "0001-01-01T00:00:00Z"
            assert send(server, sent, "POST", path, encoded(data)) == 422

    watched(server, act)
    listing = json.loads(server.request("GET", "/api/v1/incidents").body)
    assert listing["incidents"] == []


@pytest.mark.parametrize(
    ("starts_at", "status"),
    [
        ("0001-01-01T00:30:00+01:00", 422),
        ("0001-01-01T00:00:00-01:00", 200),
        ("0001-01-01T00:00:00.000001Z", 200),
        ("9999-12-31T23:30:00-01:00", 422),
        ("9999-12-31T22:30:00-01:00", 200),
        ("9999-12-31T23:59:59.999999Z", 422),
        ("9999-12-31T23:59:59.999998+00:00", 200),
    ],
)
def test_years_0001_and_9999_with_offsets(server: LiveServer, starts_at: str, status: int) -> None:
    """Edge years are stored while inside the range in UTC, refused outside, and read back."""

    def act(sent: Sent) -> None:
        body = alert_body(startsAt=starts_at, endsAt="0001-01-01T00:00:00Z")
        assert send(server, sent, "POST", "/webhooks/alertmanager", body) == status
        pd = document(WEBHOOKS["/webhooks/pagerduty"])
        pd["event"]["occurred_at"] = starts_at
        pd["event"]["data"]["created_at"] = starts_at
        assert send(server, sent, "POST", "/webhooks/pagerduty", encoded(pd)) == status

    watched(server, act)


def test_nul_in_every_string_field(server: LiveServer) -> None:
    """A NUL in any string or key of any webhook body is a 4xx or ignored, never a 500."""

    def act(sent: Sent) -> None:
        for path, fixture in [*WEBHOOKS.items(), PD_V2]:
            for _, body in every_string_changed(fixture, lambda text: text + "\x00"):
                send(server, sent, "POST", path, body)

    sent = watched(server, act)
    refused = [status for _, status in sent if status == 422]
    assert len(refused) > 40  # the stored fields are refused, not silently mangled


def test_ten_kb_keys_and_values(server: LiveServer) -> None:
    """10 kB in place of every string and key: refused where it is limited, else stored."""

    def act(sent: Sent) -> None:
        for path, fixture in [*WEBHOOKS.items(), PD_V2]:
            for _, body in every_string_changed(fixture, lambda text: text + "é" * 5000):
                send(server, sent, "POST", path, body)

    watched(server, act)


def deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("depth-100000-array", b"[" * 100_000 + b"]" * 100_000),
        ("depth-100000-object", deep(100_000)),
        ("array-10^6", b"[" + b",".join([b"1"] * 1_000_000) + b"]"),
        (
            "alerts-10^6",
            b'{"version":"4","groupKey":"g","alerts":[' + b",".join([b"{}"] * 10**6) + b"]}",
        ),
        ("messages-10^6", b'{"messages":[' + b",".join([b"{}"] * 1_000_000) + b"]}"),
        ("nan", b'{"version": "4", "groupKey": NaN, "alerts": []}'),
        ("infinity", b'{"version": "4", "truncatedAlerts": Infinity, "alerts": []}'),
        ("-infinity", b'{"event": {"id": -Infinity}}'),
        ("invalid-utf8", fixture_bytes(AM_FIXTURE).replace(b"HighQueueDepth", b"High\xc3\x28")),
        ("utf8-bom", b"\xef\xbb\xbf" + fixture_bytes(AM_FIXTURE)),
        ("utf16", fixture_bytes(AM_FIXTURE).decode().encode("utf-16")),
        ("duplicate-keys", b'{"version": "4", "version": "3", "groupKey": "g", "alerts": []}'),
        ("lone-surrogate", fixture_bytes(AM_FIXTURE).replace(b"HighQueueDepth", b"\\udc00")),
        ("huge-integer", b'{"version": "4", "truncatedAlerts": 1' + b"0" * 5000 + b"}"),
    ],
)
def test_hostile_json_on_every_webhook_and_api_write(
    server: LiveServer, name: str, body: bytes
) -> None:
    """Deep nesting, 10^6 elements, NaN/Infinity, bad UTF-8, duplicate keys: 4xx everywhere."""

    def act(sent: Sent) -> None:
        for path in WEBHOOKS:
            assert 400 <= send(server, sent, "POST", path, body) < 500
        assert (
            400 <= send(server, sent, "PATCH", "/api/v1/incidents/0000000000abcdefghjk", body) < 500
        )

    watched(server, act)


def test_path_traversal_and_nul_in_ids(server: LiveServer) -> None:
    """Ids with NUL, '..', encoded slashes, 10 kB or bad UTF-8 are 404s on every path."""
    send(server, [], "POST", "/webhooks/alertmanager", fixture_bytes(AM_FIXTURE))

    def act(sent: Sent) -> None:
        for bad in BAD_IDS:
            for suffix in ("", "/report", "/samples", "/charts/error_rate.svg"):
                assert send(server, sent, "GET", f"/api/v1/incidents/{bad}{suffix}") in {400, 404}
            assert send(server, sent, "GET", f"/incidents/{bad}") in {400, 404}
            for action in ("acknowledge", "resolve", "timeline"):
                body = b'{"by": "x", "at": "2026-11-28T17:00:00Z", "event": "e"}'
                status = send(server, sent, "POST", f"/api/v1/incidents/{bad}/{action}", body)
                assert status in {400, 404}
            assert send(server, sent, "PATCH", f"/api/v1/incidents/{bad}", b"{}") in {400, 404}
        listing = json.loads(server.request("GET", "/api/v1/incidents").body)
        good = listing["incidents"][0]["id"]
        assert send(server, sent, "GET", f"/api/v1/incidents/{good}/charts/%00.svg") in {400, 404}

    watched(server, act)


def test_forged_cursors(server: LiveServer) -> None:
    """A cursor the recorder did not issue is a 400 on the API and never a 500 on pages."""
    send(server, [], "POST", "/webhooks/alertmanager", fixture_bytes(AM_FIXTURE))

    def act(sent: Sent) -> None:
        for cursor in FORGED_CURSORS:
            assert send(server, sent, "GET", f"/api/v1/incidents?cursor={quote(cursor)}") == 400
            send(server, sent, "GET", f"/?cursor={quote(cursor)}")

    watched(server, act)


def test_negative_and_huge_limits(server: LiveServer) -> None:
    """limit outside 1-500, or not a whole number, is a 400."""

    def act(sent: Sent) -> None:
        for limit in BAD_LIMITS:
            assert send(server, sent, "GET", f"/api/v1/incidents?limit={limit}") == 400

    watched(server, act)


def big_group(alerts: int, *, break_last: bool) -> bytes:
    """An Alertmanager group of `alerts` alerts of about 1.6 kB each."""
    data = document(AM_FIXTURE)
    template = data["alerts"][0]
    group = []
    for index in range(alerts):
        alert = json.loads(json.dumps(template))
        alert["fingerprint"] = f"{index:016x}"
        alert["labels"]["instance"] = f"host-{index}"
        alert["annotations"]["description"] = "d" * 1050
        group.append(alert)
    if break_last:
        group[-1]["startsAt"] = "not a time"
    data["alerts"] = group
    return encoded(data)


def test_healthz_is_fast_while_16_mib_bodies_are_parsed(served: LiveServer) -> None:
    """Three 16 MiB groups (all but the last alert valid) sent at once, the first big
    bodies since the recorder started, are parsed one at a time in a worker process:
    each is answered, and every /healthz probe takes under 100 ms. The worker process
    started with the recorder (a new interpreter, on the same two cores): no body waits
    for it, nor shares the CPU with its start.
    """
    import threading

    server = served
    body = big_group(10_000, break_last=True)
    assert 15 * 2**20 < len(body) <= 16 * 2**20
    statuses: list[int] = []

    def post() -> None:
        statuses.append(server.request("POST", "/webhooks/alertmanager", body).status)

    def act(sent: Sent) -> None:
        statuses.clear()
        senders = [threading.Thread(target=post) for _ in range(3)]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(120)
        sent += [("POST /webhooks/alertmanager (16 MiB)", status) for status in statuses]

    watched(server, act, attempts=2, every_probe=True)
    assert statuses == [422, 422, 422]
