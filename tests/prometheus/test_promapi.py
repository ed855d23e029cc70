"""The Prometheus client against a tiny fake server replaying recorded bodies.

A fake is used only for the shapes a healthy Prometheus will not produce on demand (every
error body, proxies, dead ports); test_real_prometheus.py checks real behaviour.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from recorder.demo.stack import free_port
from recorder.prometheus.promapi import (
    MAX_BACKOFF,
    PrometheusBadQuery,
    PrometheusClient,
    PrometheusError,
    PrometheusRejected,
    PrometheusTooManyPoints,
    PrometheusUnavailable,
    backoff_delays,
    fit_step,
    parse_response,
)
from tests.conftest import fixture_bytes

AT = datetime(2026, 11, 28, 17, 39, 57, 266000, tzinfo=UTC)
ServerFactory = Callable[[web.Application], Awaitable[TestServer]]


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/json"


@dataclass
class FakePrometheus:
    """Answers each request with the next reply (the last one repeats) and records it."""

    replies: list[Reply] = field(default_factory=list)
    respond: Callable[[dict[str, str]], Reply] | None = None
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(
            {"method": request.method, "path": request.path, "type": request.content_type} | form
        )
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.respond is not None:
            reply = self.respond(form)
        else:
            reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return web.Response(status=reply.status, body=reply.body, content_type=reply.content_type)


@pytest.fixture
def fake() -> FakePrometheus:
    return FakePrometheus()


@pytest.fixture
async def base_url(aiohttp_server: ServerFactory, fake: FakePrometheus) -> str:
    app = web.Application()
    app.router.add_route("*", "/prom/api/v1/{endpoint}", fake.handle)
    server = await aiohttp_server(app)
    return str(server.make_url("/prom"))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def client(base_url: str, session: aiohttp.ClientSession) -> PrometheusClient:
    return PrometheusClient(base_url, session, retries=2, backoff=0)


def recorded(name: str, status: int) -> Reply:
    return Reply(status, fixture_bytes(name))


OK_VECTOR = Reply(200, fixture_bytes("prometheus_query_vector.json"))


class ErrorCase(NamedTuple):
    name: str
    status: int
    kind: type[PrometheusError]
    error_type: str
    attempts: int


@pytest.mark.parametrize(
    "case",
    [
        ErrorCase("prometheus_error.json", 400, PrometheusBadQuery, "bad_data", 1),
        ErrorCase("prometheus_error_bad_timestamp.json", 400, PrometheusBadQuery, "bad_data", 1),
        ErrorCase("prometheus_error_end_before_start.json", 400, PrometheusBadQuery, "bad_data", 1),
        ErrorCase("prometheus_error_missing_step.json", 400, PrometheusBadQuery, "bad_data", 1),
        ErrorCase("prometheus_error_execution_422.json", 422, PrometheusBadQuery, "execution", 1),
        ErrorCase(
            "prometheus_error_too_many_points.json", 400, PrometheusTooManyPoints, "bad_data", 1
        ),
        ErrorCase("prometheus_error_timeout_503.json", 503, PrometheusUnavailable, "timeout", 3),
    ],
    ids=lambda case: case.name.removeprefix("prometheus_").removesuffix(".json"),
)
async def test_recorded_error_bodies_raise_their_exception(
    client: PrometheusClient, fake: FakePrometheus, case: ErrorCase
) -> None:
    """Each recorded error maps to one exception carrying status, type and message;
    only the unavailable kind is retried."""
    fake.replies = [recorded(case.name, case.status)]
    with pytest.raises(case.kind) as caught:
        await client.query("up", AT)
    exc = caught.value
    expected = json.loads(fixture_bytes(case.name))["error"]
    assert type(exc) is case.kind
    assert (exc.status, exc.error_type, exc.message, exc.attempts) == (
        case.status,
        case.error_type,
        expected,
        case.attempts,
    )
    assert len(fake.requests) == case.attempts
    assert str(exc).endswith(case.kind.hint)


async def test_unavailable_is_retried_until_it_succeeds(
    client: PrometheusClient, fake: FakePrometheus
) -> None:
    """A 503 followed by success returns the data after two requests."""
    fake.replies = [recorded("prometheus_error_timeout_503.json", 503), OK_VECTOR]
    result = await client.query("up", AT)
    assert [s.labels["job"] for s in result] == ["prometheus", "demo-exporter"]
    assert len(fake.requests) == 2


def test_backoff_doubles_and_is_bounded() -> None:
    """Waits double from `backoff` and never exceed MAX_BACKOFF."""
    assert backoff_delays(3, 0.5) == (0.5, 1.0, 2.0)
    assert backoff_delays(3, 8) == (8, MAX_BACKOFF, MAX_BACKOFF)
    assert backoff_delays(0, 1) == ()


class ProxyCase(NamedTuple):
    status: int
    body: bytes
    content_type: str
    kind: type[PrometheusError]
    attempts: int


@pytest.mark.parametrize(
    "case",
    [
        ProxyCase(
            502, b"<html><h1>502 Bad Gateway</h1></html>", "text/html", PrometheusUnavailable, 3
        ),
        ProxyCase(504, b"", "text/plain", PrometheusUnavailable, 3),
        ProxyCase(429, b"slow down", "text/plain", PrometheusUnavailable, 3),
        ProxyCase(401, b"Unauthorized", "text/plain", PrometheusRejected, 1),
        ProxyCase(404, b"404 page not found\n", "text/plain", PrometheusRejected, 1),
        ProxyCase(200, b"<html>Sign in</html>", "text/html", PrometheusRejected, 1),
        ProxyCase(
            200, b'{"status":"success","data":{}}', "application/json", PrometheusRejected, 1
        ),
    ],
    ids=lambda case: f"{case.status}-{case.content_type}",
)
async def test_proxy_and_non_api_bodies(
    client: PrometheusClient, fake: FakePrometheus, case: ProxyCase
) -> None:
    """Non-API answers: 5xx/429 are retried as unavailable, the rest say check the URL."""
    fake.replies = [Reply(case.status, case.body, case.content_type)]
    with pytest.raises(case.kind) as caught:
        await client.query("up", AT)
    assert (caught.value.status, caught.value.error_type) == (case.status, "bad_response")
    assert caught.value.attempts == case.attempts == len(fake.requests)


async def test_refused_connection_is_unavailable_after_retries(
    session: aiohttp.ClientSession,
) -> None:
    """Nothing listening: transport error, no status, retried."""
    client = PrometheusClient(f"http://127.0.0.1:{free_port()}", session, retries=1, backoff=0)
    with pytest.raises(PrometheusUnavailable) as caught:
        await client.query("up", AT)
    assert (caught.value.status, caught.value.error_type, caught.value.attempts) == (
        None,
        "transport",
        2,
    )
    assert "ClientConnectorError" in caught.value.message


async def test_slow_server_times_out_as_unavailable(
    base_url: str, session: aiohttp.ClientSession, fake: FakePrometheus
) -> None:
    """No answer within timeout + 1 s is a retryable timeout with no status."""
    fake.replies, fake.delay = [OK_VECTOR], 5
    client = PrometheusClient(base_url, session, timeout=0.1, retries=0)
    with pytest.raises(PrometheusUnavailable) as caught:
        await client.query("up", AT)
    assert (caught.value.status, caught.value.error_type) == (None, "timeout")
    assert fake.requests[0]["timeout"] == "0.1"


async def test_requests_are_form_encoded_posts(
    client: PrometheusClient, fake: FakePrometheus
) -> None:
    """Queries go as POST form fields under the base URL's path prefix."""
    fake.replies = [OK_VECTOR]
    long_query = 'sum(up{job=~"' + "a|" * 3000 + 'b"})'
    await client.query(long_query, AT)
    await client.query_range("up", AT - timedelta(seconds=60), AT, 15)
    instant, ranged = fake.requests
    assert instant == {
        "method": "POST",
        "path": "/prom/api/v1/query",
        "type": "application/x-www-form-urlencoded",
        "query": long_query,
        "time": "1795887597.266",
        "timeout": "10",
    }
    assert (ranged["path"], ranged["start"], ranged["end"], ranged["step"]) == (
        "/prom/api/v1/query_range",
        "1795887537.266",
        "1795887597.266",
        "15.000",
    )


