"""Dockerfile and .dockerignore: lint-clean, non-root, and building what the tests install."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.deploy import contract
from tests.deploy.dockerfile import DockerIgnore, Stage, parse_dockerfile
from tests.deploy.tools import find_tool, run_tool

BASE_IMAGE = "python:3.11-slim"


def stages() -> list[Stage]:
    return parse_dockerfile(contract.DOCKERFILE)


def final() -> Stage:
    return stages()[-1]


def env_of(stage: Stage) -> dict[str, str]:
    values: dict[str, str] = {}
    for args in stage.args("ENV"):
        for item in args.split():
            key, _, value = item.partition("=")
            values[key] = value
    return values


def healthcheck_command() -> list[str]:
    (args,) = final().args("HEALTHCHECK")
    _, _, command = args.partition("CMD ")
    parsed: list[str] = json.loads(command)
    return parsed


def test_hadolint_reports_nothing() -> None:
    """hadolint (with its default rules) has no finding on the Dockerfile."""
    result = run_tool(find_tool("hadolint"), contract.DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""


def test_build_is_multi_stage_on_python_slim() -> None:
    """A builder stage installs; the runtime stage only copies its venv."""
    all_stages = stages()
    assert len(all_stages) >= 2
    assert all(stage.base == BASE_IMAGE for stage in all_stages)
    builder = all_stages[0]
    assert builder.name
    assert any(args.startswith(f"--from={builder.name} ") for args in final().args("COPY"))
    assert not final().args("RUN") or all("pip install" not in a for a in final().args("RUN"))


def test_builder_installs_the_project_with_pip_like_the_tests() -> None:
    """The image installs the project with `pip install .`, into a venv."""
    runs = " ".join(stages()[0].args("RUN"))
    assert "python -m venv /opt/venv" in runs
    assert "pip install --no-cache-dir ." in runs
    assert "PATH=/opt/venv/bin:$PATH" in " ".join(stages()[0].args("ENV"))


def test_runtime_runs_as_uid_10001_not_root() -> None:
    """The last USER is the numeric non-root uid Kubernetes' runAsUser names."""
    users = final().args("USER")
    assert users
    assert users[-1].split(":")[0] == str(contract.UID)
    runs = " ".join(final().args("RUN"))
    assert f"--uid {contract.UID}" in runs


def test_runtime_defaults_follow_the_contract() -> None:
    """Listens on all interfaces on 9470 and keeps SQLite in the declared volume."""
    stage = final()
    env = env_of(stage)
    assert env["RECORDER_LISTEN"] == f"0.0.0.0:{contract.PORT}"
    assert env["RECORDER_DATABASE_URL"] == "sqlite:////var/lib/recorder/recorder.db"
    assert {k for k in env if k.startswith("RECORDER_")} <= contract.ENV_VARS
    assert stage.args("EXPOSE") == [str(contract.PORT)]
    assert stage.args("WORKDIR")[-1] == "/var/lib/recorder"
    assert json.loads(stage.args("VOLUME")[-1]) == ["/var/lib/recorder"]
    assert json.loads(stage.args("ENTRYPOINT")[-1]) == ["recorder"]
    assert json.loads(stage.args("CMD")[-1]) == ["serve"]


def test_healthcheck_asks_healthz_with_python_only() -> None:
    """The slim image has no curl: the check is a Python one-liner against /healthz."""
    command = healthcheck_command()
    assert command[:2] == ["python", "-c"]
    assert contract.LIVENESS_PATH in command[2]
    assert "curl" not in command[2]


class _Health(BaseHTTPRequestHandler):
    status = 200
    paths: list[str] = []  # noqa: RUF012 - shared on purpose: the test reads what was asked

    def do_GET(self) -> None:
        type(self).paths.append(self.path)
        self.send_response(type(self).status)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def health_server() -> Iterator[tuple[int, type[_Health]]]:
    """A local HTTP server standing in for the recorder; its handler records the paths."""
    handler = type("Handler", (_Health,), {"status": 200, "paths": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], handler
    finally:
        server.shutdown()
        server.server_close()


def run_healthcheck(port: int) -> int:
    command = [sys.executable, *healthcheck_command()[1:]]
    env = {"RECORDER_LISTEN": f"0.0.0.0:{port}", "PATH": "/usr/bin:/bin"}
    return subprocess.run(command, env=env, timeout=30, check=False).returncode


def test_healthcheck_passes_on_a_healthy_recorder(health_server: tuple[int, type[_Health]]) -> None:
    """Against a 200 on the RECORDER_LISTEN port, the check exits 0 having asked /healthz."""
    port, handler = health_server
    assert run_healthcheck(port) == 0
    assert handler.paths == [contract.LIVENESS_PATH]


def test_healthcheck_fails_on_an_unhealthy_recorder(
    health_server: tuple[int, type[_Health]],
) -> None:
    """A 503 from /healthz makes the check exit non-zero."""
    port, handler = health_server
    handler.status = 503
    assert run_healthcheck(port) != 0


def test_healthcheck_fails_when_nothing_listens() -> None:
    """A refused connection makes the check exit non-zero."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert run_healthcheck(port) != 0


def dockerignore() -> DockerIgnore:
    return DockerIgnore(contract.DOCKERIGNORE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "path",
    [
        ".git/HEAD",
        ".venv/bin/python",
        "venv/lib/site.py",
        "recorder/__pycache__/cli.cpython-311.pyc",
        "recorder/core/incident.pyc",
        ".mypy_cache/3.11/x.json",
        ".pytest_cache/v/cache",
        ".ruff_cache/x",
        "test-artifacts/report.png",
        "recorder.db",
        "recorder/dev.db-wal",
        ".env",
        "tests/test_x.py",
        "deploy/kubernetes/secret.example.yaml",
        "incident_recorder.egg-info/PKG-INFO",
    ],
)
def test_dockerignore_keeps_out(path: str) -> None:
    """VCS data, venvs, caches, test artifacts, databases and env files stay out."""
    assert dockerignore().excluded(path)


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "README.md",
        "recorder/__init__.py",
        "recorder/store/migrations/sqlite/0001_init.sql",
        "alert_adapters/alertmanager.py",
    ],
)
def test_dockerignore_lets_in(path: str) -> None:
    """What `pip install .` needs is in the build context."""
    assert not dockerignore().excluded(path)


def build_context(destination: Path) -> list[str]:
    """Copy the files Docker would send as build context; return their relative paths."""
    matcher = dockerignore()
    copied = []
    for source in sorted(contract.ROOT.rglob("*")):
        relative = source.relative_to(contract.ROOT).as_posix()
        if source.is_dir() or matcher.excluded(relative):
            continue
        target = destination / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
        copied.append(relative)
    return copied


def test_build_context_builds_a_wheel_with_every_package_file(tmp_path: Path) -> None:
    """`pip wheel` of the filtered context works and ships every package file (SQL too)."""
    context = tmp_path / "context"
    copied = build_context(context)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            ".",
        ],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = set(archive.namelist())
    package_files = {p for p in copied if p.startswith(("recorder/", "alert_adapters/"))}
    assert package_files
    assert package_files <= shipped, sorted(package_files - shipped)
