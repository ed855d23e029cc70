"""PostgreSQL backend on an asyncpg pool: one transaction and few round trips per write."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar
from urllib.parse import urlsplit

import asyncpg

from recorder.core.incident import Incident, IncidentStatus, IncidentView, Outcome, TimelineEntry
from recorder.core.links import PAGED_KEY_PREFIX
from recorder.store.codec import (
    ALERT_COLUMNS,
    DELIVERY_COLUMNS,
    INCIDENT_COLUMNS,
    TIMELINE_COLUMNS,
    alert_values,
    build_alert,
    build_delivery,
    build_incident,
    build_timeline_entry,
    decode_cursor,
    decode_utc,
    delivery_values,
    encode_cursor,
    encode_utc,
    incident_values,
    load_mapping,
    timeline_values,
)
from recorder.store.errors import (
    DataRejected,
    IncidentNotFound,
    NotMigrated,
    StorageUnavailable,
    StoreError,
)
from recorder.store.migrations import latest_version, migrated_through, pending_migrations
from recorder.store.protocol import (
    Decide,
    DecideExisting,
    IncidentPage,
    PageDelivery,
    SamplingTarget,
    StoredSample,
    check_lease_args,
)

T = TypeVar("T")
if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    Connection: TypeAlias = PoolConnectionProxy[asyncpg.Record]
    Work: TypeAlias = Callable[[Connection], Awaitable[T]]

BACKEND = "postgres"

# Errors meaning "the server cannot be used right now": the caller should retry later.
_UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,  # includes TimeoutError and refused/reset connections
    asyncpg.PostgresConnectionError,  # class 08, and "connection closed mid-operation"
    asyncpg.InterfaceError,  # closed connection or pool
    asyncpg.InternalClientError,  # protocol state broken by a dying connection
    asyncpg.exceptions.OperatorInterventionError,  # 57: shutdown, CannotConnectNow, cancel
    asyncpg.exceptions.InsufficientResourcesError,  # 53: too many connections, disk full
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,  # 28: bad role or password
    asyncpg.exceptions.InvalidCatalogNameError,  # 3D000: the database does not exist
)
# Errors about a value itself (class 22 data exceptions: NUL or invalid text, numbers and
# times out of range; class 54 program limits: an index entry over 2704 bytes). asyncpg
# raises DataError too when it cannot encode an argument on the client side.
_DATA_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.DataError,
    asyncpg.exceptions.ProgramLimitExceededError,
)
# After these the connection's state is unknown: terminate it rather than reuse it.
_ABORT_ERRORS: tuple[type[BaseException], ...] = (*_UNAVAILABLE_ERRORS, asyncio.CancelledError)
# Raised when a pooled connection died while idle; what failed on it took no effect
# and is retried once. Timeouts are not among them: retrying would double the wait.
_STALE_CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    # A killed backend's FATAL message can leave the client protocol mid-state.
    asyncpg.InternalClientError,
)

_COLUMNS = ", ".join(INCIDENT_COLUMNS)
_ALERT_AGGREGATES = ", ".join(
    f"array_agg({c} ORDER BY starts_at, fingerprint) AS alert_{c}" for c in ALERT_COLUMNS
)


def _view_query(where: str, *, lock: bool = False) -> str:
    """One incident (chosen by `where`) and its alerts as parallel arrays, one round trip."""
    return (
        f"SELECT i.*, {', '.join(f'a.alert_{c}' for c in ALERT_COLUMNS)} "
        f"FROM (SELECT {_COLUMNS} FROM incidents WHERE {where}"
        f"{' FOR UPDATE' if lock else ''}) AS i "
        f"LEFT JOIN LATERAL (SELECT {_ALERT_AGGREGATES} FROM alerts "
        "WHERE alerts.incident_id = i.id) AS a ON true"
    )


_LOAD_NEWEST = _view_query("correlation_key = $1 ORDER BY id DESC LIMIT 1")
_LOAD_BY_ID = _view_query("id = $1")
_LOAD_BY_ID_FOR_UPDATE = _view_query("id = $1", lock=True)
_SELECT_KEY = "SELECT correlation_key FROM incidents WHERE id = $1"
_OPEN_LINKED = "link_key = $1 AND status <> 'resolved'"
_LOAD_BY_PD = _view_query("pagerduty_id = $1")
_LOAD_OPEN_LINKED = _view_query(f"{_OPEN_LINKED} ORDER BY id DESC LIMIT 1")
_LOAD_ADOPTABLE = _view_query(f"{_OPEN_LINKED} AND correlation_key = $2")
_TARGET_BY_PD = "SELECT id, correlation_key, link_key FROM incidents WHERE pagerduty_id = $1"
_TARGET_BY_LINK = (
    f"SELECT id, correlation_key, link_key FROM incidents WHERE {_OPEN_LINKED} "
    "ORDER BY id DESC LIMIT 1"
)
# The key's newest incident, or (when there is none) the key of the PagerDuty-opened
# incident an Alertmanager group would adopt: one round trip for a new group, not two.
_LOAD_NEWEST_OR_ADOPTABLE_KEY = (
    "SELECT v.*, CASE WHEN v.id IS NULL THEN ("
    "SELECT correlation_key FROM incidents WHERE link_key = $2 AND status <> 'resolved' "
    "AND correlation_key LIKE $3 ORDER BY id DESC LIMIT 1) END AS adoptable_key "
    f"FROM (SELECT 1) AS one LEFT JOIN LATERAL ({_LOAD_NEWEST}) AS v ON true"
)
_PAGED_PATTERN = PAGED_KEY_PREFIX + "%"
_INSERT_DELIVERY = (
    f"INSERT INTO pagerduty_deliveries ({', '.join(DELIVERY_COLUMNS)}) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING RETURNING true"
)
_UPDATE_DELIVERY = (
    "UPDATE pagerduty_deliveries SET incident_id = $2, outcome = $3 WHERE event_id = $1"
)
_SELECT_DELIVERIES = (
    f"SELECT {', '.join(DELIVERY_COLUMNS)} FROM pagerduty_deliveries "
    "ORDER BY received_at DESC, event_id DESC LIMIT $1"
)
# Lock key namespaces beside correlation keys (which start with group:, labels:, ...).
_LINK_LOCK_PREFIX = "link:"
_PAGERDUTY_LOCK_PREFIX = "pagerduty-id:"
# How often a write is retried when its target moved between reading and locking.
_TARGET_ATTEMPTS = 5

_FLAG = len(INCIDENT_COLUMNS) + 1
_ALERT_PARAMS = range(_FLAG + 1, _FLAG + 1 + len(ALERT_COLUMNS))
_TIMELINE_PARAMS = range(_ALERT_PARAMS.stop, _ALERT_PARAMS.stop + len(TIMELINE_COLUMNS))
_TIME_COLUMNS = frozenset(
    {"started_at", "detected_at", "updated_at", "acknowledged_at", "resolved_at"}
    | {"pagerduty_status_at"}
    | {"starts_at", "ends_at", "received_at", "at"}
)
_JSON_COLUMNS = frozenset(
    {"labels", "annotations", "human", "links"}
    | {"figure_settings", "firing_text", "resolved_text"}
)


def _sql_type(column: str) -> str:
    """The PostgreSQL type of a column of incidents, alerts or timeline."""
    if column in _TIME_COLUMNS:
        return "timestamptz"
    if column in _JSON_COLUMNS:
        return "jsonb"
    return {"reopen_count": "integer", "derived": "boolean"}.get(column, "text")


def _param(column: str, number: int) -> str:
    """Parameter `number`, typed for `column`: INSERT ... SELECT does not infer types."""
    return f"${number}::{_sql_type(column)}"


def _array_param(column: str, number: int) -> str:
    """Parameter `number` as an array for `column` (JSON travels as text, cast per row)."""
    element = _sql_type(column)
    return f"${number}::{'text' if element == 'jsonb' else element}[]"


def _unnested(column: str) -> str:
    return f"u.{column}::jsonb" if column in _JSON_COLUMNS else f"u.{column}"


# Every write of an Outcome in one statement (one round trip): the incident row when it
# changed (flag), the alert upserts and the timeline rows from arrays. Foreign keys are
# checked at the end of the statement, so a new incident and its alerts go in together.
_WRITE_OUTCOME = (
    "WITH incident AS ("
    f" INSERT INTO incidents ({_COLUMNS})"
    f" SELECT {', '.join(map(_param, INCIDENT_COLUMNS, range(1, _FLAG)))}"
    f" WHERE ${_FLAG}::boolean"
    " ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in INCIDENT_COLUMNS[1:])
    + "), alert AS ("
    f" INSERT INTO alerts (incident_id, {', '.join(ALERT_COLUMNS)})"
    f" SELECT $1, {', '.join(_unnested(c) for c in ALERT_COLUMNS)}"
    " FROM unnest("
    + ", ".join(map(_array_param, ALERT_COLUMNS, _ALERT_PARAMS))
    + f") AS u({', '.join(ALERT_COLUMNS)})"
    " ON CONFLICT (incident_id, fingerprint, starts_at) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in ALERT_COLUMNS[2:])
    + ")"
    f" INSERT INTO timeline (incident_id, {', '.join(TIMELINE_COLUMNS)})"
    f" SELECT $1, {', '.join(f'u.{c}' for c in TIMELINE_COLUMNS)}"
    " FROM unnest("
    + ", ".join(map(_array_param, TIMELINE_COLUMNS, _TIMELINE_PARAMS))
    + f") WITH ORDINALITY AS u({', '.join(TIMELINE_COLUMNS)}, ord) ORDER BY u.ord"
)

_SELECT_TIMELINE = (
    f"SELECT {', '.join(TIMELINE_COLUMNS)} FROM timeline WHERE incident_id = $1 ORDER BY at, seq"
)
_SELECT_RELATED = (
    f"SELECT {_COLUMNS} FROM incidents WHERE id < $1 AND "
    "((labels ->> 'alertname') = $2 OR (labels ->> 'service') = $3) ORDER BY id DESC LIMIT $4"
)
_INSERT_SAMPLES = (
    "INSERT INTO samples (incident_id, signal, at, value) "
    "SELECT $1, * FROM unnest($2::text[], $3::timestamptz[], $4::float8[]) "
    "ON CONFLICT DO NOTHING"
)
# One row per signal with its samples as two arrays: decoding 4 arrays is far cheaper than
# 24,000 rows for a day of samples.
_SELECT_SAMPLES = (
    "SELECT signal, array_agg(at ORDER BY at) AS ats, array_agg(value ORDER BY at) AS vals "
    "FROM samples WHERE incident_id = $1 GROUP BY signal ORDER BY signal"
)
_SELECT_LAST_SAMPLES = (
    "SELECT signal, max(at) AS at FROM samples WHERE incident_id = $1 GROUP BY signal"
)
# A lease is takeable when free, already the caller's, or expired. The candidate read
# is a snapshot; the upsert's WHERE is re-checked on the locked, newest row version, so
# two replicas racing for one incident cannot both win it.
_TAKEABLE = "{t}.holder IS NULL OR {t}.holder = $1 OR {t}.expires_at <= $2"
_ACQUIRE_LEASES = (
    "WITH candidate AS ("
    " SELECT i.id FROM incidents i"
    " LEFT JOIN sampling_leases l ON l.incident_id = i.id"
    " WHERE (i.status <> 'resolved'"
    "  OR (i.resolved_at >= $4 AND l.backfilled_for IS DISTINCT FROM i.resolved_at))"
    f" AND ({_TAKEABLE.format(t='l')})"
    " ORDER BY i.id LIMIT $5"
    "), leased AS ("
    " INSERT INTO sampling_leases (incident_id, holder, expires_at)"
    " SELECT id, $1::text, $3::timestamptz FROM candidate"
    " ON CONFLICT (incident_id) DO UPDATE"
    " SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at"
    f" WHERE {_TAKEABLE.format(t='sampling_leases')}"
    " RETURNING incident_id"
    ")"
    " SELECT i.id, i.labels, i.started_at, i.resolved_at, i.status"
    " FROM incidents i JOIN leased ON leased.incident_id = i.id ORDER BY i.id"
)
_RELEASE_LEASES = "UPDATE sampling_leases SET holder = NULL, expires_at = NULL WHERE holder = $1"
_MARK_BACKFILLED = (
    "UPDATE sampling_leases SET backfilled_for = $3, holder = NULL, expires_at = NULL"
    " WHERE incident_id = $1 AND holder = $2"
)
_UPSERT_UNSAMPLED = (
    "INSERT INTO unsampled_signals (incident_id, signal, reason) VALUES ($1, $2, $3)"
    " ON CONFLICT (incident_id, signal) DO UPDATE SET reason = EXCLUDED.reason"
)
_MIGRATION_LOCK = "hashtextextended('incident-recorder migrate ' || current_schema(), 0)"
_CREATE_SCHEMA_MIGRATIONS = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version integer PRIMARY KEY, name text NOT NULL, "
    "applied_at timestamptz NOT NULL DEFAULT now())"
)


async def _keep_session(_connection: object) -> None:
    """Pool reset hook: skip asyncpg's default reset query (one round trip per release).

    This store keeps no session state: advisory locks are transaction-scoped, no
    LISTEN, no SET. asyncpg still rolls back a transaction left open before calling this.
    """


class PostgresStore:
    """Store in PostgreSQL through an asyncpg pool.

    The pool is created in `start()`, or lazily on the next call when the server was
    unreachable then, so a store started against a dead server recovers by itself.
    Connect, acquire and command timeouts bound how long a call can hang when the
    server goes away: such calls raise StorageUnavailable.
    """

    backend = BACKEND

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

    async def record(
        self, correlation_key: str, decide: Decide, *, link_key: str | None = None
    ) -> Outcome:
        """Lock the link key then the correlation key, load the key's newest incident
        (else the PagerDuty-opened incident with `link_key`), decide, persist, commit.

        Round trips: BEGIN with the key locks, load, one write statement if anything
        changed, COMMIT. A duplicate notification costs three and writes nothing.
        """

        async def work(conn: Connection) -> Outcome:
            row: asyncpg.Record | None = await conn.fetchrow(
                _LOAD_NEWEST_OR_ADOPTABLE_KEY, correlation_key, link_key, _PAGED_PATTERN
            )
            assert row is not None  # the outer SELECT always yields one row
            if row["id"] is None:
                adoptable = row["adoptable_key"]
                row = (
                    None if adoptable is None else await _load_adoptable(conn, link_key, adoptable)
                )
            outcome = decide(None if row is None else _build_view(row))
            await _write_outcome(conn, outcome)
            return outcome

        links = [] if link_key is None else [_link_lock_key(link_key)]
        return await self._run(work, begin=_begin_locked(*links, correlation_key))

    async def record_page(
        self,
        delivery: PageDelivery,
        *,
        pagerduty_id: str,
        link_key: str | None,
        decide: Decide,
    ) -> Outcome | None:
        """Log the delivery (None when already logged), lock and load the paged
        incident, decide, persist, commit.

        The locks are every link key involved, the PagerDuty id, then the target
        incident's correlation key (so API updates and alert notifications of that
        incident wait). The target is read before the locks are taken; if it changed by
        the time they are held, the transaction is rolled back and tried again.
        """

        async def read_target(conn: Connection) -> _Target | None:
            row = await _fetch_paged(conn, _TARGET_BY_PD, _TARGET_BY_LINK, pagerduty_id, link_key)
            return _target(row)

        for _attempt in range(_TARGET_ATTEMPTS):
            target = await self._run(read_target, begin=None)
            links = sorted({key for key in (link_key, target and target[2]) if key})
            locks = [_link_lock_key(key) for key in links]
            locks.append(_PAGERDUTY_LOCK_PREFIX + pagerduty_id)
            if target is not None:
                locks.append(target[1])

            async def work(conn: Connection, expected: _Target | None = target) -> Outcome | None:
                values = delivery_values(replace(delivery, outcome="stored"), encode_utc)
                if await conn.fetchval(_INSERT_DELIVERY, *values) is None:
                    return None
                row = await _fetch_paged(
                    conn, _LOAD_BY_PD, _LOAD_OPEN_LINKED, pagerduty_id, link_key
                )
                if _target(row) != expected:
                    raise _TargetMoved
                outcome = decide(None if row is None else _build_view(row))
                await _write_outcome(conn, outcome)
                incident = outcome.incident
                await conn.execute(
                    _UPDATE_DELIVERY,
                    delivery.event_id,
                    None if incident is None else incident.id,
                    "unmatched" if incident is None else "stored",
                )
                return outcome

            try:
                return await self._run(work, begin=_begin_locked(*locks))
            except _TargetMoved:
                continue
        raise StoreError(f"PagerDuty incident {pagerduty_id} kept moving between incidents")

    async def record_ignored(self, delivery: PageDelivery) -> bool:
        """Log a delivery that is not applied; False when it was logged before."""
        values = delivery_values(replace(delivery, outcome="ignored"), encode_utc)

        async def work(conn: Connection) -> bool:
            return await conn.fetchval(_INSERT_DELIVERY, *values) is not None

        return await self._run(work, begin=None)

    async def list_page_deliveries(self, *, limit: int) -> list[PageDelivery]:
        """The delivery log, newest first."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")

        async def work(conn: Connection) -> list[PageDelivery]:
            rows = await conn.fetch(_SELECT_DELIVERIES, limit)
            return [build_delivery(row, decode_utc) for row in rows]

        return await self._run(work, begin=None)

    async def update(self, incident_id: str, decide: DecideExisting) -> Outcome:
        """Lock the incident's key (as record() does) and row, load, decide, persist.

        Raises IncidentNotFound.
        """

        async def read_key(conn: Connection) -> str | None:
            key: str | None = await conn.fetchval(_SELECT_KEY, incident_id)
            return key

        # The key changes only when alerts adopt an incident PagerDuty opened; if it
        # changed between this read and the lock, the lock is the wrong one: try again.
        for _attempt in range(_TARGET_ATTEMPTS):
            correlation_key = await self._run(read_key, begin=None)
            if correlation_key is None:
                raise IncidentNotFound(incident_id)

            async def work(conn: Connection, locked: str = correlation_key) -> Outcome:
                row = await conn.fetchrow(_LOAD_BY_ID_FOR_UPDATE, incident_id)
                if row is None:
                    raise IncidentNotFound(incident_id)
                if row["correlation_key"] != locked:
                    raise _TargetMoved
                outcome = decide(_build_view(row))
                await _write_outcome(conn, outcome)
                return outcome

            try:
                return await self._run(work, begin=_begin_locked(correlation_key))
            except _TargetMoved:
                continue
        raise StoreError(f"incident {incident_id} kept changing its correlation key")

    async def load(self, incident_id: str) -> IncidentView:
        """One incident with its alerts, one query. Raises IncidentNotFound."""

        async def work(conn: Connection) -> IncidentView:
            row = await conn.fetchrow(_LOAD_BY_ID, incident_id)
            if row is None:
                raise IncidentNotFound(incident_id)
            return _build_view(row)

        return await self._run(work, begin=None)

    async def load_timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Timeline by time, then insertion order. Raises IncidentNotFound."""

        async def work(conn: Connection) -> list[TimelineEntry]:
            rows = await conn.fetch(_SELECT_TIMELINE, incident_id)
            if not rows and not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM incidents WHERE id = $1)", incident_id
            ):
                raise IncidentNotFound(incident_id)
            return [build_timeline_entry(row, decode_utc) for row in rows]

        return await self._run(work, begin=None)

    async def list_incidents(
        self, *, status: IncidentStatus | None, open_only: bool, limit: int, cursor: str | None
    ) -> IncidentPage:
        """Newest first by id; `next_cursor` is None on the last page. Raises InvalidCursor."""
        if limit < 1:
            raise ValueError(f"limit must be at least 1, got {limit}")
        clauses: list[str] = []
        params: list[Any] = []
        if status is not None:
            params.append(status.value)
            clauses.append(f"status = ${len(params)}")
        if open_only:
            clauses.append("status <> 'resolved'")
        if cursor is not None:
            params.append(decode_cursor(cursor))
            clauses.append(f"id < ${len(params)}")
        params.append(limit + 1)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {_COLUMNS} FROM incidents{where} ORDER BY id DESC LIMIT ${len(params)}"

        async def work(conn: Connection) -> list[Incident]:
            return [build_incident(row, decode_utc) for row in await conn.fetch(sql, *params)]

        incidents = await self._run(work, begin=None)
        if len(incidents) > limit:
            incidents = incidents[:limit]
            return IncidentPage(incidents, encode_cursor(incidents[-1].id))
        return IncidentPage(incidents, None)

    async def find_related(self, incident: Incident, *, limit: int) -> list[Incident]:
        """Earlier incidents sharing the alertname or service label, newest first."""
        alertname = incident.labels.get("alertname")
        service = incident.labels.get("service")
        if limit < 1 or (alertname is None and service is None):
            return []

        async def work(conn: Connection) -> list[Incident]:
            rows = await conn.fetch(_SELECT_RELATED, incident.id, alertname, service, limit)
            return [build_incident(row, decode_utc) for row in rows]

        return await self._run(work, begin=None)

    async def count_open(self) -> int:
        """How many incidents are not resolved."""

        async def work(conn: Connection) -> int:
            count = await conn.fetchval("SELECT count(*) FROM incidents WHERE status <> 'resolved'")
            return int(count)

        return await self._run(work, begin=None)

    async def latest_change(self) -> datetime | None:
        """The newest `updated_at` over all incidents, None when there are none."""

        async def work(conn: Connection) -> datetime | None:
            value: datetime | None = await conn.fetchval("SELECT max(updated_at) FROM incidents")
            return value

        return await self._run(work, begin=None)

    async def save_samples(self, incident_id: str, samples: Sequence[StoredSample]) -> int:
        """Insert the batch in one statement; repeated samples are ignored.

        Raises IncidentNotFound when the incident does not exist.
        """
        if not samples:
            return 0
        signals = [s.signal for s in samples]
        times = [encode_utc(s.at) for s in samples]
        values = [s.value for s in samples]

        async def work(conn: Connection) -> int:
            try:
                status = await conn.execute(_INSERT_SAMPLES, incident_id, signals, times, values)
            except asyncpg.ForeignKeyViolationError:
                raise IncidentNotFound(incident_id) from None
            return int(status.rsplit(" ", 1)[-1])  # "INSERT 0 <rows>"

        return await self._run(work, begin=None)

    async def load_samples(self, incident_id: str) -> dict[str, list[tuple[datetime, float]]]:
        """Every sample of the incident per signal, in time order ({} when none)."""

        async def work(conn: Connection) -> dict[str, list[tuple[datetime, float]]]:
            rows = await conn.fetch(_SELECT_SAMPLES, incident_id)
            return {row["signal"]: list(zip(row["ats"], row["vals"], strict=True)) for row in rows}

        return await self._run(work, begin=None)

    async def last_sample_times(self, incident_id: str) -> dict[str, datetime]:
        """The newest stored sample time per signal ({} when none)."""

        async def work(conn: Connection) -> dict[str, datetime]:
            rows = await conn.fetch(_SELECT_LAST_SAMPLES, incident_id)
            return {row["signal"]: decode_utc(row["at"]) for row in rows}

        return await self._run(work, begin=None)

    async def acquire_leases(
        self,
        holder: str,
        *,
        now: datetime,
        ttl: timedelta,
        resolved_since: datetime,
        limit: int,
    ) -> list[SamplingTarget]:
        """Take or renew leases in one statement (see Store.acquire_leases)."""
        check_lease_args(ttl, limit)
        params = (
            holder,
            encode_utc(now),
            encode_utc(now + ttl),
            encode_utc(resolved_since),
            limit,
        )

        async def work(conn: Connection) -> list[SamplingTarget]:
            return [_build_target(row) for row in await conn.fetch(_ACQUIRE_LEASES, *params)]

        return await self._run(work, begin=None)

    async def release_leases(self, holder: str) -> int:
        """Free every lease `holder` has; returns how many."""

        async def work(conn: Connection) -> int:
            status = await conn.execute(_RELEASE_LEASES, holder)
            return int(status.rsplit(" ", 1)[-1])  # "UPDATE <rows>"

        return await self._run(work, begin=None)

    async def mark_backfilled(self, incident_id: str, holder: str, resolved_at: datetime) -> bool:
        """Record the backfill for `resolved_at` and free the lease, if still held."""

        async def work(conn: Connection) -> bool:
            status = await conn.execute(
                _MARK_BACKFILLED, incident_id, holder, encode_utc(resolved_at)
            )
            return status.rsplit(" ", 1)[-1] != "0"

        return await self._run(work, begin=None)

    async def save_unsampled(self, incident_id: str, signal: str, reason: str) -> None:
        """Upsert why `signal` is not sampled. Raises IncidentNotFound."""

        async def work(conn: Connection) -> None:
            try:
                await conn.execute(_UPSERT_UNSAMPLED, incident_id, signal, reason)
            except asyncpg.ForeignKeyViolationError:
                raise IncidentNotFound(incident_id) from None

        await self._run(work, begin=None)

    async def load_unsampled(self, incident_id: str) -> dict[str, str]:
        """Signal -> reason it was not sampled ({} when none)."""

        async def work(conn: Connection) -> dict[str, str]:
            rows = await conn.fetch(
                "SELECT signal, reason FROM unsampled_signals WHERE incident_id = $1 "
                "ORDER BY signal",
                incident_id,
            )
            return {row["signal"]: row["reason"] for row in rows}

        return await self._run(work, begin=None)

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
                async with pool.acquire(timeout=self._acquire_timeout) as conn:
                    try:
                        if begin is None:
                            return await work(conn)
                        await conn.execute(begin)
                    except _STALE_CONNECTION_ERRORS:
                        conn.terminate()
                        if attempt == 1:
                            continue
                        raise
                    except _ABORT_ERRORS:
                        # Unknown whether BEGIN took effect: drop the connection.
                        conn.terminate()
                        raise
                    return await _complete(conn, work)
            raise AssertionError("unreachable")

    @contextlib.contextmanager
    def _translated_errors(self) -> Iterator[None]:
        """Turn asyncpg and socket errors into domain errors, without the DSN's secret."""
        try:
            yield
        except _UNAVAILABLE_ERRORS as exc:
            raise StorageUnavailable(BACKEND, self._describe(exc)) from exc
        except _DATA_ERRORS as exc:
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


