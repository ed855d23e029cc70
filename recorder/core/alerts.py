"""Alert states within an incident: dedup, the next state, what they share, severity. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from recorder.core.events import AlertEvent, AlertStatus
from recorder.core.incident import AlertState, AlertText


def severity_rank(severity: str) -> tuple[int, str]:
    """Sort key where the most severe comes first: SEV1 < SEV2 < SEV3 < anything else."""
    digits = "".join(ch for ch in severity if ch.isdigit())
    return (int(digits) if digits else 1_000, severity)


def highest_severity(
    labels: Iterable[Mapping[str, str]], severity_map: Mapping[str, str]
) -> str | None:
    """The most severe mapped `severity` label over the given label sets, or None."""
    mapped = {
        severity_map[value]
        for value in (label_set.get("severity", "") for label_set in labels)
        if value in severity_map
    }
    return min(mapped, key=severity_rank) if mapped else None


def common_labels(states: Iterable[AlertState]) -> dict[str, str]:
    """Labels whose value is the same on every alert (Alertmanager's commonLabels rule),
    in the first alert's label order."""
    first: Mapping[str, str] | None = None
    shared: set[tuple[str, str]] = set()
    for state in states:
        if first is None:
            first = state.labels
            shared = set(first.items())
        elif shared:
            # Set intersection runs in C: a 10,000-alert storm is 10,000 of these.
            shared &= state.labels.items()
    if first is None:
        return {}
    return {name: value for name, value in first.items() if (name, value) in shared}


def new_alert_events(
    statuses: Mapping[tuple[str, datetime], AlertStatus], events: Iterable[AlertEvent]
) -> list[AlertEvent]:
    """Events not recorded yet: dedup on (fingerprint, starts_at, status); `statuses`
    are the recorded alerts' (IncidentView.alert_statuses).

    A resolved alert stays resolved for its starts_at, so a late firing copy of it (an HA
    peer's delayed duplicate) is a duplicate too. Repeats inside one message count once.
    """
    fresh: dict[tuple[str, datetime], AlertEvent] = {}
    for event in events:
        key = (event.fingerprint, event.starts_at)
        known = statuses.get(key)
        if known is not None and (
            known is AlertStatus.RESOLVED or event.status is AlertStatus.FIRING
        ):
            continue
        earlier = fresh.get(key)
        if earlier is not None and earlier.status is AlertStatus.RESOLVED:
            continue
        fresh[key] = event
    return list(fresh.values())


def next_alert_state(event: AlertEvent, known: AlertState | None, now: datetime) -> AlertState:
    """The alert's new state. Its text at firing is the first firing notification's (the
    repeats Alertmanager sends are duplicates); its text at resolution the resolved one's."""
    # The event's maps are shared, not copied: neither side changes them, and a storm
    # is 10,000 of these.
    annotations = event.annotations
    text = AlertText(annotations, event.value_text)
    resolved = event.status is AlertStatus.RESOLVED
    # Values and links are kept as first seen: the values when the alert fired. A
    # resolved-only alert (first seen resolved) has only its resolution's.
    value_text = known.value_text if known is not None else event.value_text
    links = {**event.links, **known.links} if known is not None and known.links else event.links
    return AlertState(
        fingerprint=event.fingerprint,
        starts_at=event.starts_at,
        status=event.status,
        ends_at=event.ends_at if resolved else None,
        labels=event.labels,
        annotations=annotations,
        generator_url=event.generator_url,
        received_at=known.received_at if known else now,
        updated_at=now,
        at_firing=known.at_firing if known else (None if resolved else text),
        at_resolution=text if resolved else None,
        value_text=value_text,
        links=links,
    )
