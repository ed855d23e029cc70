"""Running the real `recorder serve` as a child process: start, wait for "listening on",
signal it, collect its exit code and stderr. Every wait polls with a deadline."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

LISTENING = "listening on"


def free_port() -> int:
    """A loopback port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def recorder_env(**overrides: str) -> dict[str, str]:
    """The environment for a child recorder: no RECORDER_* from the caller, JSON logs."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECORDER_")}
    env.update({"RECORDER_LOG_FORMAT": "json", "RECORDER_LOG_LEVEL": "info"})
    env.update(overrides)
    return env


def run_recorder(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run one `recorder` command to completion."""
    return subprocess.run(
        [sys.executable, "-m", "recorder", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Daemon:
    """One `recorder serve` child process and everything it wrote to stderr."""

    process: subprocess.Popen[str]
    port: int
    lines: list[str] = field(default_factory=list)
    _reader: threading.Thread | None = None

    @classmethod
    def start(
        cls, *, port: int, env: dict[str, str], cwd: Path, args: tuple[str, ...] = ()
    ) -> Daemon:
        process = subprocess.Popen(
            [sys.executable, "-m", "recorder", "serve", "--listen", f"127.0.0.1:{port}", *args],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        daemon = cls(process, port)
        daemon._reader = threading.Thread(target=daemon._read, daemon=True)
        daemon._reader.start()
        return daemon

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)

    def wait_listening(self, within: float = 30.0) -> None:
        """Until the "listening on" line appears; fails if the process exits first."""
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if any(LISTENING in line for line in self.lines):
                return
            if self.process.poll() is not None:
                self.join()
                raise AssertionError(f"exited {self.process.returncode}:\n{self.stderr}")
            time.sleep(0.05)
        raise AssertionError(f"no {LISTENING!r} within {within}s:\n{self.stderr}")

    def wait_exit(self, within: float = 30.0) -> int:
        """The exit code, waiting at most `within` seconds."""
        code = self.process.wait(timeout=within)
        self.join()
        return code

    def join(self) -> None:
        """Wait for stderr to be read to its end, then close it."""
        if self._reader is not None:
            self._reader.join(timeout=5)
        if self.process.stderr is not None and self.process.poll() is not None:
            self.process.stderr.close()

    def terminate(self) -> None:
        """SIGTERM, as Kubernetes and systemd stop it."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        """SIGKILL this child (by pid) if it still runs; for cleanup after failures."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.join()

    def status(self, path: str, timeout: float = 5.0) -> int:
        """HTTP status of GET `path` (0 when the connection fails)."""
        try:
            with urllib.request.urlopen(self.url + path, timeout=timeout) as response:  # noqa: S310
                status: int = response.status
                return status
        except urllib.error.HTTPError as exc:
            return exc.code
        except OSError:
            return 0

    def wait_status(self, path: str, expected: int, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        last = -1
        while time.monotonic() < deadline:
            last = self.status(path)
            if last == expected:
                return
            time.sleep(0.1)
        raise AssertionError(f"GET {path} answered {last}, not {expected}:\n{self.stderr}")
