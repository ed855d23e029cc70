"""Which incident an event joins, from what the store looked up. Pure.

The store offers two lookups per event (see `JoinLookup`) and locks and loads whatever
these rules choose; the rules live here once, not in each backend's SQL.

Alertmanager's PagerDuty integration sends `dedup_key = sha256_hex(groupKey)`, which
PagerDuty reports as its incident's `incident_key`: that *link key* ties pages and alert
groups together in every order of arrival, including when one side is late because its
sender was retrying while the other side already resolved the incident.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from recorder.core.events import AlertEvent
from recorder.core.incident import Incident, IncidentView
from recorder.core.links import is_paged_correlation_key

# How many incidents sharing a link key the store looks at, newest first. Only the few
# newest can matter: PagerDuty opens one incident per dedup key at a time.
JOIN_LOOKUP_LIMIT = 20


@dataclass(frozen=True, slots=True)
class JoinLookup:
    """What the store found for one event, for the rules below to choose from.

    `direct` is the incident the event names itself, with its alerts: the newest incident
    of the alert group's correlation key, or the incident linked to the page's PagerDuty
    id. `linked` are incidents sharing the event's link key, newest first (at most
    JOIN_LOOKUP_LIMIT): for alerts, those PagerDuty opened that no alert group adopted
    yet; for pages, all of them.
    """

    direct: IncidentView | None
    linked: tuple[Incident, ...] = ()


def direct_only(lookup: JoinLookup) -> Incident | None:
    """The incident the event names itself, ignoring link keys."""
    return lookup.direct.incident if lookup.direct is not None else None


def choose_for_alerts(lookup: JoinLookup, alerts: Iterable[AlertEvent]) -> Incident | None:
    """The incident an alert notification (one correlation key's part) joins.

    1. The newest incident of the correlation key, while it is open, or when it already
       holds every alert of the notification.
    2. Else an incident PagerDuty opened for this alert group (same link key, not adopted
       by an alert group, opened after the key's newest incident): the oldest one still
       open when the alerts started, i.e. open now or resolved after the earliest
       alert's startsAt. That is the contract's late-join rule: Alertmanager was retrying
       while PagerDuty delivered everything, resolution included.
    3. Else the key's newest incident (resolved: the lifecycle re-opens it or opens a new
       one), or None.
    """
    newest = direct_only(lookup)
    if newest is not None and newest.is_open:
        return newest
    # Alerts the key's newest incident already holds (a late retry of its resolution)
    # belong to it, whatever PagerDuty opened since.
    known = lookup.direct.alerts if lookup.direct is not None else {}
    fresh = [alert for alert in alerts if (alert.fingerprint, alert.starts_at) not in known]
    if not fresh:
        return newest
    earliest = min(alert.starts_at for alert in fresh)
    candidates = sorted(
        (
            incident
            for incident in lookup.linked
            if is_paged_correlation_key(incident.correlation_key)
            and (newest is None or incident.id > newest.id)
        ),
        key=lambda incident: incident.id,
    )
    for candidate in candidates:
        if _open_at(candidate, earliest):
            return candidate
    return newest


def choose_for_page(lookup: JoinLookup, created_at: datetime) -> Incident | None:
    """The incident a paging event applies to; `created_at` is when the paging system
    created its incident.

    1. The incident linked to the page's PagerDuty id.
    2. Else the newest open incident with the page's link key.
    3. Else the newest resolved incident with that link key that was open when PagerDuty
       created its incident: the alert group's notifications, resolution included,
       reached the recorder before PagerDuty's deliveries did.
    4. Else None: the page opens its own incident (or, for a note, changes nothing).
    """
    direct = direct_only(lookup)
    if direct is not None:
        return direct
    for incident in lookup.linked:
        if incident.is_open:
            return incident
    for incident in lookup.linked:
        if incident.started_at <= created_at and _open_at(incident, created_at):
            return incident
    return None


def _open_at(incident: Incident, at: datetime) -> bool:
    """True when the incident is open now or was resolved after `at`."""
    if incident.is_open:
        return True
    return incident.resolved_at is not None and at < incident.resolved_at