def test_matrix_parses_int_and_float_timestamps_and_string_values() -> None:
    """Matrix values are strings; timestamps are ints or floats with milliseconds."""
    lab = parse_response(200, fixture_bytes("prometheus_query_range.json"))
    docs = parse_response(200, fixture_bytes("prometheus_query_range_DOCS.json"))
    assert lab[0].labels["queue"] == "orders"
    assert lab[0].samples[0].at == datetime.fromtimestamp(1795887425, UTC)
    assert [s.value for s in lab[1].samples] == [40, 40, 40, 40, 40, 0, 0]
    assert docs[0].samples[0].at == datetime(2015, 7, 1, 20, 10, 30, 781000, tzinfo=UTC)


def test_vector_scalar_and_empty_results_parse() -> None:
    """A vector gives one-sample series, a scalar one unlabeled series, empty gives []."""
    vector = parse_response(200, fixture_bytes("prometheus_query_vector_DOCS.json"))
    scalar = parse_response(200, fixture_bytes("prometheus_query_scalar.json"))
    assert [(s.labels["instance"], s.samples[0].value) for s in vector] == [
        ("localhost:9090", 1),
        ("localhost:9100", 0),
    ]
    assert scalar[0].labels == {}
    assert scalar[0].samples[0].value == 0.5
    assert parse_response(200, fixture_bytes("prometheus_query_empty_result.json")) == []


