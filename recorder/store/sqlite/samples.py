"""Samples, sampling leases, unsampled signals and sampling failures."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from recorder.prometheus.failures import SamplingFailure
from recorder.store import statements
from recorder.store.bulk_decode import chunks, decode_samples
from recorder.store.failure_rows import FAILURE_COLUMNS, build_failure, failure_values
from recorder.store.protocol import SamplingTarget, StoredSample
from recorder.store.roles import SampleRole, build_target
from recorder.store.sqlite.connection import SqliteConnections, sqlite_sql
from recorder.store.sqlite.views import load_incident
from recorder.store.times import decode_micros, encode_micros

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


class SqliteSamples(SampleRole, SqliteConnections):
    """The SampleStore role."""

    async def _insert_samples(self, incident_id: str, samples: Sequence[StoredSample]) -> int:
        """One write transaction; NaN is stored as NULL (SQLite has no NaN)."""
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
            await load_incident(conn, incident_id)  # raises when absent
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
            cursor.row_factory = None  # plain tuples: one object per row, not two
            series: dict[str, list[tuple[datetime, float]]] = {}
            times: dict[int, datetime] = {}
            # In chunks: fewer objects alive at once, fewer collector passes.
            async for rows in chunks(cursor):
                decode_samples(rows, decode_micros, series=series, times=times)
            return series

        return await self._read(body)

    async def last_sample_times(self, incident_id: str) -> dict[str, datetime]:
        """The newest stored sample time per signal ({} when none)."""

        async def body(conn: aiosqlite.Connection) -> dict[str, datetime]:
            cursor = await conn.execute(
                sqlite_sql(statements.SELECT_LAST_SAMPLES),
                (incident_id,),
            )
            return {signal: decode_micros(at) for signal, at in await cursor.fetchall()}

        return await self._read(body)

    async def _take_leases(
        self, holder: str, now: datetime, expires: datetime, since: datetime, limit: int
    ) -> list[SamplingTarget]:
        """One write transaction: read the candidates, then upsert their leases."""
        params = {
            "holder": holder,
            "now": encode_micros(now),
            "since": encode_micros(since),
            "limit": limit,
        }
        until = encode_micros(expires)

        async def body(conn: aiosqlite.Connection) -> list[SamplingTarget]:
            rows = await (await conn.execute(_SELECT_LEASE_CANDIDATES, params)).fetchall()
            await conn.executemany(_UPSERT_LEASE, [(row[0], holder, until) for row in rows])
            return [build_target(row, decode_micros) for row in rows]

        return await self._write(body)

    async def release_leases(self, holder: str) -> int:
        """Free every lease `holder` has; returns how many."""

        async def body(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute(
                sqlite_sql(statements.RELEASE_LEASES),
                (holder,),
            )
            return max(cursor.rowcount, 0)

        return await self._write(body)

    async def mark_backfilled(self, incident_id: str, holder: str, resolved_at: datetime) -> bool:
        """Record the backfill for `resolved_at` and free the lease, if still held."""

        async def body(conn: aiosqlite.Connection) -> bool:
            cursor = await conn.execute(
                sqlite_sql(statements.MARK_BACKFILLED),
                (incident_id, holder, encode_micros(resolved_at)),
            )
            return cursor.rowcount > 0

        return await self._write(body)

    async def save_unsampled(self, incident_id: str, signal: str, reason: str) -> None:
        """Upsert why `signal` is not sampled. Raises IncidentNotFound."""

        async def body(conn: aiosqlite.Connection) -> None:
            await load_incident(conn, incident_id)  # raises when absent
            await conn.execute(
                sqlite_sql(statements.UPSERT_UNSAMPLED),
                (incident_id, signal, reason),
            )

        await self._write(body)

    async def load_unsampled(self, incident_id: str) -> dict[str, str]:
        """Signal -> reason it was not sampled ({} when none)."""

        async def body(conn: aiosqlite.Connection) -> dict[str, str]:
            cursor = await conn.execute(
                sqlite_sql(statements.SELECT_UNSAMPLED),
                (incident_id,),
            )
            return {str(row[0]): str(row[1]) for row in await cursor.fetchall()}

        return await self._read(body)

    async def _add_failures(self, incident_id: str, failures: list[SamplingFailure]) -> None:
        """One write transaction, after checking the incident exists."""
        rows = [(incident_id, *failure_values(f, encode_micros)) for f in failures]

        async def body(conn: aiosqlite.Connection) -> None:
            await load_incident(conn, incident_id)  # raises when absent
            await conn.executemany(_UPSERT_FAILURES, rows)

        await self._write(body)

    async def load_sampling_failures(self, incident_id: str) -> list[SamplingFailure]:
        """The incident's sampling failures by signal, then cause."""

        async def body(conn: aiosqlite.Connection) -> list[SamplingFailure]:
            cursor = await conn.execute(sqlite_sql(statements.SELECT_FAILURES), (incident_id,))
            return [build_failure(row, decode_micros) for row in await cursor.fetchall()]

        return await self._read(body)
