"""Silences as acknowledgment in the app: the Alertmanager HTTP session and the silence
poller task, one cleanup context each (added only when RECORDER_ALERTMANAGER_URL is set)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from recorder.sampler import stop_task
from recorder.silences import SilencePoller
from recorder.web.keys import (
    ALERTMANAGER_SESSION,
    LOG,
    METRICS,
    RECORDING,
    SETTINGS,
    SILENCE_POLLER,
    STORE,
)


def add_silence_polling(app: web.Application) -> None:
    """Register the Alertmanager session and the poller, in that order (the poller stops
    before the session closes, and both before the store closes)."""
    app.cleanup_ctx.append(alertmanager_session_ctx)
    app.cleanup_ctx.append(silence_poller_ctx)


async def alertmanager_session_ctx(app: web.Application) -> AsyncIterator[None]:
    """One aiohttp.ClientSession for every Alertmanager API request of this app."""
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=4),
        headers={"User-Agent": "incident-recorder", "Accept": "application/json"},
    )
    app[ALERTMANAGER_SESSION] = session
    yield
    await session.close()


async def silence_poller_ctx(app: web.Application) -> AsyncIterator[None]:
    """Run the silence poller as a task; cancel it at shutdown."""
    settings = app[SETTINGS]
    poller = SilencePoller(
        app[STORE],
        app[RECORDING],
        app[ALERTMANAGER_SESSION],
        settings.alertmanager_urls,
        interval=settings.silence_poll,
        metrics=app[METRICS],
        log=app[LOG],
    )
    app[SILENCE_POLLER] = poller
    task = asyncio.create_task(poller.run(), name="silence-poller")
    yield
    await stop_task(task)
