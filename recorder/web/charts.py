"""Charts of an incident's stored samples: building them and GET …/charts/{signal}.svg."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from aiohttp import web

from recorder.core.incident import Incident
from recorder.report.svg import WarningLevels, incident_chart, render_svg
from recorder.settings import Settings
from recorder.web.keys import CLOCK, LOG_FIELDS, SETTINGS, STORE
from recorder.web.problems import Problem
from recorder.web.security import may_read

Samples = Mapping[str, Sequence[tuple[datetime, float]]]


def warning_levels(settings: Settings) -> WarningLevels:
    """The configured warning levels, as the chart renderer takes them."""
    t = settings.thresholds
    return WarningLevels(
        pool_ratio=t.pool_warning, error_factor=t.error_rate_factor, error_floor=t.error_rate_min
    )


def build_chart(
    incident: Incident, signal: str, samples: Samples, settings: Settings, now: datetime
) -> str:
    """The SVG of one stored signal over the incident, with the configured warning level."""
    chart = incident_chart(
        incident,
        signal,
        samples,
        baseline_window=settings.sampling.baseline_window,
        now=now,
        levels=warning_levels(settings),
    )
    return render_svg(chart)


def build_charts(
    incident: Incident, samples: Samples, settings: Settings, now: datetime
) -> dict[str, str]:
    """One SVG per stored signal, in the store's signal order."""
    return {signal: build_chart(incident, signal, samples, settings, now) for signal in samples}


async def chart_svg(request: web.Request) -> web.Response:
    """GET /api/v1/incidents/{id}/charts/{signal}.svg: one signal over the incident."""
    if not may_read(request):
        raise Problem(
            401,
            "Unauthorized",
            "reading charts needs `Authorization: Bearer <token>` or a signed-in session",
            headers={"WWW-Authenticate": 'Bearer realm="incident-recorder"'},
        )
    incident_id, signal = request.match_info["id"], request.match_info["signal"]
    store = request.app[STORE]
    view = await store.load(incident_id)
    samples = await store.load_samples(incident_id)
    if signal not in samples:
        raise Problem(404, "Chart not found", f"no samples of {signal!r} stored for {incident_id}")
    request[LOG_FIELDS].update(incident_id=incident_id, signal=signal)
    svg = build_chart(
        view.incident, signal, samples, request.app[SETTINGS], request.app[CLOCK].now()
    )
    return web.Response(text=svg, content_type="image/svg+xml", charset="utf-8")
