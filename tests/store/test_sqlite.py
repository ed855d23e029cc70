"""SQLite specifics: file handling, lock timeouts and the stored time representation."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from recorder.store.errors import StorageUnavailable
from recorder.store.sqlite import SqliteStore
from tests.store.builders import T0, make_incident, open_if_absent


async def test_start_creates_the_parent_directory(tmp_path: Path) -> None:
    """A database path in a missing directory is created on start."""
    store = SqliteStore(tmp_path / "nested" / "dir" / "recorder.db")
    try:
        await store.start()
        await store.migrate()
        await store.check_ready()
    finally:
        await store.close()
    assert (tmp_path / "nested" / "dir" / "recorder.db").is_file()


async def test_writer_locked_past_busy_timeout_is_unavailable(tmp_path: Path) -> None:
    """Another process holding the write lock past busy_timeout makes record StorageUnavailable."""
    path = tmp_path / "recorder.db"
    store = SqliteStore(path, busy_timeout=0.2)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        await store.start()
        await store.migrate()
        other.execute("BEGIN IMMEDIATE")
        began = time.monotonic()
        incident = make_incident()
        with pytest.raises(StorageUnavailable) as caught:
            await store.record(incident.correlation_key, open_if_absent(incident))
        assert time.monotonic() - began < 2
        assert caught.value.backend == "sqlite"
        other.execute("ROLLBACK")

        outcome = await store.record(incident.correlation_key, open_if_absent(incident))
        assert outcome.created
    finally:
        other.close()
        await store.close()


async def test_unopenable_file_is_unavailable_and_start_can_be_retried(tmp_path: Path) -> None:
    """A path that cannot be opened raises StorageUnavailable; once fixed, start succeeds."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a directory should be")
    store = SqliteStore(blocker / "recorder.db")
    try:
        with pytest.raises(StorageUnavailable):
            await store.start()
        blocker.unlink()
        await store.start()
        await store.migrate()
    finally:
        await store.close()


async def test_times_are_stored_as_sortable_epoch_microseconds(tmp_path: Path) -> None:
    """started_at lands in the file as integer microseconds since the epoch."""
    path = tmp_path / "recorder.db"
    store = SqliteStore(path)
    incident = make_incident()
    try:
        await store.start()
        await store.migrate()
        await store.record(incident.correlation_key, open_if_absent(incident))
    finally:
        await store.close()
    with sqlite3.connect(path) as conn:
        (detected,) = conn.execute("SELECT detected_at FROM incidents").fetchone()
    assert detected == int(T0.timestamp()) * 1_000_000 + T0.microsecond


async def test_in_memory_database_works_on_one_connection() -> None:
    """ ":memory:" keeps reads and writes on the same connection, so it sees its own data."""
    store = SqliteStore(":memory:")
    incident = make_incident()
    try:
        await store.start()
        await store.migrate()
        await store.record(incident.correlation_key, open_if_absent(incident))
        assert (await store.load(incident.id)).incident == incident
    finally:
        await store.close()


async def test_closed_store_refuses_calls(tmp_path: Path) -> None:
    """After close(), calls raise StorageUnavailable."""
    store = SqliteStore(tmp_path / "recorder.db")
    await store.start()
    await store.close()
    with pytest.raises(StorageUnavailable, match="closed"):
        await store.count_open()


def test_constructor_rejects_bad_options() -> None:
    """An empty path or a non-positive busy_timeout fails at construction."""
    with pytest.raises(ValueError, match="empty"):
        SqliteStore("")
    with pytest.raises(ValueError, match="busy_timeout"):
        SqliteStore("x.db", busy_timeout=0)
