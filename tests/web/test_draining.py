"""Draining state of the app: which connections are idle, and a request that starts after
bodies were cut short is answered 503 at once instead of waiting for a body that aiohttp
no longer reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from recorder.web.keys import DRAINING
from tests.web.conftest import MakeClient


async def test_a_body_still_arriving_after_the_cut_gets_503_at_once(
    make_client: MakeClient,
) -> None:
    client = await make_client()
    client.app[DRAINING].abort_unfinished_bodies()  # as aiohttp's shutdown signal does
    rest_sent = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield b'{"version": "4", "alerts": ['
        await rest_sent.wait()  # the rest never comes while the answer is awaited

    async with asyncio.timeout(10):
        resp = await client.post(
            "/webhooks/alertmanager",
            data=body(),
            headers={"Content-Type": "application/json"},
        )
    rest_sent.set()
    assert resp.status == 503
    assert resp.headers["Connection"] == "close"
    assert (await resp.json())["title"] == "Shutting down"


async def test_requests_without_a_body_are_still_served(make_client: MakeClient) -> None:
    client = await make_client()
    client.app[DRAINING].abort_unfinished_bodies()
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert resp.headers["Connection"] == "close"


async def test_idle_connections_are_those_without_a_request_in_flight(
    make_client: MakeClient,
) -> None:
    client = await make_client()
    server = client.server.runner.server
    assert server is not None
    state = client.app[DRAINING]
    assert state.idle(server.connections) == 0
    resp = await client.get("/healthz")  # kept alive afterwards: one idle connection
    await resp.read()
    assert state.idle(server.connections) == 1
