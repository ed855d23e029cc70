"""RFC 9457 problem+json responses, and the one table mapping errors to HTTP status."""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from aiohttp import web

from alert_adapters.errors import PayloadInvalid, PayloadNotJSON, UnsupportedVersion
from recorder.store.errors import (
    DataRejected,
    IncidentNotFound,
    InvalidCursor,
    NotMigrated,
    StorageUnavailable,
)
from recorder.web.keys import LOG, LOG_FIELDS
from recorder.web.parsing import ParserUnavailable

PROBLEM_TYPE = "https://incident-recorder.dev/problems/"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Problem(Exception):
    """An error the client must see as problem+json: status, short title, detail."""

    def __init__(
        self, status: int, title: str, detail: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.headers = headers or {}


def problem_response(
    status: int, title: str, detail: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> web.Response:
    """A problem+json response; `type` names the problem by its slugged title."""
    slug = title.lower().replace(" ", "-")
    body = {"type": PROBLEM_TYPE + slug, "title": title, "status": status, "detail": detail}
    body.update(extra)
    return web.Response(
        status=status,
        body=json.dumps(body).encode(),
        content_type="application/problem+json",
        headers=headers,
    )


def _as_problem(exc: BaseException) -> Problem | None:
    """The one table from domain errors to HTTP answers."""
    if isinstance(exc, Problem):
        return exc
    if isinstance(exc, PayloadNotJSON):
        return Problem(400, "Invalid JSON", str(exc))
    if isinstance(exc, UnsupportedVersion):
        return Problem(400, "Unsupported payload version", str(exc))
    if isinstance(exc, PayloadInvalid):
        return Problem(422, "Payload does not match the schema", str(exc))
    if isinstance(exc, IncidentNotFound):
        return Problem(404, "Incident not found", str(exc))
    if isinstance(exc, InvalidCursor):
        return Problem(400, "Invalid cursor", str(exc))
    if isinstance(exc, DataRejected):
        # The sender must not retry: the same value would be refused again.
        return Problem(422, "Storage refused a value", f"{exc}; nothing was stored")
    if isinstance(exc, StorageUnavailable | NotMigrated):
        return Problem(
            503,
            "Storage unavailable",
            f"{exc}; nothing was stored, retry later",
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, ParserUnavailable):
        return Problem(503, "Parser unavailable", str(exc), headers={"Retry-After": "5"})
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return Problem(
            413, "Payload too large", "the body exceeds the configured limit (body_limit)"
        )
    return None


@web.middleware
async def problems_and_access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn errors into problem+json and write one log line per request with a request id."""
    log = request.app[LOG]
    request_id = request.headers.get("X-Request-Id")
    if request_id is None or not _REQUEST_ID.fullmatch(request_id):
        request_id = os.urandom(8).hex()  # a client's id goes into every log line: checked
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    fields: dict[str, Any] = {}
    request[LOG_FIELDS] = fields
    try:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            mapped = _as_problem(exc)
            if mapped is None:
                if exc.status < 400:
                    raise
                mapped = Problem(exc.status, exc.reason, exc.text or exc.reason)
            raise mapped from exc
    except Exception as exc:
        problem = _as_problem(exc)
        extra: dict[str, str] = {}
        if problem is None:
            # A bug or an unclassified storage error: the id ties the answer to the log.
            error_id = uuid.uuid4().hex[:12]
            log.exception(
                "request_failed", method=request.method, path=request.path, error_id=error_id
            )
            problem = Problem(
                500,
                "Internal error",
                f"unexpected error {error_id}; the recorder's log has it as error_id",
            )
            extra["error_id"] = error_id
        response = problem_response(
            problem.status, problem.title, problem.detail, headers=problem.headers, **extra
        )
        fields["problem"] = problem.detail
    finally:
        structlog.contextvars.unbind_contextvars("request_id")
    response.headers["X-Request-Id"] = request_id
    status = response.status
    emit = log.warning if status >= 500 else log.info
    emit(
        "request_handled",
        method=request.method,
        path=request.path,
        status=status,
        duration_ms=round((time.perf_counter() - started) * 1000, 2),
        request_id=request_id,
        **fields,
    )
    return response
