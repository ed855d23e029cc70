"""SIGTERM on a real `recorder serve`: readiness goes off first, a request still sending
its body gets a 503 (never a hang or a 500), and the process exits 0 within the bound."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from tests.e2e.daemon import Daemon, free_port, recorder_env


def start(tmp_path: Path, config: str) -> Daemon:
    path = tmp_path / "recorder.toml"
    path.write_text(config)
    daemon = Daemon.start(
        port=free_port(),
        env=recorder_env(
            RECORDER_DATABASE_URL=f"sqlite:///{tmp_path / 'r.db'}", RECORDER_CONFIG=str(path)
        ),
        cwd=tmp_path,
    )
    daemon.wait_listening()
    daemon.wait_status("/readyz", 200)
    return daemon


def test_request_still_sending_its_body_gets_503_at_shutdown(tmp_path: Path) -> None:
    """Headers and half a body sent, then SIGTERM: the answer is 503 at once (not after
    the shutdown timeout), and the daemon exits 0."""
    daemon = start(tmp_path, 'shutdown_timeout = "20s"\n')
    try:
        with socket.create_connection(("127.0.0.1", daemon.port), timeout=30) as sock:
            body = b'{"version": "4", "alerts": ['
            sock.sendall(
                b"POST /webhooks/alertmanager HTTP/1.1\r\n"
                b"Host: recorder\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100000\r\n\r\n" + body
            )
            # Another request answered after ours was sent: ours has been read up to here.
            assert daemon.status("/healthz") == 200
            began = time.monotonic()
            daemon.terminate()
            answer = sock.recv(65536).decode(errors="replace")
            answered_in = time.monotonic() - began
        assert answer.startswith("HTTP/1.1 503"), answer
        assert "Connection: close" in answer
        problem = json.loads(answer.split("\r\n\r\n", 1)[1])
        assert problem["title"] == "Shutting down"
        assert answered_in < 5, answered_in  # well under the 20 s shutdown timeout
        assert daemon.wait_exit(within=20) == 0
    finally:
        daemon.kill()
    assert "Traceback" not in daemon.stderr
    assert '"status": 500' not in daemon.stderr
    assert '"bodies_aborted": 1' in daemon.stderr


def test_readiness_goes_off_before_the_listener_closes(tmp_path: Path) -> None:
    """During shutdown_delay /readyz answers 503 while other requests are still served,
    with Connection: close so clients do not keep reusing the connection."""
    daemon = start(tmp_path, 'shutdown_delay = "3s"\n')
    try:
        daemon.terminate()
        daemon.wait_status("/readyz", 503, within=3)
        with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: recorder\r\n\r\n")
            answer = sock.recv(65536).decode()
        assert answer.startswith("HTTP/1.1 200"), answer
        assert "Connection: close" in answer
        assert daemon.wait_exit(within=20) == 0
    finally:
        daemon.kill()
