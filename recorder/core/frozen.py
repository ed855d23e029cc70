"""Frozen at resolution: an incident keeps the settings that shaped its figures (pure).

When an incident resolves, the settings its report's figures depend on (SLO target,
warning and outage levels, sampling, signal queries, severity map) are kept with it, so
its report reads the same after any later change of configuration or restart. A re-open
drops the copy: an open incident's figures follow the current settings.
"""

from __future__ import annotations

from dataclasses import replace

from recorder.core.incident import Outcome, Transition


def freeze_on_resolution(outcome: Outcome, current: str | None) -> Outcome:
    """`outcome` with the incident's settings copy kept or dropped.

    A decision that resolves the incident keeps `current` (the settings as JSON, None when
    the caller keeps none); an open incident holds no copy. Anything else is unchanged,
    so a resolved incident's copy survives late alerts and PagerDuty echoes.
    """
    incident = outcome.incident
    if incident is None:
        return outcome
    if incident.is_open:
        if incident.figure_settings is None:
            return outcome
        frozen = None
    elif Transition.RESOLVED in outcome.transitions and current is not None:
        frozen = current
    else:
        return outcome
    return replace(
        outcome, incident=replace(incident, figure_settings=frozen), incident_changed=True
    )
