"""GET /api/v1/incidents/{id}/samples, and the per-signal summaries of the incident object."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from aiohttp import web

from recorder.evidence.series import Sample, summarize_series
from recorder.evidence.wording import rfc3339
from recorder.settings import Settings
from recorder.store.protocol import SampleStore
from recorder.web.access import require_read
from recorder.web.keys import LOG_FIELDS, SETTINGS, STORE

Stored = Mapping[str, Sequence[tuple[datetime, float]]]


def _signal_names(settings: Settings, stored: Stored, unsampled: Mapping[str, str]) -> list[str]:
    """Configured signals first (in configuration order), then any others stored."""
    names = [s.name for s in settings.effective_signals()]
    return list(dict.fromkeys([*names, *stored, *unsampled]))


def build_signal_summaries(
    settings: Settings, stored: Stored, unsampled: Mapping[str, str]
) -> dict[str, dict[str, Any]]:
    """The incident object's `signals`: summarize_series per signal plus why it is
    unsampled (null when it is sampled). Empty when nothing was sampled or skipped."""
    if not any(stored.values()) and not unsampled:
        return {}
    interval = settings.sampling.interval.total_seconds()
    summaries: dict[str, dict[str, Any]] = {}
    for name in _signal_names(settings, stored, unsampled):
        rows = stored.get(name, ())
        summary = summarize_series(
            name, [Sample(at, value) for at, value in rows], interval_seconds=interval
        ).to_dict()
        summary["unsampled_reason"] = None if rows else unsampled.get(name)
        summaries[name] = summary
    return summaries


async def load_signal_summaries(
    store: SampleStore, settings: Settings, incident_id: str
) -> dict[str, dict[str, Any]]:
    """Load the incident's samples and unsampled reasons and summarize them."""
    stored = await store.load_samples(incident_id)
    unsampled = await store.load_unsampled(incident_id)
    return build_signal_summaries(settings, stored, unsampled)


def _json_value(value: float) -> float | None:
    return value if math.isfinite(value) else None


async def get_samples(request: web.Request) -> web.Response:
    """GET /api/v1/incidents/{id}/samples: every stored sample per signal.

    `{"incident_id", "interval_seconds", "signals": {name: {"samples": [[rfc3339, value],
    ...], "unsampled_reason": str | null}}}`; NaN and ±Inf values are null.
    """
    require_read(request)
    incident_id = request.match_info["id"]
    request[LOG_FIELDS]["incident_id"] = incident_id
    store, settings = request.app[STORE], request.app[SETTINGS]
    await store.load(incident_id)  # IncidentNotFound -> 404
    stored = await store.load_samples(incident_id)
    unsampled = await store.load_unsampled(incident_id)
    signals = {
        name: {
            "samples": [[rfc3339(at), _json_value(value)] for at, value in stored.get(name, ())],
            "unsampled_reason": None if stored.get(name) else unsampled.get(name),
        }
        for name in _signal_names(settings, stored, unsampled)
    }
    return web.json_response(
        {
            "incident_id": incident_id,
            "interval_seconds": settings.sampling.interval.total_seconds(),
            "signals": signals,
        }
    )
