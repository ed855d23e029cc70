"""A storm-sized Alertmanager group (over the old 1 MiB limit) on both backends."""

from __future__ import annotations

import io
import json
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import fixture_bytes
from tests.web.conftest import MakeClient

JSON = {"Content-Type": "application/json"}
# The storm: about 1,500 alerts, which did not fit the old 1 MiB body limit.
ALERTS = 1_500


def storm(status: str) -> bytes:
    """One group of ALERTS node alerts, every one firing, or every one resolved."""
    message = json.loads(fixture_bytes("alertmanager_firing.json"))
    template = message["alerts"][0]
    alerts = []
    for n in range(ALERTS):
        alert = json.loads(json.dumps(template))
        alert["labels"].update(
            instance=f"10.0.{n // 250}.{n % 250}:9100", pod=f"checkout-{n:05d}-7f9c8d"
        )
        alert["annotations"]["description"] = f"Pod checkout-{n:05d} is not ready. " * 8
        alert["fingerprint"] = f"{n:016x}"
        alert["status"] = status
        if status == "resolved":
            alert["endsAt"] = "2026-11-28T17:45:00Z"
        alerts.append(alert)
    message.update(alerts=alerts, status=status, groupKey='{}:{alertname="Storm"}')
    return json.dumps(message).encode()


async def post(client: TestClient[Any, Any], body: bytes) -> dict[str, Any]:
    # aiohttp warns about (and tests turn warnings into errors) big bodies given as bytes.
    resp = await client.post("/webhooks/alertmanager", data=io.BytesIO(body), headers=JSON)
    assert resp.status == 200, await resp.text()
    answer: dict[str, Any] = await resp.json()
    return answer


async def test_storm_group_is_stored_deduplicated_and_resolved(make_client: MakeClient) -> None:
    """A 1,500-alert group over 1 MiB is stored whole; its re-send is a duplicate; its
    resolution resolves every alert and the incident."""
    firing = storm("firing")
    assert len(firing) > 1024 * 1024
    client = await make_client()

    opened = await post(client, firing)
    assert opened["status"] == "stored"
    (incident_id,) = opened["incidents"]
    assert await post(client, firing) == {"status": "duplicate", "incidents": [incident_id]}

    closed = await post(client, storm("resolved"))
    assert closed == {"status": "stored", "incidents": [incident_id]}
    incident = await (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    assert incident["status"] == "resolved"
    assert len(incident["alerts"]) == ALERTS
    assert {alert["status"] for alert in incident["alerts"]} == {"resolved"}
    pods = {alert["labels"]["pod"] for alert in incident["alerts"]}
    assert len(pods) == ALERTS
    stored = next(a for a in incident["alerts"] if a["fingerprint"] == f"{ALERTS - 1:016x}")
    assert stored["annotations"]["description"].startswith(f"Pod checkout-{ALERTS - 1:05d}")
