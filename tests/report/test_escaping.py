"""Escaping of untrusted inline text, people's Markdown blocks and link URLs."""

from __future__ import annotations

import pytest

from recorder.report.escaping import escape_inline, escape_url, neutralize_block


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("plain text", "plain text"),
        ("pg_stat_activity", "pg_stat_activity"),
        ("_private_", "\\_private\\_"),
        ("a|b", "a\\|b"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)&gt;"),
        ("line one\r\n  line two\nthree", "line one line two three"),
        ("tab\there\x00null", "tab here null"),
        ("back\\slash *x* `y` [z] ~~w~~", "back\\\\slash \\*x\\* \\`y\\` \\[z\\] \\~\\~w\\~\\~"),
    ],
)
def test_inline_text_is_escaped_to_one_inert_line(raw: str, escaped: str) -> None:
    """Markup, HTML, pipes, newlines and control characters are neutralized."""
    assert escape_inline(raw) == escaped


def test_block_html_is_inert_outside_code_fences_only() -> None:
    """Tags outside fences become text; fenced code and comparisons are untouched."""
    text = "a <b>x</b> 1 < 2\n~~~\n<keep>\n~~~\n<!-- c -->"
    assert neutralize_block(text) == "a &lt;b>x&lt;/b> 1 < 2\n~~~\n<keep>\n~~~\n&lt;!-- c -->"


def test_urls_cannot_close_the_link_early() -> None:
    """Spaces, parentheses and angle brackets in URLs are percent-encoded."""
    assert escape_url("https://x/a b)(<y>?q=1&r=%20") == "https://x/a%20b%29%28%3Cy%3E?q=1&r=%20"
