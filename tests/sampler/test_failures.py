"""Sampling failures are recorded per incident, and the report names the cause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import structlog
from prometheus_client import CollectorRegistry

from recorder.demo.stack import free_port
from recorder.evidence.figures import Thresholds
from recorder.metrics import RecorderMetrics
from recorder.prometheus.failures import FailureCause
from recorder.prometheus.held import FAILURES_EVERY
from recorder.prometheus.plan import Timing
from recorder.prometheus.promapi import PrometheusClient
from recorder.prometheus.signals import Signal
from recorder.sampler import Sampler
from recorder.settings import load_settings
from recorder.store.factory import open_store
from recorder.web.keys import STORE
from tests.promlab import poll_until
from tests.sampler.scenario import (
    incident_id_for,
    notification,
    post_alert,
    start_recorder,
)
from tests.store.builders import make_incident, open_if_absent


def metrics_section(report: str) -> str:
    return report.split("## Metrics", 1)[1].split("\n## ", 1)[0]


async def test_prometheus_at_a_closed_port_is_named_unreachable_with_its_url(
    aiohttp_client: Any, database_url: str
) -> None:
    """Nothing listens at the Prometheus URL: the failure is recorded for the incident
    at once, and Metrics says Prometheus is unreachable (connection refused) at that
    URL, how often and when, instead of "no samples stored"."""
    url = f"http://127.0.0.1:{free_port()}"
    settings = load_settings(
        environ={"RECORDER_DATABASE_URL": database_url, "RECORDER_PROMETHEUS_URL": url},
        flags={"sampling": {"interval": "1s", "baseline_window": "10s"}},
    )
    client = await start_recorder(aiohttp_client, settings, CollectorRegistry())
    started = datetime.now(UTC) - timedelta(seconds=5)
    await post_alert(client, notification("firing", starts_at=started))
    incident_id = await incident_id_for(client, "CheckoutErrors")
    store = client.app[STORE]

    async def failed() -> bool:
        failures = await store.load_sampling_failures(incident_id)
        return any(f.signal == "error_rate" for f in failures)

    await poll_until(failed, within=20, what="a recorded failure of error_rate")
    failures = {f.signal: f for f in await store.load_sampling_failures(incident_id)}
    assert set(failures) == {"error_rate", "error_count", "pool_in_use", "pool_max"}
    rate = failures["error_rate"]
    assert rate.cause is FailureCause.UNREACHABLE
    assert rate.source == url
    assert rate.error == "Connection refused"
    assert rate.first_at <= rate.last_at

    report = await (await client.get(f"/api/v1/incidents/{incident_id}/report")).text()
    metrics = metrics_section(report)
    assert f"Prometheus unreachable at {url} (Connection refused); failed " in metrics
    assert "no samples stored" not in metrics
    assert " at 20" in metrics  # when it failed, as RFC 3339


class SteppedClock:
    """A clock the test moves forward by hand."""

    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


async def test_repeated_failures_are_written_once_a_minute_and_add_up(
    database_url: str,
) -> None:
    """Round after round of the same failure costs one write a minute per incident, and
    the stored count still counts every failed round (those waiting are written when the
    sampler stops)."""
    store = open_store(database_url)
    await store.start()
    await store.migrate()
    session = aiohttp.ClientSession()
    try:
        incident = make_incident(labels={"alertname": "X", "service": "checkout"})
        await store.record(incident.correlation_key, open_if_absent(incident))
        clock = SteppedClock(datetime.now(UTC).replace(microsecond=0))
        url = f"http://127.0.0.1:{free_port()}"
        sampler = Sampler(
            store,
            PrometheusClient(url, session, timeout=2, retries=0),
            signals=[Signal("error_rate", 'up{service="{{service}}"}')],
            timing=Timing.for_interval(timedelta(seconds=1), timedelta(seconds=5)),
            thresholds=Thresholds(),
            concurrency=2,
            query_timeout=2,
            metrics=RecorderMetrics(CollectorRegistry(), version="test", backend=store.backend),
            log=structlog.get_logger("test"),
            clock=clock,
        )
        first = clock.now()
        for _ in range(5):
            await sampler.run_round()
            clock.current += timedelta(seconds=1)
        (stored,) = await store.load_sampling_failures(incident.id)
        assert (stored.count, stored.first_at, stored.last_at) == (1, first, first)

        clock.current = first + FAILURES_EVERY
        await sampler.run_round()
        (stored,) = await store.load_sampling_failures(incident.id)
        assert (stored.count, stored.first_at, stored.last_at) == (6, first, clock.current)
        assert stored.cause is FailureCause.UNREACHABLE

        clock.current += timedelta(seconds=1)
        await sampler.run_round()
        await sampler.close()
        (stored,) = await store.load_sampling_failures(incident.id)
        assert (stored.count, stored.last_at) == (7, clock.current)
    finally:
        await session.close()
        await store.close()
