"""Task and probabilities-vs-logits inference, with the evidence for each decision.

Two steps (SPEC §5 Task inference):

1. :func:`choose_layout` — by column names: GAN (``real``, ``fake``), VAE (``mu_*``,
   ``logvar_*``), detection (``x1,y1,x2,y2`` in both files), embedding (``a_*``/``p_*``/
   ``n_*`` triplets, ``a_*``/``b_*`` pairs, a ``distance`` column, ``e*``/``emb_*``
   vectors), segmentation (``--group-col``); otherwise the default columns.
2. :func:`infer_task` — by values: continuous targets → regression; targets in {0,1}
   with one prediction column → binary; integer or named labels with C ≥ 2 prediction
   columns → multiclass; a 0/1 target matrix → multilabel (or one-hot multiclass when
   every row holds exactly one 1); rows of both files summing to 1 → distribution.

:func:`infer_input_kind`: all predictions in [0, 1] (and, for multiclass, every row
summing to 1) → probabilities, else logits — unless forced.

Every decision appends one sentence to ``evidence``; an explicit task that does not fit
the data raises a DataError saying why.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from losscli.data.align import (
    Roles,
    RowRef,
    class_suffixes,
    default_columns,
    find_column,
    one_file_targets,
    resolve_columns,
)
from losscli.data.readers import Table
from losscli.errors import DataError, UsageError, did_you_mean

#: Row sums of probabilities may differ from 1 by this much per class (values rounded to
#: 6 decimals, as CSV writers commonly do, are off by up to C·5e-7).
SUM_TOL_PER_CLASS = 1e-6
#: Probabilities written with 2 decimals are each off by up to 5e-3, so a row of C of them
#: sums to 1 within C·5e-3 (3 decimals: C·5e-4). Rows within :func:`sum_tolerance` are
#: still read as (rounded) probabilities, with a warning beyond ``SUM_TOL_PER_CLASS``·C.
SUM_TOL_ROUNDED_PER_CLASS = 5e-3
#: Bounds of that tolerance: at least 0.01 (two classes at 2 decimals), at most 0.1, so
#: that scores in [0, 1] whose rows merely come near 1 are not taken for probabilities.
SUM_TOL_ROUNDED_MIN = 1e-2
SUM_TOL_ROUNDED_MAX = 1e-1

_EMBEDDING_NAME = re.compile(r"^(e|emb|embedding|z)_?\d+$", re.IGNORECASE)
_BOX = ("x1", "y1", "x2", "y2")


@dataclass
class Layout:
    """Which columns play which part, and the task when column names decide it."""

    task: str | None
    pred_cols: list[str]
    target_cols: list[str]
    score_col: str | None = None  # detection, in the predictions table
    label_col: str | None = None  # detection, in the targets table
    mu_cols: list[str] = field(default_factory=list)
    logvar_cols: list[str] = field(default_factory=list)
    embedding: str | None = None  # "labels" | "distance" | "pairs" | "triplets"
    embedding_names: bool = False  # prediction columns look like embedding dimensions
    evidence: list[str] = field(default_factory=list)


def _prefixed(table: Table, prefix: str, exclude: set[str]) -> list[str]:
    pat = re.compile(rf"^{re.escape(prefix)}_?\d+$", re.IGNORECASE)
    return [c for c in table.all_columns if pat.match(c) and c not in exclude]


def _named(table: Table, names: Sequence[str]) -> list[str] | None:
    cols = [find_column(table, n) for n in names]
    if any(c is None for c in cols):
        return None
    return [c for c in cols if c is not None]


def _short(cols: Sequence[str], n: int = 6) -> str:
    return ", ".join(cols[:n]) + (", …" if len(cols) > n else "")


@dataclass
class _Cols:
    """What the layout rules look at: the tables, the roles and the flags."""

    ptab: Table
    ttab: Table | None
    roles: Roles
    task: str
    one_file: bool
    exp_p: list[str]  # --pred-col, resolved
    exp_t: list[str]  # --target-col, resolved

    @property
    def tab_t(self) -> Table | None:
        """The table holding the targets (the predictions table in one-file input)."""
        return self.ptab if self.one_file else self.ttab

    @property
    def pex(self) -> set[str]:
        """Prediction-table columns that play a role (id, weight, group)."""
        return self.roles.excluded("pred")

    def auto(self, name: str) -> bool:
        """Whether the task may be ``name`` (given as it, or inferred)."""
        return self.task in ("auto", name)

    def targets(self, taken: set[str]) -> list[str]:
        """--target-col, else the default target columns (not ``taken``)."""
        assert self.tab_t is not None
        return self.exp_t or _targets_of(self.ptab, self.tab_t, self.roles, self.one_file, taken)


def choose_layout(
    ptab: Table,
    ttab: Table | None,
    roles: Roles,
    *,
    task: str,
    pred_cols: Sequence[str],
    target_cols: Sequence[str],
    one_file: bool,
) -> Layout:
    """Column roles from names and flags. ``ttab`` is None when there are no targets
    (``one_file`` means the predictions table also holds the targets).

    Tasks that column names decide come first (gan, embedding, vae, detection); every
    other input gets its default columns, and the values decide the task later.
    """
    tab_t = ptab if one_file else ttab
    exp_p = resolve_columns(pred_cols, ptab, "--pred-col") if pred_cols else []
    exp_t: list[str] = []
    if target_cols:
        if tab_t is None:
            raise UsageError(
                "--target-col names a target column, but there are no targets",
                hint="pass the TARGETS file, or drop --target-col",
            )
        exp_t = resolve_columns(target_cols, tab_t, "--target-col")
    c = _Cols(ptab, ttab, roles, task, one_file, exp_p, exp_t)
    for rule in (_gan_layout, _embedding_layout, _vae_layout, _detection_layout):
        layout = rule(c)
        if layout is not None:
            return layout
    return _default_layout(c)


def _gan_layout(c: _Cols) -> Layout | None:
    """GAN: the only file has real and fake discriminator outputs."""
    if c.auto("gan") and c.ttab is None and not c.exp_p:
        rf = _named(c.ptab, ("real", "fake"))
        if rf is not None:
            return Layout(
                "gan",
                [rf[0]],
                [rf[1]],
                evidence=[
                    f"{c.ptab.name} has columns '{rf[0]}' and '{rf[1]}' and there are no "
                    "targets → gan (discriminator outputs on real and generated samples)"
                ],
            )
    if c.task == "gan":
        return _explicit_gan(c.ptab, c.ttab, c.exp_p, c.exp_t, c.one_file)
    return None


def _embedding_layout(c: _Cols) -> Layout | None:
    """Embedding triplets (no targets), pairs, distances."""
    if c.auto("embedding") and not c.exp_p:
        layout = _triplets(c) or _pairs(c) or _distances(c)
        if layout is not None:
            return layout
    if c.task == "embedding" and c.tab_t is None:
        raise DataError(
            "embedding without targets needs triplet columns a_0…, p_0…, n_0… "
            f"(anchor, positive, negative); {c.ptab.name} has: {_short(c.ptab.all_columns, 10)}",
            hint="pass the label file as TARGETS, or name the columns a_*, p_*, n_*",
        )
    return None


def _triplets(c: _Cols) -> Layout | None:
    a, p, n_ = (_prefixed(c.ptab, x, c.pex) for x in ("a", "p", "n"))
    if c.ttab is not None or not a or not len(a) == len(p) == len(n_):
        return None
    return Layout(
        "embedding",
        a + p + n_,
        [],
        embedding="triplets",
        evidence=[
            f"{c.ptab.name} has anchor, positive and negative columns "
            f"({a[0]}…, {p[0]}…, {n_[0]}…; d={len(a)}) and there are no targets "
            "→ embedding (triplets)"
        ],
    )


def _pairs(c: _Cols) -> Layout | None:
    a, b = (_prefixed(c.ptab, x, c.pex) for x in ("a", "b"))
    if c.tab_t is None or not a or not b or len(a) != len(b):
        return None
    return Layout(
        "embedding",
        a + b,
        c.targets(set(a + b)),
        embedding="pairs",
        evidence=[
            f"{c.ptab.name} has two embedding blocks ({a[0]}…, {b[0]}…; d={len(a)}) "
            "and a similarity target → embedding (pairs)"
        ],
    )


def _distances(c: _Cols) -> Layout | None:
    dist = find_column(c.ptab, "distance")
    if c.tab_t is None or dist is None or dist in c.pex:
        return None
    return Layout(
        "embedding",
        [dist],
        c.targets({dist}),
        embedding="distance",
        evidence=[
            f"{c.ptab.name} has a '{dist}' column and a similarity target "
            "→ embedding (distance pairs)"
        ],
    )


def _vae_layout(c: _Cols) -> Layout | None:
    """VAE: reconstructions plus mu_* and logvar_* columns."""
    ptab = c.ptab
    mu, logvar = _prefixed(ptab, "mu", c.pex), _prefixed(ptab, "logvar", c.pex)
    if not (c.auto("vae") and mu and logvar and c.tab_t is not None):
        if c.task == "vae":
            raise DataError(
                f"vae needs mu_* and logvar_* columns in {ptab.name} (besides the "
                "reconstruction columns) and the original inputs as TARGETS; found: "
                f"{_short(ptab.all_columns, 10)}",
                hint="name the latent columns mu_0, mu_1, … and logvar_0, logvar_1, …",
            )
        return None
    if len(mu) != len(logvar):
        raise DataError(
            f"{ptab.name}: {len(mu)} mu_* columns but {len(logvar)} logvar_* columns",
            hint="the latent mean and log-variance need one column per latent dimension",
        )
    side = set(mu + logvar)
    tcols = c.targets(side)
    taken = c.pex | side | set(tcols if c.one_file else [])
    recon = c.exp_p or list(default_columns(ptab, taken, allow_text=False))
    return Layout(
        "vae",
        recon,
        tcols,
        mu_cols=mu,
        logvar_cols=logvar,
        evidence=[
            f"{ptab.name} has latent columns {mu[0]}…/{logvar[0]}… (k={len(mu)}) besides "
            f"{len(recon)} reconstruction columns → vae"
        ],
    )


def _detection_layout(c: _Cols) -> Layout | None:
    """Detection: matched boxes x1,y1,x2,y2 in both files."""
    if c.auto("detection") and c.ttab is not None and not c.one_file:
        pbox = c.exp_p or _named(c.ptab, _BOX)
        tbox = c.exp_t or _named(c.ttab, _BOX)
        if pbox is not None and tbox is not None and (c.task == "detection" or not c.exp_p):
            return _detection(c.ptab, c.ttab, pbox, tbox, c.exp_p, c.exp_t, c.task)
    if c.task == "detection":
        raise DataError(
            "detection needs matched boxes: columns x1, y1, x2, y2 (+ score) in the predictions "
            "and x1, y1, x2, y2 (+ label) in the targets file",
            hint="one row per matched box pair; or name four columns with --pred-col/--target-col",
        )
    return None


def _default_layout(c: _Cols) -> Layout:
    """Everything else: default columns, the task decided later by values."""
    ptab, task = c.ptab, c.task
    if c.tab_t is None:
        raise _no_targets(ptab, task)
    tcols = c.targets(set(c.exp_p))
    taken = c.pex | (set(tcols) if c.one_file else set())
    pcols = c.exp_p or default_columns(ptab, taken, allow_text=False)
    if not pcols:
        raise _no_numeric(ptab, taken)
    layout = Layout(task if task != "auto" else None, pcols, tcols)
    if c.roles.group is not None:
        layout.task = "segmentation" if task in ("auto", "segmentation") else task
        if task == "auto":
            layout.evidence.append(
                f"group column '{c.roles.group[1]}' groups pixel rows into images → segmentation"
            )
    # task segmentation without a group column: rows are images and columns pixels,
    # checked when the arrays are built
    layout.embedding_names = len(pcols) >= 2 and all(_EMBEDDING_NAME.match(p) for p in pcols)
    if task == "embedding":
        layout.embedding = "labels"
    return layout


def _no_targets(ptab: Table, task: str) -> UsageError:
    """No targets file and no target column in the predictions."""
    if task != "auto":
        return UsageError(
            f"task '{task}' needs targets",
            hint="pass the TARGETS file, or --target-col naming the target column of "
            f"{ptab.name} (columns: {_short(ptab.all_columns, 10)})",
        )
    return UsageError(
        f"no targets: {ptab.name} has no column named target, y or label",
        hint="pass the TARGETS file, or --target-col naming the target column "
        f"(columns: {_short(ptab.all_columns, 10)})",
    )


def _no_numeric(table: Table, exclude: set[str]) -> DataError:
    """No numeric prediction column: say what the text columns hold."""
    texts = [c for c in table.columns if c in table.text and c not in exclude]
    hint = "name the prediction columns with --pred-col"
    detail = f" (columns: {_short(table.all_columns, 10)})"
    if texts:
        col = texts[0]
        sample = next((v for v in table.columns[col] if v is not None), "")
        detail = f"; column '{col}' holds text such as {sample!r}"
        if re.fullmatch(r"-?\d+,\d+", str(sample)):
            hint = "for decimal commas (European exports) pass --decimal ,"
    return DataError(f"{table.name}: no numeric prediction columns{detail}", hint=hint)


def _targets_of(
    ptab: Table, tab_t: Table, roles: Roles, one_file: bool, taken: set[str]
) -> list[str]:
    if one_file:
        cols = one_file_targets(ptab, roles.excluded("pred") | taken)
        if not cols:
            raise UsageError(
                f"no targets: {ptab.name} has no column named target, y or label",
                hint="pass the TARGETS file, or --target-col naming the target column "
                f"(columns: {_short(ptab.all_columns, 10)})",
            )
        return cols
    cols = default_columns(tab_t, roles.excluded("target"), allow_text=True)
    if not cols:
        raise DataError(
            f"{tab_t.name}: no target columns (columns: {_short(tab_t.all_columns, 10)})",
            hint="name the target columns with --target-col",
        )
    return cols


def _explicit_gan(
    ptab: Table, ttab: Table | None, exp_p: list[str], exp_t: list[str], one_file: bool
) -> Layout:
    rf = _named(ptab, ("real", "fake"))
    if not exp_p and rf is not None:
        return Layout("gan", [rf[0]], [rf[1]])
    if len(exp_p) == 1 and len(exp_t) == 1:
        return Layout("gan", exp_p, exp_t)
    if ttab is not None and not one_file:
        pc = exp_p or [c for c in ptab.columns if c not in ptab.text]
        tc = exp_t or [c for c in ttab.columns if c not in ttab.text]
        if len(pc) == 1 and len(tc) == 1:
            return Layout("gan", pc, tc)
    raise DataError(
        "gan needs discriminator outputs on real and generated samples: one file with "
        f"columns 'real' and 'fake'; {ptab.name} has: {_short(ptab.all_columns, 10)}",
        hint="rename the columns to real and fake, or pass --pred-col REAL --target-col FAKE",
    )


def _detection(
    ptab: Table,
    ttab: Table,
    pbox: list[str],
    tbox: list[str],
    exp_p: list[str],
    exp_t: list[str],
    task: str,
) -> Layout:
    score = find_column(ptab, "score")
    label = find_column(ttab, "label")
    if exp_p and len(exp_p) == 5:
        pbox, score = exp_p[:4], exp_p[4]
    if exp_t and len(exp_t) == 5:
        tbox, label = exp_t[:4], exp_t[4]
    if len(pbox) != 4 or len(tbox) != 4:
        raise DataError(
            f"detection needs 4 box columns (x1, y1, x2, y2) on each side; got "
            f"{len(pbox)} prediction and {len(tbox)} target columns",
            hint="optionally a fifth: the score (predictions) or the 0/1 label (targets)",
        )
    parts = ", ".join(pbox)
    extra = (f" + '{score}'" if score else "") + (f"; targets + '{label}'" if label else "")
    ev = (
        []
        if task == "detection"
        else [f"both files have box columns {parts}{extra} → detection (matched boxes)"]
    )
    return Layout("detection", pbox, tbox, score_col=score, label_col=label, evidence=ev)


# --------------------------------------------------------------------------- values


@dataclass
class Decision:
    """The task, and how the target columns are to be read for it."""

    task: str
    #: "values" (as they are), "indices" (class labels: numbers or names), "onehot"
    #: (C 0/1 columns → indices), "positive" (binary from two class names).
    target_form: str = "values"
    positive: str | None = None
    #: Binary read from several score columns (scikit-learn ``predict_proba``): the
    #: column of the positive class.
    pos_col: int | None = None
    embedding: str | None = None  # embedding layout decided from the values
    #: The classes of positional prediction columns (0, 1, …) read in scikit-learn's
    #: ``classes_`` order (sorted names); None: the columns are named after the classes.
    class_names: list[str] | None = None
    evidence: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _is01(a: np.ndarray) -> bool:
    return bool(np.all((a == 0.0) | (a == 1.0)))


def _in_unit(a: np.ndarray) -> bool:
    return bool(a.size == 0 or (a.min() >= 0.0 and a.max() <= 1.0))


def row_sum_error(a: np.ndarray) -> float:
    """Largest |row sum − 1| of a 2-D array."""
    if a.ndim != 2 or a.shape[0] == 0:
        return 0.0
    return float(np.abs(a.sum(axis=1) - 1.0).max())


def sum_tolerance(n_classes: int) -> float:
    """Largest |row sum − 1| of C values still read as rounded probabilities:
    ``min(max(C·5e-3, 0.01), 0.1)`` (values written with 2 or 3 decimals)."""
    return min(max(n_classes * SUM_TOL_ROUNDED_PER_CLASS, SUM_TOL_ROUNDED_MIN), SUM_TOL_ROUNDED_MAX)


def rows_off_sum(a: np.ndarray) -> np.ndarray:
    """Rows of a 2-D array whose sum is further from 1 than :func:`sum_tolerance`."""
    return np.flatnonzero(np.abs(a.sum(axis=1) - 1.0) > sum_tolerance(a.shape[1]))


def sums_to_one_rounded(a: np.ndarray) -> bool:
    """Every row sums to 1 within :func:`sum_tolerance` (rounded CSV values)."""
    return a.ndim == 2 and row_sum_error(a) <= sum_tolerance(a.shape[1])


def percent_like(scores: np.ndarray, *, rows_sum: bool = False) -> bool:
    """Scores that look like percentages: all in [0, 100] with max > 1 and most above 1
    (one score column), or — ``rows_sum`` — every row summing to 100 (class scores)."""
    if scores.size == 0:
        return False
    lo, hi = float(scores.min()), float(scores.max())
    if lo < 0.0 or hi <= 1.0 or hi > 100.0:
        return False
    if rows_sum and scores.ndim == 2 and scores.shape[1] >= 2:
        return row_sum_error(scores / 100.0) <= sum_tolerance(scores.shape[1])
    return bool(np.count_nonzero(scores > 1.0) * 2 > scores.size)


def percent_hint(what: str = "predictions", *, rows_sum: bool = False) -> str:
    """The advice for scores that :func:`percent_like` flags."""
    rows = " and every row sums to 100" if rows_sum else ""
    return f"{what} lie in [0, 100]{rows} — if they are percentages, divide by 100"


def _integral(a: np.ndarray) -> bool:
    return bool(np.all(a == np.round(a)))


#: Values looked at first when counting distinct values: continuous data shows more
#: than a handful among them, and the whole column is never sorted.
_HEAD = 4096


def few_values(a: np.ndarray, limit: int) -> np.ndarray | None:
    """The sorted distinct values of ``a`` when there are at most ``limit`` of them, else
    None. Costs a few comparisons per value instead of sorting the whole column, which
    on a million rows of continuous data is most of the time of inference."""
    flat = np.ravel(a)
    seen = _distinct(flat[:_HEAD])
    while seen.size <= limit:
        rest = flat[~np.isin(flat, seen)]
        if rest.size == 0:
            return seen
        more = _distinct(np.concatenate([seen, rest[:_HEAD]]))
        if more.size == seen.size:  # NaN is never "in" seen: count the slow way
            seen = np.unique(flat)
            return seen if seen.size <= limit else None
        seen = more
    return None


def _distinct(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a small array, one NaN for all, as ``np.unique`` gives
    them (which imports ``numpy.ma``: 10 ms at start-up)."""
    s = np.sort(x)
    keep = np.ones(s.size, dtype=bool)
    keep[1:] = s[1:] != s[:-1]
    if s.dtype.kind == "f":
        keep[1:] &= ~(np.isnan(s[1:]) & np.isnan(s[:-1]))  # NaNs sort last
    return s[keep]


