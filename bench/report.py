"""Report benchmark: an incident with 10,000 timeline entries and 24 h of samples.

Run by hand (not part of the unit suite):

    .venv/bin/python bench/report.py [--dsn postgresql://postgres@127.0.0.1/test]

Stores the incident through the real store on SQLite and on PostgreSQL, then times the
whole report path (load incident, timeline, related, samples; evidence maths; render) for
each format: wall time, this process's CPU time (SQLite's reader thread included; a
steadier figure on a busy machine) and the time the cyclic collector took inside it.
The target is under 150 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from recorder.core.events import AlertStatus
from recorder.core.incident import (
    AlertState,
    Incident,
    IncidentStatus,
    IncidentView,
    Outcome,
    TimelineEntry,
    TimelineKind,
)
from recorder.report_io import render_report
from recorder.settings import load_settings
from recorder.store.factory import open_store
from recorder.store.protocol import Store, StoredSample

STARTED = datetime(2026, 11, 27, 0, 0, tzinfo=UTC)
DURATION = timedelta(hours=24)
STEP = 15.0


def incident_outcome() -> Outcome:
    labels = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
    incident = Incident(
        id="bench" + uuid.uuid4().hex[:12],
        correlation_key="bench:" + uuid.uuid4().hex,
        group_key='{}:{alertname="HighErrorRate"}',
        title="HighErrorRate on checkout",
        status=IncidentStatus.RESOLVED,
        severity="SEV1",
        labels=labels,
        started_at=STARTED,
        detected_at=STARTED + timedelta(seconds=30),
        updated_at=STARTED + DURATION,
        opened_by="Alertmanager",
        acknowledged_at=STARTED + timedelta(minutes=2),
        acknowledged_by="Jane Doe",
        resolved_at=STARTED + DURATION,
        resolved_by="Alertmanager",
    )
    alert = AlertState(
        fingerprint="0123456789abcdef",
        starts_at=STARTED,
        status=AlertStatus.RESOLVED,
        ends_at=STARTED + DURATION,
        labels=labels,
        annotations={"summary": "checkout is failing"},
        generator_url="",
        received_at=STARTED,
        updated_at=STARTED + DURATION,
    )
    spacing = DURATION / 10_000
    timeline = tuple(
        TimelineEntry(
            at=STARTED + spacing * n,
            event=f"Note {n}: checked pod | restarted <worker-{n % 7}>",
            action="Investigated",
            by="Jane Doe",
            source="PagerDuty (Jane Doe)",
            kind=TimelineKind.NOTE,
        )
        for n in range(10_000)
    )
    return Outcome(incident=incident, created=True, alerts=(alert,), timeline=timeline)


def samples() -> list[StoredSample]:
    rows: list[StoredSample] = []
    start = STARTED - timedelta(hours=1)
    count = int((DURATION + timedelta(hours=1, minutes=5)).total_seconds() / STEP)
    for n in range(count):
        at = start + timedelta(seconds=n * STEP)
        inside = STARTED <= at <= STARTED + DURATION
        wave = 0.5 + 0.5 * math.sin(n / 40)
        rows += [
            StoredSample("error_rate", at, 0.2 * wave + 0.001 if inside else 0.001),
            StoredSample("error_count", at, 600 * wave if inside else 3.0),
            StoredSample("pool_in_use", at, 60 + 40 * wave if inside else 20.0),
            StoredSample("pool_max", at, 100.0),
        ]
    return rows


async def seed(store: Store) -> str:
    outcome = incident_outcome()
    assert outcome.incident is not None

    def decide(view: IncidentView | None) -> Outcome:
        return outcome

    await store.record(outcome.incident.correlation_key, decide)
    stored = samples()
    for i in range(0, len(stored), 5000):
        await store.save_samples(outcome.incident.id, stored[i : i + 5000])
    return outcome.incident.id


async def measure(name: str, url: str, rounds: int) -> None:
    store = open_store(url)
    await store.start()
    await store.migrate()
    try:
        incident_id = await seed(store)
        settings = load_settings(environ={"RECORDER_DATABASE_URL": url})
        now = STARTED + DURATION + timedelta(hours=1)
        for fmt in ("markdown", "json", "html"):
            times, cpu, collector = [], [], []
            for _ in range(rounds):
                collected = GC.seconds
                began, began_cpu = time.perf_counter(), time.process_time()
                text, _ = await render_report(store, settings, incident_id, fmt, now=now)
                times.append((time.perf_counter() - began) * 1000)
                cpu.append((time.process_time() - began_cpu) * 1000)
                collector.append((GC.seconds - collected) * 1000)
            print(
                f"{name:<10} {fmt:<8} median {statistics.median(times):7.1f} ms  "
                f"min {min(times):7.1f} ms  cpu {statistics.median(cpu):7.1f} ms  "
                f"gc {statistics.median(collector):5.1f} ms  ({len(text) / 1024:.0f} KiB)",
                flush=True,
            )
    finally:
        await store.close()


class CollectorClock:
    """CPU time spent in the cyclic collector (its own callbacks time each pass; CPU
    rather than wall time, which counts whatever else the machine ran meanwhile)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._began = 0.0
        gc.callbacks.append(self._tick)

    def _tick(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.process_time()
        else:
            self.seconds += time.process_time() - self._began


GC = CollectorClock()


async def fresh_schema(dsn: str) -> str:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(dsn)
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.close()
    return f"{dsn}{'&' if '?' in dsn else '?'}search_path={schema}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    print(f"10,000 timeline entries, {len(samples())} samples (24 h of 4 signals at 15 s)")
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure("sqlite", f"sqlite:///{tmp}/bench.db", args.rounds))
    asyncio.run(measure("postgres", asyncio.run(fresh_schema(args.dsn)), args.rounds))


if __name__ == "__main__":
    main()
