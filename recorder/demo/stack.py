"""Real Prometheus and Alertmanager processes on loopback ports, for the demo and e2e tests.

Each runs from Debian's binaries with its own config and data directory, is waited for
with a deadline on its readiness endpoint, and is stopped by its pid.
"""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

PROMETHEUS_BINARIES = ("prometheus",)
ALERTMANAGER_BINARIES = ("prometheus-alertmanager", "alertmanager")
INSTALL_HINT = (
    "install them with `apt-get install prometheus prometheus-alertmanager` "
    "(Debian/Ubuntu) or put both binaries on PATH"
)


class MissingBinary(RuntimeError):
    """A binary the demo needs is not on PATH; the message says how to install it."""


class ProcessFailed(RuntimeError):
    """A process exited or did not become ready; carries the tail of its log."""


def find_binary(names: tuple[str, ...]) -> str:
    """The first of `names` on PATH, or MissingBinary with an install hint."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    raise MissingBinary(f"{' or '.join(names)} not found on PATH: {INSTALL_HINT}")


def free_port() -> int:
    """A loopback port that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ManagedProcess:
    """A child process with a log file, a readiness URL and stop-by-pid."""

    name = "process"
    ready_path = "/-/ready"

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.log = workdir / f"{self.name}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def child_env(self) -> dict[str, str] | None:
        """Environment of the child; None inherits ours."""
        return None

    def start(self, *, ready_within: float = 30.0) -> None:
        """Start on a free port (the same one again after a stop or kill) and wait until
        ready. A port taken between choosing and binding it is replaced, up to 3 times."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        chosen = not self.port
        for _attempt in range(3):
            if not self.port:
                self.port = free_port()
            if self._launch(ready_within):
                return
            self.stop()
            if not (chosen and "address already in use" in self.log_tail()):
                break
            self.port = 0
        raise ProcessFailed(f"{self.name} did not become ready:\n{self.log_tail()}")

    def _launch(self, ready_within: float) -> bool:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 - our own binaries and paths
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
                env=self.child_env(),
            )
        deadline = time.monotonic() + ready_within
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            if self._ready():
                return True
            time.sleep(0.1)
        return False

    def _ready(self) -> bool:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
        try:
            conn.request("GET", self.ready_path)
            return conn.getresponse().status == 200
        except OSError:
            return False
        finally:
            conn.close()

    def log_tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def kill(self) -> None:
        """SIGKILL by pid, as a crash would; the port and data stay for a restart."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM by pid, SIGKILL after 10 s."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


DEMO_RULES = """groups:
  - name: demo
    interval: 1s
    rules:
      - alert: HighErrorRate
        expr: |
          sum by (service) (rate(http_requests_total{status=~"5.."}[5s]))
            / sum by (service) (rate(http_requests_total[5s])) > 0.05
        labels:
          severity: critical
        annotations:
          summary: "{{ $labels.service }} is failing {{ $value | humanizePercentage }} of requests"
      - alert: DatabasePoolSaturated
        expr: |
          sum by (service) (db_pool_connections_in_use)
            / sum by (service) (db_pool_connections_max) >= 0.9
        labels:
          severity: warning
        annotations:
          summary: "{{ $labels.service }} database pool at {{ $value | humanizePercentage }}"
"""


class PrometheusServer(ManagedProcess):
    """Prometheus scraping `targets` every second, evaluating `rules`, alerting to
    `alertmanager_port` when given."""

    name = "prometheus"

    def __init__(
        self,
        binary: str,
        workdir: Path,
        targets: list[str],
        *,
        rules: str = "",
        alertmanager_port: int | None = None,
    ) -> None:
        super().__init__(binary, workdir)
        self.targets = targets
        self.rules = rules
        self.alertmanager_port = alertmanager_port

    def command(self) -> list[str]:
        config = self.workdir / "prometheus.yml"
        lines = [
            "global:",
            "  scrape_interval: 1s",
            "  evaluation_interval: 1s",
            "scrape_configs:",
            "  - job_name: service",
            "    static_configs:",
            f"      - targets: [{', '.join(repr(t) for t in self.targets)}]",
        ]
        if self.rules:
            (self.workdir / "rules.yml").write_text(self.rules)
            lines += ["rule_files: [rules.yml]"]
        if self.alertmanager_port:
            lines += [
                "alerting:",
                "  alertmanagers:",
                "    - static_configs:",
                f"        - targets: ['127.0.0.1:{self.alertmanager_port}']",
            ]
        config.write_text("\n".join(lines) + "\n")
        return [
            self.binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.workdir / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--log.level=warn",
        ]


class AlertmanagerServer(ManagedProcess):
    """Alertmanager with fast timers, sending every group to the recorder's webhook."""

    name = "alertmanager"

    def __init__(
        self,
        binary: str,
        workdir: Path,
        webhook_url: str,
        *,
        token: str | None = None,
        group_by: tuple[str, ...] = ("alertname",),
    ) -> None:
        super().__init__(binary, workdir)
        self.webhook_url = webhook_url
        self.token = token
        self.group_by = group_by

    def command(self) -> list[str]:
        auth = ""
        if self.token:
            (self.workdir / "recorder-token").write_text(self.token)
            auth = (
                "        http_config:\n"
                "          authorization:\n"
                "            type: Bearer\n"
                f"            credentials_file: {self.workdir / 'recorder-token'}\n"
            )
        config = self.workdir / "alertmanager.yml"
        config.write_text(
            "route:\n"
            "  receiver: recorder\n"
            f"  group_by: [{', '.join(self.group_by)}]\n"
            "  group_wait: 1s\n"
            "  group_interval: 1s\n"
            "  repeat_interval: 1h\n"
            "receivers:\n"
            "  - name: recorder\n"
            "    webhook_configs:\n"
            f"      - url: {self.webhook_url}\n"
            "        send_resolved: true\n"
            "        max_alerts: 0\n" + auth
        )
        return [
            self.binary,
            f"--config.file={config}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{self.port}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]


class RecorderServer(ManagedProcess):
    """This recorder, `python -m recorder serve`, with the given config file and env."""

    name = "recorder"
    ready_path = "/readyz"

    def __init__(
        self, workdir: Path, *, config: Path | None = None, env: dict[str, str] | None = None
    ) -> None:
        super().__init__(sys.executable, workdir)
        self.config = config
        self.env = env or {}

    def command(self) -> list[str]:
        cmd = [self.binary, "-m", "recorder", "serve", "--listen", f"127.0.0.1:{self.port}"]
        if self.config is not None:
            cmd += ["--config", str(self.config)]
        return cmd

    def child_env(self) -> dict[str, str]:
        # The child reads its settings from the environment, like in production.
        return {**os.environ, "RECORDER_LOG_FORMAT": "json", **self.env}