def lock_id(correlation_key: str) -> int:
    """The transaction advisory lock id serializing writes for a correlation key.

    64 bits of BLAKE2b, computed here rather than with hashtextextended() in SQL so
    that BEGIN and the lock travel in one simple-query round trip.
    """
    # surrogatepass: a key that is not Unicode still gets a lock; the server refuses it.
    data = correlation_key.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(data, digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _begin_locked(*keys: str) -> str:
    """BEGIN, then one transaction advisory lock per key, in the order given.

    Every writer takes link keys first, then PagerDuty ids, then correlation keys, so
    two writers never wait for each other in opposite orders.
    """
    # Only integers are formatted into the SQL: no quoting concerns.
    ids = dict.fromkeys(lock_id(key) for key in keys)
    return "BEGIN" + "".join(f"; SELECT pg_advisory_xact_lock({i:d})" for i in ids)


def _link_lock_key(link_key: str) -> str:
    return _LINK_LOCK_PREFIX + link_key


class _TargetMoved(Exception):
    """The incident to lock changed between reading it and holding its locks."""


# (id, correlation key, link key) of the incident a page applies to.
_Target: TypeAlias = tuple[str, str, "str | None"]


def _target(row: asyncpg.Record | None) -> _Target | None:
    if row is None:
        return None
    return (row["id"], row["correlation_key"], row["link_key"])


async def _fetch_paged(
    conn: Connection, by_id: str, by_link: str, pagerduty_id: str, link_key: str | None
) -> asyncpg.Record | None:
    """The incident linked to the PagerDuty id, else the newest open one with the link key."""
    row: asyncpg.Record | None = await conn.fetchrow(by_id, pagerduty_id)
    if row is None and link_key is not None:
        row = await conn.fetchrow(by_link, link_key)
    return row


async def _load_adoptable(
    conn: Connection, link_key: str | None, key: str
) -> asyncpg.Record | None:
    """The newest open incident PagerDuty opened with this link key (whose correlation
    key is `key`), with that key locked.

    Its correlation key changes only under the link key's lock, which the caller holds,
    so after taking that key's lock (as update() does) the reload finds the same one.
    """
    await conn.execute(f"SELECT pg_advisory_xact_lock({lock_id(key):d})")
    return await conn.fetchrow(_LOAD_ADOPTABLE, link_key, key)


async def _complete(conn: Connection, work: Work[T]) -> T:
    """Run `work` in the open transaction, then commit; roll back on error."""
    try:
        result = await work(conn)
        await conn.execute("COMMIT")
    except _UNAVAILABLE_ERRORS:
        # The link is dead or hung: waiting on a rollback would only stretch the outage.
        conn.terminate()
        raise
    except BaseException:
        try:
            await conn.execute("ROLLBACK")
        except _ABORT_ERRORS:
            conn.terminate()
        raise
    return result


def _build_target(row: asyncpg.Record) -> SamplingTarget:
    resolved_at = row["resolved_at"]
    return SamplingTarget(
        incident_id=row["id"],
        labels=load_mapping(row["labels"]),
        started_at=decode_utc(row["started_at"]),
        resolved_at=(
            decode_utc(resolved_at)
            if resolved_at is not None and row["status"] == "resolved"
            else None
        ),
    )


def _build_view(row: asyncpg.Record) -> IncidentView:
    incident = build_incident(row, decode_utc)
    columns = [row[f"alert_{c}"] or () for c in ALERT_COLUMNS]
    alerts = (
        build_alert(dict(zip(ALERT_COLUMNS, values, strict=True)), decode_utc)
        for values in zip(*columns, strict=True)
    )
    return IncidentView(incident, {alert.key: alert for alert in alerts})


async def _write_outcome(conn: Connection, outcome: Outcome) -> None:
    """Persist an Outcome in one statement; nothing at all when it changed nothing."""
    incident = outcome.incident
    if incident is None:
        if outcome.alerts or outcome.timeline:
            raise ValueError("an Outcome without an incident cannot carry alerts or timeline")
        return
    if not outcome.changed:
        return
    # One upsert per alert key: ON CONFLICT cannot touch the same row twice in a statement.
    alerts = {alert.key: alert for alert in outcome.alerts}.values()
    alert_rows = [alert_values(alert, encode_utc) for alert in alerts]
    timeline_rows = [timeline_values(entry, encode_utc) for entry in outcome.timeline]
    await conn.execute(
        _WRITE_OUTCOME,
        *incident_values(incident, encode_utc),
        outcome.created or outcome.incident_changed,
        *_columns(alert_rows, len(ALERT_COLUMNS)),
        *_columns(timeline_rows, len(TIMELINE_COLUMNS)),
    )


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to per-column lists, the shape unnest() takes."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width
