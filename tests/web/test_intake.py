"""Webhook bodies without a Content-Length: read whole, held to the body limit."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import fixture_bytes
from tests.web.conftest import MakeClient


async def post_chunked(client: TestClient[Any, Any], body: bytes) -> tuple[int, dict[str, Any]]:
    """POST `body` in two chunks, the whole request in one write (it arrives at once)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    half = len(body) // 2
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(part), part) for part in (body[:half], body[half:]) if part
    )
    writer.write(
        b"POST /webhooks/alertmanager HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n"
    )
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 10)
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.partition(b"\r\n\r\n")[2])


async def test_an_undeclared_body_over_the_limit_is_refused(make_client: MakeClient) -> None:
    """No Content-Length to check first: the body read is still held to body_limit."""
    client = await make_client(body_limit=2048)
    status, problem = await post_chunked(client, b"[" + b" " * 4096 + b"]")
    assert status == 413
    assert "2048" in problem["detail"]
    incidents = await (await client.get("/api/v1/incidents")).json()
    assert incidents["incidents"] == []


async def test_an_undeclared_body_within_the_limit_is_stored(make_client: MakeClient) -> None:
    """A chunked delivery within the limit is read whole and recorded."""
    client = await make_client()
    status, answer = await post_chunked(client, fixture_bytes("alertmanager_firing.json"))
    assert status == 200
    assert answer["status"] == "stored"
    assert len(answer["incidents"]) == 1


async def test_webhook_answers_carry_the_security_headers(make_client: MakeClient) -> None:
    """JSON answers, accepted or refused, get nosniff and no-referrer and no page policy."""
    client = await make_client()
    sent = {"Content-Type": "application/json"}
    ok = await client.post(
        "/webhooks/alertmanager", data=fixture_bytes("alertmanager_firing.json"), headers=sent
    )
    refused = await client.post("/webhooks/alertmanager", data=b"{", headers=sent)
    assert (ok.status, refused.status) == (200, 400)
    assert ok.headers["Content-Type"] == "application/json; charset=utf-8"
    assert refused.headers["Content-Type"] == "application/problem+json"
    for resp in (ok, refused):
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "no-referrer"
        assert "Content-Security-Policy" not in resp.headers
        assert len(resp.headers["X-Request-Id"]) == 16
