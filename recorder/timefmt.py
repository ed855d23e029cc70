"""RFC 3339 UTC parsing for the HTTP API; formatting is recorder.evidence.wording's."""

from __future__ import annotations

from datetime import UTC, datetime

from recorder.evidence.wording import rfc3339

to_rfc3339 = rfc3339
"""`2026-11-28T17:37:03.194Z`-style UTC text, or None (the one formatter, in wording)."""


def parse_rfc3339(text: str) -> datetime:
    """Parse RFC 3339 text with a zone into an aware UTC datetime (ValueError otherwise)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone; use RFC 3339 with Z or an offset")
    return value.astimezone(UTC)
