"""Webhook endpoints: authenticate, check, parse with an adapter, record, answer."""

from __future__ import annotations

import time

from aiohttp import web

from alert_adapters.alertmanager import parse_alertmanager
from alert_adapters.errors import PayloadError
from recorder.store.errors import StoreError
from recorder.web.auth import require_bearer
from recorder.web.intake import read_limited, require_json
from recorder.web.keys import LOG_FIELDS, METRICS, RECORDING, SETTINGS
from recorder.web.problems import Problem


async def alertmanager_webhook(request: web.Request) -> web.Response:
    """POST /webhooks/alertmanager: store one notification; 200 also for duplicates."""
    settings = request.app[SETTINGS]
    metrics = request.app[METRICS]
    started = time.perf_counter()
    outcome = "error"
    try:
        require_bearer(request, settings.alertmanager_token, "the Alertmanager webhook")
        require_json(request)
        body = await read_limited(request, settings.body_limit)
        notification = parse_alertmanager(body)
        outcomes = await request.app[RECORDING].record_alerts(notification)
        stored = any(o.changed for o in outcomes)
        outcome = "stored" if stored else "duplicate"
        ids = sorted({o.incident.id for o in outcomes if o.incident is not None})
        request[LOG_FIELDS].update(source="alertmanager", outcome=outcome, incidents=ids)
        return web.json_response({"status": outcome, "incidents": ids})
    except StoreError:
        raise
    except Problem as exc:
        outcome = "rejected" if exc.status < 500 else "error"
        raise
    except PayloadError:
        outcome = "rejected"
        raise
    finally:
        metrics.webhooks_received.labels(source="alertmanager", outcome=outcome).inc()
        metrics.webhook_duration.labels(source="alertmanager").observe(
            time.perf_counter() - started
        )
