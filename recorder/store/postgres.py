"""PostgreSQL backend on an asyncpg pool: one transaction and few round trips per write."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeAlias, TypeVar
from urllib.parse import urlsplit

import asyncpg

from recorder.core.incident import Incident, IncidentStatus, IncidentView, Outcome, TimelineEntry
from recorder.core.join import JOIN_LOOKUP_LIMIT, JoinLookup, direct_only
from recorder.core.links import PAGED_KEY_PREFIX, incident_link_key
from recorder.prometheus.failures import SamplingFailure
from recorder.store import statements
from recorder.store.bulk_decode import decode_timeline
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
    decode_utc,
    delivery_values,
    encode_utc,
    failure_values,
    incident_values,
    json_default,
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
from recorder.store.migrations import latest_version, migrated_through, pending_migrations
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
# The subset that no retry can fix: the server answered, and refused these credentials.
_MISCONFIGURED_ERRORS: tuple[type[BaseException], ...] = (
    asyncpg.exceptions.InvalidAuthorizationSpecificationError,  # 28000, 28P01
    asyncpg.exceptions.InvalidCatalogNameError,  # 3D000
)
_MISCONFIGURED_HINT = (
    "create the role and database, or correct user, password and database name in "
    "RECORDER_DATABASE_URL"
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
# An incident's alerts travel as one JSON document each way (an array of rows in
# ALERT_COLUMNS order): one C-level json.loads/dumps per 10,000-alert storm instead of
# 30,000 per-map calls, and one sort instead of one per aggregated column.
_ALERTS_JSON = (
    f"(SELECT json_agg(json_build_array({', '.join(ALERT_COLUMNS)}) "
    "ORDER BY starts_at, fingerprint) FROM alerts WHERE alerts.incident_id = i.id) "
    "AS alerts_json"
)


def _view_query(where: str, *, lock: bool = False) -> str:
    """One incident (chosen by `where`) and its alerts as one JSON array, one round trip."""
    return (
        f"SELECT i.*, {_ALERTS_JSON} "
        f"FROM (SELECT {_COLUMNS} FROM incidents WHERE {where}"
        f"{' FOR UPDATE' if lock else ''}) AS i"
    )


_LOAD_NEWEST = _view_query("correlation_key = $1 ORDER BY id DESC LIMIT 1")
_LOAD_BY_ID = _view_query("id = $1")
_LOAD_BY_ID_FOR_UPDATE = _view_query("id = $1", lock=True)
_SELECT_KEY = "SELECT correlation_key FROM incidents WHERE id = $1"
_LOAD_BY_PD = _view_query("pagerduty_id = $1")
_SELECT_BY_IDS = f"SELECT {_COLUMNS} FROM incidents WHERE id = ANY($1::text[]) ORDER BY id DESC"
# The key's newest incident and the ids of the PagerDuty-opened incidents with the link
# key that no alert group adopted yet: one round trip for every notification; those
# incidents are loaded in a second one only when there are any (PagerDuty came first).
_LOAD_NEWEST_AND_ADOPTABLE_IDS = (
    "SELECT v.*, ARRAY(SELECT id FROM incidents WHERE link_key = $2 "
    f"AND correlation_key LIKE $3 ORDER BY id DESC LIMIT {JOIN_LOOKUP_LIMIT}) AS adoptable_ids "
    f"FROM (SELECT 1) AS one LEFT JOIN LATERAL ({_LOAD_NEWEST}) AS v ON true"
)
_PAGED_PATTERN = PAGED_KEY_PREFIX + "%"
_INSERT_DELIVERY = (
    f"INSERT INTO pagerduty_deliveries ({', '.join(DELIVERY_COLUMNS)}) "
    "VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING RETURNING true"
)
# Lock key namespaces beside correlation keys (which start with group:, labels:, ...).
_LINK_LOCK_PREFIX = "link:"
_PAGERDUTY_LOCK_PREFIX = "pagerduty-id:"
# How often a write is retried when its target moved between reading and locking.
_TARGET_ATTEMPTS = 5

_FLAG = len(INCIDENT_COLUMNS) + 1
_ALERTS_PARAM = _FLAG + 1
_TIMELINE_PARAMS = range(_ALERTS_PARAM + 1, _ALERTS_PARAM + 1 + len(TIMELINE_COLUMNS))
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


def _json_element(column: str, index: int) -> str:
    """Element `index` of a JSON row array, as `column`'s type (maps stay jsonb)."""
    if column in _JSON_COLUMNS:
        return f"u.row -> {index}"
    return f"(u.row ->> {index})::{_sql_type(column)}"


