"""Prometheus HTTP query API client: instant and range queries, errors, retries, point limits."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import aiohttp

from recorder.evidence.series import Sample, Series, merge_series

MAX_POINTS = 11_000
"""Prometheus refuses a range query when (end - start) / step exceeds this."""
MAX_BACKOFF = 10.0
"""Longest wait between two attempts, in seconds, however many retries are configured."""
MAX_SPLITS = 6
"""How many times a range is halved when the server still reports too many points."""
_TOO_MANY_POINTS = "exceeded maximum resolution"


class PrometheusError(Exception):
    """A query failed. `status` is the HTTP status (None when no response arrived),
    `error_type` Prometheus's `errorType` (or `transport`, `timeout`, `bad_response`),
    `message` its text, `attempts` how many requests were made."""

    retryable: ClassVar[bool] = False
    hint: ClassVar[str] = "check the Prometheus server and its logs"

    def __init__(self, status: int | None, error_type: str, message: str) -> None:
        where = f"HTTP {status}" if status is not None else "no response"
        super().__init__(f"Prometheus query failed ({where}, {error_type}): {message}; {self.hint}")
        self.status = status
        self.error_type = error_type
        self.message = message
        self.attempts = 1


class PrometheusBadQuery(PrometheusError):
    """The query or its parameters are wrong (400 bad_data, 422 execution); not retried."""

    hint = "fix the signal's query in the configuration and try it in the Prometheus UI"


class PrometheusTooManyPoints(PrometheusBadQuery):
    """A range query asked for more than 11,000 points per series, even after splitting."""

    hint = "use a larger step or a shorter range"


class PrometheusUnavailable(PrometheusError):
    """Prometheus is down, overloaded or timed out (5xx, 429, transport errors); retried."""

    retryable = True
    hint = "Prometheus (or a proxy in front of it) is down or overloaded; try again later"


class PrometheusRejected(PrometheusError):
    """The URL does not answer like the Prometheus API (401/403/404, non-API bodies)."""

    hint = (
        "check RECORDER_PROMETHEUS_URL (the server's base URL; /api/v1/... is appended) "
        "and any proxy credentials"
    )


_BY_ERROR_TYPE: Mapping[str, type[PrometheusError]] = {
    "bad_data": PrometheusBadQuery,
    "execution": PrometheusBadQuery,
    "timeout": PrometheusUnavailable,
    "canceled": PrometheusUnavailable,
    "internal": PrometheusUnavailable,
    "unavailable": PrometheusUnavailable,
    "not_found": PrometheusRejected,
    "not_acceptable": PrometheusRejected,
}


def _by_status(status: int) -> type[PrometheusError]:
    if status >= 500 or status in {429, 499}:
        return PrometheusUnavailable
    if status in {400, 422}:
        return PrometheusBadQuery
    return PrometheusRejected


def parse_response(status: int, body: bytes) -> list[Series]:
    """Series from one HTTP response of /api/v1/query or /api/v1/query_range, or raise.

    A vector gives one single-sample series per element, a scalar one series with no
    labels. Values are floats, including NaN and ±Inf; times are aware UTC datetimes.
    """
    try:
        envelope = json.loads(body)
    except ValueError:
        envelope = None
    if not isinstance(envelope, dict) or envelope.get("status") not in {"success", "error"}:
        snippet = body[:120].decode("utf-8", "replace").strip() or "an empty body"
        raise _by_status(status)(
            status, "bad_response", f"not a Prometheus API answer: {snippet!r}"
        )
    if envelope["status"] == "error":
        error_type = str(envelope.get("errorType", "unknown"))
        message = str(envelope.get("error", ""))
        if _TOO_MANY_POINTS in message:
            raise PrometheusTooManyPoints(status, error_type, message)
        raise _BY_ERROR_TYPE.get(error_type, _by_status(status))(status, error_type, message)
    try:
        return _parse_data(envelope["data"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        message = f"malformed success body ({type(exc).__name__}: {exc})"
        raise PrometheusRejected(status, "bad_response", message) from exc


def _parse_data(data: dict[str, Any]) -> list[Series]:
    kind = data["resultType"]
    result = data["result"]
    if kind == "matrix":
        return [
            Series(_labels(item), tuple(_sample(p) for p in _points(item, "values", "histograms")))
            for item in result
        ]
    if kind == "vector":
        return [
            Series(_labels(item), (_sample(_points(item, "value", "histogram")),))
            for item in result
        ]
    if kind == "scalar":
        return [Series({}, (_sample(result),))]
    raise PrometheusBadQuery(
        200, "bad_data", f"the query returns a {kind}, not numbers; a signal must return numbers"
    )


def _labels(item: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in item["metric"].items()}


def _points(item: dict[str, Any], key: str, histogram_key: str) -> Any:
    if key not in item and histogram_key in item:
        raise PrometheusBadQuery(
            200, "bad_data", "the query returns native histograms; wrap it in histogram_quantile()"
        )
    return item[key]


def _sample(point: list[Any]) -> Sample:
    timestamp, value = point
    return Sample(datetime.fromtimestamp(float(timestamp), UTC), float(value))


def backoff_delays(retries: int, backoff: float) -> tuple[float, ...]:
    """Seconds to wait before each retry: backoff, 2×backoff, 4×backoff, … at most 10 s."""
    return tuple(min(backoff * 2**n, MAX_BACKOFF) for n in range(retries))


def fit_step(start: datetime, end: datetime, step_seconds: float) -> float:
    """The step to ask for: `step_seconds`, raised to whole seconds when the range would
    otherwise exceed 11,000 points per series (Prometheus's limit)."""
    span = (end - start).total_seconds()
    if span / step_seconds <= MAX_POINTS:
        return step_seconds
    return float(math.ceil(span / MAX_POINTS))


class PrometheusClient:
    """Queries one Prometheus server over its HTTP API, on a session the caller owns.

    Requests are POSTed form-encoded (long queries do not hit URL limits). Prometheus is
    asked to give up after `timeout` seconds, and the client waits one second longer so
    the server's own timeout answer wins. `PrometheusUnavailable` failures are retried
    `retries` times, waiting `backoff`, 2×`backoff`, … (at most 10 s) between attempts;
    other errors are raised at once.
    """

    def __init__(
        self,
        base_url: str,
        session: aiohttp.ClientSession,
        *,
        timeout: float = 10,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(
                f"Prometheus URL {base_url!r} must be http(s)://host[:port][/prefix], "
                "e.g. http://prometheus:9090"
            )
        if parts.query or parts.fragment:
            raise ValueError(f"Prometheus URL {base_url!r} must not carry a query or fragment")
        if timeout <= 0:
            raise ValueError(f"timeout={timeout!r} must be > 0 seconds")
        if retries < 0:
            raise ValueError(f"retries={retries!r} must be >= 0")
        if backoff < 0:
            raise ValueError(f"backoff={backoff!r} must be >= 0 seconds")
        self.base_url = base_url.rstrip("/")
        self._session = session
        self._timeout = timeout
        self._retries = retries
        self._backoff = backoff

    async def query(self, expr: str, at: datetime) -> list[Series]:
        """Evaluate `expr` at instant `at`: one single-sample series per result element."""
        form = {"query": expr, "time": _unix(at), "timeout": f"{self._timeout:g}"}
        return await self._fetch("query", form)

    async def query_range(
        self, expr: str, start: datetime, end: datetime, step_seconds: float
    ) -> list[Series]:
        """Evaluate `expr` every `step_seconds` from `start` to `end` (inclusive).

        The step is raised up front if the range needs more than 11,000 points; if the
        server still answers "too many points", the range is split in halves on the same
        step grid and the results merged. Steps with no data are absent (there are no nulls).
        """
        for name, value in (("start", start), ("end", end)):
            if value.tzinfo is None:
                raise ValueError(f"{name}={value.isoformat()} is naive; pass an aware UTC time")
        if end < start:
            raise ValueError(f"end {end.isoformat()} is before start {start.isoformat()}")
        if not step_seconds > 0:
            raise ValueError(f"step_seconds={step_seconds!r} must be > 0")
        step_ms = max(1, round(fit_step(start, end, step_seconds) * 1000))
        start_ms = round(start.timestamp() * 1000)
        end_ms = round(end.timestamp() * 1000)
        return await self._fetch_range(expr, start_ms, end_ms, step_ms, 0)

    async def _fetch_range(
        self, expr: str, start_ms: int, end_ms: int, step_ms: int, depth: int
    ) -> list[Series]:
        form = {
            "query": expr,
            "start": _ms(start_ms),
            "end": _ms(end_ms),
            "step": _ms(step_ms),
            "timeout": f"{self._timeout:g}",
        }
        steps = (end_ms - start_ms) // step_ms
        try:
            return await self._fetch("query_range", form)
        except PrometheusTooManyPoints:
            if depth >= MAX_SPLITS or steps < 2:
                raise
        # Split on the step grid so both halves evaluate at the instants the whole would.
        middle = start_ms + (steps // 2) * step_ms
        left = await self._fetch_range(expr, start_ms, middle, step_ms, depth + 1)
        right = await self._fetch_range(expr, middle + step_ms, end_ms, step_ms, depth + 1)
        return merge_series(left, right)

    async def _fetch(self, endpoint: str, form: Mapping[str, str]) -> list[Series]:
        delays = backoff_delays(self._retries, self._backoff)
        for attempt in itertools.count(1):
            try:
                return await self._post(endpoint, form)
            except PrometheusError as exc:
                exc.attempts = attempt
                if not exc.retryable or attempt > len(delays):
                    raise
            await asyncio.sleep(delays[attempt - 1])
        raise AssertionError("unreachable")

    async def _post(self, endpoint: str, form: Mapping[str, str]) -> list[Series]:
        url = f"{self.base_url}/api/v1/{endpoint}"
        try:
            async with self._session.post(
                url,
                data=dict(form),
                headers={"Accept": "application/json"},
                timeout=aiohttp.ClientTimeout(total=self._timeout + 1),
            ) as response:
                body = await response.read()
                status = response.status
        except TimeoutError as exc:
            raise PrometheusUnavailable(
                None, "timeout", f"no answer from {url} within {self._timeout + 1:g} s"
            ) from exc
        except aiohttp.ClientError as exc:
            raise PrometheusUnavailable(
                None, "transport", f"{url}: {type(exc).__name__}: {exc}"
            ) from exc
        return parse_response(status, body)


def _unix(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError(f"time {at.isoformat()} is naive; pass an aware UTC time")
    return _ms(round(at.timestamp() * 1000))


def _ms(value: int) -> str:
    """Milliseconds as decimal seconds, the precision Prometheus keeps."""
    seconds, millis = divmod(value, 1000)
    return f"{seconds}.{millis:03d}"
