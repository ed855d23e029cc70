"""Sampling in the app: the Prometheus HTTP session and the sampler task, one cleanup
context each (added only when RECORDER_PROMETHEUS_URL is set)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from recorder.prometheus.plan import Timing, query_timeout
from recorder.prometheus.promapi import PrometheusClient
from recorder.prometheus.signals import Signal
from recorder.report_io import evidence_thresholds
from recorder.sampler import Sampler, stop_task
from recorder.settings import Settings
from recorder.web.keys import CLOCK, LOG, METRICS, PROMETHEUS_SESSION, SAMPLER, SETTINGS, STORE


def add_sampling(app: web.Application) -> None:
    """Register the Prometheus session and the sampler, in that order (the sampler stops
    before the session closes, and both before the store closes)."""
    app.cleanup_ctx.append(prometheus_session_ctx)
    app.cleanup_ctx.append(sampler_ctx)


async def prometheus_session_ctx(app: web.Application) -> AsyncIterator[None]:
    """One aiohttp.ClientSession for every Prometheus query of this app."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=app[SETTINGS].sampling.concurrency),
        headers={"User-Agent": "incident-recorder"},
    )
    app[PROMETHEUS_SESSION] = session
    yield
    await session.close()


def build_signals(settings: Settings) -> list[Signal]:
    """The signals to sample: presets and `[[signals]]` combined (validated with the
    settings, so every one is usable)."""
    return list(settings.effective_signals())


async def sampler_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the sampler as a task; at shutdown cancel it and free its leases."""
    settings = app[SETTINGS]
    assert settings.prometheus_url is not None  # only added when it is set
    timeout = query_timeout(settings.sampling.interval)
    client = PrometheusClient(
        settings.prometheus_url, app[PROMETHEUS_SESSION], timeout=timeout, retries=0
    )
    signals = build_signals(settings)
    if not signals:
        app[LOG].warning("sampler_disabled", reason="no usable signals configured")
        yield
        return
    sampler = Sampler(
        app[STORE],
        client,
        signals=signals,
        timing=Timing.for_interval(
            settings.sampling.interval,
            settings.sampling.baseline_window,
            settings.sampling.recovery_tail,
        ),
        thresholds=evidence_thresholds(settings),
        concurrency=settings.sampling.concurrency,
        query_timeout=timeout,
        metrics=app[METRICS],
        log=app[LOG],
        clock=app[CLOCK],
        service_labels=settings.service_labels,
    )
    app[SAMPLER] = sampler
    task = asyncio.create_task(sampler.run(), name="sampler")
    yield
    await stop_task(task)
    await sampler.close()
