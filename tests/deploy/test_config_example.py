"""deploy/recorder.example.toml and its Kubernetes ConfigMap copy."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from typing import Any

from recorder.settings import load_settings
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
    assert example["silence_poll"] == "15s"
    assert example["severity"] == {"critical": "SEV1", "error": "SEV2", "warning": "SEV3"}
    assert example["service_labels"] == contract.SERVICE_LABELS
    assert example["sampling"] == {
        "interval": "15s",
        "baseline_window": "1h",
        "recovery_tail": "10m",
        "presets": ["ingress-nginx", "hikaricp"],
    }
    assert example["thresholds"] == {
        "pool_warning": 0.8,
        "error_rate_factor": 10.0,
        "error_rate_min": 0.01,
        "outage_error_rate": 0.05,
    }
    assert example["pagerduty_resolve_policy"] in contract.PAGERDUTY_RESOLVE_POLICIES
    assert example["pagerduty_resolve_policy"] == "resolve"
    assert example["body_limit"] == 16 * 1024 * 1024
    assert example["shutdown_timeout"] == "10s"
    assert example["shutdown_delay"] == "0s"


def uncommented_signals() -> str:
    """The example's commented `[[signals]]` block with its comment marks removed."""
    text = contract.EXAMPLE_TOML.read_text(encoding="utf-8")
    block = text[text.index("# [[signals]]") :]
    lines = (line.removeprefix("# ") for line in block.splitlines())
    return "\n".join(line for line in lines if re.match(r"\[\[signals\]\]$|\w+ = ", line))


def test_example_presets_fill_every_well_known_signal() -> None:
    """The presets shown give error_rate, error_count, pool_in_use and pool_max."""
    names = [
        s.name
        for s in load_settings(
            environ={}, config_path=str(contract.EXAMPLE_TOML)
        ).effective_signals()
    ]
    assert tuple(names) == contract.WELL_KNOWN_SIGNALS
    text = contract.EXAMPLE_TOML.read_text(encoding="utf-8")
    for preset in contract.PRESETS:
        assert preset in text, preset


def test_example_commented_signals_are_valid_when_uncommented() -> None:
    """The commented [[signals]] examples (a preset entry, four queries) parse and load."""
    signals = tomllib.loads(uncommented_signals())["signals"]
    assert signals[0] == {"preset": "go-sql"}
    assert tuple(s["name"] for s in signals[1:]) == contract.WELL_KNOWN_SIGNALS
    for signal in signals[1:]:
        assert '{service="{{service}}"' in signal["query"], signal["name"]
    settings = load_settings(environ={}, flags={"signals": signals[1:]})
    assert [s.name for s in settings.effective_signals()] == list(contract.WELL_KNOWN_SIGNALS)


def test_compose_config_is_the_example_with_the_demo_service_signals() -> None:
    """deploy/compose/recorder.toml shares the example's settings and samples the demo
    service's own metrics (the example's commented queries)."""
    with contract.COMPOSE_TOML.open("rb") as handle:
        compose = tomllib.load(handle)
    example = load_example()
    signals = compose.pop("signals")
    assert signals == tomllib.loads(uncommented_signals())["signals"][1:]
    assert compose == example | {
        "sampling": {"interval": "15s", "baseline_window": "1h", "recovery_tail": "10m"}
    }
    assert load_settings(environ={}, config_path=str(contract.COMPOSE_TOML))


def test_example_passes_check_config() -> None:
    """`recorder check-config` accepts the example and lists the presets' queries."""
    result = subprocess.run(
        [sys.executable, "-m", "recorder", "check-config", "--config", str(contract.EXAMPLE_TOML)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("RECORDER_")},
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert [s["from"] for s in printed["effective_signals"]] == [
        "preset ingress-nginx",
        "preset ingress-nginx",
        "preset hikaricp",
        "preset hikaricp",
    ]
    assert "nginx_ingress_controller_requests" in printed["effective_signals"][0]["query"]


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
