"""The contract values (port, paths, variable names) agree across every deployment file."""

from __future__ import annotations

import re

from tests.deploy import contract
from tests.deploy.tools import load_yaml

RECORDER_VARIABLE = re.compile(r"\bRECORDER_[A-Z0-9_]+\b")
DEPLOYMENT_FILES = [
    contract.DOCKERFILE,
    contract.KUBERNETES / "deployment.yaml",
    contract.KUBERNETES / "secret.example.yaml",
    contract.KUBERNETES / "kustomization.yaml",
    contract.COMPOSE / "docker-compose.yml",
    contract.EXAMPLE_TOML,
    contract.PROMETHEUS / "recorder-rules.yml",
    contract.ALERTMANAGER / "alertmanager.yml",
]


def test_every_recorder_variable_named_anywhere_is_a_contract_variable() -> None:
    """A misspelt RECORDER_* variable would be silently ignored by the daemon."""
    for path in DEPLOYMENT_FILES:
        names = set(RECORDER_VARIABLE.findall(path.read_text(encoding="utf-8")))
        assert names <= contract.ENV_VARS, (path.name, sorted(names - contract.ENV_VARS))


def test_contract_port_is_the_same_everywhere() -> None:
    """Dockerfile, Deployment, Service, compose, Prometheus and Alertmanager say 9470."""
    port = str(contract.PORT)
    deployment = load_yaml(contract.KUBERNETES / "deployment.yaml")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in container["env"]}
    service = load_yaml(contract.KUBERNETES / "service.yaml")
    compose = load_yaml(contract.COMPOSE / "docker-compose.yml")["services"]["recorder"]
    prometheus = load_yaml(contract.PROMETHEUS / "prometheus.yml")
    alertmanager = load_yaml(contract.ALERTMANAGER / "alertmanager.yml")
    dockerfile = contract.DOCKERFILE.read_text(encoding="utf-8")

    assert re.search(rf"^EXPOSE {port}$", dockerfile, re.MULTILINE)
    assert f"RECORDER_LISTEN=0.0.0.0:{port}" in dockerfile
    assert container["ports"][0]["containerPort"] == contract.PORT
    assert env["RECORDER_LISTEN"].endswith(f":{port}")
    assert service["spec"]["ports"][0]["port"] == contract.PORT
    assert compose["environment"]["RECORDER_LISTEN"].endswith(f":{port}")
    scrape = next(j for j in prometheus["scrape_configs"] if j["job_name"] == contract.JOB)
    assert scrape["static_configs"][0]["targets"][0].endswith(f":{port}")
    for receiver in alertmanager["receivers"]:
        url = receiver["webhook_configs"][0]["url"]
        assert url == f"http://recorder:{port}{contract.ALERTMANAGER_WEBHOOK_PATH}"


def test_health_paths_are_the_same_everywhere() -> None:
    """Docker's HEALTHCHECK and the liveness probe ask /healthz; readiness asks /readyz."""
    dockerfile = contract.DOCKERFILE.read_text(encoding="utf-8")
    deployment = (contract.KUBERNETES / "deployment.yaml").read_text(encoding="utf-8")
    assert contract.LIVENESS_PATH in dockerfile.split("HEALTHCHECK", 1)[1]
    assert f"path: {contract.LIVENESS_PATH}" in deployment
    assert f"path: {contract.READINESS_PATH}" in deployment


def test_metrics_path_and_job_name_agree_for_prometheus_and_the_operator() -> None:
    """Both scrape setups produce job="incident-recorder" series from /metrics."""
    prometheus = load_yaml(contract.PROMETHEUS / "prometheus.yml")
    scrape = next(j for j in prometheus["scrape_configs"] if j["job_name"] == contract.JOB)
    monitor = load_yaml(contract.KUBERNETES / "servicemonitor.yaml")
    service = load_yaml(contract.KUBERNETES / "service.yaml")
    assert scrape["metrics_path"] == contract.METRICS_PATH
    assert monitor["spec"]["endpoints"][0]["path"] == contract.METRICS_PATH
    assert "jobLabel" not in monitor["spec"]  # so the job is the Service name
    assert service["metadata"]["name"] == contract.JOB
    rules = (contract.PROMETHEUS / "recorder-rules.yml").read_text(encoding="utf-8")
    assert f'up{{job="{contract.JOB}"}}' in rules


def test_non_root_uid_is_the_same_in_image_and_pod() -> None:
    """The image's USER and the pod's runAsUser are both 10001."""
    dockerfile = contract.DOCKERFILE.read_text(encoding="utf-8")
    assert re.search(rf"^USER {contract.UID}(:{contract.UID})?$", dockerfile, re.MULTILINE)
    deployment = load_yaml(contract.KUBERNETES / "deployment.yaml")
    assert deployment["spec"]["template"]["spec"]["securityContext"]["runAsUser"] == contract.UID
