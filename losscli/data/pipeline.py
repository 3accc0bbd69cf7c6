"""The one chunk step: a chunk of rows → checked arrays → a :class:`Dataset`.

Every way of reading table-like input goes through :class:`ChunkStep` — in one piece
(:func:`load_dataset`), in chunks of a text file (:mod:`losscli.data.stream`) and per
partition of a Dask run (:mod:`losscli.engines.dask`)::

    read → column roles and layout (plan, decided once) → rows aligned → cells checked
         → arrays → values checked against the first chunk's decisions → Dataset

What the chunks add up to is gathered in :class:`Totals` (mergeable, so that partitions
reduce in any tree), the checks over the whole input are :func:`finish_input`, and the
report's view of the whole input is :func:`summarize`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from losscli.data.dataset import (
    ChunkArrays,
    Dataset,
    TablePlan,
    build_dataset,
    check_sample_weights,
    drop_rows,
    invalid_cells,
    plan_tables,
    selectors,
    table_arrays,
)
from losscli.data.infer import rows_off_sum
from losscli.data.masks import from_tensors
from losscli.data.readers import Selector, Table, read_table
from losscli.data.validate import (
    DropTally,
    InvalidNote,
    all_invalid_error,
    invalid_error,
    outside_unit,
    zero_weights_error,
)
from losscli.errors import DataError, UsageError
from losscli.options import ReadOptions

T = TypeVar("T")

#: At most this many distinct warnings are gathered from the chunks after the first.
MAX_WARNINGS = 50
#: How to ask for inference over every row, in the hints of a local chunked read.
EVERY_ROW_LOCAL = "--chunk-size 0"

__all__ = [
    "EVERY_ROW_LOCAL",
    "ChunkArrays",
    "ChunkStep",
    "Inferred",
    "Pieces",
    "Summary",
    "TablePlan",
    "Totals",
    "check_consistent",
    "chunk_step",
    "column_selectors",
    "finish_input",
    "load_dataset",
    "model_columns",
    "named_binary",
    "read_whole",
    "summarize",
    "weight_table",
]


# --------------------------------------------------------------------------- decisions


@dataclass
class Inferred:
    """What the first chunk decided, applied to every later chunk."""

    task: str
    task_inferred: bool
    input_kind: str | None
    input_kind_inferred: bool
    rows: int
    logits: bool | None

    @classmethod
    def of(cls, ds: Dataset, rows: int) -> Inferred:
        """The decisions of the first chunk's dataset (``rows`` rows)."""
        logits = None if ds.input_kind is None else ds.input_kind == "logits"
        return cls(ds.task, ds.task_inferred, ds.input_kind, ds.input_kind_inferred, rows, logits)


@dataclass
class Totals:
    """What the chunks (or partitions) of one input add up to; merged in row order."""

    rows: int = 0  # rows read
    kept: int = 0  # rows evaluated (after --drop-invalid)
    chunks: int = 0  # chunks with rows left
    dropped: int = 0
    tally: DropTally = field(default_factory=DropTally)
    invalid: InvalidNote | None = None  # the first invalid column, over every chunk
    positive_weight: bool = False
    file_warnings: list[str] = field(default_factory=list)
    build_warnings: list[str] = field(default_factory=list)
    ignored: int = 0  # rows whose label is cross_entropy.ignore_index
    ignore_label: int | None = None

    def add_warnings(self, into: list[str], new: Sequence[str]) -> None:
        """Append the warnings of ``new`` not yet in ``into`` (at most MAX_WARNINGS)."""
        for w in new:
            if w not in into and len(into) < MAX_WARNINGS:
                into.append(w)

    def merge(self, other: Totals) -> Totals:
        """Fold the totals of later rows into these."""
        self.rows += other.rows
        self.kept += other.kept
        self.chunks += other.chunks
        self.dropped += other.dropped
        self.ignored += other.ignored
        if self.ignore_label is None:
            self.ignore_label = other.ignore_label
        self.tally.merge(other.tally)
        self.note_invalid([] if other.invalid is None else [other.invalid])
        self.positive_weight = self.positive_weight or other.positive_weight
        self.add_warnings(self.file_warnings, other.file_warnings)
        self.add_warnings(self.build_warnings, other.build_warnings)
        return self

    def note_invalid(self, notes: Sequence[InvalidNote]) -> None:
        """Invalid cells of later rows: counted with the first invalid column."""
        for n in notes:
            if self.invalid is None:
                self.invalid = copy.deepcopy(n)
            else:
                self.invalid.merge(n)

    def nothing_left(self, name: str) -> DataError:
        """The error for an input without a row to evaluate (``name`` the input)."""
        if self.invalid is not None:
            return all_invalid_error(self.invalid)
        return DataError(f"{name}: no data rows")

    def warnings(self, roles_warnings: Sequence[str]) -> list[str]:
        """The input's warnings in report order: files, column roles, dropped rows, values."""
        out = [*self.file_warnings, *roles_warnings]
        if self.dropped:
            out.append(self.tally.warning(self.dropped, self.rows))
        if self.ignored:
            out.append(
                f"{self.ignored} of {self.rows} rows have the label {self.ignore_label} "
                "(cross_entropy.ignore_index): left out of every loss, as torch leaves them "
                "out of cross_entropy"
            )
        return out + self.build_warnings


