"""`recorder signals --prometheus URL`: which presets this Prometheus can serve.

Asks `/api/v1/label/__name__/values` for the presets' metric names that have series in
the last hour, prints one line per preset (found, or missing with the metrics it looked
for; a found preset matched on a scrape target label also says which of service_labels
its series carry) and the TOML to paste. Exit 0 when Prometheus answered, 1 when it could not be
reached or did not answer with the list.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TextIO

import aiohttp

from recorder.prometheus.discovery import (
    PresetMatch,
    format_matches,
    format_toml,
    match_presets,
    names_selector,
    service_label_query,
)
from recorder.prometheus.promapi import PrometheusClient, PrometheusError
from recorder.prometheus.signals import DEFAULT_SERVICE_LABELS
from recorder.settings import mask_url

EXIT_UNREACHABLE = 1
LOOKBACK = timedelta(hours=1)
"""A metric counts as present when it has series this recently."""
TIMEOUT_SECONDS = 10.0


class DiscoveryFailed(Exception):
    """Prometheus could not be reached or did not give the list of metric names."""


async def fetch_metric_names(base_url: str, *, now: datetime, within: float) -> list[str]:
    """The presets' metric names that have series in Prometheus since `now - LOOKBACK`."""
    url = f"{base_url.rstrip('/')}/api/v1/label/__name__/values"
    params = {"match[]": names_selector(), "start": f"{(now - LOOKBACK).timestamp():.3f}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=within)) as session,
            session.get(url, params=params) as response,
        ):
            body = await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        raise DiscoveryFailed(f"{type(exc).__name__}: {exc}".rstrip(": ")) from exc
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if status != 200 or not isinstance(payload, dict) or payload.get("status") != "success":
        detail = (
            payload.get("error")
            if isinstance(payload, dict)
            else body[:200].decode(errors="replace")
        )
        raise DiscoveryFailed(f"HTTP {status}: {detail}")
    data = payload.get("data")
    if not isinstance(data, list) or not all(isinstance(n, str) for n in data):
        raise DiscoveryFailed("the answer's data is not a list of metric names")
    return data


async def look_for_service_labels(
    base_url: str, matches: Sequence[PresetMatch], service_labels: Sequence[str], *, within: float
) -> tuple[PresetMatch, ...]:
    """`matches` with `service_labels_seen` filled for found presets matched on a target
    label: which of `service_labels` their first metric's series carry. A query that
    fails leaves that preset unlooked-at (the found/missing verdict stands)."""
    async with aiohttp.ClientSession() as session:
        client = PrometheusClient(base_url, session, timeout=within, retries=0)
        now = datetime.now(UTC)

        async def seen(match: PresetMatch) -> PresetMatch:
            if not (match.found and match.preset.matches_target_label):
                return match
            metric = match.preset.metrics[0]
            try:
                answers = await asyncio.gather(
                    *(
                        client.query(service_label_query(metric, label), now)
                        for label in service_labels
                    )
                )
            except PrometheusError:
                return match
            carried = tuple(
                label
                for label, answer in zip(service_labels, answers, strict=True)
                if answer and answer[0].samples[0].value > 0
            )
            return replace(match, service_labels_seen=carried)

        return tuple(await asyncio.gather(*(seen(m) for m in matches)))


def run_signals(
    prometheus_url: str | None,
    service_labels: Sequence[str] = DEFAULT_SERVICE_LABELS,
    *,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> int:
    """The `signals` command; returns the exit status."""
    if not prometheus_url:
        print(
            "recorder: signals needs a Prometheus: --prometheus URL or RECORDER_PROMETHEUS_URL",
            file=err,
        )
        return EXIT_UNREACHABLE
    shown = mask_url(prometheus_url)
    try:
        names = asyncio.run(
            fetch_metric_names(prometheus_url, now=datetime.now(UTC), within=TIMEOUT_SECONDS)
        )
    except DiscoveryFailed as exc:
        print(f"recorder: could not list metric names from Prometheus {shown}: {exc}", file=err)
        return EXIT_UNREACHABLE
    matches = asyncio.run(
        look_for_service_labels(
            prometheus_url, match_presets(names), service_labels, within=TIMEOUT_SECONDS
        )
    )
    print(f"# Presets in Prometheus {shown} (series in the last hour):", file=out)
    for line in format_matches(matches, service_labels):
        print(line, file=out)
    print(file=out)
    for line in format_toml(matches):
        print(line, file=out)
    return 0
