"""PagerDuty bodies are decoded once, with bounded depth, and only a signed sender learns
why its body is not JSON; an unsigned one gets 401 whatever it sent."""

from __future__ import annotations

import pytest

from tests.web.conftest import MakeClient
from tests.web.test_pagerduty_webhook import SECRET, sign

DEEP = b'{"event":' * 100_000 + b"1" + b"}" * 100_000
NOT_JSON = {"deep": DEEP, "nan": b'{"event": NaN}', "duplicate": b'{"event": {}, "event": {}}'}


@pytest.mark.parametrize("name", sorted(NOT_JSON))
async def test_unsigned_bad_json_is_401_with_a_secret(make_client: MakeClient, name: str) -> None:
    """With a secret set, a body that is not JSON and not signed is 401, never a 500."""
    client = await make_client(pagerduty_secret=SECRET)
    resp = await client.post(
        "/webhooks/pagerduty", data=NOT_JSON[name], headers={"Content-Type": "application/json"}
    )
    assert resp.status == 401


@pytest.mark.parametrize("name", sorted(NOT_JSON))
async def test_signed_bad_json_is_400(make_client: MakeClient, name: str) -> None:
    """A signed body that is not JSON (too deep, NaN, duplicate keys) is told so: 400."""
    client = await make_client(pagerduty_secret=SECRET)
    body = NOT_JSON[name]
    resp = await client.post("/webhooks/pagerduty", data=body, headers=sign(body))
    assert resp.status == 400
    assert (await resp.json())["title"] == "Invalid JSON"


async def test_without_a_secret_bad_json_is_400(make_client: MakeClient) -> None:
    """With no secret configured, the sender learns at once that the body is not JSON."""
    client = await make_client()
    resp = await client.post(
        "/webhooks/pagerduty", data=DEEP, headers={"Content-Type": "application/json"}
    )
    assert resp.status == 400
    assert "nested deeper than 64" in (await resp.json())["detail"]
