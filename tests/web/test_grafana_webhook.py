"""POST /webhooks/grafana (and Grafana on /webhooks/alertmanager) on both backends."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import fixture_bytes
from tests.web.conftest import FakeClock, MakeClient

TOKEN = "s3cr3t-token"
AUTH = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
VERSIONS = {
    "grafana8": ("grafana/grafana8_firing.json", "grafana/grafana8_resolved.json"),
    "grafana10": ("grafana/grafana10_firing_values.json", "grafana/grafana10_resolved.json"),
    "grafana11": ("grafana/grafana11_firing_image.json", "grafana/grafana11_resolved.json"),
}


async def post(client: TestClient[Any, Any], body: bytes, path: str = "/webhooks/grafana") -> Any:
    resp = await client.post(path, data=body, headers=AUTH)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def detail(client: TestClient[Any, Any], incident_id: str) -> dict[str, Any]:
    resp = await client.get(f"/api/v1/incidents/{incident_id}")
    assert resp.status == 200
    return dict(await resp.json())


async def report(client: TestClient[Any, Any], incident_id: str, fmt: str) -> str:
    resp = await client.get(f"/api/v1/incidents/{incident_id}/report", params={"format": fmt})
    assert resp.status == 200
    return await resp.text()


@pytest.mark.parametrize("version", list(VERSIONS))
async def test_firing_then_resolved_opens_and_resolves_one_incident(
    make_client: MakeClient, clock: FakeClock, version: str
) -> None:
    """Each Grafana major version's firing body opens an incident; its resolved body
    resolves it at the latest endsAt."""
    firing, resolved = VERSIONS[version]
    client = await make_client(alertmanager_token=TOKEN)

    opened = await post(client, fixture_bytes(firing))
    assert opened["status"] == "stored"
    (incident_id,) = opened["incidents"]
    assert (await detail(client, incident_id))["status"] == "investigating"

    closed = await post(client, fixture_bytes(resolved))
    assert closed["incidents"] == [incident_id]
    incident = await detail(client, incident_id)
    assert incident["status"] == "resolved"
    ends = [
        datetime.fromisoformat(a["endsAt"]) for a in json.loads(fixture_bytes(resolved))["alerts"]
    ]
    assert incident["resolved_at"].endswith("Z")
    assert datetime.fromisoformat(incident["resolved_at"]) == max(ends)


async def test_resolution_time_is_the_utc_instant_of_endsat(
    make_client: MakeClient, clock: FakeClock
) -> None:
    """Grafana 11's `-05:00` endsAt resolves the incident at that instant in UTC."""
    client = await make_client(alertmanager_token=TOKEN)
    (incident_id,) = (await post(client, fixture_bytes(VERSIONS["grafana11"][0])))["incidents"]
    await post(client, fixture_bytes(VERSIONS["grafana11"][1]))

    incident = await detail(client, incident_id)
    assert incident["started_at"] == "2025-02-03T19:05:00Z"
    assert incident["resolved_at"] == "2025-02-03T19:31:00Z"


async def test_values_at_firing_are_in_the_firing_timeline_rows(make_client: MakeClient) -> None:
    """`values` reach each alert's firing row; the resolved body's values do not replace them."""
    client = await make_client(alertmanager_token=TOKEN)
    firing, resolved = VERSIONS["grafana10"]
    (incident_id,) = (await post(client, fixture_bytes(firing)))["incidents"]
    await post(client, fixture_bytes(resolved))

    events = [e["event"] for e in (await detail(client, incident_id))["timeline"]]
    firing_rows = [e for e in events if e.startswith("Alert firing")]
    assert firing_rows == [
        'Alert firing: "High memory usage" — This alert was triggered for zone us-1 '
        "(B=44.2394, C=1)",
        'Alert firing: "High memory usage" (B=38.5, C=1)',
    ]
    assert not any("B=12.5" in e for e in firing_rows)
    # The resolved row quotes what the alert said when it resolved, values included.
    assert any(e.startswith("Alert resolved") and "B=12.5" in e for e in events)


async def test_report_shows_values_and_panel_link_in_every_format(
    make_client: MakeClient,
) -> None:
    """Markdown, JSON and HTML reports carry the values and the dashboard and panel links."""
    client = await make_client(alertmanager_token=TOKEN)
    body = json.loads(fixture_bytes(VERSIONS["grafana10"][0]))
    panel = body["alerts"][0]["panelURL"]
    (incident_id,) = (await post(client, fixture_bytes(VERSIONS["grafana10"][0])))["incidents"]

    markdown = await report(client, incident_id, "markdown")
    related = markdown.split("Related Documentation", 1)[1]
    assert f"[Panel (High memory usage)]({panel})" in related
    assert "Dashboard (High memory usage)" in related
    assert "Silence (High memory usage)" in related
    assert "B=44.2394, C=1" in markdown

    as_json = await report(client, incident_id, "json")
    assert "B=44.2394, C=1" in as_json
    assert panel in json.loads(as_json).__repr__()

    html = await report(client, incident_id, "html")
    assert "B=44.2394, C=1" in html
    assert panel.replace("&", "&amp;") in html


async def test_image_link_reaches_the_report(make_client: MakeClient) -> None:
    """Grafana 11's panel screenshot URL is listed under Related Documentation."""
    client = await make_client(alertmanager_token=TOKEN)
    (incident_id,) = (await post(client, fixture_bytes(VERSIONS["grafana11"][0])))["incidents"]

    markdown = await report(client, incident_id, "markdown")
    assert "Panel image (DiskAlmostFull)" in markdown
    assert "Hk3s9TqvZ.png" in markdown