def _values_text(a: np.ndarray) -> str:
    u = few_values(a, 4)
    if u is not None:
        return ", ".join(f"{v:g}" for v in u)
    return f"values from {a.min():g} to {a.max():g}"


@dataclass
class _Values:
    """What the task rules look at: the arrays, their columns and shapes."""

    pred: np.ndarray  # (n, k)
    target: np.ndarray  # (n, m) float64 or (n,) object
    layout: Layout
    ref: RowRef  # the targets' rows
    pos_label: str | None = None

    @property
    def k(self) -> int:
        return int(self.pred.shape[1])

    @property
    def text(self) -> bool:
        return self.target.dtype == object

    @property
    def m(self) -> int:
        return 1 if self.text else int(self.target.shape[1])

    @property
    def tname(self) -> str:
        tcols = self.layout.target_cols
        return tcols[0] if tcols else "target"

    @property
    def pcols(self) -> list[str]:
        return self.layout.pred_cols

    @property
    def tshort(self) -> str:
        return _short(self.layout.target_cols)

    def names(self) -> set[str]:
        """The class names of text targets."""
        return {str(v) for v in self.target}


def infer_task(
    pred: np.ndarray,
    target: np.ndarray,
    layout: Layout,
    *,
    task: str,
    target_ref: RowRef,
    pred_name: str = "PREDS",
    pos_label: str | None = None,
) -> Decision:
    """Decide the task from the values (``task`` "auto") or check an explicit one.

    ``pred`` is (n, k) float64; ``target`` is (n, m) float64 or (n,) object (text labels).
    ``pred_name`` names the predictions file in warnings; ``pos_label`` (``--pos-label``)
    the positive class of binary targets.
    """
    v = _Values(pred, target, layout, target_ref, pos_label)
    if task != "auto":
        if task in ("regression", "distribution", "multilabel") and v.text:
            raise DataError(
                f"--task {task} needs numeric targets; column '{v.tname}' of {v.ref.name} "
                f"holds text (e.g. {target[0]!r})",
            )
        rule = _EXPLICIT.get(task)
        return rule(v, task) if rule is not None else Decision(task)
    out = _auto_text(v) if v.text else _auto_one(v) if v.m == 1 else _auto_columns(v)
    if out.task == "regression" and v.k == 1 and v.m == 1:
        out.warnings.extend(_label_warnings(pred[:, 0], target[:, 0], v.tname, pred_name))
    return out


