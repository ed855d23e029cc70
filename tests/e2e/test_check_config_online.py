"""`recorder check-config --online` reaches storage, Prometheus and Alertmanager for real
(Debian binaries), one line each, and its exit code says what failed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from recorder.demo.stack import (
    ALERTMANAGER_BINARIES,
    AlertmanagerServer,
    PrometheusServer,
    free_port,
)
from tests.conftest import require_binary
from tests.e2e.daemon import recorder_env, run_recorder


def lines_of(stdout: str) -> dict[str, str]:
    """The check lines after the JSON settings: name -> rest of the line."""
    found = {}
    for line in stdout.splitlines():
        name, sep, rest = line.partition(": ")
        if sep and name in {"storage", "prometheus", "alertmanager"}:
            found[name] = rest
    return found


@pytest.fixture
def services(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real Prometheus and a real Alertmanager on free loopback ports."""
    prometheus = PrometheusServer(require_binary("prometheus"), tmp_path / "prometheus", [])
    alertmanager = AlertmanagerServer(
        require_binary(*ALERTMANAGER_BINARIES), tmp_path / "alertmanager", webhook_url=""
    )
    alertmanager.webhook_url = f"http://127.0.0.1:{free_port()}/webhooks/alertmanager"
    try:
        prometheus.start()
        alertmanager.start()
        yield prometheus.url, alertmanager.url
    finally:
        prometheus.stop()
        alertmanager.stop()


@pytest.mark.prometheus
@pytest.mark.alertmanager
def test_everything_reachable_exits_0(
    tmp_path: Path, database_url: str, services: tuple[str, str]
) -> None:
    """Storage, Prometheus and (the second of two) Alertmanager answer: exit 0."""
    prometheus, alertmanager = services
    dead = f"http://127.0.0.1:{free_port()}"
    result = run_recorder(
        "check-config",
        "--online",
        env=recorder_env(
            RECORDER_DATABASE_URL=database_url,
            RECORDER_PROMETHEUS_URL=prometheus,
            RECORDER_ALERTMANAGER_URL=f"{dead},{alertmanager}",
        ),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    checks = lines_of(result.stdout)
    assert checks["storage"].startswith("ok: ")
    assert checks["prometheus"] == f"ok: {prometheus}: answered"
    assert checks["alertmanager"] == f"ok: {alertmanager}: answered"


def test_unreachable_prometheus_and_alertmanager_exit_1_naming_them(tmp_path: Path) -> None:
    """Nothing listening where Prometheus and Alertmanager should be: exit 1, both named."""
    prometheus = f"http://127.0.0.1:{free_port()}"
    alertmanager = f"http://127.0.0.1:{free_port()}"
    result = run_recorder(
        "check-config",
        "--online",
        env=recorder_env(
            RECORDER_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}",
            RECORDER_PROMETHEUS_URL=prometheus,
            RECORDER_ALERTMANAGER_URL=alertmanager,
        ),
        cwd=tmp_path,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    checks = lines_of(result.stdout)
    assert checks["storage"].startswith("ok: ")
    assert checks["prometheus"].startswith(f"FAILED: {prometheus}: ")
    assert checks["alertmanager"].startswith(f"FAILED: {alertmanager}: ")
    assert "Traceback" not in result.stderr


def test_storage_that_cannot_work_exits_3(tmp_path: Path) -> None:
    """An SQLite path under a regular file: exit 3, the line says what to do."""
    (tmp_path / "file").write_text("x")
    result = run_recorder(
        "check-config",
        "--online",
        env=recorder_env(RECORDER_DATABASE_URL=f"sqlite:///{tmp_path / 'file' / 'r.db'}"),
        cwd=tmp_path,
    )
    assert result.returncode == 3, result.stdout + result.stderr
    checks = lines_of(result.stdout)
    assert checks["storage"].startswith("FAILED: ")
    assert "RECORDER_DATABASE_URL" in checks["storage"]
    assert checks["prometheus"] == "ok: not configured: no sampling"


def test_without_online_nothing_is_reached(tmp_path: Path) -> None:
    """Plain check-config validates only: an unreachable Prometheus is not an error."""
    result = run_recorder(
        "check-config",
        env=recorder_env(RECORDER_PROMETHEUS_URL=f"http://127.0.0.1:{free_port()}"),
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert lines_of(result.stdout) == {}
