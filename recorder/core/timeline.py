"""The incident timeline: stored entries merged with entries derived from alert states.

An alert's firing and resolution are facts of its stored state (starts_at, ends_at), so
they are not stored a second time as timeline rows: a 50-alert notification writes 50
alert rows, not 150 rows. The timeline people read is rebuilt here, in a stable order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from recorder.core.events import AlertEvent, AlertStatus
from recorder.core.incident import RECORDER, AlertState, AlertText, TimelineEntry, TimelineKind

ALERT_SOURCE = "Alertmanager"


def describe_alert(alert: AlertEvent | AlertState, text: AlertText | None = None) -> str:
    """`"AlertName" — summary (value)`, the way alerts are named in the timeline.

    `text` is what the alert said at the moment described (at firing, at resolution);
    by default what the event says, or what the stored alert said when it fired.
    """
    name = alert.labels.get("alertname", alert.fingerprint)
    if text is not None:
        said = text
    elif isinstance(alert, AlertEvent):
        said = AlertText(alert.annotations, alert.value_text)
    else:
        said = alert.firing_text
    summary = said.annotations.get("summary") or said.annotations.get("description")
    described = f'"{name}"' + (f" — {summary}" if summary else "")
    return described + (f" ({said.value})" if said.value else "")


def opened_entry(source: str, at: datetime) -> TimelineEntry:
    """The Recorder's entry for opening an incident on `source`'s first notification."""
    return TimelineEntry(
        at=at,
        event=f"Notification from {source} received; incident opened",
        action="Incident opened",
        by=RECORDER,
        source=RECORDER,
        kind=TimelineKind.OPENED,
    )


def alert_entries(alerts: Iterable[AlertState]) -> list[TimelineEntry]:
    """One "firing" entry per alert at its startsAt quoting what it said then, one
    "resolved" at its endsAt quoting what it said when it resolved."""
    entries: list[TimelineEntry] = []
    for alert in sorted(alerts, key=lambda a: (a.starts_at, a.fingerprint)):
        entries.append(
            TimelineEntry(
                at=alert.starts_at,
                event=f"Alert firing: {describe_alert(alert, alert.firing_text)}",
                action="Alert triggered",
                by=ALERT_SOURCE,
                source=ALERT_SOURCE,
                kind=TimelineKind.ALERT_FIRING,
            )
        )
        if alert.status is AlertStatus.RESOLVED:
            entries.append(
                TimelineEntry(
                    at=alert.ends_at or alert.starts_at,
                    event=f"Alert resolved: {describe_alert(alert, alert.resolution_text)}",
                    action="Alert resolved",
                    by=ALERT_SOURCE,
                    source=ALERT_SOURCE,
                    kind=TimelineKind.ALERT_RESOLVED,
                )
            )
    return entries


def full_timeline(
    stored: Sequence[TimelineEntry], alerts: Iterable[AlertState]
) -> list[TimelineEntry]:
    """Stored entries and alert entries in time order.

    At the same instant alert entries come first (an alert resolving is what resolves the
    incident), and stored entries keep the order they were written in.
    """
    derived = alert_entries(alerts)
    keyed = [(e.at, 0, i, e) for i, e in enumerate(derived)]
    keyed += [(e.at, 1, i, e) for i, e in enumerate(stored)]
    return [entry for _, _, _, entry in sorted(keyed, key=lambda k: (k[0], k[1], k[2]))]
