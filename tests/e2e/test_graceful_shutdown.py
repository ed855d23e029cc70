"""SIGTERM on a real `recorder serve`: readiness goes off first, a request still sending
its body gets a 503 (never a hang or a 500), no connection the kernel accepted is reset,
and the process exits 0 within the bound."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.daemon import Daemon, free_port, recorder_env
from tests.e2e.test_rolling_restart import notification


def start(tmp_path: Path, config: str, database_url: str | None = None) -> Daemon:
    path = tmp_path / "recorder.toml"
    path.write_text(config)
    daemon = Daemon.start(
        port=free_port(),
        env=recorder_env(
            RECORDER_DATABASE_URL=database_url or f"sqlite:///{tmp_path / 'r.db'}",
            RECORDER_CONFIG=str(path),
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


CHURN_CLIENTS = 32
CHURN_ROUNDS = 4


async def hammer(url: str, stop: asyncio.Event, fresh: bool, outcomes: Counter[str]) -> None:
    """Send notifications until `stop`: each on a new connection (`fresh`) or on kept-alive
    ones; count answers by status, and what happened to the unanswered."""
    connector = aiohttp.TCPConnector(force_close=fresh)
    async with aiohttp.ClientSession(connector=connector) as session:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                async with session.post(
                    f"{url}/webhooks/alertmanager",
                    data=notification(n),
                    headers={"Content-Type": "application/json"},
                    timeout=aiohttp.ClientTimeout(total=15),
                ) as response:
                    await response.read()
                    outcomes[str(response.status)] += 1
            except aiohttp.ClientConnectorError:
                outcomes["refused"] += 1
                await asyncio.sleep(0.05)
            except (aiohttp.ClientError, TimeoutError) as exc:
                outcomes[f"{type(exc).__name__}: {exc}"] += 1


async def until(condition: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


@pytest.mark.postgres
async def test_sigterm_under_connection_churn_resets_nothing(
    tmp_path: Path, postgres_dsn: str
) -> None:
    """SIGTERM while clients connect and send as fast as they can, half on a new
    connection per request: every attempt is answered or refused, none is reset or
    closed unanswered (as closing a listener with connections still in the kernel's
    accept queue would do), and the daemon exits 0 each time."""
    outcomes: Counter[str] = Counter()
    for _ in range(CHURN_ROUNDS):
        daemon = start(tmp_path, 'shutdown_delay = "1s"\n', postgres_dsn)
        try:
            stop = asyncio.Event()
            clients = [
                asyncio.create_task(hammer(daemon.url, stop, i % 2 == 0, outcomes))
                for i in range(CHURN_CLIENTS)
            ]
            await until(lambda n=outcomes["200"] + 200: outcomes["200"] >= n)  # loaded
            daemon.terminate()
            assert await asyncio.to_thread(daemon.wait_exit, 20) == 0
            # Every client has seen it gone.
            await until(lambda n=outcomes["refused"] + CHURN_CLIENTS: outcomes["refused"] >= n)
            stop.set()
            await asyncio.gather(*clients)
        finally:
            daemon.kill()
        assert "Traceback" not in daemon.stderr
        assert '"listener_closed"' in daemon.stderr
    print("churn outcomes:", dict(outcomes))
    assert set(outcomes) <= {"200", "503", "refused"}, outcomes
