"""The external contract the deployment files must agree on, as constants.

Copied from the interface documentation on purpose: the tests must not depend on where
that documentation is checked out.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUBERNETES = DEPLOY / "kubernetes"
PROMETHEUS = DEPLOY / "prometheus"
ALERTMANAGER = DEPLOY / "alertmanager"
COMPOSE = DEPLOY / "compose"
GRAFANA = DEPLOY / "grafana"
EXAMPLE_TOML = DEPLOY / "recorder.example.toml"
COMPOSE_TOML = COMPOSE / "recorder.toml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

PORT = 9470
LIVENESS_PATH = "/healthz"
READINESS_PATH = "/readyz"
METRICS_PATH = "/metrics"
ALERTMANAGER_WEBHOOK_PATH = "/webhooks/alertmanager"
GRAFANA_WEBHOOK_PATH = "/webhooks/grafana"
# The bearer token both alert webhooks require.
ALERT_TOKEN_ENV = "RECORDER_ALERTMANAGER_TOKEN"
# The Prometheus job name: the Kubernetes Service name, which a ServiceMonitor uses.
JOB = "incident-recorder"
UID = 10001

CONFIG_ENV = "RECORDER_CONFIG"
ENV_VARS = frozenset(
    {
        "RECORDER_LISTEN",
        "RECORDER_DATABASE_URL",
        "RECORDER_PROMETHEUS_URL",
        "RECORDER_ALERTMANAGER_TOKEN",
        "RECORDER_ALERTMANAGER_URL",
        "RECORDER_PAGERDUTY_SECRET",
        "RECORDER_PAGERDUTY_V2_BASIC_AUTH",
        "RECORDER_API_TOKEN",
        "RECORDER_API_READ_AUTH",
        "RECORDER_LOG_FORMAT",
        "RECORDER_LOG_LEVEL",
        CONFIG_ENV,
    }
)
# Env-only settings: never in the TOML file, only from a Secret in Kubernetes.
SECRET_ENV_VARS = frozenset(
    {
        "RECORDER_DATABASE_URL",
        "RECORDER_ALERTMANAGER_TOKEN",
        "RECORDER_PAGERDUTY_SECRET",
        "RECORDER_PAGERDUTY_V2_BASIC_AUTH",
        "RECORDER_API_TOKEN",
    }
)

TOML_TOP_LEVEL_KEYS = frozenset(
    {
        "correlate_by",
        "service_labels",
        "reopen_window",
        "slo_target",
        "silence_poll",
        "severity",
        "sampling",
        "thresholds",
        "pagerduty_resolve_policy",
        "body_limit",
        "shutdown_timeout",
        "shutdown_delay",
    }
)
TOML_SAMPLING_KEYS = frozenset({"interval", "baseline_window", "recovery_tail", "presets"})
SERVICE_LABELS = ["service", "job", "app", "app_kubernetes_io_name", "service_name"]
PRESETS = (
    "ingress-nginx",
    "istio",
    "micrometer-http",
    "flask",
    "django",
    "express",
    "hikaricp",
    "go-sql",
    "pgbouncer",
)
TOML_THRESHOLD_KEYS = frozenset(
    {"pool_warning", "error_rate_factor", "error_rate_min", "outage_error_rate"}
)
WELL_KNOWN_SIGNALS = ("error_rate", "error_count", "pool_in_use", "pool_max")
PAGERDUTY_RESOLVE_POLICIES = frozenset({"resolve", "record_only"})

# The recorder's own series (histograms by their base name).
COUNTERS = frozenset(
    {
        "recorder_webhooks_received_total",
        "recorder_incidents_opened_total",
        "recorder_sampler_queries_total",
    }
)
GAUGES = frozenset(
    {"recorder_incidents_open", "recorder_storage_connections", "recorder_build_info"}
)
HISTOGRAMS = frozenset(
    {
        "recorder_webhook_duration_seconds",
        "recorder_incident_time_to_detect_seconds",
        "recorder_incident_time_to_acknowledge_seconds",
        "recorder_incident_time_to_resolve_seconds",
        "recorder_sampler_query_duration_seconds",
    }
)
WEBHOOK_OUTCOMES = frozenset({"stored", "duplicate", "ignored", "rejected", "error"})
# Series a recorder dashboard or alert may use besides the recorder's own.
STANDARD_SERIES = frozenset({"up"})


def known_series() -> frozenset[str]:
    """Every series name the recorder exports, histogram parts included."""
    parts = {f"{h}{suffix}" for h in HISTOGRAMS for suffix in ("_bucket", "_sum", "_count")}
    return COUNTERS | GAUGES | frozenset(parts)