def named_binary(ds: Dataset, arr: ChunkArrays) -> bool:
    """Binary targets given as class names (the positive class is decided over all rows)."""
    return ds.task == "binary" and arr.target is not None and arr.target.dtype == object


# --------------------------------------------------------------------------- the step


@dataclass
class ChunkStep:
    """One input's chunks → datasets, with the plan and decisions of its first chunk.

    ``vet`` looks at the first chunk's dataset (a source that cannot take what it
    decided raises there); ``every_row`` is how the user asks to infer from every row,
    named in the hints of values that contradict the first chunk.
    """

    plan: TablePlan
    task: str
    logits: bool | None
    drop_invalid: bool
    decision: Inferred | None = None
    every_row: str = EVERY_ROW_LOCAL
    vet: Callable[[Dataset, ChunkArrays], None] | None = None

    def arrays(self, ptab: Table, ttab: Table | None, totals: Totals) -> ChunkArrays | None:
        """Rows aligned, cells checked (invalid rows dropped with --drop-invalid), weights
        ≥ 0; None when no row is left. Counts go into ``totals``."""
        arr = table_arrays(self.plan, ptab, ttab)
        totals.rows += arr.n
        bad, found = invalid_cells(self.plan, arr)
        if found:
            if not self.drop_invalid:
                raise invalid_error(found)
            totals.note_invalid([f.note() for f in found])
            totals.tally.add(found)
            totals.dropped += drop_rows(arr, bad)
        ignored = ignored_rows(self.plan, arr)
        if ignored is not None:
            totals.ignore_label = self.plan.ignore_index
            totals.ignored += drop_rows(arr, ignored)
        if arr.n == 0:
            return None
        check_sample_weights(self.plan, arr)
        if arr.weight is not None and bool(np.any(arr.weight > 0)):
            totals.positive_weight = True
        totals.chunks += 1
        totals.kept += arr.n
        return arr

    def dataset(
        self,
        arr: ChunkArrays,
        ptab: Table,
        ttab: Table | None,
        totals: Totals,
        evidence: Sequence[str] = (),
    ) -> Dataset:
        """Checked arrays → Dataset: the first chunk infers task and input kind (with
        ``evidence`` before its own); later chunks are checked against its decisions."""
        if self.decision is None:
            return self._first(arr, ptab, ttab, totals, evidence)
        d = self.decision
        check_consistent(d, self.plan, arr, every_row=self.every_row)
        more: list[str] = []
        ds = build_dataset(
            self.plan, arr, ptab, ttab, task=d.task, logits=d.logits, evidence=[], warnings=more
        )
        ds.task_inferred, ds.input_kind_inferred = d.task_inferred, d.input_kind_inferred
        totals.add_warnings(totals.build_warnings, more)
        return ds

    def _first(
        self,
        arr: ChunkArrays,
        ptab: Table,
        ttab: Table | None,
        totals: Totals,
        evidence: Sequence[str],
    ) -> Dataset:
        plan = self.plan
        notes = [*evidence, *plan.roles.evidence, *plan.layout.evidence]
        ds = build_dataset(
            plan, arr, ptab, ttab, task=self.task, logits=self.logits, evidence=notes, warnings=[]
        )
        if self.vet is not None:
            self.vet(ds, arr)
        if ds.task == "multiclass" and ds.class_names not in (None, list(plan.layout.pred_cols)):
            plan.class_order = ds.class_names  # unnamed columns read in classes_ order
        self.decision = Inferred.of(ds, arr.n)
        totals.build_warnings.extend(ds.warnings)
        return ds

    def run(
        self, ptab: Table, ttab: Table | None, totals: Totals, evidence: Sequence[str] = ()
    ) -> Dataset | None:
        """One chunk's tables → its Dataset (None when --drop-invalid left no row)."""
        arr = self.arrays(ptab, ttab, totals)
        return None if arr is None else self.dataset(arr, ptab, ttab, totals, evidence)


