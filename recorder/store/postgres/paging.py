"""Paging events: apply a PagerDuty event to its incident, log every delivery."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from recorder.core.incident import Incident, Outcome
from recorder.core.join import JoinLookup
from recorder.store import statements
from recorder.store.codec import build_incident, delivery_values
from recorder.store.errors import StoreError
from recorder.store.postgres.locks import (
    PAGERDUTY_LOCK_PREFIX,
    TARGET_ATTEMPTS,
    Target,
    TargetMoved,
    begin_locked,
    link_lock_key,
    target_of,
)
from recorder.store.postgres.outcome import decide_and_write
from recorder.store.postgres.pool import PostgresPool
from recorder.store.postgres.views import LOAD_BY_PD, VIEW_TIMEOUT, load_view, view_of
from recorder.store.protocol import PageDelivery
from recorder.store.roles import PageRequest, PagingRole
from recorder.store.times import decode_utc, encode_utc

if TYPE_CHECKING:
    from recorder.store.postgres.pool import Connection

_INSERT_DELIVERY = statements.INSERT_DELIVERY + " RETURNING true"


class PostgresPaging(PagingRole, PostgresPool):
    """The PagingLog role."""

    async def _record_page(self, page: PageRequest) -> Outcome | None:
        """Log the delivery (None when already logged), look up and choose the target,
        lock and load it, decide, persist, commit.

        The locks are every link key involved, the PagerDuty id, then the target
        incident's correlation key (so API updates and alert notifications of that
        incident wait). The target is chosen before the locks are taken; if the choice
        differs once they are held, the transaction is rolled back and tried again.
        """
        delivery, pagerduty_id, link_key, pick = (
            page.delivery,
            page.pagerduty_id,
            page.link_key,
            page.choose,
        )

        async def read_lookup(conn: Connection) -> JoinLookup:
            row = await conn.fetchrow(LOAD_BY_PD, pagerduty_id, timeout=VIEW_TIMEOUT)
            linked: tuple[Incident, ...] = ()
            if link_key is not None:
                rows = await conn.fetch(statements.SELECT_LINKED, link_key)
                linked = tuple(build_incident(r, decode_utc) for r in rows)
            return JoinLookup(None if row is None else view_of(row), linked)

        for _attempt in range(TARGET_ATTEMPTS):
            target = target_of(pick(await self._run(read_lookup, begin=None)))
            links = sorted({key for key in (link_key, target and target[2]) if key})
            locks = [link_lock_key(key) for key in links]
            locks.append(PAGERDUTY_LOCK_PREFIX + pagerduty_id)
            if target is not None:
                locks.append(target[1])

            async def work(conn: Connection, expected: Target | None = target) -> Outcome | None:
                values = delivery_values(replace(delivery, outcome="stored"), encode_utc)
                if await conn.fetchval(_INSERT_DELIVERY, *values) is None:
                    return None
                lookup = await read_lookup(conn)
                chosen = pick(lookup)
                if target_of(chosen) != expected:
                    raise TargetMoved
                view = None
                if chosen is not None:
                    direct = lookup.direct
                    view = (
                        direct
                        if direct is not None and direct.incident.id == chosen.id
                        else await load_view(conn, chosen.id)
                    )
                outcome = await decide_and_write(conn, page.decide, view, self._command_timeout)
                await conn.execute(
                    statements.UPDATE_DELIVERY, *statements.delivery_result(delivery, outcome)
                )
                return outcome

            try:
                return await self._run(work, begin=begin_locked(*locks))
            except TargetMoved:
                continue
        raise StoreError(f"PagerDuty incident {pagerduty_id} kept moving between incidents")

    async def record_ignored(self, delivery: PageDelivery) -> bool:
        """Log a delivery that is not applied; False when it was logged before."""
        values = delivery_values(replace(delivery, outcome="ignored"), encode_utc)

        async def work(conn: Connection) -> bool:
            return await conn.fetchval(_INSERT_DELIVERY, *values) is not None

        return await self._run(work, begin=None)
