"""The template's prompts as HTML: the small Markdown they are written in, rendered safely.

Prompts are the template's own text (recorder/report/template.py), written in Markdown
for the Markdown report: bullet and numbered lists, `**bold**`, `` `code` ``, links with
placeholder targets, task boxes, a pipe table and a code fence. Pages show them as HTML
instead of raw Markdown. Every piece of text is escaped before any tag is added, so the
renderer is safe on any input, and the two emoji the template uses become CSS-drawn marks
(no page needs a font it does not ship).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from markupsafe import Markup, escape

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_CODE = re.compile(r"`([^`]+)`")
_EMPHASIS = re.compile(r"(?<![\w*])_([^_]+)_(?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]*)\)")
_BULLET = re.compile(r"^[-*] (.*)$")
_NUMBERED = re.compile(r"^\d+\. (.*)$")
_TASK = re.compile(r"^\[( |x|X)\] ")
_TABLE_RULE = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?$")
_MARKS = {
    "\u2705": '<span class="mark mark-done" role="img" aria-label="done"></span>',
    "\u274c": '<span class="mark mark-not" role="img" aria-label="not done"></span>',
}


def inline_html(text: str) -> str:
    """One line's inline Markdown as HTML (escaped first, then tagged)."""
    html = str(escape(text))
    html = _CODE.sub(r"<code>\1</code>", html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _EMPHASIS.sub(r"<em>\1</em>", html)
    # Prompt links point at placeholders ("link"): show the label, never an anchor.
    html = _LINK.sub(r'<span class="placeholder-link">\1</span>', html)
    for glyph, mark in _MARKS.items():
        html = html.replace(glyph, mark)
    return html


def _item_html(text: str) -> str:
    task = _TASK.match(text)
    if task is None:
        return inline_html(text)
    box = "task-box checked" if task.group(1) in "xX" else "task-box"
    return f'<span class="{box}" aria-hidden="true"></span>{inline_html(text[task.end() :])}'


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip().strip("|").split("|")]


def _table_html(rows: list[str]) -> str:
    head, body = rows[0], [r for r in rows[1:] if not _TABLE_RULE.match(r.strip())]
    out = ['<div class="table-wrap"><table class="prompt-table"><thead><tr>']
    out += [f'<th scope="col">{inline_html(c)}</th>' for c in _cells(head)]
    out.append("</tr></thead><tbody>")
    for row in body:
        out.append("<tr>" + "".join(f"<td>{inline_html(c)}</td>" for c in _cells(row)) + "</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _blocks(lines: list[str]) -> Iterator[str]:
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("```"):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith("```")), None)
            stop = len(lines) if end is None else end
            code = "\n".join(lines[i + 1 : stop])
            yield f"<pre><code>{escape(code)}</code></pre>"
            i = stop + 1
        elif line.startswith("|"):
            j = i
            while j < len(lines) and lines[j].startswith("|"):
                j += 1
            yield _table_html(lines[i:j])
            i = j
        elif _BULLET.match(line) or _NUMBERED.match(line):
            pattern, tag = (_BULLET, "ul") if _BULLET.match(line) else (_NUMBERED, "ol")
            items = []
            while i < len(lines) and (match := pattern.match(lines[i])):
                items.append(f"<li>{_item_html(match.group(1))}</li>")
                i += 1
            yield f"<{tag}>{''.join(items)}</{tag}>"
        elif not line.strip():
            i += 1
        else:
            paragraph = []
            while i < len(lines) and lines[i].strip() and not _starts_block(lines[i]):
                paragraph.append(inline_html(lines[i]))
                i += 1
            yield f"<p>{'<br>'.join(paragraph)}</p>"


def _starts_block(line: str) -> bool:
    return bool(line.startswith(("```", "|")) or _BULLET.match(line) or _NUMBERED.match(line))


def prompt_html(text: str) -> Markup:
    """A prompt's Markdown as HTML; everything in `text` is escaped first."""
    html = "".join(_blocks(text.replace("\r\n", "\n").split("\n")))
    return Markup(html)  # noqa: S704 - built only from escaped text and our own tags
