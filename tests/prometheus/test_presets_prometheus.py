"""Every preset against the real Prometheus: sampled values equal the known truth.

Fake exporters (tests/prometheus/exporters.py) serve each exporter's real metric and label
names with counters that grow at known rates; one real Prometheus scrapes them all every
second. Each preset's queries are filled for an incident labelled only
`app_kubernetes_io_name="checkout"` and evaluated at one instant. As in
tests/prometheus/test_real_prometheus.py the `[1m]` windows become `[5s]` for the 1 s
scrape (error_count is then `increase(...[5s]) * 12`, still failed requests per minute).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from recorder.prometheus.discovery import wanted_metrics
from recorder.prometheus.presets import PRESETS
from recorder.prometheus.promapi import PrometheusClient
from recorder.prometheus.selection import select_signals
from recorder.prometheus.signals import RenderedQuery, render_query
from recorder.settings import load_settings
from tests.conftest import require_binary
from tests.prometheus.exporters import (
    HEALTHY,
    HTTP_PRESETS,
    POOL_PRESETS,
    TARGET_LABEL,
    FakeExporters,
    ScrapingPrometheus,
    jobs_for,
    pool_of,
    serving,
    traffic_of,
)
from tests.promlab import poll_until
from tests.sampler.scenario import (
    incident_id_for,
    lab_query,
    notification,
    post_alert,
    samples_of,
    start_recorder,
)

pytestmark = pytest.mark.prometheus

INCIDENT = {"alertname": "CheckoutErrors", "app_kubernetes_io_name": "checkout"}
WINDOW_COVERED_MS = 6_500
"""Scrapes needed before the evaluation instant: the 5 s window plus one interval."""


class Lab:
    def __init__(self, exporters: FakeExporters, prometheus: ScrapingPrometheus) -> None:
        self.exporters = exporters
        self.prometheus = prometheus
        self.at: datetime | None = None


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """One Prometheus scraping every preset's exporters, stopped by pid afterwards."""
    binary = require_binary("prometheus")
    exporters = FakeExporters(jobs_for(tuple(PRESETS)))
    with serving(exporters):
        prometheus = ScrapingPrometheus(binary, tmp_path_factory.mktemp("presets"), exporters)
        try:
            prometheus.start()
            yield Lab(exporters, prometheus)
        finally:
            prometheus.stop()


@pytest.fixture
async def client(lab: Lab) -> AsyncIterator[PrometheusClient]:
    async with aiohttp.ClientSession() as session:
        yield PrometheusClient(lab.prometheus.url, session, timeout=5, retries=0)


async def evaluation_instant(lab: Lab, client: PrometheusClient) -> datetime:
    """An instant with a full window of scrapes behind it for every job, once Prometheus
    has ingested them all (computed once for the module: one wait for every preset)."""
    if lab.at is not None:
        return lab.at

    def covered() -> tuple[int, int] | None:
        span = lab.exporters.covered_since_ms()
        return span if span and span[1] - span[0] >= WINDOW_COVERED_MS else None

    async def scraped() -> bool:
        return covered() is not None

    await poll_until(scraped, within=60, what="a full window of scrapes of every job")
    span = covered()
    assert span is not None
    at = datetime.fromtimestamp(span[1] / 1000, UTC)

    async def ingested() -> bool:
        # timestamp() drops the metric name: one metric per query keeps label sets apart.
        latest = await asyncio.gather(
            *(client.query(f"min(timestamp({m}))", datetime.now(UTC)) for m in wanted_metrics())
        )
        return all(s and s[0].samples[0].value >= at.timestamp() for s in latest)

    await poll_until(ingested, within=15, what="Prometheus to ingest the scrapes up to the instant")
    lab.at = at
    return at


async def sample(
    client: PrometheusClient, preset: str, at: datetime, incident: dict[str, str] = INCIDENT
) -> dict[str, float]:
    """Each of the preset's signals, filled for the incident and evaluated at `at`."""
    values = {}
    for signal in select_signals([preset], []):
        rendered = render_query(signal, incident)
        assert isinstance(rendered, RenderedQuery), rendered
        series = await client.query(lab_query(rendered.expr), at)
        assert len(series) == 1, f"{preset} {signal.name}: {series}"
        values[signal.name] = series[0].samples[0].value
    return values


