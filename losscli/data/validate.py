"""Value checks on aligned arrays → DataError naming file, row and column.

* Missing (empty, NA, NaN) and infinite or overflowing cells in any used column: a
  DataError naming the first few rows — or, with ``drop_invalid``, a row mask that drops
  them from both sides and a warning saying how many rows of which file.
* Sample weights finite and ≥ 0; probabilities inside [0, 1] when they were declared
  probabilities; binary (and multilabel, segmentation) targets inside [0, 1]; 0/1
  similarity targets for embedding pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from losscli.data.align import RowRef
from losscli.data.infer import percent_hint, percent_like
from losscli.data.readers import places_phrase
from losscli.errors import DataError

_DROP_HINT = "fill in or remove those rows, or pass --drop-invalid to skip them"


@dataclass
class Checked:
    """One array to scan: where its rows come from and the names of its columns."""

    ref: RowRef
    columns: Sequence[str]
    values: np.ndarray  # (n,), (n, k) float64 or (n,) object


@dataclass
class Invalid:
    """Invalid cells found in one column."""

    ref: RowRef
    column: str
    rows: np.ndarray  # aligned positions
    missing: int
    infinite: int

    def describe(self) -> str:
        return self.note().describe()

    def note(self) -> InvalidNote:
        """What was found, without the rows' table (small, mergeable across chunks)."""
        t = self.ref.table
        return InvalidNote(
            self.ref.name,
            self.column,
            t.where(self.ref.source(self.rows[: InvalidNote.SHOWN])),
            t.binary,
            len(t.files) > 1,
            int(self.rows.size),
            self.missing,
            self.infinite,
        )


@dataclass
class InvalidNote:
    """Invalid cells of one column, as a message says them: the first rows and counts."""

    SHOWN = 5

    name: str
    column: str
    places: list[tuple[str, int]]
    binary: bool
    several_files: bool
    count: int
    missing: int
    infinite: int

    def merge(self, other: InvalidNote) -> None:
        """Add the cells of the same column found in later rows."""
        if (other.name, other.column) != (self.name, self.column):
            return
        self.places += other.places[: max(0, self.SHOWN - len(self.places))]
        self.count += other.count
        self.missing += other.missing
        self.infinite += other.infinite

    def describe(self) -> str:
        n = self.count
        if self.missing and not self.infinite:
            what = "a missing value" if n == 1 else "missing values"
            what += " (empty, NA or NaN)"
        elif self.infinite and not self.missing:
            what = "an infinite value" if n == 1 else "infinite values"
            what += " (inf, or too large for float64)"
        else:
            what = "missing or infinite values"
        where = places_phrase(
            self.places, binary=self.binary, several_files=self.several_files, total=n
        )
        return f"{self.name}: column '{self.column}' has {what} at {where}"


def _missing_text(values: np.ndarray) -> np.ndarray:
    return np.fromiter(
        (v is None or (isinstance(v, float) and v != v) or v == "" for v in values),
        dtype=bool,
        count=values.shape[0],
    )


def scan_invalid(items: Sequence[Checked], n: int) -> tuple[np.ndarray, list[Invalid]]:
    """Rows (of n aligned rows) holding a missing or non-finite cell, and what was found."""
    bad = np.zeros(n, dtype=bool)
    found: list[Invalid] = []
    for item in items:
        v = item.values
        if v.dtype == object:
            miss = _missing_text(v)
            if miss.any():
                rows = np.flatnonzero(miss)
                found.append(Invalid(item.ref, item.columns[0], rows, rows.size, 0))
                bad |= miss
            continue
        mat = v.reshape(n, -1)
        fin = np.isfinite(mat)
        if fin.all():
            continue
        cols_bad = np.flatnonzero(~fin.all(axis=0))
        for j in cols_bad:
            col_bad = ~fin[:, j]
            rows = np.flatnonzero(col_bad)
            nan = int(np.isnan(mat[rows, j]).sum())
            name = item.columns[j] if j < len(item.columns) else str(j)
            found.append(Invalid(item.ref, name, rows, nan, rows.size - nan))
            bad |= col_bad
    return bad, found


def invalid_error(found: Sequence[Invalid]) -> DataError:
    """The DataError for invalid cells: the first column in full, the rest counted."""
    msg = found[0].describe()
    if len(found) > 1:
        others = "; ".join(
            f"{f.ref.name} column '{f.column}' ({f.rows.size} row{'s' if f.rows.size > 1 else ''})"
            for f in found[1:4]
        )
        more = f" and {len(found) - 4} more columns" if len(found) > 4 else ""
        msg += f"; also {others}{more}"
    return DataError(msg, hint=_DROP_HINT)


