"""What a webhook may carry: the limits every adapter checks before anything reaches storage.

PostgreSQL refuses a btree index entry over 2704 bytes (a third of an 8 kB page) and can
hold no U+0000 in text or jsonb; Python's datetime ends at years 1 and 9999. A value past
these could never be stored, so an adapter answers 422 naming it instead of letting
storage fail with a 500 that the sender would retry forever. Sizes are UTF-8 bytes.

Where an input value lands in an index (value -> index):
- label values -> `labels ->> 'alertname'` and `labels ->> 'service'` expression indexes,
  and the correlation key (which recorder.core.correlation hashes when it grows long);
- groupKey -> the correlation key `group:<groupKey>`;
- fingerprint -> the alerts primary key, with the incident id and startsAt;
- PagerDuty event id -> the delivery log's primary key; PagerDuty incident id and
  incident_key -> unique and lookup indexes.
Every limit below leaves room for the index's other columns under 2704 bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

LABEL_NAME_MAX_BYTES = 1024
LABEL_VALUE_MAX_BYTES = 2048
ANNOTATION_NAME_MAX_BYTES = 1024
ANNOTATION_VALUE_MAX_BYTES = 64 * 1024
# Labels (or annotations) per map: more is no real alert, and each is shown on pages.
MAX_MAP_ENTRIES = 1000
GROUP_KEY_MAX_BYTES = 2048
FINGERPRINT_MAX_BYTES = 256
# PagerDuty event, message and incident ids (PagerDuty's own are 7 to 32 characters).
PAGERDUTY_ID_MAX_BYTES = 256
# PagerDuty's incident_key (dedup_key): PagerDuty allows 255 characters.
INCIDENT_KEY_MAX_BYTES = 1024
# Anything else kept as text: receiver, URLs, titles, notes, agent names.
TEXT_MAX_BYTES = 64 * 1024
# An RFC 3339 timestamp with nanoseconds and an offset is 35 characters.
TIMESTAMP_MAX_CHARS = 64
# Nesting of a decoded JSON document. Webhook payloads nest about 6 deep.
MAX_JSON_DEPTH = 64

RANGE_PROBLEM = "outside years 1 to 9999 once converted to UTC"
EDGE_PROBLEM = (
    "is the first or last instant Python can represent, which PostgreSQL's driver stores "
    "as -infinity or infinity"
)
_FIRST_INSTANT = datetime.min.replace(tzinfo=UTC)
_LAST_INSTANT = datetime.max.replace(tzinfo=UTC)

NUL_PROBLEM = "contains a NUL character (U+0000), which storage cannot hold"
SURROGATE_PROBLEM = "contains a lone surrogate (an unpaired \\ud800-\\udfff escape): not Unicode"


def describe_limits() -> str:
    """The limits in one paragraph, for the interface's own documentation (OpenAPI)."""
    return (
        "400 for a body that is not JSON: not UTF-8, NaN or Infinity, duplicate keys, "
        f"nesting deeper than {MAX_JSON_DEPTH}. 422 for JSON that breaks the schema or that "
        "storage could never hold: NUL characters or unpaired surrogates in any string; "
        f"label names over {LABEL_NAME_MAX_BYTES} bytes, label values over "
        f"{LABEL_VALUE_MAX_BYTES}, annotation values over {ANNOTATION_VALUE_MAX_BYTES}, "
        f"more than {MAX_MAP_ENTRIES} labels or annotations per map, a groupKey over "
        f"{GROUP_KEY_MAX_BYTES}, a fingerprint over {FINGERPRINT_MAX_BYTES}, PagerDuty ids "
        f"over {PAGERDUTY_ID_MAX_BYTES}, an incident_key over {INCIDENT_KEY_MAX_BYTES}, "
        f"other text over {TEXT_MAX_BYTES} (UTF-8 bytes); times outside years 1-9999 in "
        "UTC, or Go's zero time as startsAt. At most ten problems are listed."
    )


def text_problem(value: str, max_bytes: int) -> str | None:
    """Why `value` cannot be stored under `max_bytes`, or None when it can."""
    if "\x00" in value:
        return NUL_PROBLEM
    if value.isascii():
        size = len(value)
    else:
        try:
            size = len(value.encode("utf-8"))
        except UnicodeEncodeError:
            return SURROGATE_PROBLEM
    if size > max_bytes:
        return f"is {size} bytes long, over the limit of {max_bytes} bytes"
    return None


def utc_instant(moment: datetime) -> datetime | str:
    """The aware `moment` in UTC, or why storage cannot hold it.

    Accepted: strictly after 0001-01-01T00:00:00Z and strictly before
    9999-12-31T23:59:59.999999Z, after applying the offset.
    """
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:30:00+01:00 lies in year 0 in UTC
        return RANGE_PROBLEM
    if utc in (_FIRST_INSTANT, _LAST_INSTANT):
        return EDGE_PROBLEM
    return utc


def map_problems(
    entries: Mapping[str, str], name_max_bytes: int, value_max_bytes: int
) -> list[tuple[str, str]]:
    """(key, problem) for each name or value of a string map that storage cannot hold.

    The key names the entry (shortened for the message); a problem with the name itself
    is reported on the key too. Reports at most one problem per entry.
    """
    found: list[tuple[str, str]] = []
    for name, value in entries.items():
        problem = text_problem(name, name_max_bytes)
        if problem is not None:
            found.append((_shown(name), f"label name {problem}"))
            continue
        problem = text_problem(value, value_max_bytes)
        if problem is not None:
            found.append((_shown(name), problem))
    return found


def _shown(name: str) -> str:
    """A key short and safe enough to put in an error message."""
    cleaned = name.replace("\x00", "\\0")
    return cleaned if len(cleaned) <= 40 else cleaned[:40] + "..."
