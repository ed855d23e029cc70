"""Where `recorder serve` spends its CPU per webhook request, under wrk, on PostgreSQL.

Run by hand (needs Debian's `wrk`, the `bench` extra, and py-spy for flame graphs):

    .venv/bin/python bench/profile_serve.py --alerts 1 --seconds 10
    .venv/bin/python bench/profile_serve.py --profiler py-spy --svg /tmp/one-alert.svg
    .venv/bin/python bench/profile_serve.py --profiler cprofile --top 40
    .venv/bin/python bench/profile_serve.py --compare /tmp/recorder-main --rounds 5

Every run reports the server process's CPU per request: user + system time from
/proc/PID/stat over the measured wrk run, divided by the requests wrk completed. That
figure moves less with the machine's load than requests/s does, so it is the one to
compare builds with.

- `--profiler py-spy` samples the server (`py-spy record --native` is not needed) and
  prints the functions with the most own samples; `--svg` keeps the flame graph.
- `--profiler cprofile` runs `recorder.cli.main` under cProfile with a CPU clock
  (`time.process_time`) and prints the top functions by own time. cProfile's own cost
  inflates Python-heavy paths; use it to count calls, py-spy for proportions.
- `--compare DIR` starts a second recorder from the source tree DIR (for example
  `git archive main | tar -x -C DIR`) and alternates wrk between the two, round by round,
  then prints the medians: an A/B of two builds in one run (every other round in
  reverse order).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import itertools
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ingest import free_port, fresh_schema, run_wrk, wait_accepting

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
CPROFILE_MAIN = """
import cProfile, pstats, sys, time
from recorder.cli import main
profile = cProfile.Profile(time.process_time)
try:
    profile.runcall(main, sys.argv[2:])
finally:
    pstats.Stats(profile).dump_stats(sys.argv[1])
"""


@dataclass(frozen=True)
class Measured:
    rps: float
    cpu_us_per_request: float
    p99_ms: float


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` (fields 14 and 15 of /proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def python_pid(root_pid: int) -> int:
    """The Python server: `root_pid` itself, or its child when py-spy started it."""
    children = Path(f"/proc/{root_pid}/task/{root_pid}/children")
    kids = children.read_text().split() if children.exists() else []
    return int(kids[0]) if kids else root_pid


@contextlib.contextmanager
def started(
    cmd: list[str], port: int, env: dict[str, str], log_path: Path, cwd: Path
) -> Iterator[tuple[str, int]]:
    """Run one server until the block ends; yield its URL and the Python process id.

    SIGTERM goes to the Python process itself, so a profiler wrapping it (py-spy) sees
    it exit and writes its output."""
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=log, stderr=log, cwd=cwd)
    try:
        wait_accepting(proc, port, cmd, log_path)
        pid = python_pid(proc.pid)
        yield f"http://127.0.0.1:{port}", pid
    finally:
        with contextlib.suppress(ProcessLookupError, UnboundLocalError):
            os.kill(pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def serve_cmd(
    port: int, profiler: str, workdir: Path, name: str, svg: Path | None
) -> tuple[list[str], Path | None]:
    """The command line for one recorder; the profile's output path, if any."""
    args = ["serve", "--listen", f"127.0.0.1:{port}"]
    if profiler == "cprofile":
        out = workdir / f"{name}.pstats"
        return [sys.executable, "-c", CPROFILE_MAIN, str(out), *args], out
    plain = [sys.executable, "-m", "recorder", *args]
    if profiler == "py-spy":
        out = workdir / f"{name}.folded"
        spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
        fmt, target = ("raw", out) if svg is None else ("flamegraph", svg)
        cmd = [spy, "record", "--format", fmt, "--output", str(target), "--rate", "200", "--"]
        return [*cmd, *plain], out if svg is None else None
    return plain, None


def measure(url: str, pid: int, args: argparse.Namespace, workdir: Path) -> Measured:
    before = cpu_seconds(pid)
    result = run_wrk(
        url,
        args.alerts,
        not args.repeated,
        connections=args.connections,
        seconds=args.seconds,
        workdir=workdir,
    )
    spent = cpu_seconds(pid) - before
    requests = result.rps * args.seconds
    return Measured(result.rps, spent / requests * 1e6, result.p99_ms)


def print_pstats(path: Path, top: int) -> None:
    import pstats

    pstats.Stats(str(path)).sort_stats("tottime").print_stats(top)


_FRAME = re.compile(r"^(.*) \((.*):(\d+)\)$")


