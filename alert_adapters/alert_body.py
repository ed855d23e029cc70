"""What Alertmanager-shaped bodies (Alertmanager, Grafana) share: checks of their maps,
strings and times against alert_adapters.limits, stopping at the error cap."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from alert_adapters.errors import ProblemList
from alert_adapters.limits import (
    ANNOTATION_NAME_MAX_BYTES,
    ANNOTATION_VALUE_MAX_BYTES,
    FINGERPRINT_MAX_BYTES,
    GROUP_KEY_MAX_BYTES,
    LABEL_NAME_MAX_BYTES,
    LABEL_VALUE_MAX_BYTES,
    MAX_MAP_ENTRIES,
    TEXT_MAX_BYTES,
    TIMESTAMP_MAX_CHARS,
    map_problems,
    text_problem,
    utc_instant,
)
from recorder.core.events import AlertStatus

# Go's zero time.Time, which Alertmanager sends as endsAt of every alert still firing.
GO_ZERO_TIME = "0001-01-01T00:00:00Z"
_ZERO_INSTANT = datetime(1, 1, 1, tzinfo=UTC)
_EXCESS_FRACTION = re.compile(r"(\.\d{6})\d+")
# An alert's validated `status` to its enum member (a dict is quicker than the call).
STATUSES: Mapping[str, AlertStatus] = {status.value: status for status in AlertStatus}
TIME_PROBLEM = "not an RFC 3339 timestamp with a UTC offset"
_ZERO_START_PROBLEM = "is Go's zero time (0001-01-01T00:00:00Z): the alert has no start time"

# String maps of a message or an alert: key -> (name limit, value limit).
MAPS: Mapping[str, tuple[int, int]] = {
    "labels": (LABEL_NAME_MAX_BYTES, LABEL_VALUE_MAX_BYTES),
    "groupLabels": (LABEL_NAME_MAX_BYTES, LABEL_VALUE_MAX_BYTES),
    "commonLabels": (LABEL_NAME_MAX_BYTES, LABEL_VALUE_MAX_BYTES),
    "annotations": (ANNOTATION_NAME_MAX_BYTES, ANNOTATION_VALUE_MAX_BYTES),
    "commonAnnotations": (ANNOTATION_NAME_MAX_BYTES, ANNOTATION_VALUE_MAX_BYTES),
}
# Strings of a message or an alert: key -> limit.
TEXTS: Mapping[str, int] = {
    "groupKey": GROUP_KEY_MAX_BYTES,
    "receiver": TEXT_MAX_BYTES,
    "externalURL": TEXT_MAX_BYTES,
    "fingerprint": FINGERPRINT_MAX_BYTES,
    "generatorURL": TEXT_MAX_BYTES,
}


def check_map_sizes(
    container: Mapping[str, Any],
    at: str,
    problems: ProblemList,
    maps: Mapping[str, tuple[int, int]] = MAPS,
) -> bool:
    """False (with a problem each) when a map has more than MAX_MAP_ENTRIES entries.

    Run before pydantic, which would list every bad entry of a huge map.
    """
    fits = True
    for key in maps:
        value = container.get(key)
        if isinstance(value, dict) and len(value) > MAX_MAP_ENTRIES:
            problems.add(
                f"{at}.{key}".lstrip("."),
                f"has {len(value)} entries, over the limit of {MAX_MAP_ENTRIES}",
            )
            fits = False
    return fits


def check_strings(
    container: Mapping[str, Any],
    at: str,
    problems: ProblemList,
    texts: Mapping[str, int] = TEXTS,
    maps: Mapping[str, tuple[int, int]] = MAPS,
) -> None:
    """Add a problem for each validated string or map entry that storage cannot hold."""
    prefix = f"{at}." if at else ""
    for key, limit in texts.items():
        value = container.get(key)
        if isinstance(value, str):
            problem = text_problem(value, limit)
            if problem is not None:
                problems.add(prefix + key, problem)
    for key, (name_limit, value_limit) in maps.items():
        entries = container.get(key)
        if isinstance(entries, dict):
            for name, problem in map_problems(entries, name_limit, value_limit):
                problems.add(f"{prefix}{key}.{name}", problem)


def read_instant(text: str, at: str, problems: ProblemList, *, start: bool) -> datetime | None:
    """The UTC instant `text` names, or None: after adding a problem, or for an end at
    Go's zero time (the alert still fires). Go's zero time is no start: a problem."""
    instant = _utc_instant(text) if len(text) <= TIMESTAMP_MAX_CHARS else TIME_PROBLEM
    if instant is None:
        if start:
            problems.add(at, _ZERO_START_PROBLEM)
        return None
    if isinstance(instant, str):
        problems.add(at, instant)
        return None
    return instant


def valid_instants(alert: Mapping[str, Any]) -> tuple[datetime, datetime | None] | None:
    """An alert's `startsAt` and `endsAt` as read_instant reads them, or None when
    either has a problem (for the fast path, which leaves the wording to the careful one)."""
    starts, ends = alert["startsAt"], alert.get("endsAt", GO_ZERO_TIME)
    starts_at = _utc_instant(starts) if len(starts) <= TIMESTAMP_MAX_CHARS else None
    ends_at = _utc_instant(ends) if len(ends) <= TIMESTAMP_MAX_CHARS else TIME_PROBLEM
    if type(starts_at) is not datetime or isinstance(ends_at, str):
        return None
    return starts_at, ends_at


@lru_cache(maxsize=4096)
def _utc_instant(text: str) -> datetime | str | None:
    """The UTC instant `text` names, None for Go's zero time, or the problem with it
    (cached like parse_time)."""
    parsed = parse_time(text)
    if isinstance(parsed, str):
        return parsed
    if parsed == _ZERO_INSTANT:
        return None
    return utc_instant(parsed)


@lru_cache(maxsize=4096)
def parse_time(text: str) -> datetime | str:
    """RFC 3339 (Go's RFC3339Nano) to an aware datetime, or the problem with `text`.

    Cached: an alert group repeats the same few instants in every re-send. Callers bound
    the length of `text` (TIMESTAMP_MAX_CHARS) so the cache stays small.
    """
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # Older 3.11 patch releases reject more than 6 fractional digits; Go sends up to 9.
        try:
            moment = datetime.fromisoformat(_EXCESS_FRACTION.sub(r"\1", text, count=1))
        except ValueError:
            return TIME_PROBLEM
    if moment.tzinfo is None:  # also date-only text: an instant needs its offset
        return TIME_PROBLEM
    # Go's zero time is recognised by its instant, however it is written.
    return _ZERO_INSTANT if moment == _ZERO_INSTANT else moment
