"""`recorder signals`: which presets a Prometheus can serve, and the TOML to paste."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from recorder.demo.stack import free_port
from recorder.prometheus.discovery import format_matches, format_toml, match_presets
from recorder.prometheus.presets import PRESETS
from recorder.prometheus.promapi import PrometheusClient
from tests.conftest import require_binary
from tests.prometheus.exporters import FakeExporters, ScrapingPrometheus, jobs_for, serving
from tests.promlab import poll_until

# Served: ingress-nginx and hikaricp whole; pgbouncer without its databases metric and
# go-sql without its in-use gauge, so each of those lacks one metric.
SERVED = ("ingress-nginx", "hikaricp", "pgbouncer", "go-sql")
DROPPED = frozenset({"pgbouncer_databases_pool_size", "go_sql_in_use_connections"})
FOUND = ["ingress-nginx", "hikaricp"]


def test_preset_is_found_only_when_every_metric_it_needs_exists() -> None:
    """One of two pool metrics is not enough; the line names what was looked for."""
    names = {"hikaricp_connections_active", "istio_requests_total", "unrelated_total"}
    matches = {m.preset.name: m for m in match_presets(names)}
    assert [n for n, m in matches.items() if m.found] == ["istio"]
    assert matches["hikaricp"].absent == ("hikaricp_connections_max",)
    lines = {line.split()[1]: line for line in format_matches(list(matches.values()))}
    assert lines["istio"].startswith("found ")
    assert lines["istio"].endswith("istio_requests_total")
    assert lines["hikaricp"].startswith("missing ")
    assert lines["hikaricp"].endswith(
        "no series of hikaricp_connections_max (has hikaricp_connections_active)"
    )
    assert len(lines) == len(PRESETS)


def test_found_preset_on_a_target_label_says_which_service_labels_its_series_carry() -> None:
    """Carried labels are listed; none of them is a warning naming service_labels."""
    (match,) = [
        m
        for m in match_presets({"go_sql_in_use_connections", "go_sql_max_open_connections"})
        if m.found
    ]
    carrying = replace(match, service_labels_seen=("job",))
    lines = format_matches([carrying], ("service", "job"))
    assert lines[1].strip() == "its series carry service labels: job"
    bare = replace(match, service_labels_seen=())
    assert format_matches([bare], ("service", "job"))[1].strip() == (
        "warning: its series carry none of service, job; "
        "add the label they name the service with to service_labels"
    )
    assert len(format_matches([match], ("service",))) == 1


def test_toml_lists_the_found_presets_and_says_who_fills_a_shared_role() -> None:
    """Two HTTP presets found: the TOML enables both and says the second is renamed."""
    toml = format_toml(match_presets({"istio_requests_total", "flask_http_request_total"}))
    assert toml[1:3] == ["[sampling]", 'presets = ["istio", "flask"]']
    assert "# flask's error_rate is sampled as flask_error_rate: istio fills error_rate" in (
        " ".join(toml)
    )
    assert format_toml(match_presets(set()))[0].startswith("# No preset's metrics")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScrapingPrometheus]:
    """A Prometheus scraping only some presets' exporters, some of them incomplete."""
    binary = require_binary("prometheus")
    exporters = FakeExporters(jobs_for(SERVED), drop=DROPPED)
    with serving(exporters):
        server = ScrapingPrometheus(binary, tmp_path_factory.mktemp("discovery"), exporters)
        try:
            server.start()
            yield server
        finally:
            server.stop()


async def run_signals(*args: str) -> tuple[int, str, str]:
    """`python -m recorder signals ARGS` in a real process."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RECORDER_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "recorder",
        "signals",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.prometheus
async def test_signals_finds_exactly_the_presets_whose_metrics_exist(
    prometheus: ScrapingPrometheus,
) -> None:
    """Against real Prometheus: found for complete presets only, then the TOML to paste."""
    async with aiohttp.ClientSession() as session:
        client = PrometheusClient(prometheus.url, session, timeout=5, retries=0)

        async def scraped() -> bool:
            up = await client.query("count(up == 1)", datetime.now(UTC))
            return bool(up) and up[0].samples[0].value >= len(SERVED) + 2

        await poll_until(scraped, within=30, what="every job scraped once")
    status, out, err = await run_signals("--prometheus", prometheus.url)
    assert status == 0, err
    lines = out.splitlines()
    verdicts = {
        line.split()[1]: line.split()[0]
        for line in lines
        if line.split()[:1] in (["found"], ["missing"])
    }
    assert verdicts == {name: "found" if name in FOUND else "missing" for name in PRESETS}
    assert 'presets = ["ingress-nginx", "hikaricp"]' in lines
    assert any(
        line.startswith("missing  pgbouncer") and "pgbouncer_databases_pool_size" in line
        for line in lines
    )
    # hikaricp is matched on a target label: its series carry job and app_kubernetes_io_name.
    hint = lines[lines.index(next(x for x in lines if x.startswith("found    hikaricp"))) + 1]
    assert hint.strip() == "its series carry service labels: job, app_kubernetes_io_name"


async def test_signals_exits_1_when_prometheus_cannot_be_reached() -> None:
    """Nothing listens: exit 1 with a one-line cause on stderr, nothing on stdout."""
    status, out, err = await run_signals("--prometheus", f"http://127.0.0.1:{free_port()}")
    assert status == 1
    assert out == ""
    assert err.startswith("recorder: could not list metric names from Prometheus http://127.0.0.1:")
    assert len(err.strip().splitlines()) == 1


async def test_signals_without_a_prometheus_url_says_how_to_give_one() -> None:
    """No --prometheus and no RECORDER_PROMETHEUS_URL: exit 1 naming both."""
    status, _, err = await run_signals()
    assert status == 1
    assert "--prometheus URL or RECORDER_PROMETHEUS_URL" in err
