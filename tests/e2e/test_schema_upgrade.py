"""A rolling update's database: the previous schema version with its rows, then
`recorder migrate`, then the new code serving them (both backends); and every migration
only expands the schema, so replicas still on the previous version keep working."""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from recorder.core.correlation import bounded_key
from recorder.ids import new_incident_id
from recorder.store.factory import open_store, parse_sqlite_path
from recorder.store.migrations import load_migrations
from tests.conftest import fixture_bytes
from tests.e2e.daemon import Daemon, free_port, recorder_env, run_recorder

STARTED = datetime(2026, 11, 28, 17, 37, 3, 194000, tzinfo=UTC)
DETECTED = datetime(2026, 11, 28, 17, 37, 5, tzinfo=UTC)


def backend_of(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgres"


def micros(at: datetime) -> int:
    return round(at.timestamp() * 1_000_000)


async def migrate_to_previous_version(url: str) -> int:
    """Apply every migration but the newest, with the recorder's own migration code: the
    newest is marked applied first, so it is skipped, then unmarked. Returns its version."""
    newest = load_migrations(backend_of(url))[-1]
    mark = (
        f"INSERT INTO schema_migrations (version, name) VALUES ({newest.version}, '{newest.name}')"
    )
    if backend_of(url) == "sqlite":
        path = parse_sqlite_path(url.partition("://")[2])
        with sqlite3.connect(path) as conn:
            conn.execute(
                "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                "name TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT '')"
            )
            conn.execute(mark)
    else:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, "
                "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            await conn.execute(mark)
        finally:
            await conn.close()
    store = open_store(url)
    try:
        applied = await store.migrate()
    finally:
        await store.close()
    assert newest.version not in applied
    await execute(url, f"DELETE FROM schema_migrations WHERE version = {newest.version}")
    return newest.version


async def execute(url: str, sql: str) -> None:
    """Run one parameterless statement on either backend."""
    if backend_of(url) == "sqlite":
        with sqlite3.connect(parse_sqlite_path(url.partition("://")[2])) as conn:
            conn.execute(sql)
        return
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def write_previous_version_rows(url: str, payload: dict[str, Any]) -> str:
    """An open incident with one firing alert and its 'opened' entry, written with only
    the columns the previous schema version has."""
    incident_id = new_incident_id(DETECTED)
    alert = payload["alerts"][0]
    labels = json.dumps(payload["commonLabels"])
    sqlite = backend_of(url) == "sqlite"

    def at(value: datetime) -> Any:
        return micros(value) if sqlite else value

    placeholders = ", ".join("?" if sqlite else f"${i}" for i in range(1, 13))
    incident = (
        "INSERT INTO incidents (id, correlation_key, group_key, title, status, severity, "
        "labels, started_at, detected_at, updated_at, opened_by, severity_source) "
        f"VALUES ({placeholders})"
    )
    values = (
        incident_id,
        bounded_key("group:" + payload["groupKey"]),
        payload["groupKey"],
        "DiskAlmostFull",
        "investigating",
        "SEV1",
        labels,
        at(STARTED),
        at(DETECTED),
        at(DETECTED),
        "Alertmanager",
        "alerts",
    )
    placeholders = ", ".join("?" if sqlite else f"${i}" for i in range(1, 10))
    alert_sql = (
        "INSERT INTO alerts (incident_id, fingerprint, starts_at, status, labels, "
        "annotations, generator_url, received_at, updated_at) "
        f"VALUES ({placeholders})"
    )
    alert_values = (
        incident_id,
        alert["fingerprint"],
        at(STARTED),
        "firing",
        json.dumps(alert["labels"]),
        json.dumps(alert["annotations"]),
        alert["generatorURL"],
        at(DETECTED),
        at(DETECTED),
    )
    placeholders = ", ".join("?" if sqlite else f"${i}" for i in range(1, 8))
    entry_sql = (
        "INSERT INTO timeline (incident_id, at, event, action, actor, source, kind) "
        f"VALUES ({placeholders})"
    )
    entry = (incident_id, at(DETECTED), "Incident opened", "", "Alertmanager", "", "opened")
    if sqlite:
        with sqlite3.connect(parse_sqlite_path(url.partition("://")[2])) as conn:
            conn.execute(incident, values)
            conn.execute(alert_sql, alert_values)
            conn.execute(entry_sql, entry)
    else:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(incident, *values)
            await conn.execute(alert_sql, *alert_values)
            await conn.execute(entry_sql, *entry)
        finally:
            await conn.close()
    return incident_id


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310
        return json.loads(response.read())


def post(url: str, body: bytes) -> int:
    request = urllib.request.Request(  # noqa: S310
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        status: int = response.status
        return status


def test_new_code_serves_what_the_previous_schema_version_stored(
    tmp_path: Path, database_url: str
) -> None:
    """Previous schema + its rows → `recorder migrate` → `recorder serve`: the incident
    reads back whole, and its resolution arrives and closes it."""
    firing = json.loads(fixture_bytes("alertmanager_firing.json"))
    newest = asyncio.run(migrate_to_previous_version(database_url))
    incident_id = asyncio.run(write_previous_version_rows(database_url, firing))

    env = recorder_env(RECORDER_DATABASE_URL=database_url)
    migrated = run_recorder("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert f"applied migrations: [{newest}]" in migrated.stdout

    daemon = Daemon.start(port=free_port(), env=env, cwd=tmp_path, args=("--no-migrate",))
    try:
        daemon.wait_listening()
        daemon.wait_status("/readyz", 200)
        incident = get_json(f"{daemon.url}/api/v1/incidents/{incident_id}")
        assert incident["status"] == "investigating"
        assert incident["labels"] == firing["commonLabels"]
        assert [a["labels"] for a in incident["alerts"]] == [firing["alerts"][0]["labels"]]
        status = post(
            f"{daemon.url}/webhooks/alertmanager", fixture_bytes("alertmanager_resolved.json")
        )
        assert status == 200
        resolved = get_json(f"{daemon.url}/api/v1/incidents/{incident_id}")
        assert resolved["status"] == "resolved"
        listed = get_json(f"{daemon.url}/api/v1/incidents")["incidents"]
        assert [i["id"] for i in listed] == [incident_id]
        daemon.terminate()
        assert daemon.wait_exit() == 0
    finally:
        daemon.kill()


# What a migration may not do while replicas of the previous version still run (the
# "contract" half of expand/contract ships in a later release; see deploy/README.md).
CONTRACTING = re.compile(
    r"\bDROP\s+(COLUMN|TABLE)\b|\bRENAME\b|\bALTER\s+COLUMN\b|\bSET\s+NOT\s+NULL\b"
    r"|\bADD\s+COLUMN\s+\w+\s+\w+\s+NOT\s+NULL\b(?![^,;]*\bDEFAULT\b)",
    re.IGNORECASE,
)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_every_migration_only_expands_the_schema(backend: str) -> None:
    """No migration drops, renames or retypes what the previous version reads or writes,
    nor adds a NOT NULL column without a default that its INSERTs would violate."""
    for migration in load_migrations(backend):
        if migration.sql.startswith("-- contract:"):
            continue  # a deliberate contract step, released after its expand step
        code = "\n".join(line.split("--", 1)[0] for line in migration.sql.splitlines())
        found = CONTRACTING.search(code)
        assert found is None, (migration.version, migration.name, found.group(0) if found else "")
