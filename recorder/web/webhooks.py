"""Webhook endpoints: authenticate, check, parse with an adapter, record, answer."""

from __future__ import annotations

from aiohttp import web

from alert_adapters.alertmanager import parse_alertmanager
from recorder.web.auth import require_bearer
from recorder.web.intake import counted_delivery, read_limited, require_json
from recorder.web.keys import BODY_PARSER, LOG_FIELDS, METRICS, RECORDING, SETTINGS


async def alertmanager_webhook(request: web.Request) -> web.Response:
    """POST /webhooks/alertmanager: store one notification; 200 also for duplicates."""
    settings = request.app[SETTINGS]
    with counted_delivery(request.app[METRICS], "alertmanager") as delivery:
        require_bearer(request, settings.alertmanager_token, "the Alertmanager webhook")
        require_json(request)
        body = await read_limited(request, settings.body_limit)
        notification = await request.app[BODY_PARSER].run(len(body), parse_alertmanager, body)
        outcomes = await request.app[RECORDING].record_alerts(notification)
        delivery.outcome = "stored" if any(o.changed for o in outcomes) else "duplicate"
        ids = sorted({o.incident.id for o in outcomes if o.incident is not None})
        request[LOG_FIELDS].update(source="alertmanager", outcome=delivery.outcome, incidents=ids)
        return web.json_response({"status": delivery.outcome, "incidents": ids})
