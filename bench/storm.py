"""Storm benchmark: one Alertmanager notification of 10,000 alerts (about 8 MB).

Run by hand (not part of the unit suite):

    .venv/bin/python bench/storm.py [--alerts 10000] [--dsn postgresql://postgres@127.0.0.1:5432/test]
        [--sqlite] [--rounds 3]

The recorder runs as its own process (`python -m recorder serve`, default settings,
JSON logs) on a fresh PostgreSQL schema (PostgreSQL at its own default settings). The
bodies are what kube-prometheus sends when a node dies: one group, every alert with a
dozen labels, three annotations and a Prometheus graph link. Each round sends, timed from
the first byte sent to the answer:

- firing: a new group (a new incident with 10,000 alerts);
- repeat: the same body again (Alertmanager re-sends it every group_interval: all
  duplicates);
- resolved: every alert resolved (10,000 updates; the incident resolves).

Printed: body size, each answer's status and time, and the server's peak RSS (VmHWM from
/proc, the whole process: interpreter, libraries, pools) after the last round, beside its
RSS at rest before the first, and the peak RSS of its child processes (big bodies are
parsed in a worker process; its CPU time counts as the recorder's).
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


def recorder_cpu(pid: int) -> float:
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
def recorder(database_url: str, workdir: Path, body_limit: int | None) -> Iterator[tuple[str, int]]:
    port = free_port()
    env = {
        **os.environ,
        "RECORDER_DATABASE_URL": database_url,
        "RECORDER_LOG_FORMAT": "json",
    }
    if body_limit is not None:
        config = workdir / "storm.toml"
        config.write_text(f"body_limit = {body_limit}\n")
        env["RECORDER_CONFIG"] = str(config)
    log_path = workdir / "recorder.log"
    cmd = [sys.executable, "-m", "recorder", "serve", "--listen", f"127.0.0.1:{port}"]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=log)
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


@dataclass(frozen=True)
class Step:
    answer: Answer
    recorder_cpu: float
    postgres_cpu: float


async def run_rounds(
    url: str, pid: int, alerts: int, rounds: int, pg: str | None
) -> dict[str, list[Step]]:
    """Send each round's three bodies; print one line per answer.

    `pg` is an admin DSN, to count the CPU time of the PostgreSQL server processes
    serving the recorder too; None on SQLite (in-process).
    """
    steps: dict[str, list[Step]] = {step: [] for step in STEPS}
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        # One small request first, so connection setup and lazy imports are not counted.
        await post(session, url, storm_body(1, status="firing", group="warm-up"))
        servers = [] if pg is None else await backend_pids(pg, pid)
        for n in range(rounds):
            group = f"round-{n}"
            for step in STEPS:
                status = "resolved" if step == "resolved" else "firing"
                body = storm_body(alerts, status=status, group=group)
                cpu_before, pg_before = recorder_cpu(pid), total_cpu(servers)
                answer = await post(session, url, body)
                cpu = recorder_cpu(pid) - cpu_before
                pg_cpu = total_cpu(servers) - pg_before
                rss = memory_kib(pid)
                steps[step].append(Step(answer, cpu, pg_cpu))
                print(
                    f"round {n + 1} {step:<8} {len(body) / 1e6:5.2f} MB  HTTP {answer.status}  "
                    f"{answer.seconds * 1000:6.0f} ms  CPU recorder {cpu * 1000:5.0f} ms"
                    + (f" + PostgreSQL {pg_cpu * 1000:4.0f} ms" if pg else "")
                    + f"  RSS {rss['VmRSS'] / 1024:6.1f} MiB  peak {rss['VmHWM'] / 1024:6.1f} MiB",
                    flush=True,
                )
                if answer.status != 200:
                    print(f"  answer: {answer.text[:500]}", flush=True)
                del body
    return steps


def measure(name: str, database_url: str, args: argparse.Namespace, pg: str | None) -> None:
    sample = storm_body(args.alerts, status="firing")
    override = body_limit_override(len(sample))
    print(
        f"\n== {name}: {args.alerts} alerts, {len(sample):,} bytes per body"
        + (f"; body_limit raised to {override:,} (default is smaller)" if override else "")
    )
    del sample
    with (
        tempfile.TemporaryDirectory() as tmp,
        recorder(database_url, Path(tmp), override) as (base, pid),
    ):
        rest = memory_kib(pid)
        print(f"recorder at rest: RSS {rest['VmRSS'] / 1024:.1f} MiB")
        url = base + "/webhooks/alertmanager"
        steps = asyncio.run(run_rounds(url, pid, args.alerts, args.rounds, pg))
        peak = memory_kib(pid)["VmHWM"]
        workers = [memory_kib(child)["VmHWM"] for child in child_pids(pid)]
    load, cpus = os.getloadavg()[0], os.cpu_count()
    print(f"\n{name} summary ({args.alerts} alerts; load average {load:.1f} on {cpus} CPUs):")
    for step in STEPS:
        times = sorted(s.answer.seconds * 1000 for s in steps[step])
        cpu = [(s.recorder_cpu + s.postgres_cpu) * 1000 for s in steps[step]]
        statuses = sorted({s.answer.status for s in steps[step]})
        print(
            f"  {step:<8} HTTP {statuses}  wall best {times[0]:6.0f} ms  median "
            f"{statistics.median(times):6.0f} ms  worst {times[-1]:6.0f} ms;  CPU "
            f"(recorder{' + PostgreSQL' if pg else ''}) median {statistics.median(cpu):5.0f} ms"
        )
    print(f"  recorder peak RSS {peak / 1024:.1f} MiB (at rest {rest['VmRSS'] / 1024:.1f} MiB)")
    for worker in workers:
        print(f"  child process (body parsing) peak RSS {worker / 1024:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--sqlite", action="store_true", help="also run on SQLite")
    args = parser.parse_args()

    schema, url = asyncio.run(fresh_schema(args.dsn))
    try:
        measure("PostgreSQL", url, args, args.dsn)
    finally:
        asyncio.run(drop_schema(args.dsn, schema))
    if args.sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            measure("SQLite", f"sqlite:///{tmp}/storm.db", args, None)


if __name__ == "__main__":
    main()
