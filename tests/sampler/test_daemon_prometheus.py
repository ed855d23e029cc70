"""The daemon samples a real Prometheus: figures, Prometheus outage, daemon restart, replicas.

Each scenario runs the real app (real factory, system clock) with sampling every second
against the lab Prometheus (tests/promlab.py, scrape every second) and drives the exporter
through normal → fault → recovery. Waits poll with deadlines; processes stop by pid.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from recorder.evidence.incident import build_incident_evidence
from recorder.evidence.wording import count, percent
from recorder.prometheus.plan import Timing, backfill_range
from recorder.prometheus.promapi import PrometheusClient
from recorder.report_io import evidence_thresholds
from recorder.settings import Settings
from recorder.timefmt import parse_rfc3339
from tests.conftest import require_binary
from tests.promlab import PromLab, poll_until, running_lab
from tests.sampler.scenario import (
    Client,
    after,
    incident_id_for,
    lab_settings,
    metric,
    notification,
    points,
    post_alert,
    sampler_of,
    samples_of,
    start_recorder,
    wait_for_backfill,
    wait_for_scrapes,
)

pytestmark = pytest.mark.prometheus

PHASE = 12  # scrapes per phase
ALERT_DELAY = 3.0  # the alert fires this long after the fault


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromLab]:
    """One real Prometheus and exporter for the module's scenarios that do not kill it."""
    binary = require_binary("prometheus")
    with running_lab(binary, tmp_path_factory.mktemp("prometheus")) as running:
        yield running


@pytest.fixture
def own_lab(tmp_path: Path) -> Iterator[PromLab]:
    """A Prometheus of the test's own, which the test may kill and restart."""
    binary = require_binary("prometheus")
    with running_lab(binary, tmp_path) as running:
        yield running


async def open_checkout_incident(lab: PromLab, client: Client) -> tuple[str, datetime, datetime]:
    """Normal phase, then the fault; the alert fires ALERT_DELAY later. Returns the
    incident id, the fault instant and the alert's startsAt."""
    normal_from = lab.exporter.set(error_ratio=0.001, pool_in_use=20)
    await wait_for_scrapes(lab, normal_from, PHASE)
    fault_at = lab.exporter.set(error_ratio=0.98, pool_in_use=100)
    await wait_for_scrapes(lab, fault_at, int(ALERT_DELAY))
    starts_at = after(fault_at, ALERT_DELAY)
    await post_alert(client, notification("firing", starts_at=starts_at))
    return await incident_id_for(client, "CheckoutErrors"), fault_at, starts_at


async def recover_and_resolve(
    lab: PromLab, client: Client, starts_at: datetime, registry: CollectorRegistry
) -> datetime:
    """Recovery phase, then the resolved notification; waits for the backfill."""
    recovered_at = lab.exporter.set(error_ratio=0.001, pool_in_use=20)
    await wait_for_scrapes(lab, recovered_at, PHASE)
    ends_at = after(recovered_at, 2)
    await post_alert(client, notification("resolved", starts_at=starts_at, ends_at=ends_at))
    await wait_for_backfill(registry)
    return recovered_at


async def wait_for_live_samples(
    client: Client, incident_id: str, signal: str, level: float
) -> None:
    """Live sampling (before any backfill) stores a sample of `signal` at or above `level`."""

    async def seen() -> bool:
        signals = await samples_of(client, incident_id)
        return any(v is not None and v >= level for _, v in points(signals, signal))

    await poll_until(seen, within=15, what=f"a live {signal} sample >= {level}")


def evidence_from(signals: dict[str, Any], settings: Settings, detail: dict[str, Any]) -> Any:
    """The evidence the report must show, recomputed here from the samples endpoint."""
    stored = {
        name: [(datetime.fromtimestamp(t, UTC), math.nan if v is None else v) for t, v in pts]
        for name in signals
        if (pts := points(signals, name))
    }
    return build_incident_evidence(
        stored,
        started_at=parse_rfc3339(detail["started_at"]),
        resolved_at=parse_rfc3339(detail["resolved_at"]),
        now=datetime.now(UTC),
        baseline_window=settings.sampling.baseline_window,
        interval_seconds=settings.sampling.interval.total_seconds(),
        thresholds=evidence_thresholds(settings),
    )


