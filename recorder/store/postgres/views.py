"""One incident with its alerts in one round trip (the alerts as JSON rows)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import asyncpg

from recorder.core.incident import Incident, IncidentView
from recorder.core.join import JOIN_LOOKUP_LIMIT
from recorder.core.links import PAGED_KEY_PREFIX
from recorder.store.codec import (
    ALERT_COLUMNS,
    INCIDENT_COLUMNS,
    build_alert,
    build_incident,
    decode_utc,
)
from recorder.store.errors import IncidentNotFound
from recorder.store.offload import is_big, load_json_rows, run_sized
from recorder.store.postgres.locks import lock_id

if TYPE_CHECKING:
    from recorder.store.postgres.pool import Connection

COLUMNS = ", ".join(INCIDENT_COLUMNS)
# An incident's alerts travel as JSON rows (arrays in ALERT_COLUMNS order): one array of
# row texts when read, decoded a few hundred rows per json.loads call (so a 10,000-alert
# storm is not 30,000 per-map calls, nor one call that holds the interpreter lock for
# 100 ms); one JSON document when written. One sort instead of one per aggregated column.
_ALERT_ROWS = (
    f"(SELECT array_agg(json_build_array({', '.join(ALERT_COLUMNS)})::text "
    "ORDER BY starts_at, fingerprint) FROM alerts WHERE alerts.incident_id = i.id) "
    "AS alert_rows"
)


def _view_query(where: str, *, lock: bool = False) -> str:
    """One incident (chosen by `where`) and its alerts as JSON rows, one round trip."""
    return (
        f"SELECT i.*, {_ALERT_ROWS} "
        f"FROM (SELECT {COLUMNS} FROM incidents WHERE {where}"
        f"{' FOR UPDATE' if lock else ''}) AS i"
    )


LOAD_NEWEST = _view_query("correlation_key = $1 ORDER BY id DESC LIMIT 1")
LOAD_BY_ID = _view_query("id = $1")
LOAD_BY_ID_FOR_UPDATE = _view_query("id = $1", lock=True)
SELECT_KEY = "SELECT correlation_key FROM incidents WHERE id = $1"
LOAD_BY_PD = _view_query("pagerduty_id = $1")
SELECT_BY_IDS = f"SELECT {COLUMNS} FROM incidents WHERE id = ANY($1::text[]) ORDER BY id DESC"
# The key's newest incident and the ids of the PagerDuty-opened incidents with the link
# key that no alert group adopted yet: one round trip for every notification; those
# incidents are loaded in a second one only when there are any (PagerDuty came first).
LOAD_NEWEST_AND_ADOPTABLE_IDS = (
    "SELECT v.*, ARRAY(SELECT id FROM incidents WHERE link_key = $2 "
    f"AND correlation_key LIKE $3 ORDER BY id DESC LIMIT {JOIN_LOOKUP_LIMIT}) AS adoptable_ids "
    f"FROM (SELECT 1) AS one LEFT JOIN LATERAL ({LOAD_NEWEST}) AS v ON true"
)
PAGED_PATTERN = PAGED_KEY_PREFIX + "%"
# Loading an incident with its alerts inside a write transaction (a 10,000-alert storm is
# about 9 MB of JSON) can take seconds on a busy server. A hung server is caught by the
# command timeout of the BEGIN just before, so these loads get a storm-sized allowance.
VIEW_TIMEOUT = 15.0


async def load_view(conn: Connection, incident_id: str) -> IncidentView:
    row = await conn.fetchrow(LOAD_BY_ID, incident_id, timeout=VIEW_TIMEOUT)
    if row is None:
        raise IncidentNotFound(incident_id)
    return await view_of(row)


async def load_locked(conn: Connection, chosen: Incident) -> IncidentView:
    """The chosen incident PagerDuty opened, reloaded with its correlation key locked.

    Its correlation key changes only under the link key's lock, which the caller holds,
    so after taking that key's lock (as update() does) the reload finds it unchanged,
    and no API update of it can run until this transaction ends.
    """
    await conn.execute(f"SELECT pg_advisory_xact_lock({lock_id(chosen.correlation_key):d})")
    row = await conn.fetchrow(LOAD_BY_ID_FOR_UPDATE, chosen.id, timeout=VIEW_TIMEOUT)
    if row is None:
        raise IncidentNotFound(chosen.id)
    return await view_of(row)


async def view_of(row: asyncpg.Record) -> IncidentView:
    """The incident in `row` with its alerts, built off the loop when they are many."""
    texts: list[str] | None = row["alert_rows"]
    return await run_sized(is_big(len(texts or ())), build_view, row)


def build_view(row: asyncpg.Record) -> IncidentView:
    incident = build_incident(row, decode_utc)
    texts: list[str] | None = row["alert_rows"]
    alerts = (
        build_alert(dict(zip(ALERT_COLUMNS, values, strict=True)), _decode_json_time, None)
        for values in load_json_rows(texts or ())
    )
    return IncidentView(incident, {alert.key: alert for alert in alerts})


@lru_cache(maxsize=4096)
def _decode_json_time(text: str) -> datetime:
    """A timestamptz as PostgreSQL's to_json writes it (ISO 8601 with the session's
    offset), as an aware UTC datetime. Cached: a storm's alerts share a few instants."""
    return datetime.fromisoformat(text).astimezone(UTC)