def _auto_text(v: _Values) -> Decision:
    """Text targets: class names (binary, multiclass) or embedding labels."""
    pcols, k, tname = v.pcols, v.k, v.tname
    names = v.names()
    if k == 2 and len(names) <= 2 and _proba_pair(v.pred):
        return _binary_pair(v)
    if k == 1 and len(names) <= 2 and v.pos_label is not None:
        return _named_positive(v, v.pos_label)
    if k == 1 and len(names) <= 2 and pcols[0] in names:
        return Decision(
            "binary",
            "positive",
            positive=pcols[0],
            evidence=[
                f"targets (column '{tname}') are two class names and the one prediction "
                f"column is named after one of them ('{pcols[0]}') → binary"
            ],
        )
    lowered = {c.lower() for c in pcols} | {c.lower() for c in class_suffixes(pcols) or []}
    matches = sum(1 for nm in names if nm in pcols or nm.lower() in lowered)
    if v.layout.embedding_names and matches == 0:
        return _embedding_labels("the targets are labels", pcols)
    if k < 2 and len(names) == 2:
        ordered = sorted(names)
        raise DataError(
            f"targets (column '{tname}') are two class names ({ordered[0]}, {ordered[1]}) "
            f"and the one prediction column ('{pcols[0]}') does not say which class it "
            "scores",
            hint=f"pass --pos-label {ordered[1]} (or --pos-label {ordered[0]}) to name the "
            "class the column scores, or name the column after that class",
        )
    if k < 2:
        raise DataError(
            f"targets (column '{tname}') hold class names but there is one prediction "
            f"column ('{pcols[0]}')",
            hint="give one prediction column per class, named after the classes "
            "(probabilities or logits)",
        )
    positional = _unnamed_columns(pcols)
    if matches == 0 and positional and len(names) == k:
        ordered = sorted(names)
        return Decision(
            "multiclass",
            "indices",
            class_names=ordered,
            evidence=[
                f"targets (column '{tname}') are {k} class names and the {k} prediction "
                f"columns are unnamed ({_short(pcols)}) → multiclass, columns read in "
                f"sorted class order as scikit-learn's classes_: {_short(ordered, 4)}; "
                "name the columns after the classes if the order differs"
            ],
        )
    if matches == 0 and positional:
        raise DataError(
            f"targets (column '{tname}') hold {len(names)} class name"
            f"{'s' if len(names) > 1 else ''} ({_short(sorted(names), 4)}) and the {k} "
            f"prediction columns are unnamed ({_short(pcols)}): which column scores which "
            "class cannot be told (scikit-learn's classes_ order needs every class among "
            "the targets read)",
            hint="name the prediction columns after the classes, e.g. "
            "pd.DataFrame(proba, columns=model.classes_).to_csv(...)",
        )
    if matches == 0:
        raise DataError(
            f"targets (column '{tname}') hold class names ({_short(sorted(names), 4)}) that "
            f"match none of the prediction columns ({_short(pcols)})",
            hint="name each prediction column after its class, or give class indices "
            "0..C-1 as targets",
        )
    return Decision(
        "multiclass",
        "indices",
        evidence=[
            f"targets (column '{tname}') are class names matching the {k} prediction "
            f"columns ({_short(pcols)}) → multiclass"
        ],
    )


