"""Store fixtures: started, migrated stores over both backends, and a TCP proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from recorder.store.factory import open_store
from recorder.store.protocol import Store
from tests.store.tcp_proxy import TcpProxy

OpenStore = Callable[..., Awaitable[Store]]


@pytest.fixture
async def open_stores(database_url: str) -> AsyncIterator[OpenStore]:
    """Open started stores on the test database (migrated unless told not to); all closed after."""
    opened: list[Store] = []

    async def open_one(*, migrate: bool = True) -> Store:
        store = open_store(database_url)
        opened.append(store)
        await store.start()
        if migrate:
            await store.migrate()
        return store

    yield open_one
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_stores: OpenStore) -> Store:
    """A started, migrated store on a fresh database, once per backend."""
    return await open_stores()


@pytest.fixture
async def pg_proxy(postgres_base_dsn: str) -> AsyncIterator[TcpProxy]:
    """A loopback TCP proxy in front of the test PostgreSQL server, stopped after the test."""
    from urllib.parse import urlsplit

    parts = urlsplit(postgres_base_dsn)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    yield proxy
    await proxy.stop()
