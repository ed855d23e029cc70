"""Reads for the API and the report: one incident, its timeline, lists, related."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import aiosqlite

from recorder.core.incident import Incident, IncidentView, TimelineEntry
from recorder.store import statements
from recorder.store.bulk_decode import chunks, decode_timeline
from recorder.store.codec import build_incident
from recorder.store.lazy_alerts import built_view
from recorder.store.roles import ListRole
from recorder.store.sqlite.connection import SqliteConnections, sqlite_sql
from recorder.store.sqlite.views import load_incident, load_view
from recorder.store.times import decode_micros, encode_micros


class SqliteReads(ListRole, SqliteConnections):
    """The IncidentStore reads: each in one read transaction (one snapshot)."""

    _encode_time = staticmethod(encode_micros)
    _label_sql = "json_extract(labels, '$.{}')"

    async def load(self, incident_id: str) -> IncidentView:
        """One incident with its alerts. Raises IncidentNotFound."""
        return await built_view(await self._read(lambda conn: load_view(conn, incident_id)))

    async def load_timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Timeline by time, then insertion order. Raises IncidentNotFound."""

        async def body(conn: aiosqlite.Connection) -> list[TimelineEntry]:
            cursor = await conn.execute(sqlite_sql(statements.SELECT_TIMELINE), (incident_id,))
            cursor.row_factory = None  # plain tuples: decode_timeline unpacks by position
            entries: list[TimelineEntry] = []
            async for rows in chunks(cursor):
                entries += decode_timeline(rows, decode_micros)
            if not entries:
                await load_incident(conn, incident_id)  # raises when absent
            return entries

        return await self._read(body)

    async def _select_incidents(self, sql: str, params: Sequence[Any]) -> list[Incident]:
        async def body(conn: aiosqlite.Connection) -> list[Incident]:
            rows = await (await conn.execute(sqlite_sql(sql), params)).fetchall()
            return [build_incident(row, decode_micros) for row in rows]

        return await self._read(body)

    async def count_open(self) -> int:
        """How many incidents are not resolved."""

        async def body(conn: aiosqlite.Connection) -> int:
            cursor = await conn.execute(statements.COUNT_OPEN)
            row = await cursor.fetchone()
            return int(row[0]) if row is not None else 0

        return await self._read(body)
