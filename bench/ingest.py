"""Webhook ingest benchmark: the recorder against the transactional ceiling, driven by wrk.

Run by hand (not part of the unit suite; needs Debian's `wrk` and the `bench` extra):

    .venv/bin/python bench/ingest.py [--seconds 5] [--rounds 3] [--connections 16]
        [--dsn postgresql://postgres@127.0.0.1:5432/test]

Each server runs in its own process on a fresh PostgreSQL schema; wrk drives both in the
same run with the same bodies. The ceiling is bench/baseline_server.py: aiohttp + orjson +
asyncpg doing the recorder's transaction (lock, load, one write, commit) and nothing else.
The recorder runs at its default settings (info logs, metrics, validation).

Bodies are Alertmanager v4 notifications of 1 or 50 alerts. "unique" gives every request
a group of its own (a new incident each time); "repeated" sends one body again and again
(the duplicate path: lock, load, commit, nothing written). Prints requests/s, alerts/s,
p50/p99 latency per server, then the recorder's share of the ceiling per shape: the
rounds alternate the servers shape by shape, and the share is the median of rounds.

`--shape 1u` (repeatable: 1u, 1r, 50u, 50r) runs only those shapes. `--compare DIR`
also runs the recorder from the source tree DIR (e.g. `git archive main | tar -x -C
DIR`), alternating with the others, so two builds get their shares in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
FIRING = json.loads((ROOT / "tests" / "fixtures" / "alertmanager_firing.json").read_text())
GROUP = "@@G@@"  # replaced per request by wrk's Lua script (16 hex digits with the alert index)


@dataclass(frozen=True)
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def body_template(alerts: int) -> str:
    """An Alertmanager v4 body with `alerts` firing alerts; GROUP marks the group id."""
    body = json.loads(json.dumps(FIRING))
    template = body["alerts"][0]
    body["alerts"] = []
    for n in range(alerts):
        alert = json.loads(json.dumps(template))
        alert["labels"]["instance"] = f"10.0.{n // 250}.{n % 250}:9100"
        alert["fingerprint"] = f"{GROUP}{n:04x}"
        body["alerts"].append(alert)
    body["groupKey"] = '{}:{alertname="Bench' + GROUP + '"}'
    body["groupLabels"] = {"alertname": "Bench" + GROUP}
    return json.dumps(body)


LUA = """
local template = [==[%(template)s]==]
local unique = %(unique)s
local run = %(run)d
local thread_no = 0
local counter = 0
local prefix = ""
function setup(thread)
  thread_no = thread_no + 1
  thread:set("tid", thread_no)
end
function init(args)
  prefix = string.format("%%02x%%02x", run %% 256, tonumber(tid) %% 256)
end
local fixed = string.gsub(template, "@@G@@", string.format("%%012x", run))
local headers = {["Content-Type"] = "application/json"}
function request()
  if not unique then
    return wrk.format("POST", nil, headers, fixed)
  end
  counter = counter + 1
  local body = string.gsub(template, "@@G@@", prefix .. string.format("%%08x", counter))
  return wrk.format("POST", nil, headers, body)
