"""Webhook ingest benchmark: the recorder against a minimal aiohttp + asyncpg handler.

Run by hand (not part of the unit suite):

    .venv/bin/python bench/ingest.py [--seconds 5] [--dsn postgresql://postgres@127.0.0.1/test]

Each server runs in its own process; the load generator runs in this one. For every
payload shape (1 and 50 alerts per notification, unique or repeated) and concurrency
(16 and 64 senders) it prints requests/s, alerts/s, p50 and p99 latency, and the
recorder's throughput as a ratio of the ceiling (the minimal handler doing the same
transactional work: incident upsert + alert inserts in one transaction).
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
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
FIRING = json.loads((ROOT / "tests" / "fixtures" / "alertmanager_firing.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def notification(alerts: int, group: str) -> bytes:
    """An Alertmanager v4 body with `alerts` distinct firing alerts in group `group`."""
    body = json.loads(json.dumps(FIRING))
    template = body["alerts"][0]
    body["alerts"] = []
    for n in range(alerts):
        alert = json.loads(json.dumps(template))
        alert["labels"]["instance"] = f"10.0.{n // 250}.{n % 250}:9100"
        alert["fingerprint"] = f"{abs(hash((group, n))) % (1 << 64):016x}"
        body["alerts"].append(alert)
    body["groupKey"] = '{}:{alertname="' + group + '"}'
    body["groupLabels"] = {"alertname": group}
    return json.dumps(body).encode()


def bodies(alerts: int, unique: bool) -> Iterator[bytes]:
    if not unique:
        fixed = notification(alerts, "Repeated")
        while True:
            yield fixed
    run = uuid.uuid4().hex[:8]
    n = 0
    while True:
        n += 1
        yield notification(alerts, f"Unique{run}x{n}")


async def load(
    url: str, make: Iterator[bytes], concurrency: int, seconds: float
) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    headers = {"Content-Type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + seconds

        async def sender() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                body = next(make)
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(sender() for _ in range(concurrency)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "errors": errors,
    }


async def paced(
    url: str, make: Iterator[bytes], senders: int, rate: float, seconds: float
) -> dict[str, float]:
    """Open-loop load: `senders` senders together send `rate` requests/s on a fixed
    schedule, so the latency is the server's, not a queue the load generator built."""
    latencies: list[float] = []
    headers = {"Content-Type": "application/json"}
    gap = senders / rate
    connector = aiohttp.TCPConnector(limit=senders)
    async with aiohttp.ClientSession(connector=connector) as session:
        began = time.perf_counter()

        async def sender(offset: float) -> None:
            due = began + offset
            while due < began + seconds:
                await asyncio.sleep(max(0.0, due - time.perf_counter()))
                started = time.perf_counter()
                async with session.post(url, data=next(make), headers=headers) as resp:
                    await resp.read()
                latencies.append(time.perf_counter() - started)
                due += gap

        await asyncio.gather(*(sender(i * gap / senders) for i in range(senders)))
    latencies.sort()
    return {
        "rps": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
    }


@contextlib.contextmanager
def server(cmd: list[str], port: int, env: dict[str, str]) -> Iterator[str]:
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=log)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                        break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        err = log.read().decode(errors="replace")
                        raise RuntimeError(f"server did not start: {cmd}\n{err}") from None
                    time.sleep(0.05)
            yield url
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.seek(0)
            errors = log.read().decode(errors="replace")
            if "Traceback" in errors:
                print(f"server {cmd[-1]} logged errors:\n{errors[-2000:]}", file=sys.stderr)


async def fresh_schema(dsn: str) -> str:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()
    return f"{dsn}{'&' if '?' in dsn else '?'}search_path={schema}"


def recorder_cmd(port: int, database_url: str) -> tuple[list[str], dict[str, str]]:
    cmd = [sys.executable, "-m", "recorder", "serve", "--listen", f"127.0.0.1:{port}"]
    env = {"RECORDER_DATABASE_URL": database_url, "RECORDER_LOG_LEVEL": "warning"}
    return cmd, env


def baseline_cmd(port: int, database_url: str) -> tuple[list[str], dict[str, str]]:
    cmd = [sys.executable, str(Path(__file__).with_name("baseline_server.py")), str(port)]
    return cmd, {"BENCH_DSN": database_url}


def run_matrix(
    name: str,
    build: Callable[[int, str], tuple[list[str], dict[str, str]]],
    database_url: str,
    seconds: float,
) -> dict[tuple[int, bool, int], dict[str, float]]:
    port = free_port()
    cmd, env = build(port, database_url)
    results: dict[tuple[int, bool, int], dict[str, float]] = {}
    with server(cmd, port, env) as url:
        target = url + "/webhooks/alertmanager"
        for alerts in (1, 50):
            for unique in (True, False):
                for concurrency in (16, 64):
                    r = asyncio.run(load(target, bodies(alerts, unique), concurrency, seconds))
                    results[(alerts, unique, concurrency)] = r
                    print(
                        f"{name:<18} alerts={alerts:<3} {'unique ' if unique else 'repeat '}"
                        f"c={concurrency:<3} {r['rps']:8.0f} req/s {r['rps'] * alerts:9.0f} "
                        f"alerts/s  p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms"
                        f"  errors {r['errors']:.0f}",
                        flush=True,
                    )
                rate = results[(alerts, unique, 16)]["rps"] / 2
                r = asyncio.run(paced(target, bodies(alerts, unique), 16, rate, seconds))
                results[(alerts, unique, 0)] = r
                print(
                    f"{name:<18} alerts={alerts:<3} {'unique ' if unique else 'repeat '}"
                    f"paced {rate:6.0f} req/s by 16 senders (half of capacity): "
                    f"p50 {r['p50_ms']:6.2f} ms  p99 {r['p99_ms']:6.2f} ms",
                    flush=True,
                )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()

    baseline = run_matrix(
        "ceiling (asyncpg)", baseline_cmd, asyncio.run(fresh_schema(args.dsn)), args.seconds
    )
    recorder_pg = run_matrix(
        "recorder postgres", recorder_cmd, asyncio.run(fresh_schema(args.dsn)), args.seconds
    )
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run_matrix("recorder sqlite", recorder_cmd, f"sqlite:///{tmp}/bench.db", args.seconds)

    print("\nrecorder on PostgreSQL as a share of the ceiling (target >= 60 %):")
    for key, ceiling in baseline.items():
        alerts, unique, concurrency = key
        if concurrency == 0:
            continue
        ratio = recorder_pg[key]["rps"] / ceiling["rps"]
        print(
            f"  alerts={alerts:<3} {'unique ' if unique else 'repeat '}c={concurrency:<3} "
            f"{ratio * 100:5.1f} %"
        )
    print("\nrepeated vs unique on PostgreSQL (target >= 50 %):")
    for alerts in (1, 50):
        for concurrency in (16, 64):
            rep = recorder_pg[(alerts, False, concurrency)]["rps"]
            uni = recorder_pg[(alerts, True, concurrency)]["rps"]
            print(f"  alerts={alerts:<3} c={concurrency:<3} {rep / uni * 100:5.1f} %")
    print("\np99 at 16 senders on PostgreSQL (target < 25 ms), closed loop / paced at half:")
    for alerts in (1, 50):
        for unique in (True, False):
            closed = recorder_pg[(alerts, unique, 16)]["p99_ms"]
            open_loop = recorder_pg[(alerts, unique, 0)]["p99_ms"]
            print(
                f"  alerts={alerts:<3} {'unique ' if unique else 'repeat '} "
                f"{closed:6.2f} ms / {open_loop:6.2f} ms"
            )


if __name__ == "__main__":
    main()
