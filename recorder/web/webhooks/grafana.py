"""POST /webhooks/grafana: Grafana-managed alerting's webhook contact point.

Grafana posts Alertmanager's shape (version "1"), so it shares the Alertmanager hook's
path through `record_alert_webhook`, under the same token, and is counted as its own source.
"""

from __future__ import annotations

from aiohttp import web

from recorder.web.webhooks.alertmanager import record_alert_webhook


async def grafana_webhook(request: web.Request) -> web.Response:
    """POST /webhooks/grafana: Grafana's webhook contact point; same token and answers."""
    return await record_alert_webhook(request, "grafana", "the Grafana webhook")
