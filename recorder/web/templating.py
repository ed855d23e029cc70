"""The web pages' templates: templates/ here, then the report's own (recorder/report)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

from recorder.report.html import make_environment

TEMPLATES = Path(__file__).parent / "templates"


@cache
def environment() -> jinja2.Environment:
    """The pages' template environment, built on first use (never at import)."""
    return make_environment(TEMPLATES)


def render_template(name: str, **context: Any) -> str:
    """One page from templates/ (or the report's), autoescaped."""
    return environment().get_template(name).render(**context)
