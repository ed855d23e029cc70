"""`recorder demo`: run the scenario locally and print where the filled report is."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from recorder.demo.report_files import CHARTS_DIR, sampled_signals, save_report
from recorder.demo.scenario import DemoStack, Timings
from recorder.demo.stack import MissingBinary, ProcessFailed
from recorder.settings import Settings


def _say(message: str) -> None:
    print(f"[demo] {message}", file=sys.stderr, flush=True)


def run_demo(settings: Settings, *, workdir: str | None = None) -> int:
    """Run normal → fault → recovery against real Prometheus and Alertmanager (about a
    minute), then write the incident's report (Markdown, HTML, chart SVGs) into the working
    directory and print the Markdown's path, then the HTML's."""
    base = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="recorder-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    database_url = (
        settings.database_url
        if "database_url" in settings.model_fields_set
        else f"sqlite:///{base / 'demo.db'}"
    )
    try:
        stack = DemoStack(base, database_url=database_url)
    except MissingBinary as exc:
        print(f"recorder demo: {exc}", file=sys.stderr)
        return 1
    _say(f"working in {base}")
    try:
        stack.start()
        _say(f"recorder at {stack.recorder.url}, Prometheus at {stack.prometheus.url}")
        stack.run(Timings(), _say)
        incident = stack.incidents("resolved")[0]
        _say("waiting for the backfill of samples after resolution")
        signals = stack.wait_for(
            "samples to be stored",
            lambda: sampled_signals(stack.get(f"/api/v1/incidents/{incident['id']}/samples")),
            30,
        )
        saved = save_report(stack, incident["id"], signals, base)
    except (ProcessFailed, TimeoutError, OSError) as exc:
        print(f"recorder demo: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
    print(saved.markdown)
    print(saved.html)
    _say(
        f"filled report written to {saved.html} (open it in a browser) and {saved.markdown},"
        f" charts in {base / CHARTS_DIR}; serve it again with "
        f"`RECORDER_DATABASE_URL={database_url} recorder serve` and open "
        f"http://127.0.0.1:9470/incidents/{incident['id']}"
    )
    return 0
