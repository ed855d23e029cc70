"""`recorder signals --prometheus URL`: which presets this Prometheus can serve.

Asks `/api/v1/label/__name__/values` for the presets' metric names that have series in
the last hour, prints one line per preset (found, or missing with the metrics it looked
for) and the TOML to paste. Exit 0 when Prometheus answered, 1 when it could not be
reached or did not answer with the list.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from typing import TextIO

import aiohttp

from recorder.sampling.discovery import format_matches, format_toml, match_presets, names_selector
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


def run_signals(
    prometheus_url: str | None, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr
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
    matches = match_presets(names)
    print(f"# Presets in Prometheus {shown} (series in the last hour):", file=out)
    for line in format_matches(matches):
        print(line, file=out)
    print(file=out)
    for line in format_toml(matches):
        print(line, file=out)
    return 0
