"""The client and the evidence maths against a real Prometheus scraping a driven exporter.

Windows: the interface's queries use `[1m]` for a 15 s scrape. Here the scrape interval is
1 s, so the windows are shortened to `[5s]` (five scrapes: enough for rate() and short
enough that a 12 s phase is not smeared away), and error_count, which must be failed
requests per minute, becomes `increase(...[5s]) * 12`. Range queries step every half
scrape, so a change shows up at most one scrape plus half a scrape after it happened.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from recorder.evidence.figures import build_evidence
from recorder.evidence.series import Sample
from recorder.prometheus.promapi import PrometheusBadQuery, PrometheusClient
from recorder.prometheus.signals import DEFAULT_SIGNALS, RenderedQuery, escape_string, render_query
from tests.conftest import require_binary
from tests.promlab import SCRAPE_INTERVAL, PromLab, poll_until, running_lab

pytestmark = pytest.mark.prometheus

PHASE_SCRAPES = 12
STEP = SCRAPE_INTERVAL / 2
CHECKOUT = {"service": "checkout"}


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromLab]:
    """One real Prometheus and exporter for the module, stopped by pid afterwards."""
    binary = require_binary("prometheus")
    with running_lab(binary, tmp_path_factory.mktemp("prometheus")) as running:
        yield running


@pytest.fixture
async def client(lab: PromLab) -> AsyncIterator[PrometheusClient]:
    async with aiohttp.ClientSession() as session:
        yield PrometheusClient(lab.prometheus.url, session, timeout=5, retries=0)


def lab_query(query: str) -> str:
    """An interface query with its windows shortened for a 1 s scrape (see module doc)."""
    if "increase(" in query:
        return f"({query.replace('[1m]', '[5s]')}) * 12"
    return query.replace("[1m]", "[5s]")


async def wait_for_scrapes(lab: PromLab, since: datetime, count: int) -> None:
    async def done() -> bool:
        return lab.exporter.scrapes_since(since) >= count

    await poll_until(done, within=count * SCRAPE_INTERVAL + 15, what=f"{count} scrapes")


async def test_incident_figures_from_real_prometheus(
    lab: PromLab, client: PrometheusClient
) -> None:
    """Normal → pool exhaustion with 98 % errors → recovery gives the expected figures."""
    began = time.monotonic()
    exporter = lab.exporter
    normal_from = exporter.set(error_ratio=0.001, pool_in_use=20)
    await wait_for_scrapes(lab, normal_from, PHASE_SCRAPES)
    failed_before = exporter.failed_total()
    fault_at = exporter.set(error_ratio=0.98, pool_in_use=100)
    await wait_for_scrapes(lab, fault_at, PHASE_SCRAPES)
    recovered_at = exporter.set(error_ratio=0.001, pool_in_use=20)
    await wait_for_scrapes(lab, recovered_at, PHASE_SCRAPES)
    end = datetime.now(UTC)
    failed_during = exporter.failed_total() - failed_before

    async def ingested() -> bool:
        latest = await client.query(
            'timestamp(db_pool_connections_in_use{service="checkout"})', end
        )
        return bool(latest) and latest[0].samples[0].value >= end.timestamp() - SCRAPE_INTERVAL

    await poll_until(ingested, within=10, what="Prometheus to ingest the last scrape")

    samples: dict[str, list[Sample]] = {}
    for signal in DEFAULT_SIGNALS:
        rendered = render_query(signal, CHECKOUT)
        assert isinstance(rendered, RenderedQuery)
        expr = lab_query(rendered.expr)
        series = await client.query_range(expr, normal_from, end, STEP)
        assert len(series) == 1, f"{signal.name}: {series}"
        samples[signal.name] = list(series[0].samples)

    alert_at = fault_at + timedelta(seconds=3)  # the alert fires a little after the fault
    evidence = build_evidence(
        samples,
        baseline_end=alert_at,
        incident_start=alert_at,
        incident_end=end,
        triggered_at=alert_at,
        sample_interval_seconds=STEP,
    )

    normal = evidence.error_rate_normal.value
    assert normal is not None
    assert abs(normal - 0.001) <= 0.0005
    assert (evidence.error_rate_peak.value or 0) >= 0.95
    assert evidence.pool_peak.text == "100/100"
    pool_onset = evidence.onsets[1]
    assert pool_onset.signal == "pool_in_use"
    assert pool_onset.at is not None
    lag = (pool_onset.at - fault_at).total_seconds()
    assert -0.25 <= lag <= 2 * SCRAPE_INTERVAL, f"pool crossed 80 % {lag:.3f} s after the fault"
    fault_seconds = (recovered_at - fault_at).total_seconds()
    # In the incident from alert_at: at max until recovery (≤ 1 scrape + 1 step late).
    at_max = evidence.pool_time_at_max.value or 0
    assert fault_seconds - 3 - 1 <= at_max <= fault_seconds - 3 + 2 * SCRAPE_INTERVAL
    # Error rate stays > 5 % until the 5 s window has let go of the fault.
    downtime = evidence.downtime.value or 0
    assert fault_seconds - 3 - 1 <= downtime <= fault_seconds - 3 + 7
    # Failures inside the incident: the fault's, minus its first 3 s (before the alert).
    # The 5 s window can carry up to 5 s of earlier failures (all of those 3 s) into the
    # incident's first samples, so the total lies between the two; 5 % slack for rate()'s
    # extrapolation at the window edges.
    total = evidence.errors_total.value or 0
    inside = failed_during - 0.98 * 1000 * 3
    assert 0.95 * inside <= total <= 1.05 * failed_during, (total, inside, failed_during)
    events = [e.event for e in evidence.derived_timeline]
    assert "Database connections at max (100/100)" in events
    assert "Database connections normalized (20/100)" in events
    assert any(note.verdict == "Good" for note in evidence.detection_quality)
    assert time.monotonic() - began < 90


async def test_escaped_label_value_round_trips_through_real_promql(
    client: PrometheusClient,
) -> None:
    """A value with quotes, backslashes, control characters and UTF-8 survives PromQL."""
    # `$` is left out: label_replace would expand it as a capture-group reference.
    value = 'a"b\\c\nd\te\r\x01\x7f — ü "quoted" \\n'
    expr = f'label_replace(vector(1), "x", "{escape_string(value)}", "", "")'
    result = await client.query(expr, datetime.now(UTC))
    assert result[0].labels["x"] == value


async def test_nan_and_inf_values_parse_from_real_prometheus(client: PrometheusClient) -> None:
    """0/0 and 1/0 come back as the strings NaN and +Inf and parse as floats."""
    now = datetime.now(UTC)
    nan = await client.query("vector(0) / 0", now)
    inf = await client.query("vector(1) / 0", now)
    scalar = await client.query("-1 / 0", now)
    assert math.isnan(nan[0].samples[0].value)
    assert inf[0].samples[0].value == math.inf
    assert scalar[0].labels == {}
    assert scalar[0].samples[0].value == -math.inf


async def test_parse_error_from_real_prometheus_is_bad_query(lab: PromLab) -> None:
    """`up{` is a 400 bad_data error, raised at once without retries."""
    async with aiohttp.ClientSession() as session:
        retrying = PrometheusClient(lab.prometheus.url, session, retries=3, backoff=0)
        with pytest.raises(PrometheusBadQuery) as caught:
            await retrying.query("up{", datetime.now(UTC))
    assert (caught.value.status, caught.value.error_type, caught.value.attempts) == (
        400,
        "bad_data",
        1,
    )


async def test_many_to_many_from_real_prometheus_is_bad_query(client: PrometheusClient) -> None:
    """Many-to-many matching is a 422 execution error."""
    with pytest.raises(PrometheusBadQuery) as caught:
        await client.query("http_requests_total + on() http_requests_total", datetime.now(UTC))
    assert (caught.value.status, caught.value.error_type) == (422, "execution")


async def test_day_at_one_second_step_is_fitted_to_the_point_limit(
    client: PrometheusClient,
) -> None:
    """A day at step 1 s would be 86,400 points; the client asks for 8 s steps instead."""
    end = datetime.now(UTC).replace(microsecond=0)
    series = await client.query_range("vector(1)", end - timedelta(days=1), end, 1)
    points = series[0].samples
    assert len(points) == 10_801
    assert (points[1].at - points[0].at).total_seconds() == 8
