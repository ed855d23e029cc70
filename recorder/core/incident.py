"""Incident aggregate: the incident row, its alerts, timeline entries and decision outcomes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from recorder.core.events import AlertStatus


class IncidentStatus(StrEnum):
    """The report template's status words."""

    INVESTIGATING = "investigating"
    MITIGATING = "mitigating"
    RESOLVED = "resolved"


class Transition(StrEnum):
    """What a decision did to an incident, for logs and metrics."""

    OPENED = "opened"
    REOPENED = "reopened"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    SEVERITY_CHANGED = "severity_changed"
    UPDATED = "updated"


class TimelineKind(StrEnum):
    """Kinds of timeline entries; the report and pages group and style by kind."""

    ALERT_FIRING = "alert_firing"
    ALERT_RESOLVED = "alert_resolved"
    OPENED = "opened"
    ACKNOWLEDGED = "acknowledged"
    UNACKNOWLEDGED = "unacknowledged"
    SILENCED = "silenced"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    ESCALATED = "escalated"
    REASSIGNED = "reassigned"
    RESPONDER = "responder"
    PAGED = "paged"
    NOTE = "note"
    STATUS_UPDATE = "status_update"
    SEVERITY = "severity"
    STATUS = "status"
    DERIVED = "derived"
    MANUAL = "manual"


# Free-text fields only people can fill (PATCH); each maps to a report template section.
HUMAN_FIELDS: tuple[str, ...] = (
    "summary",
    "users_affected",
    "business_impact",
    "root_cause",
    "immediate_actions",
    "what_worked_well",
    "what_could_be_improved",
    "short_term_fix",
    "long_term_fix",
    "internal_communication",
    "external_communication",
    "action_items",
    "lessons_went_well",
    "lessons_went_wrong",
    "lessons_prevent_recurrence",
    "related_documentation",
    "commands_run",
    "report_created_by",
    "review_status",
    "reviewed_by",
)

RECORDER = "Recorder"


@dataclass(frozen=True, slots=True)
class AlertText:
    """What an alert said at one moment: its annotations and, where the source sends one,
    its value text (Grafana's valueString)."""

    annotations: Mapping[str, str]
    value: str = ""


@dataclass(frozen=True, slots=True)
class AlertState:
    """The recorder's knowledge of one distinct alert (fingerprint + starts_at).

    `annotations` are the latest the router sent; `at_firing` and `at_resolution` keep
    what the alert said when it fired and when it resolved (None where not recorded:
    alerts stored before these were kept, or first seen already resolved).
    `value_text` and `links` are as the alert's first notification gave them: the
    values when it fired, and the sender's pages about it (see AlertEvent).
    """

    fingerprint: str
    starts_at: datetime
    status: AlertStatus
    ends_at: datetime | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    generator_url: str
    received_at: datetime
    updated_at: datetime
    at_firing: AlertText | None = None
    at_resolution: AlertText | None = None
    value_text: str = ""
    links: Mapping[str, str] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, datetime]:
        return (self.fingerprint, self.starts_at)

    @property
    def firing_text(self) -> AlertText:
        """What the alert said when it fired; the latest annotations where that was not
        recorded (older rows keep what they showed before)."""
        return self.at_firing or AlertText(self.annotations, self.value_text)

    @property
    def resolution_text(self) -> AlertText | None:
        """What the alert said when it resolved (None while it fires)."""
        if self.status is not AlertStatus.RESOLVED:
            return None
        return self.at_resolution or AlertText(self.annotations)


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One row of the report's timeline. `derived` marks entries computed from samples."""

    at: datetime
    event: str
    action: str
    by: str
    source: str
    kind: TimelineKind
    derived: bool = False


@dataclass(frozen=True, slots=True)
class PagerDutyLink:
    """The PagerDuty incident linked to a recorder incident.

    `status_at` is when the newest PagerDuty status change applied so far happened
    (triggered, acknowledged, unacknowledged, resolved, re-opened): an older one
    arriving late must not undo it.
    """

    id: str
    html_url: str
    incident_key: str | None
    status_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Incident:
    """One incident row. All datetimes are timezone-aware UTC."""

    id: str
    correlation_key: str
    group_key: str
    title: str
    status: IncidentStatus
    severity: str | None
    labels: Mapping[str, str]
    started_at: datetime
    detected_at: datetime
    updated_at: datetime
    opened_by: str
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    reopen_count: int = 0
    severity_source: str = "alerts"
    human: Mapping[str, str] = field(default_factory=dict)
    pagerduty: PagerDutyLink | None = None
    figure_settings: str | None = None
    """JSON of the settings that shaped the figures, kept when the incident resolved (so
    its report never changes) and dropped when it re-opens; see `freeze_on_resolution`.
    Opaque to the core: `recorder.settings` writes and reads it."""

    @property
    def is_open(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED


@dataclass(frozen=True, slots=True)
class IncidentView:
    """An incident with its alert states, as loaded for a decision."""

    incident: Incident
    alerts: Mapping[tuple[str, datetime], AlertState]
    statuses: Mapping[tuple[str, datetime], AlertStatus] | None = None
    """Each alert's status by key, when the store read them apart from `alerts` (whose
    states it may then build only when first read): finding that a notification holds
    only duplicates builds no state. None: taken from `alerts`."""

    def alert_statuses(self) -> Mapping[tuple[str, datetime], AlertStatus]:
        """Each alert's status by key."""
        if self.statuses is not None:
            return self.statuses
        return {key: state.status for key, state in self.alerts.items()}


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a decision produced: the new incident state and what to write.

    `incident` is None when the event changes nothing and opens nothing.
    `alerts` are the alert states to upsert, `timeline` the entries to append.
    """

    incident: Incident | None
    created: bool = False
    incident_changed: bool = False
    alerts: tuple[AlertState, ...] = ()
    timeline: tuple[TimelineEntry, ...] = ()
    transitions: tuple[Transition, ...] = ()

    @property
    def changed(self) -> bool:
        return self.created or self.incident_changed or bool(self.alerts or self.timeline)


NOTHING = Outcome(incident=None)
