"""What runs inside a body-parsing worker process, and nothing more.

A worker is a fresh interpreter (spawned, see recorder.web.parsing): it imports this
module, the adapter whose parse function it is handed, and what they import. Not
asyncio, aiohttp, the store or the web app: each import is resident memory in every
worker for the life of the daemon. Keep this module's imports to the standard library
and recorder.core.events.
"""

from __future__ import annotations

import copyreg
import ctypes
import dataclasses
import gc
import os
from collections.abc import Callable
from typing import Any

from recorder.core.events import AlertEvent, AlertStatus


def prepare() -> None:
    """Run once in each worker process: pickle alert events as their field values.

    A slotted dataclass pickles through its Python __getstate__ and __setstate__, and
    its status enum through a call to the enum class: rebuilding 10,000 events from
    plain values in one function call each takes about half as long in the daemon.
    """
    copyreg.pickle(AlertEvent, reduce_event)


def ready() -> int:
    """A no-op task: the answer says the worker has started and imported this module."""
    return 0


def release() -> int:
    """Give the memory a big parse used back to the system; the bytes of RSS freed.

    After a parse of a 16 MiB body its objects are garbage, but the allocator keeps
    most of the pages (tens of MiB) for reuse: an idle worker would hold them until the
    next storm, on top of the daemon's own peak. A full collection frees the cycles,
    and glibc's malloc_trim returns the free pages of its heaps.
    """
    before = _rss_bytes()
    gc.collect()
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)
    return max(0, before - _rss_bytes())


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except (OSError, ValueError, IndexError):  # not Linux: nothing to compare
        return 0


def _malloc_trim() -> Callable[[int], int] | None:
    try:  # the C library the interpreter is linked with
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return trim


_MALLOC_TRIM = _malloc_trim()
_PAGE = os.sysconf("SC_PAGE_SIZE")


_EVENT_FIELDS = tuple(field.name for field in dataclasses.fields(AlertEvent))
_STATUS_AT = _EVENT_FIELDS.index("status")
_STATUSES = {status.value: status for status in AlertStatus}


def reduce_event(event: AlertEvent) -> tuple[Callable[..., AlertEvent], tuple[Any, ...]]:
    values = [getattr(event, name) for name in _EVENT_FIELDS]
    values[_STATUS_AT] = event.status.value
    return rebuild_event, tuple(values)


def rebuild_event(*values: Any) -> AlertEvent:
    """Run in the daemon, as each event is unpickled."""
    fields = list(values)
    fields[_STATUS_AT] = _STATUSES[fields[_STATUS_AT]]
    return AlertEvent(*fields)
