"""The incident write path: record a notification, update and silence an incident."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING

import asyncpg

from recorder.core.incident import Incident, IncidentView, Outcome
from recorder.core.join import JoinLookup
from recorder.store import statements
from recorder.store.codec import build_incident
from recorder.store.errors import IncidentNotFound, StoreError
from recorder.store.offload import is_big, run_sized
from recorder.store.postgres.locks import TARGET_ATTEMPTS, TargetMoved, begin_locked, link_lock_key
from recorder.store.postgres.outcome import decide_and_write, write_outcome
from recorder.store.postgres.pool import PostgresPool, T
from recorder.store.postgres.views import (
    LOAD_BY_ID_FOR_UPDATE,
    LOAD_NEWEST_AND_ADOPTABLE_IDS,
    PAGED_PATTERN,
    SELECT_BY_IDS,
    SELECT_KEY,
    VIEW_TIMEOUT,
    load_locked,
    view_of,
)
from recorder.store.protocol import Choose, Decide, DecideExisting
from recorder.store.roles import RecordRole
from recorder.store.times import decode_utc, encode_utc

if TYPE_CHECKING:
    from recorder.store.postgres.pool import Connection


class PostgresIncidents(RecordRole, PostgresPool):
    """The IncidentStore writes: each in one transaction under advisory locks."""

    async def _record(
        self, correlation_key: str, decide: Decide, link_key: str | None, choose: Choose, size: int
    ) -> Outcome:
        """Lock the link key then the correlation key, look up the key's newest incident
        and the PagerDuty-opened ones with `link_key`, choose, load, decide, persist.

        Round trips: BEGIN with the key locks, the lookup, one write statement if
        anything changed, COMMIT. A duplicate notification costs three and writes
        nothing. Joining an incident PagerDuty opened costs two more (its lookup, and its
        key's lock with the reload). A big event or incident is decided off the loop
        (see recorder.store.offload).
        """

        async def work(conn: Connection) -> Outcome:
            row: asyncpg.Record | None = await conn.fetchrow(
                LOAD_NEWEST_AND_ADOPTABLE_IDS,
                correlation_key,
                link_key,
                PAGED_PATTERN,
                timeout=VIEW_TIMEOUT,
            )
            assert row is not None  # the outer SELECT always yields one row
            direct = None if row["id"] is None else view_of(row)
            linked: tuple[Incident, ...] = ()
            if row["adoptable_ids"]:
                rows = await conn.fetch(SELECT_BY_IDS, list(row["adoptable_ids"]))
                linked = tuple(build_incident(r, decode_utc) for r in rows)
            lookup = JoinLookup(direct, linked)
            chosen = choose(lookup)
            if chosen is None:
                view = None
            elif direct is not None and direct.incident.id == chosen.id:
                view = direct
            else:
                view = await load_locked(conn, chosen)
            return await decide_and_write(conn, decide, view, self._command_timeout, size)

        links = [] if link_key is None else [link_lock_key(link_key)]
        return await self._run(work, begin=begin_locked(*links, correlation_key))

    async def update(self, incident_id: str, decide: DecideExisting) -> Outcome:
        """Lock the incident's key (as record() does) and row, load, decide, persist.

        Raises IncidentNotFound.
        """

        async def work(conn: Connection, view: IncidentView) -> Outcome:
            return await decide_and_write(conn, decide, view, self._command_timeout)

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
            outcome = await run_sized(is_big(len(view.alerts)), decide, view)
            if outcome.changed:
                await write_outcome(conn, outcome, self._command_timeout)
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
            key: str | None = await conn.fetchval(SELECT_KEY, incident_id)
            return key

        # The key changes only when alerts adopt an incident PagerDuty opened; if it
        # changed between this read and the lock, the lock is the wrong one: try again.
        for _attempt in range(TARGET_ATTEMPTS):
            correlation_key = await self._run(read_key, begin=None)
            if correlation_key is None:
                raise IncidentNotFound(incident_id)

            async def locked(conn: Connection, key: str = correlation_key) -> T:
                row = await conn.fetchrow(LOAD_BY_ID_FOR_UPDATE, incident_id, timeout=VIEW_TIMEOUT)
                if row is None:
                    raise IncidentNotFound(incident_id)
                if row["correlation_key"] != key:
                    raise TargetMoved
                return await work(conn, view_of(row))

            try:
                return await self._run(locked, begin=begin_locked(correlation_key))
            except TargetMoved:
                continue
        raise StoreError(f"incident {incident_id} kept changing its correlation key")
