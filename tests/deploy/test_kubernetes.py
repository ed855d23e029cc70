"""deploy/kubernetes: a valid kustomize base whose pieces agree with each other."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import pytest
import yaml

from tests.deploy import contract
from tests.deploy.tools import find_tool, load_yaml, load_yaml_all, run_tool

KUBERNETES_VERSION = "1.30"
CRD_API_VERSIONS = {
    "ServiceMonitor": "monitoring.coreos.com/v1",
    "PrometheusRule": "monitoring.coreos.com/v1",
    "AlertmanagerConfig": "monitoring.coreos.com/v1alpha1",
}
MANIFESTS = sorted(p for p in contract.KUBERNETES.glob("*.yaml") if p.name != "kustomization.yaml")
EXAMPLES = {"secret.example.yaml", "alertmanagerconfig.example.yaml"}
POD_LABELS = {
    "app.kubernetes.io/name": "incident-recorder",
    "app.kubernetes.io/component": "server",
}


def resource(name: str) -> dict[str, Any]:
    docs = load_yaml_all(contract.KUBERNETES / name)
    assert len(docs) == 1
    doc: dict[str, Any] = docs[0]
    return doc


def pod_spec() -> dict[str, Any]:
    spec: dict[str, Any] = resource("deployment.yaml")["spec"]["template"]["spec"]
    return spec


def container() -> dict[str, Any]:
    containers = pod_spec()["containers"]
    assert len(containers) == 1
    found: dict[str, Any] = containers[0]
    return found


def env() -> dict[str, dict[str, Any]]:
    return {item["name"]: item for item in container()["env"]}


def quantity_mib(value: str) -> float:
    units = {"Ki": 1 / 1024, "Mi": 1, "Gi": 1024}
    for suffix, factor in units.items():
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value) / 2**20


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_valid_against_the_kubernetes_schema(path: Path) -> None:
    """Built-in kinds pass strict schema validation; CRDs are checked structurally below."""
    for doc in load_yaml_all(path):
        if doc["kind"] in CRD_API_VERSIONS:
            assert doc["apiVersion"] == CRD_API_VERSIONS[doc["kind"]]
            continue
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest_but_the_examples() -> None:
    """Every manifest is deployed, nothing listed is missing, examples stay out."""
    listed = load_yaml(contract.KUBERNETES / "kustomization.yaml")["resources"]
    expected = {p.name for p in MANIFESTS} - EXAMPLES
    assert sorted(listed) == sorted(expected)
    assert len(listed) == len(set(listed))


def test_kustomize_builds_the_base() -> None:
    """`kubectl kustomize` renders the base into exactly the expected kinds."""
    result = run_tool(find_tool("kubectl"), "kustomize", contract.KUBERNETES)
    assert result.returncode == 0, result.stderr
    kinds = sorted(doc["kind"] for doc in yaml.safe_load_all(result.stdout) if doc)
    assert kinds == sorted(
        [
            "ConfigMap",
            "Deployment",
            "NetworkPolicy",
            "PodDisruptionBudget",
            "PrometheusRule",
            "Service",
            "ServiceMonitor",
        ]
    )
    assert "kind: Secret" not in result.stdout


def test_example_secret_holds_only_placeholders_for_every_secret_variable() -> None:
    """The example Secret shows the keys the Deployment reads, with no usable values."""
    secret = resource("secret.example.yaml")
    deployment_keys = {
        item["valueFrom"]["secretKeyRef"]["key"]
        for item in env().values()
        if "valueFrom" in item and not item["valueFrom"]["secretKeyRef"].get("optional")
    }
    assert set(secret["stringData"]) == deployment_keys
    for key, value in secret["stringData"].items():
        assert "CHANGE-ME" in value, key
    assert "kubectl" in (contract.KUBERNETES / "secret.example.yaml").read_text(encoding="utf-8")


def test_deployment_runs_two_serving_replicas() -> None:
    """Two replicas of `recorder serve`, never fewer than two ready during a rollout."""
    deployment = resource("deployment.yaml")
    assert deployment["spec"]["replicas"] == 2
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert container()["args"] == ["serve"]
    assert deployment["spec"]["selector"]["matchLabels"] == POD_LABELS
    assert deployment["spec"]["template"]["metadata"]["labels"] == POD_LABELS


def test_deployment_environment_follows_the_contract() -> None:
    """Listen on all interfaces on the contract port, JSON logs, config from the ConfigMap."""
    variables = env()
    assert set(variables) <= contract.ENV_VARS
    assert variables["RECORDER_LISTEN"]["value"] == f"0.0.0.0:{contract.PORT}"
    assert variables["RECORDER_LOG_FORMAT"]["value"] == "json"
    config_path = Path(variables[contract.CONFIG_ENV]["value"])
    mounts = {m["name"]: m for m in container()["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec()["volumes"]}
    assert mounts["config"]["mountPath"] == str(config_path.parent)
    assert mounts["config"]["readOnly"] is True
    assert volumes["config"]["configMap"]["name"] == resource("configmap.yaml")["metadata"]["name"]
    assert config_path.name in resource("configmap.yaml")["data"]


def test_deployment_reaches_the_operators_prometheus_and_alertmanager() -> None:
    """Sampling and silences both point at the Prometheus Operator's default Services, in
    one namespace: without RECORDER_ALERTMANAGER_URL silences would never acknowledge."""
    variables = env()
    prometheus = urlsplit(variables["RECORDER_PROMETHEUS_URL"]["value"])
    alertmanager = urlsplit(variables["RECORDER_ALERTMANAGER_URL"]["value"])
    assert (prometheus.scheme, prometheus.port) == ("http", 9090)
    assert (alertmanager.scheme, alertmanager.port) == ("http", 9093)
    prometheus_service, namespace, *_ = (prometheus.hostname or "").split(".")
    alertmanager_service, alertmanager_namespace, *_ = (alertmanager.hostname or "").split(".")
    assert (prometheus_service, alertmanager_service) == (
        "prometheus-operated",
        "alertmanager-operated",
    )
    assert alertmanager_namespace == namespace


def test_deployment_reads_every_secret_from_the_secret() -> None:
    """Secrets come from secretKeyRef, never from a literal value."""
    variables = env()
    expected = {
        "RECORDER_DATABASE_URL",
        "RECORDER_ALERTMANAGER_TOKEN",
        "RECORDER_PAGERDUTY_SECRET",
        "RECORDER_API_TOKEN",
    }
    assert expected <= set(variables)
    for name, item in variables.items():
        if name in contract.SECRET_ENV_VARS:
            ref = item["valueFrom"]["secretKeyRef"]
            assert (ref["name"], ref["key"]) == ("incident-recorder", name)
            assert "value" not in item
        else:
            assert "value" in item, name
    assert (
        variables["RECORDER_DATABASE_URL"]["valueFrom"]["secretKeyRef"].get("optional") is not True
    )


def test_probes_use_the_contract_paths_on_the_named_port() -> None:
    """Liveness asks /healthz (not the database), readiness asks /readyz."""
    spec = container()
    assert spec["ports"] == [{"name": "http", "containerPort": contract.PORT, "protocol": "TCP"}]
    assert spec["livenessProbe"]["httpGet"] == {"path": contract.LIVENESS_PATH, "port": "http"}
    assert spec["readinessProbe"]["httpGet"] == {"path": contract.READINESS_PATH, "port": "http"}
    assert spec["startupProbe"]["httpGet"]["path"] == contract.LIVENESS_PATH


def test_container_is_locked_down() -> None:
    """Non-root uid 10001, read-only root, no privilege escalation, no capabilities."""
    pod_security = pod_spec()["securityContext"]
    assert pod_security["runAsNonRoot"] is True
    assert pod_security["runAsUser"] == contract.UID
    assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}
    security = container()["securityContext"]
    assert security["runAsNonRoot"] is True
    assert security["runAsUser"] == contract.UID
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    assert pod_spec()["automountServiceAccountToken"] is False


def test_tmp_is_a_writable_empty_dir() -> None:
    """With a read-only root filesystem, /tmp is the one writable place."""
    mounts = {m["mountPath"]: m for m in container()["volumeMounts"]}
    volumes = {v["name"]: v for v in pod_spec()["volumes"]}
    tmp = mounts["/tmp"]  # noqa: S108 - the path under test, not a temp file we create
    assert not tmp.get("readOnly", False)
    assert "emptyDir" in volumes[tmp["name"]]


def test_resources_bound_memory_near_the_idle_target() -> None:
    """Requests are set, and the memory limit leaves room over the < 80 MB idle target."""
    resources = container()["resources"]
    assert {"cpu", "memory"} <= set(resources["requests"])
    limit = quantity_mib(resources["limits"]["memory"])
    assert 80 < limit <= 256
    assert quantity_mib(resources["requests"]["memory"]) <= limit


def test_service_exposes_the_named_port_of_the_pods() -> None:
    """The Service selects the Deployment's pods and forwards 9470 to the `http` port."""
    service = resource("service.yaml")
    assert service["metadata"]["name"] == contract.JOB
    assert service["spec"]["selector"] == POD_LABELS
    assert service["spec"]["ports"] == [
        {"name": "http", "port": contract.PORT, "targetPort": "http", "protocol": "TCP"}
    ]


