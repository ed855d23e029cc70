"""A failed query's cause and text, one round's failures, and the cause the report says."""

from __future__ import annotations

import errno
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from recorder.prometheus.failures import FailureCause, SamplingFailure, signal_causes
from recorder.prometheus.promapi import (
    PrometheusBadQuery,
    PrometheusError,
    PrometheusRejected,
    PrometheusUnavailable,
)
from recorder.prometheus.query_failures import failure_cause, failure_text, failures_of_round

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "http://prom:9090"


def refused() -> PrometheusError:
    """The client's error for a refused connection, chained as the client raises it."""
    os_error = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")
    try:
        try:
            raise aiohttp.ClientConnectorError(
                aiohttp.client_reqrep.ConnectionKey("prom", 9090, False, True, None, None, None),
                os_error,
            )
        except aiohttp.ClientError as exc:
            raise PrometheusUnavailable(
                None, "transport", f"{URL}/api/v1/query_range: {type(exc).__name__}: {exc}"
            ) from exc
    except PrometheusError as exc:
        return exc


@pytest.mark.parametrize(
    ("error", "cause"),
    [
        (PrometheusUnavailable(None, "timeout", "no answer"), FailureCause.UNREACHABLE),
        (PrometheusUnavailable(503, "unavailable", "overloaded"), FailureCause.UNAVAILABLE),
        (PrometheusRejected(404, "bad_response", "not the API"), FailureCause.REJECTED),
        (PrometheusBadQuery(400, "bad_data", "parse error"), FailureCause.QUERY_REJECTED),
    ],
)
def test_each_client_error_has_its_cause(error: PrometheusError, cause: FailureCause) -> None:
    """No answer is unreachable; an error answer unavailable; a non-API answer rejected;
    a refused query query_rejected."""
    assert failure_cause(error) is cause


def test_refused_connection_reads_as_the_operating_system_says() -> None:
    """A refused connection is quoted as "Connection refused", not as the client's trace."""
    assert failure_text(refused(), URL) == "Connection refused"


def test_error_text_leaves_out_the_url_and_masks_its_password() -> None:
    """The URL is said beside the error, so it is left out of the text; a password in
    it never reaches the report."""
    secret = "http://user:s3cret@prom:9090"
    timeout = PrometheusUnavailable(
        None, "timeout", f"no answer from {URL}/api/v1/query within 3 s"
    )
    assert failure_text(timeout, URL) == "no answer within 3 s"
    odd = PrometheusRejected(401, "bad_response", "denied for user:s3cret")
    assert "s3cret" not in failure_text(odd, secret)


def test_a_round_records_errors_and_signals_with_no_series() -> None:
    """A failed signal gets its error; one that ran and returned nothing "no series";
    one that returned samples nothing; the URL is stored with its password masked."""
    failures = failures_of_round(
        {"error_rate": refused()},
        {"error_rate": False, "pool_max": False, "pool_in_use": True},
        "http://user:s3cret@prom:9090",
        T0,
    )
    assert [(f.signal, f.cause, f.error) for f in failures] == [
        ("error_rate", FailureCause.UNREACHABLE, "Connection refused"),
        ("pool_max", FailureCause.NO_SERIES, "no series"),
    ]
    assert {f.source for f in failures} == {"http://user:***@prom:9090"}


def test_the_report_cause_is_a_missing_label_else_the_latest_failure() -> None:
    """A signal that could not be sampled at all keeps that reason; otherwise the most
    recent failure speaks, with its URL, count and first and last time."""
    earlier = SamplingFailure(
        "error_rate",
        FailureCause.UNREACHABLE,
        "Connection refused",
        URL,
        T0,
        T0 + timedelta(seconds=30),
        count=3,
    )
    later = SamplingFailure(
        "error_rate",
        FailureCause.NO_SERIES,
        "no series",
        URL,
        T0 + timedelta(minutes=1),
        T0 + timedelta(minutes=1),
    )
    causes = signal_causes({"pool_max": "no value for label 'service'"}, [later, earlier])
    assert causes == {
        "error_rate": f"the query returned no series from Prometheus at {URL} "
        "(once, at 2026-03-01T12:01:00Z)",
        "pool_max": "no value for label 'service'",
    }
    assert signal_causes({}, [earlier]) == {
        "error_rate": f"Prometheus unreachable at {URL} (Connection refused); failed 3 times, "
        "first at 2026-03-01T12:00:00Z, last at 2026-03-01T12:00:30Z"
    }
