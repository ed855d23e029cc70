"""POST /webhooks/alertmanager: authenticate, check, parse with the adapter, record, answer.

`record_alert_webhook` also serves Grafana's contact point, which posts the same shape."""

from __future__ import annotations

from aiohttp import web

from alert_adapters.versions import parse_alert_webhook
from recorder.web.access import require_bearer
from recorder.web.intake import counted_delivery, delivery_answer, read_limited, require_json
from recorder.web.keys import BODY_PARSER, LOG_FIELDS, METRICS, RECORDING, SETTINGS


async def alertmanager_webhook(request: web.Request) -> web.Response:
    """POST /webhooks/alertmanager: store one notification; 200 also for duplicates.

    Also takes Grafana-managed alerting's version "1" body (the same shape)."""
    return await record_alert_webhook(request, "alertmanager", "the Alertmanager webhook")


async def record_alert_webhook(request: web.Request, source: str, realm: str) -> web.Response:
    """Authenticate with the Alertmanager token, parse an Alertmanager-shaped body (the
    adapter tells the versions apart), record its alerts and answer which incidents."""
    settings = request.app[SETTINGS]
    with counted_delivery(request.app[METRICS], source) as delivery:
        require_bearer(request, settings.alertmanager_token, realm)
        require_json(request)
        body = await read_limited(request, settings.body_limit)
        notification = await request.app[BODY_PARSER].run(len(body), parse_alert_webhook, body)
        outcomes = await request.app[RECORDING].record_alerts(notification)
        delivery.outcome = "stored" if any(o.changed for o in outcomes) else "duplicate"
        ids = sorted({o.incident.id for o in outcomes if o.incident is not None})
        request[LOG_FIELDS].update(source=source, outcome=delivery.outcome, incidents=ids)
        return delivery_answer(delivery.outcome, ids)
