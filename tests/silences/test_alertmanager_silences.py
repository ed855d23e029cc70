"""Silences as acknowledgment against Debian's real Alertmanager and amtool, both backends.

Alerts are posted to Alertmanager's API and reach the recorder through its webhook; a
person's `amtool silence add --author NAME` then acknowledges the incident at the
silence's startsAt, by NAME, and the report's time to acknowledge follows.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry

from recorder.core.durations import format_duration
from recorder.demo.stack import ALERTMANAGER_BINARIES, AlertmanagerServer, free_port
from recorder.settings import load_settings
from recorder.timefmt import parse_rfc3339
from recorder.web.app import create_app
from tests.conftest import fixture_bytes, require_binary

DEADLINE = 30.0
LABELS = {"alertname": "DiskAlmostFull", "service": "db", "severity": "critical"}


@dataclass
class Lab:
    """The recorder (in process, real clock) and a real Alertmanager wired to each other."""

    client: TestClient[Any, Any]
    alertmanager: AlertmanagerServer
    amtool_binary: str
    session: aiohttp.ClientSession

    async def post_alert(self, labels: dict[str, str], starts_at: datetime) -> None:
        """POST one alert to Alertmanager's API, as Prometheus would."""
        alert = {
            "labels": labels,
            "annotations": {"summary": "disk almost full"},
            "startsAt": starts_at.isoformat().replace("+00:00", "Z"),
            "generatorURL": "http://prometheus.example/graph",
        }
        url = self.alertmanager.url + "/api/v2/alerts"
        async with self.session.post(url, json=[alert]) as resp:
            assert resp.status == 200, await resp.text()

    async def amtool(self, *args: str) -> str:
        """Run amtool against this Alertmanager; its stdout."""
        process = await asyncio.create_subprocess_exec(
            self.amtool_binary,
            f"--alertmanager.url={self.alertmanager.url}",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), DEADLINE)
        assert process.returncode == 0, err.decode()
        return out.decode().strip()

    async def silence(self, author: str, *matchers: str) -> datetime:
        """`amtool silence add` as a person would; the silence's startsAt."""
        silence_id = await self.amtool(
            "silence", "add", f"--author={author}", "--comment=on it", "--duration=1h", *matchers
        )
        url = f"{self.alertmanager.url}/api/v2/silence/{silence_id}"
        async with self.session.get(url) as resp:
            assert resp.status == 200
            return parse_rfc3339((await resp.json())["startsAt"])

    async def incidents(self) -> list[dict[str, Any]]:
        resp = await self.client.get("/api/v1/incidents")
        assert resp.status == 200
        return list((await resp.json())["incidents"])

    async def incident(self, incident_id: str) -> dict[str, Any]:
        resp = await self.client.get(f"/api/v1/incidents/{incident_id}")
        assert resp.status == 200
        return dict(await resp.json())

    async def polls(self, outcome: str) -> float:
        text = await (await self.client.get("/metrics")).text()
        name = f'recorder_silence_polls_total{{outcome="{outcome}"}}'
        for line in text.splitlines():
            if line.startswith(name):
                return float(line.rsplit(" ", 1)[1])
        raise AssertionError(f"{name} not exported")


async def wait_for(
    check: Callable[[], Awaitable[Any]], what: str, deadline: float = DEADLINE
) -> Any:
    """Poll `check` until it returns something truthy, failing after `deadline` seconds."""
    end = time.monotonic() + deadline
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def lab(aiohttp_client: Any, database_url: str, tmp_path: Path) -> AsyncIterator[Lab]:
    """Recorder on the parametrized backend polling silences every 200 ms, and a real
    Alertmanager sending its groups to the recorder's webhook. The recorder's
    RECORDER_ALERTMANAGER_URL is an HA list whose first peer is down."""
    alertmanager = AlertmanagerServer(
        require_binary(*ALERTMANAGER_BINARIES), tmp_path / "alertmanager", webhook_url=""
    )
    alertmanager.port = free_port()
    dead_peer = f"http://127.0.0.1:{free_port()}"
    env = {
        "RECORDER_DATABASE_URL": database_url,
        "RECORDER_ALERTMANAGER_URL": f"{dead_peer},{alertmanager.url}",
    }
    settings = load_settings(environ=env, flags={"silence_poll": "200ms"})
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(settings, registry=CollectorRegistry())
    )
    alertmanager.webhook_url = str(client.make_url("/webhooks/alertmanager"))
    await asyncio.to_thread(alertmanager.start)
    try:
        async with aiohttp.ClientSession() as session:
            yield Lab(client, alertmanager, require_binary("amtool"), session)
    finally:
        await asyncio.to_thread(alertmanager.stop)


async def open_incident(lab: Lab, labels: dict[str, str] = LABELS) -> tuple[str, datetime]:
    """Fire an alert that started two minutes ago; the incident it opened and its start."""
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=2)
    await lab.post_alert(labels, started)
    found = await wait_for(lab.incidents, "Alertmanager's notification to open an incident")
    [incident] = found
    assert parse_rfc3339(incident["started_at"]) == started
    return str(incident["id"]), started


