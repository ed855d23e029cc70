"""POST /webhooks/pagerduty: authenticate the raw body, parse, record each event, answer.

PagerDuty drops a delivery answered with a 4xx (and disables a subscription after three
in a row), retries 5xx and timeouts, and wants an answer within 5 seconds: the handler
only verifies, parses and writes one short transaction per event.
"""

from __future__ import annotations

from aiohttp import web

from alert_adapters.errors import PayloadNotJSON
from alert_adapters.pagerduty import read_pagerduty
from alert_adapters.signature import verify_pagerduty_signature
from recorder.core.paging import PagingPolicy
from recorder.settings import Settings
from recorder.web.auth import basic_auth_matches
from recorder.web.intake import counted_delivery, delivery_answer, read_limited, require_json
from recorder.web.keys import BODY_PARSER, LOG_FIELDS, METRICS, RECORDING, SETTINGS
from recorder.web.problems import Problem

SIGNATURE_HEADER = "X-PagerDuty-Signature"
WEBHOOK_ID_HEADER = "X-Webhook-Id"


def authenticate_pagerduty(
    request: web.Request, raw: bytes, legacy_v2: bool, settings: Settings
) -> None:
    """Raise 401 unless the delivery may be trusted.

    V3: with a secret set, some `v1=` entry of X-PagerDuty-Signature must be the
    HMAC-SHA256 of the raw body under one of the secrets. Legacy V2 carries no signature:
    it needs HTTP Basic auth equal to RECORDER_PAGERDUTY_V2_BASIC_AUTH when that is set,
    and is refused while a V3 secret is set without it.
    """
    secrets = settings.pagerduty_secrets
    if legacy_v2:
        basic = settings.pagerduty_v2_basic_auth
        if basic is not None:
            if not basic_auth_matches(request, basic):
                raise Problem(
                    401,
                    "Unauthorized",
                    "legacy V2 PagerDuty webhooks need the HTTP Basic credentials set in "
                    "RECORDER_PAGERDUTY_V2_BASIC_AUTH",
                    headers={"WWW-Authenticate": 'Basic realm="incident-recorder"'},
                )
            return
        if secrets:
            raise Problem(
                401,
                "Unauthorized",
                "legacy V2 PagerDuty webhooks are unsigned and a V3 signing secret is set: "
                "set RECORDER_PAGERDUTY_V2_BASIC_AUTH and send those credentials",
            )
        return
    require_v3_signature(request, raw, settings)


def require_v3_signature(request: web.Request, raw: bytes, settings: Settings) -> None:
    """Raise 401 when a V3 secret is set and no signature entry matches the raw body."""
    secrets = settings.pagerduty_secrets
    if not secrets:
        return
    header = request.headers.get(SIGNATURE_HEADER)
    if not header:
        raise Problem(401, "Unauthorized", f"{SIGNATURE_HEADER} is missing")
    if not verify_pagerduty_signature(secrets, raw, header):
        raise Problem(
            401,
            "Unauthorized",
            f"no v1 entry of {SIGNATURE_HEADER} matches the body under the configured secrets",
        )


def _combine(outcomes: list[str]) -> str:
    """One delivery's outcome over its events (V2 may carry several)."""
    for candidate in ("stored", "duplicate"):
        if candidate in outcomes:
            return candidate
    return "ignored"


async def pagerduty_webhook(request: web.Request) -> web.Response:
    """POST /webhooks/pagerduty: 200 once stored, for duplicates and for ignored types."""
    settings = request.app[SETTINGS]
    with counted_delivery(request.app[METRICS], "pagerduty") as delivery:
        require_json(request)
        # The signature covers the raw bytes: read them before anything parses them.
        raw = await read_limited(request, settings.body_limit)
        try:
            parsed = await request.app[BODY_PARSER].run(len(raw), read_pagerduty, raw)
        except PayloadNotJSON:
            # Which form it claims is unknown: only a signed sender learns why it failed.
            require_v3_signature(request, raw, settings)
            raise
        authenticate_pagerduty(request, raw, parsed.legacy_v2, settings)
        events = parsed.checked_events()
        webhook_id = request.headers.get(WEBHOOK_ID_HEADER)
        policy = PagingPolicy(resolve_policy=settings.pagerduty_resolve_policy)
        recording = request.app[RECORDING]
        records = [
            await recording.record_page(event, webhook_id=webhook_id, policy=policy)
            for event in events
        ]
        delivery.outcome = _combine([r.outcome for r in records])
        ids = sorted({r.incident_id for r in records if r.incident_id is not None})
        request[LOG_FIELDS].update(
            source="pagerduty",
            outcome=delivery.outcome,
            incidents=ids,
            event_types=[e.event_type for e in events],
            webhook_id=webhook_id,
        )
        return delivery_answer(delivery.outcome, ids)
