"""Signal presets, `[[signals]]` with a preset, and service_labels in the TOML file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recorder.settings import SettingsError, load_settings


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "recorder.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def check_config(path: str) -> str:
    """`recorder check-config --config path`'s output (a real process: it sets up logging)."""
    result = subprocess.run(
        [sys.executable, "-m", "recorder", "check-config", "--config", path],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={k: v for k, v in os.environ.items() if not k.startswith("RECORDER_")},
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_service_labels_default_to_the_documented_order() -> None:
    """Without configuration {{service}} looks at service, job, app, … in this order."""
    assert load_settings(environ={}).service_labels == (
        "service",
        "job",
        "app",
        "app_kubernetes_io_name",
        "service_name",
    )


def test_service_labels_are_read_from_the_file_and_validated(tmp_path: Path) -> None:
    """A custom list is used as given; an empty list or a non-label name is refused."""
    path = write(tmp_path, 'service_labels = ["app", "job"]\n')
    assert load_settings(environ={}, config_path=path).service_labels == ("app", "job")
    with pytest.raises(SettingsError, match=r"service_labels: .*at least one label"):
        load_settings(environ={}, config_path=write(tmp_path, "service_labels = []\n"))
    bad = write(tmp_path, 'service_labels = ["app.kubernetes.io/name"]\n')
    with pytest.raises(SettingsError, match="not a Prometheus label name"):
        load_settings(environ={}, config_path=bad)


def test_without_presets_or_signals_the_example_signals_apply() -> None:
    """The interface's example queries stay the default."""
    signals = load_settings(environ={}).effective_signals()
    assert [s.name for s in signals] == ["error_rate", "error_count", "pool_in_use", "pool_max"]
    assert "http_requests_total" in signals[0].query


def test_presets_alone_replace_the_example_signals(tmp_path: Path) -> None:
    """`[sampling] presets` without [[signals]]: only the presets' signals are sampled."""
    path = write(tmp_path, '[sampling]\npresets = ["ingress-nginx", "hikaricp"]\n')
    signals = load_settings(environ={}, config_path=path).effective_signals()
    assert [(s.name, s.origin) for s in signals] == [
        ("error_rate", "preset ingress-nginx"),
        ("error_count", "preset ingress-nginx"),
        ("pool_in_use", "preset hikaricp"),
        ("pool_max", "preset hikaricp"),
    ]


def test_presets_and_signals_combine_with_the_explicit_entry_winning(tmp_path: Path) -> None:
    """[[signals]] with a preset and with a query join [sampling] presets; same name wins."""
    path = write(
        tmp_path,
        '[sampling]\npresets = ["istio", "hikaricp"]\n\n'
        '[[signals]]\npreset = "go-sql"\n\n'
        '[[signals]]\nname = "queue_depth"\nquery = \'sum(queue{app="{{service}}"})\'\n',
    )
    signals = load_settings(environ={}, config_path=path).effective_signals()
    assert [(s.name, s.origin) for s in signals] == [
        ("error_rate", "preset istio"),
        ("error_count", "preset istio"),
        ("pool_in_use", "preset go-sql ([[signals]])"),
        ("pool_max", "preset go-sql ([[signals]])"),
        ("queue_depth", "[[signals]]"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[sampling]\npresets = ["nginx"]\n', r"sampling\.presets: .*unknown preset 'nginx'"),
        ('[[signals]]\npreset = "hikari"\n', r"signals\.0: .*unknown preset 'hikari'"),
        ('[[signals]]\nname = "x"\n', r"signals\.0: .*give `name` and `query`, or `preset`"),
        ('[[signals]]\npreset = "go-sql"\nrol = "pool_max"\n', r"signals\.0\.rol: unknown"),
        (
            '[[signals]]\npreset = "go-sql"\n[[signals]]\npreset = "hikaricp"\n',
            r"already configured",
        ),
    ],
)
def test_bad_signal_configuration_is_a_configuration_error(
    tmp_path: Path, text: str, message: str
) -> None:
    """Unknown presets, missing queries, typos and clashes fail at load with the cause."""
    with pytest.raises(SettingsError, match=message):
        load_settings(environ={}, config_path=write(tmp_path, text))


def test_check_config_lists_the_effective_queries(tmp_path: Path) -> None:
    """`recorder check-config` prints every sampled signal with its query and origin."""
    path = write(tmp_path, '[sampling]\npresets = ["pgbouncer"]\n')
    printed = json.loads(check_config(path))
    assert printed["effective_signals"] == [
        {
            "name": "pool_in_use",
            "query": 'sum(pgbouncer_pools_server_active_connections{database="{{service}}"})',
            "from": "preset pgbouncer",
        },
        {
            "name": "pool_max",
            "query": 'sum(pgbouncer_databases_pool_size{name="{{service}}"})',
            "from": "preset pgbouncer",
        },
    ]
    assert printed["service_labels"][0] == "service"


def test_frozen_settings_keep_presets_without_reviving_the_example_signals() -> None:
    """A resolved incident's snapshot of preset settings yields the same signals later."""
    frozen = load_settings(environ={}, flags={"sampling": {"presets": ["go-sql"]}})
    later = load_settings(environ={}).with_figure_snapshot(frozen.figure_snapshot())
    assert [(s.name, s.origin) for s in later.effective_signals()] == [
        ("pool_in_use", "preset go-sql"),
        ("pool_max", "preset go-sql"),
    ]