async def acknowledged(lab: Lab, incident_id: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        incident = await lab.incident(incident_id)
        return incident if incident["acknowledged_at"] else None

    found: dict[str, Any] = await wait_for(check, "the silence to acknowledge the incident")
    return found


async def assert_acknowledged_by_silence(
    lab: Lab, incident_id: str, started: datetime, silenced_at: datetime, author: str
) -> None:
    """acknowledged_at = the silence's startsAt, by its author; timeline and TTA follow."""
    incident = await acknowledged(lab, incident_id)
    assert parse_rfc3339(incident["acknowledged_at"]) == silenced_at
    assert incident["acknowledged_by"] == author
    silenced = [e for e in incident["timeline"] if e["kind"] == "silenced"]
    assert [e["by"] for e in silenced] == [author]
    assert silenced[0]["event"].startswith(f"Silenced by {author} until ")
    assert silenced[0]["event"].endswith(": on it")
    assert silenced[0]["source"] == "Alertmanager"

    seconds = (silenced_at - started).total_seconds()
    resp = await lab.client.get(f"/api/v1/incidents/{incident_id}/report?format=json")
    figure = (await resp.json())["figures"]["time_to_acknowledge"]
    assert figure["value"] == pytest.approx(seconds)
    markdown = await (await lab.client.get(f"/api/v1/incidents/{incident_id}/report")).text()
    assert f"- **Time to acknowledge**: {format_duration(seconds)}" in markdown
    assert f"by {author}" in markdown


async def test_regex_silence_acknowledges_the_incident(lab: Lab) -> None:
    """`amtool silence add --author alice alertname=~"Disk.*"` acknowledges at its start
    (read from the second peer of the HA list: the first is down)."""
    incident_id, started = await open_incident(lab)
    silenced_at = await lab.silence("alice", "alertname=~Disk.*")
    await assert_acknowledged_by_silence(lab, incident_id, started, silenced_at, "alice")
    assert await lab.polls("ok") >= 1

    # A later silence on the acknowledged incident is in the timeline; alice's ack stays.
    await lab.silence("bob", "service=~d.")

    async def two_silences() -> dict[str, Any] | None:
        incident = await lab.incident(incident_id)
        silenced = [e for e in incident["timeline"] if e["kind"] == "silenced"]
        return incident if len(silenced) == 2 else None

    incident = await wait_for(two_silences, "the second silence in the timeline")
    assert incident["acknowledged_by"] == "alice"
    assert parse_rfc3339(incident["acknowledged_at"]) == silenced_at
    assert [e["by"] for e in incident["timeline"] if e["kind"] == "acknowledged"] == ["alice"]


async def test_negative_matcher_that_excludes_the_alert_does_not_acknowledge(lab: Lab) -> None:
    """A silence whose negative matcher excludes the alert (service!=db) is not an
    acknowledgment; a later one whose negative matcher lets it through (service!=web) is."""
    incident_id, started = await open_incident(lab)
    await lab.silence("bob", "alertname=DiskAlmostFull", "service!=db")
    seen = await lab.polls("ok")
    await wait_for(lambda: _more(lab.polls("ok"), seen + 3), "three polls after the first silence")
    incident = await lab.incident(incident_id)
    assert incident["acknowledged_at"] is None
    assert not [e for e in incident["timeline"] if e["kind"] == "silenced"]

    silenced_at = await lab.silence("carol", "alertname=DiskAlmostFull", "service!=web")
    await assert_acknowledged_by_silence(lab, incident_id, started, silenced_at, "carol")


async def test_alertmanager_down_is_counted_and_webhooks_are_unaffected(lab: Lab) -> None:
    """Alertmanager stopped mid-run: polls fail (counted), webhooks still answer at once;
    once it is back, the next poll reads the silence."""
    incident_id, started = await open_incident(lab)
    await asyncio.to_thread(lab.alertmanager.stop)
    failed = await lab.polls("unreachable")
    await wait_for(lambda: _more(lab.polls("unreachable"), failed + 2), "failed polls")

    # Another group (the fixture's groupKey is this lab's), posted straight to the recorder.
    document = json.loads(fixture_bytes("alertmanager_firing.json"))
    document["groupKey"] = '{}:{alertname="WebhookStillServed"}'
    body = json.dumps(document).encode()
    for _ in range(5):
        began = time.perf_counter()
        resp = await lab.client.post(
            "/webhooks/alertmanager", data=body, headers={"Content-Type": "application/json"}
        )
        assert resp.status == 200
        assert time.perf_counter() - began < 1.0
    assert len(await lab.incidents()) == 2

    await asyncio.to_thread(lab.alertmanager.start)
    silenced_at = await lab.silence("dave", "alertname=DiskAlmostFull", "service=db")
    await assert_acknowledged_by_silence(lab, incident_id, started, silenced_at, "dave")


async def _more(value: Awaitable[float], at_least: float) -> bool:
    return await value >= at_least