def print_folded(path: Path, top: int) -> None:
    """Own samples per function from py-spy's raw (folded) output."""
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        leaf = stack.rsplit(";", 1)[-1]
        match = _FRAME.match(leaf)
        name = f"{match.group(1)} ({match.group(2)})" if match else leaf
        own[name] += int(count)
        total += int(count)
    print(f"\n{total} samples; own share by function:")
    for name, count in own.most_common(top):
        print(f"{count / total:6.1%}  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1)
    parser.add_argument("--repeated", action="store_true", help="the duplicate path")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profiler", choices=["none", "py-spy", "cprofile"], default="none")
    parser.add_argument("--svg", type=Path, help="with py-spy: write a flame graph here")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--save", type=Path, help="copy the raw profiles into this folder")
    parser.add_argument("--compare", type=Path, help="source tree of a second build")
    parser.add_argument(
        "--ceiling", action="store_true", help="also measure bench/baseline_server.py"
    )
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("bench/profile_serve.py needs wrk: apt-get install wrk")

    builds: dict[str, Path | None] = {"this tree": ROOT}
    if args.compare is not None:
        builds = {f"compare {args.compare}": args.compare.resolve(), **builds}
    if args.ceiling:
        builds = {"ceiling (bench/baseline_server.py)": None, **builds}
    figures: dict[str, list[Measured]] = {name: [] for name in builds}
    outputs: dict[str, Path | None] = {}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        run_builds(builds, args, workdir, figures, outputs)
        report(figures, outputs, args)


def run_builds(
    builds: dict[str, Path | None],
    args: argparse.Namespace,
    workdir: Path,
    figures: dict[str, list[Measured]],
    outputs: dict[str, Path | None],
) -> None:
    with contextlib.ExitStack() as stack:
        running = {}
        for n, (name, src) in enumerate(builds.items()):
            port = free_port()
            database_url = asyncio.run(fresh_schema(args.dsn))
            cwd = src or ROOT
            if src is None:
                cmd = [sys.executable, str(ROOT / "bench" / "baseline_server.py"), str(port)]
                env = {"BENCH_DSN": database_url}
            else:
                svg = args.svg
                if svg is not None and len(builds) > 1:  # one flame graph per build
                    svg = svg.with_name(f"{svg.stem}.b{n}{svg.suffix}")
                cmd, outputs[name] = serve_cmd(port, args.profiler, workdir, f"b{n}", svg)
                env = {
                    "RECORDER_DATABASE_URL": database_url,
                    "RECORDER_LOG_FORMAT": "json",
                    "PYTHONPATH": str(src),
                }
            log = workdir / f"b{n}.log"
            url, pid = stack.enter_context(started(cmd, port, env, log, cwd))
            running[name] = (url + "/webhooks/alertmanager", pid)
        for url, _ in running.values():  # warm up
            run_wrk(
                url, args.alerts, True, connections=args.connections, seconds=2, workdir=workdir
            )
        for round_no in range(args.rounds):
            # Every other round runs the builds in reverse order, so that whatever the
            # previous run leaves behind (PostgreSQL writing back, caches) falls on each.
            order = list(running.items())
            for name, (url, pid) in order[::-1] if round_no % 2 else order:
                m = measure(url, pid, args, workdir)
                figures[name].append(m)
                print(
                    f"round {round_no + 1}  {name:<40} {m.rps:7.0f} req/s  "
                    f"{m.cpu_us_per_request:7.0f} µs CPU/request  p99 {m.p99_ms:6.1f} ms",
                    flush=True,
                )


def report(
    figures: dict[str, list[Measured]],
    outputs: dict[str, Path | None],
    args: argparse.Namespace,
) -> None:
    print()
    for name, ms in figures.items():
        print(
            f"median  {name:<40} {statistics.median(m.rps for m in ms):7.0f} req/s  "
            f"{statistics.median(m.cpu_us_per_request for m in ms):7.0f} µs CPU/request"
        )
    names = list(figures)
    for a_name, b_name in itertools.pairwise(names):
        a, b = figures[a_name], figures[b_name]
        cpu = [y.cpu_us_per_request / x.cpu_us_per_request for x, y in zip(a, b, strict=True)]
        rps = [y.rps / x.rps for x, y in zip(a, b, strict=True)]
        print(
            f"{b_name} / {a_name}: CPU per request {statistics.median(cpu):.3f}, "
            f"requests/s {statistics.median(rps):.3f} (medians of rounds)"
        )
    for name, out in outputs.items():
        if out is None or not out.exists():
            continue
        if args.save is not None:
            args.save.mkdir(parents=True, exist_ok=True)
            shutil.copy(out, args.save / out.name)
        print(f"\n== {name}")
        (print_pstats if args.profiler == "cprofile" else print_folded)(out, args.top)


if __name__ == "__main__":
    main()