def _write_outcome_sql(*, new_incident: bool) -> str:
    """Every write of an Outcome in one statement (one round trip): the incident row when
    it changed (flag), the alerts from one JSON document, the timeline rows from arrays.

    Foreign keys are checked at the end of the statement, so a new incident and its
    alerts go in together. A new incident has no alerts yet, so its alerts are plain
    inserts: ON CONFLICT's speculative insertion costs a third more on a 10,000-alert
    storm. Otherwise each alert is an upsert.
    """
    alert_conflict = (
        ""
        if new_incident
        else " ON CONFLICT (incident_id, fingerprint, starts_at) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in ALERT_COLUMNS[2:])
    )
    return (
        "WITH incident AS ("
        f" INSERT INTO incidents ({_COLUMNS})"
        f" SELECT {', '.join(map(_param, INCIDENT_COLUMNS, range(1, _FLAG)))}"
        f" WHERE ${_FLAG}::boolean"
        " ON CONFLICT (id) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in INCIDENT_COLUMNS[1:])
        + "), alert AS ("
        f" INSERT INTO alerts (incident_id, {', '.join(ALERT_COLUMNS)})"
        f" SELECT $1, {', '.join(map(_json_element, ALERT_COLUMNS, range(len(ALERT_COLUMNS))))}"
        f" FROM jsonb_array_elements(${_ALERTS_PARAM}::jsonb) AS u(row)"
        f"{alert_conflict})"
        f" INSERT INTO timeline (incident_id, {', '.join(TIMELINE_COLUMNS)})"
        f" SELECT $1, {', '.join(f'u.{c}' for c in TIMELINE_COLUMNS)}"
        " FROM unnest("
        + ", ".join(map(_array_param, TIMELINE_COLUMNS, _TIMELINE_PARAMS))
        + f") WITH ORDINALITY AS u({', '.join(TIMELINE_COLUMNS)}, ord) ORDER BY u.ord"
    )