def _pm1_names(pcols: Sequence[str]) -> bool:
    """Two columns named -1 and 1 (scikit-learn's ``classes_`` of -1/+1 labels)."""
    try:
        return sorted(float(c) for c in pcols) == [-1.0, 1.0]
    except ValueError:
        return False


def _unnamed_columns(pcols: Sequence[str]) -> bool:
    """Prediction columns named by position (0, 1, …): an unnamed frame or array."""
    return list(pcols) == [str(j) for j in range(len(pcols))]


def _embedding_labels(what: str, pcols: Sequence[str]) -> Decision:
    return Decision(
        "embedding",
        "labels",
        embedding="labels",
        evidence=[
            f"prediction columns look like embedding dimensions ({_short(pcols, 3)}) "
            f"and {what} → embedding (labels)"
        ],
    )


def _auto_one(v: _Values) -> Decision:
    """One numeric target column: binary, regression, multiclass labels or embedding."""
    t, k, tname = v.target[:, 0], v.k, v.tname
    if k == 1 and _is_pm1(t):
        return Decision(
            "binary",
            evidence=[
                f"targets (column '{tname}') are -1/+1 (the hinge/SVM convention) and there "
                "is one prediction column → binary, read as t = (y + 1) / 2"
            ],
        )
    if (
        k == 2
        and (_is01(t) or (_is_pm1(t) and _pm1_names(v.pcols)))
        and not v.layout.embedding_names
        and _proba_pair(v.pred)
    ):
        return _binary_pair(v)
    if _is01(t) and k == 1:
        return Decision(
            "binary",
            evidence=[
                f"targets (column '{tname}') are all 0 or 1 and there is one prediction "
                "column → binary"
            ],
        )
    if k == 1:
        what = "integers (counts)" if _integral(t) else "continuous"
        return Decision(
            "regression",
            evidence=[
                f"targets (column '{tname}') are {what} ({_values_text(t)}) and there is "
                "one prediction column → regression"
            ],
        )
    if not _integral(t):
        raise DataError(
            f"one target column ('{tname}') but {k} prediction columns ({_short(v.pcols)}); "
            "cannot tell the task",
            hint="choose the prediction column with --pred-col, or pass --task",
        )
    if v.layout.embedding_names:
        return _embedding_labels("targets are integer labels", v.pcols)
    _too_many_columns(v, t)
    return Decision(
        "multiclass",
        "indices",
        evidence=[
            f"targets (column '{tname}') are integer labels ({_values_text(t)}) and "
            f"there are {k} prediction columns → multiclass"
        ],
    )