def test_pod_disruption_budget_keeps_one_replica() -> None:
    """minAvailable 1, over the same pods as the Deployment."""
    budget = resource("poddisruptionbudget.yaml")
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"]["matchLabels"] == POD_LABELS


def test_service_monitor_scrapes_the_service_metrics_port() -> None:
    """The ServiceMonitor selects the Service's labels and scrapes /metrics on `http`."""
    monitor = resource("servicemonitor.yaml")
    service = resource("service.yaml")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    selector = monitor["spec"]["selector"]["matchLabels"]
    assert selector.items() <= service["metadata"]["labels"].items()
    port_names = {p["name"] for p in service["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in port_names
        assert endpoint["path"] == contract.METRICS_PATH


def test_prometheus_rule_is_well_formed() -> None:
    """The PrometheusRule has the operator's shape; its rules are compared elsewhere."""
    rule = resource("prometheusrule.yaml")
    assert rule["kind"] == "PrometheusRule"
    assert rule["metadata"]["name"] == "incident-recorder"
    for group in rule["spec"]["groups"]:
        assert group["name"]
        for item in group["rules"]:
            assert {"alert", "expr", "labels", "annotations"} <= set(item)


def build_overlay(tmp_path: Path, kustomization: dict[str, Any]) -> list[dict[str, Any]]:
    """Render an overlay of the base with `kubectl kustomize`."""
    shutil.copytree(contract.KUBERNETES, tmp_path / "base")
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    resources = ["../base"]
    for name in kustomization.pop("files", []):
        shutil.copy(contract.KUBERNETES / name, overlay / name)
        resources.append(name)
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": resources, **kustomization})
    )
    result = run_tool(find_tool("kubectl"), "kustomize", overlay)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def test_release_label_fits_kube_prometheus_stack_and_is_settable(tmp_path: Path) -> None:
    """ServiceMonitor and PrometheusRule carry `release` (kube-prometheus-stack's selector);
    the overlay shown in kustomization.yaml changes it on both and nothing else."""
    for name in ("servicemonitor.yaml", "prometheusrule.yaml"):
        assert resource(name)["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    text = (contract.KUBERNETES / "kustomization.yaml").read_text(encoding="utf-8")
    assert "path: /metadata/labels/release" in text
    docs = build_overlay(
        tmp_path,
        {
            "patches": [
                {
                    "target": {
                        "group": "monitoring.coreos.com",
                        "labelSelector": "app.kubernetes.io/name=incident-recorder",
                    },
                    "patch": "- op: replace\n  path: /metadata/labels/release\n  value: mon\n",
                }
            ]
        },
    )
    releases = {d["kind"]: d["metadata"].get("labels", {}).get("release") for d in docs}
    assert releases.pop("ServiceMonitor") == "mon"
    assert releases.pop("PrometheusRule") == "mon"
    assert set(releases.values()) == {None}


def test_network_policy_admits_only_senders_prometheus_and_ingress() -> None:
    """Ingress to the pods' http port only from Alertmanager, Grafana, Prometheus and the
    ingress controller; the policy selects exactly the Deployment's pods."""
    policy = resource("networkpolicy.yaml")
    spec = policy["spec"]
    assert spec["podSelector"]["matchLabels"] == POD_LABELS
    assert spec["policyTypes"] == ["Ingress"]
    (rule,) = spec["ingress"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]
    peers = {}
    for peer in rule["from"]:
        namespace = peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        pods = peer["podSelector"]
        names = (
            pods["matchExpressions"][0]["values"]
            if "matchExpressions" in pods
            else [pods["matchLabels"]["app.kubernetes.io/name"]]
        )
        peers[namespace] = sorted(names)
    assert peers == {
        "monitoring": ["alertmanager", "grafana", "prometheus"],
        "ingress-nginx": ["ingress-nginx"],
    }


def test_alertmanager_config_example_sends_to_the_recorder(tmp_path: Path) -> None:
    """The AlertmanagerConfig posts resolved notifications, untruncated, to the Service,
    with the bearer token from the same Secret key the recorder reads; it builds."""
    config = resource("alertmanagerconfig.example.yaml")
    assert config["apiVersion"] == "monitoring.coreos.com/v1alpha1"
    spec = config["spec"]
    (receiver,) = spec["receivers"]
    assert spec["route"]["receiver"] == receiver["name"]
    (webhook,) = receiver["webhookConfigs"]
    service = resource("service.yaml")
    assert webhook["url"].startswith(f"http://{service['metadata']['name']}.")
    assert webhook["url"].endswith(f":{contract.PORT}/webhooks/alertmanager")
    assert webhook["sendResolved"] is True
    assert webhook["maxAlerts"] == 0
    auth = webhook["httpConfig"]["authorization"]
    assert auth["type"] == "Bearer"
    token_ref = env()["RECORDER_ALERTMANAGER_TOKEN"]["valueFrom"]["secretKeyRef"]
    assert auth["credentials"] == {"name": token_ref["name"], "key": token_ref["key"]}
    docs = build_overlay(
        tmp_path,
        {"files": ["alertmanagerconfig.example.yaml"]},
    )
    assert "AlertmanagerConfig" in {d["kind"] for d in docs}


def test_shutdown_fits_the_termination_grace_period(tmp_path: Path) -> None:
    """preStop pause + shutdown delay + listener settle + shutdown timeout + storage close
    stay under terminationGracePeriodSeconds, so Kubernetes never SIGKILLs a replica that
    is still finishing requests."""
    import inspect

    from recorder.serving import LISTENER_SETTLE_S
    from recorder.settings import load_settings
    from recorder.store.postgres import PostgresStore

    spec = pod_spec()
    grace = spec["terminationGracePeriodSeconds"]
    command = container()["lifecycle"]["preStop"]["exec"]["command"]
    assert command[0] == "sleep"
    pre_stop = float(command[1])
    assert pre_stop >= 5  # endpoints and kube-proxy rules catch up before SIGTERM
    toml = tmp_path / "recorder.toml"
    toml.write_text(resource("configmap.yaml")["data"]["recorder.toml"])
    settings = load_settings(environ={}, config_path=str(toml))
    close = inspect.signature(PostgresStore).parameters["close_timeout"].default
    budget = (
        pre_stop
        + settings.shutdown_delay.total_seconds()
        + LISTENER_SETTLE_S
        + settings.shutdown_timeout.total_seconds()
        + close
    )
    assert budget < grace, (budget, grace)
