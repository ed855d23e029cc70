"""Storm benchmark: one Alertmanager notification of 10,000 alerts (about 8 MB).

Run by hand (not part of the unit suite):

    .venv/bin/python bench/storm.py [--alerts 10000] [--dsn postgresql://postgres@127.0.0.1:5432/test]
        [--sqlite] [--rounds 3] [--compare DIR]

The recorder runs as its own process (`python -m recorder serve`, default settings,
JSON logs) on a fresh PostgreSQL schema (PostgreSQL at its own default settings). The
bodies are what kube-prometheus sends when a node dies: one group, every alert with a
dozen labels, three annotations and a Prometheus graph link. Each round sends, timed from
the first byte sent to the answer:

- firing: a new group (a new incident with 10,000 alerts);
- repeat: the same body again (Alertmanager re-sends it every group_interval: all
  duplicates);
- resolved: every alert resolved (10,000 updates; the incident resolves).

Printed: body size, each answer's status and time, the CPU the recorder (and, on
PostgreSQL, the server processes serving it) used for it, the slowest `/healthz` answer
while it was recorded (asked every 5 ms on a connection of its own: what any other
request would have waited), and the server's peak RSS (VmHWM from /proc, the whole
process: interpreter, libraries, pools) after the last round, beside its RSS at rest
before the first, and the peak RSS of its child processes (big bodies are parsed in a
worker process, whose CPU time is counted as the recorder's; multiprocessing adds a
resource tracker process). Each process peaks at its own moment, so the figure to hold
against a memory limit is printed too: the peak of the summed RSS of the recorder and its
children, sampled every 5 ms from the warm-up to the end.

`--compare DIR` also runs a recorder from the source tree DIR (for example
`git archive main | tar -x -C DIR`), each on its own schema, alternating the two round
by round: an A/B of two builds in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import asyncpg

STARTS_AT = "2026-11-28T03:14:07.123456789Z"
ENDS_AT = "2026-11-28T03:41:52.987654321Z"
GO_ZERO = "0001-01-01T00:00:00Z"
# Comfortably above the largest body measured (10,000 alerts ~ 8 MB) and the documented
# default; only used when the recorder's own default is smaller (see body_limit_override).
STORM_BODY_LIMIT = 16 * 1024 * 1024


def storm_body(
    alerts: int, *, status: str, group: str = "storm", resolved: int | None = None
) -> bytes:
    """An Alertmanager v4 body: `alerts` KubePodNotReady-style alerts in one group.

    With status "resolved", the first `resolved` alerts (default: all) are resolved.
    """
    done = alerts if resolved is None else resolved
    items = []
    for n in range(alerts):
        node = f"ip-10-{n // 2500}-{(n // 50) % 50}-{n % 50}.eu-west-1.compute.internal"
        pod = f"checkout-{n // 10:04d}-7f9c{n:05x}-{(n * 7919) % 100000:05d}"
        namespace = f"team-{n % 40:02d}"
        labels = {
            "alertname": "KubePodNotReady",
            "cluster": "prod-eu-west-1",
            "container": "app",
            "instance": f"10.{n // 65536}.{(n // 256) % 256}.{n % 256}:8443",
            "job": "kube-state-metrics",
            "namespace": namespace,
            "node": node,
            "pod": pod,
            "prometheus": "monitoring/k8s",
            "service": "checkout",
            "severity": "warning",
        }
        is_resolved = status == "resolved" and n < done
        items.append(
            {
                "status": "resolved" if is_resolved else "firing",
                "labels": labels,
                "annotations": {
                    "description": f"Pod {namespace}/{pod} has been non-ready for 15 minutes.",
                    "runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/"
                    "kubernetes/kubepodnotready",
                    "summary": "Pod has been in a non-ready state for more than 15 minutes.",
                },
                "startsAt": STARTS_AT,
                "endsAt": ENDS_AT if is_resolved else GO_ZERO,
                "generatorURL": "http://prometheus-k8s-0:9090/graph?g0.expr=kube_pod_status_ready"
                "%7Bcondition%3D%22false%22%2Cjob%3D%22kube-state-metrics%22%7D+%3D%3D+1&g0.tab=1",
                "fingerprint": f"{(n * 0x9E3779B97F4A7C15) % (1 << 64):016x}",
            }
        )
    firing_left = any(item["status"] == "firing" for item in items)
    message = {
        "receiver": "incident-recorder",
        "status": "firing" if firing_left else "resolved",
        "alerts": items,
        "groupLabels": {"alertname": "KubePodNotReady", "cluster": "prod-eu-west-1"},
        "commonLabels": {
            "alertname": "KubePodNotReady",
            "cluster": "prod-eu-west-1",
            "container": "app",
            "endpoint": "http-metrics",
            "job": "kube-state-metrics",
            "prometheus": "monitoring/k8s",
            "service": "checkout",
            "severity": "warning",
        },
        "commonAnnotations": {
            "summary": "Pod has been in a non-ready state for more than 15 minutes.",
            "runbook_url": "https://runbooks.prometheus-operator.dev/runbooks/kubernetes/"
            "kubepodnotready",
        },
        "externalURL": "http://alertmanager-main-0:9093",
        "version": "4",
        "groupKey": '{}/{severity="warning"}:{alertname="KubePodNotReady", '
        f'cluster="prod-eu-west-1", storm="{group}"}}',
        "truncatedAlerts": 0,
    }
    return json.dumps(message, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Answer:
    status: int
    seconds: float
    text: str


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process has used (/proc/PID/stat utime, stime)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(pid: int) -> list[int]:
    """The child processes of `pid` (the recorder's body-parsing worker among them)."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            children += [int(child) for child in (task / "children").read_text().split()]
    return children


def recorder_tree_cpu(pid: int) -> float:
    """CPU seconds of the recorder and its child processes: big bodies are parsed in a
    worker process, whose time is the recorder's too."""
    return cpu_seconds(pid) + total_cpu(child_pids(pid))


def memory_kib(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak RSS) of a process, in KiB, from /proc/PID/status."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            found[key] = int(value.split()[0])
    return found


def body_limit_override(body_size: int) -> int | None:
    """STORM_BODY_LIMIT when the recorder's default body limit is below the body."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from recorder.settings import Settings

    default = Settings().body_limit
    return STORM_BODY_LIMIT if default < body_size else None


def ready(base: str) -> bool:
    """True once /readyz answers 200 (socket bound, storage up, migrations applied)."""
    try:
        with urllib.request.urlopen(base + "/readyz", timeout=2) as resp:  # noqa: S310 (http)
            return bool(resp.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def recorder(
    database_url: str, workdir: Path, body_limit: int | None, src: Path | None = None
) -> Iterator[tuple[str, int]]:
    """`recorder serve` from this tree, or from the source tree `src`."""
    port = free_port()
    env = {
        **os.environ,
        "RECORDER_DATABASE_URL": database_url,
        "RECORDER_LOG_FORMAT": "json",
    }
    if src is not None:
        env["PYTHONPATH"] = str(src)
    if body_limit is not None:
        config = workdir / "storm.toml"
        config.write_text(f"body_limit = {body_limit}\n")
        env["RECORDER_CONFIG"] = str(config)
    log_path = workdir / "recorder.log"
    cmd = [sys.executable, "-m", "recorder", "serve", "--listen", f"127.0.0.1:{port}"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log, cwd=src)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not ready(base):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"recorder did not start:\n{log_path.read_text()[-2000:]}")
            time.sleep(0.1)
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        text = log_path.read_text(errors="replace")
        if "Traceback" in text:
            print(f"the recorder logged errors:\n{text[-3000:]}", file=sys.stderr)


async def post(session: aiohttp.ClientSession, url: str, body: bytes) -> Answer:
    started = time.perf_counter()
    async with session.post(url, data=body, headers={"Content-Type": "application/json"}) as resp:
        text = await resp.text()
        return Answer(resp.status, time.perf_counter() - started, text)


async def probe_healthz(url: str, latencies: list[float], interval: float = 0.005) -> None:
    """Ask `url` every `interval` on one connection of its own until cancelled."""
    connector = aiohttp.TCPConnector(limit=1)
    async with aiohttp.ClientSession(connector=connector) as session:
        while True:
            started = time.perf_counter()
            async with session.get(url) as resp:
                await resp.read()
            latencies.append(time.perf_counter() - started)
            await asyncio.sleep(interval)


async def post_probed(
    session: aiohttp.ClientSession, url: str, body: bytes, healthz: str
) -> tuple[Answer, list[float]]:
    """POST the body while /healthz is probed; the answer and the probes' latencies."""
    latencies: list[float] = []
    probing = asyncio.create_task(probe_healthz(healthz, latencies))
    try:
        await asyncio.sleep(0.02)  # the probe connection is open before the body goes
        answer = await post(session, url, body)
    finally:
        probing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await probing
    return answer, latencies


async def fresh_schema(dsn: str) -> tuple[str, str]:
    """A new schema, and the recorder's DSN for it."""
    schema = f"storm_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    return schema, f"{dsn}{'&' if '?' in dsn else '?'}search_path={schema}"


async def drop_schema(dsn: str, schema: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


def client_ports(pid: int, server_port: int) -> list[int]:
    """Local ports of the process's TCP connections to `server_port` (its pool)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    ports = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                local, remote, inode = fields[1], fields[2], fields[9]
                if inode in inodes and int(remote.rsplit(":", 1)[1], 16) == server_port:
                    ports.append(int(local.rsplit(":", 1)[1], 16))
    return ports


async def backend_pids(dsn: str, recorder_pid: int) -> list[int]:
    """The PostgreSQL server processes serving the recorder's pooled connections."""
    ports = client_ports(recorder_pid, urlsplit(dsn).port or 5432)
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE client_port = ANY($1::int[])", ports
        )
    finally:
        await conn.close()
    return [int(row["pid"]) for row in rows]


def total_cpu(pids: list[int]) -> float:
    """CPU seconds used so far by the processes still alive among `pids`."""
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            total += cpu_seconds(pid)
    return total


STEPS = ("firing", "repeat", "resolved")


def tree_rss_kib(pid: int) -> int:
    """VmRSS of the process and its child processes (the parsing worker, multiprocessing's
    resource tracker), in KiB: the memory the recorder holds at this instant."""
    total = 0
    for each in [pid, *child_pids(pid)]:
        with contextlib.suppress(OSError, KeyError):
            total += memory_kib(each)["VmRSS"]
    return total


class TreeRss:
    """The peak of the recorder's summed RSS (itself and its children), sampled every
    `interval` from a thread: the figure a container's memory limit compares to, which
    the per-process peaks (VmHWM, each at its own moment) can only bound from above."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        self.pid = pid
        self.peak_kib = tree_rss_kib(pid)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, args=(interval,), daemon=True)
        self._thread.start()

    def _sample(self, interval: float) -> None:
        while not self._done.wait(interval):
            with contextlib.suppress(OSError):
                self.peak_kib = max(self.peak_kib, tree_rss_kib(self.pid))

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


@dataclass(frozen=True)
class Step:
    answer: Answer
    recorder_cpu: float
    postgres_cpu: float
    healthz: list[float]


@dataclass
class Build:
    """One recorder under test: where it listens, its process, its database servers."""

    name: str
    base: str
    pid: int
    servers: list[int]
    rest_kib: int
    steps: dict[str, list[Step]]
    tree: TreeRss | None = None


async def warm_up(build: Build, pg: str | None) -> None:
    """One small request first, so connection setup and lazy imports are not counted."""
    async with aiohttp.ClientSession() as session:
        url = build.base + "/webhooks/alertmanager"
        await post(session, url, storm_body(1, status="firing", group="warm-up"))
    build.servers = [] if pg is None else await backend_pids(pg, build.pid)


async def run_round(build: Build, alerts: int, round_no: int, pg: bool) -> None:
    """Send the round's three bodies to one build; print one line per answer."""
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        group = f"round-{round_no}"
        for step in STEPS:
            status = "resolved" if step == "resolved" else "firing"
            body = storm_body(alerts, status=status, group=group)
            cpu_before, pg_before = recorder_tree_cpu(build.pid), total_cpu(build.servers)
            answer, healthz = await post_probed(
                session, build.base + "/webhooks/alertmanager", body, build.base + "/healthz"
            )
            cpu = recorder_tree_cpu(build.pid) - cpu_before
            pg_cpu = total_cpu(build.servers) - pg_before
            rss = memory_kib(build.pid)
            build.steps[step].append(Step(answer, cpu, pg_cpu, healthz))
            print(
                f"round {round_no + 1} {build.name:<8} {step:<8} {len(body) / 1e6:5.2f} MB  "
                f"HTTP {answer.status}  {answer.seconds * 1000:6.0f} ms  CPU recorder "
                f"{cpu * 1000:5.0f} ms"
                + (f" + PostgreSQL {pg_cpu * 1000:4.0f} ms" if pg else "")
                + f"  /healthz worst {max(healthz, default=0) * 1000:4.0f} ms"
                f"  peak RSS {rss['VmHWM'] / 1024:6.1f} MiB",
                flush=True,
            )
            if answer.status != 200:
                print(f"  answer: {answer.text[:500]}", flush=True)
            del body


def summary(build: Build, pg: bool) -> None:
    peak = memory_kib(build.pid)["VmHWM"]
    print(f"\n{build.name}:")
    for step in STEPS:
        steps = build.steps[step]
        times = sorted(s.answer.seconds * 1000 for s in steps)
        own = [s.recorder_cpu * 1000 for s in steps]
        server = [s.postgres_cpu * 1000 for s in steps]
        worst = [max(s.healthz, default=0) * 1000 for s in steps]
        statuses = sorted({s.answer.status for s in steps})
        print(
            f"  {step:<8} HTTP {statuses}  wall best {times[0]:6.0f} ms  median "
            f"{statistics.median(times):6.0f} ms;  CPU median recorder "
            f"{statistics.median(own):5.0f} ms"
            + (f" + PostgreSQL {statistics.median(server):5.0f} ms" if pg else "")
            + f";  /healthz worst median {statistics.median(worst):4.0f} ms, "
            f"max {max(worst):4.0f} ms"
        )
    print(f"  recorder peak RSS {peak / 1024:.1f} MiB (at rest {build.rest_kib / 1024:.1f} MiB)")
    for child in child_pids(build.pid):
        with contextlib.suppress(OSError):
            child_mem = memory_kib(child)
            print(
                f"  child process {child_role(child)} peak RSS {child_mem['VmHWM'] / 1024:.1f} "
                f"MiB (now {child_mem['VmRSS'] / 1024:.1f} MiB)"
            )
    if build.tree is not None:
        print(
            f"  peak of the summed RSS of the recorder and its children, sampled every 5 ms: "
            f"{build.tree.peak_kib / 1024:.1f} MiB ({build.tree.peak_kib * 1024 / 1e6:.0f} MB)"
        )


def child_role(pid: int) -> str:
    """What a child process of the recorder is, from its command line."""
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    if b"resource_tracker" in cmdline:
        return "(multiprocessing resource tracker)"
    return "(body parsing)"


def measure(name: str, database_urls: list[str], args: argparse.Namespace, pg: str | None) -> None:
    """Run every build (this tree, and --compare's) on its own database, alternating."""
    sample = storm_body(args.alerts, status="firing")
    override = body_limit_override(len(sample))
    print(
        f"\n== {name}: {args.alerts} alerts, {len(sample):,} bytes per body"
        + (f"; body_limit raised to {override:,} (default is smaller)" if override else "")
    )
    del sample
    sources: list[tuple[str, Path | None]] = [("this", None)]
    if args.compare is not None:
        sources.append(("compare", Path(args.compare)))
    with contextlib.ExitStack() as stack:
        builds = []
        for (label, src), database_url in zip(sources, database_urls, strict=True):
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            base, pid = stack.enter_context(recorder(database_url, tmp, override, src))
            rest = memory_kib(pid)["VmRSS"]
            print(f"{label}: recorder at rest: RSS {rest / 1024:.1f} MiB")
            for child in child_pids(pid):
                with contextlib.suppress(OSError):
                    child_rest = memory_kib(child)["VmRSS"]
                    print(f"  child {child_role(child)} at rest: RSS {child_rest / 1024:.1f} MiB")
            builds.append(Build(label, base, pid, [], rest, {step: [] for step in STEPS}))
        for build in builds:
            asyncio.run(warm_up(build, pg))
            build.tree = TreeRss(build.pid)
        for round_no in range(args.rounds):
            # Alternate which build goes first, so neither always follows the other.
            order = builds if round_no % 2 == 0 else builds[::-1]
            for build in order:
                asyncio.run(run_round(build, args.alerts, round_no, pg is not None))
        load, cpus = os.getloadavg()[0], os.cpu_count()
        print(f"\n{name} summary ({args.alerts} alerts; load average {load:.1f} on {cpus} CPUs)")
        for build in builds:
            if build.tree is not None:
                build.tree.stop()
            summary(build, pg is not None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="also run on SQLite")
    parser.add_argument("--compare", help="source tree of a second build to alternate with")
    args = parser.parse_args()

    count = 1 if args.compare is None else 2
    made = [asyncio.run(fresh_schema(args.dsn)) for _ in range(count)]
    try:
        measure("PostgreSQL", [url for _, url in made], args, args.dsn)
    finally:
        for schema, _ in made:
            asyncio.run(drop_schema(args.dsn, schema))
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            urls = [f"sqlite:///{tmp}/storm-{n}.db" for n in range(count)]
            measure("SQLite", urls, args, None)


if __name__ == "__main__":
    main()
