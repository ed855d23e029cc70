"""Reads for the API and the report: one incident, its timeline, lists, related."""

from __future__ import annotations

import aiosqlite

from recorder.core.incident import Incident, IncidentStatus, IncidentView, TimelineEntry
from recorder.store import statements
from recorder.store.codec import build_incident, build_timeline_entry, decode_micros, encode_micros
from recorder.store.protocol import IncidentPage
from recorder.store.sqlite.connection import SqliteConnections, sqlite_sql
from recorder.store.sqlite.views import INCIDENT_SELECT, load_incident, load_view

_SELECT_RELATED = (
    f"{INCIDENT_SELECT} WHERE id < ? AND (json_extract(labels, '$.alertname') = ? "
    "OR json_extract(labels, '$.service') = ?) ORDER BY id DESC LIMIT ?"
)


class SqliteReads(SqliteConnections):
    """The IncidentStore reads: each in one read transaction (one snapshot)."""

    async def load(self, incident_id: str) -> IncidentView:
        """One incident with its alerts. Raises IncidentNotFound."""
        return await self._read(lambda conn: load_view(conn, incident_id))

    async def load_timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Timeline by time, then insertion order. Raises IncidentNotFound."""

        async def body(conn: aiosqlite.Connection) -> list[TimelineEntry]:
            cursor = await conn.execute(sqlite_sql(statements.SELECT_TIMELINE), (incident_id,))
            rows = await cursor.fetchall()
            if not rows:
                await load_incident(conn, incident_id)  # raises when absent
            return [build_timeline_entry(row, decode_micros) for row in rows]

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
            rows = await (await conn.execute(sqlite_sql(sql), params)).fetchall()
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