async def check_figures(
    client: Client, settings: Settings, incident_id: str, fault_at: datetime
) -> None:
    """Stored samples and the Markdown report's figures match the driven truth."""
    signals = await samples_of(client, incident_id)
    detail = await (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    evidence = evidence_from(signals, settings, detail)

    normal = evidence.error_rate_normal.value
    assert normal is not None
    assert abs(normal - 0.001) <= 0.0005, normal
    peak = evidence.error_rate_peak.value
    assert peak is not None
    assert peak >= 0.95
    assert evidence.pool_peak.text == "100/100"
    pool_onset = evidence.onsets[1]
    assert pool_onset.at is not None
    lag = (pool_onset.at - fault_at).total_seconds()
    assert -0.25 <= lag <= 2.0, f"pool crossed 80 % {lag:.3f} s after the fault (2 scrapes max)"

    # Every figure comes from stored samples: peaks are stored values.
    stored_rates = {v for _, v in points(signals, "error_rate")}
    assert peak in stored_rates
    # Request counts are whole: the peak is a stored value, rounded.
    counts = {round(v) for _, v in points(signals, "error_count") if v is not None}
    assert evidence.error_count_peak.value in counts

    resp = await client.get(f"/api/v1/incidents/{incident_id}/report")
    assert resp.status == 200
    report = await resp.text()
    metrics = report.split("## Metrics", 1)[1].split("## Action Items", 1)[0]
    assert f"**Normal error rate**: {percent(normal)} (median of" in metrics
    assert f"peak {percent(peak)} at" in metrics
    assert f"**Peak error count**: {count(evidence.error_count_peak.value)} " in metrics
    assert "100/100 connections (100%)" in metrics
    assert "unknown" not in metrics.split("### Error Rate", 1)[1].split("###", 1)[0]
    assert "Database connections at max (100/100) _(derived from samples)_" in report
    assert "Error rate peaked at" in report
    assert "unknown (no signal onset" not in report
    # The summary per signal in the incident object comes from the same samples.
    assert detail["signals"]["pool_in_use"]["max"] == 100
    assert detail["signals"]["error_rate"]["count"] == len(signals["error_rate"]["samples"])


async def test_daemon_samples_an_incident_and_reports_its_figures(
    lab: PromLab, aiohttp_client: Any, sqlite_url: str
) -> None:
    """Alert → live sampling → resolve → backfill: stored samples and report figures are
    right within tolerances, and the sampler's metrics count its queries."""
    began = time.monotonic()
    registry = CollectorRegistry()
    settings = lab_settings(lab.prometheus.url, sqlite_url)
    client = await start_recorder(aiohttp_client, settings, registry)
    incident_id, fault_at, starts_at = await open_checkout_incident(lab, client)
    await wait_for_live_samples(client, incident_id, "pool_in_use", 100)
    await wait_for_scrapes(lab, fault_at, PHASE)
    await recover_and_resolve(lab, client, starts_at, registry)

    await check_figures(client, settings, incident_id, fault_at)
    assert metric(registry, "recorder_sampler_queries_total", outcome="ok") > 0
    assert metric(registry, "recorder_sampler_queries_total", outcome="error") == 0
    assert metric(registry, "recorder_sampler_query_duration_seconds_count") > 0
    assert time.monotonic() - began < 120


async def test_prometheus_outage_leaves_a_gap_and_the_backfill_takes_what_remains(
    own_lab: PromLab, aiohttp_client: Any, sqlite_url: str
) -> None:
    """Prometheus killed mid-incident and restarted on its port and TSDB: the daemon keeps
    serving and sampling, errors are counted, the outage is a gap in the rate signals, and
    after resolution every instant Prometheus still answers for is stored."""
    lab = own_lab
    registry = CollectorRegistry()
    settings = lab_settings(lab.prometheus.url, sqlite_url)
    client = await start_recorder(aiohttp_client, settings, registry)
    sampler = sampler_of(client)
    incident_id, _fault_at, starts_at = await open_checkout_incident(lab, client)
    await wait_for_live_samples(client, incident_id, "pool_in_use", 100)

    lab.prometheus.kill()
    killed_at = time.time()

    async def failing() -> bool:
        return metric(registry, "recorder_sampler_queries_total", outcome="error") >= 3

    await poll_until(failing, within=15, what="the sampler to count failed queries")
    assert (await client.get("/healthz")).status == 200  # the daemon serves on
    # Keep Prometheus down for longer than the 5 s rate window, so rates have a gap.
    outage_until = killed_at + 8

    async def outage_long_enough() -> bool:
        return time.time() >= outage_until

    await poll_until(outage_long_enough, within=15, what="an 8 s outage")
    errors_during_outage = metric(registry, "recorder_sampler_queries_total", outcome="error")
    lab.prometheus.restart()
    restarted_at = time.time()
    ok_before = metric(registry, "recorder_sampler_queries_total", outcome="ok")

    async def recovered() -> bool:
        return metric(registry, "recorder_sampler_queries_total", outcome="ok") > ok_before

    await poll_until(recovered, within=15, what="the sampler to query again")
    await wait_for_scrapes(lab, datetime.now(UTC), 5)
    await recover_and_resolve(lab, client, starts_at, registry)
    assert not sampler_of(client)._prometheus_failing
    assert sampler is sampler_of(client)

    signals = await samples_of(client, incident_id)
    rate_times = [t for t, _ in points(signals, "error_rate")]
    inside = [t for t in rate_times if killed_at + 5.5 < t < restarted_at - 0.5]
    assert not inside, "error_rate has samples while Prometheus was down"
    assert any(t < killed_at for t in rate_times)
    assert any(t > restarted_at for t in rate_times)
    # Errors were counted per failed query, but only a few per round (not one per query).
    assert errors_during_outage >= 3

    # Whatever Prometheus still holds over the incident is stored after the backfill.
    detail = await (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    sampling = settings.sampling
    timing = Timing.for_interval(
        sampling.interval, sampling.baseline_window, sampling.recovery_tail
    )
    start, end = backfill_range(
        parse_rfc3339(detail["started_at"]), parse_rfc3339(detail["resolved_at"]), timing
    )
    async with aiohttp.ClientSession() as session:
        prom = PrometheusClient(lab.prometheus.url, session, retries=0)
        for spec in settings.signals:
            expr = spec.query.replace("{{service}}", "checkout")
            held = await prom.query_range(expr, start, end, 1)
            held_times = {s.at.timestamp() for s in held[0].samples} if held else set()
            stored_times = {t for t, _ in points(signals, spec.name)}
            missing = sorted(held_times - stored_times)
            assert not missing, f"{spec.name}: Prometheus holds {missing[:5]} not stored"


async def test_daemon_restart_resumes_sampling_without_refetching(
    lab: PromLab, aiohttp_client: Any, sqlite_url: str
) -> None:
    """Closing the app mid-incident and starting a new one on the same database resumes
    from the last stored sample per signal: nothing stored is fetched again before the
    backfill, and the samples run on the 1 s grid without holes or repeats."""
    registry = CollectorRegistry()
    settings = lab_settings(lab.prometheus.url, sqlite_url)
    first = await start_recorder(aiohttp_client, settings, registry)
    incident_id, _fault_at, starts_at = await open_checkout_incident(lab, first)
    await wait_for_live_samples(first, incident_id, "pool_in_use", 100)
    before = points(await samples_of(first, incident_id), "pool_in_use")
    await first.close()  # the sampler stops and frees its lease

    down_from = datetime.now(UTC)
    await wait_for_scrapes(lab, down_from, 3)  # the daemon is down for 3 scrapes
    registry = CollectorRegistry()
    second = await start_recorder(aiohttp_client, settings, registry)
    sampler = sampler_of(second)

    async def caught_up() -> bool:
        latest = points(await samples_of(second, incident_id), "pool_in_use")[-1][0]
        return latest > time.time() - 2

    await poll_until(caught_up, within=15, what="the new daemon to catch up")
    assert sampler.fetched == sum(sampler.saved_by_incident.values()), "stored samples refetched"
    assert sampler.fetched > 0

    await recover_and_resolve(lab, second, starts_at, registry)
    signals = await samples_of(second, incident_id)
    for name in signals:
        times = [t for t, _ in points(signals, name)]
        assert times == sorted(set(times)), f"{name}: repeated instants"
        assert all(t == int(t) for t in times), f"{name}: off the 1 s grid"
    pool = [t for t, _ in points(signals, "pool_in_use")]
    assert {t for t, _ in before} <= set(pool)
    holes = [b - a for a, b in itertools.pairwise(pool) if b - a > 1]
    assert not holes, f"pool_in_use has holes of {holes} s across the restart"


@pytest.mark.postgres
async def test_two_replicas_on_postgres_never_sample_the_same_incident(
    lab: PromLab, aiohttp_client: Any, postgres_dsn: str
) -> None:
    """Two apps on one PostgreSQL, both sampling: every incident's samples come from one
    replica only, and the figures come out as on SQLite (the PostgreSQL daemon variant)."""
    registries = [CollectorRegistry(), CollectorRegistry()]
    settings = lab_settings(lab.prometheus.url, postgres_dsn)
    replicas = [await start_recorder(aiohttp_client, settings, r) for r in registries]
    others = ["QueueBacklog", "SearchSlow", "CacheMisses"]
    now = datetime.now(UTC)
    for n, name in enumerate(others):
        await post_alert(replicas[n % 2], notification("firing", starts_at=now, alertname=name))
    incident_id, fault_at, starts_at = await open_checkout_incident(lab, replicas[1])
    await wait_for_live_samples(replicas[0], incident_id, "pool_in_use", 100)
    await wait_for_scrapes(lab, fault_at, PHASE)
    for name in others:
        await post_alert(
            replicas[0],
            notification("resolved", starts_at=now, ends_at=datetime.now(UTC), alertname=name),
        )
    recovered_at = lab.exporter.set(error_ratio=0.001, pool_in_use=20)
    await wait_for_scrapes(lab, recovered_at, PHASE)
    ends_at = after(recovered_at, 2)
    await post_alert(replicas[1], notification("resolved", starts_at=starts_at, ends_at=ends_at))

    async def all_backfilled() -> bool:
        done = sum(metric(r, "recorder_incident_time_to_detect_seconds_count") for r in registries)
        return done >= 1 and not any(sampler_of(c)._held for c in replicas)

    await poll_until(all_backfilled, within=30, what="every incident backfilled")

    ids = [incident_id] + [await incident_id_for(replicas[0], name) for name in others]
    saved = [sampler_of(c).saved_by_incident for c in replicas]
    for one in ids:
        takers = [n for n in (0, 1) if saved[n][one]]
        assert len(takers) == 1, f"incident {one} sampled by replicas {takers}"
    assert sum(metric(r, "recorder_sampler_queries_total", outcome="ok") for r in registries) > 0
    await check_figures(replicas[0], settings, incident_id, fault_at)
