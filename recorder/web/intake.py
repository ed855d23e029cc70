"""Shared intake of webhook requests: content type, body limit, and counting each delivery."""

from __future__ import annotations

import json
import time
from types import TracebackType

from aiohttp import web

from alert_adapters.errors import PayloadError
from recorder.metrics import DeliverySeries, RecorderMetrics
from recorder.store.errors import DataRejected
from recorder.web.problems import Problem


def require_json(request: web.Request) -> None:
    """415 unless the Content-Type is JSON (application/json or a +json type); none is allowed."""
    raw = request.headers.get("Content-Type")
    if raw is None or raw == "application/json":
        return
    mime = request.content_type
    if mime == "application/json" or mime.endswith("+json"):
        return
    raise Problem(
        415,
        "Unsupported media type",
        f"Content-Type {mime!r} is not JSON; send application/json",
    )


async def read_limited(request: web.Request, limit: int) -> bytes:
    """The raw body, refused with 413 past `limit` bytes (checked before reading when declared)."""
    declared = request.content_length
    if declared is not None and declared > limit:
        raise Problem(
            413,
            "Payload too large",
            f"the body is {declared} bytes, over the limit of {limit} bytes (body_limit)",
        )
    content = request.content
    if content.is_eof():  # it all came with the headers (a small body): take it as it is
        whole = content.read_nowait()
        if len(whole) > limit:
            raise Problem(
                413,
                "Payload too large",
                f"the body is over the limit of {limit} bytes (body_limit)",
            )
        return whole
    body = bytearray()
    async for chunk in content.iter_chunked(65536):
        body.extend(chunk)
        if len(body) > limit:
            raise Problem(
                413,
                "Payload too large",
                f"the body is over the limit of {limit} bytes (body_limit)",
            )
    return bytes(body)


class Delivery:
    """One webhook delivery, counted by outcome and timed when its block ends.

    The handler sets `outcome` as it goes; rejections and errors are set here.
    """

    __slots__ = ("_series", "_started", "outcome")

    def __init__(self, series: DeliverySeries) -> None:
        self.outcome = "error"
        self._series = series
        self._started = 0.0

    def __enter__(self) -> Delivery:
        self._started = time.perf_counter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if isinstance(exc, Problem):
            self.outcome = "rejected" if exc.status < 500 else "error"
        elif isinstance(exc, PayloadError | DataRejected):
            self.outcome = "rejected"
        elif isinstance(exc, Exception):
            self.outcome = "error"
        self._series.count(self.outcome, time.perf_counter() - self._started)


_JSON_UTF8 = {"Content-Type": "application/json; charset=utf-8"}


def delivery_answer(outcome: str, incident_ids: list[str]) -> web.Response:
    """200 `{"status": outcome, "incidents": [...]}`, byte for byte as `web.json_response`."""
    body = json.dumps({"status": outcome, "incidents": incident_ids}).encode()
    return web.Response(body=body, headers=_JSON_UTF8)


def counted_delivery(metrics: RecorderMetrics, source: str) -> Delivery:
    """Count one delivery by outcome and time it: `with counted_delivery(...) as d:`."""
    return Delivery(metrics.deliveries[source])
