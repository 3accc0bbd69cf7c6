"""GitHub-flavoured Markdown views (PR comments, CI job summaries).

Every piece of text from the data or the command line (ids, class and model names, file
names, rules text) goes through :func:`md_text`: HTML is escaped (``<script>`` shows as
text, never runs) and, in tables, ``|`` is escaped and newlines become spaces. Names are
code spans only when they hold none of the characters escaped in text. ``$`` and ``\\``
get a backslash and ``](`` becomes ``]\\(``: no link, image (``![](http://…)``) or
math comes from an id.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from losscli.report.view import BEST, FAIL, MISSING, NAME, Cell, Section, View, build, has_view

#: Markdown punctuation escaped with a backslash in text: ``$`` (GitHub math) and ``\``
#: itself; ``](`` (a link or image, e.g. a tracking ``![](http://…)`` in an id) is
#: broken by :func:`md_text`.
_MD_PUNCT = str.maketrans({c: "\\" + c for c in "\\$"})


def md_text(text: Any) -> str:
    """Text for a Markdown line: HTML escaped (``&``, ``<``, ``>``), links, images and
    math disarmed (``]\\(``, ``\\$``), one line."""
    text = html.escape(str(text), quote=False).translate(_MD_PUNCT).replace("](", "]\\(")
    return text.replace("\r", " ").replace("\n", " ")


def _esc(text: Any) -> str:
    """Text for a Markdown table cell: :func:`md_text`, with ``|`` escaped."""
    return md_text(text).replace("|", "\\|")


def md_code(text: Any) -> str:
    """``text`` as an inline code span, or as escaped text when a code span could not
    hold it (a backtick) or would show HTML entities (``<``, ``>``, ``&``)."""
    text = str(text)
    if "](" in text or any(ch in text for ch in "`<>&\\$\r\n"):
        return text
    return f"`{text}`"


def table_lines(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[str]:
    """A GitHub-flavoured Markdown table; header and cells are escaped (HTML, ``|``,
    newlines)."""
    out = [
        "| " + " | ".join(_esc(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    out += ["| " + " | ".join(_esc(c) for c in row) + " |" for row in rows]
    return out


def _cell(c: Cell) -> str:
    if c.kind == NAME:
        return md_code(c.text)
    if c.kind in (BEST, FAIL):
        return f"**{c.text}**"
    if c.kind == MISSING:
        return f"*{c.text}*"
    return c.text


def section_lines(section: Section) -> list[str]:
    """One section of the view: a ``###`` heading (none for the primary table), the
    table, and its caption."""
    title = md_text(section.title[:1].upper() + section.title[1:])
    head = [] if section.primary else [f"### {title}", ""]
    if section.text:
        if section.bullets:
            return [*head, *(f"- {_esc(line)}" for line in section.text)]
        return [*head, *"\n\n".join(_esc(line) for line in section.text).split("\n")]
    _, columns = section.visible(page=False)
    rows = [[_cell(c) for c in row] for row in section.cells(page=False)]
    tail = ["", md_text(section.caption)] if section.caption else []
    if section.notes:
        tail += ["", *(f"- {_esc(n)}" for n in section.notes)]
    return [*head, *table_lines([c.name for c in columns], rows), *tail]


def render(doc: dict[str, Any], precision: int = 4) -> str:
    """The Markdown view of an evaluate, compare, losses or ``losses show`` document."""
    if has_view(doc):
        lines = _view(build(doc, precision))
    else:  # pragma: no cover
        raise ValueError(f"no Markdown view for command {doc.get('command')!r}")
    if doc.get("warnings"):
        lines += ["", "### Warnings", ""] + [f"- {_esc(w)}" for w in doc["warnings"]]
    return "\n".join(lines) + "\n"


def _view(v: View) -> list[str]:
    lines = [f"## {md_text(v.heading)}", ""] if v.heading else []
    for i, section in enumerate(v.shown()):
        lines += ([""] if i else []) + section_lines(section)
    for s in v.summary:
        lines += ["", f"- {md_text(s)}"]
    return lines
