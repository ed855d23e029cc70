"""Link keys: how a PagerDuty incident finds the recorder incident of its alert group. Pure.

Alertmanager's PagerDuty integration sends `dedup_key = sha256_hex(groupKey)`, which
PagerDuty reports back as the incident's `incident_key`. An incident's link key is that
key once a page is linked, else the one derived from its own Alertmanager group.
"""

from __future__ import annotations

import hashlib

from recorder.core.events import PageEvent
from recorder.core.incident import Incident

# Correlation keys of incidents PagerDuty opened; an Alertmanager group adopts them.
PAGED_KEY_PREFIX = "pagerduty:"


def sha256_hex(text: str) -> str:
    """Lowercase hex SHA-256 of the UTF-8 text (Alertmanager's PagerDuty dedup_key rule)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def group_link_key(group_key: str) -> str | None:
    """The PagerDuty incident_key Alertmanager sends for an alert group, None without one."""
    return sha256_hex(group_key) if group_key else None


def incident_link_key(incident: Incident) -> str | None:
    """The key pages are linked by: the PagerDuty incident_key once linked, else the one
    derived from the incident's Alertmanager group."""
    link = incident.pagerduty
    if link is not None and link.incident_key:
        return link.incident_key
    return group_link_key(incident.group_key)


def event_link_key(event: PageEvent) -> str | None:
    """The link key a page event names (its incident's incident_key), if any."""
    paged = event.incident
    return paged.incident_key if paged is not None and paged.incident_key else None


def paged_correlation_key(pagerduty_id: str) -> str:
    """The correlation key of an incident PagerDuty opened, until alerts adopt it."""
    return PAGED_KEY_PREFIX + pagerduty_id


def is_paged_correlation_key(key: str) -> bool:
    """True for an incident PagerDuty opened that no alert group has adopted yet."""
    return key.startswith(PAGED_KEY_PREFIX)
