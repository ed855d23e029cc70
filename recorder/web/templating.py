"""The web pages' templates: templates/ here, then the report's own (recorder/report), and
the pages' compact forms of times and durations."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any, Protocol

import jinja2

from recorder.core.durations import format_duration_short
from recorder.report.html import make_environment

TEMPLATES = Path(__file__).parent / "templates"


class FigureLike(Protocol):
    """What the status band reads of a report figure."""

    @property
    def value(self) -> float | bool | None: ...
    @property
    def unit(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def unknown_reason(self) -> str | None: ...


def utc_minute(at: datetime | None) -> str:
    """`2026-11-28 17:37` (UTC): the pages' start times; "unknown" without one."""
    return "unknown" if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def short_span(figure: FigureLike) -> str:
    """A duration figure as "2 d 1 h"; an unknown one as its cause ("not acknowledged")."""
    if isinstance(figure.value, float | int) and figure.unit == "seconds":
        return format_duration_short(float(figure.value))
    return figure.unknown_reason or figure.text


@cache
def environment() -> jinja2.Environment:
    """The pages' template environment, built on first use (never at import)."""
    env = make_environment(TEMPLATES)
    env.filters["utc_minute"] = utc_minute
    env.filters["short_span"] = short_span
    return env


def render_template(name: str, **context: Any) -> str:
    """One page from templates/ (or the report's), autoescaped."""
    return environment().get_template(name).render(**context)
