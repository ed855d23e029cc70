"""Sampler CPU cost: 500 open incidents × 4 signals against an instant fake Prometheus.

    python -m bench.sampler [--incidents 500] [--rounds 10] [--database-url sqlite:///...]

The fake Prometheus runs in a subprocess (its CPU is not counted) and answers every range
query at once with one point at the query's end. The recorder side (sampler, client,
store) runs here; each round advances a fake clock by one 15 s interval, so every round
asks each signal for exactly one new instant, as in steady state. Printed: CPU seconds
(time.process_time) per round and the share of one core at a 15 s interval.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import structlog
from prometheus_client import CollectorRegistry

from recorder.core.incident import Incident, IncidentStatus, Outcome, Transition
from recorder.evidence.model import Thresholds
from recorder.ids import new_incident_id
from recorder.metrics import RecorderMetrics
from recorder.prometheus.plan import Timing
from recorder.prometheus.promapi import PrometheusClient
from recorder.prometheus.signals import DEFAULT_SIGNALS
from recorder.sampler import Sampler
from recorder.store.factory import open_store
from recorder.store.protocol import Store

INTERVAL = timedelta(seconds=15)

FAKE_SERVER = r"""
import asyncio
from aiohttp import web

async def query_range(request):
    form = await request.post()
    body = ('{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},'
            '"values":[[%s,"0.5"]]}]}}' % form["end"])
    return web.Response(text=body, content_type="application/json")

async def main():
    app = web.Application()
    app.router.add_post("/api/v1/query_range", query_range)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


class SteppingClock:
    """A clock the benchmark moves one interval per round."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


async def open_incidents(store: Store, count: int, now: datetime) -> None:
    for n in range(count):
        incident = Incident(
            id=new_incident_id(now + timedelta(milliseconds=n)),
            correlation_key=f"bench-{n}",
            group_key=f"bench-{n}",
            title=f"Bench incident {n}",
            status=IncidentStatus.INVESTIGATING,
            severity="SEV2",
            labels={"alertname": "BenchAlert", "service": f"svc-{n % 50}"},
            started_at=now - timedelta(minutes=5),
            detected_at=now,
            updated_at=now,
            opened_by="Alertmanager",
        )
        outcome = Outcome(incident=incident, created=True, transitions=(Transition.OPENED,))
        await store.record(incident.correlation_key, lambda _view, o=outcome: o)


async def run(port: int, incidents: int, rounds: int, database_url: str, concurrency: int) -> None:
    store = open_store(database_url)
    await store.start()
    await store.migrate()
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await open_incidents(store, incidents, start)
    clock = SteppingClock(start)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(40))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        sampler = Sampler(
            store,
            PrometheusClient(f"http://127.0.0.1:{port}", session, retries=0),
            signals=DEFAULT_SIGNALS,
            timing=Timing.for_interval(INTERVAL, timedelta(hours=1)),
            thresholds=Thresholds(),
            concurrency=concurrency,
            query_timeout=10,
            metrics=RecorderMetrics(CollectorRegistry(), version="bench", backend="x"),
            log=structlog.get_logger(),
            clock=clock,
            resolved_within=timedelta(hours=24),
        )
        first = await sampler.run_round()  # baseline: cursors load, one range each
        print(f"warm-up round: {first.targets} incidents, {first.queries} queries")
        cpu: list[float] = []
        wall: list[float] = []
        for _ in range(rounds):
            clock.current += INTERVAL
            cpu0, wall0 = time.process_time(), time.perf_counter()
            result = await sampler.run_round()
            cpu.append(time.process_time() - cpu0)
            wall.append(time.perf_counter() - wall0)
            assert result.errors == 0
            assert result.saved == incidents * len(DEFAULT_SIGNALS), result
    await store.close()
    per_round = sorted(cpu)[len(cpu) // 2]
    print(
        f"{incidents} open incidents × {len(DEFAULT_SIGNALS)} signals, {rounds} rounds, "
        f"{store.backend}, concurrency {concurrency}"
    )
    print(f"CPU seconds per round: median {per_round:.3f}, max {max(cpu):.3f}")
    print(f"wall seconds per round: median {sorted(wall)[len(wall) // 2]:.3f}")
    print(f"share of one core at a 15 s interval: {per_round / 15:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    # The fake Prometheus gets its own process, so its CPU is not counted here.
    server = subprocess.Popen(
        [sys.executable, "-c", FAKE_SERVER], stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
            asyncio.run(run(port, args.incidents, args.rounds, url, args.concurrency))
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