def ignored_rows(plan: TablePlan, arr: ChunkArrays) -> np.ndarray | None:
    """Rows whose class label is ``cross_entropy.ignore_index`` (-100 torch, -1 Keras,
    255 masks), which torch leaves out: one numeric label column against several class
    score columns. None when there is none."""
    ii, t = plan.ignore_index, arr.target
    if ii is None or t is None or t.dtype == object or t.ndim != 2 or t.shape[1] != 1:
        return None
    if len(plan.layout.pred_cols) < 2:
        return None
    mask = t[:, 0] == float(ii)
    return mask if bool(mask.any()) else None


def finish_input(totals: Totals, plan: TablePlan, weight_source: str, empty: str) -> None:
    """Checks over every row of the input: some row is left after --drop-invalid, and
    some sample weight is positive. ``weight_source`` names the weights' file; ``empty``
    the input, for an input without rows."""
    if totals.kept == 0:
        raise totals.nothing_left(empty)
    if plan.roles.weight is not None and not totals.positive_weight:
        raise zero_weights_error(weight_source, plan.roles.weight[1])


# --------------------------------------------------------------------------- consistency


def check_consistent(
    d: Inferred, plan: TablePlan, arr: ChunkArrays, *, every_row: str = EVERY_ROW_LOCAL
) -> None:
    """A later chunk must fit what the first chunk's values implied."""
    _targets_fit(d, plan, arr, every_row)
    if d.input_kind == "probabilities" and d.input_kind_inferred:
        _probabilities_fit(d, plan, arr, every_row)


def _targets_fit(d: Inferred, plan: TablePlan, arr: ChunkArrays, every_row: str) -> None:
    """Targets inferred to be 0/1 stay 0/1."""
    t, ref = arr.target, arr.tref
    if not d.task_inferred or d.task not in ("binary", "multilabel"):
        return
    if t is None or ref is None or t.dtype == object:
        return
    off = (t != 0.0) & (t != 1.0)
    if d.task == "binary":
        off &= t != -1.0  # -1/+1 labels (t = (y + 1) / 2), checked per chunk when built
    if not off.any():
        return
    rows = np.flatnonzero(off.any(axis=1) if off.ndim == 2 else off)
    j = int(np.flatnonzero(off.reshape(off.shape[0], -1)[rows[0]])[0])
    v = float(t.reshape(t.shape[0], -1)[rows[0], j])
    cols = plan.layout.target_cols
    col = cols[j] if j < len(cols) else str(j)
    raise DataError(
        f"{ref.name}: targets were read as {d.task} (0/1) from the first "
        f"{d.rows} rows, but {ref.phrase(rows[:5], total=rows.size)} "
        f"{_has(rows.size)} {v:g} in column '{col}'" + _first_of(rows.size),
        hint=f"pass --task regression for continuous targets, or --task {d.task} "
        f"to accept soft labels in [0, 1] (or {every_row} to infer from every row)",
    )


def _probabilities_fit(d: Inferred, plan: TablePlan, arr: ChunkArrays, every_row: str) -> None:
    """Scores inferred to be probabilities stay in [0, 1] (and sum to 1 for multiclass)."""
    lay = plan.layout
    if d.task == "detection":
        scores, cols = arr.score, [lay.score_col or "score"]
    else:
        scores, cols = arr.pred, lay.pred_cols
    if scores is None or scores.size == 0:
        return
    mat = scores.reshape(scores.shape[0], -1)
    found = outside_unit(mat)
    if found is not None:
        rows, j = found
        col = cols[j] if j < len(cols) else str(j)
        raise DataError(
            f"{arr.pref.name}: predictions were read as probabilities (all in [0, 1] in "
            f"the first {d.rows} rows), but {arr.pref.phrase(rows[:5], total=rows.size)} "
            f"{_has(rows.size)} {mat[rows[0], j]:g} in column '{col}'" + _first_of(rows.size),
            hint="pass --logits if the predictions are logits (or "
            f"{every_row} to infer from every row)",
        )
    if d.task == "multiclass" and mat.shape[1] >= 2:
        rows = rows_off_sum(mat)
        if rows.size:
            raise DataError(
                f"{arr.pref.name}: predictions were read as probabilities (rows summing "
                f"to 1 in the first {d.rows} rows), but "
                f"{arr.pref.phrase(rows[:5], total=rows.size)} "
                f"{'sums' if rows.size == 1 else 'sum'} to {mat[rows[0]].sum():.6g}"
                + _first_of(rows.size),
                hint="pass --logits if the predictions are logits, or --probs to accept "
                f"them as they are (or {every_row} to infer from every row)",
            )


