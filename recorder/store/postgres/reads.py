"""Reads for the API and the report: one incident, its timeline, lists, related."""

from __future__ import annotations

from typing import TYPE_CHECKING

from recorder.core.incident import Incident, IncidentStatus, IncidentView, TimelineEntry
from recorder.store import statements
from recorder.store.codec import build_incident, build_timeline_entry, decode_utc, encode_utc
from recorder.store.errors import IncidentNotFound
from recorder.store.postgres.pool import PostgresPool
from recorder.store.postgres.views import COLUMNS, LOAD_BY_ID, view_of
from recorder.store.protocol import IncidentPage

if TYPE_CHECKING:
    from recorder.store.postgres.pool import Connection

_SELECT_RELATED = (
    f"SELECT {COLUMNS} FROM incidents WHERE id < $1 AND "
    "((labels ->> 'alertname') = $2 OR (labels ->> 'service') = $3) ORDER BY id DESC LIMIT $4"
)


class PostgresReads(PostgresPool):
    """The IncidentStore reads: single statements, no transaction."""

    async def load(self, incident_id: str) -> IncidentView:
        """One incident with its alerts, one query. Raises IncidentNotFound."""

        async def work(conn: Connection) -> IncidentView:
            row = await conn.fetchrow(LOAD_BY_ID, incident_id)
            if row is None:
                raise IncidentNotFound(incident_id)
            return await view_of(row)

        return await self._run(work, begin=None)

    async def load_timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Timeline by time, then insertion order. Raises IncidentNotFound."""

        async def work(conn: Connection) -> list[TimelineEntry]:
            rows = await conn.fetch(statements.SELECT_TIMELINE, incident_id)
            if not rows and not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM incidents WHERE id = $1)", incident_id
            ):
                raise IncidentNotFound(incident_id)
            return [build_timeline_entry(row, decode_utc) for row in rows]

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
