"""Schema migrations and the readiness check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import asyncpg

from recorder.store.errors import NotMigrated
from recorder.store.migrations import latest_version, migrated_through, pending_migrations
from recorder.store.postgres.pool import BACKEND, PostgresPool

if TYPE_CHECKING:
    from recorder.store.postgres.pool import Connection

_MIGRATION_LOCK = "hashtextextended('incident-recorder migrate ' || current_schema(), 0)"
_CREATE_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version integer PRIMARY KEY, name text NOT NULL, "
    "applied_at timestamptz NOT NULL DEFAULT now())"
)


class PostgresSchema(PostgresPool):
    """Migrating the schema and checking it is current."""

    async def migrate(self) -> list[int]:
        """Apply pending migrations, one transaction each, under an advisory lock so
        replicas starting together do not race. Uses its own connection: no command
        timeout applies to DDL."""
        with self._translated_errors():
            conn = await asyncpg.connect(self._dsn, timeout=self._connect_timeout)
            try:
                await conn.execute(f"SELECT pg_advisory_lock({_MIGRATION_LOCK})")
                await conn.execute(_CREATE_SCHEMA_MIGRATIONS)
                rows = await conn.fetch("SELECT version FROM schema_migrations")
                applied: list[int] = []
                for migration in pending_migrations(BACKEND, {r["version"] for r in rows}):
                    async with conn.transaction():
                        await conn.execute(migration.sql)
                        await conn.execute(
                            "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                            migration.version,
                            migration.name,
                        )
                    applied.append(migration.version)
                await conn.execute(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK})")
            finally:
                await conn.close(timeout=self._close_timeout)
            if applied and self._pool is not None:
                # Pooled sessions may hold statements prepared against the old schema.
                await self._pool.expire_connections()
        return applied

    async def check_ready(self) -> None:
        """One cheap query: raise StorageUnavailable or NotMigrated unless usable."""
        expected = latest_version(BACKEND)

        async def read_version(conn: Connection) -> int:
            try:
                rows = await conn.fetch("SELECT version FROM schema_migrations")
            except asyncpg.UndefinedTableError:
                return 0
            return migrated_through(BACKEND, {r["version"] for r in rows})

        current = await self._run(read_version, begin=None)
        if current < expected:
            raise NotMigrated(current, expected)
