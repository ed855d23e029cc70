"""A simulated service with a connection pool and an error counter, for demos and e2e tests.

It exports `http_requests_total{status}`, `db_pool_connections_in_use` and
`db_pool_connections_max` (optionally with a `service` label). Counters advance with
elapsed time at the current request and error rates, so a phase change applies from the
instant `set_phase` returns, and Prometheus sees smooth rates.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class Phase:
    """What the service does during one phase of the scenario."""

    name: str
    error_ratio: float
    pool_in_use: float


NORMAL = Phase("normal", error_ratio=0.001, pool_in_use=20)
FAULT = Phase("fault", error_ratio=0.98, pool_in_use=100)
RECOVERY = Phase("recovery", error_ratio=0.001, pool_in_use=20)


class SimulatedService(Collector):
    """The metrics of one service whose behaviour the caller switches between phases."""

    def __init__(
        self,
        service: str | None = "checkout",
        *,
        pool_max: float = 100,
        requests_per_second: float = 200.0,
    ) -> None:
        self.service = service
        self.pool_max = pool_max
        self.requests_per_second = requests_per_second
        self.phase = NORMAL
        self.ok_total = 0.0
        self.failed_total = 0.0
        self._lock = threading.Lock()
        self._last = time.monotonic()
        self._server: WSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    def set_phase(self, phase: Phase) -> float:
        """Switch behaviour now; returns the wall-clock unix time of the switch."""
        with self._lock:
            self._advance()
            self.phase = phase
            return time.time()

    def _advance(self) -> None:
        now = time.monotonic()
        elapsed, self._last = now - self._last, now
        requests = self.requests_per_second * elapsed
        self.failed_total += requests * self.phase.error_ratio
        self.ok_total += requests * (1 - self.phase.error_ratio)

    def describe(self) -> list[Metric]:
        return []

    def collect(self) -> Iterator[Metric]:
        names = ["service"] if self.service else []
        values = [self.service] if self.service else []
        with self._lock:
            self._advance()
            requests = CounterMetricFamily(
                "http_requests", "Requests served.", labels=[*names, "status"]
            )
            requests.add_metric([*values, "200"], self.ok_total)
            requests.add_metric([*values, "500"], self.failed_total)
            in_use = GaugeMetricFamily(
                "db_pool_connections_in_use", "Connections in use.", labels=names
            )
            in_use.add_metric(values, self.phase.pool_in_use)
            size = GaugeMetricFamily("db_pool_connections_max", "Pool size.", labels=names)
            size.add_metric(values, self.pool_max)
        yield from (requests, in_use, size)

    def start(self, port: int = 0, addr: str = "127.0.0.1") -> int:
        """Serve /metrics on `addr:port` (0 = a free port) in a thread; returns the port."""
        registry = CollectorRegistry()
        registry.register(self)
        server, thread = start_http_server(port, addr=addr, registry=registry)
        self._server, self._thread = server, thread
        self.port = server.server_port
        return self.port

    def stop(self) -> None:
        """Stop serving."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
