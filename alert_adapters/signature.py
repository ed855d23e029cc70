"""PagerDuty V3 webhook signature check (`X-PagerDuty-Signature`), pure."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

_V1_PREFIX = "v1="


def verify_pagerduty_signature(secrets: Sequence[str], raw_body: bytes, header: str | None) -> bool:
    """True when any `v1=` entry of the header is HMAC-SHA256(secret, raw_body) for any secret.

    The header is a comma-separated list (one entry per active secret, so secrets can be
    rotated without downtime); entries are stripped, and other versions (`v0=`, ...) are
    ignored. The digest covers the raw bytes as received: a re-serialized body never
    matches. Comparison is constant-time. No secrets or no header means False.
    """
    if not header or not secrets:
        return False
    candidates = [
        entry[len(_V1_PREFIX) :].lower()
        for entry in (part.strip() for part in header.split(","))
        if entry.startswith(_V1_PREFIX)
    ]
    if not candidates:
        return False
    # Compare every pair without short-circuiting, so timing says nothing about which
    # secret or entry matched.
    matched = False
    for secret in secrets:
        expected = hmac.new(secret.encode("utf-8"), raw_body, hashlib.sha256).hexdigest()
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
    return matched
