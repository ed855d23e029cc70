"""GET /api/v1/incidents/{id}/charts/{signal}.svg: one stored signal over the incident."""

from __future__ import annotations

from aiohttp import web

from recorder.reporting import render_chart
from recorder.web.keys import CLOCK, LOG_FIELDS, SETTINGS, STORE
from recorder.web.problems import Problem
from recorder.web.security import may_read


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
    request[LOG_FIELDS].update(incident_id=incident_id, signal=signal)
    app = request.app
    svg = await render_chart(app[STORE], app[SETTINGS], incident_id, signal, app[CLOCK].now())
    if svg is None:
        raise Problem(404, "Chart not found", f"no samples of {signal!r} stored for {incident_id}")
    return web.Response(text=svg, content_type="image/svg+xml", charset="utf-8")
