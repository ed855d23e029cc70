"""Sampling failures are recorded per incident, and the report names the cause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from recorder.demo.stack import free_port
from recorder.sampling.failures import FailureCause
from recorder.settings import load_settings
from recorder.web.keys import STORE
from tests.promlab import poll_until
from tests.sampler.scenario import (
    incident_id_for,
    notification,
    post_alert,
    start_recorder,
)


def metrics_section(report: str) -> str:
    return report.split("## Metrics", 1)[1].split("\n## ", 1)[0]


async def test_prometheus_at_a_closed_port_is_named_unreachable_with_its_url(
    aiohttp_client: Any, database_url: str
) -> None:
    """Nothing listens at the Prometheus URL: each failed round is recorded for the
    incident, and Metrics says Prometheus is unreachable (connection refused) at that
    URL, how often and since when, instead of "no samples stored"."""
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

    async def failed_twice() -> bool:
        failures = await store.load_sampling_failures(incident_id)
        return any(f.signal == "error_rate" and f.count >= 2 for f in failures)

    await poll_until(failed_twice, within=20, what="two recorded failures of error_rate")
    failures = {f.signal: f for f in await store.load_sampling_failures(incident_id)}
    assert set(failures) == {"error_rate", "error_count", "pool_in_use", "pool_max"}
    rate = failures["error_rate"]
    assert rate.cause is FailureCause.UNREACHABLE
    assert rate.source == url
    assert rate.error == "Connection refused"
    assert rate.first_at < rate.last_at

    report = await (await client.get(f"/api/v1/incidents/{incident_id}/report")).text()
    metrics = metrics_section(report)
    assert f"Prometheus unreachable at {url} (Connection refused); failed " in metrics
    assert "no samples stored" not in metrics
    assert "times, first at 20" in metrics