_WRITE_OUTCOME = _write_outcome_sql(new_incident=False)
_WRITE_NEW_INCIDENT = _write_outcome_sql(new_incident=True)
# A write's time grows with its alerts: a 10,000-alert storm must not hit the timeout
# meant to notice a hung server (which would answer 503 to every re-send, for ever).
_WRITE_SECONDS_PER_ALERT = 0.0005
# Loading an incident with its alerts inside a write transaction (a 10,000-alert storm is
# about 9 MB of JSON) can take seconds on a busy server. A hung server is caught by the
# command timeout of the BEGIN just before, so these loads get a storm-sized allowance.
_VIEW_TIMEOUT = 15.0

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
_UPSERT_FAILURES = (
    f"INSERT INTO sampling_failures (incident_id, {', '.join(FAILURE_COLUMNS)})"
    " SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],"
    " $6::timestamptz[], $7::timestamptz[], $8::bigint[])"
    " ON CONFLICT (incident_id, signal, cause) DO UPDATE SET"
    " count = sampling_failures.count + EXCLUDED.count,"
    " first_at = LEAST(sampling_failures.first_at, EXCLUDED.first_at),"
    " last_at = GREATEST(sampling_failures.last_at, EXCLUDED.last_at),"
    " error = CASE WHEN EXCLUDED.last_at >= sampling_failures.last_at"
    " THEN EXCLUDED.error ELSE sampling_failures.error END,"
    " source = CASE WHEN EXCLUDED.last_at >= sampling_failures.last_at"
    " THEN EXCLUDED.source ELSE sampling_failures.source END"
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
        self,
        correlation_key: str,
        decide: Decide,
        *,
        link_key: str | None = None,
        choose: Choose | None = None,
    ) -> Outcome:
        """Lock the link key then the correlation key, look up the key's newest incident
        and the PagerDuty-opened ones with `link_key`, choose, load, decide, persist.

        Round trips: BEGIN with the key locks, the lookup, one write statement if
        anything changed, COMMIT. A duplicate notification costs three and writes
        nothing. Joining an incident PagerDuty opened costs two more (its lookup, and its
        key's lock with the reload).
        """

        async def work(conn: Connection) -> Outcome:
            row: asyncpg.Record | None = await conn.fetchrow(
                _LOAD_NEWEST_AND_ADOPTABLE_IDS,
                correlation_key,
                link_key,
                _PAGED_PATTERN,
                timeout=_VIEW_TIMEOUT,
            )
            assert row is not None  # the outer SELECT always yields one row
            direct = None if row["id"] is None else _build_view(row)
            linked: tuple[Incident, ...] = ()
            if row["adoptable_ids"]:
                rows = await conn.fetch(_SELECT_BY_IDS, list(row["adoptable_ids"]))
                linked = tuple(build_incident(r, decode_utc) for r in rows)
            lookup = JoinLookup(direct, linked)
            chosen = (choose or direct_only)(lookup)
            if chosen is None:
                view = None
            elif direct is not None and direct.incident.id == chosen.id:
                view = direct
            else:
                view = await _load_locked(conn, chosen)
            outcome = decide(view)
            await _write_outcome(conn, outcome, self._command_timeout)
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
        choose: Choose | None = None,
    ) -> Outcome | None:
        """Log the delivery (None when already logged), look up and choose the target,
        lock and load it, decide, persist, commit.

        The locks are every link key involved, the PagerDuty id, then the target
        incident's correlation key (so API updates and alert notifications of that
        incident wait). The target is chosen before the locks are taken; if the choice
        differs once they are held, the transaction is rolled back and tried again.
        """
        pick = choose or direct_only

        async def read_lookup(conn: Connection) -> JoinLookup:
            row = await conn.fetchrow(_LOAD_BY_PD, pagerduty_id, timeout=_VIEW_TIMEOUT)
            linked: tuple[Incident, ...] = ()
            if link_key is not None:
                rows = await conn.fetch(statements.SELECT_LINKED, link_key)
                linked = tuple(build_incident(r, decode_utc) for r in rows)
            return JoinLookup(None if row is None else _build_view(row), linked)

        for _attempt in range(_TARGET_ATTEMPTS):
            target = _target(pick(await self._run(read_lookup, begin=None)))
            links = sorted({key for key in (link_key, target and target[2]) if key})
            locks = [_link_lock_key(key) for key in links]
            locks.append(_PAGERDUTY_LOCK_PREFIX + pagerduty_id)
            if target is not None:
                locks.append(target[1])

            async def work(conn: Connection, expected: _Target | None = target) -> Outcome | None:
                values = delivery_values(replace(delivery, outcome="stored"), encode_utc)
                if await conn.fetchval(_INSERT_DELIVERY, *values) is None:
                    return None
                lookup = await read_lookup(conn)
                chosen = pick(lookup)
                if _target(chosen) != expected:
                    raise _TargetMoved
                view = None
                if chosen is not None:
                    direct = lookup.direct
                    view = (
                        direct
                        if direct is not None and direct.incident.id == chosen.id
                        else await _load_view(conn, chosen.id)
                    )
                outcome = decide(view)
                await _write_outcome(conn, outcome, self._command_timeout)
                incident = outcome.incident
                await conn.execute(
                    statements.UPDATE_DELIVERY,
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

    async def update(self, incident_id: str, decide: DecideExisting) -> Outcome:
        """Lock the incident's key (as record() does) and row, load, decide, persist.

        Raises IncidentNotFound.
        """

        async def work(conn: Connection, view: IncidentView) -> Outcome:
            outcome = decide(view)
            await _write_outcome(conn, outcome, self._command_timeout)
            return outcome

        return await self._locked(incident_id, work)

    async def record_silence(
        self, incident_id: str, silence_id: str, decide: DecideExisting, *, now: datetime
    ) -> Outcome | None:
        """Under the incident's locks (as update()): None when the silence was applied to
        it before; else decide, and when that changed something, persist it and remember
        the silence. Raises IncidentNotFound."""

        async def work(conn: Connection, view: IncidentView) -> Outcome | None:
            if await conn.fetchval(statements.SILENCE_APPLIED, incident_id, silence_id):
                return None
            outcome = decide(view)
            if outcome.changed:
                await _write_outcome(conn, outcome, self._command_timeout)
                await conn.execute(
                    statements.INSERT_SILENCE, incident_id, silence_id, encode_utc(now)
                )
            return outcome

        return await self._locked(incident_id, work)

    async def _locked(
        self, incident_id: str, work: Callable[[Connection, IncidentView], Awaitable[T]]
    ) -> T:
        """Run `work` on the incident, loaded with its correlation key's lock and its row
        lock held, in one transaction. Raises IncidentNotFound."""

        async def read_key(conn: Connection) -> str | None:
            key: str | None = await conn.fetchval(_SELECT_KEY, incident_id)
            return key

        # The key changes only when alerts adopt an incident PagerDuty opened; if it
        # changed between this read and the lock, the lock is the wrong one: try again.
        for _attempt in range(_TARGET_ATTEMPTS):
            correlation_key = await self._run(read_key, begin=None)
            if correlation_key is None:
                raise IncidentNotFound(incident_id)

            async def locked(conn: Connection, key: str = correlation_key) -> T:
                row = await conn.fetchrow(
                    _LOAD_BY_ID_FOR_UPDATE, incident_id, timeout=_VIEW_TIMEOUT
                )
                if row is None:
                    raise IncidentNotFound(incident_id)
                if row["correlation_key"] != key:
                    raise _TargetMoved
                return await work(conn, _build_view(row))

            try:
                return await self._run(locked, begin=_begin_locked(correlation_key))
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
            rows = await conn.fetch(statements.SELECT_TIMELINE, incident_id)
            if not rows and not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM incidents WHERE id = $1)", incident_id
            ):
                raise IncidentNotFound(incident_id)
            return decode_timeline(rows, decode_utc)

        return await self._run(work, begin=None)

    async def list_incidents(
        self, *, status: IncidentStatus | None, open_only: bool, limit: int, cursor: str | None
    ) -> IncidentPage:
        """Newest start first; `next_cursor` is None on the last page. Raises InvalidCursor."""
        sql, params = statements.list_incidents_query(
            status=status, open_only=open_only, limit=limit, cursor=cursor, encode_time=encode_utc
        )

        async def work(conn: Connection) -> list[Incident]:
            return [build_incident(row, decode_utc) for row in await conn.fetch(sql, *params)]

        return statements.incident_page(await self._run(work, begin=None), limit)

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
            count = await conn.fetchval(statements.COUNT_OPEN)
            return int(count)

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
            rows = await conn.fetch(statements.SELECT_LAST_SAMPLES, incident_id)
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
            status = await conn.execute(statements.RELEASE_LEASES, holder)
            return int(status.rsplit(" ", 1)[-1])  # "UPDATE <rows>"

        return await self._run(work, begin=None)

    async def mark_backfilled(self, incident_id: str, holder: str, resolved_at: datetime) -> bool:
        """Record the backfill for `resolved_at` and free the lease, if still held."""

        async def work(conn: Connection) -> bool:
            status = await conn.execute(
                statements.MARK_BACKFILLED, incident_id, holder, encode_utc(resolved_at)
            )
            return status.rsplit(" ", 1)[-1] != "0"

        return await self._run(work, begin=None)

    async def save_unsampled(self, incident_id: str, signal: str, reason: str) -> None:
        """Upsert why `signal` is not sampled. Raises IncidentNotFound."""

        async def work(conn: Connection) -> None:
            try:
                await conn.execute(statements.UPSERT_UNSAMPLED, incident_id, signal, reason)
            except asyncpg.ForeignKeyViolationError:
                raise IncidentNotFound(incident_id) from None

        await self._run(work, begin=None)

    async def load_unsampled(self, incident_id: str) -> dict[str, str]:
        """Signal -> reason it was not sampled ({} when none)."""

        async def work(conn: Connection) -> dict[str, str]:
            rows = await conn.fetch(statements.SELECT_UNSAMPLED, incident_id)
            return {row["signal"]: row["reason"] for row in rows}

        return await self._run(work, begin=None)

    async def save_sampling_failures(
        self, incident_id: str, failures: Sequence[SamplingFailure]
    ) -> None:
        """Add the failures up per (signal, cause) in one statement. Raises IncidentNotFound."""
        rows = [failure_values(f, encode_utc) for f in merge_failures(failures)]
        if not rows:
            return

        async def work(conn: Connection) -> None:
            try:
                await conn.execute(_UPSERT_FAILURES, incident_id, *_columns(rows, 7))
            except asyncpg.ForeignKeyViolationError:
                raise IncidentNotFound(incident_id) from None

        await self._run(work, begin=None)

    async def load_sampling_failures(self, incident_id: str) -> list[SamplingFailure]:
        """The incident's sampling failures by signal, then cause."""

        async def work(conn: Connection) -> list[SamplingFailure]:
            rows = await conn.fetch(statements.SELECT_FAILURES, incident_id)
            return [build_failure(row, decode_utc) for row in rows]

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
        except _MISCONFIGURED_ERRORS as exc:
            raise StorageMisconfigured(
                BACKEND, self._describe(exc), hint=_MISCONFIGURED_HINT
            ) from exc
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


