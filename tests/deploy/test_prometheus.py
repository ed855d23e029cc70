"""deploy/prometheus: scrape config and the alert rules on the recorder itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy import contract
from tests.deploy.promql import series_names
from tests.deploy.tools import find_tool, load_yaml, run_tool

RULES = contract.PROMETHEUS / "recorder-rules.yml"
RULE_TESTS = contract.PROMETHEUS / "recorder-rules.test.yml"
CONFIG = contract.PROMETHEUS / "prometheus.yml"
SEVERITIES = {"critical", "warning", "info"}


def recorder_rules() -> list[dict[str, Any]]:
    return [rule for group in load_yaml(RULES)["groups"] for rule in group["rules"]]


def test_promtool_accepts_the_config_and_its_rule_files() -> None:
    """`promtool check config` passes, which also checks every rule file it names."""
    result = run_tool(find_tool("promtool"), "check", "config", CONFIG)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("name", ["recorder-rules.yml", "demo-rules.yml"])
def test_promtool_accepts_the_rule_file(name: str) -> None:
    """`promtool check rules` passes for each rule file."""
    result = run_tool(find_tool("promtool"), "check", "rules", contract.PROMETHEUS / name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    """`promtool test rules`: the alerts fire, and stay quiet, when they should."""
    result = run_tool(
        find_tool("promtool"), "test", "rules", RULE_TESTS.name, cwd=RULE_TESTS.parent
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_recorder_alert_has_a_unit_test() -> None:
    """No alert ships untested: each alert name appears in the promtool test file."""
    tested = {
        case["alertname"]
        for test in load_yaml(RULE_TESTS)["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {rule["alert"] for rule in recorder_rules()} <= tested


def test_recorder_alerts_cover_the_failure_modes() -> None:
    """Down, storage, webhook failures, sampler and silence each have an alert."""
    exprs = {rule["alert"]: rule["expr"] for rule in recorder_rules()}
    assert 'up{job="incident-recorder"} == 0' in exprs["RecorderDown"]
    assert 'outcome="error"' in exprs["RecorderStorageUnavailable"]
    assert 'outcome=~"rejected|error"' in exprs["RecorderWebhooksFailing"]
    assert 'recorder_sampler_queries_total{outcome="error"}' in exprs["RecorderSamplerFailing"]
    assert "[6h]" in exprs["RecorderNoWebhooks"]
    assert "absent(" in exprs["RecorderNoWebhooks"]


@pytest.mark.parametrize("rule", recorder_rules(), ids=lambda rule: rule["alert"])
def test_alert_has_severity_and_operator_text(rule: dict[str, Any]) -> None:
    """Every alert says how bad it is, what happened and what to do."""
    assert rule["labels"]["severity"] in SEVERITIES
    for key in ("summary", "description", "runbook"):
        assert rule["annotations"].get(key, "").strip(), key
    assert rule.get("for"), "a one-scrape blip must not page"


@pytest.mark.parametrize("rule", recorder_rules(), ids=lambda rule: rule["alert"])
def test_alert_selects_only_series_the_recorder_exports(rule: dict[str, Any]) -> None:
    """A typo in a metric name would make an alert silently never fire."""
    known = contract.known_series() | contract.STANDARD_SERIES
    assert series_names(rule["expr"]) <= known


def test_outcome_matchers_use_only_documented_outcomes() -> None:
    """The outcome label values in the rules are ones the recorder exports."""
    text = RULES.read_text(encoding="utf-8")
    for matcher in ('outcome="error"', 'outcome=~"rejected|error"'):
        assert matcher in text
    assert {"rejected", "error"} <= contract.WEBHOOK_OUTCOMES


def test_scrape_job_targets_the_recorder_metrics_endpoint() -> None:
    """The recorder job scrapes /metrics on the contract port, under the rules' job name."""
    jobs = {job["job_name"]: job for job in load_yaml(CONFIG)["scrape_configs"]}
    job = jobs[contract.JOB]
    assert job["metrics_path"] == contract.METRICS_PATH
    targets = [t for sc in job["static_configs"] for t in sc["targets"]]
    assert targets == [f"recorder:{contract.PORT}"]


def test_config_alerts_to_alertmanager_and_loads_recorder_rules() -> None:
    """Alerts go to Alertmanager and the recorder's own rules are loaded."""
    config = load_yaml(CONFIG)
    targets = [
        t
        for am in config["alerting"]["alertmanagers"]
        for sc in am["static_configs"]
        for t in sc["targets"]
    ]
    assert targets == ["alertmanager:9093"]
    assert RULES.name in config["rule_files"]
    for name in config["rule_files"]:
        assert (CONFIG.parent / name).is_file(), name


def test_prometheusrule_carries_the_same_rules(tmp_path: Path) -> None:
    """The Kubernetes PrometheusRule holds recorder-rules.yml's groups, rule for rule."""
    resource = load_yaml(contract.KUBERNETES / "prometheusrule.yaml")
    assert resource["apiVersion"] == "monitoring.coreos.com/v1"
    assert resource["kind"] == "PrometheusRule"
    assert resource["spec"]["groups"] == load_yaml(RULES)["groups"]
    # And promtool accepts them as a rule file in their own right.
    extracted = tmp_path / "prometheusrule-spec.yml"
    extracted.write_text(yaml.safe_dump(resource["spec"]), encoding="utf-8")
    result = run_tool(find_tool("promtool"), "check", "rules", extracted)
    assert result.returncode == 0, result.stdout + result.stderr
