"""The report's title names the most severe alert; sample tables read in their unit and a
constant series reads as one line."""

from __future__ import annotations

from recorder.report import SignalTable, build_report, render_markdown
from recorder.report.html import render_report_html
from tests.report.cases import T0, alert, at, incident, report_input

DISK = {"alertname": "DiskAlmostFull", "service": "storage", "severity": "warning"}
ERRORS = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
LATENCY = {"alertname": "HighLatency", "service": "checkout", "severity": "warning"}


def two_alerts(title: str = "DiskAlmostFull on storage") -> list[str]:
    inc = incident(title=title, labels={})
    alerts = [
        alert(DISK, T0, fingerprint="a" * 16),
        alert(ERRORS, at(2), fingerprint="b" * 16),
        alert(LATENCY, at(3), fingerprint="c" * 16),
    ]
    report = build_report(report_input(inc, alerts))
    return [report.title, render_markdown(report).splitlines()[0]]


def test_title_names_the_most_severe_alert_and_how_many_more() -> None:
    """A critical alert joining a warning one: the title names it, "+2 more" for the rest."""
    title, heading = two_alerts()
    assert title == "HighErrorRate on checkout (+2 more)"
    assert heading == "# Incident Report: HighErrorRate on checkout (+2 more)"


def test_title_a_person_set_is_kept() -> None:
    """A title set by hand is not replaced by the automatic one."""
    title, _ = two_alerts(title="Checkout outage, storage full")
    assert title == "Checkout outage, storage full"


def test_single_alert_title_has_no_more_suffix() -> None:
    """One alert: its own title, no "+0 more"."""
    inc = incident(title="DiskAlmostFull on storage", labels=DISK)
    report = build_report(report_input(inc, [alert(DISK, T0)]))
    assert report.title == "DiskAlmostFull on storage"


def test_sample_tables_print_in_the_signals_unit() -> None:
    """error_rate rows read as percent (as the chart does), connections as whole counts."""
    tables = (
        SignalTable("error_rate", [(at(0), 0.0012), (at(1), 0.98437)], "fraction"),
        SignalTable("pool_in_use", [(at(0), 82.0)], "connections"),
    )
    markdown = render_markdown(build_report(report_input(incident(), signal_tables=tables)))
    assert "| 14:00:00 | 0.12% |" in markdown
    assert "| 14:01:00 | 98.44% |" in markdown
    assert "| 14:00:00 | 82 connections |" in markdown
    assert "0.98437" not in markdown


def test_a_constant_series_is_one_line_not_a_table_or_chart() -> None:
    """pool_max at 100 throughout: one line in Markdown and HTML, no table, no chart."""
    tables = (SignalTable("pool_max", (), "connections", constant=100.0),)
    data = report_input(incident(), signal_tables=tables)
    report = build_report(data)
    markdown = render_markdown(report)
    assert "- pool_max: 100 connections throughout" in markdown
    assert "| pool_max |" not in markdown
    assert "charts/pool_max.svg" not in markdown
    html = render_report_html(report, data)
    assert '<p class="constant">pool_max: 100 connections throughout</p>' in html
    assert '<table class="samples">' not in html


def test_the_loader_reads_a_never_changing_series_as_constant() -> None:
    """Equal finite samples make a constant table; any change or NaN keeps the rows."""
    from recorder.report_io import constant_value, signal_table

    flat = [(at(m), 100.0) for m in range(6)]
    assert constant_value(flat) == 100.0
    assert constant_value([*flat, (at(7), 99.0)]) is None
    assert constant_value([*flat, (at(7), float("nan"))]) is None
    table = signal_table("pool_max", flat, T0)
    assert (table.constant, table.rows, table.unit) == (100.0, (), "connections")


def test_markdown_and_html_print_the_same_composed_sentences() -> None:
    """Detection, during-incident and downtime read the same in both forms."""
    from html import escape

    from tests.report.cases import resolved_with_metrics

    data = resolved_with_metrics()
    report = build_report(data)
    markdown = render_markdown(report)
    html = render_report_html(report, data)
    for sentence in (report.text.detection, report.text.during, report.text.downtime):
        assert sentence in markdown
        assert escape(sentence, quote=False) in html
