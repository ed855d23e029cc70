"""Schema migrations and the readiness check."""

from __future__ import annotations

import aiosqlite

from recorder.store.migrations import (
    CREATE_SCHEMA_MIGRATIONS,
    INSERT_APPLIED,
    SELECT_APPLIED,
    load_migrations,
    split_sqlite_script,
)
from recorder.store.roles import SchemaRole
from recorder.store.sqlite.connection import SqliteConnections, rollback_quietly, sqlite_sql
from recorder.store.sqlite.driver_errors import BACKEND, translated_errors


class SqliteSchema(SchemaRole, SqliteConnections):
    """Migrating the schema and checking it is current."""

    async def migrate(self) -> list[int]:
        """Apply pending migrations, each in its own IMMEDIATE transaction."""
        writer, _ = await self._connections()
        applied: list[int] = []
        async with self._write_lock:
            with translated_errors():
                await writer.execute(CREATE_SCHEMA_MIGRATIONS[BACKEND])
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
                                sqlite_sql(INSERT_APPLIED), (migration.version, migration.name)
                            )
                            applied.append(migration.version)
                        await writer.execute("COMMIT")
                    except BaseException:
                        await rollback_quietly(writer)
                        raise
        return applied

    async def _applied_versions(self) -> set[int]:
        async def body(conn: aiosqlite.Connection) -> set[int]:
            cursor = await conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
                ("schema_migrations",),
            )
            if await cursor.fetchone() is None:
                return set()
            cursor = await conn.execute(SELECT_APPLIED)
            return {int(row[0]) for row in await cursor.fetchall()}

        return await self._read(body)
