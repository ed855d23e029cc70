"""`recorder serve` as a real process: each exit code of the contract, one line on stderr,
"listening on" only after the bind, a clean exit 0 on SIGTERM."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.e2e.daemon import LISTENING, Daemon, free_port, recorder_env, run_recorder


def assert_one_line_failure(stderr: str, *needles: str) -> None:
    """Exactly one non-log line, naming the cause; no traceback, no "listening on"."""
    plain = [line for line in stderr.splitlines() if line and not line.startswith("{")]
    assert len(plain) == 1, stderr
    assert plain[0].startswith("recorder: "), stderr
    for needle in needles:
        assert needle in plain[0], (needle, stderr)
    assert "Traceback" not in stderr
    assert LISTENING not in stderr


def with_path(dsn: str, database: str, user: str | None = None) -> str:
    parts = urlsplit(dsn)
    netloc = parts.netloc if user is None else f"{user}@{parts.hostname}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc, path=f"/{database}", query=""))


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port another socket is listening on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def serve(tmp_path: Path, *args: str, **env: str) -> tuple[int, str]:
    result = run_recorder("serve", *args, env=recorder_env(**env), cwd=tmp_path)
    return result.returncode, result.stderr


def test_busy_port_exits_4_naming_the_address(tmp_path: Path, busy_port: int) -> None:
    """An address in use: exit 4, one line saying so and what to do, no "listening on"."""
    code, stderr = serve(
        tmp_path,
        "--listen",
        f"127.0.0.1:{busy_port}",
        RECORDER_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}",
    )
    assert code == 4, stderr
    assert_one_line_failure(stderr, f"127.0.0.1:{busy_port}", "already in use", "RECORDER_LISTEN")


def test_unknown_host_exits_4(tmp_path: Path) -> None:
    """A host name that does not resolve: exit 4."""
    code, stderr = serve(
        tmp_path,
        "--listen",
        "no-such-host.invalid:9470",
        RECORDER_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}",
    )
    assert code == 4, stderr
    assert_one_line_failure(stderr, "no-such-host.invalid:9470", "unknown host")


def test_address_not_on_this_machine_exits_4(tmp_path: Path) -> None:
    """An IP address no interface has (TEST-NET-1): exit 4."""
    code, stderr = serve(
        tmp_path,
        "--listen",
        "192.0.2.1:9470",
        RECORDER_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}",
    )
    assert code == 4, stderr
    assert_one_line_failure(stderr, "192.0.2.1:9470", "not on this machine")


def test_sqlite_path_that_cannot_be_created_exits_3(tmp_path: Path) -> None:
    """A database path under a regular file can never be created: exit 3, not 503 forever."""
    (tmp_path / "file").write_text("not a directory")
    path = tmp_path / "file" / "recorder.db"
    code, stderr = serve(
        tmp_path,
        "--listen",
        f"127.0.0.1:{free_port()}",
        RECORDER_DATABASE_URL=f"sqlite:///{path}",
    )
    assert code == 3, stderr
    assert_one_line_failure(stderr, str(path), "RECORDER_DATABASE_URL")


def test_sqlite_file_that_is_no_database_exits_3(tmp_path: Path) -> None:
    """An existing file that is not SQLite: exit 3."""
    path = tmp_path / "notes.db"
    path.write_text("these are notes, not a database " * 100)
    code, stderr = serve(
        tmp_path, "--listen", f"127.0.0.1:{free_port()}", RECORDER_DATABASE_URL=f"sqlite:///{path}"
    )
    assert code == 3, stderr
    assert_one_line_failure(stderr, "not a database")


@pytest.mark.postgres
def test_postgres_role_that_does_not_exist_exits_3(tmp_path: Path, postgres_base_dsn: str) -> None:
    """The server answers and refuses the role: exit 3 naming it, password never shown."""
    dsn = with_path(postgres_base_dsn, "test", user="no_such_role_xyz")
    code, stderr = serve(
        tmp_path, "--listen", f"127.0.0.1:{free_port()}", RECORDER_DATABASE_URL=dsn
    )
    assert code == 3, stderr
    assert_one_line_failure(stderr, "no_such_role_xyz", "RECORDER_DATABASE_URL")


@pytest.mark.postgres
def test_postgres_database_that_does_not_exist_exits_3(
    tmp_path: Path, postgres_base_dsn: str
) -> None:
    """The server answers and has no such database: exit 3 naming it."""
    dsn = with_path(postgres_base_dsn, "no_such_database_xyz")
    code, stderr = serve(
        tmp_path, "--listen", f"127.0.0.1:{free_port()}", RECORDER_DATABASE_URL=dsn
    )
    assert code == 3, stderr
    assert_one_line_failure(stderr, "no_such_database_xyz")


def test_unknown_key_in_the_config_file_exits_2(tmp_path: Path) -> None:
    """A typo in the TOML file is a configuration error: exit 2, one line."""
    config = tmp_path / "recorder.toml"
    config.write_text('reopen_windw = "10m"\n')
    code, stderr = serve(tmp_path, "--config", str(config))
    assert code == 2, stderr
    assert_one_line_failure(stderr, "reopen_windw", "unknown setting")


def test_invalid_database_url_exits_2(tmp_path: Path) -> None:
    """A SQLite URL with a host part is a configuration error: exit 2."""
    code, stderr = serve(tmp_path, RECORDER_DATABASE_URL="sqlite://host/recorder.db")
    assert code == 2, stderr
    assert_one_line_failure(stderr, "RECORDER_DATABASE_URL", "sqlite:///")


def test_sigterm_after_listening_exits_0(tmp_path: Path) -> None:
    """ "listening on" comes once the socket answers; SIGTERM then ends with exit 0 and
    /readyz was ready before."""
    daemon = Daemon.start(
        port=free_port(),
        env=recorder_env(RECORDER_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}"),
        cwd=tmp_path,
    )
    try:
        daemon.wait_listening()
        # The socket is bound by the time the line is printed: the very next GET works.
        assert daemon.status("/healthz") == 200
        daemon.wait_status("/readyz", 200)
        daemon.terminate()
        assert daemon.wait_exit() == 0, daemon.stderr
    finally:
        daemon.kill()
    events = [json.loads(line)["event"] for line in daemon.lines if line.startswith("{")]
    assert "shutdown_started" in events
    assert events[-1] == "shutdown_complete"
    assert "Traceback" not in daemon.stderr


def test_unreachable_postgres_is_not_an_exit(tmp_path: Path) -> None:
    """A PostgreSQL that does not answer: serve listens, /readyz says 503, SIGTERM exits 0."""
    dead = f"postgresql://recorder:secret-pw@127.0.0.1:{free_port()}/recorder"
    daemon = Daemon.start(
        port=free_port(), env=recorder_env(RECORDER_DATABASE_URL=dead), cwd=tmp_path
    )
    try:
        daemon.wait_listening()
        assert daemon.status("/healthz") == 200
        assert daemon.status("/readyz") == 503
        daemon.terminate()
        assert daemon.wait_exit() == 0, daemon.stderr
    finally:
        daemon.kill()
    assert "secret-pw" not in daemon.stderr


def test_unreachable_prometheus_is_a_warning_naming_the_url(tmp_path: Path) -> None:
    """Prometheus down at start: a warning with its URL, and the daemon serves anyway."""
    prometheus = f"http://127.0.0.1:{free_port()}"
    daemon = Daemon.start(
        port=free_port(),
        env=recorder_env(
            RECORDER_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}",
            RECORDER_PROMETHEUS_URL=prometheus,
        ),
        cwd=tmp_path,
    )
    try:
        daemon.wait_listening()
        daemon.wait_status("/readyz", 200)
        deadline_lines = _wait_for_event(daemon, "prometheus_unreachable_at_start")
        assert deadline_lines["url"] == prometheus
        assert "RECORDER_PROMETHEUS_URL" in deadline_lines["hint"]
        daemon.terminate()
        assert daemon.wait_exit() == 0, daemon.stderr
    finally:
        daemon.kill()


def _wait_for_event(daemon: Daemon, event: str, within: float = 20.0) -> dict[str, str]:
    import time

    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for line in list(daemon.lines):
            if line.startswith("{") and json.loads(line).get("event") == event:
                found: dict[str, str] = json.loads(line)
                return found
        time.sleep(0.05)
    raise AssertionError(f"no {event} logged:\n{daemon.stderr}")
