"""What both PagerDuty webhook versions share: references, statuses, instants, checks.

Used by `alert_adapters.pagerduty` (V3 and the entry points) and
`alert_adapters.pagerduty_v2` (the legacy form).
"""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from alert_adapters.errors import PayloadInvalid, describe_validation_error
from alert_adapters.limits import (
    INCIDENT_KEY_MAX_BYTES,
    PAGERDUTY_ID_MAX_BYTES,
    TEXT_MAX_BYTES,
    text_problem,
    utc_instant,
)
from recorder.core.events import PagedIncidentStatus, PageEvent

SOURCE = "PagerDuty"

# Lax on purpose: a 4xx makes PagerDuty drop the delivery, so accept what parses sensibly.
LAX = ConfigDict(extra="ignore", frozen=True)
# Lists are bounded so that a hostile body cannot make pydantic list a million errors
# (PagerDuty sends a handful of assignees and log entries, and one V2 message at a time).
MAX_ITEMS = 1000


class Reference(BaseModel):
    """PagerDuty's `*_reference` object: `summary` is the display name."""

    model_config = LAX

    id: str
    type: str | None = None
    summary: str | None = None
    html_url: str | None = None


Model = TypeVar("Model", bound=BaseModel)


def checked(event: PageEvent, at: str) -> PageEvent:
    """The event, unless a string it carries cannot be stored (then PayloadInvalid).

    Paths name the normalized field under the event or message, e.g. `event.incident.id`.
    """
    texts: list[tuple[str, str | None, int]] = [
        ("id", event.event_id, PAGERDUTY_ID_MAX_BYTES),
        ("event_type", event.event_type, TEXT_MAX_BYTES),
        ("agent", event.agent, TEXT_MAX_BYTES),
        ("text", event.text, TEXT_MAX_BYTES),
    ]
    paged = event.incident
    if paged is not None:
        texts += [
            ("incident.id", paged.id, PAGERDUTY_ID_MAX_BYTES),
            ("incident.incident_key", paged.incident_key, INCIDENT_KEY_MAX_BYTES),
            ("incident.html_url", paged.html_url, TEXT_MAX_BYTES),
            ("incident.title", paged.title, TEXT_MAX_BYTES),
            ("incident.service", paged.service, TEXT_MAX_BYTES),
            ("incident.urgency", paged.urgency, TEXT_MAX_BYTES),
            ("incident.priority", paged.priority, TEXT_MAX_BYTES),
        ]
        texts += [
            (f"incident.assignees.{i}", name, TEXT_MAX_BYTES)
            for i, name in enumerate(paged.assignees)
        ]
    problems = [
        f"{at}.{path}: {problem}"
        for path, value, limit in texts
        if value is not None and (problem := text_problem(value, limit)) is not None
    ]
    if problems:
        raise PayloadInvalid(SOURCE, problems[:10])
    return event


def paged_status(raw: str | None) -> PagedIncidentStatus | None:
    # An unknown status must not fail the delivery; the event kind says what happened.
    try:
        return PagedIncidentStatus(raw) if raw is not None else None
    except ValueError:
        return None


def utc(moment: datetime, at: str) -> datetime:
    """The instant in UTC; PayloadInvalid when storage could not hold it."""
    instant = utc_instant(moment)
    if isinstance(instant, str):
        raise PayloadInvalid(SOURCE, [f"{at}: {instant}"])
    return instant


def utc_or_none(moment: datetime | None, at: str) -> datetime | None:
    return None if moment is None else utc(moment, at)


def validate(model: type[Model], value: object, at: str) -> Model:
    """Validate a decoded JSON value, reporting error paths from the document root."""
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        raise PayloadInvalid(SOURCE, describe_validation_error(exc, at)) from None
