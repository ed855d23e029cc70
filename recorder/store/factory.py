"""Choose and build the storage backend from a database URL."""

from __future__ import annotations

from recorder.store.postgres import PostgresStore
from recorder.store.protocol import Store
from recorder.store.sqlite import SqliteStore

_FORMS = (
    "sqlite:///relative/path.db, sqlite:////absolute/path.db or postgresql://user:pass@host:port/db"
)


def open_store(database_url: str) -> Store:
    """The store for `database_url`, not yet started.

    `sqlite:///relative.db` and `sqlite:////abs.db` open an embedded SQLite file;
    `postgresql://...` and `postgres://...` use PostgreSQL through asyncpg. Anything else
    raises ValueError naming the accepted forms (never echoing a password).
    """
    scheme, sep, rest = database_url.partition("://")
    if not sep:
        raise ValueError(f"database URL has no scheme: use {_FORMS}")
    scheme = scheme.lower()
    if scheme == "sqlite":
        return SqliteStore(parse_sqlite_path(rest))
    if scheme in {"postgresql", "postgres"}:
        return PostgresStore(database_url)
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use {_FORMS}")


def parse_sqlite_path(rest: str) -> str:
    """The file path of a SQLite URL, given what follows `sqlite://`.

    Three slashes mean a relative path, four an absolute one (SQLAlchemy's convention).
    """
    if not rest.startswith("/"):
        raise ValueError(
            "SQLite URL must have an empty host: sqlite:///relative/path.db or "
            f"sqlite:////absolute/path.db, got sqlite://{rest}"
        )
    path = rest[1:]
    if not path or path.endswith("/"):
        raise ValueError(f"SQLite URL names no database file: sqlite://{rest}")
    if "?" in path or "#" in path:
        raise ValueError(f"SQLite URL must not carry query parameters: sqlite://{rest}")
    return path
