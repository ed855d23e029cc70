"""Reads only the tests make, straight from the database: the delivery log and the newest
change. No caller of the store needs them, so they are no part of its protocol."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import aiosqlite
import asyncpg

from recorder.store.codec import DELIVERY_COLUMNS, build_delivery
from recorder.store.factory import parse_sqlite_path
from recorder.store.protocol import PageDelivery
from recorder.store.times import decode_micros, decode_utc

_SELECT_DELIVERIES = (
    f"SELECT {', '.join(DELIVERY_COLUMNS)} FROM pagerduty_deliveries "
    "ORDER BY received_at DESC, event_id DESC LIMIT $1"
)
_LATEST_CHANGE = "SELECT max(updated_at) FROM incidents"


async def _fetch(database_url: str, sql: str, *params: Any) -> list[Any]:
    if database_url.startswith("sqlite:"):
        path = parse_sqlite_path(database_url.removeprefix("sqlite:").removeprefix("//"))
        async with aiosqlite.connect(path) as conn:
            conn.row_factory = aiosqlite.Row
            cursor = await conn.execute(sql.replace("$1", "?"), params)
            return list(await cursor.fetchall())
    conn = await asyncpg.connect(database_url)
    try:
        return list(await conn.fetch(sql, *params))
    finally:
        await conn.close()


async def read_page_deliveries(database_url: str, *, limit: int) -> list[PageDelivery]:
    """The PagerDuty delivery log, newest first."""
    sqlite = database_url.startswith("sqlite:")
    rows = await _fetch(database_url, _SELECT_DELIVERIES, limit)
    return [build_delivery(row, decode_micros if sqlite else decode_utc) for row in rows]


async def read_latest_change(database_url: str) -> datetime | None:
    """The newest `updated_at` over all incidents, None when there are none."""
    [row] = await _fetch(database_url, _LATEST_CHANGE)
    if row[0] is None:
        return None
    return decode_micros(row[0]) if database_url.startswith("sqlite:") else row[0]
