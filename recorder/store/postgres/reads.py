"""Reads for the API and the report: one incident, its timeline, lists, related."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from recorder.core.incident import Incident, IncidentView, TimelineEntry
from recorder.store import statements
from recorder.store.bulk_decode import decode_timeline
from recorder.store.codec import build_incident
from recorder.store.errors import IncidentNotFound
from recorder.store.lazy_alerts import built_view
from recorder.store.postgres.pool import PostgresPool
from recorder.store.postgres.views import LOAD_BY_ID, view_of
from recorder.store.roles import ListRole
from recorder.store.times import decode_utc, encode_utc

if TYPE_CHECKING:
    from recorder.store.postgres.pool import Connection


class PostgresReads(ListRole, PostgresPool):
    """The IncidentStore reads: single statements, no transaction."""

    _encode_time = staticmethod(encode_utc)
    _label_sql = "(labels ->> '{}')"

    async def load(self, incident_id: str) -> IncidentView:
        """One incident with its alerts, one query. Raises IncidentNotFound."""

        async def work(conn: Connection) -> IncidentView:
            row = await conn.fetchrow(LOAD_BY_ID, incident_id)
            if row is None:
                raise IncidentNotFound(incident_id)
            return await built_view(view_of(row))

        return await self._run(work, begin=None)

    async def load_timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Timeline by time, then insertion order. Raises IncidentNotFound."""

        async def work(conn: Connection) -> list[TimelineEntry]:
            rows = await conn.fetch(statements.SELECT_TIMELINE, incident_id)
            if not rows and not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM incidents WHERE id = $1)", incident_id
            ):
                raise IncidentNotFound(incident_id)
            return decode_timeline(rows, None)  # asyncpg decodes timestamptz

        return await self._run(work, begin=None)

    async def _select_incidents(self, sql: str, params: Sequence[Any]) -> list[Incident]:
        async def work(conn: Connection) -> list[Incident]:
            return [build_incident(row, decode_utc) for row in await conn.fetch(sql, *params)]

        return await self._run(work, begin=None)

    async def count_open(self) -> int:
        """How many incidents are not resolved."""

        async def work(conn: Connection) -> int:
            count = await conn.fetchval(statements.COUNT_OPEN)
            return int(count)

        return await self._run(work, begin=None)
