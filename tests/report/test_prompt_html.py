"""The template's prompts as HTML: no raw Markdown, no emoji, everything escaped."""

from __future__ import annotations

import re

import pytest

from recorder.report.prompt_html import prompt_html
from recorder.report.template import PROMPTS

RAW_MARKDOWN = re.compile(r"\*\*|```|\|-{3}|^- |\]\(", re.MULTILINE)


@pytest.mark.parametrize("field", sorted(PROMPTS))
def test_every_prompt_renders_without_raw_markdown_or_emoji(field: str) -> None:
    """No `**`, fence, table rule, bullet dash or link syntax survives; no emoji either."""
    html = str(prompt_html(PROMPTS[field]))
    text = re.sub(r"<[^>]+>", "", html)
    assert not RAW_MARKDOWN.search(text), (field, text)
    assert all(ord(ch) < 0x2100 for ch in html), (field, html)


def test_prompt_structures_become_their_html_elements() -> None:
    """Bold, lists, the table, the code fence and the task box each get their element."""
    assert "<strong>Scope</strong>" in prompt_html(PROMPTS["users_affected"])
    assert str(prompt_html(PROMPTS["users_affected"])).startswith("<ul><li>")
    assert str(prompt_html(PROMPTS["lessons_prevent_recurrence"])).startswith("<ol><li>")
    table = str(prompt_html(PROMPTS["action_items"]))
    assert table.count("<th ") == 6
    assert table.count("<tr>") == 2
    fence = str(prompt_html(PROMPTS["commands_run"]))
    assert fence == "<pre><code># Commands run during the incident</code></pre>"
    assert 'class="task-box"' in prompt_html(PROMPTS["long_term_fix"])
    assert 'class="mark mark-done"' in prompt_html(PROMPTS["lessons_went_well"])


def test_markup_in_a_prompt_is_escaped() -> None:
    """Text that looks like HTML is shown, never interpreted, and links never become anchors."""
    html = str(prompt_html("<script>x</script> **<b>y</b>** [z](javascript:alert(1))"))
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<strong>&lt;b&gt;y&lt;/b&gt;</strong>" in html
    assert "<a " not in html
    assert "javascript" not in html
