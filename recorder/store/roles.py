"""What both SQL backends do alike, written once: the public methods whose arguments are
checked, defaulted or merged the same way before the backend's own statements run, and
the readiness check.

Each backend's package implements the underscored hooks below in the module named for
the role (`incidents.py`, `paging.py`, `samples.py`, `schema.py`); its `store.py` puts
the roles together.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from recorder.core.incident import Incident, IncidentStatus, Outcome
from recorder.core.join import direct_only
from recorder.prometheus.failures import SamplingFailure
from recorder.store import statements
from recorder.store.codec import Row, load_mapping
from recorder.store.errors import NotMigrated
from recorder.store.failure_rows import merge_failures
from recorder.store.migrations import latest_version, migrated_through
from recorder.store.protocol import (
    Choose,
    Decide,
    IncidentPage,
    PageDelivery,
    SamplingTarget,
    StoredSample,
    check_lease_args,
)
from recorder.store.times import DecodeTime, EncodeTime


class SchemaRole(ABC):
    """Readiness: the schema is at the version this code expects."""

    backend: str

    async def check_ready(self) -> None:
        """One cheap query: raise StorageUnavailable or NotMigrated unless usable."""
        current = migrated_through(self.backend, await self._applied_versions())
        expected = latest_version(self.backend)
        if current < expected:
            raise NotMigrated(current, expected)

    @abstractmethod
    async def _applied_versions(self) -> set[int]:
        """The versions recorded in schema_migrations (none when it does not exist)."""


class ListRole(ABC):
    """Listing incidents: the query, its page and the related incidents' pre-checks."""

    # How the backend stores a time (for the list's cursor), and reads a label's value
    # in SQL (`{}` standing for the label's name).
    _encode_time: EncodeTime
    _label_sql: str

    async def list_incidents(
        self, *, status: IncidentStatus | None, open_only: bool, limit: int, cursor: str | None
    ) -> IncidentPage:
        """Newest start first; `next_cursor` is None on the last page. Raises InvalidCursor."""
        sql, params = statements.list_incidents_query(
            status=status,
            open_only=open_only,
            limit=limit,
            cursor=cursor,
            encode_time=self._encode_time,
        )
        return statements.incident_page(await self._select_incidents(sql, params), limit)

    async def find_related(self, incident: Incident, *, limit: int) -> list[Incident]:
        """Earlier incidents sharing the alertname or service label, newest first."""
        alertname = incident.labels.get("alertname")
        service = incident.labels.get("service")
        if limit < 1 or (alertname is None and service is None):
            return []
        sql = _related_sql(self._label_sql)
        return await self._select_incidents(sql, [incident.id, alertname, service, limit])

    @abstractmethod
    async def _select_incidents(self, sql: str, params: Sequence[Any]) -> list[Incident]:
        """The incidents a shared statement (`$n` placeholders) selects, in its order."""


_related_sql = cache(statements.select_related)


class RecordRole(ABC):
    """Recording a notification: the join rule defaults to the key's newest incident."""

    async def record(
        self,
        correlation_key: str,
        decide: Decide,
        *,
        link_key: str | None = None,
        choose: Choose | None = None,
        size: int = 0,
    ) -> Outcome:
        """See IncidentStore.record."""
        return await self._record(correlation_key, decide, link_key, choose or direct_only, size)

    @abstractmethod
    async def _record(
        self, correlation_key: str, decide: Decide, link_key: str | None, choose: Choose, size: int
    ) -> Outcome:
        """Lock, look up, let `choose` pick, load, decide, persist, commit."""


@dataclass(frozen=True, slots=True)
class PageRequest:
    """One paging event to apply: its delivery, the ids it names, the join rule and the
    decision (see PagingLog.record_page)."""

    delivery: PageDelivery
    pagerduty_id: str
    link_key: str | None
    decide: Decide
    choose: Choose


class PagingRole(ABC):
    """Applying a paging event: the join rule defaults to the incident it is linked to."""

    async def record_page(
        self,
        delivery: PageDelivery,
        *,
        pagerduty_id: str,
        link_key: str | None,
        decide: Decide,
        choose: Choose | None = None,
    ) -> Outcome | None:
        """See PagingLog.record_page."""
        pick = choose or direct_only
        return await self._record_page(PageRequest(delivery, pagerduty_id, link_key, decide, pick))

    @abstractmethod
    async def _record_page(self, page: PageRequest) -> Outcome | None:
        """Log the delivery (None when already logged), choose, load, decide, persist."""


class SampleRole(ABC):
    """The sampler's writes: empty batches cost nothing, lease requests are checked and
    failures are added up per (signal, cause) before they reach the database."""

    async def save_samples(self, incident_id: str, samples: Sequence[StoredSample]) -> int:
        """Insert the batch at once; repeated samples are ignored. Returns how many were
        new. Raises IncidentNotFound when the incident does not exist."""
        if not samples:
            return 0
        return await self._insert_samples(incident_id, samples)

    async def acquire_leases(
        self,
        holder: str,
        *,
        now: datetime,
        ttl: timedelta,
        resolved_since: datetime,
        limit: int,
    ) -> list[SamplingTarget]:
        """Take or renew leases at once (see SampleStore.acquire_leases)."""
        check_lease_args(ttl, limit)
        return await self._take_leases(holder, now, now + ttl, resolved_since, limit)

    async def save_sampling_failures(
        self, incident_id: str, failures: Sequence[SamplingFailure]
    ) -> None:
        """Add the failures up per (signal, cause) at once. Raises IncidentNotFound."""
        merged = merge_failures(failures)
        if merged:
            await self._add_failures(incident_id, merged)

    @abstractmethod
    async def _insert_samples(self, incident_id: str, samples: Sequence[StoredSample]) -> int:
        """Insert a batch that is not empty; returns how many rows were new."""

    @abstractmethod
    async def _take_leases(
        self, holder: str, now: datetime, expires: datetime, since: datetime, limit: int
    ) -> list[SamplingTarget]:
        """Take or renew up to `limit` leases until `expires`, oldest incidents first."""

    @abstractmethod
    async def _add_failures(self, incident_id: str, failures: list[SamplingFailure]) -> None:
        """Upsert failures already merged per (signal, cause)."""


def build_target(row: Row, decode_time: DecodeTime) -> SamplingTarget:
    """A lease candidate's row (id, labels, started_at, resolved_at, status) as the target
    the sampler plans for: `resolved_at` only once the incident is resolved."""
    resolved_at = row["resolved_at"]
    return SamplingTarget(
        incident_id=row["id"],
        labels=load_mapping(row["labels"]),
        started_at=decode_time(row["started_at"]),
        resolved_at=(
            decode_time(resolved_at)
            if resolved_at is not None and row["status"] == "resolved"
            else None
        ),
    )
