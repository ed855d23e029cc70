"""The storage contract, run against both backends: SQLite and PostgreSQL must agree."""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace

import pytest

from recorder.core.events import AlertStatus
from recorder.core.incident import (
    IncidentStatus,
    IncidentView,
    Outcome,
    PagerDutyLink,
    TimelineKind,
)
from recorder.store.errors import IncidentNotFound, InvalidCursor, NotMigrated, StoreError
from recorder.store.migrations import latest_version, load_migrations
from recorder.store.protocol import Store, StoredSample
from tests.store.builders import (
    always_open,
    append,
    at,
    capture,
    fail,
    make_alert,
    make_entry,
    make_incident,
    open_if_absent,
)
from tests.store.conftest import OpenStore
from tests.store.reads import read_latest_change


async def test_migrate_applies_every_version_once(open_stores: OpenStore) -> None:
    """A second migrate applies nothing and the store is ready."""
    store = await open_stores(migrate=False)
    first = await store.migrate()
    second = await store.migrate()
    assert first == [m.version for m in load_migrations(store.backend)]
    assert second == []
    await store.check_ready()


async def test_check_ready_reports_missing_migrations(open_stores: OpenStore) -> None:
    """Before migrate, check_ready raises NotMigrated naming both versions."""
    store = await open_stores(migrate=False)
    with pytest.raises(NotMigrated) as caught:
        await store.check_ready()
    assert caught.value.current == 0
    assert caught.value.expected == latest_version(store.backend)


async def test_record_round_trips_every_field(store: Store) -> None:
    """An opened incident, its alerts and timeline load back exactly as written."""
    incident = replace(
        make_incident(labels={"alertname": "Fehlerrate", "service": "zahlung-ü", "emoji": "🔥"}),
        acknowledged_at=at(5.000001),
        acknowledged_by="Jane Doe",
        resolved_at=at(600.999999),
        resolved_by="PagerDuty (Jane Doe)",
        status=IncidentStatus.RESOLVED,
        severity=None,
        reopen_count=2,
        severity_source="pagerduty",
        human={"summary": "DB pool exhausted — “again”", "root_cause": "leak\nin pool"},
        pagerduty=PagerDutyLink(
            id="PABC123", html_url="https://x.pagerduty.com/i/PABC123", incident_key="a" * 64
        ),
    )
    alerts = (
        make_alert("fp-1", starts_at=at(-30.000007)),
        make_alert("fp-2", status=AlertStatus.RESOLVED, ends_at=at(59.5)),
    )
    entries = (make_entry("opened", kind=TimelineKind.OPENED), make_entry("derived one"))
    entries = (entries[0], replace(entries[1], derived=True, by="Sampler", action="noted"))

    outcome = await store.record(
        incident.correlation_key, open_if_absent(incident, alerts, entries)
    )

    assert outcome.created
    view = await store.load(incident.id)
    assert view.incident == incident
    assert view.incident.started_at.tzinfo is not None
    assert view.alerts == {alert.key: alert for alert in alerts}
    assert await store.load_timeline(incident.id) == list(entries)


