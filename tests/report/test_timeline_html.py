"""The HTML timeline rows read exactly as the template loop they replace wrote them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import jinja2
from markupsafe import Markup

from recorder.core.incident import TimelineEntry, TimelineKind
from recorder.evidence.wording import clock
from recorder.report.html import slug
from recorder.report.text import ReportText
from recorder.report.timeline_html import timeline_rows

T0 = datetime(2026, 11, 27, 23, 59, 58, 999_999, tzinfo=UTC)

# The loop report_body.html ran per row before the rows were written in Python.
TEMPLATE_LOOP = """{% for entry in entries %}
<tr class="kind-{{ entry.kind.value | slug }}">
<td class="time">{{ text.row_clock(entry.at) }}</td>
<td>{{ entry.event }}{% if entry.derived %} {{ mark }}{% endif %}</td>
<td>{{ entry.action }}</td>
<td>{{ entry.by or entry.source }}</td>
</tr>
{% endfor %}
"""


class ClockOnly:
    """The one ReportText method the reference loop calls, worded by `clock` itself."""

    def row_clock(self, at: datetime) -> str:
        return clock(at, T0.date(), zone="")


def report_text() -> ReportText:
    return ReportText(
        on=T0.date(),
        date=T0.date().isoformat(),
        time_started="",
        time_resolved="",
        alert_names="",
        triggered="",
        detection="",
        acknowledgment="",
        during="",
        downtime="",
        normal_error_rate="",
        resolution=None,
        footer=(),
        figures={},
    )


def hostile_entries() -> list[TimelineEntry]:
    kinds = list(TimelineKind)
    minus_five = timezone(timedelta(hours=-5))
    return [
        TimelineEntry(
            at=(T0 + timedelta(seconds=n)).astimezone(minus_five if n % 2 else UTC),
            event=f"<script>alert('{n}')</script> & \"quoted\" | *x*\nnext line {n}",
            action="" if n % 3 else "Restarted <pod> & 'checked'",
            by="" if n % 4 else 'Jane "JD" <jd@example.com>',
            source="PagerDuty (Jane & co)",
            kind=kinds[n % len(kinds)],
            derived=n % 5 == 0,
        )
        for n in range(3 * len(kinds))
    ]


def test_rows_match_the_template_loop_byte_for_byte() -> None:
    """Escaping, the derived mark, `by` falling back to the source, the kind's class and
    the clock (with the date once past the report's day) all read as the loop wrote them."""
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.filters["slug"] = slug
    entries = hostile_entries()
    mark = Markup('<span class="derived">derived from samples</span>')
    expected = env.from_string(TEMPLATE_LOOP).render(entries=entries, text=ClockOnly(), mark=mark)
    written = timeline_rows(entries, report_text(), slug_of=slug)
    assert str(written) == expected
    assert "<script>" not in written
    assert "2026-11-28 " in written  # rows past the report's day carry their date


def test_no_entries_write_no_rows() -> None:
    assert timeline_rows([], report_text(), slug_of=slug) == ""