def _has(n: int) -> str:
    return "has" if n == 1 else "have"


def _first_of(n: int) -> str:
    return " (first)" if n > 1 else ""


# --------------------------------------------------------------------------- summary


class Summary(Dataset):
    """A Dataset view of the whole input: the first chunk's arrays and decisions, the
    whole input's sample count, warnings, evidence and inputs."""

    def __init__(
        self,
        first: Dataset,
        warnings: list[str],
        evidence: list[str],
        inputs: dict[str, dict[str, Any]],
        n: int,
    ) -> None:
        self.__dict__.update(first.__dict__)
        self.warnings = warnings
        self.evidence = evidence
        self.inputs = inputs
        self._n = n

    @property
    def n_samples(self) -> int:
        return self._n


@dataclass(frozen=True)
class Pieces:
    """How an input was read in pieces, for the note that ends its warnings when task or
    input kind was inferred from the first piece only.

    ``count`` pieces; ``how`` the read ("read in 3 chunks of up to 1000 rows");
    ``first`` what inference saw ("the first 1000 rows"); ``rest`` the rows checked
    against it ("later"); ``every_row`` how to ask for inference over every row.
    """

    count: int
    how: str
    first: str
    rest: str = "later"
    every_row: str = EVERY_ROW_LOCAL

    def note(self) -> str | None:
        """The note, or None for an input read in one piece."""
        if self.count <= 1:
            return None
        return (
            f"{self.how}: what was inferred from {self.first} was checked on every "
            f"{self.rest} row ({self.every_row} infers from every row)"
        )


def summarize(
    first: Dataset,
    totals: Totals,
    roles_warnings: Sequence[str],
    *,
    rows: dict[str, int],
    path: str | None = None,
    evidence: Sequence[str] | None = None,
    pieces: Pieces | None = None,
) -> Summary:
    """The first piece's dataset carrying the totals of the whole input.

    ``rows`` are the rows of each input ("predictions", "targets"; inputs the dataset
    lacks are left out) and ``path`` replaces every input's path; the first piece's
    ``inputs`` are copied, not changed. The note of ``pieces`` ends the warnings."""
    inputs = {k: dict(v) for k, v in first.inputs.items()}
    for key, v in inputs.items():
        if key in rows:
            v["rows"] = rows[key]
        if path is not None:
            v["path"] = path
    warnings = totals.warnings(roles_warnings)
    note = None if pieces is None else pieces.note()
    if note and (first.task_inferred or first.input_kind_inferred):
        warnings.append(note)
    ev = list(first.evidence if evidence is None else evidence)
    return Summary(first, warnings, ev, inputs, totals.kept)


# --------------------------------------------------------------------------- one piece


def column_selectors(opts: ReadOptions, one_file: bool) -> tuple[Selector | None, Selector | None]:
    """Column selectors of the predictions and targets files."""
    roles = [c for c in (opts.id_col, opts.group_col, opts.weight_col) if c]
    return selectors(one_file, opts.pred_cols, opts.target_cols, roles)


def chunk_step(opts: ReadOptions, plan: TablePlan, **kw: Any) -> ChunkStep:
    """The chunk step of an input planned as ``plan``."""
    return ChunkStep(plan, opts.task, opts.logits, opts.drop_invalid, **kw)


def load_dataset(
    preds: str,
    targets: str | None = None,
    *,
    task: str = "auto",
    pred_cols: Sequence[str] = (),
    target_cols: Sequence[str] = (),
    id_col: str | None = None,
    group_col: str | None = None,
    weight_col: str | None = None,
    logits: bool | None = None,
    drop_invalid: bool = False,
) -> Dataset:
    """Load prediction (and target) files into a :class:`Dataset`, in one piece.

    ``targets`` None: the predictions file holds the targets too (``--target-col``, or a
    column named target/y/label; an ``.npz`` with pred and target arrays), or the task
    has none (gan, embedding triplets). ``logits`` True/False forces the input kind;
    None infers it. ``drop_invalid`` drops rows with missing or non-finite cells from
    both sides (and says so in ``warnings``) instead of failing.
    """
    opts = ReadOptions(
        task or "auto", pred_cols, target_cols, id_col, group_col, weight_col, logits, drop_invalid
    )
    return read_whole(preds, targets, opts)


