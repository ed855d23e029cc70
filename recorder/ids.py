"""Incident ids: sortable by creation time, stable, URL-safe."""

from __future__ import annotations

import re
import secrets
from datetime import datetime

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case
# What any incident id looks like: the recorder's own are 20 characters of _ALPHABET; the
# pattern is wider so that ids of other origins (tests, imports) keep working.
_INCIDENT_ID = re.compile(r"[0-9A-Za-z_-]{1,64}")


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        value, rem = divmod(value, 32)
        chars.append(_ALPHABET[rem])
    return "".join(reversed(chars))


def new_incident_id(now: datetime) -> str:
    """A ULID-like id: 10 chars of milliseconds since the epoch, then 10 random chars.

    Ids sort by creation time, so "newest first" and list cursors order by id alone.
    """
    millis = int(now.timestamp() * 1000)
    return _encode(millis, 10) + _encode(secrets.randbits(50), 10)


def is_incident_id(text: str) -> bool:
    """True when `text` could be an incident id (1-64 letters, digits, '-' or '_').

    Anything else (NUL, '/', '..', over-long text) names no incident and never reaches
    storage.
    """
    return _INCIDENT_ID.fullmatch(text) is not None
