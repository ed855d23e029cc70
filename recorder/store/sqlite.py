"""Embedded SQLite backend: one writer connection (BEGIN IMMEDIATE), one reader, WAL mode."""

from __future__ import annotations

import asyncio
import contextlib
import math
import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite

from recorder.core.incident import Incident, IncidentStatus, IncidentView, Outcome, TimelineEntry
from recorder.core.join import JOIN_LOOKUP_LIMIT, JoinLookup, direct_only
from recorder.core.links import PAGED_KEY_PREFIX, sha256_hex
from recorder.prometheus.failures import SamplingFailure
from recorder.store import statements
from recorder.store.bulk_decode import decode_samples, decode_timeline
from recorder.store.codec import (
    ALERT_COLUMNS,
    DELIVERY_COLUMNS,
    FAILURE_COLUMNS,
    INCIDENT_COLUMNS,
    TIMELINE_COLUMNS,
    alert_values,
    build_alert,
    build_failure,
    build_incident,
    decode_micros,
    delivery_values,
    encode_micros,
    failure_values,
    incident_values,
    load_mapping,
    merge_failures,
    timeline_values,
)
from recorder.store.errors import (
    DataRejected,
    IncidentNotFound,
    NotMigrated,
    StorageMisconfigured,
    StorageUnavailable,
    StoreError,
)
from recorder.store.migrations import (
    latest_version,
    load_migrations,
    migrated_through,
    split_sqlite_script,
)
from recorder.store.protocol import (
    Choose,
    Decide,
    DecideExisting,
    IncidentPage,
    PageDelivery,
    SamplingTarget,
    StoredSample,
    check_lease_args,
)

T = TypeVar("T")
Body = Callable[[aiosqlite.Connection], Awaitable[T]]

BACKEND = "sqlite"
# The shared statements (recorder.store.statements) with SQLite's placeholders.
_sql = cache(statements.for_sqlite)

# Primary result codes meaning "the database cannot be used right now", not "bad SQL".
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_CORRUPT,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
        sqlite3.SQLITE_NOTADB,
    }
)

# SQLite's two-argument min()/max() are PostgreSQL's LEAST()/GREATEST().
_UPSERT_FAILURES = (
    f"INSERT INTO sampling_failures (incident_id, {', '.join(FAILURE_COLUMNS)})"
    f" VALUES (?, {', '.join('?' for _ in FAILURE_COLUMNS)})"
    " ON CONFLICT (incident_id, signal, cause) DO UPDATE SET"
    " count = sampling_failures.count + excluded.count,"
    " first_at = min(sampling_failures.first_at, excluded.first_at),"
    " last_at = max(sampling_failures.last_at, excluded.last_at),"
    " error = CASE WHEN excluded.last_at >= sampling_failures.last_at"
    " THEN excluded.error ELSE sampling_failures.error END,"
    " source = CASE WHEN excluded.last_at >= sampling_failures.last_at"
    " THEN excluded.source ELSE sampling_failures.source END"
)
_INCIDENT_SELECT = statements.SELECT_INCIDENTS
_INSERT_INCIDENT = (
    f"INSERT INTO incidents ({', '.join(INCIDENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in INCIDENT_COLUMNS)})"
)
_UPDATE_INCIDENT = (
    f"UPDATE incidents SET {', '.join(f'{c} = ?' for c in INCIDENT_COLUMNS[1:])} WHERE id = ?"
)
_SELECT_ALERTS = (
    f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts WHERE incident_id = ? "
    "ORDER BY starts_at, fingerprint"
)
_UPSERT_ALERT = (
    f"INSERT INTO alerts (incident_id, {', '.join(ALERT_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' for _ in ALERT_COLUMNS)}) "
    "ON CONFLICT (incident_id, fingerprint, starts_at) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ALERT_COLUMNS[2:])
)
_INSERT_TIMELINE = (
    f"INSERT INTO timeline (incident_id, {', '.join(TIMELINE_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' for _ in TIMELINE_COLUMNS)})"
)
_SELECT_RELATED = (
    f"{_INCIDENT_SELECT} WHERE id < ? AND (json_extract(labels, '$.alertname') = ? "
    "OR json_extract(labels, '$.service') = ?) ORDER BY id DESC LIMIT ?"
)
# BEGIN IMMEDIATE serializes lease takers (also across processes), so reading the
# candidates and then writing their leases in the same transaction cannot race.
_SELECT_LEASE_CANDIDATES = (
    "SELECT i.id, i.labels, i.started_at, i.resolved_at, i.status FROM incidents i "
    "LEFT JOIN sampling_leases l ON l.incident_id = i.id "
    "WHERE (i.status <> 'resolved' "
    " OR (i.resolved_at >= :since AND l.backfilled_for IS NOT i.resolved_at)) "
    "AND (l.holder IS NULL OR l.holder = :holder OR l.expires_at <= :now) "
    "ORDER BY i.id LIMIT :limit"
)
_UPSERT_LEASE = (
    "INSERT INTO sampling_leases (incident_id, holder, expires_at) VALUES (?, ?, ?) "
    "ON CONFLICT (incident_id) DO UPDATE SET holder = excluded.holder, "
    "expires_at = excluded.expires_at"
)
_ADOPTABLE = (
    f"{_INCIDENT_SELECT} WHERE link_key = ? AND correlation_key LIKE ? "
    f"ORDER BY id DESC LIMIT {JOIN_LOOKUP_LIMIT}"
)
_INSERT_DELIVERY = (
    f"INSERT INTO pagerduty_deliveries ({', '.join(DELIVERY_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in DELIVERY_COLUMNS)}) ON CONFLICT (event_id) DO NOTHING"
)
_CREATE_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
    "applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
)


