"""Markdown escaping for text anyone can write (alert labels, annotations, webhook notes)."""

from __future__ import annotations

import re
from urllib.parse import quote

# Characters that start Markdown/HTML constructs inline; `|` breaks table cells. The
# backslash goes first so later escapes are not escaped again.
_REPLACEMENTS: tuple[tuple[str, str], ...] = (
    ("\\", "\\\\"),
    ("`", "\\`"),
    ("*", "\\*"),
    ("[", "\\["),
    ("]", "\\]"),
    ("|", "\\|"),
    ("~", "\\~"),
    ("<", "&lt;"),
    (">", "&gt;"),
)
# One C-level scan decides whether any rewriting is needed: most text needs none, and a
# report may escape tens of thousands of cells.
_NEEDS_WORK = re.compile(r"[\\`*\[\]|~<>_\x00-\x1f\x7f]")
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")
# `_` only emphasises at a word edge; snake_case stays readable in the raw Markdown.
_EDGE_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
_HTML_START = re.compile(r"<(?=[A-Za-z/!?])")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_URL_SAFE = ":/?#@!$&'*+,;=%-._~"


def escape_inline(text: str) -> str:
    """Text safe inside a table cell, list item or heading: one line, no markup, no HTML.

    Newlines collapse to one space; `|`, backslash, backticks, `*`, `[`, `]`, `~` and
    edge underscores are backslash-escaped; `<` and `>` become entities; control
    characters become spaces.
    """
    if _NEEDS_WORK.search(text) is None:
        return text
    if "\n" in text or "\r" in text:
        text = " ".join(text.split())  # also folds the whitespace around each break
    if _CONTROL.search(text) is not None:
        text = _CONTROL.sub(" ", text)
    for char, replacement in _REPLACEMENTS:
        if char in text:
            text = text.replace(char, replacement)
    if "_" in text and _EDGE_UNDERSCORE.search(text) is not None:
        text = _EDGE_UNDERSCORE.sub(r"\\_", text)
    return text


def neutralize_block(text: str) -> str:
    """People's Markdown (PATCH fields) kept as Markdown, but raw HTML tags made inert.

    Outside fenced code blocks a `<` that could open a tag or comment becomes `&lt;`;
    inside fences HTML is already inert and is left untouched.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fence: str | None = None
    out: list[str] = []
    for line in lines:
        match = _FENCE.match(line)
        if fence is None:
            if match:
                fence = match.group(1)[0] * 3
                out.append(line)
            else:
                out.append(_HTML_START.sub("&lt;", line))
        else:
            if match and match.group(1).startswith(fence):
                fence = None
            out.append(line)
    return "\n".join(out)


def escape_url(url: str) -> str:
    """A URL safe inside `[text](url)`: spaces, parentheses and angle brackets encoded."""
    return quote(url, safe=_URL_SAFE)


def quote_block(text: str) -> list[str]:
    """Lines of `text` as a Markdown block quote (empty lines keep the quote going)."""
    return [f"> {line}" if line else ">" for line in text.split("\n")]
