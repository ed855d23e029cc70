"""Frozen at resolution: which decisions keep or drop an incident's settings copy."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from recorder.core.frozen import freeze_on_resolution
from recorder.core.incident import Incident, IncidentStatus, Outcome, Transition

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
COPY = '{"slo_target":0.999}'


def incident(**changes: object) -> Incident:
    base = Incident(
        id="i-1",
        correlation_key="k",
        group_key="g",
        title="t",
        status=IncidentStatus.INVESTIGATING,
        severity=None,
        labels={},
        started_at=T0,
        detected_at=T0,
        updated_at=T0,
        opened_by="Alertmanager",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def resolved(**changes: object) -> Incident:
    return incident(status=IncidentStatus.RESOLVED, resolved_at=T0, **changes)


def test_resolving_keeps_the_current_settings() -> None:
    """A decision that resolves the incident writes the settings copy with it."""
    out = freeze_on_resolution(
        Outcome(resolved(), incident_changed=True, transitions=(Transition.RESOLVED,)), COPY
    )
    assert out.incident is not None
    assert out.incident.figure_settings == COPY
    assert out.incident_changed


def test_reopening_drops_the_copy() -> None:
    """An open incident holds no copy: the re-open writes it away."""
    out = freeze_on_resolution(
        Outcome(incident(figure_settings=COPY), transitions=(Transition.REOPENED,)), COPY
    )
    assert out.incident is not None
    assert out.incident.figure_settings is None
    assert out.incident_changed


def test_later_changes_to_a_resolved_incident_keep_its_first_copy() -> None:
    """A late alert or a PagerDuty echo on a resolved incident does not re-freeze it."""
    outcome = Outcome(resolved(figure_settings=COPY), incident_changed=True)
    assert freeze_on_resolution(outcome, '{"slo_target":0.9}') is outcome


def test_without_settings_to_keep_nothing_is_frozen() -> None:
    """A recorder that keeps no copy (None) leaves the resolved incident as decided."""
    outcome = Outcome(resolved(), incident_changed=True, transitions=(Transition.RESOLVED,))
    assert freeze_on_resolution(outcome, None) is outcome
    assert freeze_on_resolution(Outcome(None), COPY) == Outcome(None)
