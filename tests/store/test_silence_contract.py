"""The silence part of the storage contract, on both backends: applied once per id."""

from __future__ import annotations

import asyncio

import pytest

from recorder.core.incident import IncidentView, Outcome, TimelineKind
from recorder.store.errors import IncidentNotFound
from recorder.store.protocol import DecideExisting, Store
from tests.store.builders import append, at, make_entry, make_incident, open_if_absent
from tests.store.conftest import OpenStore


def counted(calls: list[str], decide: DecideExisting) -> DecideExisting:
    """`decide`, remembering each incident it was called for."""

    def wrapped(view: IncidentView) -> Outcome:
        calls.append(view.incident.id)
        return decide(view)

    return wrapped


SILENCED = append(
    timeline=[make_entry("Silenced by alice", when=at(5), kind=TimelineKind.SILENCED)]
)


async def test_silence_is_applied_once_across_stores(open_stores: OpenStore) -> None:
    """Two replicas seeing the same silence for the same incident: one applies it, the
    other is told it was applied (None) without deciding; a restart changes nothing."""
    first, second = await open_stores(), await open_stores()
    incident = make_incident()
    await first.record(incident.correlation_key, open_if_absent(incident))
    calls: list[str] = []
    results = await asyncio.gather(
        *(
            store.record_silence(incident.id, "s1", counted(calls, SILENCED), now=at(6))
            for store in (first, second, first, second)
        )
    )
    assert sum(result is not None for result in results) == 1
    assert calls == [incident.id]
    third = await open_stores()
    assert await third.record_silence(incident.id, "s1", SILENCED, now=at(7)) is None
    timeline = await third.load_timeline(incident.id)
    assert [e.event for e in timeline].count("Silenced by alice") == 1


async def test_other_silence_or_incident_is_applied_separately(store: Store) -> None:
    """The key is (incident, silence id): another id, or another incident, applies again."""
    one, two = make_incident(key="a"), make_incident(key="b", created=at(1))
    for incident in (one, two):
        await store.record(incident.correlation_key, open_if_absent(incident))
    assert await store.record_silence(one.id, "s1", SILENCED, now=at(6)) is not None
    assert await store.record_silence(one.id, "s2", SILENCED, now=at(6)) is not None
    assert await store.record_silence(two.id, "s1", SILENCED, now=at(6)) is not None


async def test_silence_that_changed_nothing_is_not_remembered(store: Store) -> None:
    """A decision that writes nothing (the silence did not apply) leaves the silence to
    be checked again, e.g. once a matching alert fires."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))
    calls: list[str] = []
    unchanged = await store.record_silence(
        incident.id, "s1", counted(calls, lambda view: Outcome(view.incident)), now=at(6)
    )
    assert unchanged is not None
    assert not unchanged.changed
    applied = await store.record_silence(incident.id, "s1", counted(calls, SILENCED), now=at(7))
    assert applied is not None
    assert applied.changed
    assert calls == [incident.id, incident.id]


async def test_silence_for_unknown_incident_is_not_found(store: Store) -> None:
    """No such incident: IncidentNotFound, and nothing is remembered."""
    with pytest.raises(IncidentNotFound):
        await store.record_silence("nope", "s1", SILENCED, now=at(6))
