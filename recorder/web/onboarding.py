"""What the empty incident list shows: where to point webhooks and one alert to try."""

from __future__ import annotations

import json
import shlex
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from recorder.settings import Settings
from recorder.timefmt import to_rfc3339

# (path, who sends to it) for every webhook the recorder takes.
WEBHOOKS = (
    ("/webhooks/alertmanager", "Alertmanager (webhook_configs)"),
    ("/webhooks/grafana", "Grafana alerting (webhook contact point)"),
    ("/webhooks/pagerduty", "PagerDuty (V3 webhook subscription)"),
)


@dataclass(frozen=True, slots=True)
class Onboarding:
    """The webhook URLs on this recorder and a curl command that opens a test incident."""

    webhooks: tuple[tuple[str, str], ...]
    curl: str


def try_alert_body(now: datetime) -> str:
    """The smallest Alertmanager (version 4) notification the recorder accepts, firing now."""
    alert = {
        "status": "firing",
        "labels": {"alertname": "RecorderTestAlert", "severity": "warning"},
        "annotations": {"summary": "A test alert sent by hand"},
        "startsAt": to_rfc3339(now.replace(microsecond=0)),
        "fingerprint": "recorder-test-alert",
    }
    message = {"version": "4", "groupKey": "recorder-test", "status": "firing", "alerts": [alert]}
    return json.dumps(message, separators=(",", ":"))


def build_onboarding(
    settings: Settings, origin: str, now: datetime, served: Collection[str]
) -> Onboarding:
    """The webhooks among `served` (route paths), under the recorder's public URL (`origin`
    when none is configured). The curl names the token's variable, never its value.
    """
    base = settings.public_url(origin)
    words = ["curl", "-X", "POST", f"{base}/webhooks/alertmanager"]
    words += ["-H", "Content-Type: application/json"]
    auth = ""
    if settings.alertmanager_token is not None:
        auth = ' -H "Authorization: Bearer $RECORDER_ALERTMANAGER_TOKEN"'
    curl = shlex.join(words) + auth + " -d " + shlex.quote(try_alert_body(now))
    hooks = tuple((base + path, who) for path, who in WEBHOOKS if path in served)
    return Onboarding(webhooks=hooks, curl=curl)
