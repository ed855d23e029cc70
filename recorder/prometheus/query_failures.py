"""What a failed Prometheus query tells the report: its cause and its error text."""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlsplit

from recorder.prometheus.failures import FailureCause, SamplingFailure
from recorder.prometheus.promapi import PrometheusBadQuery, PrometheusError, PrometheusRejected
from recorder.settings import mask_url

_CHAIN_DEPTH = 8
"""How far down an error's causes to look for the operating system's error."""


def failure_cause(exc: PrometheusError) -> FailureCause:
    """Which cause a failed query has, from the client's error class."""
    if isinstance(exc, PrometheusBadQuery):
        return FailureCause.QUERY_REJECTED
    if isinstance(exc, PrometheusRejected):
        return FailureCause.REJECTED
    if exc.status is None:
        return FailureCause.UNREACHABLE
    return FailureCause.UNAVAILABLE


def failure_text(exc: PrometheusError, base_url: str) -> str:
    """The error as the report quotes it, the URL (said beside it) left out: the
    operating system's word for a failed connection ("Connection refused"), else the
    client's or Prometheus's message."""
    cause: BaseException | None = exc.__cause__
    for _ in range(_CHAIN_DEPTH):
        if cause is None:
            break
        if isinstance(cause, OSError) and cause.errno is not None:
            return os.strerror(cause.errno)
        cause = cause.__cause__ or cause.__context__
    text = exc.message
    for url in (f"{base_url}/api/v1/query_range", f"{base_url}/api/v1/query", base_url):
        text = text.replace(f"{url}: ", "").replace(f" from {url}", "")
    password = urlsplit(base_url).password
    return text.replace(password, "***") if password else text


def failures_of_round(
    failed: Mapping[str, PrometheusError],
    answered: Mapping[str, bool],
    base_url: str,
    now: datetime,
) -> list[SamplingFailure]:
    """One round's failures of one incident: per signal, its query's error, or "no
    series" when every query of it ran and none returned a series. The URL is kept
    with its password masked."""
    source = mask_url(base_url)
    failures = [
        SamplingFailure(signal, failure_cause(exc), failure_text(exc, base_url), source, now, now)
        for signal, exc in failed.items()
    ]
    failures += [
        SamplingFailure(signal, FailureCause.NO_SERIES, "no series", source, now, now)
        for signal, got in answered.items()
        if not got and signal not in failed
    ]
    return failures
