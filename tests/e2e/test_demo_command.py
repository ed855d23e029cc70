"""`recorder demo`: a new user gets a filled report, or is told what to install."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.conftest import require_binary

SIGNALS = ("error_rate", "error_count", "pool_in_use", "pool_max")


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
    """The demo runs the real stack and prints a report with figures from samples; the
    Markdown, HTML and chart SVGs it saves link each other relatively, never to its port."""
    require_binary("prometheus")
    require_binary("prometheus-alertmanager", "alertmanager")
    result = run_demo(tmp_path, dict(os.environ))
    assert result.returncode == 0, result.stderr[-3000:]
    markdown_path, html_path = map(Path, result.stdout.strip().splitlines()[-2:])
    assert html_path.suffix == ".html"
    assert html_path.parent == markdown_path.parent == tmp_path / "demo"
    recorder_url = re.search(r"recorder at (http://\S+),", result.stderr)
    assert recorder_url is not None
    html = html_path.read_text(encoding="utf-8")
    # pool_max never changes in the demo: one line ("... throughout"), not a chart.
    assert html.count("<svg") >= 3
    assert "<img" not in html
    assert recorder_url[1] not in html
    path = markdown_path
    report = path.read_text(encoding="utf-8")
    links = re.findall(r"!\[[^\]]*\]\(([^)]*)\)", report)
    assert sorted(links) == [f"charts/{s}.svg" for s in sorted(SIGNALS) if s != "pool_max"]
    assert "- pool_max: 100 connections throughout" in report
    for link in links:
        assert (path.parent / link).read_text(encoding="utf-8").startswith("<svg")
    assert recorder_url[1] not in report
    assert report.startswith("# Incident Report: ")
    assert "on checkout" in report
    assert "**Status**: Resolved" in report
    assert "- **Normal error rate**: 0.1%" in report
    assert "- **Pool peak usage**: 100/100 connections" in report
    assert "[demo] incident resolved" in result.stderr
    # Acknowledged through Jane Doe's Alertmanager silence: a time to acknowledge, not unknown.
    assert "[demo] incident acknowledged through the silence, by Jane Doe" in result.stderr
    tta = re.search(r"- \*\*Time to acknowledge\*\*: (.+)", report)
    assert tta is not None
    assert re.fullmatch(r"\d+ (minutes?|seconds?)( \d+ seconds?)?", tta[1]), tta[1]
    assert "Silenced by Jane Doe until " in report
