"""End to end: real Prometheus → real Alertmanager → the recorder on PostgreSQL → report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from recorder.demo.scenario import DemoStack, Timings
from tests.conftest import require_binary


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def metric_samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics page, keyed by name and sorted labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_fault_under_real_prometheus_and_alertmanager_gives_one_incident(
    tmp_path: Path, postgres_dsn: str
) -> None:
    """normal → fault → recovery: one incident per service with the alerts' exact instants,
    the time-to-resolve histogram observed at each resolution, and a filled report."""
    require_binary("prometheus")
    require_binary("prometheus-alertmanager", "alertmanager")
    stack = DemoStack(tmp_path, database_url=postgres_dsn)
    progress: list[str] = []
    try:
        stack.start()
        marks = stack.run(Timings(normal=8, fault=15, deadline=45), progress.append)
        found = stack.incidents()
        assert len(found) == 1, found
        incident: dict[str, Any] = stack.get(f"/api/v1/incidents/{found[0]['id']}")
        metrics = stack.get_text("/metrics")
        report = stack.get_text(f"/api/v1/incidents/{incident['id']}/report")
    finally:
        stack.stop()

    alerts = incident["alerts"]
    assert {a["labels"]["alertname"] for a in alerts} == {"HighErrorRate", "DatabasePoolSaturated"}
    assert incident["labels"]["service"] == "checkout"
    assert incident["status"] == "resolved"
    started = at(incident["started_at"])
    resolved = at(incident["resolved_at"])
    assert started == min(at(a["starts_at"]) for a in alerts)
    assert resolved == max(at(a["ends_at"]) for a in alerts)
    # Prometheus evaluates every second: the alerts start right after the fault begins
    # and end right after recovery.
    assert marks["fault"] - 1 <= started.timestamp() <= marks["fault"] + 8
    assert marks["recovery"] <= resolved.timestamp() <= marks["recovery"] + 15
    assert at(incident["detected_at"]) >= started

    samples = metric_samples(metrics)
    # The histogram is observed at each resolution: a real error rate may flap across its
    # threshold during recovery, re-opening the incident inside reopen_window.
    resolutions = [at(e["at"]) for e in incident["timeline"] if e["kind"] == "resolved"]
    assert len(resolutions) == 1 + incident["reopen_count"]
    assert resolutions[-1] == resolved
    assert samples[("recorder_incident_time_to_resolve_seconds_count", ())] == len(resolutions)
    assert samples[("recorder_incident_time_to_resolve_seconds_sum", ())] == pytest.approx(
        sum((end - started).total_seconds() for end in resolutions)
    )
    opened = [v for (name, _), v in samples.items() if name == "recorder_incidents_opened_total"]
    assert sum(opened) == 1
    assert incident["severity"] == "SEV1"
    assert samples[("recorder_incidents_open", ())] == 0
    stored = (("outcome", "stored"), ("source", "alertmanager"))
    assert samples[("recorder_webhooks_received_total", stored)] >= 3
    assert samples[("recorder_build_info", (("backend", "postgres"), ("version", "0.1.0")))] == 1

    assert "# Incident Report: HighErrorRate on checkout" in report or "checkout" in report
    assert "**Status**: Resolved" in report
