"""Alertmanager API v2 `GET /api/v2/silences` to Silence values (protocols.md §5.2)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from recorder.core.silences import Matcher, Silence


class SilencesUnreadable(Exception):
    """The body is not a JSON array of silences; `reason` says what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"Alertmanager silences are unreadable: {reason}")
        self.reason = reason


class _Model(BaseModel):
    # Unknown fields are ignored: every Alertmanager release may add some.
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Matcher(_Model):
    name: str
    value: str
    isRegex: bool = False
    isEqual: bool = True  # since 0.22; absent means equality


class _Status(_Model):
    state: str


class _Silence(_Model):
    id: str
    status: _Status
    createdBy: str = ""
    comment: str = ""
    startsAt: datetime
    endsAt: datetime
    matchers: list[_Matcher]


_SILENCE = TypeAdapter(_Silence)


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def parse_silences(body: bytes) -> tuple[list[Silence], int]:
    """The silences in the API's answer, and how many entries were skipped as malformed
    (one bad entry must not hide the others). Raises SilencesUnreadable when the body is
    not a JSON array."""
    try:
        document: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SilencesUnreadable(f"not JSON ({exc})") from None
    if not isinstance(document, list):
        raise SilencesUnreadable(f"expected an array, got {type(document).__name__}")
    silences: list[Silence] = []
    skipped = 0
    for item in document:
        try:
            raw = _SILENCE.validate_python(item)
        except ValidationError:
            skipped += 1
            continue
        silences.append(
            Silence(
                id=raw.id,
                state=raw.status.state,
                created_by=raw.createdBy,
                comment=raw.comment,
                starts_at=_utc(raw.startsAt),
                ends_at=_utc(raw.endsAt),
                matchers=tuple(
                    Matcher(m.name, m.value, is_regex=m.isRegex, is_equal=m.isEqual)
                    for m in raw.matchers
                ),
            )
        )
    return silences, skipped
