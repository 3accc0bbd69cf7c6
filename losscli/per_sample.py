"""``--per-sample FILE.csv``: per-row losses written as the rows are read.

The run (:mod:`losscli.run`) hands each chunk's per-row values to a
:class:`PerSampleWriter`; lines go through :class:`losscli.files.AtomicFile`, so a failed
run leaves no file. :func:`csv_number` is the one rule for a number in a CSV cell and
:func:`csv_text` the one rule for text (formula injection); :func:`csv_cell` picks between
them. Every CSV losscli writes (this file, the report's CSV, recommend's CSV) uses them.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import numpy as np

from losscli.files import AtomicFile, output_error, write_atomic


def csv_number(v: Any) -> str:
    """A CSV cell: empty for None, full precision (``repr``) for floats."""
    return "" if v is None else repr(v) if isinstance(v, float) else str(v)


#: First characters that make a spreadsheet read a cell as a formula (OWASP, "CSV
#: injection"): = + - @, tab and carriage return.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: A plain number (``-2``, ``+1.5e-3``, ``-inf``): a spreadsheet reads it as a number (or
#: text), never as a formula, so it is written as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|inf|nan)")


def csv_text(v: Any) -> str:
    """A text CSV cell, safe to open in a spreadsheet: text that begins with ``= + - @``,
    a tab or a carriage return gets a leading single quote (``=HYPERLINK(…)`` →
    ``'=HYPERLINK(…)``), unless it is a plain number (``-2``, ``+1.5e3``)."""
    text = "" if v is None else str(v)
    if text.startswith(FORMULA_START) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_cell(v: Any) -> str:
    """Any CSV cell: numbers by :func:`csv_number` (negative numbers are numbers), text by
    :func:`csv_text`."""
    if v is None or (isinstance(v, (int, float, np.number)) and not isinstance(v, bool)):
        return csv_number(v.item() if isinstance(v, np.number) else v)
    return csv_text(v)


def render_per_sample(row_numbers: Any, row_ids: Any, per_rows: dict[str, Any]) -> str:
    """One line per input row: its row number, id (when known) and each loss's value."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    names = list(per_rows)
    w.writerow(["row", *(["id"] if row_ids is not None else []), *names])
    cols = [per_rows[n] for n in names]
    for i, row in enumerate(row_numbers):
        rid = (
            [csv_cell(row_ids[i].item() if hasattr(row_ids[i], "item") else row_ids[i])]
            if (row_ids is not None)
            else []
        )
        w.writerow([int(row), *rid, *(csv_number(float(c[i])) for c in cols)])
    return buf.getvalue()


class PerSampleWriter:
    """``--per-sample FILE.csv``: one line per row (row number, id, each loss), written
    chunk by chunk through :class:`losscli.files.AtomicFile` and renamed into place by
    :meth:`close` — a failed run leaves no half-written file.

    Lines are rendered by :func:`render_per_sample`. Columns of losses that end up not applicable are removed at
    the end (a loss can leave its domain in a late chunk).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.names: list[str] | None = None
        self._file: AtomicFile | None = None
        self._scales: dict[str, float] = {}

    def write(self, row_numbers: Any, row_ids: Any, per_rows: Mapping[str, np.ndarray]) -> None:
        """Append one chunk's lines: row numbers, ids (None when the input has none) and
        ``{loss: per-row values}`` (the header comes with the first chunk). A failure to
        write is a usage error naming the file (:func:`losscli.files.output_error`)."""
        text = render_per_sample(row_numbers, row_ids, dict(per_rows))
        try:
            if self._file is None:
                self.names = list(per_rows)
                self._file = AtomicFile(self.path)
            else:
                text = text.split("\n", 1)[1]
            self._file.write(text)
        except OSError as exc:
            raise output_error(self.path, exc) from None

    def close(
        self, keep: Sequence[str] | None = None, *, scales: Mapping[str, float] | None = None
    ) -> None:
        """Finish the file, keeping only the loss columns ``keep`` (all when None) and
        multiplying the columns named in ``scales`` by their factor (``--grad`` columns,
        whose scale is known only after the last row). A failure to write is a usage
        error naming the file; nothing is left behind."""
        self._scales = dict(scales or {})
        try:
            self._close(keep)
        except OSError as exc:
            raise output_error(self.path, exc) from None

    def _close(self, keep: Sequence[str] | None) -> None:
        if self._file is None:
            write_atomic(self.path, render_per_sample([], None, {n: [] for n in keep or []}))
            return
        file, self._file = self._file, None
        try:
            names = self.names or []
            scales = {k: v for k, v in self._scales.items() if v != 1.0}
            if (keep is not None and list(keep) != names) or scales:
                drop = [n for n in names if keep is not None and n not in keep]
                file.rewrite(lambda src, dst: _drop_columns(src, dst, drop, scales))
            file.commit()
        except BaseException:
            file.abort()
            raise

    def abort(self) -> None:
        """Discard the lines written so far (a failed run leaves no file)."""
        if self._file is not None:
            self._file.abort()
            self._file = None


def _drop_columns(
    src: IO[str],
    dst: IO[str],
    drop: Sequence[str],
    scales: Mapping[str, float] | None = None,
) -> None:
    """Copy per-sample CSV text from ``src`` to ``dst`` without the loss columns ``drop``,
    multiplying the columns of ``scales`` by their factor."""
    reader = csv.reader(src)
    writer = csv.writer(dst, lineterminator="\n")
    header = next(reader)
    fixed = 2 if header[1:2] == ["id"] else 1  # row number, and the id when present
    keep = list(range(fixed)) + [j for j in range(fixed, len(header)) if header[j] not in drop]
    factor = {j: float(scales[header[j]]) for j in keep if scales and header[j] in scales}
    writer.writerow([header[j] for j in keep])
    for row in reader:
        writer.writerow(
            [
                csv_number(float(row[j]) * factor[j]) if j in factor and row[j] else row[j]
                for j in keep
            ]
        )
