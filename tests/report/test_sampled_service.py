"""The report names the service the signals were sampled for and the label it came from."""

from __future__ import annotations

import json

from recorder.report import build_report, render_markdown, report_to_json
from recorder.report.html import render_report_html
from recorder.report.model import AffectedService
from tests.report.cases import T0, alert, incident, report_input

LABELS = {"alertname": "CheckoutErrors", "app_kubernetes_io_name": "checkout", "job": "kube"}


def test_markdown_html_and_json_name_the_label_that_gave_the_service() -> None:
    """All three formats say "checkout (from label `app_kubernetes_io_name`)"."""
    sampled = AffectedService("app_kubernetes_io_name", "checkout", sampled=True)
    data = report_input(incident(labels=LABELS), [alert(LABELS, T0)], sampled_service=sampled)
    report = build_report(data)
    markdown = render_markdown(report)
    assert "\n- [X] checkout (from label `app_kubernetes_io_name`)\n" in markdown
    assert "\n- [X] kube (job label)\n" in markdown
    html = render_report_html(report, data)
    assert "checkout (from label <code>app_kubernetes_io_name</code>)" in html
    services = json.loads(json.dumps(report_to_json(report)))["services_affected"]
    assert services[0] == {"label": "app_kubernetes_io_name", "value": "checkout", "sampled": True}
    assert {"label": "job", "value": "kube", "sampled": False} in services


def test_sampled_service_from_a_listed_label_is_not_ticked_twice() -> None:
    """A service that came from `job` replaces the plain "(job label)" line."""
    labels = {"alertname": "X", "job": "checkout"}
    sampled = AffectedService("job", "checkout", sampled=True)
    data = report_input(incident(labels=labels), [alert(labels, T0)], sampled_service=sampled)
    markdown = render_markdown(build_report(data))
    assert "- [X] checkout (from label `job`)" in markdown
    assert "(job label)" not in markdown
