"""SQL written once for both backends: the statements PostgreSQL and SQLite agree on, and
the incident list's query builder.

Statements use PostgreSQL's numbered placeholders (`$1`); `for_sqlite` turns them into
SQLite's `?1`, which binds the same parameter, so both backends pass arguments in the
same order. What the dialects do not agree on stays in the backend's own module: arrays
and `unnest` (batch writes), JSON operators, row locks and advisory locks, LATERAL joins.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from recorder.core.incident import Incident, IncidentStatus, Outcome
from recorder.core.join import JOIN_LOOKUP_LIMIT
from recorder.store.codec import DELIVERY_COLUMNS, INCIDENT_COLUMNS, TIMELINE_COLUMNS
from recorder.store.cursors import LIST_AFTER_CURSOR, LIST_ORDER, decode_cursor, encode_cursor
from recorder.store.failure_rows import FAILURE_COLUMNS
from recorder.store.protocol import IncidentPage, PageDelivery

_PLACEHOLDER = re.compile(r"\$(\d+)")


def for_sqlite(sql: str) -> str:
    """The statement with SQLite's placeholders: `$n` becomes `?n` (same parameter)."""
    return _PLACEHOLDER.sub(r"?\1", sql)


SELECT_INCIDENTS = f"SELECT {', '.join(INCIDENT_COLUMNS)} FROM incidents"
SELECT_LINKED = f"{SELECT_INCIDENTS} WHERE link_key = $1 ORDER BY id DESC LIMIT {JOIN_LOOKUP_LIMIT}"
COUNT_OPEN = "SELECT count(*) FROM incidents WHERE status <> 'resolved'"
SELECT_TIMELINE = (
    f"SELECT {', '.join(TIMELINE_COLUMNS)} FROM timeline WHERE incident_id = $1 ORDER BY at, seq"
)
SILENCE_APPLIED = "SELECT 1 FROM incident_silences WHERE incident_id = $1 AND silence_id = $2"
INSERT_SILENCE = (
    "INSERT INTO incident_silences (incident_id, silence_id, applied_at) VALUES ($1, $2, $3)"
)
INSERT_DELIVERY = (
    f"INSERT INTO pagerduty_deliveries ({', '.join(DELIVERY_COLUMNS)}) "
    f"VALUES ({', '.join(f'${n}' for n in range(1, len(DELIVERY_COLUMNS) + 1))})"
    " ON CONFLICT (event_id) DO NOTHING"
)
UPDATE_DELIVERY = (
    "UPDATE pagerduty_deliveries SET incident_id = $2, outcome = $3 WHERE event_id = $1"
)


def delivery_result(delivery: PageDelivery, outcome: Outcome) -> tuple[str, str | None, str]:
    """`UPDATE_DELIVERY`'s parameters once the event's outcome is written: stored on its
    incident, or unmatched when the outcome has none."""
    incident = outcome.incident
    if incident is None:
        return (delivery.event_id, None, "unmatched")
    return (delivery.event_id, incident.id, "stored")


SELECT_LAST_SAMPLES = (
    "SELECT signal, max(at) AS at FROM samples WHERE incident_id = $1 GROUP BY signal"
)
RELEASE_LEASES = "UPDATE sampling_leases SET holder = NULL, expires_at = NULL WHERE holder = $1"
MARK_BACKFILLED = (
    "UPDATE sampling_leases SET backfilled_for = $3, holder = NULL, expires_at = NULL"
    " WHERE incident_id = $1 AND holder = $2"
)
UPSERT_UNSAMPLED = (
    "INSERT INTO unsampled_signals (incident_id, signal, reason) VALUES ($1, $2, $3)"
    " ON CONFLICT (incident_id, signal) DO UPDATE SET reason = excluded.reason"
)
SELECT_UNSAMPLED = (
    "SELECT signal, reason FROM unsampled_signals WHERE incident_id = $1 ORDER BY signal"
)
SELECT_FAILURES = (
    f"SELECT {', '.join(FAILURE_COLUMNS)} FROM sampling_failures WHERE incident_id = $1"
    " ORDER BY signal, cause"
)


def select_related(label: str) -> str:
    """Earlier incidents than $1 sharing its alertname ($2) or service ($3) label, newest
    first, at most $4. `label` is the dialect's expression for a label's value, `{}`
    standing for its name."""
    return (
        f"{SELECT_INCIDENTS} WHERE id < $1 AND ({label.format('alertname')} = $2"
        f" OR {label.format('service')} = $3) ORDER BY id DESC LIMIT $4"
    )


def list_incidents_query(
    *,
    status: IncidentStatus | None,
    open_only: bool,
    limit: int,
    cursor: str | None,
    encode_time: Callable[[datetime], Any],
) -> tuple[str, list[Any]]:
    """The incident list's SELECT and its parameters: newest start first, one row more
    than `limit` (so `incident_page` can tell whether a next page exists).

    `encode_time` stores the cursor's start time the way the backend stores times.
    Raises ValueError for a limit below 1 and InvalidCursor for a cursor not made by
    `encode_cursor`.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    clauses: list[str] = []
    params: list[Any] = []
    if status is not None:
        params.append(status.value)
        clauses.append(f"status = ${len(params)}")
    if open_only:
        clauses.append("status <> 'resolved'")
    if cursor is not None:
        started_at, last_id = decode_cursor(cursor)
        params.extend((encode_time(started_at), last_id))
        clauses.append(LIST_AFTER_CURSOR.format(f"${len(params) - 1}", f"${len(params)}"))
    params.append(limit + 1)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"{SELECT_INCIDENTS}{where} ORDER BY {LIST_ORDER} LIMIT ${len(params)}", params


def incident_page(incidents: Sequence[Incident], limit: int) -> IncidentPage:
    """The page from `list_incidents_query`'s rows: at most `limit`, and the cursor of
    the next page when there was one more row."""
    if len(incidents) > limit:
        kept = list(incidents[:limit])
        return IncidentPage(kept, encode_cursor(kept[-1]))
    return IncidentPage(list(incidents), None)
