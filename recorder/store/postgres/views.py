"""One incident with its alerts in one round trip (the alerts as JSON rows)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import TYPE_CHECKING

import asyncpg
import pydantic_core

from recorder.core.incident import AlertState, Incident, IncidentView
from recorder.core.join import JOIN_LOOKUP_LIMIT
from recorder.core.links import PAGED_KEY_PREFIX
from recorder.store.codec import ALERT_COLUMNS, INCIDENT_COLUMNS, build_alert, build_incident
from recorder.store.errors import IncidentNotFound
from recorder.store.lazy_alerts import lazy_view
from recorder.store.postgres.locks import lock_id
from recorder.store.times import decode_utc

if TYPE_CHECKING:
    from recorder.store.postgres.pool import Connection

COLUMNS = ", ".join(INCIDENT_COLUMNS)
# An incident's alerts travel as arrays in one row: their keys and statuses (what
# finding duplicates needs), and each alert as JSON text (an array in ALERT_COLUMNS
# order), decoded only when its state is first read (recorder.store.lazy_alerts): a
# storm's re-send decodes none of its 10,000 rows. Written back as one JSON document.
# The subquery sorts once for every aggregate (PostgreSQL aggregates a sorted subquery's
# rows in its order).
_ALERT_ARRAYS = (
    "LEFT JOIN LATERAL (SELECT array_agg(a.fingerprint) AS alert_fingerprints, "
    "array_agg(a.starts_at) AS alert_starts, array_agg(a.status) AS alert_statuses, "
    f"array_agg(json_build_array({', '.join(f'a.{c}' for c in ALERT_COLUMNS)})::text) "
    "AS alert_rows FROM (SELECT * FROM alerts WHERE alerts.incident_id = i.id "
    "ORDER BY starts_at, fingerprint) AS a) AS al ON true"
)


def _view_query(where: str, *, lock: bool = False) -> str:
    """One incident (chosen by `where`) and its alerts as arrays, one round trip."""
    return (
        f"SELECT i.*, al.* FROM (SELECT {COLUMNS} FROM incidents WHERE {where}"
        f"{' FOR UPDATE' if lock else ''}) AS i {_ALERT_ARRAYS}"
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
    return view_of(row)


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
    return view_of(row)


def view_of(row: asyncpg.Record) -> IncidentView:
    """The incident in `row`; each alert state is built when first read."""
    texts: list[str] | None = row["alert_rows"]
    if not texts:
        return IncidentView(build_incident(row, decode_utc), {}, {})
    keys = list(zip(row["alert_fingerprints"], row["alert_starts"], strict=True))
    return lazy_view(
        build_incident(row, decode_utc), keys, row["alert_statuses"], texts, _build_alert
    )


def _build_alert(text: str) -> AlertState:
    # pydantic-core's decoder: a third faster than json.loads on these rows.
    values = pydantic_core.from_json(text)
    return build_alert(dict(zip(ALERT_COLUMNS, values, strict=True)), _decode_json_time, None)


@lru_cache(maxsize=4096)
def _decode_json_time(text: str) -> datetime:
    """A timestamptz as PostgreSQL's to_json writes it (ISO 8601 with the session's
    offset), as an aware UTC datetime. Cached: a storm's alerts share a few instants."""
    return datetime.fromisoformat(text).astimezone(UTC)
