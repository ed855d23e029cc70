"""Where a write's CPU-heavy steps run: a big one's in a worker thread, off the event loop.

Building an incident's alert states from the stored rows, the lifecycle decision and the
values written back are pure Python, about 50 ms per 1,000 alerts. For a storm-sized
group (10,000 alerts) that would hold the event loop for half a second and more, so every
other request (`/healthz` included) would wait. Above `OFF_LOOP_ALERTS` these steps run in
a worker thread while the transaction simply awaits them; the interpreter hands the lock
back to the loop every few milliseconds of Python code. Below it a thread hop would cost
more than the work.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any, ParamSpec, TypeVar

import pydantic_core

T = TypeVar("T")
P = ParamSpec("P")

# Alerts (in the event, or stored with the incident) from which a write's Python work
# runs in a worker thread.
OFF_LOOP_ALERTS = 200
# Rows encoded per JSON call. json's C code holds the interpreter lock for a whole call:
# a 10,000-row document is ~100 ms during which the loop cannot run, 500 rows a few
# milliseconds.
JSON_CHUNK_ROWS = 500


def is_big(*alert_counts: int) -> bool:
    """True when any of the counts calls for the worker thread."""
    return max(alert_counts, default=0) >= OFF_LOOP_ALERTS


async def run_sized(big: bool, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`fn(*args, **kwargs)`: in a worker thread when `big`, else right here.

    `fn` must be pure or touch only what the awaiting caller owns: the caller waits for
    it, and a cancelled caller leaves it to finish unobserved.
    """
    if not big:
        return fn(*args, **kwargs)
    return await asyncio.to_thread(fn, *args, **kwargs)


def dump_json_rows(rows: Sequence[Any], default: Callable[[Any], Any]) -> str:
    """One JSON array of `rows`, encoded `JSON_CHUNK_ROWS` at a time; `default` turns
    what JSON has no type for into what it has (as json.dumps' `default`).

    pydantic-core's encoder is three times faster than json's. Text that is not valid
    Unicode (a lone surrogate) goes through json.dumps, so the driver refuses it as it
    refuses any such text."""
    parts = [
        _dump_chunk(rows[start : start + JSON_CHUNK_ROWS], default)[1:-1]
        for start in range(0, len(rows), JSON_CHUNK_ROWS)
    ]
    return "[" + ",".join(parts) + "]"


def _dump_chunk(rows: Sequence[Any], default: Callable[[Any], Any]) -> str:
    try:
        return pydantic_core.to_json(rows, fallback=default).decode()
    except pydantic_core.PydanticSerializationError:
        return json.dumps(rows, ensure_ascii=False, separators=(",", ":"), default=default)
