"""Correlation: which incident a notification's alerts belong to."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace

from recorder.core.events import AlertEvent, AlertNotification

GROUP_KEY = "group_key"
# Correlation keys are indexed with the incident id (one open incident per key); a btree
# entry holds at most 2704 bytes. A groupKey within the adapters' limit (2048 bytes) always
# fits as it is; several label values, JSON-escaped, may not: a longer key is replaced by
# its SHA-256, which keeps keys distinct.
MAX_KEY_BYTES = 2200


def split_by_key(
    notification: AlertNotification, correlate_by: Sequence[str]
) -> dict[str, AlertNotification]:
    """Map each correlation key to the part of the notification that belongs to it.

    With the default `["group_key"]` the whole notification is one key: Alertmanager's
    `groupKey`. With label names, each alert is keyed by its own values of those labels,
    so one notification may feed several incidents; a missing label counts as empty.
    """
    if list(correlate_by) == [GROUP_KEY]:
        return {bounded_key("group:" + notification.group_key): notification}
    buckets: dict[str, list[AlertEvent]] = {}
    for alert in notification.alerts:
        pairs = [[name, alert.labels.get(name, "")] for name in correlate_by]
        key = "labels:" + json.dumps(pairs, separators=(",", ":"), ensure_ascii=False)
        buckets.setdefault(bounded_key(key), []).append(alert)
    return {key: replace(notification, alerts=tuple(alerts)) for key, alerts in buckets.items()}


def bounded_key(key: str) -> str:
    """`key` itself up to MAX_KEY_BYTES of UTF-8, else `sha256:` and its hex digest."""
    data = key.encode("utf-8")
    if len(data) <= MAX_KEY_BYTES:
        return key
    return "sha256:" + hashlib.sha256(data).hexdigest()
