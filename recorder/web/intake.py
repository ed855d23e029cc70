"""Shared intake of webhook requests: content type, body limit, and counting each delivery."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from aiohttp import web

from alert_adapters.errors import PayloadError
from recorder.metrics import RecorderMetrics
from recorder.store.errors import DataRejected
from recorder.web.problems import Problem


def require_json(request: web.Request) -> None:
    """415 unless the Content-Type is JSON (application/json or a +json type); none is allowed."""
    if "Content-Type" not in request.headers:
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
    body = bytearray()
    async for chunk in request.content.iter_chunked(65536):
        body.extend(chunk)
        if len(body) > limit:
            raise Problem(
                413,
                "Payload too large",
                f"the body is over the limit of {limit} bytes (body_limit)",
            )
    return bytes(body)


@dataclass
class Delivery:
    """The outcome label of one webhook delivery, set by the handler as it goes."""

    outcome: str = "error"


@contextmanager
def counted_delivery(metrics: RecorderMetrics, source: str) -> Iterator[Delivery]:
    """Count one delivery by outcome and time it; rejections and errors are set here."""
    delivery = Delivery()
    started = time.perf_counter()
    try:
        yield delivery
    except Problem as exc:
        delivery.outcome = "rejected" if exc.status < 500 else "error"
        raise
    except (PayloadError, DataRejected):
        delivery.outcome = "rejected"
        raise
    except Exception:
        delivery.outcome = "error"
        raise
    finally:
        metrics.webhooks_received.labels(source=source, outcome=delivery.outcome).inc()
        metrics.webhook_duration.labels(source=source).observe(time.perf_counter() - started)
