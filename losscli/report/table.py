"""Rich views for people (stdout), and a self-contained HTML page of the same view."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from losscli.report.terminal import terminal_doc
from losscli.report.terminal import terminal_text as _tt
from losscli.report.view import Section, build, has_view

#: Warnings about a reading the files cannot settle and that changes the values (e.g.
#: probabilities vs logits); the table repeats them on stdout, next to the values.
AMBIGUOUS = "ambiguous input:"


def render(doc: dict[str, Any], console: Console, precision: int = 4) -> None:
    """Print the human view of a result document."""
    cmd = doc.get("command")
    if has_view(doc):
        _view(doc, console, precision)
    elif cmd == "recommend":
        from losscli.report.recommend_view import render_rich

        render_rich(terminal_doc(doc), console)  # rules text from --rules, file names
    else:  # pragma: no cover
        raise ValueError(f"no table view for command {cmd!r}")


def to_text(doc: dict[str, Any], precision: int = 4, width: int = 100) -> str:
    """The table view as plain text (for ``-o report.txt``)."""
    console = Console(
        record=True, width=width, color_system=None, force_terminal=False, file=_Null()
    )
    render(doc, console, precision)
    return console.export_text()


def to_html(doc: dict[str, Any], precision: int = 4, width: int = 110) -> str:
    """The table view as one self-contained HTML page (inline styles, no network)."""
    console = Console(
        record=True, width=width, force_terminal=True, color_system="truecolor", file=_Null()
    )
    render(doc, console, precision)
    return console.export_html(inline_styles=True)


class _Null:
    def write(self, _s: str) -> int:
        return 0

    def flush(self) -> None:
        pass


_KIND_STYLE = {
    "name": "bold",
    "best": "bold green",
    "pass": "green",
    "fail": "bold red",
    "missing": "bold red",
}


def _rich_table(section: Section) -> Table:
    """One section of the view as a Rich table."""
    _, columns = section.visible(page=False)
    table = Table(
        title=Text(_tt(section.title)),  # Text, not str: no Rich markup from the data
        title_justify="left",
        caption=Text(_tt(section.caption)) if section.caption else None,
        caption_justify="left",
    )
    for col in columns:
        table.add_column(
            Text(_tt(col.name)),
            justify="right" if col.numeric else "left",
            overflow="fold",
            ratio=1 if col.wide else None,
        )
    for row in section.cells(page=False):
        table.add_row(*(Text(_tt(c.text), style=_KIND_STYLE.get(c.kind, "")) for c in row))
    return table


def _text(section: Section) -> Group:
    """A section of text: its title, then its paragraphs (or list items)."""
    mark = "• " if section.bullets else ""
    return Group(
        Text(_tt(section.title), style="bold"),
        *(Text(f"{mark}{_tt(line)}") for line in section.text),
        Text(""),
    )


def _view(doc: dict[str, Any], console: Console, precision: int) -> None:
    """Every section of the view as a table (or text), then the summary sentences."""
    v = build(doc, precision)
    for section in v.shown():
        console.print(_text(section) if section.text else _rich_table(section))
        for note in section.notes:
            console.print(Text(f"  {_tt(note)}"), soft_wrap=False)
    for line in v.summary:
        console.print(Text(f"• {_tt(line)}"), soft_wrap=False)
    for w in v.warnings:
        if w.startswith(AMBIGUOUS):  # a reading that changes the values: shown with them
            console.print(Text(f"warning: {_tt(w)}", style="bold yellow"), soft_wrap=False)