async def test_record_without_pagerduty_link_loads_none(store: Store) -> None:
    """An incident with no PagerDuty link and no human fields loads them as None and {}."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))
    loaded = (await store.load(incident.id)).incident
    assert loaded.pagerduty is None
    assert loaded.human == {}
    assert loaded == incident


async def test_record_gives_decide_the_newest_incident_with_alerts(store: Store) -> None:
    """decide sees the newest incident of the key (resolved ones too) with its alerts."""
    old = make_incident(status=IncidentStatus.RESOLVED)
    await store.record(old.correlation_key, open_if_absent(old))
    new = replace(make_incident(created=at(60)), status=IncidentStatus.RESOLVED, resolved_at=at(90))
    alert = make_alert("fp-9")
    await store.record(new.correlation_key, lambda _: Outcome(new, created=True, alerts=(alert,)))
    seen: list[IncidentView | None] = []

    await store.record(new.correlation_key, capture(seen))
    await store.record("other-key", capture(seen))

    assert seen[0] is not None
    assert seen[0].incident == new
    assert seen[0].alerts == {alert.key: alert}
    assert seen[1] is None


async def test_alert_upsert_replaces_status_and_ends_at(store: Store) -> None:
    """Recording the same alert key again replaces its state instead of adding a row."""
    incident = make_incident()
    firing = make_alert("fp-1")
    await store.record(incident.correlation_key, open_if_absent(incident, [firing]))
    resolved = replace(firing, status=AlertStatus.RESOLVED, ends_at=at(120.25), updated_at=at(121))
    refired = make_alert("fp-1", starts_at=at(300))

    await store.record(incident.correlation_key, append([resolved, refired]))

    view = await store.load(incident.id)
    assert view.alerts == {resolved.key: resolved, refired.key: refired}


async def test_timeline_orders_by_time_then_insertion(store: Store) -> None:
    """Entries load ordered by time, and equal times keep the order they were written in."""
    incident = make_incident()
    first = [
        make_entry("b", when=at(10)),
        make_entry("a", when=at(5)),
        make_entry("c", when=at(10)),
    ]
    await store.record(incident.correlation_key, open_if_absent(incident, timeline=first))
    await store.update(incident.id, append(timeline=[make_entry("d", when=at(10))]))

    events = [entry.event for entry in await store.load_timeline(incident.id)]

    assert events == ["a", "b", "c", "d"]


async def test_update_changes_the_incident_row(store: Store) -> None:
    """update() persists the changed incident and appends its timeline entries."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))

    outcome = await store.update(
        incident.id,
        append(
            timeline=[make_entry("acknowledged", kind=TimelineKind.ACKNOWLEDGED)],
            acknowledged_at=at(42.000042),
            acknowledged_by="Jane",
            status=IncidentStatus.MITIGATING,
            human={"summary": "fixed"},
        ),
    )

    loaded = (await store.load(incident.id)).incident
    assert loaded == outcome.incident
    assert loaded.acknowledged_at == at(42.000042)
    assert loaded.status is IncidentStatus.MITIGATING
    assert [e.event for e in await store.load_timeline(incident.id)] == ["acknowledged"]


async def test_unknown_incident_raises_not_found(store: Store) -> None:
    """update, load and load_timeline raise IncidentNotFound for an unknown id."""
    with pytest.raises(IncidentNotFound) as caught:
        await store.update("nope", append())
    assert caught.value.incident_id == "nope"
    with pytest.raises(IncidentNotFound):
        await store.load("nope")
    with pytest.raises(IncidentNotFound):
        await store.load_timeline("nope")


async def test_existing_incident_without_timeline_loads_empty(store: Store) -> None:
    """An incident with no timeline entries loads an empty timeline, not an error."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))
    assert await store.load_timeline(incident.id) == []


async def test_decide_raising_writes_nothing(store: Store) -> None:
    """An exception from decide propagates and leaves the store unchanged."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))

    with pytest.raises(RuntimeError, match="decision failed"):
        await store.record(incident.correlation_key, fail)
    with pytest.raises(RuntimeError, match="decision failed"):
        await store.update(incident.id, fail)

    assert (await store.load(incident.id)).incident == incident
    assert await store.count_open() == 1


async def test_second_open_incident_for_a_key_is_rejected_atomically(store: Store) -> None:
    """The one-open-incident-per-key index rejects a buggy decision and nothing of it is kept."""
    first = make_incident()
    await store.record(first.correlation_key, always_open(first))
    second = make_incident(created=at(1))

    with pytest.raises(StoreError):
        await store.record(
            second.correlation_key,
            lambda _: Outcome(second, created=True, timeline=(make_entry("x"),)),
        )

    page = await store.list_incidents(status=None, open_only=False, limit=10, cursor=None)
    assert [i.id for i in page.incidents] == [first.id]


