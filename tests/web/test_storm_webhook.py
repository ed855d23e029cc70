"""A storm-sized Alertmanager group (over the old 1 MiB limit) on both backends."""

from __future__ import annotations

import io
import json
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import fixture_bytes
from tests.web.conftest import MakeClient
from tests.web.live import live_server, watching_healthz

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


# A storm as kube-prometheus sends it when a node dies: 10,000 alerts in one group.
STORM_ALERTS = 10_000
# What the slowest /healthz probe may take beyond what probes took idle just before (the
# machine's own load). A full garbage collection holds the interpreter lock whichever
# thread runs it (50-120 ms with a storm in memory on a loaded machine), so the bound is
# above that; deciding a storm on the loop blocks it for 0.3-1 s.
PROBE_BUDGET_SECONDS = 0.250
ATTEMPTS = 2


def big_storm(status: str, group: str) -> bytes:
    """STORM_ALERTS alerts of one group with realistic labels, all firing or all resolved."""
    message = json.loads(fixture_bytes("alertmanager_firing.json"))
    template = message["alerts"][0]
    alerts = []
    for n in range(STORM_ALERTS):
        alert = json.loads(json.dumps(template))
        alert["labels"].update(
            instance=f"10.{n // 65536}.{(n // 256) % 256}.{n % 256}:8443",
            node=f"ip-10-{n // 2500}-{(n // 50) % 50}-{n % 50}.internal",
            pod=f"checkout-{n:05d}-7f9c8d",
            namespace=f"team-{n % 40:02d}",
        )
        alert["annotations"]["description"] = f"Pod checkout-{n:05d} has been non-ready."
        alert["fingerprint"] = f"{n:016x}"
        alert["status"] = status
        if status == "resolved":
            alert["endsAt"] = "2026-11-28T17:45:00Z"
        alerts.append(alert)
    message.update(alerts=alerts, status=status, groupKey=f'{{}}:{{storm="{group}"}}')
    return json.dumps(message).encode()


def test_healthz_stays_fast_while_a_10k_group_is_recorded(database_url: str) -> None:
    """A 10,000-alert group opens an incident, its re-send is a duplicate and its
    resolution resolves it, while /healthz, asked every 5 ms, keeps answering: the
    decision and the write building run off the event loop.

    A run whose slowest probe misses the bound is measured again with a new group (the
    suite shares two cores with other work): a blocked loop misses every time."""
    figures: list[str] = []
    with live_server(database_url) as server:
        for attempt in range(ATTEMPTS):
            answers: list[dict[str, Any]] = []
            firing, resolved = (big_storm(s, f"run-{attempt}") for s in ("firing", "resolved"))
            with watching_healthz(server) as watch:
                for body in (firing, firing, resolved):
                    answer = server.request("POST", "/webhooks/alertmanager", body, JSON)
                    assert answer.status == 200, answer.body[:500]
                    answers.append(json.loads(answer.body))
            assert watch.failures == []
            assert [a["status"] for a in answers] == ["stored", "duplicate", "stored"]
            (incident_id,) = answers[0]["incidents"]
            assert answers[2]["incidents"] == [incident_id]
            incident = json.loads(server.request("GET", f"/api/v1/incidents/{incident_id}").body)
            assert incident["status"] == "resolved"
            assert len(incident["alerts"]) == STORM_ALERTS
            assert {alert["status"] for alert in incident["alerts"]} == {"resolved"}

            latencies, idle = sorted(watch.latencies), max(watch.idle)
            figures.append(
                f"{len(latencies)} probes: median {latencies[len(latencies) // 2] * 1000:.0f}"
                f" ms, worst {latencies[-1] * 1000:.0f} ms (idle up to {idle * 1000:.0f} ms)"
            )
            print(figures[-1])
            if latencies[-1] < PROBE_BUDGET_SECONDS + idle:
                return
    raise AssertionError("/healthz was slow in every run: " + "; ".join(figures))
