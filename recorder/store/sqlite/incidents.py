"""The incident write path: record a notification, update and silence an incident."""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from recorder.core.incident import Outcome
from recorder.core.join import JoinLookup
from recorder.core.links import PAGED_KEY_PREFIX
from recorder.store import statements
from recorder.store.offload import is_big, run_sized
from recorder.store.protocol import Choose, Decide, DecideExisting
from recorder.store.roles import RecordRole
from recorder.store.sqlite.connection import SqliteConnections, sqlite_sql
from recorder.store.sqlite.outcome import decide_and_write, write_outcome
from recorder.store.sqlite.views import (
    ADOPTABLE,
    load_chosen,
    load_incidents,
    load_newest,
    load_view,
)
from recorder.store.times import encode_micros


class SqliteIncidents(RecordRole, SqliteConnections):
    """The IncidentStore writes: each in one IMMEDIATE transaction."""

    async def _record(
        self, correlation_key: str, decide: Decide, link_key: str | None, choose: Choose, size: int
    ) -> Outcome:
        """Look up the key's newest incident and the PagerDuty-opened ones with
        `link_key`, choose, load, decide, persist; serialized by IMMEDIATE. A big event
        or incident is decided off the loop (see recorder.store.offload)."""

        async def body(conn: aiosqlite.Connection) -> Outcome:
            lookup = JoinLookup(await load_newest(conn, correlation_key))
            if link_key is not None:
                params = (link_key, f"{PAGED_KEY_PREFIX}%")
                lookup = JoinLookup(lookup.direct, await load_incidents(conn, ADOPTABLE, params))
            view = await load_chosen(conn, lookup, choose)
            return await decide_and_write(conn, decide, view, size)

        return await self._write(body)

    async def update(self, incident_id: str, decide: DecideExisting) -> Outcome:
        """Load one incident by id, decide, persist. Raises IncidentNotFound."""

        async def body(conn: aiosqlite.Connection) -> Outcome:
            return await decide_and_write(conn, decide, await load_view(conn, incident_id))

        return await self._write(body)

    async def record_silence(
        self, incident_id: str, silence_id: str, decide: DecideExisting, *, now: datetime
    ) -> Outcome | None:
        """None when the silence was applied to the incident before; else load, decide,
        and when that changed something, persist it and remember the silence."""

        async def body(conn: aiosqlite.Connection) -> Outcome | None:
            cursor = await conn.execute(
                sqlite_sql(statements.SILENCE_APPLIED), (incident_id, silence_id)
            )
            if await cursor.fetchone() is not None:
                return None
            view = await load_view(conn, incident_id)
            outcome = await run_sized(is_big(len(view.alerts)), decide, view)
            if outcome.changed:
                await write_outcome(conn, outcome)
                await conn.execute(
                    sqlite_sql(statements.INSERT_SILENCE),
                    (incident_id, silence_id, encode_micros(now)),
                )
            return outcome

        return await self._write(body)