def _target(incident: Incident | None) -> _Target | None:
    if incident is None:
        return None
    return (incident.id, incident.correlation_key, incident_link_key(incident))


async def _load_view(conn: Connection, incident_id: str) -> IncidentView:
    row = await conn.fetchrow(_LOAD_BY_ID, incident_id, timeout=_VIEW_TIMEOUT)
    if row is None:
        raise IncidentNotFound(incident_id)
    return _build_view(row)


async def _load_locked(conn: Connection, chosen: Incident) -> IncidentView:
    """The chosen incident PagerDuty opened, reloaded with its correlation key locked.

    Its correlation key changes only under the link key's lock, which the caller holds,
    so after taking that key's lock (as update() does) the reload finds it unchanged,
    and no API update of it can run until this transaction ends.
    """
    await conn.execute(f"SELECT pg_advisory_xact_lock({lock_id(chosen.correlation_key):d})")
    row = await conn.fetchrow(_LOAD_BY_ID_FOR_UPDATE, chosen.id, timeout=_VIEW_TIMEOUT)
    if row is None:
        raise IncidentNotFound(chosen.id)
    return _build_view(row)


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
    encoded: str | None = row["alerts_json"]
    rows: list[list[Any]] = json.loads(encoded) if encoded is not None else []
    alerts = (
        build_alert(dict(zip(ALERT_COLUMNS, values, strict=True)), _decode_json_time, None)
        for values in rows
    )
    return IncidentView(incident, {alert.key: alert for alert in alerts})


