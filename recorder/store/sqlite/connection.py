"""The writer and reader connections: open lazily, one transaction per call."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import TypeVar

import aiosqlite

from recorder.core.links import sha256_hex
from recorder.store import statements
from recorder.store.errors import StorageUnavailable
from recorder.store.sqlite.driver_errors import BACKEND, misconfiguration_at_open, translated_errors

T = TypeVar("T")
Body = Callable[[aiosqlite.Connection], Awaitable[T]]

# The shared statements (recorder.store.statements) with SQLite's placeholders.
sqlite_sql = cache(statements.for_sqlite)


async def rollback_quietly(conn: aiosqlite.Connection) -> None:
    # The original error is what matters; a failed rollback (disk gone) adds nothing.
    with contextlib.suppress(sqlite3.Error, ValueError):
        await conn.rollback()


class SqliteConnections:
    """The connections to one SQLite file every role of the store runs its work on.

    Writes go through one connection guarded by an asyncio lock and `BEGIN IMMEDIATE`,
    which also serializes writers in other processes (busy_timeout waits for them).
    Reads use a second connection: WAL lets them run beside a write.
    Times are stored as integer microseconds since the epoch (see 0001_init.sql).
    """

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        path = str(path)
        if not path:
            raise ValueError("SQLite database path must not be empty")
        if busy_timeout <= 0:
            raise ValueError(f"busy_timeout must be positive seconds, got {busy_timeout!r}")
        self._path = path
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._memory = path == ":memory:"
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._connect_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        # An in-memory database exists once per connection: readers share the writer.
        self._read_lock = self._write_lock if self._memory else asyncio.Lock()
        self._closed = False

    @property
    def path(self) -> str:
        """The database file (or ":memory:")."""
        return self._path

    async def start(self) -> None:
        """Open the file (creating its directory). Raises StorageUnavailable."""
        await self._connections()

    async def close(self) -> None:
        """Close both connections; later calls raise StorageUnavailable."""
        self._closed = True
        async with self._connect_lock:
            connections = {id(c): c for c in (self._writer, self._reader) if c is not None}
            self._writer = self._reader = None
            for conn in connections.values():
                with contextlib.suppress(sqlite3.Error, ValueError):
                    await conn.close()

    async def _connections(self) -> tuple[aiosqlite.Connection, aiosqlite.Connection]:
        """The writer and reader, opened on first use (and again after a failed start)."""
        if self._closed:
            raise StorageUnavailable(BACKEND, "store is closed")
        writer, reader = self._writer, self._reader
        if writer is not None and reader is not None:
            return writer, reader
        async with self._connect_lock:
            if self._writer is None:
                self._writer = await self._open()
            if self._reader is None:
                self._reader = self._writer if self._memory else await self._open()
            return self._writer, self._reader

    async def _open(self) -> aiosqlite.Connection:
        with translated_errors(), misconfiguration_at_open(self._path):
            if not self._memory:
                await asyncio.to_thread(Path(self._path).parent.mkdir, parents=True, exist_ok=True)
            # isolation_level=None: this module issues BEGIN/COMMIT itself.
            conn = await aiosqlite.connect(self._path, isolation_level=None)
            try:
                conn.row_factory = aiosqlite.Row
                await conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
                await conn.execute("PRAGMA foreign_keys = ON")
                # For migration 0003's backfill of link keys; SQLite has no SHA-256.
                await conn.create_function("sha256_hex", 1, sha256_hex, deterministic=True)
                if not self._memory:
                    await conn.execute("PRAGMA journal_mode = WAL")
                    # Safe with WAL: a power loss may drop the last commits, never corrupt.
                    await conn.execute("PRAGMA synchronous = NORMAL")
            except BaseException:
                await conn.close()
                raise
            return conn

    async def _write(self, body: Body[T]) -> T:
        writer, _ = await self._connections()
        async with self._write_lock:
            with translated_errors():
                await writer.execute("BEGIN IMMEDIATE")
                try:
                    result = await body(writer)
                    await writer.execute("COMMIT")
                except BaseException:
                    await rollback_quietly(writer)
                    raise
                return result

    async def _read(self, body: Body[T]) -> T:
        _, reader = await self._connections()
        async with self._read_lock:
            with translated_errors():
                # One read transaction: a multi-query read sees a single snapshot.
                await reader.execute("BEGIN")
                try:
                    return await body(reader)
                finally:
                    await rollback_quietly(reader)
