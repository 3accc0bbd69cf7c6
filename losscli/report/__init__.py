"""Results → output. The only place (besides cli.py) where rich is used.

Every command produces one JSON-ready document (a dict). :mod:`losscli.report.view`
turns an evaluate, compare or losses document into one view model (sections of cells);
the Rich table, Markdown and the self-contained HTML page render those same sections,
JSON is the document itself and CSV one tidy table per command. :func:`render` picks the
renderer of a format; :func:`write_files` writes ``-o`` outputs atomically. Numbers for
charts come from :mod:`losscli.analysis`; this package only renders them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from losscli.errors import UsageError
from losscli.files import write_all_atomic

#: --format choices (SPEC §3).
FORMATS: tuple[str, ...] = ("table", "json", "csv", "markdown")

#: Output file extension → format.
EXTENSIONS: dict[str, str] = {
    ".json": "json",
    ".csv": "csv",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".xml": "junit",
}

#: Compound extensions, checked before :data:`EXTENSIONS`: ``-o run.metrics.json``
#: writes only the numbers (``values``, ``per_class_values``) that DVC and MLflow read.
COMPOUND_EXTENSIONS: dict[str, str] = {".metrics.json": "metrics"}


def format_for_path(path: str | os.PathLike[str]) -> str:
    """The format an ``-o`` file gets from its extension; unknown extensions are usage errors."""
    name = Path(path).name.lower()
    for ext, kind in COMPOUND_EXTENSIONS.items():
        if name.endswith(ext):
            return kind
    ext = Path(path).suffix.lower()
    try:
        return EXTENSIONS[ext]
    except KeyError:
        raise UsageError(
            f"cannot tell the output format of '{path}' from its extension",
            hint="use one of " + ", ".join(sorted([*EXTENSIONS, *COMPOUND_EXTENSIONS])),
        ) from None


def fmt_number(value: float | None, precision: int = 4) -> str:
    """A number with ``precision`` significant digits for human formats (JSON keeps all)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if value != value:  # NaN
        return "nan"
    return f"{value:.{precision}g}"


def fmt_params(params: dict[str, Any], precision: int = 4) -> str:
    parts = []
    for k, v in params.items():
        if isinstance(v, float):
            v = fmt_number(v, precision)
        elif isinstance(v, (list, tuple)):
            v = ",".join(fmt_number(x, precision) if isinstance(x, float) else str(x) for x in v)
        parts.append(f"{k}={v}")
    return " ".join(parts)


def plural(n: int, word: str) -> str:
    """``1 sample``, ``2 samples``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render(doc: dict[str, Any], fmt: str, *, precision: int = 4, report: Any = None) -> str:
    """The text of ``doc`` in one format: ``json``, ``csv``, ``markdown``, ``html``,
    ``text`` (the table view as plain text), ``metrics`` (only the numbers) or ``junit``
    (the gates as JUnit XML). ``report`` (an evaluate or compare
    :class:`losscli.api.Report`) feeds the HTML page's charts; the page of any other
    command is its table view. Renderers are imported here, so a command pays only for
    the format it writes."""
    command = doc.get("command")
    if fmt in ("metrics", "junit") and command not in ("evaluate", "compare"):
        raise UsageError(
            f"{command} has no {'metrics' if fmt == 'metrics' else 'gates'} to write",
            hint="-o FILE.metrics.json and -o gates.xml are for evaluate and compare",
        )
    if fmt == "metrics":
        from losscli.gates import metrics_document
        from losscli.report.json import dumps

        return dumps(metrics_document(doc))
    if fmt == "junit":
        from losscli.report.junit import render as junit_render

        return junit_render(doc)
    if fmt == "json":
        from losscli.report.json import dumps

        return dumps(doc)
    if fmt == "csv":
        from losscli.report.csv import render as csv_render

        return csv_render(doc)
    if fmt == "markdown" and command == "recommend":
        from losscli.report.recommend_view import render_markdown

        return render_markdown(doc)
    if fmt == "markdown":
        from losscli.report.markdown import render as md_render

        return md_render(doc, precision)
    if fmt == "html" and command in ("evaluate", "compare"):
        from losscli.report.html import render as html_render

        return html_render(report if report is not None else doc, precision)
    from losscli.report.table import to_html, to_text

    return (to_html if fmt == "html" else to_text)(doc, precision)


def write_files(paths: Iterable[str], render: Callable[[str], str]) -> list[tuple[str, str]]:
    """Render every ``-o`` file first (so a rendering error writes nothing), then write
    them all atomically (:func:`losscli.files.write_all_atomic`: every file or none).
    ``render(fmt)`` returns the text for a format. A path that cannot be written is a
    usage error (exit 2) naming it."""
    rendered = [(str(p), render(format_for_path(p))) for p in paths]
    write_all_atomic(rendered)  # all or none; an unwritable path is a usage error
    return rendered


def penalty_line(reg: dict[str, Any], precision: int = 4) -> str:
    """``+ penalty = l2·Σw² = 0.0123 (1,234 weights in W.npz; Keras convention, no ½)``."""
    terms = []
    if reg.get("l1") is not None:
        terms.append(f"{fmt_number(reg['l1'], precision)}·Σ|w|")
    if reg.get("l2") is not None:
        terms.append(f"{fmt_number(reg['l2'], precision)}·Σw²")
    return (
        f"+ penalty = {' + '.join(terms)} = {fmt_number(reg['penalty'], precision)} "
        f"({reg['n_weights']:,} weights in {reg['weights']}; Keras convention, no ½)"
    )


def per_class_title(task: str) -> str:
    """What the columns of a per-class breakdown are, by task."""
    return {"regression": "per output", "detection": "per coordinate"}.get(task, "per class")
