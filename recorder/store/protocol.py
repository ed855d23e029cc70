"""The storage protocol both backends implement; decisions stay in the pure core.

Every write goes through a *decide* callback: the store opens one transaction, locks
what the decision depends on, loads the current state, calls the pure decision with it,
writes the returned `Outcome`, and commits. Dedup and correlation therefore live once,
in `recorder.core`, and both backends only persist.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from recorder.core.incident import Incident, IncidentStatus, IncidentView, Outcome, TimelineEntry
from recorder.core.join import JoinLookup
from recorder.prometheus.failures import SamplingFailure

Decide = Callable[[IncidentView | None], Outcome]
DecideExisting = Callable[[IncidentView], Outcome]
# Picks the incident an event joins from what the store looked up (recorder.core.join).
Choose = Callable[[JoinLookup], Incident | None]


@dataclass(frozen=True, slots=True)
class StoredSample:
    """One Prometheus sample of one signal, kept with the incident it is evidence for."""

    signal: str
    at: datetime
    value: float


@dataclass(frozen=True, slots=True)
class SamplingTarget:
    """An incident a sampler holds the lease for: what it needs to plan its queries.

    `resolved_at` is None while the incident is open; a resolved target still needs its
    backfill (see `Store.acquire_leases`).
    """

    incident_id: str
    labels: Mapping[str, str]
    started_at: datetime
    resolved_at: datetime | None


@dataclass(frozen=True, slots=True)
class PageDelivery:
    """One paging event as received, for dedup and the delivery log.

    `outcome` is filled by the store: "stored" (applied to `incident_id`), "ignored"
    (an event type the recorder does not use, or a ping) or "unmatched" (a note or
    update for a paged incident the recorder does not know).
    """

    event_id: str
    webhook_id: str | None
    event_type: str
    kind: str
    received_at: datetime
    incident_id: str | None = None
    outcome: str = ""


@dataclass(frozen=True, slots=True)
class IncidentPage:
    """One page of the incident list, newest first."""

    incidents: Sequence[Incident]
    next_cursor: str | None


class IncidentWrites(Protocol):
    """Incidents written through decide callbacks: what recording events needs."""

    async def record(
        self,
        correlation_key: str,
        decide: Decide,
        *,
        link_key: str | None = None,
        choose: Choose | None = None,
        size: int = 0,
    ) -> Outcome:
        """In one transaction: lock the key, look up the newest incident with that
        correlation key (open or resolved, alerts included) and, with `link_key` (the
        alert group's PagerDuty link key), the incidents PagerDuty opened with that link
        key that no alert group adopted yet (newest first, at most JOIN_LOOKUP_LIMIT);
        let `choose` pick the incident to join (default: the newest by key), lock and
        load it with its alerts, call `decide` with it (None: nothing to join), persist
        its outcome, commit. Concurrent calls for the same key are serialized, so exactly
        one of them can open an incident. The link key is locked first, then the
        correlation keys (the same order as `record_page`: no deadlock).

        `size` is how many alerts the event carries: for a big event (or a big incident)
        building the alert states, `decide` and building the write run in a worker thread
        while the transaction awaits them, so the event loop keeps serving
        (recorder.store.offload). `decide` and `choose` must therefore be pure."""

    async def update(self, incident_id: str, decide: DecideExisting) -> Outcome:
        """Like `record`, for an existing incident by id. Raises IncidentNotFound."""

    async def record_silence(
        self, incident_id: str, silence_id: str, decide: DecideExisting, *, now: datetime
    ) -> Outcome | None:
        """Apply an Alertmanager silence to an incident once, across replicas and
        restarts. In one transaction under the incident's locks (as `update`): None when
        this silence id was applied to this incident before (nothing decided); else call
        `decide`, and when its outcome changes something, persist it and remember the
        silence as applied (at `now`). Raises IncidentNotFound."""


class IncidentReads(Protocol):
    """Incidents, their alerts and timelines read back: what the API and the report read."""

    async def load(self, incident_id: str) -> IncidentView:
        """One incident with its alerts. Raises IncidentNotFound."""

    async def load_timeline(self, incident_id: str) -> list[TimelineEntry]:
        """The incident's timeline ordered by time, then insertion order."""

    async def list_incidents(
        self, *, status: IncidentStatus | None, open_only: bool, limit: int, cursor: str | None
    ) -> IncidentPage:
        """Newest `started_at` first (ties: newest id first). Raises InvalidCursor."""

    async def find_related(self, incident: Incident, *, limit: int) -> list[Incident]:
        """Earlier incidents sharing the alertname or service label, newest first."""

    async def count_open(self) -> int:
        """How many incidents are not resolved."""


class IncidentStore(IncidentWrites, IncidentReads, Protocol):
    """Incidents, their alerts and timelines: written through decide callbacks, read back."""


class PagingLog(Protocol):
    """Paging events (PagerDuty): applied through decide callbacks, and the delivery log."""

    async def record_page(
        self,
        delivery: PageDelivery,
        *,
        pagerduty_id: str,
        link_key: str | None,
        decide: Decide,
        choose: Choose | None = None,
    ) -> Outcome | None:
        """Apply one paging event in one transaction; None when it is a duplicate.

        Records the delivery (event id already recorded: write nothing, return None),
        locks the link key and the PagerDuty incident id, looks up the incident linked to
        `pagerduty_id` (alerts included) and the incidents with `link_key` (newest first,
        at most JOIN_LOOKUP_LIMIT), lets `choose` pick the target (default: the one
        linked to the id), locks and loads it, calls `decide`, persists its outcome (the
        incident's link columns with it) and logs the delivery as stored (or unmatched
        when the outcome has no incident)."""

    async def record_ignored(self, delivery: PageDelivery) -> bool:
        """Log a delivery the recorder does not apply (outcome "ignored"); False when
        the event id was already recorded."""


class SampleReads(Protocol):
    """What was sampled for an incident, and why signals were not: what the report reads."""

    async def load_samples(self, incident_id: str) -> dict[str, list[tuple[datetime, float]]]:
        """Every stored sample of the incident, per signal, in time order."""

    async def load_unsampled(self, incident_id: str) -> dict[str, str]:
        """Signal name -> why it was not sampled, for the incident ({} when none)."""

    async def load_sampling_failures(self, incident_id: str) -> list[SamplingFailure]:
        """The incident's recorded sampling failures, by signal then cause ([] when none)."""


class SampleStore(SampleReads, Protocol):
    """Samples, sampling leases and why signals were not sampled: what the sampler uses."""

    async def save_samples(self, incident_id: str, samples: Sequence[StoredSample]) -> int:
        """Store samples in one batch; a sample already stored for (incident, signal, at)
        is kept as it is. Returns how many were new."""

    async def last_sample_times(self, incident_id: str) -> dict[str, datetime]:
        """The newest stored sample time per signal of the incident ({} when none)."""

    async def acquire_leases(
        self,
        holder: str,
        *,
        now: datetime,
        ttl: timedelta,
        resolved_since: datetime,
        limit: int,
    ) -> list[SamplingTarget]:
        """Take or renew, in one statement, the sampling leases of up to `limit` incidents
        that need sampling: open ones, and ones resolved at or after `resolved_since`
        whose backfill for that resolution is not done. A lease is taken when it is free,
        already `holder`'s, or expired at `now`; it then runs to `now + ttl`. Concurrent
        callers never both get the same incident. Oldest incidents first."""

    async def release_leases(self, holder: str) -> int:
        """Free every lease `holder` has (at shutdown, so another replica takes over at
        once). Returns how many were freed."""

    async def mark_backfilled(self, incident_id: str, holder: str, resolved_at: datetime) -> bool:
        """Record that the backfill for the resolution at `resolved_at` is done, and free
        the lease. False (nothing written) when `holder` no longer holds the lease."""

    async def save_unsampled(self, incident_id: str, signal: str, reason: str) -> None:
        """Record why `signal` cannot be sampled for the incident (replacing an older
        reason). Raises IncidentNotFound."""

    async def save_sampling_failures(
        self, incident_id: str, failures: Sequence[SamplingFailure]
    ) -> None:
        """Add failures to the incident's record, one batch: per (signal, cause) the counts
        add up, the first failure stays the earliest, the last and the error text become
        the newest. Raises IncidentNotFound."""


class Store(IncidentStore, PagingLog, SampleStore, Protocol):
    """A whole backend: the three roles above, plus connecting and migrating. Callers
    that need one role take that protocol (the sampler takes `SampleStore`)."""

    backend: str

    async def start(self) -> None:
        """Connect (pool or file). Raises StorageUnavailable when the database is unreachable."""

    async def close(self) -> None:
        """Release connections gracefully."""

    async def migrate(self) -> list[int]:
        """Apply pending migrations in order; return the versions applied now."""

    async def check_ready(self) -> None:
        """Raise StorageUnavailable or NotMigrated unless storage is usable right now."""


def check_lease_args(ttl: timedelta, limit: int) -> None:
    """Refuse lease requests no backend could honour (both backends call this first)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if ttl <= timedelta(0):
        raise ValueError(f"ttl must be positive, got {ttl}")


class SilenceStore(Protocol):
    """What the silence poller needs of storage (recorder.silences)."""

    async def count_open(self) -> int:
        """How many incidents are not resolved."""

    async def list_incidents(
        self, *, status: IncidentStatus | None, open_only: bool, limit: int, cursor: str | None
    ) -> IncidentPage:
        """Newest first (by id). Raises InvalidCursor."""

    async def load(self, incident_id: str) -> IncidentView:
        """One incident with its alerts. Raises IncidentNotFound."""

    async def record_silence(
        self, incident_id: str, silence_id: str, decide: DecideExisting, *, now: datetime
    ) -> Outcome | None:
        """See Store.record_silence."""
