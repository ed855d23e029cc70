"""Settings: one pydantic model read once; flag > environment > TOML file > default."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    BaseModel,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from recorder.core.lifecycle import DEFAULT_SEVERITY_MAP
from recorder.prometheus.selection import (
    SignalConfigError,
    select_signals,
)
from recorder.prometheus.signals import DEFAULT_SERVICE_LABELS, DEFAULT_SIGNALS, Signal
from recorder.settings_sections import (
    Duration,
    SamplingSettings,
    SignalSettings,
    Strict,
    ThresholdSettings,
)
from recorder.settings_snapshot import dump_snapshot, overlay_snapshot

# Environment variables of the contract; anything else is ignored.
ENV_VARS: Mapping[str, str] = {
    "RECORDER_LISTEN": "listen",
    "RECORDER_DATABASE_URL": "database_url",
    "RECORDER_PROMETHEUS_URL": "prometheus_url",
    "RECORDER_ALERTMANAGER_TOKEN": "alertmanager_token",
    "RECORDER_ALERTMANAGER_URL": "alertmanager_url",
    "RECORDER_PAGERDUTY_SECRET": "pagerduty_secret",
    "RECORDER_PAGERDUTY_V2_BASIC_AUTH": "pagerduty_v2_basic_auth",
    "RECORDER_API_TOKEN": "api_token",
    "RECORDER_API_READ_AUTH": "api_read_auth",
    "RECORDER_LOG_FORMAT": "log_format",
    "RECORDER_LOG_LEVEL": "log_level",
    "RECORDER_EXTERNAL_URL": "external_url",
}
CONFIG_ENV = "RECORDER_CONFIG"
# Secrets come from the environment (or flags) only, never from the shared TOML file.
SECRET_FIELDS = frozenset(
    {"alertmanager_token", "pagerduty_secret", "pagerduty_v2_basic_auth", "api_token"}
)

_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")


class SettingsError(Exception):
    """Configuration that cannot be used; the message says which setting and why."""


class Settings(Strict):
    """Every setting of the recorder; see deploy/recorder.example.toml."""

    listen: str = "127.0.0.1:9470"
    database_url: str = "sqlite:///./recorder.db"
    prometheus_url: str | None = None
    alertmanager_token: SecretStr | None = None
    pagerduty_secret: SecretStr | None = None
    pagerduty_v2_basic_auth: SecretStr | None = None
    api_token: SecretStr | None = None
    api_read_auth: bool = False
    log_format: Literal["json", "console"] | None = None
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    external_url: str | None = None
    alertmanager_url: str | None = None
    """Alertmanager API base URL(s), comma-separated for an HA cluster: silences are read
    from the first that answers and count as acknowledgment (recorder.silences)."""
    silence_poll: Duration = timedelta(seconds=15)

    correlate_by: tuple[str, ...] = ("group_key",)
    reopen_window: Duration = timedelta(minutes=10)
    slo_target: float | None = Field(default=0.999, gt=0, lt=1)
    severity: dict[str, str] = Field(default_factory=lambda: dict(DEFAULT_SEVERITY_MAP))
    sampling: SamplingSettings = SamplingSettings()
    signals: tuple[SignalSettings, ...] | None = None
    """`[[signals]]` as configured; None (not configured) samples the example signals
    unless `[sampling] presets` is set. See `effective_signals`."""
    thresholds: ThresholdSettings = ThresholdSettings()
    service_labels: tuple[str, ...] = DEFAULT_SERVICE_LABELS
    pagerduty_resolve_policy: Literal["resolve", "record_only"] = "resolve"
    body_limit: int = Field(default=16 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # Graceful shutdown: how long requests in flight may still take after SIGTERM, and an
    # optional pause with /readyz at 503 before the listener closes. Together (with the
    # storage close) they must fit the orchestrator's grace period: Kubernetes' default
    # is 30 s, see deploy/kubernetes/deployment.yaml.
    shutdown_timeout: Duration = timedelta(seconds=10)
    shutdown_delay: Duration = timedelta(0)

    @field_validator("shutdown_timeout")
    @classmethod
    def _shutdown_timeout(cls, value: timedelta) -> timedelta:
        if not timedelta(0) < value <= timedelta(minutes=10):
            raise ValueError("must be longer than 0s and at most 10m")
        return value

    @field_validator("shutdown_delay")
    @classmethod
    def _shutdown_delay(cls, value: timedelta) -> timedelta:
        if not timedelta(0) <= value <= timedelta(minutes=5):
            raise ValueError("must be between 0s and 5m")
        return value

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("must be host:port, e.g. 127.0.0.1:9470 or 0.0.0.0:9470")
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("must start with sqlite:/// (embedded) or postgresql:// (PostgreSQL)")
        return value

    @field_validator("prometheus_url", "external_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// base URL")
        return value.rstrip("/") if value else value

    @field_validator("alertmanager_url")
    @classmethod
    def _alertmanager_urls(cls, value: str | None) -> str | None:
        if value is None:
            return None
        urls = [url.strip() for url in value.split(",") if url.strip()]
        if not urls:
            raise ValueError("must name at least one http:// or https:// base URL")
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http:// or https:// base URL")
        return ",".join(url.rstrip("/") for url in urls)

    @field_validator("silence_poll")
    @classmethod
    def _silence_poll(cls, value: timedelta) -> timedelta:
        if value < timedelta(milliseconds=100):
            raise ValueError("must be at least 100ms")
        return value

    @property
    def alertmanager_urls(self) -> list[str]:
        """The Alertmanager base URLs, in the order they are tried ([] when unset)."""
        return self.alertmanager_url.split(",") if self.alertmanager_url else []

    def public_url(self, fallback: str | None = None) -> str:
        """Where people reach this recorder: external_url, else `fallback`, else listen."""
        return self.external_url or fallback or f"http://{self.listen}"

    @field_validator("correlate_by")
    @classmethod
    def _correlate_by(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError('must name at least one label, or be ["group_key"]')
        if "group_key" in value and len(value) > 1:
            raise ValueError('"group_key" cannot be combined with labels')
        return value

    @field_validator("service_labels")
    @classmethod
    def _service_labels(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError('must name at least one label, e.g. ["service", "job"]')
        for label in value:
            if not _LABEL_NAME.match(label):
                raise ValueError(
                    f"{label!r} is not a Prometheus label name (letters, digits and _)"
                )
        return value

    @model_validator(mode="after")
    def _usable_signals(self) -> Settings:
        try:
            self.effective_signals()
        except SignalConfigError as exc:
            raise ValueError(str(exc)) from None
        return self

    def effective_signals(self) -> tuple[Signal, ...]:
        """The signals sampled: `[sampling] presets` and `[[signals]]` combined. The
        example signals apply only while neither is configured."""
        entries = self.signals
        if entries is None:
            entries = () if self.sampling.presets else _EXAMPLE_SIGNALS
        return select_signals(self.sampling.presets, [e.entry() for e in entries])

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])

    @property
    def pagerduty_secrets(self) -> list[str]:
        if self.pagerduty_secret is None:
            return []
        return [s.strip() for s in self.pagerduty_secret.get_secret_value().split(",") if s.strip()]

    def figure_snapshot(self) -> str:
        """The settings that shape a report's figures, as canonical JSON: what an incident
        keeps when it resolves (see `recorder.core.frozen`). Durations are seconds."""
        return dump_snapshot(self.model_dump(mode="python"))

    def with_figure_snapshot(self, snapshot: str | None) -> Settings:
        """These settings with an incident's frozen ones in force (unchanged for None);
        see `recorder.settings_snapshot.overlay_snapshot`."""
        if snapshot is None:
            return self
        tables = {
            name: type(value).model_fields.keys()
            for name, value in self
            if isinstance(value, BaseModel)
        }
        restored = overlay_snapshot(
            self.model_dump(mode="python"), snapshot, type(self).model_validate, tables
        )
        return self if restored is None else restored

    def masked(self) -> dict[str, Any]:
        """Effective settings as plain data, secrets and database passwords masked."""
        data = self.model_dump(mode="json")
        for name in SECRET_FIELDS:
            if data.get(name) is not None:
                data[name] = "***"
        data["effective_signals"] = [
            {"name": s.name, "query": s.query, "from": s.origin} for s in self.effective_signals()
        ]
        data["database_url"] = mask_url(self.database_url)
        if self.prometheus_url:
            data["prometheus_url"] = mask_url(self.prometheus_url)
        if self.alertmanager_url:
            data["alertmanager_url"] = ",".join(map(mask_url, self.alertmanager_urls))
        return data


# The interface's example signals, sampled while neither presets nor [[signals]] are set.
_EXAMPLE_SIGNALS = tuple(SignalSettings(name=s.name, query=s.query) for s in DEFAULT_SIGNALS)


def mask_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _format_errors(error: ValidationError, origin: Mapping[str, str]) -> str:
    lines = []
    for item in error.errors():
        loc = ".".join(str(p) for p in item["loc"]) or "(top level)"
        where = origin.get(str(item["loc"][0]) if item["loc"] else "", "")
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown setting (check the spelling; see deploy/recorder.example.toml)"
        lines.append(f"  {loc}: {message}" + (f" [from {where}]" if where else ""))
    return "invalid configuration:\n" + "\n".join(lines)


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML config file as a dict; secrets in it are refused."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except FileNotFoundError as exc:
        raise SettingsError(f"config file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"config file {path} is not valid TOML: {exc}") from exc
    secrets = sorted(SECRET_FIELDS & data.keys())
    if secrets:
        raise SettingsError(
            f"config file {path} holds secrets ({', '.join(secrets)}): set them in the "
            "environment instead (RECORDER_*), so the file can be shared"
        )
    return data


def load_settings(
    *,
    environ: Mapping[str, str] | None = None,
    config_path: str | None = None,
    flags: Mapping[str, Any] | None = None,
) -> Settings:
    """Read settings once: flags over environment over TOML file over defaults."""
    env = os.environ if environ is None else environ
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    path = config_path or env.get(CONFIG_ENV)
    if path:
        for key, value in read_toml(Path(path)).items():
            merged[key] = value
            origin[key] = str(path)
    for var, name in ENV_VARS.items():
        if var in env and env[var] != "":
            merged[name] = env[var]
            origin[name] = var
    for name, value in (flags or {}).items():
        if value is not None:
            merged[name] = value
            origin[name] = f"--{name.replace('_', '-')}"
    try:
        return Settings.model_validate(merged)
    except ValidationError as exc:
        raise SettingsError(_format_errors(exc, origin)) from None