def test_nan_and_infinities_parse_as_floats() -> None:
    """ "NaN", "+Inf" and "-Inf" are valid sample values."""
    body = json.dumps(
        {
            "status": "success",
            "data": {
                "resultType": "matrix",
                "result": [{"metric": {}, "values": [[1, "NaN"], [2, "+Inf"], [3.5, "-Inf"]]}],
            },
        }
    ).encode()
    values = [s.value for s in parse_response(200, body)[0].samples]
    assert math.isnan(values[0])
    assert values[1:] == [math.inf, -math.inf]


def test_string_and_histogram_results_are_bad_queries() -> None:
    """A signal must return numbers: strings and native histograms are rejected."""
    with pytest.raises(PrometheusBadQuery, match="returns a string"):
        parse_response(200, fixture_bytes("prometheus_query_string.json"))
    histogram = {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "histogram": [1, {}]}]},
    }
    with pytest.raises(PrometheusBadQuery, match="histogram_quantile"):
        parse_response(200, json.dumps(histogram).encode())


def test_warnings_are_tolerated() -> None:
    """Optional `warnings` and `infos` do not change the result."""
    body = json.loads(fixture_bytes("prometheus_query_vector.json"))
    body |= {"warnings": ["w"], "infos": ["i"]}
    assert len(parse_response(200, json.dumps(body).encode())) == 2


def grid_server(limit: int) -> Callable[[dict[str, str]], Reply]:
    """A range endpoint that refuses more than `limit` points, else returns value = ts."""

    def respond(form: dict[str, str]) -> Reply:
        start, end, step = (float(form[k]) for k in ("start", "end", "step"))
        if (end - start) // step > limit:
            return recorded("prometheus_error_too_many_points.json", 400)
        points, ts = [], start
        while ts <= end + 1e-9:
            points.append([round(ts, 3), str(ts)])
            ts += step
        result = [{"metric": {"job": "x"}, "values": points}]
        body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
        return Reply(200, json.dumps(body).encode())

    return respond


async def test_too_many_points_splits_the_range_and_merges(
    client: PrometheusClient, fake: FakePrometheus
) -> None:
    """A server with a lower limit than 11,000 still yields every step exactly once."""
    fake.respond = grid_server(limit=100)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    series = await client.query_range("x", start, start + timedelta(seconds=250), 1)
    times = [s.at for s in series[0].samples]
    assert times == [start + timedelta(seconds=n) for n in range(251)]
    assert len(fake.requests) == 7  # 250 → 125 + 125 → four halves of 62/62 and 61/62


async def test_split_gives_up_when_the_range_cannot_shrink(
    client: PrometheusClient, fake: FakePrometheus
) -> None:
    """If even one step is too many, the error surfaces with advice on the step."""
    fake.respond = grid_server(limit=0)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(PrometheusTooManyPoints, match="use a larger step"):
        await client.query_range("x", start, start + timedelta(seconds=3), 1)
    assert len(fake.requests) == 2


async def test_step_is_raised_up_front_to_fit_11000_points(
    client: PrometheusClient, fake: FakePrometheus
) -> None:
    """A day at 1 s would be 86,400 points: the client asks for 8 s at once."""
    fake.respond = grid_server(limit=11_000)
    await client.query_range("x", AT - timedelta(days=1), AT, 1)
    assert [r["step"] for r in fake.requests] == ["8.000"]
    assert fit_step(AT - timedelta(seconds=11_000), AT, 1) == 1
    assert fit_step(AT - timedelta(seconds=11_001), AT, 1) == 2


@pytest.mark.parametrize(
    ("url", "kwargs", "message"),
    [
        ("prometheus:9090", {}, "must be http"),
        ("ftp://prometheus", {}, "must be http"),
        ("http://prometheus:9090/?x=1", {}, "must not carry a query"),
        ("http://prometheus:9090", {"timeout": 0}, "timeout=0"),
        ("http://prometheus:9090", {"retries": -1}, "retries=-1"),
        ("http://prometheus:9090", {"backoff": -1}, "backoff=-1"),
    ],
)
async def test_client_arguments_are_validated(
    session: aiohttp.ClientSession, url: str, kwargs: dict[str, Any], message: str
) -> None:
    """Bad settings fail at construction with what to write instead."""
    with pytest.raises(ValueError, match=message):
        PrometheusClient(url, session, **kwargs)


async def test_query_arguments_are_validated(client: PrometheusClient) -> None:
    """Naive times, reversed ranges and non-positive steps never reach the server."""
    naive = datetime(2026, 1, 1)  # noqa: DTZ001
    with pytest.raises(ValueError, match="naive"):
        await client.query("up", naive)
    with pytest.raises(ValueError, match="naive"):
        await client.query_range("up", naive, AT, 1)
    with pytest.raises(ValueError, match="before start"):
        await client.query_range("up", AT, AT - timedelta(seconds=1), 1)
    with pytest.raises(ValueError, match="step_seconds=0"):
        await client.query_range("up", AT, AT, 0)
