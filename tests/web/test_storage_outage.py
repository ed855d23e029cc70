"""PostgreSQL going away: 503 fast so Alertmanager retries, and recovery without restart."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry

from recorder.settings import load_settings
from recorder.web.app import create_app
from tests.conftest import fixture_bytes
from tests.store.tcp_proxy import TcpProxy

JSON = {"Content-Type": "application/json"}
BODY = fixture_bytes("alertmanager_firing.json")
OTHER = fixture_bytes("alertmanager_multi_alert_group.json")


def via_port(dsn: str, port: int) -> str:
    parts = urlsplit(dsn)
    host = parts.hostname or "127.0.0.1"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}:{port}" if userinfo else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture
async def proxy(postgres_dsn: str) -> AsyncIterator[TcpProxy]:
    parts = urlsplit(postgres_dsn)
    p = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await p.start()
    yield p
    await p.stop()


async def client_for(aiohttp_client: Any, dsn: str) -> TestClient[Any, Any]:
    settings = load_settings(environ={"RECORDER_DATABASE_URL": dsn})
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(settings, registry=CollectorRegistry())
    )
    return client


async def timed_post(client: TestClient[Any, Any], body: bytes) -> tuple[int, float]:
    started = time.monotonic()
    resp = await client.post("/webhooks/alertmanager", data=body, headers=JSON)
    return resp.status, time.monotonic() - started


async def poll_until(check: Any, deadline_s: float) -> None:
    deadline = time.monotonic() + deadline_s
    while not await check():
        assert time.monotonic() < deadline, "condition not met before the deadline"
        await asyncio.sleep(0.1)


async def test_dead_dsn_answers_503_fast_and_readyz_fails(
    aiohttp_client: Any, postgres_base_dsn: str
) -> None:
    """With nothing listening at the DSN, the webhook answers 503 within 2 s."""
    client = await client_for(aiohttp_client, via_port(postgres_base_dsn, 1))
    status, took = await timed_post(client, BODY)
    assert status == 503
    assert took < 2.0
    resp = await client.get("/readyz")
    assert resp.status == 503
    assert resp.content_type == "application/problem+json"
    assert (await client.get("/healthz")).status == 200


async def test_database_outage_mid_run_then_recovery_without_restart(
    aiohttp_client: Any, postgres_dsn: str, proxy: TcpProxy
) -> None:
    """Stored → database gone (503 within 2 s, readyz fails) → back: next delivery stored."""
    client = await client_for(aiohttp_client, via_port(postgres_dsn, proxy.port))
    assert (await timed_post(client, BODY))[0] == 200

    await proxy.stop()
    status, took = await timed_post(client, OTHER)
    assert status == 503
    assert took < 2.0
    assert (await client.get("/readyz")).status == 503

    await proxy.start()

    async def stored() -> bool:
        return (await timed_post(client, OTHER))[0] == 200

    await poll_until(stored, 10)
    assert (await client.get("/readyz")).status == 200
    body = await (await client.get("/api/v1/incidents")).json()
    assert len(body["incidents"]) == 2


async def test_database_down_at_start_comes_up_later(
    aiohttp_client: Any, postgres_dsn: str, proxy: TcpProxy
) -> None:
    """Started while the database is down, the recorder migrates once it appears."""
    await proxy.stop()
    client = await client_for(aiohttp_client, via_port(postgres_dsn, proxy.port))
    assert (await timed_post(client, BODY))[0] == 503
    await proxy.start()

    async def ready() -> bool:
        return (await client.get("/readyz")).status == 200

    await poll_until(ready, 15)
    assert (await timed_post(client, BODY))[0] == 200
