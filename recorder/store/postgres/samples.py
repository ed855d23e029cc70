"""Samples, sampling leases, unsampled signals and sampling failures."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from recorder.prometheus.failures import SamplingFailure
from recorder.store import statements
from recorder.store.bulk_decode import sample_pairs
from recorder.store.errors import IncidentNotFound
from recorder.store.failure_rows import FAILURE_COLUMNS, build_failure, failure_values
from recorder.store.postgres.outcome import columns
from recorder.store.postgres.pool import PostgresPool
from recorder.store.protocol import SamplingTarget, StoredSample
from recorder.store.roles import SampleRole, build_target
from recorder.store.times import decode_utc, encode_utc

if TYPE_CHECKING:
    from recorder.store.postgres.pool import Connection

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


class PostgresSamples(SampleRole, PostgresPool):
    """The SampleStore role: each call one statement."""

    async def _insert_samples(self, incident_id: str, samples: Sequence[StoredSample]) -> int:
        """One statement (the foreign key tells a missing incident)."""
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
            return {row["signal"]: sample_pairs(row["ats"], row["vals"]) for row in rows}

        return await self._run(work, begin=None)

    async def last_sample_times(self, incident_id: str) -> dict[str, datetime]:
        """The newest stored sample time per signal ({} when none)."""

        async def work(conn: Connection) -> dict[str, datetime]:
            rows = await conn.fetch(statements.SELECT_LAST_SAMPLES, incident_id)
            return {row["signal"]: decode_utc(row["at"]) for row in rows}

        return await self._run(work, begin=None)

    async def _take_leases(
        self, holder: str, now: datetime, expires: datetime, since: datetime, limit: int
    ) -> list[SamplingTarget]:
        """One statement: candidates and upserts together (see _ACQUIRE_LEASES)."""
        params = (holder, encode_utc(now), encode_utc(expires), encode_utc(since), limit)

        async def work(conn: Connection) -> list[SamplingTarget]:
            rows = await conn.fetch(_ACQUIRE_LEASES, *params)
            return [build_target(row, decode_utc) for row in rows]

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

    async def _add_failures(self, incident_id: str, failures: list[SamplingFailure]) -> None:
        """One statement over arrays (the foreign key tells a missing incident)."""
        rows = [failure_values(f, encode_utc) for f in failures]

        async def work(conn: Connection) -> None:
            try:
                await conn.execute(_UPSERT_FAILURES, incident_id, *columns(rows, 7))
            except asyncpg.ForeignKeyViolationError:
                raise IncidentNotFound(incident_id) from None

        await self._run(work, begin=None)

    async def load_sampling_failures(self, incident_id: str) -> list[SamplingFailure]:
        """The incident's sampling failures by signal, then cause."""

        async def work(conn: Connection) -> list[SamplingFailure]:
            rows = await conn.fetch(statements.SELECT_FAILURES, incident_id)
            return [build_failure(row, decode_utc) for row in rows]

        return await self._run(work, begin=None)
