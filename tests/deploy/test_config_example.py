"""deploy/recorder.example.toml and its Kubernetes ConfigMap copy."""

from __future__ import annotations

import re
import tomllib
from typing import Any

from tests.deploy import contract
from tests.deploy.tools import load_yaml


def load_example() -> dict[str, Any]:
    with contract.EXAMPLE_TOML.open("rb") as handle:
        return tomllib.load(handle)


def test_example_has_exactly_the_documented_top_level_keys() -> None:
    """The example carries every documented setting and nothing the loader would refuse."""
    assert set(load_example()) == contract.TOML_TOP_LEVEL_KEYS


def test_example_tables_have_the_documented_keys() -> None:
    """[sampling] and [thresholds] hold exactly their documented keys."""
    example = load_example()
    assert set(example["sampling"]) == contract.TOML_SAMPLING_KEYS
    assert set(example["thresholds"]) == contract.TOML_THRESHOLD_KEYS


def test_example_values_match_the_documented_defaults() -> None:
    """The values shown are the documented ones, so the example doubles as reference."""
    example = load_example()
    assert example["correlate_by"] == ["alertname", "service"]
    assert example["reopen_window"] == "10m"
    assert example["slo_target"] == 0.999
    assert example["severity"] == {"critical": "SEV1", "error": "SEV2", "warning": "SEV3"}
    assert example["sampling"] == {"interval": "15s", "baseline_window": "1h"}
    assert example["thresholds"] == {
        "pool_warning": 0.8,
        "error_rate_factor": 10.0,
        "error_rate_min": 0.01,
        "outage_error_rate": 0.05,
    }
    assert example["pagerduty_resolve_policy"] in contract.PAGERDUTY_RESOLVE_POLICIES
    assert example["pagerduty_resolve_policy"] == "resolve"
    assert example["body_limit"] == 16 * 1024 * 1024


def test_example_signals_are_the_well_known_ones_with_service_placeholders() -> None:
    """Each well-known signal has a query filled from the incident's `service` label."""
    signals = load_example()["signals"]
    assert tuple(s["name"] for s in signals) == contract.WELL_KNOWN_SIGNALS
    for signal in signals:
        assert set(signal) == {"name", "query"}
        assert '{service="{{service}}"' in signal["query"], signal["name"]


def test_example_documents_both_pagerduty_resolve_policies() -> None:
    """The comment explains what each policy does when PagerDuty resolves early."""
    text = contract.EXAMPLE_TOML.read_text(encoding="utf-8")
    for policy in contract.PAGERDUTY_RESOLVE_POLICIES:
        assert f'"{policy}"' in text
    assert "still firing" in text


def test_example_holds_no_secret_and_names_every_secret_variable() -> None:
    """Secrets are pointed to in comments (env only), never set in the file."""
    example = load_example()
    flat = repr(example).lower()
    for word in ("token", "secret", "password", "basic_auth"):
        assert word not in flat
    text = contract.EXAMPLE_TOML.read_text(encoding="utf-8")
    for name in contract.SECRET_ENV_VARS:
        assert re.search(rf"^#.*\b{name}\b", text, re.MULTILINE), name


def test_configmap_carries_the_example_settings() -> None:
    """The Kubernetes ConfigMap's recorder.toml parses to the same settings."""
    configmap = load_yaml(contract.KUBERNETES / "configmap.yaml")
    assert set(configmap["data"]) == {"recorder.toml"}
    assert tomllib.loads(configmap["data"]["recorder.toml"]) == load_example()
