"""GET /api/v1/incidents/{id}/samples and the incident object's `signals` summaries."""

from __future__ import annotations

import math
from datetime import timedelta

from recorder.store.protocol import StoredSample
from recorder.timefmt import parse_rfc3339
from recorder.web.keys import STORE
from tests.conftest import fixture_bytes
from tests.web.conftest import MakeClient

JSON = {"Content-Type": "application/json"}


async def test_samples_endpoint_lists_stored_samples_per_signal(make_client: MakeClient) -> None:
    """Samples come back per signal as [rfc3339, value] in time order, NaN as null;
    configured signals without samples are present and empty."""
    client = await make_client()
    resp = await client.post(
        "/webhooks/alertmanager", data=fixture_bytes("alertmanager_firing.json"), headers=JSON
    )
    assert resp.status == 200
    listing = await (await client.get("/api/v1/incidents")).json()
    incident_id = listing["incidents"][0]["id"]
    detail = await (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    assert detail["signals"] == {}
    started = parse_rfc3339(detail["started_at"])
    store = client.app[STORE]
    await store.save_samples(
        incident_id,
        [
            StoredSample("error_rate", started, 0.5),
            StoredSample("error_rate", started - timedelta(seconds=15), math.nan),
        ],
    )
    await store.save_unsampled(incident_id, "pool_max", "no value for label 'service'")

    resp = await client.get(f"/api/v1/incidents/{incident_id}/samples")
    assert resp.status == 200
    body = await resp.json()
    signals = body["signals"]
    assert [value for _, value in signals["error_rate"]["samples"]] == [None, 0.5]
    assert signals["error_rate"]["unsampled_reason"] is None
    assert signals["pool_max"] == {
        "samples": [],
        "unsampled_reason": "no value for label 'service'",
    }
    assert signals["pool_in_use"] == {"samples": [], "unsampled_reason": None}

    detail = await (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    summary = detail["signals"]["error_rate"]
    assert (summary["count"], summary["finite"], summary["max"]) == (2, 1, 0.5)
    assert detail["signals"]["pool_max"]["unsampled_reason"] == "no value for label 'service'"


async def test_samples_of_unknown_incident_is_404_problem(make_client: MakeClient) -> None:
    """An unknown incident id answers 404 application/problem+json."""
    client = await make_client()
    resp = await client.get("/api/v1/incidents/nope/samples")
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"
