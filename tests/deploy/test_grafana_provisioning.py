"""deploy/grafana/provisioning: the contact point reaches the recorder's Grafana endpoint."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient
from prometheus_client import CollectorRegistry

from recorder.settings import load_settings
from recorder.web.app import create_app
from tests.conftest import fixture_bytes
from tests.deploy import contract
from tests.deploy.tools import load_yaml

PROVISIONING = contract.GRAFANA / "provisioning" / "alerting" / "incident-recorder.yaml"
README = contract.ROOT / "README.md"
# Grafana expands $VAR and ${VAR} in provisioning files.
ENV_REFERENCE = re.compile(r"^\$\{?(?P<name>[A-Z_][A-Z0-9_]*)\}?$")


def provisioning() -> dict[str, Any]:
    loaded: dict[str, Any] = load_yaml(PROVISIONING)
    return loaded


def webhook() -> dict[str, Any]:
    (contact_point,) = provisioning()["contactPoints"]
    (receiver,) = contact_point["receivers"]
    assert receiver["type"] == "webhook"
    settings: dict[str, Any] = receiver["settings"]
    return settings


def authorization_header(settings: dict[str, Any], environ: dict[str, str]) -> str:
    """The header Grafana's webhook notifier builds: "<scheme> <credentials>", with the
    provisioning file's $VARIABLE expanded and the scheme defaulting to Bearer."""
    credentials = settings["authorization_credentials"]
    reference = ENV_REFERENCE.match(credentials)
    if reference is not None:
        credentials = environ[reference["name"]]
    return f"{settings.get('authorization_scheme') or 'Bearer'} {credentials}"


def test_file_is_provisioning_version_1() -> None:
    """Grafana reads only `apiVersion: 1` alerting provisioning files."""
    assert provisioning()["apiVersion"] == 1


def test_contact_point_posts_to_the_grafana_webhook_on_the_recorder_port() -> None:
    """URL path and port are the recorder's; the method is POST."""
    url = urlsplit(webhook()["url"])
    assert url.path == contract.GRAFANA_WEBHOOK_PATH
    assert url.port == contract.PORT
    assert webhook().get("httpMethod", "POST") == "POST"


def test_contact_point_sends_the_token_as_a_bearer_header_from_the_environment() -> None:
    """Bearer scheme, credentials from RECORDER_ALERTMANAGER_TOKEN, never inline, and no
    Basic credentials (the recorder refuses them; Grafana forbids both at once)."""
    settings = webhook()
    assert settings["authorization_scheme"] == "Bearer"
    reference = ENV_REFERENCE.match(settings["authorization_credentials"])
    assert reference is not None, "the token must come from the environment, not the file"
    assert reference["name"] == contract.ALERT_TOKEN_ENV
    assert "username" not in settings
    assert "password" not in settings


def test_contact_point_sends_resolved_and_untruncated_notifications() -> None:
    """Resolved messages close incidents; truncated ones never can, so no max_alerts."""
    (contact_point,) = provisioning()["contactPoints"]
    assert contact_point["receivers"][0].get("disableResolveMessage", False) is False
    assert int(webhook().get("maxAlerts", 0)) == 0
    assert "payload" not in webhook()


def test_policy_routes_to_the_contact_point() -> None:
    """The root policy's receiver is the provisioned contact point, same organisation."""
    (contact_point,) = provisioning()["contactPoints"]
    (policy,) = provisioning()["policies"]
    assert policy["receiver"] == contact_point["name"]
    assert policy["orgId"] == contact_point["orgId"]
    assert "alertname" in policy["group_by"]


def test_readme_shows_the_same_contact_point() -> None:
    """The README's instructions name the same path and Bearer settings."""
    text = README.read_text(encoding="utf-8")
    assert contract.GRAFANA_WEBHOOK_PATH in text
    assert "authorization_scheme: Bearer" in text
    assert str(PROVISIONING.relative_to(contract.ROOT)) in text


async def test_the_provisioned_request_is_accepted_by_the_recorder(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    """A Grafana body sent as the provisioned contact point would send it is stored (200),
    and the same request with another token is refused (401)."""
    token = "grafana-provisioned-token"
    environ = {
        "RECORDER_DATABASE_URL": f"sqlite:///{tmp_path / 'recorder.db'}",
        contract.ALERT_TOKEN_ENV: token,
    }
    app = create_app(load_settings(environ=environ), registry=CollectorRegistry())
    client: TestClient[Any, Any] = await aiohttp_client(app)
    settings = webhook()
    path = urlsplit(settings["url"]).path
    body = fixture_bytes("grafana/grafana10_firing_values.json")
    headers = {"Content-Type": "application/json"}

    good = {**headers, "Authorization": authorization_header(settings, environ)}
    accepted = await client.request(
        settings.get("httpMethod", "POST"), path, data=body, headers=good
    )
    assert accepted.status == 200, await accepted.text()

    wrong = {contract.ALERT_TOKEN_ENV: "another-token"}
    bad = {**headers, "Authorization": authorization_header(settings, wrong)}
    refused = await client.request(settings.get("httpMethod", "POST"), path, data=body, headers=bad)
    assert refused.status == 401