@contextlib.contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn sqlite3 errors into domain errors; the driver's never leak out."""
    try:
        yield
    except sqlite3.Error as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(exc, sqlite3.OperationalError) and (
            code is None or code & 0xFF in _UNAVAILABLE_CODES
        ):
            raise StorageUnavailable(BACKEND, f"{type(exc).__name__}: {exc}") from exc
        if isinstance(exc, sqlite3.ProgrammingError) and "closed" in str(exc):
            raise StorageUnavailable(BACKEND, "connection is closed") from exc
        if isinstance(exc, sqlite3.DataError):  # SQLITE_TOOBIG and the like
            raise DataRejected(BACKEND, f"{type(exc).__name__}: {exc}") from exc
        raise StoreError(f"sqlite rejected the operation: {type(exc).__name__}: {exc}") from exc
    except UnicodeEncodeError as exc:  # binding text with a lone surrogate
        raise DataRejected(BACKEND, f"text that is not valid Unicode: {exc.reason}") from exc
    except OSError as exc:
        raise StorageUnavailable(BACKEND, f"{type(exc).__name__}: {exc}") from exc


# Opening the file failed for good: it cannot be created, written, or is no database.
_MISCONFIGURED_CODES = frozenset(
    {sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_PERM}
)


@contextlib.contextmanager
def _misconfiguration_at_open(path: str) -> Iterator[None]:
    """At open, a path that cannot be created or written is a configuration error."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(exc, OSError) or (code is not None and code & 0xFF in _MISCONFIGURED_CODES):
            raise StorageMisconfigured(
                BACKEND,
                f"cannot create or write {path}: {type(exc).__name__}: {exc}",
                hint="point RECORDER_DATABASE_URL at a SQLite file the recorder's user can "
                "create and write (its directory is created if missing)",
            ) from exc
        raise


async def _rollback_quietly(conn: aiosqlite.Connection) -> None:
    # The original error is what matters; a failed rollback (disk gone) adds nothing.
    with contextlib.suppress(sqlite3.Error, ValueError):
        await conn.rollback()


class SqliteStore:
    """Store in one SQLite file.

    Writes go through one connection guarded by an asyncio lock and `BEGIN IMMEDIATE`,
    which also serializes writers in other processes (busy_timeout waits for them).
    Reads use a second connection: WAL lets them run beside a write.
    Times are stored as integer microseconds since the epoch (see 0001_init.sql).
    """

    backend = BACKEND

    def __init__(self, path: str | Path, *, busy_timeout: float = 5.0) -> None:
        path = str(path)
        if not path:
            raise ValueError("SQLite database path must not be empty")
        if busy_timeout <= 0:
            raise ValueError(f"busy_timeout must be positive seconds, got {busy_timeout!r}")
        self._path = path
        self._busy_timeout_ms = int(busy_timeout * 1000)
        self._memory = path == ":memory:"
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._connect_lock = asyncio.Lock()
        self._write_lock = asyncio.Lock()
        # An in-memory database exists once per connection: readers share the writer.
        self._read_lock = self._write_lock if self._memory else asyncio.Lock()
        self._closed = False

    @property
    def path(self) -> str:
        """The database file (or ":memory:")."""
        return self._path

    async def start(self) -> None:
        """Open the file (creating its directory). Raises StorageUnavailable."""
        await self._connections()

    async def close(self) -> None:
        """Close both connections; later calls raise StorageUnavailable."""
        self._closed = True
        async with self._connect_lock:
            connections = {id(c): c for c in (self._writer, self._reader) if c is not None}
            self._writer = self._reader = None
            for conn in connections.values():
                with contextlib.suppress(sqlite3.Error, ValueError):
                    await conn.close()

    async def migrate(self) -> list[int]:
        """Apply pending migrations, each in its own IMMEDIATE transaction."""
        writer, _ = await self._connections()
        applied: list[int] = []
        async with self._write_lock:
            with _translated_errors():
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
                        await _rollback_quietly(writer)
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

    async def record(
        self,
        correlation_key: str,
        decide: Decide,
        *,
        link_key: str | None = None,
        choose: Choose | None = None,
    ) -> Outcome:
        """Look up the key's newest incident and the PagerDuty-opened ones with
        `link_key`, choose, load, decide, persist; serialized by IMMEDIATE."""

        async def body(conn: aiosqlite.Connection) -> Outcome:
            lookup = JoinLookup(await _load_newest(conn, correlation_key))
            if link_key is not None:
                params = (link_key, f"{PAGED_KEY_PREFIX}%")
                lookup = JoinLookup(lookup.direct, await _load_incidents(conn, _ADOPTABLE, params))
            view = await _load_chosen(conn, lookup, choose)
            outcome = decide(view)
            await _write_outcome(conn, outcome)
            return outcome

        return await self._write(body)

    async def record_page(
        self,
        delivery: PageDelivery,
        *,
        pagerduty_id: str,
        link_key: str | None,
        decide: Decide,
        choose: Choose | None = None,
    ) -> Outcome | None:
        """Log the delivery (None when already logged), look up the paged incident and
        the ones with `link_key`, choose, load, decide, persist; serialized by IMMEDIATE."""

        async def body(conn: aiosqlite.Connection) -> Outcome | None:
            if not await _insert_delivery(conn, delivery, "stored"):
                return None
            lookup = JoinLookup(await _load_one(conn, "pagerduty_id = ?", (pagerduty_id,)))
            if link_key is not None:
                lookup = JoinLookup(
                    lookup.direct,
                    await _load_incidents(conn, _sql(statements.SELECT_LINKED), (link_key,)),
                )
            view = await _load_chosen(conn, lookup, choose)
            outcome = decide(view)
            await _write_outcome(conn, outcome)
            incident = outcome.incident
            await conn.execute(
                _sql(statements.UPDATE_DELIVERY),
                (
                    delivery.event_id,
                    None if incident is None else incident.id,
                    "unmatched" if incident is None else "stored",
                ),
            )
            return outcome

        return await self._write(body)

    async def record_ignored(self, delivery: PageDelivery) -> bool:
        """Log a delivery that is not applied; False when it was logged before."""
        return await self._write(lambda conn: _insert_delivery(conn, delivery, "ignored"))

    async def update(self, incident_id: str, decide: DecideExisting) -> Outcome:
        """Load one incident by id, decide, persist. Raises IncidentNotFound."""

        async def body(conn: aiosqlite.Connection) -> Outcome:
            view = await _load_view(conn, incident_id)
            outcome = decide(view)
            await _write_outcome(conn, outcome)
            return outcome

        return await self._write(body)

    async def record_silence(
        self, incident_id: str, silence_id: str, decide: DecideExisting, *, now: datetime
    ) -> Outcome | None:
        """None when the silence was applied to the incident before; else load, decide,
        and when that changed something, persist it and remember the silence."""

        async def body(conn: aiosqlite.Connection) -> Outcome | None:
            cursor = await conn.execute(_sql(statements.SILENCE_APPLIED), (incident_id, silence_id))
            if await cursor.fetchone() is not None:
                return None
            outcome = decide(await _load_view(conn, incident_id))
            if outcome.changed:
                await _write_outcome(conn, outcome)
                await conn.execute(
                    _sql(statements.INSERT_SILENCE), (incident_id, silence_id, encode_micros(now))
                )
            return outcome

        return await self._write(body)

    async def load(self, incident_id: str) -> IncidentView:
        """One incident with its alerts. Raises IncidentNotFound."""
        return await self._read(lambda conn: _load_view(conn, incident_id))

    async def load_timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Timeline by time, then insertion order. Raises IncidentNotFound."""

        async def body(conn: aiosqlite.Connection) -> list[TimelineEntry]:
            cursor = await conn.execute(_sql(statements.SELECT_TIMELINE), (incident_id,))
            rows = await cursor.fetchall()
            if not rows:
                await _load_incident(conn, incident_id)  # raises when absent
            return decode_timeline(rows, decode_micros)

        return await self._read(body)

    async def list_incidents(
        self, *, status: IncidentStatus | None, open_only: bool, limit: int, cursor: str | None
    ) -> IncidentPage:
        """Newest start first; `next_cursor` is None on the last page. Raises InvalidCursor."""
        sql, params = statements.list_incidents_query(
            status=status,
            open_only=open_only,
            limit=limit,
            cursor=cursor,
            encode_time=encode_micros,
        )

        async def body(conn: aiosqlite.Connection) -> list[Incident]:
            rows = await (await conn.execute(_sql(sql), params)).fetchall()
            return [build_incident(row, decode_micros) for row in rows]

        return statements.incident_page(await self._read(body), limit)

    async def find_related(self, incident: Incident, *, limit: int) -> list[Incident]:
        """Earlier incidents sharing the alertname or service label, newest first."""
        alertname = incident.labels.get("alertname")
        service = incident.labels.get("service")
        if limit < 1 or (alertname is None and service is None):
            return []

        async def body(conn: aiosqlite.Connection) -> list[Incident]:
            params = (incident.id, alertname, service, limit)
            rows = await (await conn.execute(_SELECT_RELATED, params)).fetchall()
            return [build_incident(row, decode_micros) for row in rows]

        return await self._read(body)

    async def count_open(self) -> int:
        """How many incidents are not resolved."""

        async def body(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute(statements.COUNT_OPEN)
            row = await cursor.fetchone()
            return int(row[0]) if row is not None else 0

        return await self._read(body)

    async def save_samples(self, incident_id: str, samples: Sequence[StoredSample]) -> int:
        """Insert the batch in one transaction; repeated samples are ignored.

        Raises IncidentNotFound when the incident does not exist.
        """
        if not samples:
            return 0
        rows = [
            (
                incident_id,
                s.signal,
                encode_micros(s.at),
                None if math.isnan(s.value) else s.value,
            )
            for s in samples
        ]

        async def body(conn: aiosqlite.Connection) -> int:
            await _load_incident(conn, incident_id)  # raises when absent
            cursor = await conn.executemany(
                "INSERT INTO samples (incident_id, signal, at, value) VALUES (?, ?, ?, ?) "
                "ON CONFLICT DO NOTHING",
                rows,
            )
            return max(cursor.rowcount, 0)

        return await self._write(body)

    async def load_samples(self, incident_id: str) -> dict[str, list[tuple[datetime, float]]]:
        """Every sample of the incident per signal, in time order ({} when none)."""

        async def body(conn: aiosqlite.Connection) -> dict[str, list[tuple[datetime, float]]]:
            cursor = await conn.execute(
                "SELECT signal, at, value FROM samples WHERE incident_id = ? ORDER BY signal, at",
                (incident_id,),
            )
            return decode_samples(await cursor.fetchall(), decode_micros)

        return await self._read(body)

    async def last_sample_times(self, incident_id: str) -> dict[str, datetime]:
        """The newest stored sample time per signal ({} when none)."""

        async def body(conn: aiosqlite.Connection) -> dict[str, datetime]:
            cursor = await conn.execute(
                _sql(statements.SELECT_LAST_SAMPLES),
                (incident_id,),
            )
            return {signal: decode_micros(at) for signal, at in await cursor.fetchall()}

        return await self._read(body)

    async def acquire_leases(
        self,
        holder: str,
        *,
        now: datetime,
        ttl: timedelta,
        resolved_since: datetime,
        limit: int,
    ) -> list[SamplingTarget]:
        """Take or renew leases in one write transaction (see Store.acquire_leases)."""
        check_lease_args(ttl, limit)
        params = {
            "holder": holder,
            "now": encode_micros(now),
            "since": encode_micros(resolved_since),
            "limit": limit,
        }
        expires = encode_micros(now + ttl)

        async def body(conn: aiosqlite.Connection) -> list[SamplingTarget]:
            rows = await (await conn.execute(_SELECT_LEASE_CANDIDATES, params)).fetchall()
            await conn.executemany(_UPSERT_LEASE, [(row[0], holder, expires) for row in rows])
            return [
                SamplingTarget(
                    incident_id=row["id"],
                    labels=load_mapping(row["labels"]),
                    started_at=decode_micros(row["started_at"]),
                    resolved_at=(
                        decode_micros(row["resolved_at"])
                        if row["resolved_at"] is not None and row["status"] == "resolved"
                        else None
                    ),
                )
                for row in rows
            ]

        return await self._write(body)

    async def release_leases(self, holder: str) -> int:
        """Free every lease `holder` has; returns how many."""

        async def body(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute(
                _sql(statements.RELEASE_LEASES),
                (holder,),
            )
            return max(cursor.rowcount, 0)

        return await self._write(body)

    async def mark_backfilled(self, incident_id: str, holder: str, resolved_at: datetime) -> bool:
        """Record the backfill for `resolved_at` and free the lease, if still held."""

        async def body(conn: aiosqlite.Connection) -> bool:
            cursor = await conn.execute(
                _sql(statements.MARK_BACKFILLED),
                (incident_id, holder, encode_micros(resolved_at)),
            )
            return cursor.rowcount > 0

        return await self._write(body)

    async def save_unsampled(self, incident_id: str, signal: str, reason: str) -> None:
        """Upsert why `signal` is not sampled. Raises IncidentNotFound."""

        async def body(conn: aiosqlite.Connection) -> None:
            await _load_incident(conn, incident_id)  # raises when absent
            await conn.execute(
                _sql(statements.UPSERT_UNSAMPLED),
                (incident_id, signal, reason),
            )

        await self._write(body)

    async def load_unsampled(self, incident_id: str) -> dict[str, str]:
        """Signal -> reason it was not sampled ({} when none)."""

        async def body(conn: aiosqlite.Connection) -> dict[str, str]:
            cursor = await conn.execute(
                _sql(statements.SELECT_UNSAMPLED),
                (incident_id,),
            )
            return {str(row[0]): str(row[1]) for row in await cursor.fetchall()}

        return await self._read(body)

    async def save_sampling_failures(
        self, incident_id: str, failures: Sequence[SamplingFailure]
    ) -> None:
        """Add the failures up per (signal, cause) in one transaction. Raises
        IncidentNotFound."""
        rows = [(incident_id, *failure_values(f, encode_micros)) for f in merge_failures(failures)]
        if not rows:
            return

        async def body(conn: aiosqlite.Connection) -> None:
            await _load_incident(conn, incident_id)  # raises when absent
            await conn.executemany(_UPSERT_FAILURES, rows)

        await self._write(body)

    async def load_sampling_failures(self, incident_id: str) -> list[SamplingFailure]:
        """The incident's sampling failures by signal, then cause."""

        async def body(conn: aiosqlite.Connection) -> list[SamplingFailure]:
            cursor = await conn.execute(_sql(statements.SELECT_FAILURES), (incident_id,))
            return [build_failure(row, decode_micros) for row in await cursor.fetchall()]

        return await self._read(body)

    async def _connections(self) -> tuple[aiosqlite.Connection, aiosqlite.Connection]:
        """The writer and reader, opened on first use (and again after a failed start)."""
        if self._closed:
            raise StorageUnavailable(BACKEND, "store is closed")
        writer, reader = self._writer, self._reader
        if writer is not None and reader is not None:
            return writer, reader
        async with self._connect_lock:
            if self._writer is None:
                self._writer = await self._open()
            if self._reader is None:
                self._reader = self._writer if self._memory else await self._open()
            return self._writer, self._reader

    async def _open(self) -> aiosqlite.Connection:
        with _translated_errors(), _misconfiguration_at_open(self._path):
            if not self._memory:
                await asyncio.to_thread(Path(self._path).parent.mkdir, parents=True, exist_ok=True)
            # isolation_level=None: this module issues BEGIN/COMMIT itself.
            conn = await aiosqlite.connect(self._path, isolation_level=None)
            try:
                conn.row_factory = aiosqlite.Row
                await conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
                await conn.execute("PRAGMA foreign_keys = ON")
                # For migration 0003's backfill of link keys; SQLite has no SHA-256.
                await conn.create_function("sha256_hex", 1, sha256_hex, deterministic=True)
                if not self._memory:
                    await conn.execute("PRAGMA journal_mode = WAL")
                    # Safe with WAL: a power loss may drop the last commits, never corrupt.
                    await conn.execute("PRAGMA synchronous = NORMAL")
            except BaseException:
                await conn.close()
                raise
            return conn

    async def _write(self, body: Body[T]) -> T:
        writer, _ = await self._connections()
        async with self._write_lock:
            with _translated_errors():
                await writer.execute("BEGIN IMMEDIATE")
                try:
                    result = await body(writer)
                    await writer.execute("COMMIT")
                except BaseException:
                    await _rollback_quietly(writer)
                    raise
                return result

    async def _read(self, body: Body[T]) -> T:
        _, reader = await self._connections()
        async with self._read_lock:
            with _translated_errors():
                # One read transaction: a multi-query read sees a single snapshot.
                await reader.execute("BEGIN")
                try:
                    return await body(reader)
                finally:
                    await _rollback_quietly(reader)


async def _load_incident(conn: aiosqlite.Connection, incident_id: str) -> Incident:
    cursor = await conn.execute(f"{_INCIDENT_SELECT} WHERE id = ?", (incident_id,))
    row = await cursor.fetchone()
    if row is None:
        raise IncidentNotFound(incident_id)
    return build_incident(row, decode_micros)


async def _load_alerts(conn: aiosqlite.Connection, incident: Incident) -> IncidentView:
    rows = await (await conn.execute(_SELECT_ALERTS, (incident.id,))).fetchall()
    alerts = (build_alert(row, decode_micros) for row in rows)
    return IncidentView(incident, {alert.key: alert for alert in alerts})


async def _load_view(conn: aiosqlite.Connection, incident_id: str) -> IncidentView:
    return await _load_alerts(conn, await _load_incident(conn, incident_id))


async def _load_newest(conn: aiosqlite.Connection, correlation_key: str) -> IncidentView | None:
    cursor = await conn.execute(
        f"{_INCIDENT_SELECT} WHERE correlation_key = ? ORDER BY id DESC LIMIT 1",
        (correlation_key,),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    return await _load_alerts(conn, build_incident(row, decode_micros))


async def _load_one(
    conn: aiosqlite.Connection, where: str, params: tuple[Any, ...]
) -> IncidentView | None:
    cursor = await conn.execute(f"{_INCIDENT_SELECT} WHERE {where}", params)
    row = await cursor.fetchone()
    if row is None:
        return None
    return await _load_alerts(conn, build_incident(row, decode_micros))


async def _load_incidents(
    conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]
) -> tuple[Incident, ...]:
    rows = await (await conn.execute(sql, params)).fetchall()
    return tuple(build_incident(row, decode_micros) for row in rows)


async def _load_chosen(
    conn: aiosqlite.Connection, lookup: JoinLookup, choose: Choose | None
) -> IncidentView | None:
    """The chosen incident with its alerts (IMMEDIATE already excludes other writers)."""
    chosen = (choose or direct_only)(lookup)
    if chosen is None:
        return None
    if lookup.direct is not None and lookup.direct.incident.id == chosen.id:
        return lookup.direct
    return await _load_view(conn, chosen.id)


async def _insert_delivery(
    conn: aiosqlite.Connection, delivery: PageDelivery, outcome: str
) -> bool:
    values = delivery_values(replace(delivery, outcome=outcome), encode_micros)
    cursor = await conn.execute(_INSERT_DELIVERY, values)
    return cursor.rowcount == 1


async def _write_outcome(conn: aiosqlite.Connection, outcome: Outcome) -> None:
    incident = outcome.incident
    if incident is None:
        if outcome.alerts or outcome.timeline:
            raise ValueError("an Outcome without an incident cannot carry alerts or timeline")
        return
    values = incident_values(incident, encode_micros)
    if outcome.created:
        await conn.execute(_INSERT_INCIDENT, values)
    elif outcome.incident_changed:
        cursor = await conn.execute(_UPDATE_INCIDENT, (*values[1:], incident.id))
        if cursor.rowcount == 0:
            raise IncidentNotFound(incident.id)
    if outcome.alerts:
        await conn.executemany(
            _UPSERT_ALERT,
            [(incident.id, *alert_values(alert, encode_micros)) for alert in outcome.alerts],
        )
    if outcome.timeline:
        await conn.executemany(
            _INSERT_TIMELINE,
            [(incident.id, *timeline_values(e, encode_micros)) for e in outcome.timeline],
        )
