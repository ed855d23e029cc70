"""Typed application state keys, declared in one place."""

from __future__ import annotations

from typing import Any

import aiohttp
import structlog
from aiohttp import web

from recorder.clock import Clock
from recorder.ingest import Recording
from recorder.metrics import RecorderMetrics
from recorder.sampler import Sampler
from recorder.settings import Settings
from recorder.silences import SilencePoller
from recorder.storage_state import StorageState
from recorder.store.protocol import Store
from recorder.web.inflight import Draining
from recorder.web.parsing import BodyParser

SETTINGS = web.AppKey("settings", Settings)
STORE = web.AppKey("store", Store)
CLOCK = web.AppKey("clock", Clock)
METRICS = web.AppKey("metrics", RecorderMetrics)
RECORDING = web.AppKey("recording", Recording)
LOG = web.AppKey("log", structlog.typing.FilteringBoundLogger)
STORAGE_STATE = web.AppKey("storage_state", StorageState)
DRAINING = web.AppKey("draining", Draining)
BODY_PARSER = web.AppKey("body_parser", BodyParser)
# Only when RECORDER_PROMETHEUS_URL is set (see recorder.web.sampler_task).
PROMETHEUS_SESSION = web.AppKey("prometheus_session", aiohttp.ClientSession)
SAMPLER = web.AppKey("sampler", Sampler)
# Only when RECORDER_ALERTMANAGER_URL is set (see recorder.web.silencing).
ALERTMANAGER_SESSION = web.AppKey("alertmanager_session", aiohttp.ClientSession)
SILENCE_POLLER = web.AppKey("silence_poller", SilencePoller)
# Extra fields a handler adds to its request's single log line.
LOG_FIELDS = web.RequestKey("log_fields", dict[str, Any])
