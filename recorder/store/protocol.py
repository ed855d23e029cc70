"""The storage protocol both backends implement; decisions stay in the pure core.

Every write goes through a *decide* callback: the store opens one transaction, locks
what the decision depends on, loads the current state, calls the pure decision with it,
writes the returned `Outcome`, and commits. Dedup and correlation therefore live once,
in `recorder.core`, and both backends only persist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from recorder.core.incident import Incident, IncidentStatus, IncidentView, Outcome, TimelineEntry

Decide = Callable[[IncidentView | None], Outcome]
DecideExisting = Callable[[IncidentView], Outcome]


@dataclass(frozen=True, slots=True)
class StoredSample:
    """One Prometheus sample of one signal, kept with the incident it is evidence for."""

    signal: str
    at: datetime
    value: float


@dataclass(frozen=True, slots=True)
class IncidentPage:
    """One page of the incident list, newest first."""

    incidents: Sequence[Incident]
    next_cursor: str | None


class Store(Protocol):
    """Async storage for incidents, alerts and timelines."""

    backend: str

    async def start(self) -> None:
        """Connect (pool or file). Raises StorageUnavailable when the database is unreachable."""

    async def close(self) -> None:
        """Release connections gracefully."""

    async def migrate(self) -> list[int]:
        """Apply pending migrations in order; return the versions applied now."""

    async def check_ready(self) -> None:
        """Raise StorageUnavailable or NotMigrated unless storage is usable right now."""

    async def record(self, correlation_key: str, decide: Decide) -> Outcome:
        """In one transaction: lock the key, load the newest incident with that
        correlation key (open or resolved, alerts included; None if there is none),
        call `decide`, persist its outcome, commit. Concurrent calls for the same key
        are serialized, so exactly one of them can open an incident."""

    async def update(self, incident_id: str, decide: DecideExisting) -> Outcome:
        """Like `record`, for an existing incident by id. Raises IncidentNotFound."""

    async def load(self, incident_id: str) -> IncidentView:
        """One incident with its alerts. Raises IncidentNotFound."""

    async def load_timeline(self, incident_id: str) -> list[TimelineEntry]:
        """The incident's timeline ordered by time, then insertion order."""

    async def list_incidents(
        self, *, status: IncidentStatus | None, open_only: bool, limit: int, cursor: str | None
    ) -> IncidentPage:
        """Newest first (by id, which sorts by creation). Raises InvalidCursor."""

    async def find_related(self, incident: Incident, *, limit: int) -> list[Incident]:
        """Earlier incidents sharing the alertname or service label, newest first."""

    async def count_open(self) -> int:
        """How many incidents are not resolved."""

    async def latest_change(self) -> datetime | None:
        """When the newest incident was last updated (for readiness and dashboards)."""

    async def save_samples(self, incident_id: str, samples: Sequence[StoredSample]) -> int:
        """Store samples in one batch; a sample already stored for (incident, signal, at)
        is kept as it is. Returns how many were new."""

    async def load_samples(self, incident_id: str) -> dict[str, list[tuple[datetime, float]]]:
        """Every stored sample of the incident, per signal, in time order."""