end
"""

_LATENCY = re.compile(r"^\s+(50|99)(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)", re.MULTILINE)
_NON_2XX = re.compile(r"Non-2xx or 3xx responses:\s+(\d+)")
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


def to_ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(
    url: str, alerts: int, unique: bool, *, connections: int, seconds: float, workdir: Path
) -> Result:
    script = workdir / f"body-{alerts}-{'u' if unique else 'r'}.lua"
    script.write_text(
        LUA
        % {
            "template": body_template(alerts),
            "unique": "true" if unique else "false",
            "run": int(uuid.uuid4().int % 65536),
        }
    )
    out = subprocess.run(
        [
            "wrk",
            "--latency",
            "-t1",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    latency = {p: to_ms(v, u) for p, v, u in _LATENCY.findall(out)}
    rps = _RPS.search(out)
    if rps is None or "50" not in latency or "99" not in latency:
        raise RuntimeError(f"could not read wrk's output:\n{out}")
    non_2xx = _NON_2XX.search(out)
    sockets = _SOCKET_ERRORS.search(out)
    return Result(
        rps=float(rps.group(1)),
        p50_ms=latency["50"],
        p99_ms=latency["99"],
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


def wait_accepting(
    proc: subprocess.Popen[bytes], port: int, cmd: list[str], log_path: Path
) -> None:
    """Until the server started as `proc` accepts on `port` (30 s at most); a server that
    exits or never listens raises with the tail of its log."""
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"server did not start: {cmd}\n{tail}") from None
            time.sleep(0.05)


@contextlib.contextmanager
def server(cmd: list[str], port: int, env: dict[str, str], log_path: Path) -> Iterator[str]:
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, env={**os.environ, **env}, stdout=log, stderr=log, cwd=env.get("BENCH_CWD")
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_accepting(proc, port, cmd, log_path)
        yield url
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        text = log_path.read_text(errors="replace")
        if "Traceback" in text:
            print(f"server {cmd[-1]} logged errors:\n{text[-2000:]}", file=sys.stderr)


async def fresh_schema(dsn: str) -> str:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
    finally:
        await conn.close()
    return f"{dsn}{'&' if '?' in dsn else '?'}search_path={schema}"


def recorder_cmd(port: int, database_url: str) -> tuple[list[str], dict[str, str]]:
    cmd = [sys.executable, "-m", "recorder", "serve", "--listen", f"127.0.0.1:{port}"]
    env = {"RECORDER_DATABASE_URL": database_url, "RECORDER_LOG_FORMAT": "json"}
    return cmd, env


def recorder_from(src: Path) -> Callable[[int, str], tuple[list[str], dict[str, str]]]:
    """The recorder of another source tree (its modules first on the path)."""

    def build(port: int, database_url: str) -> tuple[list[str], dict[str, str]]:
        cmd, env = recorder_cmd(port, database_url)
        return cmd, {**env, "PYTHONPATH": str(src), "BENCH_CWD": str(src)}

    return build


def baseline_cmd(port: int, database_url: str) -> tuple[list[str], dict[str, str]]:
    cmd = [sys.executable, str(Path(__file__).with_name("baseline_server.py")), str(port)]
    return cmd, {"BENCH_DSN": database_url}


SHAPES = [(1, True), (1, False), (50, True), (50, False)]
SHAPE_NAMES = {f"{a}{'u' if u else 'r'}": (a, u) for a, u in SHAPES}


def report_line(name: str, alerts: int, unique: bool, r: Result) -> None:
    print(
        f"{name:<18} alerts={alerts:<3} {'unique  ' if unique else 'repeated'} "
        f"{r.rps:8.0f} req/s {r.rps * alerts:9.0f} alerts/s  p50 {r.p50_ms:6.2f} ms"
        f"  p99 {r.p99_ms:6.2f} ms  non-2xx {r.non_2xx}  socket errors {r.errors}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--shape", action="append", choices=list(SHAPE_NAMES), help="default: all four"
    )
    parser.add_argument("--compare", type=Path, help="also run the recorder of this tree")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/ingest.py needs wrk: apt-get install wrk")

    shapes = [SHAPE_NAMES[name] for name in args.shape] if args.shape else SHAPES
    servers: dict[str, Callable[[int, str], tuple[list[str], dict[str, str]]]] = {
        "ceiling (asyncpg)": baseline_cmd,
        "recorder postgres": recorder_cmd,
    }
    if args.compare is not None:
        servers["recorder compared"] = recorder_from(args.compare.resolve())
    recorders = [name for name in servers if name.startswith("recorder")]
    ratios = {(name, *shape): [] for name in recorders for shape in shapes}
    best: dict[tuple[str, int, bool], Result] = {}
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        workdir = Path(tmp)
        urls = {}
        for name, build in servers.items():
            port = free_port()
            cmd, env = build(port, asyncio.run(fresh_schema(args.dsn)))
            log = workdir / f"{name.replace(' ', '-')}.log"
            urls[name] = stack.enter_context(server(cmd, port, env, log)) + (
                "/webhooks/alertmanager"
            )
        for url in urls.values():  # warm up
            run_wrk(url, 1, True, connections=args.connections, seconds=2, workdir=workdir)
        # Rounds alternate the two servers shape by shape, so a change in the machine's
        # load touches both sides of each ratio alike.
        for round_no in range(args.rounds):
            print(f"round {round_no + 1} of {args.rounds}", flush=True)
            for alerts, unique in shapes:
                results = {}
                for name, url in urls.items():
                    r = run_wrk(
                        url,
                        alerts,
                        unique,
                        connections=args.connections,
                        seconds=args.seconds,
                        workdir=workdir,
                    )
                    report_line(name, alerts, unique, r)
                    results[name] = r
                    key = (name, alerts, unique)
                    if key not in best or r.rps > best[key].rps:
                        best[key] = r
                for name in recorders:
                    share = results[name].rps / results["ceiling (asyncpg)"].rps
                    ratios[(name, alerts, unique)].append(share)

    for name in recorders:
        print(
            f"\n{name}\n| PostgreSQL, wrk c={args.connections}, {args.rounds} rounds of "
            f"{args.seconds:g} s | ceiling req/s (best) | recorder req/s (best) "
            "| share (median of rounds) | recorder p99 (best round) |"
        )
        print("|---|---|---|---|---|")
        for alerts, unique in shapes:
            c = best[("ceiling (asyncpg)", alerts, unique)]
            r = best[(name, alerts, unique)]
            share = statistics.median(ratios[(name, alerts, unique)])
            print(
                f"| {alerts} alert{'s' if alerts > 1 else ''}, "
                f"{'unique' if unique else 'repeated'} "
                f"| {c.rps:.0f} | {r.rps:.0f} | {share:.2f} | {r.p99_ms:.1f} ms |"
            )
    print("\ntargets: share >= 0.60 (1 alert) and >= 0.75 (50 alerts); p99 < 25 ms")


if __name__ == "__main__":
    main()
