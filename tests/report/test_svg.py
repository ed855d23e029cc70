"""The pure SVG chart renderer: points, gaps, warning lines, markers, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from recorder.evidence.figures import Evidence, build_evidence
from recorder.evidence.model import Thresholds
from recorder.evidence.series import Sample
from recorder.report.svg import (
    Chart,
    Marker,
    _Plot,
    incident_chart,
    render_svg,
    split_at_gaps,
    warning_level,
)
from tests.report.cases import incident

SVG = "{http://www.w3.org/2000/svg}"
T0 = datetime(2025, 10, 26, 14, 0, tzinfo=UTC)


def minutes(*offsets: float, value: float = 1.0) -> list[tuple[datetime, float]]:
    return [(T0 + timedelta(minutes=m), value + i) for i, m in enumerate(offsets)]


def chart(**overrides: object) -> Chart:
    fields: dict[str, object] = {
        "signal": "error_rate",
        "unit": "fraction",
        "samples": [(T0 + timedelta(minutes=m), 0.01 * m) for m in range(10)],
        "start": T0,
        "end": T0 + timedelta(minutes=9),
    }
    fields.update(overrides)
    return Chart(**fields)  # type: ignore[arg-type]


def parse(svg: str) -> ET.Element:
    """The SVG as XML: rendering must always give a well-formed document."""
    return ET.fromstring(svg)  # noqa: S314 - our own renderer's output, not untrusted


def series_points(root: ET.Element) -> list[str]:
    paths = root.findall(f"{SVG}path[@class='series']")
    assert len(paths) == 1
    return re.findall(r"[\d.]+,[\d.]+", paths[0].get("d", ""))


def test_series_has_one_point_per_sample() -> None:
    """The one series path carries exactly one coordinate pair per sample."""
    root = parse(render_svg(chart()))
    assert len(series_points(root)) == 10
    assert root.findall(f"{SVG}path[@class='series']")[0].get("data-points") == "10"


def test_gap_breaks_the_line() -> None:
    """A spacing above 2.5x the median spacing starts a new subpath; points stay counted."""
    samples = minutes(0, 1, 2, 3, 10, 11, 12)
    root = parse(render_svg(chart(samples=samples, end=T0 + timedelta(minutes=12))))
    d = root.findall(f"{SVG}path[@class='series']")[0].get("d", "")
    assert d.count("M") == 2
    assert len(series_points(root)) == 7


def test_spacing_within_the_gap_factor_keeps_one_line() -> None:
    """2.5x the median spacing is still one line (only above it is a gap)."""
    runs = split_at_gaps(minutes(0, 2, 4, 9))
    assert [len(r) for r in runs] == [4]
    runs = split_at_gaps(minutes(0, 2, 4, 9.1))
    assert [len(r) for r in runs] == [3, 1]


def test_non_finite_values_break_the_line_and_are_not_points() -> None:
    """NaN from Prometheus is no point and no line through it."""
    samples = [*minutes(0, 1, 2), (T0 + timedelta(minutes=3), float("nan")), *minutes(4, 5)]
    runs = split_at_gaps(samples)
    assert [len(r) for r in runs] == [3, 2]


def test_a_lone_sample_is_drawn_as_a_dot() -> None:
    """A run of one sample draws no line, so it gets a dot."""
    root = parse(render_svg(chart(samples=minutes(0))))
    assert len(series_points(root)) == 1
    assert len(root.findall(f"{SVG}circle")) == 1


def test_no_samples_says_so() -> None:
    """An empty signal renders a note instead of a line."""
    svg = render_svg(chart(samples=[]))
    assert "No samples" in svg
    assert parse(svg).findall(f"{SVG}path[@class='series']") == []


def test_threshold_line_is_drawn_at_its_value() -> None:
    """The warning line sits at the threshold's height and is labelled with its value."""
    root = parse(render_svg(chart(threshold=0.05, threshold_label="warning")))
    (line,) = root.findall(f"{SVG}line[@class='threshold']")
    assert line.get("data-value") == "0.05"
    assert line.get("y1") == line.get("y2")
    assert "warning = 5%" in "".join(root.itertext())


