"""Fake exporters with the real metric and label names of each preset, and a Prometheus
scraping them.

One aiohttp server (in its own thread and event loop) serves text exposition on a path
per (preset, service). Counters grow linearly with time at known rates and carry their
own sample timestamps, so `rate()` and `increase()` over a window full of scrapes are
exact: the test compares sampled values with the truth instead of a tolerance band.
Besides `checkout` (the service under test) every preset serves `search` with other
numbers, so a query that ignores its service selector is caught.

Label layouts follow each exporter's source (cited in recorder/prometheus/presets.py) and
a usual deployment: ingress-nginx scraped through a target whose own `service` label
pushes the exporter's to `exported_service`; Istio reporting each request from both
proxies; target-label exporters scraped with `app_kubernetes_io_name` on the target.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from recorder.demo.stack import PrometheusServer
from recorder.prometheus.presets import PRESETS

SERVICES = ("checkout", "search")
HEALTHY = "healthy"
"""A flask service with no 5xx series at all (counters appear on first use)."""
TARGET_LABEL = "app_kubernetes_io_name"
# Each preset's checkout numbers differ, so one preset's query cannot pass on another's.
HTTP_PRESETS = ("ingress-nginx", "istio", "micrometer-http", "flask", "django", "express")
POOL_PRESETS = ("hikaricp", "go-sql", "pgbouncer")
OWN_LABEL_PRESETS = frozenset({"ingress-nginx", "istio", "pgbouncer"})


@dataclass(frozen=True)
class Traffic:
    """Requests per second: `ok` (2xx and 4xx) and `failed` (5xx)."""

    ok: float
    failed: float

    @property
    def error_rate(self) -> float:
        return self.failed / (self.ok + self.failed)

    @property
    def errors_per_minute(self) -> float:
        return self.failed * 60


@dataclass(frozen=True)
class Pool:
    in_use: float
    size: float


def traffic_of(preset: str, service: str) -> Traffic:
    """The known truth for one preset's service (`healthy` has never failed a request)."""
    if service == HEALTHY:
        return Traffic(ok=40.0, failed=0.0)
    if service != "checkout":
        return Traffic(ok=25.0, failed=25.0)
    i = HTTP_PRESETS.index(preset)
    total = 100.0 + 20 * i
    failed = total * 0.01 * (i + 2)
    return Traffic(ok=total - failed, failed=failed)


def pool_of(preset: str, service: str) -> Pool:
    if service != "checkout":
        return Pool(in_use=99, size=100)
    i = POOL_PRESETS.index(preset)
    return Pool(in_use=7 + 3 * i, size=20 + 10 * i)


Line = tuple[str, dict[str, str], float]
"""(metric, labels, value) of one exposition line."""


def _split(rate: float, shares: dict[str, float]) -> list[tuple[str, float]]:
    return [(key, rate * share) for key, share in shares.items()]