#: Integer labels 0…L with more than this many times L + 1 prediction columns (and at
#: least :data:`EXTRA_COLUMNS` more) are not guessed to be multiclass (SPEC §9).
COLUMNS_PER_CLASS = 2
EXTRA_COLUMNS = 3


def _too_many_columns(v: _Values, t: np.ndarray) -> None:
    """Multiclass needs one prediction column per class: many more columns than the
    largest label + 1 (64 embedding dimensions, labels 0…9) is a question, not a guess."""
    if t.size == 0 or t.min() < 0 or _is_distribution(v.pred):
        return  # rows of probabilities summing to 1 are class scores, whatever the labels
    classes = int(t.max()) + 1
    if v.k > COLUMNS_PER_CLASS * classes and v.k - classes >= EXTRA_COLUMNS:
        raise DataError(
            f"targets (column '{v.tname}') are integer labels 0…{classes - 1}, but there are "
            f"{v.k} prediction columns ({_short(v.pcols)}): too many for one column per "
            "class, so the task is not guessed",
            hint="pass --task embedding if the columns are embedding vectors, or --task "
            "multiclass if they are class scores (then classes absent from the targets "
            "have columns too)",
        )


def _is_pm1(t: np.ndarray) -> bool:
    """Targets in {-1, +1} with both present (the hinge / SVM label convention)."""
    return bool(t.size and np.all((t == -1.0) | (t == 1.0)) and (t == -1.0).any())


