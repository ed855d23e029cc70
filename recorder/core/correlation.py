"""Correlation: which incident a notification's alerts belong to."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

from recorder.core.events import AlertEvent, AlertNotification

GROUP_KEY = "group_key"


def split_by_key(
    notification: AlertNotification, correlate_by: Sequence[str]
) -> dict[str, AlertNotification]:
    """Map each correlation key to the part of the notification that belongs to it.

    With the default `["group_key"]` the whole notification is one key: Alertmanager's
    `groupKey`. With label names, each alert is keyed by its own values of those labels,
    so one notification may feed several incidents; a missing label counts as empty.
    """
    if list(correlate_by) == [GROUP_KEY]:
        return {"group:" + notification.group_key: notification}
    buckets: dict[str, list[AlertEvent]] = {}
    for alert in notification.alerts:
        pairs = [[name, alert.labels.get(name, "")] for name in correlate_by]
        key = "labels:" + json.dumps(pairs, separators=(",", ":"), ensure_ascii=False)
        buckets.setdefault(key, []).append(alert)
    return {key: replace(notification, alerts=tuple(alerts)) for key, alerts in buckets.items()}
