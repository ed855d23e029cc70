"""The incident list's order and its opaque keyset cursor, shared by both backends."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from recorder.core.incident import Incident
from recorder.ids import is_incident_id
from recorder.store.errors import InvalidCursor
from recorder.store.times import decode_micros, encode_micros

# The list's order and its keyset condition, in the SQL both dialects share (row values).
LIST_ORDER = "started_at DESC, id DESC"
LIST_AFTER_CURSOR = "(started_at, id) < ({}, {})"
_CURSOR_PREFIX = "i2:"


def _cursor(micros: int, last_id: str) -> str:
    raw = f"{_CURSOR_PREFIX}{micros}:{last_id}".encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def encode_cursor(last: Incident) -> str:
    """Opaque list cursor: the start time and id of the last incident on the page."""
    return _cursor(encode_micros(last.started_at), last.id)


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """(started_at, id) inside a cursor from `encode_cursor`. Raises InvalidCursor."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.urlsafe_b64decode(padded.encode("ascii")).decode("utf-8")
        micros, _, last_id = raw.removeprefix(_CURSOR_PREFIX).partition(":")
        started_at = decode_micros(int(micros))
    except (UnicodeError, binascii.Error, ValueError, OverflowError):
        raise InvalidCursor(cursor) from None
    # Round-trip check: base64 decoding skips stray characters, a cursor we issued doesn't.
    if not is_incident_id(last_id) or _cursor(int(micros), last_id) != cursor:
        raise InvalidCursor(cursor)
    return started_at, last_id