@pytest.mark.parametrize("preset", HTTP_PRESETS)
async def test_http_preset_samples_the_exact_error_rate_and_count(
    lab: Lab, client: PrometheusClient, preset: str
) -> None:
    """error_rate is 5xx / all requests and error_count 5xx per minute, for checkout only."""
    at = await evaluation_instant(lab, client)
    truth = traffic_of(preset, "checkout")
    values = await sample(client, preset, at)
    assert values["error_rate"] == pytest.approx(truth.error_rate, rel=1e-6)
    assert values["error_count"] == pytest.approx(truth.errors_per_minute, rel=1e-6)


@pytest.mark.parametrize("preset", POOL_PRESETS)
async def test_pool_preset_samples_the_exact_pool_in_use_and_max(
    lab: Lab, client: PrometheusClient, preset: str
) -> None:
    """pool_in_use and pool_max are checkout's connections, summed over its pools."""
    at = await evaluation_instant(lab, client)
    truth = pool_of(preset, "checkout")
    values = await sample(client, preset, at)
    assert values == {"pool_in_use": truth.in_use, "pool_max": truth.size}


async def test_service_without_any_5xx_series_has_zero_errors_not_none(
    lab: Lab, client: PrometheusClient
) -> None:
    """No 5xx counter exists yet: error_rate and error_count are 0, not missing."""
    at = await evaluation_instant(lab, client)
    values = await sample(client, "flask", at, {"app_kubernetes_io_name": HEALTHY})
    assert values == {"error_rate": 0.0, "error_count": 0.0}


def test_every_preset_is_checked_against_prometheus() -> None:
    """No preset escapes the real-Prometheus check."""
    assert set(HTTP_PRESETS) | set(POOL_PRESETS) == set(PRESETS)


async def test_presets_run_in_parallel_within_the_time_budget(
    lab: Lab, client: PrometheusClient
) -> None:
    """All presets sampled at once (as the sampler does) all find their series."""
    at = await evaluation_instant(lab, client)
    results = await asyncio.gather(*(sample(client, p, at) for p in PRESETS))
    assert all(len(r) == 2 for r in results)


async def test_incident_without_service_label_is_sampled_by_its_app_label_and_says_so(
    lab: Lab, aiohttp_client: Any, sqlite_url: str
) -> None:
    """The real sampler fills {{service}} from app_kubernetes_io_name (no `service`, no
    `job` on the alert), stores the presets' exact values, and the report names the label."""
    async with aiohttp.ClientSession() as session:
        await evaluation_instant(lab, PrometheusClient(lab.prometheus.url, session, timeout=5))
    settings = load_settings(
        environ={
            "RECORDER_DATABASE_URL": sqlite_url,
            "RECORDER_PROMETHEUS_URL": lab.prometheus.url,
        },
        flags={
            "sampling": {
                "interval": "1s",
                "baseline_window": "5s",
                "presets": ["micrometer-http", "hikaricp"],
            }
        },
    )
    client = await start_recorder(aiohttp_client, settings)
    started = datetime.now(UTC) - timedelta(seconds=3)
    body = notification("firing", starts_at=started, labels={TARGET_LABEL: "checkout"})
    await post_alert(client, body)
    incident_id = await incident_id_for(client, "CheckoutErrors")

    async def sampled() -> bool:
        signals = await samples_of(client, incident_id)
        return all(
            any(v is not None for _, v in signals.get(name, {}).get("samples", []))
            for name in ("error_rate", "pool_in_use", "pool_max")
        )

    await poll_until(sampled, within=30, what="preset signals sampled for the incident")
    signals = await samples_of(client, incident_id)
    truth = traffic_of("micrometer-http", "checkout")
    rates = [v for _, v in signals["error_rate"]["samples"] if v is not None]
    assert rates == pytest.approx([truth.error_rate] * len(rates), rel=1e-6)
    pool = pool_of("hikaricp", "checkout")
    assert {v for _, v in signals["pool_in_use"]["samples"] if v is not None} == {pool.in_use}
    assert {v for _, v in signals["pool_max"]["samples"] if v is not None} == {pool.size}
    assert signals["error_rate"]["unsampled_reason"] is None

    report = await (await client.get(f"/api/v1/incidents/{incident_id}/report")).text()
    assert "- [X] checkout (from label `app_kubernetes_io_name`)" in report
    assert "no label among" not in report