def _proba_pair(pred: np.ndarray) -> bool:
    """Two columns of probabilities whose rows sum to 1 (``predict_proba`` of a binary
    classifier): P(negative), P(positive)."""
    return pred.shape[1] == 2 and _in_unit(pred) and sums_to_one_rounded(pred)


_POSITIVE_WORDS = ("1", "1.0", "true", "yes", "pos", "positive")


def _positive_like(name: str) -> bool:
    """A column named like the positive class: 1, True, yes, pos — alone or as the last
    part of a name (p_1, proba_1, class_yes)."""
    low = name.strip().lower()
    last = re.split(r"[_\s.:-]", low)[-1] if low else low
    return low in _POSITIVE_WORDS or last in _POSITIVE_WORDS


def _pos_column(v: _Values, positive: str | None) -> tuple[int, str]:
    """Which of two score columns is the positive class's, and why."""
    pcols = v.pcols
    if positive is not None:
        for j, c in enumerate(pcols):
            if c == positive or c.lower() == positive.lower():
                return j, f"the column named '{c}'"
    if positive is None:
        like = [j for j, c in enumerate(pcols) if _positive_like(c)]
        if len(like) == 1:
            return like[0], f"the column named like the positive class ('{pcols[like[0]]}')"
    return 1, f"the second column ('{pcols[1]}', scikit-learn's order of classes_)"


def _binary_pair(v: _Values) -> Decision:
    """Binary targets with two probability columns (``predict_proba``): binary on the
    positive class's column."""
    tname = v.tname
    if v.text:
        names = sorted(v.names())
        if v.pos_label is not None:
            positive = _check_pos_label(v, names)
        elif all(n in v.pcols for n in names) and len(names) == 2:
            positive = v.pcols[1]
        elif len(names) == 2:
            positive = names[1]
        else:
            raise DataError(
                f"targets (column '{tname}') hold one class name ({names[0]!r}) and there are "
                f"two probability columns ({_short(v.pcols)}): which is the positive class?",
                hint="pass --pos-label LABEL naming the positive class",
            )
        if positive in v.pcols or len(names) != 2:
            j, why = _pos_column(v, positive if positive in v.pcols else None)
        else:
            j = names.index(positive)
            why = (
                f"the {('first', 'second')[j]} column ('{v.pcols[j]}', scikit-learn's "
                "order of classes_: sorted)"
            )
        return Decision(
            "binary",
            "positive",
            positive=positive,
            pos_col=j,
            evidence=[
                f"targets (column '{tname}') are two class names and there are two "
                f"probability columns summing to 1 (predict_proba) → binary, positive class "
                f"'{positive}'"
                + (" (--pos-label)" if v.pos_label else " (--pos-label sets it)")
                + f", scored by {why}"
            ],
        )
    form = "values"
    pm1 = v.m == 1 and _is_pm1(v.target[:, 0])  # classes_ (-1, 1): read as 0/1
    negative = "-1" if pm1 else "0"
    if v.pos_label is not None:
        lab = _check_pos_label(v, [negative, "1"])
        j, why = _pos_column(v, lab)
        if why.startswith("the second") and lab == negative:
            j, why = 0, f"the first column ('{v.pcols[0]}', scikit-learn's order of classes_)"
        form = "flip" if lab == negative else "values"
    else:
        j, why = _pos_column(v, "1" if pm1 else None)
    labels = "-1/+1 (read as 0/1)" if pm1 else "all 0 or 1"
    return Decision(
        "binary",
        form,
        pos_col=j,
        evidence=[
            f"targets (column '{tname}') are {labels} and there are two probability columns "
            f"summing to 1 (predict_proba) → binary on the positive class's column: {why}"
            + (f"; label {negative} is the positive class (--pos-label)" if form == "flip" else "")
        ],
    )


def _check_pos_label(v: _Values, labels: Sequence[str]) -> str:
    """``--pos-label`` must be one of the target labels."""
    assert v.pos_label is not None
    lab = v.pos_label.strip()
    for cand in labels:
        if cand == lab or cand.lower() == lab.lower():
            return cand
    try:
        if float(lab).is_integer() and str(int(float(lab))) in labels:
            return str(int(float(lab)))
    except ValueError:
        pass
    raise DataError(
        f"--pos-label {v.pos_label!r} is not one of the target labels "
        f"({_short(list(labels), 6)}) of column '{v.tname}'",
        hint=(did_you_mean(lab, list(labels)) or "") + " name one of the labels",
    )


def _named_positive(v: _Values, pos_label: str) -> Decision:
    """One score column and two named classes: ``--pos-label`` names the one it scores."""
    positive = _check_pos_label(v, sorted(v.names()))
    return Decision(
        "binary",
        "positive",
        positive=positive,
        evidence=[
            f"targets (column '{v.tname}') are class names; the one prediction column "
            f"('{v.pcols[0]}') scores the positive class '{positive}' (--pos-label) → binary"
        ],
    )


