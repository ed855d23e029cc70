"""`recorder demo`: a new user gets a filled report, or is told what to install."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_binary


def run_demo(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "recorder", "demo", "--workdir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=170,
        env=env,
        check=False,
    )


def test_demo_without_binaries_says_what_to_install(tmp_path: Path) -> None:
    """With no prometheus on PATH the demo exits 1 and names the Debian packages."""
    env = {**os.environ, "PATH": str(tmp_path)}
    result = run_demo(tmp_path, env)
    assert result.returncode == 1
    assert "apt-get install prometheus prometheus-alertmanager" in result.stderr
    assert result.stdout == ""


def test_demo_prints_the_path_of_a_filled_report(tmp_path: Path) -> None:
    """The demo runs the real stack and prints a report with figures from samples."""
    require_binary("prometheus")
    require_binary("prometheus-alertmanager", "alertmanager")
    result = run_demo(tmp_path, dict(os.environ))
    assert result.returncode == 0, result.stderr[-3000:]
    path = Path(result.stdout.strip().splitlines()[-1])
    assert path.is_file()
    report = path.read_text(encoding="utf-8")
    assert report.startswith("# Incident Report: ")
    assert "on checkout" in report
    assert "**Status**: Resolved" in report
    assert "- **Normal error rate**: 0.1%" in report
    assert "- **Pool peak usage**: 100/100 connections" in report
    assert "[demo] incident resolved" in result.stderr
