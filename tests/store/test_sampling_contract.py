"""Sampling bookkeeping on both backends: leases, backfill marks, cursors, unsampled reasons."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from recorder.core.incident import Incident, IncidentStatus
from recorder.store.errors import IncidentNotFound
from recorder.store.protocol import Store, StoredSample
from tests.store.builders import append, at, make_incident, open_if_absent
from tests.store.conftest import OpenStore

TTL = timedelta(seconds=3)
SINCE = at(-3600)


async def open_incident(store: Store, key: str, created_s: float = 0) -> Incident:
    incident = make_incident(key=key, created=at(created_s))
    await store.record(key, open_if_absent(incident))
    return incident


async def resolve(store: Store, incident: Incident, when_s: float) -> Incident:
    resolved = replace(incident, status=IncidentStatus.RESOLVED, resolved_at=at(when_s))
    await store.update(incident.id, append(status=IncidentStatus.RESOLVED, resolved_at=at(when_s)))
    return resolved


async def acquire(store: Store, holder: str, now_s: float, limit: int = 100) -> list[str]:
    targets = await store.acquire_leases(
        holder, now=at(now_s), ttl=TTL, resolved_since=SINCE, limit=limit
    )
    return [t.incident_id for t in targets]


async def test_open_incidents_are_leased_to_one_holder_with_their_labels(store: Store) -> None:
    """The first holder gets every open incident, oldest first, with labels and start."""
    first = await open_incident(store, "a", 0)
    second = await open_incident(store, "b", 1)
    targets = await store.acquire_leases(
        "replica-1", now=at(10), ttl=TTL, resolved_since=SINCE, limit=100
    )
    assert [t.incident_id for t in targets] == [first.id, second.id]
    assert targets[0].labels == first.labels
    assert targets[0].started_at == first.started_at
    assert targets[0].resolved_at is None
    assert await acquire(store, "replica-2", 10.5) == []


async def test_holder_renews_and_others_take_over_only_after_expiry(store: Store) -> None:
    """A held lease is renewed by its holder; another takes it only once it expired."""
    incident = await open_incident(store, "a")
    assert await acquire(store, "replica-1", 10) == [incident.id]
    assert await acquire(store, "replica-1", 12) == [incident.id]  # renewed to 15
    assert await acquire(store, "replica-2", 14.9) == []
    assert await acquire(store, "replica-2", 15) == [incident.id]  # expired: taken over
    assert await acquire(store, "replica-1", 16) == []


async def test_released_leases_are_free_at_once(store: Store) -> None:
    """release_leases frees only the holder's leases and says how many."""
    first = await open_incident(store, "a")
    await acquire(store, "replica-1", 10)
    second = await open_incident(store, "b", 1)
    assert await acquire(store, "replica-2", 10.1) == [second.id]
    assert await store.release_leases("replica-1") == 1
    assert await acquire(store, "replica-3", 10.2) == [first.id]


async def test_limit_bounds_the_leases_taken(store: Store) -> None:
    """At most `limit` incidents per call, the oldest first."""
    ids = [(await open_incident(store, f"k{i}", i)).id for i in range(3)]
    assert await acquire(store, "replica-1", 10, limit=2) == ids[:2]
    assert await acquire(store, "replica-2", 10, limit=2) == ids[2:]


async def test_resolved_incident_stays_leased_until_its_backfill_is_marked(store: Store) -> None:
    """A resolved incident is a target until mark_backfilled for that resolution."""
    incident = await open_incident(store, "a")
    await acquire(store, "replica-1", 10)
    resolved = await resolve(store, incident, 20)
    targets = await store.acquire_leases(
        "replica-1", now=at(21), ttl=TTL, resolved_since=SINCE, limit=10
    )
    assert [(t.incident_id, t.resolved_at) for t in targets] == [
        (incident.id, resolved.resolved_at)
    ]
    assert not await store.mark_backfilled(incident.id, "replica-2", at(20))  # not the holder
    assert await store.mark_backfilled(incident.id, "replica-1", at(20))
    assert await acquire(store, "replica-1", 22) == []
    assert await acquire(store, "replica-2", 22) == []


async def test_old_resolutions_and_never_sampled_resolved_incidents_outside_window(
    store: Store,
) -> None:
    """Incidents resolved before `resolved_since` are not backfilled any more."""
    incident = await open_incident(store, "a")
    await resolve(store, incident, 20)
    targets = await store.acquire_leases(
        "replica-1", now=at(100), ttl=TTL, resolved_since=at(30), limit=10
    )
    assert targets == []


async def test_reopened_and_re_resolved_incident_is_backfilled_again(store: Store) -> None:
    """A new resolved_at differs from the one backfilled, so the incident is a target again."""
    incident = await open_incident(store, "a")
    await acquire(store, "replica-1", 10)
    await resolve(store, incident, 20)
    assert await acquire(store, "replica-1", 21) == [incident.id]
    assert await store.mark_backfilled(incident.id, "replica-1", at(20))
    await store.update(incident.id, append(status=IncidentStatus.INVESTIGATING, resolved_at=None))
    assert await acquire(store, "replica-2", 30) == [incident.id]
    await resolve(store, incident, 40)
    assert await acquire(store, "replica-2", 41) == [incident.id]


async def test_racing_replicas_never_share_an_incident(open_stores: OpenStore) -> None:
    """Two stores acquiring at the same instant split the incidents without overlap."""
    first, second = await open_stores(), await open_stores()
    ids = {(await open_incident(first, f"k{i}", i)).id for i in range(20)}
    results = await asyncio.gather(
        *(acquire(store, f"replica-{n}", 10) for n, store in enumerate([first, second] * 3))
    )
    by_holder: dict[str, set[str]] = {}
    for n, got in enumerate(results):
        by_holder.setdefault(f"replica-{n % 2}", set()).update(got)
    assert by_holder["replica-0"].isdisjoint(by_holder["replica-1"])
    assert by_holder["replica-0"] | by_holder["replica-1"] == ids


async def test_last_sample_times_per_signal(store: Store) -> None:
    """The newest stored instant per signal, {} before any sample."""
    incident = await open_incident(store, "a")
    assert await store.last_sample_times(incident.id) == {}
    await store.save_samples(
        incident.id,
        [
            StoredSample("error_rate", at(1), 0.1),
            StoredSample("error_rate", at(3), 0.2),
            StoredSample("pool_in_use", at(2), 5.0),
        ],
    )
    assert await store.last_sample_times(incident.id) == {
        "error_rate": at(3),
        "pool_in_use": at(2),
    }


async def test_unsampled_reasons_round_trip_and_replace(store: Store) -> None:
    """save_unsampled upserts one reason per signal; load_unsampled returns them."""
    incident = await open_incident(store, "a")
    assert await store.load_unsampled(incident.id) == {}
    await store.save_unsampled(incident.id, "error_rate", "no value for label 'service'")
    await store.save_unsampled(incident.id, "error_rate", "no value for label 'job'")
    await store.save_unsampled(incident.id, "pool_max", "no value for label 'service'")
    assert await store.load_unsampled(incident.id) == {
        "error_rate": "no value for label 'job'",
        "pool_max": "no value for label 'service'",
    }


async def test_unsampled_for_unknown_incident_is_not_found(store: Store) -> None:
    """Saving a reason for an incident that does not exist raises IncidentNotFound."""
    with pytest.raises(IncidentNotFound):
        await store.save_unsampled("nope", "error_rate", "why")