def _auto_columns(v: _Values) -> Decision:
    """Several target columns: one-hot, multilabel, distribution or multi-output."""
    pred, target, k, m = v.pred, v.target, v.k, v.m
    if m != k:
        raise DataError(
            f"{m} target columns ({v.tshort}) but {k} prediction "
            f"column{'s' if k != 1 else ''} ({_short(v.pcols)})",
            hint="choose columns with --pred-col/--target-col so that they correspond",
        )
    if _is01(target):
        if bool(np.all(target.sum(axis=1) == 1.0)):
            return Decision(
                "multiclass",
                "onehot",
                evidence=[
                    f"the {m} target columns are 0/1 with exactly one 1 per row (one-hot) → "
                    "multiclass"
                ],
            )
        return Decision(
            "multilabel",
            evidence=[f"the {m} target columns are 0/1 with any number of 1s per row → multilabel"],
        )
    if _is_distribution(pred) and _is_distribution(target):
        err = max(row_sum_error(pred), row_sum_error(target))
        within = f" (within {err:.2g}, rounded values)" if err > SUM_TOL_PER_CLASS * k else ""
        return Decision(
            "distribution",
            evidence=[
                f"every row of the {k} prediction and target columns is in [0, 1] and sums to 1"
                f"{within} → distribution"
            ],
        )
    return Decision(
        "regression",
        evidence=[f"{m} continuous target columns → regression (multi-output)"],
    )


def _is_distribution(a: np.ndarray) -> bool:
    return _in_unit(a) and sums_to_one_rounded(a)


def _label_warnings(p: np.ndarray, t: np.ndarray, tname: str, pred_name: str) -> list[str]:
    """Regression read from one prediction and one target column whose values look like
    a classification: files given in the wrong order, or class labels not coded 0/1."""
    out: list[str] = []
    pu = few_values(p, 2)
    if (
        pu is not None
        and pu.size == 2
        and pu[0] == 0.0
        and pu[1] == 1.0
        and _in_unit(t)
        and not _is01(t)
    ):
        out.append(
            f"the files look swapped: the predictions ({pred_name}) are 0/1 labels and the "
            f"targets (column '{tname}') look like probabilities — TARGETS comes second: "
            "losscli evaluate PREDS TARGETS"
        )
    tu = few_values(t, 2)
    if tu is not None and tu.size == 2 and _integral(tu):
        a, b = (f"{v:g}" for v in tu)
        if tu[0] == -1.0 and tu[1] == 1.0:
            fix = "pass --task binary (-1 is then read as 0), or recode them to 0/1"
        else:
            fix = f"recode them to 0/1 ({a} → 0, {b} → 1) for --task binary"
        out.append(
            f"targets (column '{tname}') take only the two values {a} and {b}, read as "
            f"regression; if they are class labels, {fix}"
        )
    return out


def _explicit_regression(v: _Values, task: str) -> Decision:
    if v.m != v.k:
        raise DataError(
            f"regression needs one target column per prediction column; got {v.k} prediction "
            f"({_short(v.pcols)}) and {v.m} target columns ({v.tshort})",
            hint="choose columns with --pred-col/--target-col",
        )
    return Decision("regression")


def _explicit_binary(v: _Values, task: str) -> Decision:
    if v.k == 2 and (v.text or v.m == 1):
        if not _proba_pair(v.pred):
            raise DataError(
                f"binary with two prediction columns ({_short(v.pcols)}) reads them as "
                "predict_proba (P(negative), P(positive)), but their rows do not sum to 1",
                hint="for two logits use --task multiclass (softmax over both), or name "
                "the positive class's column with --pred-col",
            )
        out = _binary_pair(v)
        out.evidence = []
        return out
    if v.k == 1 and v.text and v.pos_label is not None:
        out = _named_positive(v, v.pos_label)
        out.evidence = []
        return out
    if v.k != 1:
        raise DataError(
            f"binary needs one prediction column; got {v.k} ({_short(v.pcols)})",
            hint="choose it with --pred-col, or use --task multiclass / multilabel",
        )
    if v.text:
        names = v.names()
        if len(names) <= 2 and v.pcols[0] in names:
            return Decision("binary", "positive", positive=v.pcols[0])
        raise DataError(
            f"binary targets must be 0/1; column '{v.tname}' holds class names "
            f"({_short(sorted(names), 4)})",
            hint="name the prediction column after the positive class, or use 0/1 targets",
        )
    if v.m != 1:
        raise DataError(f"binary needs one target column; got {v.m} ({v.tshort})")
    return Decision("binary")


def _explicit_multiclass(v: _Values, task: str) -> Decision:
    if v.k < 2:
        raise DataError(
            f"multiclass needs one prediction column per class (C ≥ 2); got {v.k} "
            f"({_short(v.pcols)})",
            hint="for one probability column use --task binary",
        )
    if v.text and _unnamed_columns(v.pcols) and len(v.names()) == v.k:
        lowered = {c.lower() for c in v.pcols}
        if not any(nm in v.pcols or nm.lower() in lowered for nm in v.names()):
            return Decision("multiclass", "indices", class_names=sorted(v.names()))
    if v.text or v.m == 1:
        return Decision("multiclass", "indices")
    if v.m == v.k:
        return Decision("multiclass", "onehot")
    raise DataError(
        f"multiclass targets are one column of labels or {v.k} one-hot columns; got {v.m} "
        f"target columns ({v.tshort})",
        hint="choose the label column with --target-col",
    )


def _explicit_matched(v: _Values, task: str) -> Decision:
    """multilabel, distribution: one target column per prediction column."""
    if v.m != v.k or (task == "distribution" and v.k < 2):
        raise DataError(
            f"{task} needs as many target columns as prediction columns"
            + (" (≥ 2)" if task == "distribution" else "")
            + f"; got {v.k} prediction ({_short(v.pcols)}) and {v.m} target columns "
            f"({v.tshort})",
            hint="choose columns with --pred-col/--target-col",
        )
    return Decision(task)


def _explicit_embedding(v: _Values, task: str) -> Decision:
    if v.m != 1:
        raise DataError(
            f"embedding targets are one column of labels (or 0/1 similarity); got {v.m} "
            f"({v.tshort})",
            hint="choose it with --target-col",
        )
    if v.k == 1 and not v.text and _is01(v.target[:, 0]):
        return Decision("embedding", "values", embedding="distance")
    return Decision("embedding", "labels", embedding="labels")


