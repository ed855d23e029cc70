"""Helpers for daemon scenarios: recorder apps pointed at the lab Prometheus, webhooks, polls.

Windows are shortened for the lab's 1 s scrape as in tests/prometheus/test_real_prometheus.py:
`[1m]` becomes `[5s]`, and error_count (failed requests per minute) `increase(...[5s]) * 12`.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry

from recorder.prometheus.signals import DEFAULT_SIGNALS
from recorder.sampler import Sampler
from recorder.settings import Settings, load_settings
from recorder.timefmt import parse_rfc3339, to_rfc3339
from recorder.web.app import create_app
from recorder.web.keys import SAMPLER
from tests.conftest import fixture_bytes
from tests.promlab import SCRAPE_INTERVAL, PromLab, poll_until

JSON = {"Content-Type": "application/json"}
Client = TestClient[Any, Any]


def lab_query(query: str) -> str:
    """An interface query with its windows shortened for a 1 s scrape (see module doc)."""
    if "increase(" in query:
        return f"({query.replace('[1m]', '[5s]')}) * 12"
    return query.replace("[1m]", "[5s]")


LAB_SIGNALS = [{"name": s.name, "query": lab_query(s.query)} for s in DEFAULT_SIGNALS]


def lab_settings(prometheus_url: str, database_url: str, baseline: str = "20s") -> Settings:
    """Sampling every second from the lab Prometheus with the lab's signals."""
    return load_settings(
        environ={"RECORDER_DATABASE_URL": database_url, "RECORDER_PROMETHEUS_URL": prometheus_url},
        flags={
            "sampling": {
                "interval": "1s",
                "baseline_window": baseline,
                "recovery_tail": "4s",
                "concurrency": 8,
            },
            "signals": LAB_SIGNALS,
        },
    )


async def start_recorder(
    aiohttp_client: Any, settings: Settings, registry: CollectorRegistry | None = None
) -> Client:
    """The real app through the real factory, system clock, its own metrics registry."""
    app = create_app(settings, registry=registry or CollectorRegistry())
    client: Client = await aiohttp_client(app)
    return client


def sampler_of(client: Client) -> Sampler:
    return client.app[SAMPLER]


def notification(
    status: str,
    *,
    starts_at: datetime,
    ends_at: datetime | None = None,
    alertname: str = "CheckoutErrors",
    labels: dict[str, str] | None = None,
) -> bytes:
    """An Alertmanager v4 notification built on the recorded firing capture."""
    body = json.loads(fixture_bytes("alertmanager_firing.json"))
    alert_labels = {"alertname": alertname, "severity": "critical"}
    alert_labels.update({"service": "checkout"} if labels is None else labels)
    alert = body["alerts"][0]
    alert.update(
        status=status,
        labels=alert_labels,
        annotations={"summary": f"{alertname} is firing"},
        startsAt=to_rfc3339(starts_at),
        endsAt=to_rfc3339(ends_at) if ends_at else "0001-01-01T00:00:00Z",
        fingerprint=f"fp-{alertname}",
    )
    body.update(
        status=status,
        groupLabels={"alertname": alertname},
        commonLabels=alert_labels,
        commonAnnotations=alert["annotations"],
        groupKey=f'{{}}:{{alertname="{alertname}"}}',
    )
    return json.dumps(body).encode()


async def post_alert(client: Client, body: bytes) -> None:
    resp = await client.post("/webhooks/alertmanager", data=body, headers=JSON)
    assert resp.status == 200, await resp.text()


async def incident_id_for(client: Client, alertname: str) -> str:
    resp = await client.get("/api/v1/incidents", params={"limit": "500"})
    incidents = (await resp.json())["incidents"]
    found = [i["id"] for i in incidents if i["labels"].get("alertname") == alertname]
    assert len(found) == 1, found
    return str(found[0])


async def samples_of(client: Client, incident_id: str) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/incidents/{incident_id}/samples")
    assert resp.status == 200, await resp.text()
    return dict((await resp.json())["signals"])


def points(signals: dict[str, Any], name: str) -> list[tuple[float, float | None]]:
    """(unix seconds, value) of one signal from the samples endpoint."""
    return [(parse_rfc3339(at).timestamp(), value) for at, value in signals[name]["samples"]]


async def wait_for_scrapes(lab: PromLab, since: datetime, count: int) -> None:
    async def done() -> bool:
        return lab.exporter.scrapes_since(since) >= count

    await poll_until(done, within=count * SCRAPE_INTERVAL + 15, what=f"{count} scrapes")


def metric(registry: CollectorRegistry, name: str, **labels: str) -> float:
    return registry.get_sample_value(name, labels) or 0.0


async def wait_for_backfill(
    registry: CollectorRegistry, count: int = 1, within: float = 30
) -> None:
    """The sampler observes time_to_detect right after an incident's backfill."""

    async def done() -> bool:
        return metric(registry, "recorder_incident_time_to_detect_seconds_count") >= count

    await poll_until(done, within=within, what=f"{count} backfill(s) with time_to_detect")


def seconds_since(began: float) -> float:
    return time.monotonic() - began


def after(at: datetime, seconds: float) -> datetime:
    return at + timedelta(seconds=seconds)
