"""Paging events: apply a PagerDuty event to its incident, log every delivery."""

from __future__ import annotations

from dataclasses import replace

import aiosqlite

from recorder.core.incident import Outcome
from recorder.core.join import JoinLookup
from recorder.store import statements
from recorder.store.codec import delivery_values
from recorder.store.protocol import PageDelivery
from recorder.store.roles import PageRequest, PagingRole
from recorder.store.sqlite.connection import SqliteConnections, sqlite_sql
from recorder.store.sqlite.outcome import decide_and_write
from recorder.store.sqlite.views import load_chosen, load_incidents, load_one
from recorder.store.times import encode_micros

_INSERT_DELIVERY = sqlite_sql(statements.INSERT_DELIVERY)


class SqlitePaging(PagingRole, SqliteConnections):
    """The PagingLog role."""

    async def _record_page(self, page: PageRequest) -> Outcome | None:
        """Log the delivery (None when already logged), look up the paged incident and
        the ones with `link_key`, choose, load, decide, persist; serialized by IMMEDIATE."""

        async def body(conn: aiosqlite.Connection) -> Outcome | None:
            if not await _insert_delivery(conn, page.delivery, "stored"):
                return None
            direct = await load_one(conn, "pagerduty_id = ?", (page.pagerduty_id,))
            lookup = JoinLookup(direct)
            if page.link_key is not None:
                linked = sqlite_sql(statements.SELECT_LINKED)
                lookup = JoinLookup(direct, await load_incidents(conn, linked, (page.link_key,)))
            view = await load_chosen(conn, lookup, page.choose)
            outcome = await decide_and_write(conn, page.decide, view)
            await conn.execute(
                sqlite_sql(statements.UPDATE_DELIVERY),
                statements.delivery_result(page.delivery, outcome),
            )
            return outcome

        return await self._write(body)

    async def record_ignored(self, delivery: PageDelivery) -> bool:
        """Log a delivery that is not applied; False when it was logged before."""
        return await self._write(lambda conn: _insert_delivery(conn, delivery, "ignored"))


async def _insert_delivery(
    conn: aiosqlite.Connection, delivery: PageDelivery, outcome: str
) -> bool:
    values = delivery_values(replace(delivery, outcome=outcome), encode_micros)
    cursor = await conn.execute(_INSERT_DELIVERY, values)
    return cursor.rowcount == 1
