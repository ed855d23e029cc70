"""Signal templates: placeholders, PromQL string escaping and missing labels."""

from __future__ import annotations

import pytest

from recorder.prometheus.signals import (
    DEFAULT_SIGNALS,
    WELL_KNOWN_SIGNALS,
    MissingLabels,
    RenderedQuery,
    ServiceLabel,
    Signal,
    escape_string,
    find_service,
    render_query,
)


def test_default_signals_are_the_well_known_roles() -> None:
    """The interface's example configuration defines the four well-known signals."""
    assert tuple(s.name for s in DEFAULT_SIGNALS) == WELL_KNOWN_SIGNALS
    assert WELL_KNOWN_SIGNALS == ("error_rate", "error_count", "pool_in_use", "pool_max")


def test_render_fills_every_placeholder() -> None:
    """`{{service}}` takes the incident's label value, every time it appears."""
    rendered = render_query(DEFAULT_SIGNALS[0], {"service": "checkout", "alertname": "X"})
    assert rendered == RenderedQuery(
        "error_rate",
        'sum(rate(http_requests_total{service="checkout",status=~"5.."}[1m]))'
        ' / sum(rate(http_requests_total{service="checkout"}[1m]))',
    )


def test_placeholders_allow_spaces_and_list_each_label_once() -> None:
    """`{{ a }}` and `{{a}}` are the same placeholder."""
    signal = Signal("x", 'up{a="{{ a }}",b="{{b}}",c="{{a}}"}')
    assert signal.placeholders == ("a", "b")
    assert render_query(signal, {"a": "1", "b": "2"}) == RenderedQuery("x", 'up{a="1",b="2",c="1"}')


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        ('say "hi"', 'say \\"hi\\"'),
        ("C:\\path", "C:\\\\path"),
        ("two\nlines", "two\\nlines"),
        ("tab\there\rcr", "tab\\there\\rcr"),
        ("bell\x07del\x7f", "bell\\x07del\\x7f"),
        ("ünïcode — ok", "ünïcode — ok"),
        ("no {{nesting}}", "no {{nesting}}"),
    ],
)
def test_values_are_escaped_for_promql_string_literals(value: str, escaped: str) -> None:
    """Backslash, quote and control characters are escaped; UTF-8 passes through."""
    assert escape_string(value) == escaped


def test_label_value_cannot_break_out_of_the_string() -> None:
    """A hostile value stays inside its quotes instead of adding a matcher."""
    signal = Signal("x", 'up{service="{{service}}"}')
    rendered = render_query(signal, {"service": 'a"} or vector(1) or up{x="'})
    assert isinstance(rendered, RenderedQuery)
    assert rendered.expr == 'up{service="a\\"} or vector(1) or up{x=\\""}'


def test_missing_labels_leave_the_signal_unsampled_with_a_reason() -> None:
    """No value (absent or empty) for a placeholder: MissingLabels says which."""
    signal = Signal("x", 'up{service="{{service}}",env="{{env}}",ns="{{namespace}}"}')
    missing = render_query(signal, {"env": "", "alertname": "X"}, ("service", "job"))
    assert missing == MissingLabels("x", ("env", "namespace"), ("service", "job"))
    assert isinstance(missing, MissingLabels)
    assert missing.reason == (
        "no label among service, job; "
        "the incident's common labels have no value for labels 'env', 'namespace'"
    )


def test_one_missing_label_reads_in_the_singular() -> None:
    """The reason names the one label."""
    missing = render_query(Signal("x", 'up{env="{{env}}"}'), {"service": "a"})
    assert isinstance(missing, MissingLabels)
    assert missing.reason == "the incident's common labels have no value for label 'env'"


def test_no_service_label_names_every_label_looked_at() -> None:
    """`{{service}}` with none of the service labels reads "no label among …"."""
    missing = render_query(DEFAULT_SIGNALS[1], {"alertname": "X", "job": ""})
    assert isinstance(missing, MissingLabels)
    assert missing.reason == (
        "no label among service, job, app, app_kubernetes_io_name, service_name"
    )


def test_service_comes_from_the_first_service_label_the_incident_has() -> None:
    """`service` is absent, `job` empty: `{{service}}` takes `app_kubernetes_io_name`."""
    labels = {"job": "", "app_kubernetes_io_name": "checkout", "service_name": "other"}
    assert find_service(labels) == ServiceLabel("app_kubernetes_io_name", "checkout")
    rendered = render_query(Signal("x", 'up{service="{{service}}"}'), labels)
    assert rendered == RenderedQuery("x", 'up{service="checkout"}')


def test_service_label_placeholder_is_the_name_of_the_label_used() -> None:
    """`{{service_label}}` becomes the label name, so target-label presets match it."""
    signal = Signal("x", 'sum(up{{{service_label}}="{{service}}"})')
    rendered = render_query(signal, {"app": "checkout", "job": ""}, ("service", "job", "app"))
    assert rendered == RenderedQuery("x", 'sum(up{app="checkout"})')
    assert ServiceLabel("app", "checkout").text == "checkout (from label `app`)"


def test_configured_service_labels_replace_the_default_order() -> None:
    """With service_labels = ["team_service"], `service` itself is not looked at."""
    signal = Signal("x", 'up{s="{{service}}"}')
    assert render_query(signal, {"service": "a", "team_service": "b"}, ("team_service",)) == (
        RenderedQuery("x", 'up{s="b"}')
    )
    missing = render_query(signal, {"service": "a"}, ("team_service",))
    assert isinstance(missing, MissingLabels)
    assert missing.reason == "no label among team_service"


def test_query_without_placeholders_renders_as_is() -> None:
    """A signal need not use labels at all."""
    assert render_query(Signal("up", "sum(up)"), {}) == RenderedQuery("up", "sum(up)")


@pytest.mark.parametrize(
    ("name", "query", "message"),
    [
        ("Error-Rate", "up", "must be lower-case letters"),
        ("1x", "up", "must be lower-case letters"),
        ("x", "  ", "has an empty query"),
        ("x", 'up{a="{{ a b }}"}', "outside a {{label}} placeholder"),
        ("x", 'up{a="{{a}"}', "outside a {{label}} placeholder"),
    ],
)
def test_invalid_signals_are_rejected_with_the_reason(name: str, query: str, message: str) -> None:
    """Bad names and malformed placeholders fail at configuration time."""
    with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("}", r"\}")):
        Signal(name, query)