#: Checks of an explicit --task against the columns (tasks not listed pass as given).
_EXPLICIT = {
    "regression": _explicit_regression,
    "binary": _explicit_binary,
    "multiclass": _explicit_multiclass,
    "multilabel": _explicit_matched,
    "distribution": _explicit_matched,
    "embedding": _explicit_embedding,
}


# --------------------------------------------------------------------------- targets only

#: Integer targets with at most this many distinct values (and ≥ 5 rows per value on
#: average) count as class labels when there are no predictions to tell.
MAX_LABEL_CLASSES = 20


def infer_targets_task(
    table: Table, task: str | None, name: str
) -> tuple[str, np.ndarray, list[str]]:
    """Task of a targets file read without predictions (``recommend --from-data``):
    (task, target values, the evidence). ``task`` None infers it; ``name`` names the
    file."""
    if table.tensor is not None:
        from losscli.data.mask_labels import mask_channels

        masks, how = mask_channels(table.tensor, name)
        return (
            task or "segmentation",
            masks,
            [f"{name} holds an array of shape {table.tensor.shape} → segmentation: {how}"],
        )
    cols = [c for c in table.all_columns if c.lower() not in ("id", "index")]
    if not cols:
        raise DataError(
            f"{name} has no target column",
            hint="give a file with one target column (or several 0/1 label columns)",
        )
    text = [c for c in cols if table.kind(c) == "text"]
    if text:
        return _class_name_targets(table.columns[text[0]], text[0], task)
    y = table.matrix(cols, role="a target")
    if y.shape[1] > 1:
        return _target_columns(y, task)
    if task:
        return task, y[:, 0], [f"task given: {task}"]
    return _one_target_column(y[:, 0], cols[0])


def _class_name_targets(
    labels: np.ndarray, col: str, task: str | None
) -> tuple[str, np.ndarray, list[str]]:
    """Text targets: class names, coded 0..C-1 in sorted order."""
    names, codes = np.unique(labels.astype(str), return_inverse=True)
    chosen = task or ("binary" if len(names) == 2 else "multiclass")
    why = f"targets (column '{col}') are class names ({len(names)} classes) → {chosen}"
    return chosen, codes.astype(np.float64), [why]


def _target_columns(y: np.ndarray, task: str | None) -> tuple[str, np.ndarray, list[str]]:
    """Several target columns: 0/1 labels (multilabel) or continuous (regression)."""
    if _is01(y):
        return task or "multilabel", y, [f"{y.shape[1]} target columns of 0/1 values → multilabel"]
    return task or "regression", y, [f"{y.shape[1]} continuous target columns → regression"]


def _one_target_column(y: np.ndarray, col: str) -> tuple[str, np.ndarray, list[str]]:
    """One numeric target column: 0/1 (binary), a few integer labels (multiclass), or
    continuous (regression)."""
    distinct = np.unique(y)
    if _is01(distinct):
        return "binary", y, [f"targets (column '{col}') are all 0 or 1 → binary"]
    labels = (
        _integral(distinct)
        and distinct.size <= MAX_LABEL_CLASSES
        and y.size >= 5 * distinct.size
        and distinct.min() >= 0
    )
    if labels:
        why = f"targets (column '{col}') are {distinct.size} integer labels → multiclass"
        return "multiclass", y, [why]
    why = f"targets (column '{col}') are continuous ({distinct.size} distinct values) → regression"
    return "regression", y, [why]


# --------------------------------------------------------------------------- input kind


@dataclass
class InputKind:
    kind: str  # "probabilities" | "logits"
    inferred: bool
    evidence: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def infer_input_kind(
    scores: np.ndarray, *, task: str, logits: bool | None, what: str = "predictions"
) -> InputKind:
    """Probabilities or logits: forced by ``logits``, else from the values.

    All values in [0, 1] — and, for multiclass, every row summing to 1 — → probabilities.
    Rows that sum to 1 only within :func:`sum_tolerance` (values rounded to 2 or 3
    decimals) are still probabilities, with a warning. Scores in [0, 100] that look like
    percentages are logits, with a warning to divide them by 100.
    """
    if logits is True:
        return InputKind("logits", False)
    check_sum = task == "multiclass" and scores.ndim == 2 and scores.shape[1] >= 2
    if logits is False:
        out = InputKind("probabilities", False)
        if check_sum and scores.size and not sums_to_one_rounded(scores):
            out.warnings.append(
                f"{what} were given as probabilities (--probs) but rows do not sum to 1 "
                f"(largest deviation {row_sum_error(scores):.3g})"
            )
        return out
    if scores.size == 0:
        return InputKind("probabilities", True)
    lo, hi = float(scores.min()), float(scores.max())
    if lo < 0.0 or hi > 1.0:
        out = InputKind(
            "logits",
            True,
            [f"{what} fall outside [0, 1] (min {lo:.4g}, max {hi:.4g}) → logits"],
        )
        if percent_like(scores, rows_sum=check_sum):
            out.warnings.append(percent_hint(what, rows_sum=check_sum))
        return out
    if check_sum:
        err = row_sum_error(scores)
        c = scores.shape[1]
        if err <= SUM_TOL_PER_CLASS * c:
            return InputKind(
                "probabilities",
                True,
                [f"{what} are in [0, 1] and every row sums to 1 → probabilities"],
            )
        if err <= sum_tolerance(c):
            return InputKind(
                "probabilities",
                True,
                [
                    f"{what} are in [0, 1] and every row sums to 1 (within {err:.2g}, "
                    "rounded values) → probabilities"
                ],
                [
                    f"{what}: rows sum to 1 only within {err:.2g} — treated as probabilities; "
                    "pass --logits if they are logits"
                ],
            )
        return InputKind(
            "logits",
            True,
            [
                f"{what} are in [0, 1] but rows do not sum to 1 (largest deviation {err:.3g}) "
                "→ logits; pass --probs if they are per-class probabilities"
            ],
        )
    return InputKind(
        "probabilities",
        True,
        [f"{what} are all in [0, 1] (min {lo:.4g}, max {hi:.4g}) → probabilities"],
    )