async def test_test_notification_is_accepted_and_recorded(make_client: MakeClient) -> None:
    """The contact point's Test delivery gets 200 and shows up as a TestAlert incident."""
    client = await make_client(alertmanager_token=TOKEN)
    answer = await post(client, fixture_bytes("grafana/grafana12_test_notification.json"))

    (incident_id,) = answer["incidents"]
    incident = await detail(client, incident_id)
    assert incident["labels"]["alertname"] == "TestAlert"
    assert incident["alerts"][0]["generator_url"] == "https://grafana.example.com/?orgId=1"


async def test_resolved_only_test_notification_is_accepted(make_client: MakeClient) -> None:
    """A Test delivery that is resolved only is stored as an incident already resolved."""
    client = await make_client(alertmanager_token=TOKEN)
    document = json.loads(fixture_bytes("grafana/grafana12_test_notification.json"))
    document["status"] = "resolved"
    document["alerts"][0].update(status="resolved", endsAt="2025-09-30T16:02:11.486513+02:00")

    (incident_id,) = (await post(client, json.dumps(document).encode()))["incidents"]
    assert (await detail(client, incident_id))["status"] == "resolved"


async def test_redelivery_is_a_duplicate(make_client: MakeClient) -> None:
    """Grafana re-sends the group every group_interval: the repeat stores nothing new."""
    client = await make_client(alertmanager_token=TOKEN)
    first = await post(client, fixture_bytes(VERSIONS["grafana10"][0]))
    again = await post(client, fixture_bytes(VERSIONS["grafana10"][0]))

    assert again == {"status": "duplicate", "incidents": first["incidents"]}


async def test_grafana_body_on_the_alertmanager_path_is_recorded(make_client: MakeClient) -> None:
    """Version "1" is also accepted on /webhooks/alertmanager, with its values."""
    client = await make_client(alertmanager_token=TOKEN)
    answer = await post(
        client, fixture_bytes(VERSIONS["grafana10"][0]), path="/webhooks/alertmanager"
    )

    (incident_id,) = answer["incidents"]
    events = [e["event"] for e in (await detail(client, incident_id))["timeline"]]
    assert any("(B=38.5, C=1)" in e for e in events)


async def test_alertmanager_body_on_the_grafana_path_is_recorded(make_client: MakeClient) -> None:
    """The Grafana path takes Alertmanager's version "4" too: same answers everywhere."""
    client = await make_client(alertmanager_token=TOKEN)
    answer = await post(client, fixture_bytes("alertmanager_firing.json"))

    assert answer["status"] == "stored"


@pytest.mark.parametrize("path", ["/webhooks/grafana", "/webhooks/alertmanager"])
async def test_legacy_grafana_body_is_refused_with_a_problem_naming_it(
    make_client: MakeClient, path: str
) -> None:
    """A Grafana 7 legacy alerting body gets 400 problem+json that says what it is."""
    client = await make_client(alertmanager_token=TOKEN)
    resp = await client.post(path, data=fixture_bytes("grafana/grafana7_legacy.json"), headers=AUTH)

    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    problem = await resp.json()
    assert "legacy Grafana alerting" in problem["detail"]
    assert (await (await client.get("/api/v1/incidents")).json())["incidents"] == []


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({"Authorization": "Bearer wrong"}, 401),
        ({}, 401),
        ({"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"}, 415),
    ],
    ids=["wrong-token", "no-token", "not-json"],
)
async def test_grafana_path_has_the_same_rejections(
    make_client: MakeClient, headers: dict[str, str], status: int
) -> None:
    """The token and content type rules of /webhooks/alertmanager apply here too."""
    client = await make_client(alertmanager_token=TOKEN)
    sent = {"Content-Type": "application/json", **headers}
    resp = await client.post(
        "/webhooks/grafana", data=fixture_bytes(VERSIONS["grafana10"][0]), headers=sent
    )

    assert resp.status == status
    assert resp.content_type == "application/problem+json"


async def test_grafana_deliveries_are_counted_under_their_own_source(
    make_client: MakeClient,
) -> None:
    """/metrics counts Grafana deliveries as source="grafana"."""
    client = await make_client(alertmanager_token=TOKEN)
    await post(client, fixture_bytes(VERSIONS["grafana8"][0]))

    metrics = await (await client.get("/metrics")).text()
    assert 'recorder_webhooks_received_total{outcome="stored",source="grafana"} 1.0' in metrics


async def test_pre_019_alertmanager_body_is_accepted_end_to_end(make_client: MakeClient) -> None:
    """Without fingerprints (Alertmanager < 0.19) a group opens and resolves as usual, and
    the stored fingerprints equal those a newer Alertmanager sends."""
    client = await make_client(alertmanager_token=TOKEN)
    bodies = []
    for name in ("alertmanager_firing.json", "alertmanager_resolved.json"):
        document = json.loads(fixture_bytes(name))
        for alert in document["alerts"]:
            alert.pop("fingerprint")
        bodies.append(json.dumps(document).encode())

    (incident_id,) = (await post(client, bodies[0], path="/webhooks/alertmanager"))["incidents"]
    await post(client, bodies[1], path="/webhooks/alertmanager")

    incident = await detail(client, incident_id)
    assert incident["status"] == "resolved"
    expected = json.loads(fixture_bytes("alertmanager_firing.json"))["alerts"][0]["fingerprint"]
    assert [a["fingerprint"] for a in incident["alerts"]] == [expected]
