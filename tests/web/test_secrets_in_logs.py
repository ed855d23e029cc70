"""Secrets never reach the logs: not the configured tokens, not what a client presents."""

from __future__ import annotations

import pytest

from tests.conftest import fixture_bytes
from tests.web.conftest import MakeClient

TOKEN = "am-token-7f3c2a91"
API_TOKEN = "api-token-0be4d2"
PD_SECRET = "pd-secret-55aa11"
PRESENTED = "presented-but-wrong-9d8e7f"


async def test_logs_never_contain_tokens_or_secrets(
    make_client: MakeClient, capsys: pytest.CaptureFixture[str]
) -> None:
    """Start-up, accepted, rejected and API requests log no token, secret or password."""
    client = await make_client(
        alertmanager_token=TOKEN, api_token=API_TOKEN, pagerduty_secret=PD_SECRET
    )
    body = fixture_bytes("alertmanager_firing.json")
    json_type = {"Content-Type": "application/json"}
    ok = await client.post(
        "/webhooks/alertmanager",
        data=body,
        headers={**json_type, "Authorization": f"Bearer {TOKEN}"},
    )
    assert ok.status == 200
    bad = await client.post(
        "/webhooks/alertmanager",
        data=body,
        headers={**json_type, "Authorization": f"Bearer {PRESENTED}"},
    )
    assert bad.status == 401
    pd = await client.post(
        "/webhooks/pagerduty",
        data=fixture_bytes("pagerduty_v3_incident_triggered.json"),
        headers={**json_type, "X-PagerDuty-Signature": f"v1={PRESENTED}"},
    )
    assert pd.status == 401
    api = await client.post(
        "/api/v1/incidents/x/acknowledge",
        data=b'{"by": "me"}',
        headers={**json_type, "Authorization": f"Bearer {PRESENTED}"},
    )
    assert api.status == 401
    logged = capsys.readouterr()
    text = logged.out + logged.err
    assert "request_handled" in text, "the request log lines were not captured"
    for secret in (TOKEN, API_TOKEN, PD_SECRET, PRESENTED):
        assert secret not in text
