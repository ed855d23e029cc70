"""The demo scenario: a service goes normal → fault → recovery under real Prometheus and
Alertmanager, and the recorder writes up the incident. Used by `recorder demo` and e2e tests.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from recorder.demo.service import FAULT, NORMAL, RECOVERY, SimulatedService
from recorder.demo.stack import (
    ALERTMANAGER_BINARIES,
    DEMO_RULES,
    PROMETHEUS_BINARIES,
    AlertmanagerServer,
    PrometheusServer,
    RecorderServer,
    find_binary,
    free_port,
)

DEMO_TOKEN = "demo-token"  # noqa: S105 - a throw-away token for a loopback-only demo
ONCALL = "Jane Doe"
SILENCE_COMMENT = "On it: checkout's database pool is exhausted"


def demo_config(prometheus_url: str) -> str:
    """Recorder config for the demo: one incident per service, 1 s sampling, short windows.

    The range windows are 5 s because everything scrapes every second; with the default
    [1m] a 20-second fault would be smeared over a minute.
    """
    service = '{service="{{service}}"}'
    errors = '{service="{{service}}",status=~"5.."}'
    signals = {
        "error_rate": f"sum(rate(http_requests_total{errors}[5s])) / "
        f"sum(rate(http_requests_total{service}[5s]))",
        "error_count": f"sum(increase(http_requests_total{errors}[5s])) * 12",
        "pool_in_use": f"sum(db_pool_connections_in_use{service})",
        "pool_max": f"sum(db_pool_connections_max{service})",
    }
    lines = [
        'correlate_by = ["service"]',
        f'prometheus_url = "{prometheus_url}"',
        'silence_poll = "1s"',
        "[sampling]",
        'interval = "1s"',
        'baseline_window = "30s"',
        'recovery_tail = "10s"',
    ]
    for name, query in signals.items():
        lines += ["[[signals]]", f'name = "{name}"', f"query = '{query}'"]
    return "\n".join(lines) + "\n"


@dataclass
class Timings:
    """How long each phase lasts, and how long to wait for the recorder to notice."""

    normal: float = 15.0
    fault: float = 25.0
    deadline: float = 60.0


class DemoStack:
    """The simulated service, Prometheus, Alertmanager and the recorder, on loopback."""

    def __init__(self, workdir: Path, *, database_url: str, service: str = "checkout") -> None:
        self.workdir = workdir
        self.database_url = database_url
        self.service = SimulatedService(service)
        self.prometheus = PrometheusServer(
            find_binary(PROMETHEUS_BINARIES), workdir / "prometheus", [], rules=DEMO_RULES
        )
        self.recorder = RecorderServer(workdir / "recorder")
        self.alertmanager = AlertmanagerServer(
            find_binary(ALERTMANAGER_BINARIES), workdir / "alertmanager", "", token=DEMO_TOKEN
        )

    def start(self) -> None:
        """Start everything; each process is ready before the next one needs it."""
        port = self.service.start()
        self.prometheus.port = free_port()
        self.alertmanager.port = free_port()
        self.recorder.port = free_port()
        self.prometheus.targets = [f"127.0.0.1:{port}"]
        self.prometheus.alertmanager_port = self.alertmanager.port
        self.alertmanager.webhook_url = f"{self.recorder.url}/webhooks/alertmanager"
        config = self.workdir / "recorder.toml"
        self.workdir.mkdir(parents=True, exist_ok=True)
        config.write_text(demo_config(self.prometheus.url))
        self.recorder.config = config
        self.recorder.env = {
            "RECORDER_DATABASE_URL": self.database_url,
            "RECORDER_ALERTMANAGER_TOKEN": DEMO_TOKEN,
            # Silences the on-call makes in this Alertmanager acknowledge incidents.
            "RECORDER_ALERTMANAGER_URL": self.alertmanager.url,
        }
        self.recorder.start()
        self.alertmanager.start()
        self.prometheus.start()

    def stop(self) -> None:
        """Stop every process by its pid, newest first."""
        for process in (self.prometheus, self.alertmanager, self.recorder):
            process.stop()
        self.service.stop()

    def get(self, path: str) -> Any:
        """GET a JSON document from the recorder."""
        with urllib.request.urlopen(self.recorder.url + path, timeout=5) as resp:  # noqa: S310
            return json.loads(resp.read())

    def get_text(self, path: str) -> str:
        with urllib.request.urlopen(self.recorder.url + path, timeout=5) as resp:  # noqa: S310
            body: bytes = resp.read()
            return body.decode()

    def wait_for(self, what: str, check: Callable[[], Any], deadline: float) -> Any:
        """Poll `check()` until it returns something truthy; fail naming `what`."""
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                result = check()
            except (OSError, urllib.error.URLError):
                result = None
            if result:
                return result
            time.sleep(0.25)
        raise TimeoutError(f"timed out after {deadline:g} s waiting for {what}")

    def silence(self, author: str, comment: str, matchers: list[dict[str, Any]]) -> str:
        """Create an Alertmanager silence for an hour, as `amtool silence add` would; its id."""
        now = datetime.now(UTC)
        body = {
            "matchers": matchers,
            "startsAt": now.isoformat(),
            "endsAt": (now + timedelta(hours=1)).isoformat(),
            "createdBy": author,
            "comment": comment,
        }
        request = urllib.request.Request(  # noqa: S310 - our own loopback Alertmanager
            self.alertmanager.url + "/api/v2/silences",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=5) as resp:  # noqa: S310
            silence_id: str = json.loads(resp.read())["silenceID"]
            return silence_id

    def silence_matchers(self) -> list[dict[str, Any]]:
        """What the on-call silences: the demo's alert rules (a regex), on this service."""
        matchers: list[dict[str, Any]] = [
            {
                "name": "alertname",
                "value": "HighErrorRate|DatabasePoolSaturated",
                "isRegex": True,
                "isEqual": True,
            }
        ]
        if self.service.service:
            matchers.append({"name": "service", "value": self.service.service, "isRegex": False})
        return matchers

    def expire_silence(self, silence_id: str) -> None:
        """End a silence now (`amtool silence expire`), so the resolution is notified."""
        request = urllib.request.Request(  # noqa: S310 - our own loopback Alertmanager
            f"{self.alertmanager.url}/api/v2/silence/{silence_id}", method="DELETE"
        )
        with urllib.request.urlopen(request, timeout=5):  # noqa: S310
            pass

    def incidents(self, status: str | None = None) -> list[dict[str, Any]]:
        query = f"?status={status}" if status else ""
        found: list[dict[str, Any]] = self.get(f"/api/v1/incidents{query}")["incidents"]
        return found

    def run(self, timings: Timings, progress: Callable[[str], None]) -> dict[str, float]:
        """Drive normal → fault → recovery; returns the unix times of each switch."""
        marks = {"normal": self.service.set_phase(NORMAL)}
        progress(f"normal traffic for {timings.normal:g} s (0.1 % errors, pool 20/100)")
        time.sleep(timings.normal)  # the scenario's normal phase, not a wait for a result
        marks["fault"] = self.service.set_phase(FAULT)
        progress("fault: pool at 100/100, 98 % of requests failing")
        self.wait_for("the recorder to open an incident", self.incidents, timings.deadline)
        progress("incident opened by Alertmanager's notification")
        silence_id = self.silence(ONCALL, SILENCE_COMMENT, self.silence_matchers())
        progress(f"{ONCALL} silences the service's alerts in Alertmanager")
        self.wait_for(
            "the silence to acknowledge the incident",
            lambda: [i for i in self.incidents() if i["acknowledged_at"]],
            timings.deadline,
        )
        progress(f"incident acknowledged through the silence, by {ONCALL}")
        remaining = timings.fault - (time.time() - marks["fault"])
        time.sleep(max(0.0, remaining))  # the rest of the scenario's fault phase
        # The fix is in: the on-call lifts the silence, so Alertmanager notifies the
        # resolution (silenced alerts' resolutions are muted too).
        self.expire_silence(silence_id)
        marks["recovery"] = self.service.set_phase(RECOVERY)
        progress("recovery: errors back to 0.1 %, pool 20/100; waiting for resolution")
        self.wait_for(
            "the incident to resolve",
            lambda: self.incidents("resolved"),
            timings.deadline,
        )
        progress("incident resolved")
        return marks
