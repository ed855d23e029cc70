"""Writing an Outcome: the incident row, then its alerts and timeline in batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import aiosqlite

from recorder.core.incident import IncidentView, Outcome
from recorder.store.codec import (
    ALERT_COLUMNS,
    INCIDENT_COLUMNS,
    TIMELINE_COLUMNS,
    alert_values,
    incident_values,
    timeline_values,
)
from recorder.store.errors import IncidentNotFound
from recorder.store.offload import is_big, run_sized
from recorder.store.times import encode_micros

# A decision's input: an incident to join, or None (decide) / always one (decide existing).
V = TypeVar("V", IncidentView, IncidentView | None)

_INSERT_INCIDENT = (
    f"INSERT INTO incidents ({', '.join(INCIDENT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in INCIDENT_COLUMNS)})"
)
_UPDATE_INCIDENT = (
    f"UPDATE incidents SET {', '.join(f'{c} = ?' for c in INCIDENT_COLUMNS[1:])} WHERE id = ?"
)
_UPSERT_ALERT = (
    f"INSERT INTO alerts (incident_id, {', '.join(ALERT_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' for _ in ALERT_COLUMNS)}) "
    "ON CONFLICT (incident_id, fingerprint, starts_at) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in ALERT_COLUMNS[2:])
)
_INSERT_TIMELINE = (
    f"INSERT INTO timeline (incident_id, {', '.join(TIMELINE_COLUMNS)}) "
    f"VALUES (?, {', '.join('?' for _ in TIMELINE_COLUMNS)})"
)


@dataclass(frozen=True, slots=True)
class _Writes:
    """The statements persisting an Outcome, with their values."""

    incident: tuple[str, tuple[Any, ...]] | None
    alerts: list[tuple[Any, ...]]
    timeline: list[tuple[Any, ...]]


def _prepared_writes(outcome: Outcome) -> _Writes:
    incident = outcome.incident
    if incident is None:
        if outcome.alerts or outcome.timeline:
            raise ValueError("an Outcome without an incident cannot carry alerts or timeline")
        return _Writes(None, [], [])
    values = incident_values(incident, encode_micros)
    row: tuple[str, tuple[Any, ...]] | None = None
    if outcome.created:
        row = (_INSERT_INCIDENT, values)
    elif outcome.incident_changed:
        row = (_UPDATE_INCIDENT, (*values[1:], incident.id))
    return _Writes(
        row,
        [(incident.id, *alert_values(alert, encode_micros)) for alert in outcome.alerts],
        [(incident.id, *timeline_values(e, encode_micros)) for e in outcome.timeline],
    )


def _decided_writes(decide: Callable[[V], Outcome], view: V) -> tuple[Outcome, _Writes]:
    outcome = decide(view)
    return outcome, _prepared_writes(outcome)


async def _execute(conn: aiosqlite.Connection, writes: _Writes) -> None:
    if writes.incident is not None:
        sql, values = writes.incident
        cursor = await conn.execute(sql, values)
        if sql is _UPDATE_INCIDENT and cursor.rowcount == 0:
            raise IncidentNotFound(values[-1])
    if writes.alerts:
        await conn.executemany(_UPSERT_ALERT, writes.alerts)
    if writes.timeline:
        await conn.executemany(_INSERT_TIMELINE, writes.timeline)


async def decide_and_write(
    conn: aiosqlite.Connection, decide: Callable[[V], Outcome], view: V, size: int = 0
) -> Outcome:
    """Decide on `view` and persist the outcome. For a big event (`size` alerts) or
    incident, the decision and the values to write are built in a worker thread
    (recorder.store.offload)."""
    big = is_big(size, 0 if view is None else len(view.alerts))
    outcome, writes = await run_sized(big, _decided_writes, decide, view)
    await _execute(conn, writes)
    return outcome


async def write_outcome(conn: aiosqlite.Connection, outcome: Outcome) -> None:
    """Persist an Outcome: the incident row when it changed, its alerts and timeline."""
    await _execute(conn, _prepared_writes(outcome))
