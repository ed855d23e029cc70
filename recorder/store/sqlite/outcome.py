"""Writing an Outcome: the incident row, then its alerts and timeline in batches."""

from __future__ import annotations

import aiosqlite

from recorder.core.incident import Outcome
from recorder.store.codec import (
    ALERT_COLUMNS,
    INCIDENT_COLUMNS,
    TIMELINE_COLUMNS,
    alert_values,
    encode_micros,
    incident_values,
    timeline_values,
)
from recorder.store.errors import IncidentNotFound

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


async def write_outcome(conn: aiosqlite.Connection, outcome: Outcome) -> None:
    incident = outcome.incident
    if incident is None:
        if outcome.alerts or outcome.timeline:
            raise ValueError("an Outcome without an incident cannot carry alerts or timeline")
        return
    values = incident_values(incident, encode_micros)
    if outcome.created:
        await conn.execute(_INSERT_INCIDENT, values)
    elif outcome.incident_changed:
        cursor = await conn.execute(_UPDATE_INCIDENT, (*values[1:], incident.id))
        if cursor.rowcount == 0:
            raise IncidentNotFound(incident.id)
    if outcome.alerts:
        await conn.executemany(
            _UPSERT_ALERT,
            [(incident.id, *alert_values(alert, encode_micros)) for alert in outcome.alerts],
        )
    if outcome.timeline:
        await conn.executemany(
            _INSERT_TIMELINE,
            [(incident.id, *timeline_values(e, encode_micros)) for e in outcome.timeline],
        )
