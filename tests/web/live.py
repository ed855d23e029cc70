"""A real recorder on a free port in a thread of its own, and a /healthz latency watch.

Hostile-input tests send from other threads, as real senders do: the server's event loop
is measured, not shared with the test's client.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry

from recorder.settings import load_settings
from recorder.web.app import create_app

HEALTHZ_BUDGET_SECONDS = 0.100
CALIBRATION_SECONDS = 0.3


@dataclass
class Answer:
    status: int
    content_type: str
    body: bytes


class LiveServer:
    """create_app on 127.0.0.1, port 0, served by its own event loop in a thread.

    With `start_parser`, the app starts its body-parsing worker process at startup as
    `recorder serve` does, and `start()` returns once /readyz answers 200, as a load
    balancer would wait; otherwise the worker starts with the first big body.
    """

    def __init__(self, database_url: str, *, start_parser: bool = False, **flags: object) -> None:
        self._settings = load_settings(
            environ={"RECORDER_DATABASE_URL": database_url}, flags=dict(flags)
        )
        self._start_parser = start_parser
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.port = 0
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(60):
            raise TimeoutError("the recorder did not start within 60 s")
        if self._error is not None:
            raise self._error
        if self._start_parser:
            self._wait_until_ready(60)

    def _wait_until_ready(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.request("GET", "/readyz").status != 200:
            if time.monotonic() > deadline:
                raise TimeoutError(f"/readyz did not answer 200 within {seconds} s")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(60)

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # reported to the test by start()
            self._error = exc
            self._ready.set()

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        app = create_app(
            self._settings, registry=CollectorRegistry(), start_parser=self._start_parser
        )
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self.port = runner.addresses[0][1]
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await runner.cleanup()

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60,
    ) -> Answer:
        """One request on a new connection; the path is sent as given (no re-quoting)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            sent = dict(headers or {})
            if body is not None:
                sent.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            return Answer(response.status, response.getheader("Content-Type", ""), response.read())
        finally:
            conn.close()


@contextmanager
def live_server(
    database_url: str, *, start_parser: bool = False, **flags: object
) -> Iterator[LiveServer]:
    server = LiveServer(database_url, start_parser=start_parser, **flags)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class HealthWatch:
    """Latencies of /healthz, asked every few milliseconds on one keep-alive connection.

    `idle` holds those measured before the block ran: what the machine's own load costs
    (the suite shares two cores with other work), which `budget` adds to the 100 ms.
    """

    latencies: list[float] = field(default_factory=list)
    idle: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    measuring: bool = False

    @property
    def worst(self) -> float:
        return max(self.latencies, default=0.0)

    @property
    def budget(self) -> float:
        return HEALTHZ_BUDGET_SECONDS + max(self.idle, default=0.0)

    @property
    def p95(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[int(len(ordered) * 0.95)] if ordered else 0.0


@contextmanager
def watching_healthz(server: LiveServer, interval: float = 0.005) -> Iterator[HealthWatch]:
    """Poll /healthz from a thread for as long as the block runs."""
    watch = HealthWatch()
    done = threading.Event()

    def poll() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        try:
            while not done.is_set():
                started = time.perf_counter()
                conn.request("GET", "/healthz")
                response = conn.getresponse()
                response.read()
                target = watch.latencies if watch.measuring else watch.idle
                target.append(time.perf_counter() - started)
                if response.status != 200:
                    watch.failures.append(f"/healthz answered {response.status}")
                done.wait(interval)
        except OSError as exc:
            watch.failures.append(f"/healthz failed: {exc!r}")
        finally:
            conn.close()

    thread = threading.Thread(target=poll, name="healthz-watch", daemon=True)
    thread.start()
    time.sleep(CALIBRATION_SECONDS)
    watch.measuring = True
    try:
        yield watch
    finally:
        deadline = time.monotonic() + 5
        while not watch.latencies and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.01)  # at least one probe while measuring
        done.set()
        thread.join(15)
