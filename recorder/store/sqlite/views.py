"""Loading incidents and their alerts inside a read or write transaction."""

from __future__ import annotations

from typing import Any

import aiosqlite

from recorder.core.incident import AlertState, Incident, IncidentView
from recorder.core.join import JOIN_LOOKUP_LIMIT, JoinLookup
from recorder.store import statements
from recorder.store.codec import ALERT_COLUMNS, build_alert, build_incident
from recorder.store.errors import IncidentNotFound
from recorder.store.lazy_alerts import lazy_view
from recorder.store.protocol import Choose
from recorder.store.times import decode_micros

INCIDENT_SELECT = statements.SELECT_INCIDENTS
_SELECT_ALERTS = (
    f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts WHERE incident_id = ? "
    "ORDER BY starts_at, fingerprint"
)
ADOPTABLE = (
    f"{INCIDENT_SELECT} WHERE link_key = ? AND correlation_key LIKE ? "
    f"ORDER BY id DESC LIMIT {JOIN_LOOKUP_LIMIT}"
)


async def load_incident(conn: aiosqlite.Connection, incident_id: str) -> Incident:
    cursor = await conn.execute(f"{INCIDENT_SELECT} WHERE id = ?", (incident_id,))
    row = await cursor.fetchone()
    if row is None:
        raise IncidentNotFound(incident_id)
    return build_incident(row, decode_micros)


async def load_alerts(conn: aiosqlite.Connection, incident: Incident) -> IncidentView:
    """The incident with its alerts; each alert state is built when first read."""
    rows = list(await (await conn.execute(_SELECT_ALERTS, (incident.id,))).fetchall())
    keys = [(row["fingerprint"], decode_micros(row["starts_at"])) for row in rows]
    return lazy_view(incident, keys, [row["status"] for row in rows], rows, _build_alert)


def _build_alert(row: aiosqlite.Row) -> AlertState:
    return build_alert(row, decode_micros)


async def load_view(conn: aiosqlite.Connection, incident_id: str) -> IncidentView:
    return await load_alerts(conn, await load_incident(conn, incident_id))


async def load_newest(conn: aiosqlite.Connection, correlation_key: str) -> IncidentView | None:
    where = "correlation_key = ? ORDER BY id DESC LIMIT 1"
    return await load_one(conn, where, (correlation_key,))


async def load_one(
    conn: aiosqlite.Connection, where: str, params: tuple[Any, ...]
) -> IncidentView | None:
    cursor = await conn.execute(f"{INCIDENT_SELECT} WHERE {where}", params)
    row = await cursor.fetchone()
    if row is None:
        return None
    return await load_alerts(conn, build_incident(row, decode_micros))


async def load_incidents(
    conn: aiosqlite.Connection, sql: str, params: tuple[Any, ...]
) -> tuple[Incident, ...]:
    rows = await (await conn.execute(sql, params)).fetchall()
    return tuple(build_incident(row, decode_micros) for row in rows)


async def load_chosen(
    conn: aiosqlite.Connection, lookup: JoinLookup, choose: Choose
) -> IncidentView | None:
    """The chosen incident with its alerts (IMMEDIATE already excludes other writers)."""
    chosen = choose(lookup)
    if chosen is None:
        return None
    if lookup.direct is not None and lookup.direct.incident.id == chosen.id:
        return lookup.direct
    return await load_view(conn, chosen.id)