def read_whole(preds: str, targets: str | None, opts: ReadOptions) -> Dataset:
    """The files read in one piece: N-d masks, or tables through the chunk step as one
    chunk followed by the whole-input checks."""
    if preds == "-" and targets == "-":
        raise UsageError(
            "at most one input may be '-' (standard input)",
            hint="save one of them to a file",
        )
    sel_p, sel_t = column_selectors(opts, targets is None)
    text = {"header": opts.header, "decimal": opts.decimal}
    ptab = read_table(preds, select=sel_p, role="predictions", **text)
    ttab: Table | None = None
    if targets is not None:
        ttab = read_table(targets, select=sel_t, role="targets", **text)
    elif ptab.companion is not None:
        ttab = ptab.companion
    tables = [ptab] if ttab is None else [ptab, ttab]
    notes = [n for t in tables for n in t.notes]
    warnings = [w for t in tables for w in t.warnings]
    if any(t.tensor is not None for t in tables):
        return from_tensors(ptab, ttab, opts.task, opts.logits, opts.drop_invalid, notes, warnings)
    plan = plan_tables(ptab, ttab, opts)
    totals = Totals(file_warnings=warnings)
    step = chunk_step(opts, plan)
    arr = step.arrays(ptab, ttab, totals)
    finish_input(totals, plan, weight_table(plan, ptab, ttab).name, ptab.name)
    assert arr is not None
    ds = step.dataset(arr, ptab, ttab, totals, notes)
    ds.warnings = totals.warnings(plan.roles.warnings)
    return ds


def weight_table(plan: TablePlan, ptab: T, ttab: T | None) -> T:
    """Of the predictions' and targets' tables (or files), the one holding the
    sample-weight column (the predictions' when there is none)."""
    weight = plan.roles.weight
    if weight is not None and weight[0] != "pred" and ttab is not None:
        return ttab
    return ptab


# --------------------------------------------------------------------------- models


def model_columns(preds: str, targets: str, opts: ReadOptions) -> tuple[list[str], str] | None:
    """One file holding one model per column (``compare both.csv targets.csv``): the
    columns and the evidence, or None when the file is one model's predictions.

    Several prediction columns and one numeric target column are several models when no
    one model could have written them: continuous targets (regression has one column
    per target); integer targets with a label beyond the columns (not class scores);
    0/1 targets with rows that do not sum to 1 (not ``predict_proba``)."""
    if opts.pred_cols or preds == "-" or targets == "-":
        return None
    sel_p, sel_t = column_selectors(opts, False)
    ptab = read_table(preds, select=sel_p, role="predictions")
    ttab = read_table(targets, select=sel_t, role="targets")
    if ptab.tensor is not None or ttab.tensor is not None:
        return None
    plan = plan_tables(ptab, ttab, opts)
    lay = plan.layout
    if lay.task is not None or len(lay.pred_cols) < 2 or len(lay.target_cols) != 1:
        return None
    if opts.task not in ("auto", "regression", "binary") or lay.embedding_names:
        return None
    arr = table_arrays(plan, ptab, ttab)
    if arr.target is None or arr.target.dtype == object:
        return None
    t, p = arr.target[:, 0], arr.pred
    t, p = t[np.isfinite(t)], p[np.isfinite(p).all(axis=1)]
    if t.size == 0 or p.size == 0:
        return None
    integral = bool(np.all(t == np.round(t)))
    binary01 = bool(np.all((t == 0.0) | (t == 1.0)))
    cols = list(lay.pred_cols)
    if not integral:
        why = "continuous targets"
    elif binary01:
        in_unit = bool(p.min() >= 0.0 and p.max() <= 1.0)
        if in_unit and rows_off_sum(p).size == 0:
            return None  # class probabilities of one model
        why = "0/1 targets and scores whose rows do not sum to 1"
    elif t.min() < 0 or t.max() >= len(cols):
        why = f"integer targets up to {t.max():g}, beyond {len(cols)} class columns"
    else:
        return None
    shown = ", ".join(cols[:6]) + (", …" if len(cols) > 6 else "")
    return cols, (
        f"{ptab.name} has {len(cols)} prediction columns ({shown}) and {ttab.name} one "
        f"target column of {why} → one model per column, named by the columns "
        "(pass --pred-col to compare chosen columns)"
    )
