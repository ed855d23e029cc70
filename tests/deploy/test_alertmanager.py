"""deploy/alertmanager/alertmanager.yml: every alert reaches the recorder, PagerDuty links."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deploy import contract
from tests.deploy.tools import find_tool, load_yaml, run_tool

CONFIG = contract.ALERTMANAGER / "alertmanager.yml"


def receivers() -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in load_yaml(CONFIG)["receivers"]}


def recorder_webhooks(receiver: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        w
        for w in receiver.get("webhook_configs", [])
        if urlsplit(w["url"]).path == contract.ALERTMANAGER_WEBHOOK_PATH
    ]


def test_amtool_accepts_the_config() -> None:
    """`amtool check-config` passes (it does not need the credential files to exist)."""
    result = run_tool(find_tool("amtool"), "check-config", CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("labels", "receiver"),
    [
        (
            ["alertname=HighErrorRate", "service=checkout", "severity=critical"],
            "incident-recorder-and-pagerduty",
        ),
        (
            ["alertname=DatabasePoolSaturated", "service=checkout", "severity=warning"],
            "incident-recorder",
        ),
        (["alertname=Anything"], "incident-recorder"),
    ],
)
def test_routing_sends_each_alert_to_the_expected_receiver(
    labels: list[str], receiver: str
) -> None:
    """Critical alerts page and are recorded; everything else is recorded only."""
    result = run_tool(
        find_tool("amtool"), "config", "routes", "test", f"--config.file={CONFIG}", *labels
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == [receiver]


def test_every_receiver_notifies_the_recorder() -> None:
    """No route can bypass the recorder: each receiver carries its webhook."""
    for name, receiver in receivers().items():
        assert len(recorder_webhooks(receiver)) == 1, name


def test_recorder_webhook_settings() -> None:
    """Resolved notifications sent, no truncation, bearer token read from a file."""
    webhook = recorder_webhooks(receivers()["incident-recorder"])[0]
    url = urlsplit(webhook["url"])
    assert (url.scheme, url.hostname, url.port) == ("http", "recorder", contract.PORT)
    assert webhook["send_resolved"] is True
    assert webhook["max_alerts"] == 0
    auth = webhook["http_config"]["authorization"]
    assert auth["type"] == "Bearer"
    # Where kube-prometheus-stack mounts alertmanagerSpec.secrets: .../<secret>/<key>.
    assert re.fullmatch(
        r"/etc/alertmanager/secrets/[a-z0-9-]+/[A-Za-z0-9_.-]+", auth["credentials_file"]
    )
    assert "credentials" not in auth


def test_pagerduty_receiver_shares_its_group_with_the_recorder() -> None:
    """PagerDuty's dedup_key is sha256(groupKey), so the recorder must see the same group."""
    paging = [r for r in receivers().values() if r.get("pagerduty_configs")]
    assert paging
    for receiver in paging:
        assert recorder_webhooks(receiver), receiver["name"]
        for pagerduty in receiver["pagerduty_configs"]:
            assert pagerduty["routing_key_file"].startswith("/")
            assert "routing_key" not in pagerduty
            assert "service_key" not in pagerduty
            assert pagerduty.get("send_resolved", True) is True
    assert "sha256" in CONFIG.read_text(encoding="utf-8")


def test_route_groups_by_the_example_correlation_labels() -> None:
    """One Alertmanager group per alertname and service, as the example config correlates."""
    assert load_yaml(CONFIG)["route"]["group_by"] == ["alertname", "service"]
