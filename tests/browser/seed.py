"""Seed data for the page tests: incidents through the real webhook, samples into the store."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from recorder.store.protocol import StoredSample
from recorder.web.keys import STORE
from tests.conftest import fixture_bytes

JSON = {"Content-Type": "application/json"}
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "<script>alert(2)</script>"
STARTED = datetime(2026, 11, 28, 17, 37, 3, 194000, tzinfo=UTC)
OLD_STARTED = STARTED - timedelta(days=2, hours=1, minutes=3)
SAMPLE_STEP = timedelta(seconds=60)
# Samples every minute from 30 minutes before the alert; five are missing (a gap).
SAMPLE_TIMES = [
    STARTED - timedelta(minutes=30) + i * SAMPLE_STEP for i in range(50) if not 35 <= i < 40
]


def hostile_payload() -> bytes:
    """The recorded firing notification with script-like text in labels and annotations."""
    payload: dict[str, Any] = json.loads(fixture_bytes("alertmanager_firing.json"))
    alert = payload["alerts"][0]
    alert["annotations"] = {
        "summary": f"Disk full {HOSTILE}",
        "description": f"{HOSTILE_SCRIPT}\nsecond line",
        "runbook_url": "javascript:alert(3)",
    }
    alert["labels"]["team"] = "<b>storage</b>"
    payload["commonAnnotations"] = alert["annotations"]
    return json.dumps(payload).encode()


def firing_payload(alertname: str, service: str, starts_at: datetime, fingerprint: str) -> bytes:
    """Another firing alert in its own group, for another service, starting at `starts_at`."""
    payload: dict[str, Any] = json.loads(fixture_bytes("alertmanager_firing.json"))
    labels = {"alertname": alertname, "service": service, "severity": "warning"}
    payload["alerts"][0].update(
        labels=labels,
        fingerprint=fingerprint,
        startsAt=starts_at.isoformat().replace("+00:00", "Z"),
        annotations={"summary": f"{alertname} on {service}"},
    )
    payload.update(groupKey=f'{{}}:{{alertname="{alertname}"}}', commonLabels=labels)
    payload.update(groupLabels={"alertname": alertname}, commonAnnotations={})
    return json.dumps(payload).encode()


def other_payload() -> bytes:
    """A second, unrelated firing alert that started five minutes after the first."""
    return firing_payload(
        "CheckoutErrors", "checkout", STARTED + timedelta(minutes=5), "0123456789abcdef"
    )


def old_payload() -> bytes:
    """A third alert, received last but started two days before the others."""
    return firing_payload("DatabasePoolSaturated", "payments-db", OLD_STARTED, "fedcba9876543210")


def signal_samples() -> dict[str, list[tuple[datetime, float]]]:
    """Four well-known signals over the sample times (error rate climbs after the alert)."""
    out: dict[str, list[tuple[datetime, float]]] = {}
    for i, at in enumerate(SAMPLE_TIMES):
        after = at >= STARTED
        out.setdefault("error_rate", []).append((at, 0.2 + 0.01 * (i % 5) if after else 0.001))
        out.setdefault("error_count", []).append((at, 1200.0 if after else 6.0))
        out.setdefault("pool_in_use", []).append((at, 20 + 80 * math.sin(i / 16) ** 2))
        out.setdefault("pool_max", []).append((at, 100.0))
    return out


async def post_alert(client: TestClient[Any, Any], body: bytes) -> None:
    resp = await client.post("/webhooks/alertmanager", data=body, headers=JSON)
    assert resp.status == 200, await resp.text()


async def incident_ids(client: TestClient[Any, Any]) -> dict[str, str]:
    """Incident ids keyed by alertname."""
    resp = await client.get("/api/v1/incidents")
    body = await resp.json()
    return {i["labels"]["alertname"]: i["id"] for i in body["incidents"]}


async def seed(client: TestClient[Any, Any]) -> dict[str, str]:
    """Three incidents: one hostile, acknowledged, with samples; one resolved, with samples;
    one open for two days, received last. Their ids by alertname."""
    await post_alert(client, hostile_payload())
    await post_alert(client, other_payload())
    await post_alert(client, old_payload())
    ids = await incident_ids(client)
    resp = await client.post(
        f"/api/v1/incidents/{ids['DiskAlmostFull']}/acknowledge",
        json={"by": "Sam Oncall"},
        headers={"Authorization": "Bearer secret-token"},
    )
    assert resp.status == 200, await resp.text()
    resp = await client.post(
        f"/api/v1/incidents/{ids['CheckoutErrors']}/resolve",
        json={"by": "Jane Doe"},
        headers={"Authorization": "Bearer secret-token"},
    )
    assert resp.status == 200, await resp.text()
    stored = [
        StoredSample(signal, at, value)
        for signal, rows in signal_samples().items()
        for at, value in rows
    ]
    for alertname in ("DiskAlmostFull", "CheckoutErrors"):
        await client.app[STORE].save_samples(ids[alertname], stored)
    return ids