def test_without_threshold_there_is_no_warning_line() -> None:
    """Signals without a warning level get no dashed line."""
    root = parse(render_svg(chart(threshold=None)))
    assert root.findall(f"{SVG}line[@class='threshold']") == []


def test_markers_for_alert_ack_and_resolve() -> None:
    """Each marker inside the window is a labelled vertical line; outside ones are dropped."""
    markers = [
        Marker("first alert", T0 + timedelta(minutes=2)),
        Marker("ack", T0 + timedelta(minutes=4)),
        Marker("resolved", T0 + timedelta(minutes=8)),
        Marker("later", T0 + timedelta(hours=2)),
    ]
    root = parse(render_svg(chart(markers=markers)))
    lines = root.findall(f"{SVG}line[@class='marker']")
    assert [m.get("data-marker") for m in lines] == ["first alert", "ack", "resolved"]
    assert all(m.get("x1") == m.get("x2") for m in lines)


def test_marker_label_near_the_right_edge_ends_at_its_line() -> None:
    """On a narrow chart the resolution label turns to end at its line instead of running
    past the chart's right edge; a label with room starts at its line."""
    markers = [
        Marker("first alert", T0 + timedelta(minutes=1)),
        Marker("resolved", T0 + timedelta(minutes=9)),
    ]
    root = parse(render_svg(chart(markers=markers), width=440, height=200))
    labels = {t.text: t for t in root.iter(f"{SVG}text") if t.text in {"first alert", "resolved"}}
    lines = {m.get("data-marker"): m for m in root.findall(f"{SVG}line[@class='marker']")}
    resolved, first = labels["resolved"], labels["first alert"]
    assert resolved.get("text-anchor") == "end"
    assert float(resolved.get("x", "0")) < float(lines["resolved"].get("x1", "0")) <= 440
    assert first.get("text-anchor") is None
    assert float(first.get("x", "0")) > float(lines["first alert"].get("x1", "0"))


def test_baseline_band_is_shaded() -> None:
    """The baseline window is one shaded rectangle ending at the first alert."""
    c = chart(baseline=(T0, T0 + timedelta(minutes=3)))
    (band,) = parse(render_svg(c)).findall(f"{SVG}rect[@class='baseline']")
    assert float(band.get("width", "0")) > 0


def test_title_aria_label_and_axes_name_units_and_utc() -> None:
    """The chart has a <title> and aria-label, UTC time ticks and the unit on the y axis."""
    root = parse(render_svg(chart()))
    title = root.find(f"{SVG}title")
    assert title is not None
    assert title.text is not None
    assert title.text.startswith("error_rate (fraction) from 2025-10-26 14:00:00")
    assert root.get("aria-label") == title.text
    assert root.get("role") == "img"
    texts = list(root.itertext())
    assert "Time (UTC)" in texts
    assert "percent" in texts
    assert "14:02" in texts
    assert any(t.endswith("%") for t in texts)


def test_signal_names_units_and_labels_are_escaped() -> None:
    """Hostile names become text: the SVG stays well formed and has no injected element."""
    hostile = '<script>alert(1)</script>"&\x01'
    svg = render_svg(
        chart(
            signal=hostile,
            unit=hostile,
            threshold=0.02,
            threshold_label=hostile,
            markers=[Marker(hostile, T0 + timedelta(minutes=1))],
        )
    )
    root = parse(svg)
    assert "<script" not in svg
    assert root.findall(f".//{SVG}script") == []
    assert "<script>alert(1)</script>" in "".join(root.itertext())


def evidence_of(
    samples: dict[str, list[tuple[datetime, float]]], thresholds: Thresholds | None = None
) -> Evidence:
    """Evidence over 30 minutes from T0, with a one-hour baseline."""
    return build_evidence(
        {name: [Sample(at, v) for at, v in rows] for name, rows in samples.items()},
        baseline_end=T0,
        incident_start=T0,
        incident_end=T0 + timedelta(minutes=30),
        triggered_at=T0,
        thresholds=thresholds,
        baseline_start=T0 - timedelta(hours=1),
        sample_interval_seconds=60,
    )


