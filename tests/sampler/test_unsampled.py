"""A signal whose {{label}} has no value is left unsampled, and the report says why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client import CollectorRegistry

from recorder.demo.stack import free_port
from recorder.settings import load_settings
from tests.promlab import poll_until
from tests.sampler.scenario import (
    incident_id_for,
    notification,
    post_alert,
    samples_of,
    start_recorder,
)

REASON = "no label among service, job, app, app_kubernetes_io_name, service_name"


async def test_missing_service_label_reads_unknown_with_the_reason_in_the_report(
    aiohttp_client: Any, database_url: str
) -> None:
    """No `service` label: nothing is queried, each signal stores its reason, and the
    report's figures read "unknown (<signal> was not sampled: <reason>)"."""
    settings = load_settings(
        environ={
            "RECORDER_DATABASE_URL": database_url,
            # Nothing listens here: no query may be needed for an unsampled signal.
            "RECORDER_PROMETHEUS_URL": f"http://127.0.0.1:{free_port()}",
        },
        flags={"sampling": {"interval": "1s", "baseline_window": "10s"}},
    )
    registry = CollectorRegistry()
    client = await start_recorder(aiohttp_client, settings, registry)
    started = datetime.now(UTC) - timedelta(seconds=5)
    body = notification("firing", starts_at=started, labels={"team": "payments"})
    await post_alert(client, body)
    incident_id = await incident_id_for(client, "CheckoutErrors")

    async def reasons_stored() -> bool:
        signals = await samples_of(client, incident_id)
        return all(s["unsampled_reason"] for s in signals.values())

    await poll_until(reasons_stored, within=10, what="unsampled reasons")
    signals = await samples_of(client, incident_id)
    assert signals["error_rate"] == {"samples": [], "unsampled_reason": REASON}
    assert registry.get_sample_value("recorder_sampler_queries_total", {"outcome": "ok"}) == 0

    report = await (await client.get(f"/api/v1/incidents/{incident_id}/report")).text()
    assert f"**Normal error rate**: unknown (error_rate was not sampled: {REASON})" in report
    assert f"**Peak error count**: unknown (error_count was not sampled: {REASON})" in report
    assert f"unknown (pool_in_use was not sampled: {REASON})" in report
    detail = await (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    assert detail["signals"]["pool_max"]["unsampled_reason"] == REASON
    assert detail["signals"]["pool_max"]["count"] == 0
