"""What reports need beyond the latest state, on both backends: alert texts at firing
and resolution, the settings frozen at resolution, and migrating older databases."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import asyncpg
import pytest

from recorder.core.events import AlertStatus
from recorder.core.incident import AlertText, IncidentStatus
from recorder.prometheus.failures import FailureCause, SamplingFailure
from recorder.store.errors import IncidentNotFound
from recorder.store.migrations import Migration, load_migrations
from recorder.store.postgres import schema as postgres_store
from recorder.store.protocol import Store
from recorder.store.sqlite import schema as sqlite_store
from tests.store.builders import T0, append, at, make_alert, make_incident, open_if_absent
from tests.store.conftest import OpenStore

FIRED = AlertText({"summary": "5xx at 97.5 %", "description": "ünïcödé 🔥"}, "B=0.975")
RESOLVED = AlertText({"summary": "5xx at 8.484 %"})


async def test_alert_texts_at_firing_and_resolution_round_trip(store: Store) -> None:
    """Both texts (annotations and value text) load back exactly; an alert first stored
    firing has no resolution text yet."""
    incident = make_incident()
    firing = replace(make_alert(), at_firing=FIRED)
    await store.record(incident.correlation_key, open_if_absent(incident, [firing]))
    loaded = (await store.load(incident.id)).alerts[firing.key]
    assert loaded.at_firing == FIRED
    assert loaded.at_resolution is None
    assert loaded.resolution_text is None

    resolved = replace(
        firing,
        status=AlertStatus.RESOLVED,
        ends_at=at(60),
        annotations=dict(RESOLVED.annotations),
        at_resolution=RESOLVED,
    )
    await store.record(incident.correlation_key, append([resolved]))
    loaded = (await store.load(incident.id)).alerts[firing.key]
    assert loaded.firing_text == FIRED
    assert loaded.resolution_text == RESOLVED
    assert loaded.annotations == RESOLVED.annotations


async def test_figure_settings_are_kept_and_dropped_with_the_incident(store: Store) -> None:
    """The settings copy written with a resolved incident loads back byte for byte, and
    writing it as None drops it."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))
    frozen = '{"severity":{"critical":"SEV1"},"slo_target":0.999}'
    await store.record(
        incident.correlation_key,
        append(status=IncidentStatus.RESOLVED, resolved_at=at(90), figure_settings=frozen),
    )
    assert (await store.load(incident.id)).incident.figure_settings == frozen
    assert (
        await store.list_incidents(status=None, open_only=False, limit=5, cursor=None)
    ).incidents[0].figure_settings == frozen
    await store.record(
        incident.correlation_key,
        append(status=IncidentStatus.INVESTIGATING, resolved_at=None, figure_settings=None),
    )
    assert (await store.load(incident.id)).incident.figure_settings is None


def _before_0005(migrations: tuple[Migration, ...]) -> list[Migration]:
    return [m for m in migrations if m.version < 5]


async def _insert_old_rows(store: Store, database_url: str) -> None:
    """An incident and a resolved alert written as a release before 0005 wrote them."""
    incident_sql = (
        "INSERT INTO incidents (id, correlation_key, group_key, title, status, labels,"
        " started_at, detected_at, updated_at, opened_by, severity_source, resolved_at)"
        " VALUES ({p}, 'k', 'g', 'Old', 'resolved', '{{}}', {t}, {t}, {t}, 'Alertmanager',"
        " 'alerts', {t})"
    )
    alert_sql = (
        "INSERT INTO alerts (incident_id, fingerprint, starts_at, status, ends_at, labels,"
        " annotations, generator_url, received_at, updated_at)"
        " VALUES ({p}, 'fp', {t}, 'resolved', {t}, '{{\"alertname\":\"Old\"}}',"
        " '{{\"summary\":\"what it said last\"}}', '', {t}, {t})"
    )
    if store.backend == "sqlite":
        micros = 1_714_564_800_123_456
        conn = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        try:
            conn.execute(incident_sql.format(p="'old-1'", t=micros))
            conn.execute(alert_sql.format(p="'old-1'", t=micros))
            conn.commit()
        finally:
            conn.close()
        return
    pg = await asyncpg.connect(database_url)
    try:
        await pg.execute(incident_sql.format(p="'old-1'", t="$1"), T0)
        await pg.execute(alert_sql.format(p="'old-1'", t="$1"), T0)
    finally:
        await pg.close()


async def test_rows_from_before_0005_keep_what_they_show(
    open_stores: OpenStore, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A database at version 4 with an alert in it migrates; the alert keeps showing its
    annotations at firing and at resolution, and the incident has no frozen settings."""
    backend_module = sqlite_store if database_url.startswith("sqlite") else postgres_store
    with monkeypatch.context() as patch:
        if backend_module is sqlite_store:
            patch.setattr(
                sqlite_store, "load_migrations", lambda b: _before_0005(load_migrations(b))
            )
        else:
            original = postgres_store.pending_migrations
            patch.setattr(
                postgres_store,
                "pending_migrations",
                lambda b, applied: [m for m in original(b, applied) if m.version < 5],
            )
        old = await open_stores()
    await _insert_old_rows(old, database_url)
    store = await open_stores(migrate=False)
    assert 5 in await store.migrate()
    view = await store.load("old-1")
    (alert,) = view.alerts.values()
    assert alert.at_firing is None
    assert alert.firing_text == AlertText({"summary": "what it said last"})
    assert alert.resolution_text == AlertText({"summary": "what it said last"})
    assert view.incident.figure_settings is None


def failure(
    cause: FailureCause, error: str, first: float, last: float, count: int = 1
) -> SamplingFailure:
    """A failure of error_rate's query asked of one Prometheus."""
    return SamplingFailure(
        signal="error_rate",
        cause=cause,
        error=error,
        source="http://127.0.0.1:9",
        first_at=at(first),
        last_at=at(last),
        count=count,
    )


async def test_sampling_failures_add_up_per_signal_and_cause(store: Store) -> None:
    """Counts add up, the first failure stays the earliest and the newest error text
    wins, per (signal, cause); causes are kept apart; a batch may repeat a key."""
    incident = make_incident()
    await store.record(incident.correlation_key, open_if_absent(incident))
    assert await store.load_sampling_failures(incident.id) == []
    unreachable = FailureCause.UNREACHABLE
    await store.save_sampling_failures(
        incident.id,
        [
            failure(unreachable, "connection refused", 15, 15),
            failure(unreachable, "connection refused again", 30, 30),
            replace(failure(FailureCause.NO_SERIES, "no series", 0, 0), signal="pool_max"),
        ],
    )
    await store.save_sampling_failures(
        incident.id,
        [
            failure(unreachable, "timed out", 45, 60, count=2),
            failure(unreachable, "an older report arriving late", 5, 5),
        ],
    )
    loaded = await store.load_sampling_failures(incident.id)
    assert loaded == [
        failure(unreachable, "timed out", 5, 60, count=5),
        replace(failure(FailureCause.NO_SERIES, "no series", 0, 0), signal="pool_max"),
    ]


async def test_sampling_failures_of_an_unknown_incident_are_refused(store: Store) -> None:
    """Failures for an incident that does not exist raise IncidentNotFound; an empty
    batch writes nothing."""
    with pytest.raises(IncidentNotFound):
        await store.save_sampling_failures(
            "no-such-incident", [failure(FailureCause.UNREACHABLE, "refused", 0, 0)]
        )
    await store.save_sampling_failures("no-such-incident", [])
