"""The asyncpg pool: connect lazily, run work in one transaction, translate errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, TypeAlias, TypeVar
from urllib.parse import urlsplit

import asyncpg

from recorder.store.errors import DataRejected, StorageMisconfigured, StorageUnavailable, StoreError
from recorder.store.postgres.driver_errors import (
    ABORT_ERRORS,
    DATA_ERRORS,
    MISCONFIGURED_ERRORS,
    MISCONFIGURED_HINT,
    STALE_CONNECTION_ERRORS,
    UNAVAILABLE_ERRORS,
)

T = TypeVar("T")
if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = PoolConnectionProxy[asyncpg.Record]
    Work: TypeAlias = Callable[[Connection], Awaitable[T]]

BACKEND = "postgres"


async def _keep_session(_connection: object) -> None:
    """Pool reset hook: skip asyncpg's default reset query (one round trip per release).

    This store keeps no session state: advisory locks are transaction-scoped, no
    LISTEN, no SET. asyncpg still rolls back a transaction left open before calling this.
    """


class PostgresPool:
    """The asyncpg pool every role of the store runs its work on.

    The pool is created in `start()`, or lazily on the next call when the server was
    unreachable then, so a store started against a dead server recovers by itself.
    Connect, acquire and command timeouts bound how long a call can hang when the
    server goes away: such calls raise StorageUnavailable.
    """

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        connect_timeout: float = 1.5,
        acquire_timeout: float = 1.5,
        command_timeout: float = 1.5,
        close_timeout: float = 5.0,
        application_name: str = "incident-recorder",
    ) -> None:
        scheme = urlsplit(dsn).scheme
        if scheme not in {"postgresql", "postgres"}:
            raise ValueError(f"PostgreSQL DSN must start with postgresql://, got {scheme!r}://")
        if max_size < 1:
            raise ValueError(f"max_size must be at least 1, got {max_size}")
        if not 0 <= min_size <= max_size:
            raise ValueError(f"min_size must be within 0..max_size ({max_size}), got {min_size}")
        for name, value in (
            ("connect_timeout", connect_timeout),
            ("acquire_timeout", acquire_timeout),
            ("command_timeout", command_timeout),
            ("close_timeout", close_timeout),
        ):
            if value <= 0:
                raise ValueError(f"{name} must be positive seconds, got {value!r}")
        self._dsn = dsn
        self._password = urlsplit(dsn).password
        self._min_size = min_size
        self._max_size = max_size
        self._connect_timeout = connect_timeout
        self._acquire_timeout = acquire_timeout
        self._command_timeout = command_timeout
        self._close_timeout = close_timeout
        self._application_name = application_name
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None
        self._pool_lock = asyncio.Lock()
        self._closed = False

    async def start(self) -> None:
        """Create the pool. Raises StorageUnavailable; the next call then tries again."""
        await self._ensure_pool()

    async def close(self) -> None:
        """Wait for connections in use (up to close_timeout), then terminate the rest."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), self._close_timeout)
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            pool.terminate()

    def terminate(self) -> None:
        """Close every connection now, without waiting for work in progress."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.terminate()

    async def _ensure_pool(self) -> asyncpg.Pool[asyncpg.Record]:
        if self._closed:
            raise StorageUnavailable(BACKEND, "store is closed")
        pool = self._pool
        if pool is not None:
            return pool
        async with self._pool_lock:
            if self._pool is None:
                with self._translated_errors():
                    self._pool = await asyncio.wait_for(
                        asyncpg.create_pool(
                            self._dsn,
                            min_size=self._min_size,
                            max_size=self._max_size,
                            timeout=self._connect_timeout,
                            command_timeout=self._command_timeout,
                            reset=_keep_session,
                            server_settings={"application_name": self._application_name},
                        ),
                        # Pool start connects min_size connections concurrently.
                        self._connect_timeout * 2,
                    )
            return self._pool

    async def _run(self, work: Work[T], *, begin: str | None = "BEGIN") -> T:
        """Run `work` on a pooled connection inside the transaction `begin` opens
        (None: no transaction, for single reads), committing when it returns.

        A pooled connection can die while idle (server restart, network blip) before
        the client notices. When it fails before anything took effect (BEGIN, or a
        read), the call is retried once on a fresh connection.
        """
        with self._translated_errors():
            for attempt in (1, 2):
                pool = await self._ensure_pool()
                conn = await self._acquire(pool)
                try:
                    try:
                        if begin is None:
                            return await work(conn)
                        await conn.execute(begin)
                    except STALE_CONNECTION_ERRORS:
                        conn.terminate()
                        if attempt == 1:
                            continue
                        raise
                    except ABORT_ERRORS:
                        # Unknown whether BEGIN took effect: drop the connection.
                        conn.terminate()
                        raise
                    return await _complete(conn, work)
                finally:
                    await pool.release(conn, timeout=self._acquire_timeout)
            raise AssertionError("unreachable")

    async def _acquire(self, pool: asyncpg.Pool[asyncpg.Record]) -> Connection:
        """A pooled connection within the acquire timeout (TimeoutError after it).

        What `pool.acquire(timeout=...)` does, without the task asyncpg's wait_for
        starts for every acquire (on Python 3.11): a timer on this task instead. The
        release gets the same timeout, as asyncpg gives it after a timed acquire.
        """
        async with asyncio.timeout(self._acquire_timeout):
            return await pool.acquire()

    @contextlib.contextmanager
    def _translated_errors(self) -> Iterator[None]:
        """Turn asyncpg and socket errors into domain errors, without the DSN's secret."""
        try:
            yield
        except MISCONFIGURED_ERRORS as exc:
            raise StorageMisconfigured(
                BACKEND, self._describe(exc), hint=MISCONFIGURED_HINT
            ) from exc
        except UNAVAILABLE_ERRORS as exc:
            raise StorageUnavailable(BACKEND, self._describe(exc)) from exc
        except DATA_ERRORS as exc:
            raise DataRejected(BACKEND, self._describe(exc)) from exc
        except UnicodeEncodeError as exc:  # text with a lone surrogate, encoded here
            raise DataRejected(BACKEND, f"text that is not valid Unicode: {exc.reason}") from exc
        except asyncpg.PostgresError as exc:
            raise StoreError(f"postgres rejected the operation: {self._describe(exc)}") from exc

    def _describe(self, exc: BaseException) -> str:
        text = str(exc) or ("timed out" if isinstance(exc, TimeoutError) else "")
        reason = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        if self._password:
            reason = reason.replace(self._password, "***")
        return reason


async def _complete(conn: Connection, work: Work[T]) -> T:
    """Run `work` in the open transaction, then commit; roll back on error."""
    try:
        result = await work(conn)
        await conn.execute("COMMIT")
    except UNAVAILABLE_ERRORS:
        # The link is dead or hung: waiting on a rollback would only stretch the outage.
        conn.terminate()
        raise
    except BaseException:
        try:
            await conn.execute("ROLLBACK")
        except ABORT_ERRORS:
            conn.terminate()
        raise
    return result
