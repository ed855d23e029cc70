"""Migration files: naming, ordering and statement splitting."""

from __future__ import annotations

import pytest

from recorder.store.migrations import (
    MigrationFileError,
    latest_version,
    load_migrations,
    migrated_through,
    pending_migrations,
    split_sqlite_script,
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migrations_are_numbered_upwards_from_one(backend: str) -> None:
    """Each backend ships unique versions from 1 upwards (gaps allowed: reserved numbers),
    and latest_version is the highest."""
    versions = [m.version for m in load_migrations(backend)]
    assert versions[0] == 1
    assert versions == sorted(set(versions))
    assert latest_version(backend) == versions[-1]


def test_readiness_needs_every_shipped_version_not_only_the_highest() -> None:
    """A database that has the newest migration but lacks an older one is not migrated."""
    versions = [m.version for m in load_migrations("sqlite")]
    assert migrated_through("sqlite", set(versions)) == versions[-1]
    assert migrated_through("sqlite", set(versions) - {versions[1]}) == versions[0]
    assert migrated_through("sqlite", set()) == 0


def test_both_backends_ship_the_same_versions() -> None:
    """A schema change lands for both backends under the same version and name."""
    sqlite = [(m.version, m.name) for m in load_migrations("sqlite")]
    postgres = [(m.version, m.name) for m in load_migrations("postgres")]
    assert sqlite == postgres


def test_pending_migrations_skip_applied_versions() -> None:
    """Only versions not yet applied are pending, oldest first."""
    assert pending_migrations("sqlite", {1}) == list(load_migrations("sqlite")[1:])


def test_sqlite_script_splits_on_statement_ends_only() -> None:
    """Semicolons in strings, comments and trigger bodies do not split statements."""
    script = """
    -- a comment; with a semicolon
    CREATE TABLE t (x TEXT DEFAULT ';');
    CREATE TRIGGER tr AFTER INSERT ON t BEGIN
        UPDATE t SET x = 'a;b';
    END;
    -- trailing comment
    """
    statements = split_sqlite_script(script)
    assert len(statements) == 2
    assert statements[1].startswith("CREATE TRIGGER")
    assert statements[1].endswith("END;")


def test_sqlite_script_rejects_an_unterminated_statement() -> None:
    """A final statement without its semicolon is a broken migration file."""
    with pytest.raises(MigrationFileError, match="incomplete"):
        split_sqlite_script("CREATE TABLE t (x TEXT);\nCREATE TABLE u (y TEXT)")