def _http_lines(preset: str, service: str, grown: Callable[[float], float]) -> list[Line]:
    """Request counters of one service; `grown(rate)` is a counter's value now."""
    t = traffic_of(preset, service)
    # 2xx and 4xx are not errors; several 5xx codes are.
    ok = {"200": 0.8, "404": 0.2}
    failed = {"503": 0.7, "500": 0.3}
    lines: list[Line] = []
    statuses = _split(t.ok, ok) + _split(t.failed, failed)
    for status, rate in statuses:
        if rate == 0:
            continue  # a status never answered has no series
        value = grown(rate)
        if preset == "ingress-nginx":
            for path, share in (("/cart", 0.5), ("/pay", 0.5)):
                labels = {
                    "canary": "",
                    "controller_class": "k8s.io/ingress-nginx",
                    "controller_namespace": "ingress-nginx",
                    "controller_pod": "ingress-nginx-controller-7d9f",
                    "ingress": f"{service}-ingress",
                    "method": "GET",
                    "namespace": "shop",
                    "path": path,
                    "service": service,
                    "status": status,
                }
                lines.append(("nginx_ingress_controller_requests", labels, value * share))
        elif preset == "istio":
            for reporter in ("destination", "source"):
                labels = {
                    "reporter": reporter,
                    "source_workload": "frontend",
                    "destination_service": f"{service}.shop.svc.cluster.local",
                    "destination_service_name": service,
                    "destination_service_namespace": "shop",
                    "destination_workload": f"{service}-v1",
                    "request_protocol": "http",
                    "response_code": status,
                    "response_flags": "-",
                }
                lines.append(("istio_requests_total", labels, value))
        elif preset == "micrometer-http":
            outcome = {"2": "SUCCESS", "4": "CLIENT_ERROR", "5": "SERVER_ERROR"}[status[0]]
            labels = {
                "error": "none",
                "exception": "none",
                "method": "GET",
                "outcome": outcome,
                "status": status,
                "uri": "/api/cart",
            }
            lines.append(("http_server_requests_seconds_count", labels, value))
            lines.append(("http_server_requests_seconds_sum", labels, value * 0.02))
        elif preset == "flask":
            lines.append(("flask_http_request_total", {"method": "GET", "status": status}, value))
        elif preset == "django":
            lines.append(("django_http_responses_total_by_status_total", {"status": status}, value))
        elif preset == "express":
            labels = {"status_code": status}
            lines.append(("http_request_duration_seconds_bucket", {**labels, "le": "+Inf"}, value))
            lines.append(("http_request_duration_seconds_sum", labels, value * 0.05))
            lines.append(("http_request_duration_seconds_count", labels, value))
    return lines


def _pool_lines(preset: str, service: str) -> list[Line]:
    p = pool_of(preset, service)
    if preset == "hikaricp":
        # Two pools in one application: the preset sums them.
        return [
            ("hikaricp_connections_active", {"pool": "HikariPool-1"}, p.in_use - 2),
            ("hikaricp_connections_active", {"pool": "reporting"}, 2),
            ("hikaricp_connections_max", {"pool": "HikariPool-1"}, p.size - 5),
            ("hikaricp_connections_max", {"pool": "reporting"}, 5),
            ("hikaricp_connections_idle", {"pool": "HikariPool-1"}, 1),
        ]
    if preset == "go-sql":
        return [
            ("go_sql_in_use_connections", {"db_name": "primary"}, p.in_use),
            ("go_sql_max_open_connections", {"db_name": "primary"}, p.size),
            ("go_sql_open_connections", {"db_name": "primary"}, p.in_use + 1),
        ]
    # pgbouncer: pools by database alias and user; databases by alias `name`, where
    # `database` is the real database behind the alias.
    return [
        (
            "pgbouncer_pools_server_active_connections",
            {"database": service, "user": "app"},
            p.in_use,
        ),
        ("pgbouncer_pools_server_idle_connections", {"database": service, "user": "app"}, 1),
        (
            "pgbouncer_databases_pool_size",
            {
                "database": f"{service}_db",
                "force_user": "",
                "host": "postgres",
                "name": service,
                "pool_mode": "transaction",
                "port": "5432",
            },
            p.size,
        ),
    ]


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def exposition(lines: list[Line], timestamp_ms: int, drop: frozenset[str]) -> str:
    out = []
    for metric, labels, value in lines:
        if metric in drop:
            continue
        inner = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
        out.append(f"{metric}{{{inner}}} {value!r} {timestamp_ms}")
    return "\n".join(out) + "\n"


@dataclass
class Job:
    """One scrape job: a path on the exporter and the target labels Prometheus adds."""

    name: str
    path: str
    preset: str
    services: tuple[str, ...]
    target_labels: dict[str, str]


