"""GET /api/v1/incidents/{id}/charts/{signal}.svg: one stored signal over the incident."""

from __future__ import annotations

from aiohttp import web

from recorder.report_io import render_chart
from recorder.web.access import require_page_read
from recorder.web.keys import CLOCK, LOG_FIELDS, SETTINGS, STORE
from recorder.web.problems import Problem


async def chart_svg(request: web.Request) -> web.Response:
    """GET /api/v1/incidents/{id}/charts/{signal}.svg: one signal over the incident."""
    require_page_read(request, "reading charts")
    incident_id, signal = request.match_info["id"], request.match_info["signal"]
    request[LOG_FIELDS].update(incident_id=incident_id, signal=signal)
    app = request.app
    svg = await render_chart(app[STORE], app[SETTINGS], incident_id, signal, app[CLOCK].now())
    if svg is None:
        raise Problem(404, "Chart not found", f"no samples of {signal!r} stored for {incident_id}")
    return web.Response(text=svg, content_type="image/svg+xml", charset="utf-8")
