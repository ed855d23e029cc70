"""The normalized event model every alert source is mapped to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# Kinds of alert links, in the order reports list them.
LINK_KINDS: tuple[str, ...] = ("dashboard", "panel", "image", "silence")


class AlertStatus(StrEnum):
    """State of one alert as the alert router reports it."""

    FIRING = "firing"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """One alert inside a notification: identity is (fingerprint, starts_at).

    `ends_at` is None while the alert fires (routers send a zero time for that).
    `value_text` is what the evaluated queries returned, as people read it
    ("B=44.2, C=1"; "" when the sender gives none). `links` maps a kind of page about
    the alert (see LINK_KINDS) to its absolute http(s) URL.
    """

    fingerprint: str
    status: AlertStatus
    starts_at: datetime
    ends_at: datetime | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    generator_url: str = ""
    value_text: str = ""
    links: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertNotification:
    """One webhook delivery of an alert group, normalized.

    `truncated_alerts` > 0 means the router dropped alerts from this message, so the
    message's own view of the group is incomplete and must not close an incident.
    """

    source: str
    receiver: str
    group_key: str
    alerts: tuple[AlertEvent, ...]
    group_labels: Mapping[str, str] = field(default_factory=dict)
    common_labels: Mapping[str, str] = field(default_factory=dict)
    common_annotations: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""
    truncated_alerts: int = 0


class PageEventKind(StrEnum):
    """What happened to a paged incident, in the recorder's words."""

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    ESCALATED = "escalated"
    REASSIGNED = "reassigned"
    ANNOTATED = "annotated"
    PRIORITY_UPDATED = "priority_updated"
    RESPONDER_ADDED = "responder_added"
    STATUS_UPDATE_PUBLISHED = "status_update_published"
    PING = "ping"
    IGNORED = "ignored"


class PagedIncidentStatus(StrEnum):
    """State of the incident in the paging system when the event was sent."""

    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True, slots=True)
class PagedIncident:
    """The paging system's incident an event is about.

    Note, status-update and responder events carry only a reference to the incident, so
    `reference_only` is True and only `id`, `html_url` and `title` are known; the other
    fields are then None (or empty).
    `incident_key` is the dedup key the alert router sent (Alertmanager's PagerDuty
    integration sends sha256_hex(groupKey)); it links the page to an alert group.
    """

    id: str
    html_url: str
    title: str
    number: int | None = None
    status: PagedIncidentStatus | None = None
    incident_key: str | None = None
    service: str | None = None
    urgency: str | None = None
    priority: str | None = None
    created_at: datetime | None = None
    assignees: tuple[str, ...] = ()
    reference_only: bool = False


@dataclass(frozen=True, slots=True)
class PageEvent:
    """One event from a paging system, normalized. All datetimes are timezone-aware UTC.

    `event_id` is unique per event (the dedup key across redeliveries); `event_type` is
    the vendor's raw name, kept for the delivery log. `agent` is who did it (None when
    automation did). `text` is the note, status update or responder request message.
    `incident` is None for events that are not about an incident (ping, ignored types).
    """

    source: str
    event_id: str
    event_type: str
    kind: PageEventKind
    occurred_at: datetime
    agent: str | None = None
    incident: PagedIncident | None = None
    text: str | None = None
