"""PostgreSQL outages: fail fast with StorageUnavailable, recover without a restart."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from recorder.store.errors import NotMigrated, StorageUnavailable
from recorder.store.migrations import load_migrations
from recorder.store.postgres import PostgresStore
from tests.store.builders import at, make_incident, open_if_absent
from tests.store.tcp_proxy import TcpProxy

pytestmark = pytest.mark.postgres

DEAD_DSN = "postgresql://recorder:s3cret-pw@127.0.0.1:1/recorder"


@pytest.fixture
async def stores() -> AsyncIterator[list[PostgresStore]]:
    """PostgresStores the test creates, closed afterwards."""
    created: list[PostgresStore] = []
    yield created
    for store in created:
        await store.close()


def _store(stores: list[PostgresStore], dsn: str) -> PostgresStore:
    store = PostgresStore(dsn, application_name=f"rt-{uuid.uuid4().hex[:12]}")
    stores.append(store)
    return store


async def _record_new(store: PostgresStore, seconds: float) -> None:
    incident = make_incident(key=f"k{seconds}", created=at(seconds))
    outcome = await store.record(incident.correlation_key, open_if_absent(incident))
    assert outcome.created


async def test_dead_dsn_fails_fast_without_leaking_the_password(
    stores: list[PostgresStore],
) -> None:
    """start, record and check_ready on a refused port raise StorageUnavailable within 2 s."""
    store = _store(stores, DEAD_DSN)
    for call in (store.start, lambda: _record_new(store, 0), store.check_ready, store.migrate):
        began = time.monotonic()
        with pytest.raises(StorageUnavailable) as caught:
            await call()
        assert time.monotonic() - began < 2
        assert caught.value.backend == "postgres"
        assert "s3cret-pw" not in str(caught.value)


async def test_terminated_backends_are_replaced_on_the_next_call(
    stores: list[PostgresStore], postgres_dsn: str, postgres_base_dsn: str
) -> None:
    """After pg_terminate_backend kills the pool's connections, the next record succeeds."""
    store = _store(stores, postgres_dsn)
    await store.start()
    await store.migrate()
    await _record_new(store, 0)

    admin = await asyncpg.connect(postgres_base_dsn)
    try:
        killed = await admin.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = $1",
            store._application_name,
        )
    finally:
        await admin.close()
    assert killed >= 1

    await _record_new(store, 1)
    assert await store.count_open() == 2


async def test_outage_mid_run_fails_fast_and_recovers(
    stores: list[PostgresStore], pg_proxy: TcpProxy, postgres_dsn: str
) -> None:
    """With the server gone, record raises StorageUnavailable within 2 s; once back, it works."""
    await pg_proxy.start()
    store = _store(stores, pg_proxy.dsn(postgres_dsn))
    await store.start()
    await store.migrate()
    await _record_new(store, 0)

    await pg_proxy.stop()
    began = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await _record_new(store, 1)
    assert time.monotonic() - began < 2
    with pytest.raises(StorageUnavailable):
        await store.check_ready()

    await pg_proxy.start()
    await _record_new(store, 2)
    await store.check_ready()
    assert await store.count_open() == 2


async def test_store_started_while_server_down_recovers_when_it_returns(
    stores: list[PostgresStore], pg_proxy: TcpProxy, postgres_dsn: str
) -> None:
    """A failed start() leaves the store usable: the pool is created on a later call."""
    await pg_proxy.start()
    await pg_proxy.stop()  # remember a port nobody listens on
    store = _store(stores, pg_proxy.dsn(postgres_dsn))
    with pytest.raises(StorageUnavailable):
        await store.start()

    await pg_proxy.start()
    with pytest.raises(NotMigrated):
        await store.check_ready()
    await store.migrate()
    await _record_new(store, 0)


async def test_stalled_server_times_out_within_two_seconds(
    stores: list[PostgresStore], pg_proxy: TcpProxy, postgres_dsn: str
) -> None:
    """With default timeouts, a server that accepts but never answers fails record within 2 s."""
    await pg_proxy.start()
    store = _store(stores, pg_proxy.dsn(postgres_dsn))
    await store.start()
    await store.migrate()
    pg_proxy.stall()

    began = time.monotonic()
    with pytest.raises(StorageUnavailable):
        await _record_new(store, 1)
    assert time.monotonic() - began < 2

    pg_proxy.resume()
    await pg_proxy.stop()
    await pg_proxy.start()
    await _record_new(store, 2)


async def test_concurrent_migrators_apply_each_version_once(
    stores: list[PostgresStore], postgres_dsn: str
) -> None:
    """Two replicas migrating at once apply every migration exactly once between them."""
    first, second = _store(stores, postgres_dsn), _store(stores, postgres_dsn)

    applied = await asyncio.gather(first.migrate(), second.migrate())

    shipped = [migration.version for migration in load_migrations("postgres")]
    assert sorted(applied[0] + applied[1]) == shipped
    await first.check_ready()


async def test_closed_store_refuses_calls(stores: list[PostgresStore], postgres_dsn: str) -> None:
    """After close(), calls raise StorageUnavailable instead of reconnecting."""
    store = _store(stores, postgres_dsn)
    await store.start()
    await store.close()
    with pytest.raises(StorageUnavailable, match="closed"):
        await store.count_open()


def test_constructor_rejects_bad_options() -> None:
    """Invalid pool options fail at construction with a message naming the option."""
    with pytest.raises(ValueError, match="max_size"):
        PostgresStore("postgresql://h/db", max_size=0)
    with pytest.raises(ValueError, match="min_size"):
        PostgresStore("postgresql://h/db", min_size=5, max_size=2)
    with pytest.raises(ValueError, match="command_timeout"):
        PostgresStore("postgresql://h/db", command_timeout=0)
    with pytest.raises(ValueError, match="postgresql://"):
        PostgresStore("mysql://h/db")
