"""Bad Alertmanager deliveries get the right problem+json answer and change nothing."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import fixture_bytes
from tests.web.conftest import MakeClient

TOKEN = "s3cr3t-token"
GOOD = fixture_bytes("alertmanager_firing.json")


def mutated(change: Any) -> bytes:
    data = json.loads(GOOD)
    change(data)
    return json.dumps(data).encode()


BAD_INPUTS = {
    "empty body": (b"", {}, 400),
    "not json": (b"{this is not json", {}, 400),
    "version 3": (mutated(lambda d: d.update(version="3")), {}, 400),
    "wrong types": (mutated(lambda d: d["alerts"][0].update(labels=["a", "b"])), {}, 422),
    "missing alerts": (mutated(lambda d: d.pop("alerts")), {}, 422),
    "garbage startsAt": (mutated(lambda d: d["alerts"][0].update(startsAt="yesterday")), {}, 422),
    "form content type": (GOOD, {"Content-Type": "application/x-www-form-urlencoded"}, 415),
    "wrong token": (GOOD, {"Authorization": "Bearer wrong"}, 401),
    "missing token": (GOOD, {"Authorization": ""}, 401),
    "basic instead of bearer": (GOOD, {"Authorization": "Basic YW06aHVudGVyMg=="}, 401),
}


async def stored_count(client: TestClient[Any, Any]) -> int:
    body = await (await client.get("/api/v1/incidents")).json()
    return len(body["incidents"])


@pytest.mark.parametrize("case", list(BAD_INPUTS))
async def test_bad_delivery_is_rejected_with_problem_and_stores_nothing(
    make_client: MakeClient, case: str
) -> None:
    """Each bad input gets its documented 4xx, a problem+json body, and no incident."""
    body, headers, status = BAD_INPUTS[case]
    client = await make_client(alertmanager_token=TOKEN)
    sent = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}", **headers}
    sent = {k: v for k, v in sent.items() if v}
    resp = await client.post("/webhooks/alertmanager", data=body, headers=sent)
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/problem+json"
    problem = await resp.json()
    assert problem["status"] == status
    assert problem["title"]
    assert problem["detail"]
    assert "Traceback" not in problem["detail"]
    assert TOKEN not in json.dumps(problem)
    assert await stored_count(client) == 0
    # The server keeps serving: the next good delivery is stored.
    ok = await client.post(
        "/webhooks/alertmanager",
        data=GOOD,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
    )
    assert ok.status == 200
    assert await stored_count(client) == 1


async def test_rejections_are_counted_in_metrics(make_client: MakeClient) -> None:
    """A rejected delivery shows up as outcome="rejected" on /metrics."""
    client = await make_client()
    await client.post(
        "/webhooks/alertmanager", data=b"nope", headers={"Content-Type": "application/json"}
    )
    text = await (await client.get("/metrics")).text()
    assert 'recorder_webhooks_received_total{outcome="rejected",source="alertmanager"} 1.0' in text


async def post_raw(client: TestClient[Any, Any], body: bytes) -> tuple[int, dict[str, Any]]:
    """POST over a raw socket: the server may answer before the body is fully sent."""
    reader, writer = await asyncio.open_connection("127.0.0.1", client.port)
    head = (
        "POST /webhooks/alertmanager HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    writer.write(head.encode())
    with contextlib.suppress(ConnectionError):
        writer.write(body)
        await writer.drain()
    raw = await reader.read()
    writer.close()
    status_line, _, rest = raw.partition(b"\r\n")
    payload = rest.partition(b"\r\n\r\n")[2]
    return int(status_line.split()[1]), json.loads(payload)


async def test_body_over_16_mib_is_refused_and_server_keeps_serving(
    make_client: MakeClient,
) -> None:
    """A delivery over the default 16 MiB gets 413 problem+json, stores nothing, and the
    server goes on."""
    client = await make_client()
    status, problem = await post_raw(client, b"[" + b" " * (16 * 1024 * 1024) + b"]")
    assert status == 413
    assert problem["status"] == 413
    assert "16777216" in problem["detail"]
    assert await stored_count(client) == 0
    ok = await client.post(
        "/webhooks/alertmanager", data=GOOD, headers={"Content-Type": "application/json"}
    )
    assert ok.status == 200


async def test_declared_oversized_body_is_refused_before_reading(make_client: MakeClient) -> None:
    """A Content-Length over the limit is answered 413 without parsing."""
    client = await make_client(body_limit=2048)
    resp = await client.post(
        "/webhooks/alertmanager", data=b"x" * 4096, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 413
    assert "2048" in (await resp.json())["detail"]