def test_warning_line_is_the_level_the_figures_computed() -> None:
    """The chart draws the evidence's levels: pool at 80 % of the max, error rate at
    max(10x baseline median, 1 %), a configured pool ratio as configured."""
    pool = {
        "pool_max": [(T0, 100.0), (T0 + timedelta(minutes=1), 90.0)],
        "pool_in_use": [(T0, 10.0), (T0 + timedelta(minutes=1), 10.0)],
    }
    level = warning_level("pool_in_use", pool, evidence_of(pool))
    assert level is not None
    assert level[0] == 80.0
    before = [(T0 - timedelta(minutes=m), 0.004) for m in (1, 2, 3)]
    rates = {"error_rate": before}
    ev = evidence_of(rates)
    level = warning_level("error_rate", rates, ev)
    assert level is not None
    assert level[0] == pytest.approx(0.04)
    assert ev.onsets[0].level == level[0]
    quiet = {"error_rate": [(T0 - timedelta(minutes=1), 0.0001)]}
    level = warning_level("error_rate", quiet, evidence_of(quiet))
    assert level is not None
    assert level[0] == 0.01
    custom = warning_level("pool_in_use", pool, evidence_of(pool, Thresholds(pool_warning=0.5)))
    assert custom is not None
    assert custom[0] == 50.0
    assert warning_level("error_count", {}, evidence_of({})) is None
    assert warning_level("error_rate", rates, None) is None


def test_a_zero_floor_draws_the_factor_alone() -> None:
    """error_rate_min = 0 (configurable): the line is 10x the baseline, as the figures use."""
    rates = {"error_rate": [(T0 - timedelta(minutes=m), 0.002) for m in (1, 2, 3)]}
    ev = evidence_of(rates, Thresholds(error_rate_min=0.0))
    level = warning_level("error_rate", rates, ev)
    assert level is not None
    assert level[0] == pytest.approx(0.02)


def test_incident_chart_covers_baseline_and_marks_the_incident() -> None:
    """The chart runs from the first sample to the resolution, shading the baseline."""
    inc = incident(
        started_at=T0,
        acknowledged_at=T0 + timedelta(minutes=2),
        resolved_at=T0 + timedelta(minutes=30),
    )
    samples = {"error_rate": [(T0 + timedelta(minutes=m), 0.001) for m in range(-20, 31)]}
    c = incident_chart(
        inc,
        "error_rate",
        samples,
        baseline_window=timedelta(hours=1),
        now=T0,
        evidence=evidence_of(samples),
    )
    assert c.start == T0 - timedelta(minutes=20)
    assert c.end == T0 + timedelta(minutes=30)
    assert c.baseline == (T0 - timedelta(minutes=20), T0)
    assert [m.label for m in c.markers] == ["first alert", "ack", "resolved"]
    assert c.threshold == 0.01
    assert c.unit == "fraction"


def test_chart_shows_the_recovery_tail_after_resolution() -> None:
    """Samples stored after resolution extend the chart past the resolved marker."""
    inc = incident(started_at=T0, resolved_at=T0 + timedelta(minutes=30))
    samples = {"error_rate": [(T0 + timedelta(minutes=m), 0.001) for m in range(-5, 41)]}
    c = incident_chart(
        inc, "error_rate", samples, baseline_window=timedelta(hours=1), now=T0, evidence=None
    )
    assert c.end == T0 + timedelta(minutes=40)
    svg = render_svg(c)
    assert 'data-points="46"' in svg
    assert 'data-marker="resolved"' in svg


def test_each_point_sits_where_the_plot_scales_put_it() -> None:
    """Every coordinate pair is the plot's x and y of its sample, rounded to 0.1 px,
    for irregular times and values (sub-second instants, negatives, long decimals)."""
    samples = [
        (T0 + timedelta(seconds=7.3 * n, microseconds=n * 1237), (-1) ** n * 0.0137 * n**1.5)
        for n in range(400)
    ]
    drawn = chart(samples=samples, unit="", end=samples[-1][0])
    plot = _Plot(drawn, 640, 240)
    path = parse(render_svg(drawn, width=640, height=240)).find(f"{SVG}path[@class='series']")
    assert path is not None
    pairs = re.findall(r"(-?[\d.]+),(-?[\d.]+)", path.get("d", ""))
    assert pairs == [(str(plot.x(at)), str(plot.y(value))) for at, value in samples]
