"""A real Prometheus for tests, scraping a small exporter whose values the test drives.

`running_lab(binary, workdir)` starts the exporter (a prometheus_client HTTP server in a
thread on a free loopback port) and the real `prometheus` binary (temp TSDB, free loopback
port, scrape interval 1 s), waits until Prometheus is ready, and stops both in `finally`,
Prometheus by its pid. Nothing here sleeps "long enough": waits poll with deadlines.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from recorder.demo.stack import PrometheusServer

SCRAPE_INTERVAL = 1.0


@dataclass
class ServiceState:
    """What one service's metrics currently do; counters advance at `requests_per_second`."""

    error_ratio: float
    pool_in_use: float
    pool_max: float
    requests_per_second: float = 1000.0
    ok_total: float = 0.0
    failed_total: float = 0.0


class Exporter(Collector):
    """Exposes `http_requests_total{service,status}`, `db_pool_connections_in_use{service}`
    and `db_pool_connections_max{service}`.

    Counters are advanced by elapsed time × rate whenever they are read (each scrape) and
    whenever the test changes a rate, so a change applies from the instant `set` returns.
    Besides `checkout` (the service under test) it serves `search`, with different values,
    so tests notice a query that ignores its `service` selector.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._services = {
            "checkout": ServiceState(error_ratio=0.001, pool_in_use=20, pool_max=100),
            "search": ServiceState(error_ratio=0.5, pool_in_use=9, pool_max=10),
        }
        self._clock = time.monotonic()
        self._scrapes: list[float] = []
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def set(
        self,
        service: str = "checkout",
        *,
        error_ratio: float | None = None,
        pool_in_use: float | None = None,
    ) -> datetime:
        """Change what `service` does from now on; returns the wall-clock instant of the change."""
        with self._lock:
            self._advance()
            state = self._services[service]
            if error_ratio is not None:
                state.error_ratio = error_ratio
            if pool_in_use is not None:
                state.pool_in_use = pool_in_use
            return datetime.now(UTC)

    def failed_total(self, service: str = "checkout") -> float:
        """Failed requests counted so far (the exact truth the test compares figures to)."""
        with self._lock:
            self._advance()
            return self._services[service].failed_total

    def scrapes_since(self, since: datetime) -> int:
        """How many times the exporter was scraped after `since`."""
        with self._lock:
            return sum(1 for t in self._scrapes if t > since.timestamp())

    def _advance(self) -> None:
        now = time.monotonic()
        elapsed, self._clock = now - self._clock, now
        for state in self._services.values():
            requests = state.requests_per_second * elapsed
            state.failed_total += requests * state.error_ratio
            state.ok_total += requests * (1 - state.error_ratio)

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            self._advance()
            self._scrapes.append(time.time())
            requests = CounterMetricFamily(
                "http_requests", "Requests served.", labels=["service", "status"]
            )
            in_use = GaugeMetricFamily(
                "db_pool_connections_in_use", "Connections in use.", labels=["service"]
            )
            size = GaugeMetricFamily("db_pool_connections_max", "Pool size.", labels=["service"])
            for name, state in self._services.items():
                requests.add_metric([name, "200"], state.ok_total)
                requests.add_metric([name, "500"], state.failed_total)
                in_use.add_metric([name], state.pool_in_use)
                size.add_metric([name], state.pool_max)
        yield from (requests, in_use, size)

    def start(self) -> None:
        registry = CollectorRegistry()
        registry.register(self)
        server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
        self._server, self._thread = server, thread
        self.port = server.server_port

    def stop(self) -> None:
        server = self._server
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)


class PrometheusProcess(PrometheusServer):
    """The real prometheus binary on 127.0.0.1:<free port> with a temp TSDB, scraping the
    exporter every second; `kill()` then `restart()` is an outage on the same port."""

    def restart(self, *, ready_within: float = 30.0) -> None:
        """Start again on the same port with the same TSDB (what clients see as an outage)."""
        if self.process is not None:
            raise RuntimeError("prometheus is still running; stop() or kill() it first")
        self.start(ready_within=ready_within)


@dataclass
class PromLab:
    """A running exporter and the Prometheus scraping it."""

    exporter: Exporter
    prometheus: PrometheusProcess


@contextmanager
def running_lab(binary: str, workdir: Path) -> Iterator[PromLab]:
    """Start the exporter and Prometheus; stop both on exit, whatever happened."""
    exporter = Exporter()
    exporter.start()
    prometheus = PrometheusProcess(binary, workdir, [f"127.0.0.1:{exporter.port}"])
    try:
        prometheus.start()
        yield PromLab(exporter, prometheus)
    finally:
        prometheus.stop()
        exporter.stop()


async def poll_until(
    check: Callable[[], Awaitable[bool]], *, within: float, what: str, every: float = 0.1
) -> None:
    """Await `check()` until it is true; fail naming `what` if `within` seconds pass."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within:g} s waiting for {what}")
        await asyncio.sleep(every)
