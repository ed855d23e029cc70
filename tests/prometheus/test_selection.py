"""Presets and `[[signals]]` combined into the signals that are sampled."""

from __future__ import annotations

from pathlib import Path

import pytest

from recorder.prometheus.presets import PRESETS
from recorder.prometheus.selection import SignalConfigError, SignalEntry, select_signals
from recorder.prometheus.signals import WELL_KNOWN_SIGNALS, RenderedQuery, render_query

REQUIRED = (
    "ingress-nginx",
    "istio",
    "micrometer-http",
    "flask",
    "django",
    "express",
    "hikaricp",
    "go-sql",
    "pgbouncer",
)


def test_every_required_preset_exists_and_fills_well_known_roles() -> None:
    """Each listed exporter has a preset whose signals are well-known roles, with a source."""
    assert set(REQUIRED) <= set(PRESETS)
    for preset in PRESETS.values():
        assert preset.roles in (("error_rate", "error_count"), ("pool_in_use", "pool_max"))
        assert set(preset.roles) <= set(WELL_KNOWN_SIGNALS)
        assert preset.source
        assert preset.matches
        assert preset.metrics


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_query_uses_its_metrics_and_the_service(name: str) -> None:
    """Each query names the preset's metrics, counts 5xx as errors with [1m] windows."""
    preset = PRESETS[name]
    queries = dict(preset.signals)
    for query in queries.values():
        assert "{{service}}" in query
        assert any(metric in query for metric in preset.metrics)
    if "error_rate" in queries:
        assert '5.."' in queries["error_rate"]
        assert "[1m]" in queries["error_rate"]
        assert "increase(" in queries["error_count"]


def test_presets_listed_in_sampling_fill_roles_first_come_first_served() -> None:
    """Two HTTP presets: the first fills error_rate, the second is kept under its own name."""
    signals = select_signals(["ingress-nginx", "micrometer-http", "hikaricp"], [])
    names = [s.name for s in signals]
    assert names == [
        "error_rate",
        "error_count",
        "micrometer_http_error_rate",
        "micrometer_http_error_count",
        "pool_in_use",
        "pool_max",
    ]
    assert signals[0].origin == "preset ingress-nginx"
    assert "nginx_ingress_controller_requests" in signals[0].query


def test_explicit_signal_wins_over_a_preset_signal_of_the_same_name() -> None:
    """A [[signals]] entry named pool_max replaces hikaricp's pool_max in place."""
    signals = select_signals(
        ["hikaricp"], [SignalEntry(name="pool_max", query="sum(my_pool_size)")]
    )
    assert [(s.name, s.query) for s in signals][1] == ("pool_max", "sum(my_pool_size)")
    assert signals[1].origin == "[[signals]]"
    assert len(signals) == 2


def test_signals_entry_with_a_preset_adds_all_its_signals() -> None:
    """`preset = "go-sql"` alone brings both pool signals."""
    signals = select_signals([], [SignalEntry(preset="go-sql")])
    assert [s.name for s in signals] == ["pool_in_use", "pool_max"]
    assert "go_sql_in_use_connections" in signals[0].query


def test_signals_entry_can_pick_rename_and_override_one_preset_signal() -> None:
    """name picks a role; role + name renames; query replaces the PromQL."""
    picked = select_signals([], [SignalEntry(preset="pgbouncer", name="pool_max")])
    assert [s.name for s in picked] == ["pool_max"]
    renamed = select_signals([], [SignalEntry(preset="istio", role="error_rate", name="mesh")])
    assert [s.name for s in renamed] == ["mesh"]
    assert "istio_requests_total" in renamed[0].query
    overridden = select_signals(
        [], [SignalEntry(preset="flask", role="error_count", query="sum(x)")]
    )
    assert [(s.name, s.query) for s in overridden] == [("error_count", "sum(x)")]
    assert overridden[0].origin == "preset flask ([[signals]]), query overridden"


@pytest.mark.parametrize(
    ("presets", "entries", "message"),
    [
        (["nginx"], [], r"sampling\.presets: unknown preset 'nginx'; known presets: ingress-nginx"),
        ([], [SignalEntry(preset="hikari")], r"signals\[0\]: unknown preset 'hikari'"),
        ([], [SignalEntry(preset="go-sql", name="errors")], "has no signal 'errors'"),
        ([], [SignalEntry(preset="go-sql", role="error_rate")], "has no role 'error_rate'"),
        ([], [SignalEntry(preset="go-sql", query="sum(x)")], "say which one `query` replaces"),
        ([], [SignalEntry(name="x")], r"signals\[0\]: give `name` and `query`, or `preset`"),
        (
            [],
            [SignalEntry(preset="go-sql"), SignalEntry(preset="hikaricp")],
            r"signals\[1\]: a signal named 'pool_in_use' is already configured",
        ),
        ([], [SignalEntry(name="x", query="up{a={{a}")], r"signals\[0\]: signal 'x'"),
    ],
)
def test_unusable_signal_configuration_names_the_entry(
    presets: list[str], entries: list[SignalEntry], message: str
) -> None:
    """Every refusal says which entry and why."""
    with pytest.raises(SignalConfigError, match=message):
        select_signals(presets, entries)


def test_target_label_preset_matches_the_label_the_service_came_from() -> None:
    """micrometer-http on an incident labelled app_kubernetes_io_name matches that label."""
    (rate, _count) = select_signals(["micrometer-http"], [])
    rendered = render_query(rate, {"app_kubernetes_io_name": "checkout"})
    assert isinstance(rendered, RenderedQuery)
    assert 'http_server_requests_seconds_count{app_kubernetes_io_name="checkout"' in rendered.expr
    assert "{{" not in rendered.expr


def test_readme_table_lists_every_preset_with_the_metrics_it_needs() -> None:
    """The README's preset table has a row per preset naming each metric it looks for."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip(" `"): line
        for line in readme.splitlines()
        if line.startswith("| `")
    }
    for name, preset in PRESETS.items():
        assert name in rows, name
        for metric in preset.metrics:
            assert f"`{metric}`" in rows[name], (name, metric)
    assert "recorder signals --prometheus" in readme
