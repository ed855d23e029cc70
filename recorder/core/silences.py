"""Alertmanager silences as acknowledgment: matching and the decision. Pure.

Silenced alerts are never sent to receivers, so the only way to learn that someone said
"I'm on it" with a silence is to read Alertmanager's API (recorder.silences does that).
A silence matches an alert when every matcher matches the alert's label of that name
(`isRegex`: a fully anchored regular expression; `isEqual=false` negates); a label the
alert lacks has the value "" (protocols.md §5.2).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from recorder.core.actions import Actor, acknowledge
from recorder.core.events import AlertStatus
from recorder.core.incident import IncidentView, Outcome, TimelineEntry, TimelineKind, Transition

ALERTMANAGER = "Alertmanager"
SILENCED_ACTION = "Silenced alerts in Alertmanager"


@dataclass(frozen=True, slots=True)
class Matcher:
    """One silence matcher: label `name` equals (or, with `is_regex`, fully matches)
    `value`; `is_equal=False` negates."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def matches(self, labels: Mapping[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.is_regex:
            pattern = _compile(self.value)
            hit = pattern is not None and pattern.fullmatch(actual) is not None
        else:
            hit = actual == self.value
        return hit if self.is_equal else not hit


@dataclass(frozen=True, slots=True)
class Silence:
    """One Alertmanager silence as its API gives it; all datetimes are aware UTC.

    `state` is "active", "pending" or "expired".
    """

    id: str
    state: str
    created_by: str
    comment: str
    starts_at: datetime
    ends_at: datetime
    matchers: tuple[Matcher, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        """True when every matcher matches the label set (a silence has at least one)."""
        return bool(self.matchers) and all(m.matches(labels) for m in self.matchers)


@functools.lru_cache(maxsize=1024)
def _compile(expression: str) -> re.Pattern[str] | None:
    """The regular expression, or None when it does not compile here (RE2 and Python
    differ at the edges): such a matcher matches nothing rather than failing the poll."""
    try:
        return re.compile(expression)
    except re.error:
        return None


def silence_applies(view: IncidentView, silence: Silence) -> bool:
    """True when the silence counts for the incident: it is open, the silence is in
    force (active, or expired after the incident started) and it matches at least one
    of the incident's firing alerts."""
    incident = view.incident
    if not incident.is_open or silence.state == "pending":
        return False
    if silence.ends_at <= incident.started_at or silence.ends_at <= silence.starts_at:
        return False
    return any(
        alert.status is AlertStatus.FIRING and silence.matches(alert.labels)
        for alert in view.alerts.values()
    )


def describe_silence(silence: Silence) -> str:
    """The timeline text: "Silenced by NAME until T: comment"."""
    until = silence.ends_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    text = f"Silenced by {silence.created_by or 'someone'} until {until}"
    return f"{text}: {silence.comment}" if silence.comment else text


def decide_silence(view: IncidentView, silence: Silence, now: datetime) -> Outcome:
    """Apply a silence seen for the first time on this incident.

    A silence that does not apply (see `silence_applies`) changes nothing. One that does
    lands in the timeline (source Alertmanager, also when the incident was acknowledged
    before) and acknowledges it at the silence's startsAt (or triggered at, if that is
    later) by its author, unless an earlier acknowledgment stands: the earliest wins.
    """
    if not silence_applies(view, silence):
        return Outcome(incident=view.incident)
    incident = view.incident
    at = max(silence.starts_at, incident.started_at)
    actor = Actor(by=silence.created_by or ALERTMANAGER, source=ALERTMANAGER)
    entry = TimelineEntry(
        at=at,
        event=describe_silence(silence),
        action=SILENCED_ACTION,
        by=actor.by,
        source=actor.source,
        kind=TimelineKind.SILENCED,
    )
    acked = acknowledge(view, actor, at, now)
    if acked.incident_changed:
        return Outcome(
            incident=acked.incident,
            incident_changed=True,
            timeline=(entry, *acked.timeline),
            transitions=acked.transitions,
        )
    return Outcome(
        incident=replace(incident, updated_at=now),
        incident_changed=True,
        timeline=(entry,),
        transitions=(Transition.UPDATED,),
    )
