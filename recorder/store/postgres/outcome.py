"""Writing an Outcome: the incident row, its alerts and timeline in one statement."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from recorder.core.incident import AlertState, IncidentView, Outcome
from recorder.store.codec import (
    ALERT_COLUMNS,
    INCIDENT_COLUMNS,
    TIMELINE_COLUMNS,
    alert_data_values,
    alert_text_data,
    incident_values,
    json_default,
    timeline_values,
)
from recorder.store.errors import StoreError
from recorder.store.offload import dump_json_rows, is_big, run_sized
from recorder.store.postgres.views import COLUMNS
from recorder.store.times import encode_utc

if TYPE_CHECKING:
    from recorder.store.postgres.pool import Connection

# A decision's input: an incident to join, or None (decide) / always one (decide existing).
V = TypeVar("V", IncidentView, IncidentView | None)

# What a new state of a stored alert can change while the rest of its row stays (see
# `alert_change_values`), in that order after its key.
ALERT_CHANGE_COLUMNS: tuple[str, ...] = (
    "status",
    "ends_at",
    "annotations",
    "updated_at",
    "resolved_text",
)


def alert_change_values(alert: AlertState) -> tuple[Any, ...]:
    """The alert's key (fingerprint, starts_at), then its `ALERT_CHANGE_COLUMNS` values,
    JSON columns as data (PostgreSQL's bulk path encodes a whole batch at once)."""
    return (
        alert.fingerprint,
        _encode_json_time(alert.starts_at),
        alert.status.value,
        None if alert.ends_at is None else _encode_json_time(alert.ends_at),
        alert.annotations,
        _encode_json_time(alert.updated_at),
        alert_text_data(alert.at_resolution),
    )


def changes_only(alert: AlertState, stored: AlertState) -> bool:
    """True when the new state of a stored alert differs from it only in
    `ALERT_CHANGE_COLUMNS` (as a resolution does)."""
    return (
        alert.labels == stored.labels
        and alert.generator_url == stored.generator_url
        and alert.received_at == stored.received_at
        and alert.at_firing == stored.at_firing
        and alert.value_text == stored.value_text
        and alert.links == stored.links
    )


_FLAG = len(INCIDENT_COLUMNS) + 1
_ALERTS_PARAM = _FLAG + 1
_TIMELINE_PARAMS = range(_ALERTS_PARAM + 1, _ALERTS_PARAM + 1 + len(TIMELINE_COLUMNS))
_TIME_COLUMNS = frozenset(
    {"started_at", "detected_at", "updated_at", "acknowledged_at", "resolved_at"}
    | {"pagerduty_status_at"}
    | {"starts_at", "ends_at", "received_at", "at"}
)
_JSON_COLUMNS = frozenset(
    {"labels", "annotations", "human", "links"}
    | {"figure_settings", "firing_text", "resolved_text"}
)


def _sql_type(column: str) -> str:
    """The PostgreSQL type of a column of incidents, alerts or timeline."""
    if column in _TIME_COLUMNS:
        return "timestamptz"
    if column in _JSON_COLUMNS:
        return "jsonb"
    return {"reopen_count": "integer", "derived": "boolean"}.get(column, "text")


def _param(column: str, number: int) -> str:
    """Parameter `number`, typed for `column`: INSERT ... SELECT does not infer types."""
    return f"${number}::{_sql_type(column)}"


def _array_param(column: str, number: int) -> str:
    """Parameter `number` as an array for `column` (JSON travels as text, cast per row)."""
    element = _sql_type(column)
    return f"${number}::{'text' if element == 'jsonb' else element}[]"


def _json_element(column: str, index: int) -> str:
    """Element `index` of a JSON row array, as `column`'s type (maps stay jsonb)."""
    if column in _JSON_COLUMNS:
        return f"u.row -> {index}"
    return f"(u.row ->> {index})::{_sql_type(column)}"


def write_outcome_sql(*, new_incident: bool) -> str:
    """Every write of an Outcome in one statement (one round trip): the incident row when
    it changed (flag), the alerts from one JSON document, the timeline rows from arrays.

    Foreign keys are checked at the end of the statement, so a new incident and its
    alerts go in together. A new incident has no alerts yet, so its alerts are plain
    inserts: ON CONFLICT's speculative insertion costs a third more on a 10,000-alert
    storm. Otherwise each alert is an upsert. Both statements are pinned, as SQL, by
    tests/store/test_assembled_sql.py.
    """
    alert_conflict = (
        ""
        if new_incident
        else " ON CONFLICT (incident_id, fingerprint, starts_at) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in ALERT_COLUMNS[2:])
    )
    return (
        "WITH incident AS ("
        f" INSERT INTO incidents ({COLUMNS})"
        f" SELECT {', '.join(map(_param, INCIDENT_COLUMNS, range(1, _FLAG)))}"
        f" WHERE ${_FLAG}::boolean"
        " ON CONFLICT (id) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in INCIDENT_COLUMNS[1:])
        + "), alert AS ("
        f" INSERT INTO alerts (incident_id, {', '.join(ALERT_COLUMNS)})"
        f" SELECT $1, {', '.join(map(_json_element, ALERT_COLUMNS, range(len(ALERT_COLUMNS))))}"
        f" FROM jsonb_array_elements(${_ALERTS_PARAM}::jsonb) AS u(row)"
        f"{alert_conflict})"
        f" INSERT INTO timeline (incident_id, {', '.join(TIMELINE_COLUMNS)})"
        f" SELECT $1, {', '.join(f'u.{c}' for c in TIMELINE_COLUMNS)}"
        " FROM unnest("
        + ", ".join(map(_array_param, TIMELINE_COLUMNS, _TIMELINE_PARAMS))
        + f") WITH ORDINALITY AS u({', '.join(TIMELINE_COLUMNS)}, ord) ORDER BY u.ord"
    )


WRITE_OUTCOME = write_outcome_sql(new_incident=False)
WRITE_NEW_INCIDENT = write_outcome_sql(new_incident=True)
# A storm's resolution changes a few columns of thousands of stored alerts: those go in
# a second statement that updates only these columns (codec.ALERT_CHANGE_COLUMNS), a
# third less PostgreSQL time for 10,000 alerts than upserting whole rows. Below
# OFF_LOOP_ALERTS such alerts stay in the one statement (one round trip).
UPDATE_ALERT_CHANGES = (
    "UPDATE alerts SET "
    + ", ".join(f"{c} = {_json_element(c, i)}" for i, c in enumerate(ALERT_CHANGE_COLUMNS, start=2))
    + " FROM jsonb_array_elements($2::jsonb) AS u(row) WHERE alerts.incident_id = $1"
    " AND alerts.fingerprint = (u.row ->> 0) AND alerts.starts_at = (u.row ->> 1)::timestamptz"
)
# A write's time grows with its alerts: a 10,000-alert storm must not hit the timeout
# meant to notice a hung server (which would answer 503 to every re-send, for ever).
WRITE_SECONDS_PER_ALERT = 0.0005


@lru_cache(maxsize=4096)
def _encode_json_time(value: datetime) -> str:
    """An aware datetime as ISO 8601 text with its offset (jsonb_to_recordset parses it).
    Cached: a storm's alerts share a few instants."""
    return encode_utc(value).isoformat()


def _alerts_document(alerts: Iterable[AlertState]) -> str:
    """Alert rows as one JSON array of arrays in ALERT_COLUMNS order."""
    # Keys unsorted: jsonb orders them itself, and sorting 30,000 maps costs.
    return dump_json_rows(
        [alert_data_values(alert, _encode_json_time) for alert in alerts], json_default
    )


@dataclass(frozen=True, slots=True)
class _Write:
    """The statement persisting an Outcome (its SQL, arguments and timeout) and, for a
    storm's resolution, the update of what changed of its stored alerts (`changes`
    rows, `changed` of them)."""

    sql: str
    args: tuple[Any, ...]
    timeout: float
    changes: str | None = None
    changed: int = 0


def _prepared_write(
    outcome: Outcome, base_timeout: float, view: IncidentView | None = None
) -> _Write | None:
    """The statements persisting `outcome` (`view`: the incident it was decided on);
    None when it changed nothing."""
    incident = outcome.incident
    if incident is None:
        if outcome.alerts or outcome.timeline:
            raise ValueError("an Outcome without an incident cannot carry alerts or timeline")
        return None
    if not outcome.changed:
        return None
    # One row per alert key: ON CONFLICT cannot touch the same row twice in a statement.
    alerts = list({(a.fingerprint, a.starts_at): a for a in outcome.alerts}.values())
    changes: list[AlertState] = []
    if view is not None and not outcome.created and view.incident.id == incident.id:
        alerts, changes = _split_changes(alerts, view.alerts)
    timeline_rows = [timeline_values(entry, encode_utc) for entry in outcome.timeline]
    return _Write(
        WRITE_NEW_INCIDENT if outcome.created else WRITE_OUTCOME,
        (
            *incident_values(incident, encode_utc),
            outcome.created or outcome.incident_changed,
            _alerts_document(alerts),
            *columns(timeline_rows, len(TIMELINE_COLUMNS)),
        ),
        base_timeout + len(outcome.alerts) * WRITE_SECONDS_PER_ALERT,
        dump_json_rows([alert_change_values(a) for a in changes], json_default)
        if changes
        else None,
        len(changes),
    )


def _split_changes(
    alerts: list[AlertState], stored: Mapping[tuple[str, datetime], AlertState]
) -> tuple[list[AlertState], list[AlertState]]:
    """(alerts to upsert whole, stored alerts whose new state changes only some columns);
    the second is empty unless it holds at least OFF_LOOP_ALERTS."""
    whole: list[AlertState] = []
    changes: list[AlertState] = []
    for alert in alerts:
        known = stored.get(alert.key)
        (changes if known is not None and changes_only(alert, known) else whole).append(alert)
    if not is_big(len(changes)):
        return alerts, []
    return whole, changes


def _decided_write(
    decide: Callable[[V], Outcome], view: V, base_timeout: float
) -> tuple[Outcome, _Write | None]:
    outcome = decide(view)
    return outcome, _prepared_write(outcome, base_timeout, view)


async def _execute(conn: Connection, write: _Write | None) -> None:
    if write is None:
        return
    await conn.execute(write.sql, *write.args, timeout=write.timeout)
    if write.changes is not None:
        status = await conn.execute(
            UPDATE_ALERT_CHANGES, write.args[0], write.changes, timeout=write.timeout
        )
        if status != f"UPDATE {write.changed}":
            raise StoreError(f"expected to update {write.changed} stored alerts: {status}")


async def decide_and_write(
    conn: Connection,
    decide: Callable[[V], Outcome],
    view: V,
    base_timeout: float,
    size: int = 0,
) -> Outcome:
    """Decide on `view` and persist the outcome in one statement. For a big event
    (`size` alerts) or incident, the decision and the statement's values are built in a
    worker thread (recorder.store.offload)."""
    big = is_big(size, 0 if view is None else len(view.alerts))
    outcome, write = await run_sized(big, _decided_write, decide, view, base_timeout)
    await _execute(conn, write)
    return outcome


async def write_outcome(conn: Connection, outcome: Outcome, base_timeout: float) -> None:
    """Persist an Outcome in one statement; nothing at all when it changed nothing."""
    await _execute(conn, _prepared_write(outcome, base_timeout))


def columns(rows: list[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows to per-column lists, the shape unnest() takes."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width
