"""The paging part of the storage contract, on both backends: dedup, linking, adoption."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from dataclasses import replace
from datetime import datetime

import asyncpg
import pytest

from recorder.core.events import (
    AlertEvent,
    AlertNotification,
    AlertStatus,
    PagedIncident,
    PageEvent,
    PageEventKind,
)
from recorder.core.incident import (
    Incident,
    IncidentStatus,
    IncidentView,
    Outcome,
    PagerDutyLink,
    TimelineKind,
)
from recorder.core.join import JoinLookup, choose_for_alerts, choose_for_page
from recorder.core.lifecycle import Policy, decide_notification
from recorder.core.links import paged_correlation_key, sha256_hex
from recorder.core.paging import PagingPolicy, decide_page_event
from recorder.ids import new_incident_id
from recorder.store.errors import StoreError
from recorder.store.factory import parse_sqlite_path
from recorder.store.migrations import load_migrations, split_sqlite_script
from recorder.store.protocol import Choose, Decide, PageDelivery, Store
from tests.store.builders import (
    T0,
    append,
    at,
    capture,
    make_alert,
    make_incident,
    open_if_absent,
)
from tests.store.conftest import OpenStore
from tests.store.reads import read_page_deliveries

GROUP = '{}:{alertname="PoolExhausted"}'
LINK = sha256_hex(GROUP)


def delivery(event_id: str, *, webhook_id: str | None = None, when: float = 0) -> PageDelivery:
    return PageDelivery(
        event_id=event_id,
        webhook_id=webhook_id,
        event_type="incident.triggered",
        kind="triggered",
        received_at=at(when),
    )


def paged_incident(
    pd_id: str = "PD1", *, key: str = "pagerduty:PD1", link: str | None = LINK
) -> Incident:
    """An open incident PagerDuty opened (not yet adopted by an alert group)."""
    incident = make_incident(key=key)
    return replace(
        incident,
        group_key="",
        opened_by="PagerDuty",
        pagerduty=PagerDutyLink(pd_id, f"https://x.pagerduty.com/incidents/{pd_id}", link),
    )


def page_rule(created: datetime = T0) -> Choose:
    """The real join rule for a page whose PagerDuty incident was created at `created`."""
    return lambda lookup: choose_for_page(lookup, created)


def spy(lookups: list[JoinLookup], choose: Choose | None = None) -> Choose:
    """Choose: remember what the store looked up, then pick as `choose` (default: direct)."""

    def pick(lookup: JoinLookup) -> Incident | None:
        lookups.append(lookup)
        if choose is not None:
            return choose(lookup)
        return lookup.direct.incident if lookup.direct is not None else None

    return pick


def ids(lookups: list[JoinLookup]) -> list[tuple[str | None, list[str]]]:
    """(direct id, linked ids) of each lookup, repeats in a row counted once (PostgreSQL
    looks a page's target up twice: before taking its locks and once it holds them)."""
    pairs = [
        (
            None if lookup.direct is None else lookup.direct.incident.id,
            [incident.id for incident in lookup.linked],
        )
        for lookup in lookups
    ]
    return [pair for n, pair in enumerate(pairs) if n == 0 or pairs[n - 1] != pair]


def am_incident(key: str = f"group:{GROUP}", *, created: datetime = T0) -> Incident:
    """An open incident of the Alertmanager group GROUP (link key sha256(GROUP))."""
    return replace(make_incident(key=key, created=created), group_key=GROUP)


async def test_duplicate_delivery_returns_none_and_writes_nothing(
    store: Store, database_url: str
) -> None:
    """The second delivery of an event id is not decided and changes nothing."""
    incident = paged_incident()
    first = await store.record_page(
        delivery("ev-1", webhook_id="wh-1"),
        pagerduty_id="PD1",
        link_key=LINK,
        decide=open_if_absent(incident),
    )
    assert first is not None
    assert first.created
    seen: list[IncidentView | None] = []
    again = await store.record_page(
        delivery("ev-1", webhook_id="wh-1"), pagerduty_id="PD1", link_key=LINK, decide=capture(seen)
    )
    assert again is None
    assert seen == []
    [logged] = await read_page_deliveries(database_url, limit=10)
    assert (logged.event_id, logged.webhook_id, logged.incident_id, logged.outcome) == (
        "ev-1",
        "wh-1",
        incident.id,
        "stored",
    )


async def test_page_lookup_offers_the_id_incident_and_every_link_key_incident(
    store: Store, database_url: str
) -> None:
    """A page's lookup holds the incident linked to its PagerDuty id and every incident
    with its link key, open or resolved, newest first; the chosen one reaches decide."""
    older = am_incident("group:older", created=at(0))
    await store.record(older.correlation_key, open_if_absent(older))
    await store.update(older.id, append(status=IncidentStatus.RESOLVED, resolved_at=at(1)))
    newer = am_incident(created=at(10))
    await store.record(newer.correlation_key, open_if_absent(newer))
    other = am_incident("group:other", created=at(20))
    other = replace(other, group_key="other", pagerduty=PagerDutyLink("PD9", "", None))
    await store.record(other.correlation_key, open_if_absent(other))

    lookups: list[JoinLookup] = []
    seen: list[IncidentView | None] = []
    rule = spy(lookups, page_rule())
    for event_id, pd_id, link in (("a", "PD1", LINK), ("b", "PD9", LINK), ("c", "PD2", None)):
        await store.record_page(
            delivery(event_id), pagerduty_id=pd_id, link_key=link, decide=capture(seen), choose=rule
        )
    await store.record_page(
        delivery("d"), pagerduty_id="PD3", link_key="f" * 64, decide=capture(seen), choose=rule
    )
    assert ids(lookups) == [
        (None, [newer.id, older.id]),
        (other.id, [newer.id, older.id]),
        (None, []),
    ]
    assert [None if v is None else v.incident.id for v in seen] == [newer.id, other.id, None, None]
    outcomes = {d.event_id: d.outcome for d in await read_page_deliveries(database_url, limit=10)}
    # capture() decides NOTHING (no incident), which the log calls unmatched.
    assert set(outcomes.values()) == {"unmatched"}


async def test_page_joins_a_resolved_incident_it_was_created_during(store: Store) -> None:
    """Alertmanager's firing and resolved arrived before PagerDuty's trigger: the page
    is given the resolved incident of its group, with its alerts."""
    incident = am_incident(created=at(0))
    await store.record(incident.correlation_key, open_if_absent(incident, [make_alert()]))
    await store.update(incident.id, append(status=IncidentStatus.RESOLVED, resolved_at=at(300)))
    seen: list[IncidentView | None] = []
    await store.record_page(
        delivery("late"),
        pagerduty_id="PD1",
        link_key=LINK,
        decide=capture(seen),
        choose=page_rule(at(30)),
    )
    await store.record_page(
        delivery("new"),
        pagerduty_id="PD2",
        link_key=LINK,
        decide=capture(seen),
        choose=page_rule(at(301)),
    )
    assert seen[0] is not None
    assert seen[0].incident.id == incident.id
    assert len(seen[0].alerts) == 1
    assert seen[1] is None


async def test_pagerduty_link_and_status_time_round_trip(store: Store) -> None:
    """The link, its status instant and the derived link key are stored and loaded back."""
    incident = replace(
        paged_incident(),
        pagerduty=PagerDutyLink("PD1", "https://x/PD1", LINK, status_at=at(12.000001)),
    )
    await store.record_page(
        delivery("ev"), pagerduty_id="PD1", link_key=LINK, decide=open_if_absent(incident)
    )
    loaded = (await store.load(incident.id)).incident
    assert loaded.pagerduty == incident.pagerduty
    seen: list[IncidentView | None] = []
    await store.record_page(
        delivery("ev2"), pagerduty_id="PDX", link_key=LINK, decide=capture(seen), choose=page_rule()
    )
    assert seen[0] is not None
    assert seen[0].incident.id == incident.id


async def test_one_incident_per_pagerduty_id(store: Store) -> None:
    """A second incident linked to the same PagerDuty id is refused atomically."""
    first = paged_incident()
    await store.record(first.correlation_key, open_if_absent(first))
    second = replace(paged_incident(key="pagerduty:other"), id=new_incident_id(at(5)))
    with pytest.raises(StoreError):
        await store.record(second.correlation_key, open_if_absent(second))
    page = await store.list_incidents(status=None, open_only=False, limit=10, cursor=None)
    assert [i.id for i in page.incidents] == [first.id]


def alert_rule(starts_at: datetime = T0) -> Choose:
    """The real join rule for alerts that started at `starts_at`."""
    alert = AlertEvent(
        fingerprint="fp",
        status=AlertStatus.FIRING,
        starts_at=starts_at,
        ends_at=None,
        labels={},
        annotations={},
    )
    return lambda lookup: choose_for_alerts(lookup, [alert])


async def test_alert_lookup_offers_only_unadopted_pagerduty_incidents_by_link_key(
    store: Store,
) -> None:
    """record() looks up, beside the key's newest incident, the incidents PagerDuty opened
    with the link key (open or resolved) that no alert group adopted; another group's
    incident with that link key is not among them."""
    opened = paged_incident()
    await store.record(opened.correlation_key, open_if_absent(opened))
    lookups: list[JoinLookup] = []
    seen: list[IncidentView | None] = []
    await store.record(
        f"group:{GROUP}", capture(seen), link_key=LINK, choose=spy(lookups, alert_rule())
    )
    await store.record(f"group:{GROUP}", capture(seen), choose=spy(lookups, alert_rule()))
    assert ids(lookups) == [(None, [opened.id]), (None, [])]
    assert [None if v is None else v.incident.id for v in seen] == [opened.id, None]

    # Label correlation splits one group into several keys sharing the link key.
    split = am_incident('labels:[["service","a"]]')
    await store.update(opened.id, append(status=IncidentStatus.RESOLVED, resolved_at=at(2)))
    await store.record(split.correlation_key, open_if_absent(split))
    lookups.clear()
    await store.record(
        'labels:[["service","b"]]', capture(seen), link_key=LINK, choose=spy(lookups)
    )
    assert ids(lookups) == [(None, [opened.id])]


async def test_alerts_join_a_pagerduty_incident_resolved_after_they_started(
    store: Store,
) -> None:
    """The late-join rule through the store: alerts that started before PagerDuty resolved
    its incident are given that incident; alerts that started after it are not."""
    opened = paged_incident()
    await store.record(opened.correlation_key, open_if_absent(opened))
    await store.update(opened.id, append(status=IncidentStatus.RESOLVED, resolved_at=at(60)))
    seen: list[IncidentView | None] = []
    await store.record(f"group:{GROUP}", capture(seen), link_key=LINK, choose=alert_rule(at(59)))
    await store.record(f"group:{GROUP}", capture(seen), link_key=LINK, choose=alert_rule(at(61)))
    assert [None if v is None else v.incident.id for v in seen] == [opened.id, None]


async def test_record_ignored_logs_once(store: Store, database_url: str) -> None:
    """Ignored deliveries are logged once; the log lists newest first."""
    ping = replace(delivery("ping-1", when=1), event_type="pagey.ping", kind="ping")
    assert await store.record_ignored(ping) is True
    assert await store.record_ignored(ping) is False
    service = replace(delivery("svc-1", webhook_id="wh", when=2), event_type="service.updated")
    assert await store.record_ignored(replace(service, kind="ignored")) is True
    logged = await read_page_deliveries(database_url, limit=10)
    assert [(d.event_id, d.outcome, d.received_at) for d in logged] == [
        ("svc-1", "ignored", at(2)),
        ("ping-1", "ignored", at(1)),
    ]
    assert await read_page_deliveries(database_url, limit=1) == logged[:1]


# ------------------------------------------------------------------ real decisions, racing


def _page(kind: PageEventKind, event_id: str, when: float) -> PageEvent:
    return PageEvent(
        source="PagerDuty",
        event_id=event_id,
        event_type=f"incident.{kind.value}",
        kind=kind,
        occurred_at=at(when),
        agent="Jane Doe",
        incident=PagedIncident(
            id="PD1", html_url="https://x/PD1", title="Pool", incident_key=LINK, created_at=at(3)
        ),
    )


def _page_decide(event: PageEvent, now: datetime) -> Decide:
    new_id = new_incident_id(now)

    def decide(view: IncidentView | None) -> Outcome:
        return decide_page_event(view, event, now=now, new_id=new_id, policy=PagingPolicy())

    return decide


def _alert_decide(now: datetime) -> Decide:
    notification = AlertNotification(
        source="Alertmanager",
        receiver="r",
        group_key=GROUP,
        alerts=(
            AlertEvent(
                fingerprint="fp",
                status=AlertStatus.FIRING,
                starts_at=T0,
                ends_at=None,
                labels={"alertname": "PoolExhausted"},
                annotations={},
            ),
        ),
    )
    new_id = new_incident_id(now)

    def decide(view: IncidentView | None) -> Outcome:
        return decide_notification(
            view,
            notification,
            correlation_key=f"group:{GROUP}",
            now=now,
            new_id=new_id,
            policy=Policy(),
        )

    return decide


async def test_racing_pages_and_alerts_of_one_group_make_one_incident(
    open_stores: OpenStore, database_url: str
) -> None:
    """Triggers, acks (each redelivered) and alert notifications for one group, racing over
    two stores, end as one incident with one acknowledgment and the alert's start."""
    stores = [await open_stores(), await open_stores()]
    jobs = []
    for n in range(6):
        store = stores[n % 2]
        now = at(100 + n / 1000)
        trigger = _page(PageEventKind.TRIGGERED, "ev-trigger", 4)
        ack = _page(PageEventKind.ACKNOWLEDGED, "ev-ack", 120)
        jobs.append(
            store.record_page(
                delivery("ev-trigger"),
                pagerduty_id="PD1",
                link_key=LINK,
                decide=_page_decide(trigger, now),
                choose=page_rule(at(3)),
            )
        )
        jobs.append(
            store.record_page(
                delivery("ev-ack"),
                pagerduty_id="PD1",
                link_key=LINK,
                decide=_page_decide(ack, now),
                choose=page_rule(at(3)),
            )
        )
        jobs.append(
            store.record(f"group:{GROUP}", _alert_decide(now), link_key=LINK, choose=alert_rule())
        )
    results = await asyncio.gather(*jobs)

    assert sum(1 for r in results if r is not None and r.created) == 1
    page = await stores[0].list_incidents(status=None, open_only=False, limit=10, cursor=None)
    assert len(page.incidents) == 1
    view = await stores[1].load(page.incidents[0].id)
    incident = view.incident
    assert incident.correlation_key == f"group:{GROUP}"
    assert incident.correlation_key != paged_correlation_key("PD1")
    assert (incident.acknowledged_at, incident.acknowledged_by) == (at(120), "Jane Doe")
    assert incident.started_at == T0
    assert incident.pagerduty is not None
    assert incident.pagerduty.id == "PD1"
    timeline = await stores[0].load_timeline(incident.id)
    assert [e.kind for e in timeline].count(TimelineKind.ACKNOWLEDGED) == 1
    assert len(await read_page_deliveries(database_url, limit=10)) == 2


_SCHEMA_MIGRATIONS = (
    "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
    "applied_at {at})"
)
_APPLIED = "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)"


async def _apply_until_pagerduty(database_url: str) -> None:
    """Create the schema as it was before 0003 and one Alertmanager incident in it."""
    columns = (
        "id, correlation_key, group_key, title, status, labels, started_at, detected_at, "
        "updated_at, opened_by, severity_source"
    )
    if database_url.startswith("sqlite:"):
        path = parse_sqlite_path(database_url.removeprefix("sqlite://"))
        with contextlib.closing(sqlite3.connect(path)) as conn:
            conn.execute(_SCHEMA_MIGRATIONS.format(at="TEXT DEFAULT CURRENT_TIMESTAMP"))
            for migration in load_migrations("sqlite"):
                if migration.version < 3:
                    for statement in split_sqlite_script(migration.sql):
                        conn.execute(statement)
                    conn.execute(
                        _APPLIED.replace("$1", "?").replace("$2", "?"),
                        (migration.version, migration.name),
                    )
            conn.execute(
                f"INSERT INTO incidents ({columns}) VALUES "
                "('i-old', 'group:x', ?, 't', 'investigating', '{}', 0, 0, 0, 'Alertmanager', "
                "'alerts')",
                (GROUP,),
            )
            conn.commit()
        return
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(_SCHEMA_MIGRATIONS.format(at="timestamptz DEFAULT now()"))
        for migration in load_migrations("postgres"):
            if migration.version < 3:
                await conn.execute(migration.sql)
                await conn.execute(_APPLIED, migration.version, migration.name)
        await conn.execute(
            f"INSERT INTO incidents ({columns}) VALUES ('i-old', 'group:x', $1, 't', "
            "'investigating', '{}', now(), now(), now(), 'Alertmanager', 'alerts')",
            GROUP,
        )
    finally:
        await conn.close()


async def test_migration_backfills_link_keys_of_existing_incidents(
    database_url: str, open_stores: OpenStore
) -> None:
    """An incident stored before 0003 gets sha256_hex(group_key) as link key, so a page
    arriving after the upgrade still finds it."""
    await _apply_until_pagerduty(database_url)
    store = await open_stores()
    seen: list[IncidentView | None] = []
    await store.record_page(
        delivery("ev"), pagerduty_id="PD1", link_key=LINK, decide=capture(seen), choose=page_rule()
    )
    assert [None if v is None else v.incident.id for v in seen] == ["i-old"]


async def test_update_follows_an_adopted_incident(store: Store) -> None:
    """After alerts adopt a PagerDuty-opened incident (its key changes), updates still apply."""
    opened = paged_incident()
    await store.record(opened.correlation_key, open_if_absent(opened))
    await store.record(
        f"group:{GROUP}",
        lambda view: Outcome(
            incident=replace(view.incident, correlation_key=f"group:{GROUP}", group_key=GROUP)
            if view
            else None,
            incident_changed=True,
        ),
        link_key=LINK,
        choose=alert_rule(),
    )
    outcome = await store.update(opened.id, append(title="renamed"))
    assert outcome.incident is not None
    loaded = (await store.load(opened.id)).incident
    assert (loaded.title, loaded.correlation_key) == ("renamed", f"group:{GROUP}")
