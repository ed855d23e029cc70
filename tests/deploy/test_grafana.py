"""deploy/grafana/recorder-dashboard.json: loads, is portable, and queries real series."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deploy import contract
from tests.deploy.promql import series_names

DASHBOARD = contract.DEPLOY / "grafana" / "recorder-dashboard.json"


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return loaded


def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in items:
        yield panel
        yield from panels(panel.get("panels", []))


def exprs() -> list[str]:
    return [t["expr"] for p in panels(dashboard()["panels"]) for t in p.get("targets", [])]


def test_dashboard_has_a_prometheus_datasource_variable() -> None:
    """A `datasource` variable of type prometheus, so the JSON imports anywhere."""
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"


def test_every_panel_and_query_uses_the_datasource_variable() -> None:
    """No hard-coded datasource uid that exists only on the author's Grafana."""
    for panel in panels(dashboard()["panels"]):
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_panel_ids_are_unique_and_grid_fits() -> None:
    """Grafana needs unique ids; every panel fits the 24-column grid."""
    ids = [p["id"] for p in panels(dashboard()["panels"])]
    assert len(ids) == len(set(ids))
    for panel in panels(dashboard()["panels"]):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]


@pytest.mark.parametrize("expr", exprs())
def test_query_selects_only_recorder_or_standard_series(expr: str) -> None:
    """Every expression uses only series the recorder exports (or `up`)."""
    names = series_names(expr)
    assert names
    assert names <= contract.known_series() | contract.STANDARD_SERIES


def test_dashboard_covers_the_recorder_metrics() -> None:
    """MTTD/MTTA/MTTR as quantiles and means, webhooks, p99 latency, incidents, sampler."""
    text = "\n".join(exprs())
    for histogram in (
        "recorder_incident_time_to_detect_seconds",
        "recorder_incident_time_to_acknowledge_seconds",
        "recorder_incident_time_to_resolve_seconds",
    ):
        for suffix in ("_bucket", "_sum", "_count"):
            assert histogram + suffix in text
    p99 = "histogram_quantile(0.99, sum by (le, source) (rate(recorder_webhook_duration_seconds"
    assert p99 + "_bucket" in text
    for needle in (
        "sum by (source, outcome) (rate(recorder_webhooks_received_total",
        "recorder_incidents_open",
        "sum by (severity) (increase(recorder_incidents_opened_total",
        "sum by (outcome) (rate(recorder_sampler_queries_total",
    ):
        assert needle in text