async def test_nothing_outcome_changes_nothing(store: Store, database_url: str) -> None:
    """A decision that changes nothing leaves the incident and latest_change as they were."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))
    before = await read_latest_change(database_url)

    outcome = await store.record(incident.correlation_key, open_if_absent(make_incident()))

    assert not outcome.changed
    assert await read_latest_change(database_url) == before == incident.updated_at


async def test_outcome_without_incident_cannot_carry_writes(store: Store) -> None:
    """An Outcome with alerts but no incident is a programming error: ValueError."""
    with pytest.raises(ValueError, match="without an incident"):
        await store.record("k", lambda _: Outcome(None, alerts=(make_alert(),)))


async def test_concurrent_records_open_exactly_one_incident(open_stores: OpenStore) -> None:
    """20 concurrent identical notifications of a new group, via two stores, open one incident."""
    stores = [await open_stores(), await open_stores()]
    candidates = [make_incident(key="storm", created=at(i / 1000)) for i in range(20)]

    outcomes = await asyncio.gather(
        *(
            stores[i % 2].record("storm", open_if_absent(incident, [make_alert()]))
            for i, incident in enumerate(candidates)
        )
    )

    assert sum(outcome.created for outcome in outcomes) == 1
    page = await stores[0].list_incidents(status=None, open_only=False, limit=50, cursor=None)
    assert len(page.incidents) == 1
    assert await stores[1].count_open() == 1


async def _seed(store: Store, count: int) -> list[str]:
    """`count` incidents, every third resolved; their ids newest first."""
    ids = []
    for n in range(count):
        status = IncidentStatus.RESOLVED if n % 3 == 0 else IncidentStatus.INVESTIGATING
        incident = make_incident(key=f"k{n}", created=at(n), status=status)
        await store.record(incident.correlation_key, open_if_absent(incident))
        ids.append(incident.id)
    return ids[::-1]


async def _walk(store: Store, *, limit: int, **filters: object) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor: str | None = None
    while True:
        page = await store.list_incidents(
            status=filters.get("status"),  # type: ignore[arg-type]
            open_only=bool(filters.get("open_only", False)),
            limit=limit,
            cursor=cursor,
        )
        pages.append([incident.id for incident in page.incidents])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


async def test_list_pages_cover_every_incident_once(store: Store) -> None:
    """Paging newest first visits every incident exactly once and ends with a None cursor."""
    ids = await _seed(store, 10)

    pages = await _walk(store, limit=3)

    assert [len(page) for page in pages] == [3, 3, 3, 1]
    assert [i for page in pages for i in page] == ids


async def test_list_exact_multiple_of_limit_has_no_empty_page(store: Store) -> None:
    """When the rows fill the last page exactly, next_cursor is already None."""
    ids = await _seed(store, 4)
    assert await _walk(store, limit=2) == [ids[:2], ids[2:]]


async def test_list_filters_open_only_and_status(store: Store) -> None:
    """open_only skips resolved incidents; status filters exactly; paging keeps the filter."""
    ids = await _seed(store, 9)
    resolved = ids[2::3]  # n = 0, 3, 6, newest first
    open_ids = [i for i in ids if i not in resolved]

    open_pages = await _walk(store, limit=2, open_only=True)
    resolved_pages = await _walk(store, limit=2, status=IncidentStatus.RESOLVED)
    mitigating = await _walk(store, limit=2, status=IncidentStatus.MITIGATING)

    assert [i for page in open_pages for i in page] == open_ids
    assert [i for page in resolved_pages for i in page] == resolved
    assert mitigating == [[]]
    assert await store.count_open() == len(open_ids)


async def test_list_orders_by_start_time_not_creation(store: Store) -> None:
    """An incident recorded late but started early (a backfilled or adopted one) sorts by
    its start; equal starts fall back to newest id; paging keeps that order across ties."""
    specs = [("a", 0, 100), ("b", 1, -50), ("c", 2, 100), ("d", 3, 300), ("e", 4, 100)]
    made = {}
    for key, created, started in specs:
        incident = replace(make_incident(key=key, created=at(created)), started_at=at(started))
        await store.record(incident.correlation_key, open_if_absent(incident))
        made[key] = incident.id

    pages = await _walk(store, limit=2)

    expected = [made[k] for k in ("d", "e", "c", "a", "b")]
    assert [i for page in pages for i in page] == expected
    assert [len(page) for page in pages] == [2, 2, 1]


@pytest.mark.parametrize(
    "cursor", ["", "garbage!", "aTE6", "Zm9vYmFy", "i1:abc", "aTI6eDph", "aTI6MDE6YQ", "💥"]
)
async def test_list_rejects_a_cursor_it_did_not_issue(store: Store, cursor: str) -> None:
    """A cursor that is not one of ours raises InvalidCursor carrying it."""
    with pytest.raises(InvalidCursor) as caught:
        await store.list_incidents(status=None, open_only=False, limit=5, cursor=cursor)
    assert caught.value.cursor == cursor


async def test_find_related_matches_alertname_or_service_of_earlier_incidents(store: Store) -> None:
    """Related incidents are earlier ones sharing alertname or service, newest first."""
    specs = [
        ("a", {"alertname": "HighErrorRate", "service": "cart"}),
        ("b", {"alertname": "DiskFull", "service": "checkout"}),
        ("c", {"alertname": "DiskFull", "service": "search"}),
        ("d", {"service": "checkout"}),
        ("subject", {"alertname": "HighErrorRate", "service": "checkout"}),
        ("later", {"alertname": "HighErrorRate", "service": "checkout"}),
    ]
    incidents = {}
    for n, (name, labels) in enumerate(specs):
        incident = make_incident(key=name, created=at(n), labels=labels)
        await store.record(name, open_if_absent(incident))
        incidents[name] = incident

    related = await store.find_related(incidents["subject"], limit=10)
    limited = await store.find_related(incidents["subject"], limit=2)
    unlabeled = await store.find_related(make_incident(labels={"team": "x"}), limit=10)

    ids = [incidents[name].id for name in ("d", "b", "a")]
    assert [i.id for i in related] == ids
    assert [i.id for i in limited] == ids[:2]
    assert unlabeled == []


async def test_count_open_and_latest_change_track_updates(store: Store, database_url: str) -> None:
    """count_open counts unresolved incidents; latest_change is the newest updated_at."""
    assert await store.count_open() == 0
    assert await read_latest_change(database_url) is None
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))

    await store.update(
        incident.id,
        append(status=IncidentStatus.RESOLVED, resolved_at=at(99), updated_at=at(99.000001)),
    )

    assert await store.count_open() == 0
    assert await read_latest_change(database_url) == at(99.000001)


async def test_samples_are_stored_once_and_load_per_signal_in_time_order(store: Store) -> None:
    """save_samples counts only new samples; load_samples groups by signal, oldest first."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))
    batch = [
        StoredSample("error_rate", at(30.000001), 0.25),
        StoredSample("error_rate", at(15), 0.5),
        StoredSample("pool_in_use", at(15), 10.0),
    ]

    first = await store.save_samples(incident.id, batch)
    again = await store.save_samples(
        incident.id, [*batch[:2], StoredSample("error_rate", at(45), math.nan)]
    )
    loaded = await store.load_samples(incident.id)

    assert (first, again) == (3, 1)
    assert loaded.keys() == {"error_rate", "pool_in_use"}
    assert loaded["error_rate"][:2] == [(at(15), 0.5), (at(30.000001), 0.25)]
    assert loaded["error_rate"][2][0] == at(45)
    assert math.isnan(loaded["error_rate"][2][1])
    assert loaded["pool_in_use"] == [(at(15), 10.0)]


async def test_samples_for_unknown_incident(store: Store) -> None:
    """Saving samples for an unknown incident raises IncidentNotFound; loading gives {}."""
    with pytest.raises(IncidentNotFound):
        await store.save_samples("nope", [StoredSample("error_rate", at(0), 1.0)])
    assert await store.save_samples("nope", []) == 0
    assert await store.load_samples("nope") == {}