@lru_cache(maxsize=4096)
def _decode_json_time(text: str) -> datetime:
    """A timestamptz as PostgreSQL's to_json writes it (ISO 8601 with the session's
    offset), as an aware UTC datetime. Cached: a storm's alerts share a few instants."""
    return datetime.fromisoformat(text).astimezone(UTC)


@lru_cache(maxsize=4096)
def _encode_json_time(value: datetime) -> str:
    """An aware datetime as ISO 8601 text with its offset (jsonb_to_recordset parses it).
    Cached: a storm's alerts share a few instants."""
    return encode_utc(value).isoformat()


def _alerts_document(outcome: Outcome) -> str:
    """The outcome's alert rows as one JSON array of arrays in ALERT_COLUMNS order.

    One row per alert key: ON CONFLICT cannot touch the same row twice in a statement.
    """
    alerts = {alert.key: alert for alert in outcome.alerts}.values()
    # Keys unsorted: jsonb orders them itself, and sorting 30,000 maps costs.
    return json.dumps(
        [alert_values(alert, _encode_json_time, None) for alert in alerts],
        ensure_ascii=False,
        separators=(",", ":"),
        default=json_default,
    )


async def _write_outcome(conn: Connection, outcome: Outcome, base_timeout: float) -> None:
    """Persist an Outcome in one statement; nothing at all when it changed nothing."""
    incident = outcome.incident
    if incident is None:
        if outcome.alerts or outcome.timeline:
            raise ValueError("an Outcome without an incident cannot carry alerts or timeline")
        return
    if not outcome.changed:
        return
    timeline_rows = [timeline_values(entry, encode_utc) for entry in outcome.timeline]
    await conn.execute(
        _WRITE_NEW_INCIDENT if outcome.created else _WRITE_OUTCOME,
        *incident_values(incident, encode_utc),
        outcome.created or outcome.incident_changed,
        _alerts_document(outcome),
        *_columns(timeline_rows, len(TIMELINE_COLUMNS)),
        timeout=base_timeout + len(outcome.alerts) * _WRITE_SECONDS_PER_ALERT,
    )


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to per-column lists, the shape unnest() takes."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width
