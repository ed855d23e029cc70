"""Versioned SQL migrations: files `migrations/<backend>/NNNN_name.sql`, applied in order."""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from functools import cache
from importlib import resources

_FILE_NAME = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)\.sql$")

SCHEMA_MIGRATIONS_TABLE = "schema_migrations"
# The bookkeeping table, created before the first migration; the dialects differ only
# in the type and default of the time it was applied at.
CREATE_SCHEMA_MIGRATIONS = {
    "postgres": "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version integer PRIMARY KEY, name text NOT NULL, "
    "applied_at timestamptz NOT NULL DEFAULT now())",
    "sqlite": "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))",
}
SELECT_APPLIED = "SELECT version FROM schema_migrations"
# PostgreSQL's placeholders (SQLite's through recorder.store.statements.for_sqlite).
INSERT_APPLIED = "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"


@dataclass(frozen=True, slots=True)
class Migration:
    """One schema change: applied once, in one transaction, in version order."""

    version: int
    name: str
    sql: str


class MigrationFileError(Exception):
    """The migration files of a backend are misnamed, duplicated or have gaps."""


@cache
def load_migrations(backend: str) -> tuple[Migration, ...]:
    """All migrations shipped for `backend` ("sqlite" or "postgres"), oldest first.

    Versions are unique and at least 1. Gaps are allowed (a number can be reserved for
    work landing later), so readiness asks whether every shipped version is applied
    (`migrated_through`), not only the highest.
    """
    folder = resources.files("recorder.store").joinpath("migrations", backend)
    found: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.match(entry.name)
        if match is None:
            raise MigrationFileError(
                f"{backend} migration {entry.name!r} is not named NNNN_lower_snake.sql"
            )
        version = int(match["version"])
        if version in found:
            raise MigrationFileError(f"{backend} has two migrations with version {version}")
        found[version] = Migration(version, match["name"], entry.read_text(encoding="utf-8"))
    versions = sorted(found)
    if versions and versions[0] < 1:
        raise MigrationFileError(f"{backend} migration versions start at 1, found {versions}")
    return tuple(found[v] for v in versions)


def latest_version(backend: str) -> int:
    """The version the code expects: that of the newest migration file (0 if none)."""
    migrations = load_migrations(backend)
    return migrations[-1].version if migrations else 0


def migrated_through(backend: str, applied: set[int]) -> int:
    """The highest shipped version up to which every shipped migration is applied.

    With gaps or a late-landing lower version, `max(applied)` can overstate the schema;
    this does not. 0 when the first shipped migration is not applied.
    """
    through = 0
    for migration in load_migrations(backend):
        if migration.version not in applied:
            break
        through = migration.version
    return through


def pending_migrations(backend: str, applied: set[int]) -> list[Migration]:
    """Migrations of `backend` whose versions are not in `applied`, oldest first."""
    return [m for m in load_migrations(backend) if m.version not in applied]


def split_sqlite_script(sql: str) -> list[str]:
    """Split a SQL script into single statements (SQLite executes one at a time).

    `sqlite3.complete_statement` understands quotes, comments and trigger bodies, so a
    `;` inside them does not end a statement.
    """
    statements: list[str] = []
    *pieces, tail = sql.split(";")
    current = ""
    for piece in pieces:
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if _has_code(current):
                statements.append(current.strip())
            current = ""
    if _has_code(current + tail):
        raise MigrationFileError(f"incomplete SQL statement at the end: {current + tail!r}")
    return statements


def _has_code(sql: str) -> bool:
    lines = (line.split("--", 1)[0].strip() for line in sql.splitlines())
    return any(line.strip(";") for line in lines)
