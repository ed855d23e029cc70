"""Schema migrations and the readiness check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

from recorder.store.migrations import (
    CREATE_SCHEMA_MIGRATIONS,
    INSERT_APPLIED,
    SELECT_APPLIED,
    pending_migrations,
)
from recorder.store.postgres.pool import BACKEND, PostgresPool
from recorder.store.roles import SchemaRole

if TYPE_CHECKING:
    from recorder.store.postgres.pool import Connection

_MIGRATION_LOCK = "hashtextextended('incident-recorder migrate ' || current_schema(), 0)"


class PostgresSchema(SchemaRole, PostgresPool):
    """Migrating the schema and checking it is current."""

    async def migrate(self) -> list[int]:
        """Apply pending migrations, one transaction each, under an advisory lock so
        replicas starting together do not race. Uses its own connection: no command
        timeout applies to DDL."""
        with self._translated_errors():
            conn = await asyncpg.connect(self._dsn, timeout=self._connect_timeout)
            try:
                await conn.execute(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
                await conn.execute(CREATE_SCHEMA_MIGRATIONS[BACKEND])
                rows = await conn.fetch(SELECT_APPLIED)
                applied: list[int] = []
                for migration in pending_migrations(BACKEND, {r["version"] for r in rows}):
                    async with conn.transaction():
                        await conn.execute(migration.sql)
                        await conn.execute(INSERT_APPLIED, migration.version, migration.name)
                    applied.append(migration.version)
                await conn.execute(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
            finally:
                await conn.close(timeout=self._close_timeout)
            if applied and self._pool is not None:
                # Pooled sessions may hold statements prepared against the old schema.
                await self._pool.expire_connections()
        return applied

    async def _applied_versions(self) -> set[int]:
        async def work(conn: Connection) -> set[int]:
            try:
                rows = await conn.fetch(SELECT_APPLIED)
            except asyncpg.UndefinedTableError:
                return set()
            return {row["version"] for row in rows}

        return await self._run(work, begin=None)
