"""An incident's alert states built from their stored rows on first read.

A storm's re-send (Alertmanager repeats the whole group every `group_interval`) holds only
duplicates: the decision needs each alert's status (`IncidentView.statuses`), never its
state, so the 10,000 states it would otherwise build from their rows are never built.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Generic, TypeVar

from recorder.core.events import AlertStatus
from recorder.core.incident import AlertState, Incident, IncidentView
from recorder.store.offload import is_big, run_sized

R = TypeVar("R")
Key = tuple[str, datetime]

STATUSES: dict[str, AlertStatus] = {status.value: status for status in AlertStatus}


class LazyAlerts(Mapping[Key, AlertState], Generic[R]):
    """Alert states by key, each built by `build` from its stored row when first read.

    Read by one transaction at a time (on the loop or in its worker thread), never by two
    threads at once.
    """

    __slots__ = ("_build", "_built", "_rows")

    def __init__(self, rows: dict[Key, R], build: Callable[[R], AlertState]) -> None:
        self._rows = rows
        self._build = build
        self._built: dict[Key, AlertState] = {}

    def __getitem__(self, key: Key) -> AlertState:
        state = self._built.get(key)
        if state is None:
            state = self._built[key] = self._build(self._rows[key])
        return state

    def __contains__(self, key: object) -> bool:
        return key in self._rows

    def __iter__(self) -> Iterator[Key]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


def lazy_view(
    incident: Incident,
    keys: list[Key],
    statuses: list[str],
    rows: list[R],
    build: Callable[[R], AlertState],
) -> IncidentView:
    """The incident with its alerts (`keys`, `statuses` and `rows` in the same order),
    each state built on first read."""
    return IncidentView(
        incident,
        LazyAlerts(dict(zip(keys, rows, strict=True)), build),
        dict(zip(keys, map(STATUSES.__getitem__, statuses), strict=True)),
    )


def _built(view: IncidentView) -> IncidentView:
    return IncidentView(view.incident, dict(view.alerts.items()))


async def built_view(view: IncidentView) -> IncidentView:
    """`view` with every alert state built (in a worker thread when they are many), for
    readers that walk them all on the loop."""
    return await run_sized(is_big(len(view.alerts)), _built, view)
