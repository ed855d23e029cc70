"""Paging events: apply a PagerDuty event to its incident, log every delivery."""

from __future__ import annotations

from dataclasses import replace

import aiosqlite

from recorder.core.incident import Outcome
from recorder.core.join import JoinLookup
from recorder.store import statements
from recorder.store.codec import DELIVERY_COLUMNS, delivery_values, encode_micros
from recorder.store.protocol import Choose, Decide, PageDelivery
from recorder.store.sqlite.connection import SqliteConnections, sqlite_sql
from recorder.store.sqlite.outcome import decide_and_write
from recorder.store.sqlite.views import load_chosen, load_incidents, load_one

_INSERT_DELIVERY = (
    f"INSERT INTO pagerduty_deliveries ({', '.join(DELIVERY_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in DELIVERY_COLUMNS)}) ON CONFLICT (event_id) DO NOTHING"
)


class SqlitePaging(SqliteConnections):
    """The PagingLog role."""

    async def record_page(
        self,
        delivery: PageDelivery,
        *,
        pagerduty_id: str,
        link_key: str | None,
        decide: Decide,
        choose: Choose | None = None,
    ) -> Outcome | None:
        """Log the delivery (None when already logged), look up the paged incident and
        the ones with `link_key`, choose, load, decide, persist; serialized by IMMEDIATE."""

        async def body(conn: aiosqlite.Connection) -> Outcome | None:
            if not await _insert_delivery(conn, delivery, "stored"):
                return None
            lookup = JoinLookup(await load_one(conn, "pagerduty_id = ?", (pagerduty_id,)))
            if link_key is not None:
                lookup = JoinLookup(
                    lookup.direct,
                    await load_incidents(conn, sqlite_sql(statements.SELECT_LINKED), (link_key,)),
                )
            view = await load_chosen(conn, lookup, choose)
            outcome = await decide_and_write(conn, decide, view)
            incident = outcome.incident
            await conn.execute(
                sqlite_sql(statements.UPDATE_DELIVERY),
                (
                    delivery.event_id,
                    None if incident is None else incident.id,
                    "unmatched" if incident is None else "stored",
                ),
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
