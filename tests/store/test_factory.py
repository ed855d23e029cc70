"""open_store picks the backend from the database URL and rejects anything else precisely."""

from __future__ import annotations

import pytest

from recorder.store.factory import open_store
from recorder.store.postgres import PostgresStore
from recorder.store.sqlite import SqliteStore


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///recorder.db", "recorder.db"),
        ("sqlite:///./data/recorder.db", "./data/recorder.db"),
        ("sqlite:////var/lib/recorder/recorder.db", "/var/lib/recorder/recorder.db"),
        ("SQLITE:///x.db", "x.db"),
    ],
)
def test_sqlite_urls_open_the_named_file(url: str, path: str) -> None:
    """Three slashes name a relative path, four an absolute one."""
    store = open_store(url)
    assert isinstance(store, SqliteStore)
    assert store.path == path


@pytest.mark.parametrize(
    "url", ["postgresql://u:p@db:5432/recorder", "postgres://db/recorder", "postgresql:///x"]
)
def test_postgres_urls_open_a_postgres_store(url: str) -> None:
    """postgresql:// and postgres:// select the asyncpg backend."""
    assert isinstance(open_store(url), PostgresStore)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:hunter2@db/recorder", "unsupported database URL scheme 'mysql'"),
        ("postgresql+asyncpg://u:hunter2@db/x", "unsupported database URL scheme"),
        ("recorder.db", "no scheme"),
        ("sqlite://recorder.db", "empty host"),
        ("sqlite:///", "names no database file"),
        ("sqlite:///data/", "names no database file"),
        ("sqlite:///x.db?mode=ro", "query parameters"),
    ],
)
def test_other_urls_are_rejected_with_a_precise_message(url: str, message: str) -> None:
    """Unsupported or malformed URLs raise ValueError naming the problem, never the password."""
    with pytest.raises(ValueError, match="sqlite:///") as caught:
        open_store(url)
    assert message in str(caught.value)
    assert "hunter2" not in str(caught.value)