def jobs_for(presets: tuple[str, ...]) -> list[Job]:
    """A usual deployment's scrape jobs for these presets."""
    jobs = []
    for preset in presets:
        if preset == "ingress-nginx":
            labels = {"service": "ingress-nginx-controller", "namespace": "ingress-nginx"}
            jobs.append(Job(preset, f"/{preset}", preset, SERVICES, labels))
        elif preset in OWN_LABEL_PRESETS:
            jobs.append(Job(preset, f"/{preset}", preset, SERVICES, {"namespace": "shop"}))
        else:
            services = (*SERVICES, HEALTHY) if preset == "flask" else SERVICES
            for service in services:
                labels = {TARGET_LABEL: service, "namespace": "shop"}
                jobs.append(
                    Job(f"{preset}-{service}", f"/{preset}/{service}", preset, (service,), labels)
                )
    return jobs


@dataclass
class FakeExporters:
    """The aiohttp server serving every job's path; `drop` hides metric names."""

    jobs: list[Job]
    drop: frozenset[str] = frozenset()
    started: float = field(default_factory=time.time)
    port: int = 0
    _first_scrape: dict[str, int] = field(default_factory=dict)
    _last_scrape: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def text(self, job: Job) -> str:
        now_ms = int(time.time() * 1000)
        elapsed = now_ms / 1000 - self.started

        def grown(rate: float) -> float:
            # Started long ago: well away from zero, so no extrapolation clamp applies.
            return rate * (elapsed + 10_000)

        lines: list[Line] = []
        for service in job.services:
            if job.preset in HTTP_PRESETS:
                lines += _http_lines(job.preset, service, grown)
            else:
                lines += _pool_lines(job.preset, service)
        with self._lock:
            self._first_scrape.setdefault(job.name, now_ms)
            self._last_scrape[job.name] = now_ms
        return exposition(lines, now_ms, self.drop)

    def covered_since_ms(self) -> tuple[int, int] | None:
        """(latest first scrape, earliest latest scrape) over every job: each job has
        samples throughout that span. None until every job was scraped."""
        with self._lock:
            if len(self._last_scrape) < len(self.jobs):
                return None
            return max(self._first_scrape.values()), min(self._last_scrape.values())

    def app(self) -> web.Application:
        app = web.Application()
        for job in self.jobs:

            async def handler(_: web.Request, job: Job = job) -> web.Response:
                return web.Response(text=self.text(job), content_type="text/plain")

            app.router.add_get(job.path, handler)
        return app


@contextmanager
def serving(exporters: FakeExporters) -> Iterator[FakeExporters]:
    """Run the exporters' server on 127.0.0.1:<free port> in a thread until exit."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(exporters.app(), access_log=None)

    async def start() -> None:
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        exporters.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        ready.set()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(start())
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=run, name="fake-exporters", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("fake exporters did not start")
    try:
        yield exporters
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


class ScrapingPrometheus(PrometheusServer):
    """The real prometheus binary scraping every job each second, sample timestamps
    honoured (the exporters send exact ones)."""

    def __init__(self, binary: str, workdir: Path, exporters: FakeExporters) -> None:
        super().__init__(binary, workdir, [])
        self.exporters = exporters

    def command(self) -> list[str]:
        command = super().command()
        lines = ["global:", "  scrape_interval: 1s", "  evaluation_interval: 1s", "scrape_configs:"]
        for job in self.exporters.jobs:
            labels = ", ".join(f"{k}: {v!r}" for k, v in job.target_labels.items())
            lines += [
                f"  - job_name: {job.name!r}",
                f"    metrics_path: {job.path!r}",
                "    honor_timestamps: true",
                "    static_configs:",
                f"      - targets: ['127.0.0.1:{self.exporters.port}']",
                f"        labels: {{{labels}}}",
            ]
        (self.workdir / "prometheus.yml").write_text("\n".join(lines) + "\n")
        return command


def all_preset_names() -> tuple[str, ...]:
    return tuple(PRESETS)
