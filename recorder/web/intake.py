"""Shared checks for webhook requests: content type and the body limit, before parsing."""

from __future__ import annotations

from aiohttp import web

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
