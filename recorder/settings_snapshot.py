"""The settings an incident keeps when it resolves: which ones, as JSON, and laid back
over the current settings when its report is built (see `Settings.figure_snapshot`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping
from datetime import timedelta
from typing import Any, TypeVar

T = TypeVar("T")

FROZEN_AT_RESOLUTION: tuple[str, ...] = (
    "slo_target",
    "severity",
    "sampling",
    "signals",
    "thresholds",
    "service_labels",
)
"""What shapes a report's figures: SLO target, severity map, sampling (interval, baseline,
recovery tail, presets), signals, warning and outage levels, the labels for {{service}}."""

REPLACED_WHOLE = frozenset({"severity"})
"""Tables a snapshot replaces whole rather than key by key (a map, not settings)."""


def _plain(value: Any) -> Any:
    """Plain JSON data: durations as seconds, tuples as lists."""
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def dump_snapshot(values: Mapping[str, Any]) -> str:
    """Canonical JSON (sorted keys, no spaces, durations in seconds) of the frozen settings
    among `values` (a settings dump)."""
    data = {name: _plain(values[name]) for name in FROZEN_AT_RESOLUTION if name in values}
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def overlay_snapshot(
    current: Mapping[str, Any],
    snapshot: str,
    validate: Callable[[dict[str, Any]], T],
    tables: Mapping[str, Collection[str]],
) -> T | None:
    """`validate` of the current settings (a dump) with the snapshot's over them; None
    when the snapshot is unreadable.

    Tables (`tables` names each one's keys) merge key by key, so a setting added after
    the snapshot keeps its current value and one since removed is left out. A frozen
    setting that no longer validates (a preset since removed) keeps its current value:
    a report must always render.
    """
    try:
        frozen = json.loads(snapshot)
    except ValueError:
        return None
    if not isinstance(frozen, dict):
        return None
    data = dict(current)
    names = [n for n in FROZEN_AT_RESOLUTION if n in frozen and n in current]
    for name in names:
        value, keys = frozen[name], tables.get(name)
        if keys is None or name in REPLACED_WHOLE or not isinstance(value, dict):
            data[name] = value
        else:
            data[name] = {**current[name], **{k: v for k, v in value.items() if k in keys}}
    try:
        return validate(data)
    except ValueError:
        pass
    for name in names:
        try:
            validate({**current, name: data[name]})
        except ValueError:
            data[name] = current[name]
    try:
        return validate(data)
    except ValueError:
        return None


def frozen_severity_map(snapshot: str | None) -> dict[str, str] | None:
    """The severity map a snapshot holds (None when there is none or it is unreadable)."""
    if snapshot is None:
        return None
    try:
        severity = json.loads(snapshot).get("severity")
    except (ValueError, AttributeError):
        return None
    if not isinstance(severity, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in severity.items()
    ):
        return None
    return dict(severity)