class DropTally:
    """What ``--drop-invalid`` dropped, gathered over one or many chunks of rows.

    Keeps, per file and column, the first few source rows and the number of rows, so
    that a chunked read reports the same warning as a read in one piece.
    """

    SHOWN = 3

    def __init__(self) -> None:
        self._cols: dict[tuple[str, str], _Tally] = {}

    def add(self, found: Sequence[Invalid]) -> DropTally:
        for f in found:
            key = (f.ref.name, f.column)
            tally = self._cols.get(key)
            if tally is None:
                tally = self._cols[key] = _Tally(
                    binary=f.ref.table.binary, several_files=len(f.ref.table.files) > 1
                )
            room = self.SHOWN - len(tally.places)
            if room > 0:
                tally.places += f.ref.table.where(f.ref.source(f.rows[:room]))
            tally.count += int(f.rows.size)
        return self

    def merge(self, other: DropTally) -> DropTally:
        """Fold the tally of later rows into this one (the first rows shown are kept)."""
        for key, t in other._cols.items():
            mine = self._cols.get(key)
            if mine is None:
                self._cols[key] = _Tally(t.binary, t.several_files, list(t.places), t.count)
                continue
            mine.places += t.places[: max(0, self.SHOWN - len(mine.places))]
            mine.count += t.count
        return self

    def warning(self, dropped: int, total: int) -> str:
        """Warning for ``drop_invalid``: how many rows, from which file, which column."""
        by_file: dict[str, list[str]] = {}
        for (name, col), t in self._cols.items():
            phrase = places_phrase(
                t.places, binary=t.binary, several_files=t.several_files, total=t.count
            )
            by_file.setdefault(name, []).append(f"column '{col}' {phrase}")
        where = "; ".join(f"{name}: {', '.join(parts)}" for name, parts in by_file.items())
        return (
            f"dropped {dropped} of {total} rows with missing or non-finite values "
            f"(--drop-invalid) — {where}"
        )


@dataclass
class _Tally:
    binary: bool
    several_files: bool
    places: list[tuple[str, int]] = field(default_factory=list)
    count: int = 0


def all_invalid_error(note: InvalidNote) -> DataError:
    """Every row had a missing or non-finite cell: nothing is left after --drop-invalid."""
    return DataError(
        f"every row has a missing or non-finite value ({note.describe()})",
        hint="nothing is left to evaluate after --drop-invalid",
    )


def check_weights(w: np.ndarray, ref: RowRef, column: str) -> None:
    """Sample weights ≥ 0 (finiteness is checked with the other cells; "not all 0" over
    the whole input, by :func:`zero_weights_error`'s caller)."""
    neg = np.flatnonzero(w < 0)
    if neg.size:
        raise DataError(
            f"{ref.name}: weight column '{column}' is negative at "
            f"{ref.phrase(neg[:5], total=neg.size)} (first {w[neg[0]]:g})",
            hint="sample weights must be ≥ 0",
        )


def zero_weights_error(name: str, column: str) -> DataError:
    return DataError(
        f"{name}: every sample weight in column '{column}' is 0",
        hint="at least one row needs a positive weight",
    )


def outside_unit(mat: np.ndarray) -> tuple[np.ndarray, int] | None:
    """Rows of a 2-D array with a value outside [0, 1], and the first such row's first
    such column; None when every value is inside."""
    if mat.size == 0 or (mat.min() >= 0.0 and mat.max() <= 1.0):
        return None
    out = (mat < 0.0) | (mat > 1.0)
    rows = np.flatnonzero(out.any(axis=1))
    return rows, int(np.flatnonzero(out[rows[0]])[0])


def check_unit_interval(
    values: np.ndarray, ref: RowRef, columns: Sequence[str], *, what: str, hint: str
) -> None:
    """Every value in [0, 1], else a DataError naming the first offending cells."""
    if values.size == 0:
        return
    mat = values.reshape(values.shape[0], -1)
    found = outside_unit(mat)
    if found is None:
        return
    rows, j = found
    col = columns[j] if j < len(columns) else str(j)
    raise DataError(
        f"{ref.name}: {what} must be in [0, 1]; found values outside at "
        f"{ref.phrase(rows[:5], total=rows.size)} (first: {mat[rows[0], j]:g} in column '{col}')",
        hint=hint,
    )


def check_probabilities(values: np.ndarray, ref: RowRef, columns: Sequence[str]) -> None:
    """Predictions declared to be probabilities (--probs) must lie in [0, 1]."""
    rows_sum = values.ndim == 2 and values.shape[1] >= 2
    pct = percent_like(values) or (rows_sum and percent_like(values, rows_sum=True))
    check_unit_interval(
        values,
        ref,
        columns,
        what="probabilities (--probs)",
        hint=percent_hint("the values")
        if pct
        else "these look like logits: drop --probs (or pass --logits)",
    )


def check_binary_targets(
    values: np.ndarray,
    ref: RowRef,
    columns: Sequence[str],
    task: str,
    *,
    hint: str | None = None,
) -> None:
    """Binary/multilabel targets: 0/1, soft labels in [0, 1] allowed."""
    check_unit_interval(
        values,
        ref,
        columns,
        what=f"{task} targets",
        hint=hint
        or "use 0/1 labels (soft labels in [0, 1] are allowed); for continuous targets "
        "use --task regression",
    )


def check_zero_one(values: np.ndarray, ref: RowRef, column: str, *, what: str) -> None:
    """Targets that must be exactly 0 or 1 (similarity of embedding pairs, detection labels)."""
    bad = np.flatnonzero((values != 0.0) & (values != 1.0))
    if bad.size:
        raise DataError(
            f"{ref.name}: {what} (column '{column}') must be 0 or 1; found {values[bad[0]]:g} "
            f"at {ref.phrase(bad[:5], total=bad.size)}",
            hint="1 = similar / matched, 0 = dissimilar / unmatched",
        )
