"""Rolling restart of two real `recorder serve` replicas on one PostgreSQL while a client
with Alertmanager's retry behaviour sends 1,000 notifications round-robin: nothing lost,
nothing recorded twice, no error but retried 503s and refused connections: no connection
the kernel accepted is reset or closed before its answer (see recorder/listening.py).

Run with `-s` to see the figures (duration, restarts, attempts, outcomes)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.e2e.daemon import Daemon, free_port, recorder_env, run_recorder

pytestmark = pytest.mark.postgres

NOTIFICATIONS = 1000
CONCURRENCY = 16
MIN_DURATION_S = 15.0  # paced so restarts happen while notifications flow
FIRST_BACKOFF_S = 0.05
MAX_BACKOFF_S = 1.0
ATTEMPT_TIMEOUT_S = 10.0


def notification(n: int) -> bytes:
    """Alertmanager webhook v4 for group `n`: one firing alert, its own groupKey."""
    labels = {"alertname": "RollingRestart", "n": str(n), "severity": "warning"}
    return json.dumps(
        {
            "version": "4",
            "status": "firing",
            "receiver": "incident-recorder",
            "groupKey": f'{{}}:{{n="{n}"}}',
            "truncatedAlerts": 0,
            "groupLabels": {"n": str(n)},
            "commonLabels": labels,
            "commonAnnotations": {},
            "externalURL": "http://alertmanager:9093",
            "alerts": [
                {
                    "status": "firing",
                    "labels": labels,
                    "annotations": {"summary": f"group {n}"},
                    "startsAt": "2026-11-29T12:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus:9090/graph",
                    "fingerprint": f"{n:016x}",
                }
            ],
        }
    ).encode()


@dataclass
class Tally:
    """What the client saw, attempt by attempt."""

    delivered: int = 0
    attempts: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    failed: list[str] = field(default_factory=list)  # never delivered, or a 4xx
    unexpected: list[str] = field(default_factory=list)  # errors retried but not allowed


async def deliver(
    session: aiohttp.ClientSession, urls: list[str], turn: list[int], n: int, tally: Tally
) -> None:
    """Send notification `n` until a 200, retrying 5xx and connection errors with
    exponential backoff (Alertmanager's notifier does the same), each attempt to the
    next replica in round-robin order."""
    body = notification(n)
    backoff = FIRST_BACKOFF_S
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        url = urls[turn[0] % len(urls)]
        turn[0] += 1
        tally.attempts += 1
        try:
            async with session.post(
                f"{url}/webhooks/alertmanager",
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=ATTEMPT_TIMEOUT_S),
            ) as response:
                await response.read()
                if response.status == 200:
                    tally.outcomes["200"] += 1
                    tally.delivered += 1
                    return
                tally.outcomes[str(response.status)] += 1
                if response.status < 500:
                    tally.failed.append(f"{n}: {response.status}")
                    return
        except aiohttp.ClientConnectorError:
            tally.outcomes["refused"] += 1
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            # Reset or closed before any response: a connection the stopping replica
            # took but never served. Not allowed; counted to say what happened.
            tally.outcomes["closed before response"] += 1
            tally.unexpected.append(f"{n} via {url}: {exc!r}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            tally.outcomes[type(exc).__name__] += 1
            tally.unexpected.append(f"{n} via {url}: {exc!r}")
        await asyncio.sleep(backoff)
        backoff = min(MAX_BACKOFF_S, backoff * 2)
    tally.failed.append(f"{n}: gave up")


async def send_all(urls: list[str], tally: Tally) -> float:
    """Send every notification, CONCURRENCY at a time, paced over MIN_DURATION_S."""
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(NOTIFICATIONS):
        queue.put_nowait(n)
    started = time.monotonic()
    turn = [0]
    interval = MIN_DURATION_S / NOTIFICATIONS

    async def worker(session: aiohttp.ClientSession) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            not_before = started + n * interval
            await asyncio.sleep(max(0.0, not_before - time.monotonic()))
            await deliver(session, urls, turn, n, tally)

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(CONCURRENCY)))
    return time.monotonic() - started


@dataclass
class Restarts:
    """The replicas, restarted one at a time until told to stop."""

    daemons: list[Daemon]
    env: dict[str, str]
    cwd: Path
    exit_codes: list[int] = field(default_factory=list)
    stop_s: list[float] = field(default_factory=list)
    down_s: list[float] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    stderr: list[str] = field(default_factory=list)

    def run(self) -> None:
        index = 0
        while not self.stop.is_set():
            old = self.daemons[index]
            began = time.monotonic()
            old.terminate()
            self.exit_codes.append(old.wait_exit(within=30))
            self.stop_s.append(time.monotonic() - began)
            self.stderr.append(old.stderr)
            new = Daemon.start(port=old.port, env=self.env, cwd=self.cwd)
            self.daemons[index] = new
            new.wait_listening()
            new.wait_status("/readyz", 200)
            self.down_s.append(time.monotonic() - began)
            index = (index + 1) % len(self.daemons)


async def stored_counts(dsn: str) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """Incidents per groupKey, alert rows per incident, timeline rows per incident."""
    conn = await asyncpg.connect(dsn)
    try:
        incidents = await conn.fetch("SELECT id, group_key FROM incidents")
        alerts = await conn.fetch("SELECT incident_id FROM alerts")
        timeline = await conn.fetch("SELECT incident_id FROM timeline")
    finally:
        await conn.close()
    return (
        Counter(row["group_key"] for row in incidents),
        Counter(row["incident_id"] for row in alerts),
        Counter(row["incident_id"] for row in timeline),
    )


async def test_rolling_restart_loses_and_duplicates_nothing(
    tmp_path: Path, postgres_dsn: str
) -> None:
    """Restart two replicas one at a time, over and over, during 1,000 notifications."""
    config = tmp_path / "recorder.toml"
    # A second with /readyz at 503 and every response closing its connection before the
    # listener closes: keep-alive connections are not cut under a request.
    config.write_text('shutdown_delay = "1s"\nshutdown_timeout = "10s"\n')
    env = recorder_env(
        RECORDER_DATABASE_URL=postgres_dsn,
        RECORDER_LOG_LEVEL="info",
        RECORDER_CONFIG=str(config),
    )
    migrated = run_recorder("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    daemons = [Daemon.start(port=free_port(), env=env, cwd=tmp_path) for _ in range(2)]
    restarts = Restarts(daemons, env, tmp_path)
    restarter: threading.Thread | None = None
    try:
        for daemon in daemons:
            daemon.wait_listening()
            daemon.wait_status("/readyz", 200)
        urls = [daemon.url for daemon in daemons]
        tally = Tally()
        restarter = threading.Thread(target=restarts.run, daemon=True)
        restarter.start()
        duration = await send_all(urls, tally)
        restarts.stop.set()
        await asyncio.to_thread(restarter.join, 60)
        assert not restarter.is_alive()
        for daemon in restarts.daemons:
            began = time.monotonic()
            daemon.terminate()
            restarts.exit_codes.append(daemon.wait_exit())
            restarts.stop_s.append(time.monotonic() - began)
            restarts.stderr.append(daemon.stderr)
    finally:
        restarts.stop.set()
        for daemon in restarts.daemons:
            daemon.kill()

    per_group, alerts, timeline = await stored_counts(postgres_dsn)
    closes = [
        json.loads(line)
        for stderr in restarts.stderr
        for line in stderr.splitlines()
        if '"listener_closed"' in line
    ]
    figures: dict[str, Any] = {
        "notifications": NOTIFICATIONS,
        "stored": len(per_group),
        "duplicates": sum(per_group.values()) - len(per_group) + sum(alerts.values()) - len(alerts),
        "duration_s": round(duration, 1),
        "restarts": len(restarts.down_s),
        "backlog_accepted": sum(close["backlog_accepted"] for close in closes),
        "idle_left": sum(close["idle_left"] for close in closes),
        "stop_s": [round(s, 2) for s in restarts.stop_s],
        "restart_s": [round(s, 2) for s in restarts.down_s],
        "attempts": tally.attempts,
        "retries": tally.attempts - tally.delivered,
        "outcomes": dict(tally.outcomes),
        "exit_codes": restarts.exit_codes,
    }
    print("rolling restart figures:", json.dumps(figures, sort_keys=True))
    (tmp_path / "daemons.log").write_text("\n".join(restarts.stderr))
    print("daemon logs:", tmp_path / "daemons.log")

    assert tally.failed == [], tally.failed[:10]
    assert tally.delivered == NOTIFICATIONS
    # Every replica was restarted while notifications were flowing, and exited cleanly.
    assert len(restarts.down_s) >= 2, figures
    assert set(restarts.exit_codes) == {0}, figures
    # Nothing lost, nothing twice: one incident per group, one alert row each, and the
    # same number of timeline entries for every incident.
    assert len(per_group) == NOTIFICATIONS, figures
    assert set(per_group.values()) == {1}
    assert set(alerts.values()) == {1}
    assert len(set(timeline.values())) == 1, Counter(timeline.values())
    # No answers but 200, retried 503s, and refused connections while a replica
    # restarted: no connection reset or closed before its answer, no timeout, no 500.
    assert set(tally.outcomes) <= {"200", "503", "refused"}, (figures, tally.unexpected[:10])
    assert len(closes) == len(restarts.exit_codes)  # every shutdown closed its listener
    for stderr in restarts.stderr:
        assert "Traceback" not in stderr
        assert '"status": 500' not in stderr
