"""RFC 3339 UTC formatting and parsing for the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime


def to_rfc3339(value: datetime | None) -> str | None:
    """`2026-11-28T17:37:03.194Z`-style UTC text, or None."""
    if value is None:
        return None
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


def parse_rfc3339(text: str) -> datetime:
    """Parse RFC 3339 text with a zone into an aware UTC datetime (ValueError otherwise)."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone; use RFC 3339 with Z or an offset")
    return value.astimezone(UTC)
