"""deploy/compose/docker-compose.yml: the demo stack is wired together correctly."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.deploy import contract
from tests.deploy.tools import load_yaml

COMPOSE_FILE = contract.COMPOSE / "docker-compose.yml"


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = load_yaml(COMPOSE_FILE)["services"]
    return found


def host_path(volume: str) -> Path | None:
    """The host side of a bind mount, resolved like compose does; None for named volumes."""
    source = volume.split(":", maxsplit=1)[0]
    if not source.startswith("."):
        return None
    return (COMPOSE_FILE.parent / source).resolve()


def test_stack_has_the_documented_services() -> None:
    """PostgreSQL, the recorder, Prometheus, Alertmanager and the demo service."""
    assert set(services()) == {"postgres", "recorder", "prometheus", "alertmanager", "demo-service"}


def test_recorder_is_built_from_the_repository_dockerfile() -> None:
    """The build context is the repository root, where the Dockerfile lives."""
    build = services()["recorder"]["build"]
    context = (COMPOSE_FILE.parent / build["context"]).resolve()
    assert context == contract.ROOT
    assert (context / build["dockerfile"]) == contract.DOCKERFILE


def test_recorder_uses_the_compose_postgres() -> None:
    """RECORDER_DATABASE_URL names the postgres service, its user, password and database."""
    recorder = services()["recorder"]
    postgres = services()["postgres"]
    url = urlsplit(recorder["environment"]["RECORDER_DATABASE_URL"])
    assert url.scheme == "postgresql"
    assert (url.hostname, url.port) == ("postgres", 5432)
    assert url.username == postgres["environment"]["POSTGRES_USER"]
    assert url.password == postgres["environment"]["POSTGRES_PASSWORD"]
    assert url.path.lstrip("/") == postgres["environment"]["POSTGRES_DB"]


def test_startup_order_waits_for_health() -> None:
    """The recorder waits for a healthy database; every awaited service has a check."""
    all_services = services()
    assert all_services["recorder"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, service in all_services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            if condition["condition"] == "service_healthy" and dependency != "recorder":
                assert "test" in all_services[dependency]["healthcheck"], (name, dependency)


def test_recorder_listens_on_the_contract_port_on_loopback_only() -> None:
    """Port 9470, published on 127.0.0.1 only (the demo has demo credentials)."""
    recorder = services()["recorder"]
    assert recorder["environment"]["RECORDER_LISTEN"] == f"0.0.0.0:{contract.PORT}"
    assert recorder["ports"] == [f"127.0.0.1:{contract.PORT}:{contract.PORT}"]
    for service in services().values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


def test_bind_mounts_exist_and_carry_the_deploy_configs() -> None:
    """Prometheus and Alertmanager mount deploy/, the recorder its demo TOML."""
    mounted: dict[str, Path] = {}
    for name, service in services().items():
        for volume in service.get("volumes", []):
            path = host_path(volume)
            if path is not None:
                assert path.exists(), (name, volume)
                mounted[volume.split(":")[1]] = path
    assert mounted["/etc/prometheus"] == contract.PROMETHEUS
    assert (
        mounted["/etc/alertmanager/alertmanager.yml"] == contract.ALERTMANAGER / "alertmanager.yml"
    )
    assert mounted["/etc/recorder/recorder.toml"] == contract.COMPOSE_TOML
    config = services()["recorder"]["environment"][contract.CONFIG_ENV]
    assert config == "/etc/recorder/recorder.toml"


def test_alertmanager_token_file_matches_the_recorder_token() -> None:
    """The bearer token Alertmanager reads from its file is the one the recorder expects."""
    alertmanager = load_yaml(contract.ALERTMANAGER / "alertmanager.yml")
    webhook = alertmanager["receivers"][0]["webhook_configs"][0]
    in_container = Path(webhook["http_config"]["authorization"]["credentials_file"])
    mounts = {
        Path(volume.split(":")[1]): host_path(volume)
        for volume in services()["alertmanager"]["volumes"]
        if host_path(volume) is not None
    }

    def on_host(path: Path) -> Path:
        mount = next(m for m in mounts if path.is_relative_to(m))
        source = mounts[mount]
        assert source is not None
        return source / path.relative_to(mount)

    token = on_host(in_container).read_text(encoding="utf-8").strip()
    assert token == services()["recorder"]["environment"]["RECORDER_ALERTMANAGER_TOKEN"]
    routing_key = alertmanager["receivers"][1]["pagerduty_configs"][0]["routing_key_file"]
    assert on_host(Path(routing_key)).is_file()


def test_demo_service_runs_the_demo_module_without_the_recorder_healthcheck() -> None:
    """The demo app reuses the recorder image with its own entrypoint, on the scraped port."""
    demo = services()["demo-service"]
    assert demo["image"] == services()["recorder"]["image"]
    assert demo["entrypoint"] == ["python", "-m", "recorder.demo.compose_service"]
    assert demo["healthcheck"] == {"disable": True}
    prometheus = load_yaml(contract.PROMETHEUS / "prometheus.yml")
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    targets = [t for sc in jobs["demo-service"]["static_configs"] for t in sc["targets"]]
    assert targets == ["demo-service:8000"]


def test_recorder_samples_the_compose_prometheus() -> None:
    """RECORDER_PROMETHEUS_URL points at the prometheus service."""
    url = urlsplit(services()["recorder"]["environment"]["RECORDER_PROMETHEUS_URL"])
    assert (url.hostname, url.port) == ("prometheus", 9090)
    assert "prometheus" in services()


def test_recorder_reads_silences_from_the_alertmanager_service() -> None:
    """RECORDER_ALERTMANAGER_URL points at the alertmanager service's API port."""
    url = urlsplit(services()["recorder"]["environment"]["RECORDER_ALERTMANAGER_URL"])
    assert url.hostname == "alertmanager"
    assert f"{url.port}:{url.port}" in " ".join(services()["alertmanager"]["ports"])
