"""The HTML timeline table's rows, written in one pass rather than a template loop.

A long incident's timeline has tens of thousands of cells: a template loop pays for an
attribute lookup and an escape call per cell. Here every cell is escaped exactly as the
templates autoescape (markupsafe), values repeated on many rows (actions, names, kinds)
are escaped once, and the rows read byte for byte as the loop they replace wrote them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import markupsafe
from markupsafe import Markup, escape

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.report.text import ReportText

Slug = Callable[[str], str]
DERIVED_MARK = ' <span class="derived">derived from samples</span>'


def _escape_public(text: str, /) -> str:
    return str(escape(text))


# The C function markupsafe.escape wraps, without a Markup object per call (the public
# function when another markupsafe lacks it; tests/report/test_timeline_html.py checks).
escape_text: Callable[[str], str] = getattr(markupsafe, "_escape_inner", _escape_public)


def timeline_rows(entries: Sequence[TimelineEntry], text: ReportText, slug_of: Slug) -> Markup:
    """One `<tr>` per entry (each line ending in a newline): time, event (marked when
    derived from samples), action and who, every text escaped; `slug_of` turns a kind
    into its class name."""
    repeated: dict[str, str] = {}
    openings: dict[TimelineKind, str] = {}
    row_clock = text.row_clock
    rows: list[str] = []
    for entry in entries:
        kind = entry.kind
        opening = openings.get(kind)
        if opening is None:
            opening = openings[kind] = f'<tr class="kind-{escape(slug_of(kind.value))}">'
        action, by = entry.action, entry.by or entry.source
        action_html = repeated.get(action)
        if action_html is None:
            action_html = repeated[action] = escape_text(action)
        by_html = repeated.get(by)
        if by_html is None:
            by_html = repeated[by] = escape_text(by)
        rows.append(
            f"{opening}\n"
            # The clock is digits, dashes, colons and a space: nothing to escape.
            f'<td class="time">{row_clock(entry.at)}</td>\n'
            f"<td>{escape_text(entry.event)}{DERIVED_MARK if entry.derived else ''}</td>\n"
            f"<td>{action_html}</td>\n"
            f"<td>{by_html}</td>\n"
            "</tr>\n"
        )
    return Markup("".join(rows))  # noqa: S704 - every text above is escaped
