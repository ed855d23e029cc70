"""Schema migrations and the readiness check."""

from __future__ import annotations

import aiosqlite

from recorder.store.errors import NotMigrated
from recorder.store.migrations import (
    latest_version,
    load_migrations,
    migrated_through,
    split_sqlite_script,
)
from recorder.store.sqlite.connection import SqliteConnections, rollback_quietly
from recorder.store.sqlite.driver_errors import BACKEND, translated_errors

_CREATE_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
)


class SqliteSchema(SqliteConnections):
    """Migrating the schema and checking it is current."""

    async def migrate(self) -> list[int]:
        """Apply pending migrations, each in its own IMMEDIATE transaction."""
        writer, _ = await self._connections()
        applied: list[int] = []
        async with self._write_lock:
            with translated_errors():
                await writer.execute(_CREATE_SCHEMA_MIGRATIONS)
                for migration in load_migrations(BACKEND):
                    await writer.execute("BEGIN IMMEDIATE")
                    try:
                        cursor = await writer.execute(
                            "SELECT 1 FROM schema_migrations WHERE version = ?",
                            (migration.version,),
                        )
                        if await cursor.fetchone() is None:
                            for statement in split_sqlite_script(migration.sql):
                                await writer.execute(statement)
                            await writer.execute(
                                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)",
                                (migration.version, migration.name),
                            )
                            applied.append(migration.version)
                        await writer.execute("COMMIT")
                    except BaseException:
                        await rollback_quietly(writer)
                        raise
        return applied

    async def check_ready(self) -> None:
        """Raise StorageUnavailable or NotMigrated unless the schema is current."""
        expected = latest_version(BACKEND)

        async def read_version(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
                ("schema_migrations",),
            )
            if await cursor.fetchone() is None:
                return 0
            cursor = await conn.execute("SELECT version FROM schema_migrations")
            applied = {int(row[0]) for row in await cursor.fetchall()}
            return migrated_through(BACKEND, applied)

        current = await self._read(read_version)
        if current < expected:
            raise NotMigrated(current, expected)
