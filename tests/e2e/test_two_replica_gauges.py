"""Two real `recorder serve` processes on one PostgreSQL database: a firing reaching one
and its resolution reaching the other leave `recorder_incidents_open` at 1 on both while
open and 0 on both afterwards (state gauges are read from storage, not counted per
process)."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import fixture_bytes
from tests.e2e.daemon import Daemon, free_port, recorder_env, run_recorder

pytestmark = pytest.mark.postgres

GAUGE_CACHE_S = 5.0  # state gauges are cached this long per replica (recorder.metrics)


def open_incidents(daemon: Daemon) -> float:
    with urllib.request.urlopen(f"{daemon.url}/metrics", timeout=10) as response:  # noqa: S310
        assert response.status == 200
        text = response.read().decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "recorder_incidents_open" and not sample.labels:
                return sample.value
    raise AssertionError(f"recorder_incidents_open missing from {daemon.url}/metrics")


def wait_for_gauge(daemon: Daemon, expected: float, within: float = 3 * GAUGE_CACHE_S) -> None:
    """Poll /metrics until the gauge reads `expected`, at most `within` seconds."""
    deadline = time.monotonic() + within
    value = open_incidents(daemon)
    while value != expected and time.monotonic() < deadline:
        time.sleep(0.25)
        value = open_incidents(daemon)
    assert value == expected, (daemon.url, value, expected)


def post_alertmanager(daemon: Daemon, fixture: str) -> None:
    request = urllib.request.Request(  # noqa: S310
        f"{daemon.url}/webhooks/alertmanager",
        data=fixture_bytes(fixture),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        assert response.status == 200


@pytest.fixture
def replicas(tmp_path: Path, postgres_dsn: str) -> Iterator[tuple[Daemon, Daemon]]:
    env = recorder_env(RECORDER_DATABASE_URL=postgres_dsn)
    migrated = run_recorder("migrate", env=env, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    daemons = [
        Daemon.start(port=free_port(), env=env, cwd=tmp_path, args=("--no-migrate",))
        for _ in range(2)
    ]
    try:
        for daemon in daemons:
            daemon.wait_listening()
            daemon.wait_status("/readyz", 200)
        yield daemons[0], daemons[1]
        for daemon in daemons:
            daemon.terminate()
            assert daemon.wait_exit() == 0, daemon.stderr
    finally:
        for daemon in daemons:
            daemon.kill()


def test_two_processes_agree_on_open_incidents(replicas: tuple[Daemon, Daemon]) -> None:
    """Firing to replica A, resolution to replica B: 1 on both while open, 0 on both after."""
    replica_a, replica_b = replicas
    # Both scraped first: each caches a 0 that the firing must overcome.
    assert open_incidents(replica_a) == 0
    assert open_incidents(replica_b) == 0

    post_alertmanager(replica_a, "alertmanager_firing.json")
    wait_for_gauge(replica_a, 1)
    wait_for_gauge(replica_b, 1)

    post_alertmanager(replica_b, "alertmanager_resolved.json")
    wait_for_gauge(replica_b, 0)
    wait_for_gauge(replica_a, 0)
