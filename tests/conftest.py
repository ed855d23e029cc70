"""Shared fixtures: real PostgreSQL schemas, SQLite files, and the external-binary policy.

In CI (`CI=true`) a missing PostgreSQL, Prometheus, Alertmanager or Chromium fails the
test; on a developer laptop the test skips and says what is missing.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

FIXTURES = Path(__file__).parent / "fixtures"
DEFAULT_TEST_DSN = "postgresql://postgres@127.0.0.1:5432/test"


def in_ci() -> bool:
    """True when running under CI, where nothing may be skipped for a missing service."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(reason: str) -> None:
    """Fail in CI, skip elsewhere, with the same clear reason."""
    if in_ci():
        pytest.fail(f"CI=true and {reason}", pytrace=False)
    pytest.skip(reason)


def require_binary(*names: str) -> str:
    """Path of the first binary found on PATH, or fail/skip naming the Debian package."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    missing(f"none of {', '.join(names)} is on PATH (apt-get install the Debian package)")
    raise AssertionError("unreachable")


def fixture_bytes(name: str) -> bytes:
    """Exact bytes of a recorded payload under tests/fixtures/."""
    return (FIXTURES / name).read_bytes()


@pytest.fixture(scope="session")
def postgres_base_dsn() -> str:
    """DSN of the test PostgreSQL server, checked reachable once per session."""
    dsn = os.environ.get("RECORDER_TEST_POSTGRES_DSN", DEFAULT_TEST_DSN)

    async def probe() -> str | None:
        try:
            conn = await asyncpg.connect(dsn, timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            return f"{type(exc).__name__}: {exc}"
        await conn.close()
        return None

    error = asyncio.run(probe())
    if error is not None:
        missing(f"PostgreSQL at {dsn} is not reachable ({error}); set RECORDER_TEST_POSTGRES_DSN")
    return dsn


def _with_search_path(dsn: str, schema: str) -> str:
    sep = "&" if "?" in dsn else "?"
    return f"{dsn}{sep}search_path={schema}"


@pytest.fixture
def postgres_dsn(postgres_base_dsn: str) -> Iterator[str]:
    """A DSN whose search_path is a fresh, empty schema, dropped after the test."""
    schema = f"rt_{uuid.uuid4().hex[:12]}"

    async def run(sql: str) -> None:
        conn = await asyncpg.connect(postgres_base_dsn)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run(f"CREATE SCHEMA {schema}"))
    try:
        yield _with_search_path(postgres_base_dsn, schema)
    finally:
        asyncio.run(run(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """URL of a fresh SQLite database file."""
    return f"sqlite:///{tmp_path / 'recorder.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database URL, once per backend: the contract suites run on both."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'recorder.db'}"
    dsn: str = request.getfixturevalue("postgres_dsn")
    return dsn
