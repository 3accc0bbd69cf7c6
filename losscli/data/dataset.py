"""Tables → the arrays of one chunk → a :class:`Dataset` in the kernels' layout.

The pieces of the chunk step (:mod:`losscli.data.pipeline` runs them in order):
:func:`plan_tables` (roles and layout, decided once per input, :mod:`~losscli.data.align`
and :func:`~losscli.data.infer.choose_layout`) → :func:`table_arrays` (rows aligned) →
:func:`invalid_cells` / :func:`drop_rows` (missing and non-finite cells,
:mod:`~losscli.data.validate`) → :func:`build_dataset` (task and input-kind inference,
:mod:`~losscli.data.infer`, and the arrays laid out per task). N-d masks are read by
:mod:`losscli.data.masks`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losscli.data.align import (
    ID_NAME,
    TARGET_NAMES,
    Roles,
    RowRef,
    class_indices,
    encode_names,
    factorize,
    group_rows,
    infer_group,
    one_hot_indices,
    resolve_roles,
)
from losscli.data.infer import (
    Decision,
    Layout,
    choose_layout,
    infer_input_kind,
    infer_task,
    rows_off_sum,
)
from losscli.data.readers import Selector, Table
from losscli.data.validate import (
    Checked,
    Invalid,
    check_binary_targets,
    check_probabilities,
    check_unit_interval,
    check_weights,
    check_zero_one,
    scan_invalid,
)
from losscli.errors import DataError, UsageError
from losscli.options import ReadOptions


@dataclass
class Dataset:
    """Aligned, validated arrays of one evaluation, plus what was inferred and why."""

    task: str
    task_inferred: bool
    input_kind: str | None
    input_kind_inferred: bool
    pred: np.ndarray
    target: np.ndarray | None
    context: dict[str, Any] = field(default_factory=dict)
    sample_weight: np.ndarray | None = None
    row_ids: np.ndarray | None = None
    row_numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    class_names: list[str] | None = None
    pred_columns: list[str] = field(default_factory=list)
    target_columns: list[str] = field(default_factory=list)
    inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def n_samples(self) -> int:
        return int(self.pred.shape[0])


# --------------------------------------------------------------------------- selection


def _selector(patterns: Sequence[str]) -> Selector:
    pats = [p.strip().lower() for raw in patterns for p in raw.split(",") if p.strip()]

    def select(names: Sequence[str]) -> list[str]:
        out = [n for n in names if any(fnmatch.fnmatchcase(n.lower(), p) for p in pats)]
        first = names[0].strip().lower() if names else None
        if out and first in ("", "unnamed: 0") and names[0] not in out:
            out.insert(0, names[0])  # the CSV index (an empty header cell): never data
        return out

    return select


#: Read besides the named columns: side columns of some layouts, ids, and index columns
#: (a CSV index named by an empty header cell is read too: see ``_selector``).
_SIDE_COLUMNS = (
    "score",
    "mu_*",
    "mu[0-9]*",
    "logvar_*",
    "logvar[0-9]*",
    ID_NAME,
    "unnamed: 0",
    "__index_level_0__",
)


def selectors(
    one_file: bool,
    pred_cols: Sequence[str],
    target_cols: Sequence[str],
    roles: Sequence[str],
) -> tuple[Selector | None, Selector | None]:
    """Read only the needed columns when the flags name them (memory: usecols)."""
    sel_p = None
    if pred_cols:
        pats = [*pred_cols, *roles, *_SIDE_COLUMNS]
        if one_file:
            pats += list(target_cols) if target_cols else list(TARGET_NAMES)
        sel_p = _selector(pats)
    sel_t = _selector([*target_cols, *roles, ID_NAME, "label"]) if target_cols else None
    return sel_p, sel_t


# --------------------------------------------------------------------------- tables


@dataclass
class ChunkArrays:
    """Aligned arrays before the task layout is applied."""

    pref: RowRef
    tref: RowRef | None
    pred: np.ndarray  # (n, k)
    target: np.ndarray | None  # (n, m) float64 or (n,) object
    score: np.ndarray | None = None
    label: np.ndarray | None = None
    mu: np.ndarray | None = None
    logvar: np.ndarray | None = None
    weight: np.ndarray | None = None
    groups: np.ndarray | None = None
    row_ids: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.pred.shape[0])

    def keep(self, mask: np.ndarray) -> None:
        for name in (
            "pred",
            "target",
            "score",
            "label",
            "mu",
            "logvar",
            "weight",
            "groups",
            "row_ids",
        ):
            v = getattr(self, name)
            if v is not None:
                setattr(self, name, v[mask])
        self.pref = self.pref.keep(mask)
        if self.tref is not None:
            self.tref = self.tref.keep(mask)


@dataclass
class TablePlan:
    """Column roles and layout of a table-based input, decided once.

    In one piece they come from the whole tables; when reading in chunks, from the first
    chunk (:mod:`losscli.data.stream`), and every later chunk is read with the same plan.
    """

    roles: Roles
    layout: Layout
    one_file: bool
    #: ``--pos-label``: the positive class of binary targets.
    pos_label: str | None = None
    #: ``cross_entropy.ignore_index``: class labels of rows the loss skips.
    ignore_index: int | None = None
    #: Class names of unnamed prediction columns (0, 1, …) as the first chunk read them
    #: (sorted, scikit-learn's ``classes_``), applied to every later chunk.
    class_order: list[str] | None = None

    def columns(self, which: str) -> list[str]:
        """Columns of the predictions (``"pred"``) or targets table that the plan uses."""
        lay, roles = self.layout, self.roles
        out: list[str] = []
        if which == "pred":
            out += lay.pred_cols + ([lay.score_col] if lay.score_col else [])
            out += lay.mu_cols + lay.logvar_cols + ([roles.id_pred] if roles.id_pred else [])
        if which == "target" or self.one_file:
            out += lay.target_cols + ([lay.label_col] if lay.label_col else [])
        for role in (roles.weight, roles.group):
            if role is not None and (role[0] == which or self.one_file):
                out.append(role[1])
        return list(dict.fromkeys(c for c in out if c))


def plan_tables(ptab: Table, ttab: Table | None, opts: ReadOptions) -> TablePlan:
    """Roles (id, weight, group columns) and layout (prediction/target columns) of tables
    read with the data flags ``opts``."""
    task, group_col = opts.task, opts.group_col
    one_file = ttab is None
    roles = resolve_roles(
        ptab,
        ptab if one_file else ttab,
        id_col=opts.id_col,
        weight_col=opts.weight_col,
        group_col=group_col,
    )
    if group_col is None and ttab is not None and task in ("auto", "segmentation"):
        found = infer_group(ptab, ttab, roles)
        if found is not None:
            pc, tc, why = found
            roles.group = ("pred", pc)
            roles.mirrors.append(("target", tc))
            roles.evidence.append(why)
    layout = choose_layout(
        ptab,
        ttab,
        roles,
        task=task,
        pred_cols=opts.pred_cols,
        target_cols=opts.target_cols,
        one_file=one_file,
    )
    return TablePlan(roles, layout, one_file, opts.pos_label, opts.ignore_index)


def table_arrays(plan: TablePlan, ptab: Table, ttab: Table | None) -> ChunkArrays:
    """Aligned arrays of the planned columns (rows joined on ids or by order)."""
    from losscli.data.align import align_rows

    tsrc = ptab if plan.one_file else ttab
    assert tsrc is not None
    al = align_rows(
        ptab, tsrc if plan.layout.target_cols or not plan.one_file else None, plan.roles
    )
    arr = _extract(ptab, tsrc, plan.layout, plan.roles, al.pred, al.target)
    arr.row_ids = al.row_ids
    return arr


def invalid_cells(plan: TablePlan, arr: ChunkArrays) -> tuple[np.ndarray, list[Invalid]]:
    """Rows with a missing or non-finite cell in any used column, and what was found."""
    layout, roles = plan.layout, plan.roles
    items = [Checked(arr.pref, layout.pred_cols, arr.pred)]
    if arr.target is not None and arr.tref is not None:
        items.append(Checked(arr.tref, layout.target_cols, arr.target))
    for name, cols, ref in (
        ("score", [layout.score_col], arr.pref),
        ("label", [layout.label_col], arr.tref),
        ("mu", layout.mu_cols, arr.pref),
        ("logvar", layout.logvar_cols, arr.pref),
    ):
        v = getattr(arr, name)
        if v is not None and ref is not None:
            items.append(Checked(ref, [c for c in cols if c], v))
    if arr.weight is not None and roles.weight is not None:
        items.append(Checked(_weight_ref(plan, arr), [roles.weight[1]], arr.weight))
    return scan_invalid(items, arr.n)


def _weight_ref(plan: TablePlan, arr: ChunkArrays) -> RowRef:
    assert plan.roles.weight is not None
    wref = arr.pref if plan.roles.weight[0] == "pred" else arr.tref
    assert wref is not None
    return wref


def drop_rows(arr: ChunkArrays, bad: np.ndarray) -> int:
    """Drop the rows of ``bad`` (whole images in long-form segmentation); the count."""
    if arr.groups is not None:
        bad = _whole_groups(arr.groups, bad)
    dropped = int(bad.sum())
    arr.keep(~bad)
    return dropped


def check_sample_weights(plan: TablePlan, arr: ChunkArrays) -> None:
    """Sample weights ≥ 0 (not all 0 is a check over the whole input)."""
    if arr.weight is not None and plan.roles.weight is not None:
        check_weights(arr.weight, _weight_ref(plan, arr), plan.roles.weight[1])


def build_dataset(
    plan: TablePlan,
    arr: ChunkArrays,
    ptab: Table,
    ttab: Table | None,
    *,
    task: str,
    logits: bool | None,
    evidence: list[str],
    warnings: list[str],
) -> Dataset:
    """Aligned, checked arrays → :class:`Dataset`: task and input kind (inferred unless
    given), the kernels' layout, class names."""
    layout, roles = plan.layout, plan.roles
    tsrc = ptab if plan.one_file else ttab
    assert tsrc is not None
    inputs = {
        "predictions": {
            "path": ptab.name,
            "columns": _used(
                layout.pred_cols,
                [layout.score_col] if layout.score_col else [],
                layout.mu_cols,
                layout.logvar_cols,
            ),
            "rows": ptab.n_rows,
        }
    }
    if layout.target_cols:
        inputs["targets"] = {
            "path": tsrc.name,
            "columns": _used(layout.target_cols, [layout.label_col] if layout.label_col else []),
            "rows": tsrc.n_rows,
        }
    ds = Dataset(
        task="",
        task_inferred=task == "auto",
        input_kind=None,
        input_kind_inferred=False,
        pred=arr.pred,
        target=None,
        row_ids=arr.row_ids,
        row_numbers=arr.pref.rows(arr.n),
        pred_columns=list(layout.pred_cols),
        target_columns=list(layout.target_cols),
        inputs=inputs,
        evidence=evidence,
        warnings=warnings,
        sample_weight=arr.weight,
    )
    _build(ds, arr, plan, roles.group[1] if roles.group else None, task, logits)
    ds.pred = np.ascontiguousarray(ds.pred, dtype=np.float64)
    if ds.target is not None:
        ds.target = np.ascontiguousarray(ds.target)
    if ds.sample_weight is not None:
        ds.sample_weight = np.ascontiguousarray(ds.sample_weight, dtype=np.float64)
    return ds


def _used(*groups: Sequence[str]) -> list[str]:
    out: list[str] = []
    for g in groups:
        out.extend(c for c in g if c and c not in out)
    return out


def _whole_groups(groups: np.ndarray, bad: np.ndarray) -> np.ndarray:
    """Long-form segmentation: a bad pixel row drops its whole image."""
    codes, _ = factorize(groups)
    bad_codes = np.unique(codes[bad])
    return np.isin(codes, bad_codes)


def _extract(
    ptab: Table, tsrc: Table, layout: Layout, roles: Any, pref: RowRef, tref: RowRef | None
) -> ChunkArrays:
    pred = pref.take(ptab.matrix(layout.pred_cols, role="a prediction"))
    target: np.ndarray | None = None
    if layout.target_cols and tref is not None:
        tcols = layout.target_cols
        if len(tcols) == 1 and tcols[0] in tsrc.text:
            target = tref.take(tsrc.columns[tcols[0]])
        else:
            target = tref.take(tsrc.matrix(tcols, role="a target"))
    arr = ChunkArrays(pref, tref, pred, target)
    if layout.score_col:
        arr.score = pref.take(ptab.numeric(layout.score_col, role="the score"))
    if layout.label_col and tref is not None:
        arr.label = tref.take(tsrc.numeric(layout.label_col, role="the label"))
    if layout.mu_cols:
        arr.mu = pref.take(ptab.matrix(layout.mu_cols, role="a latent mean"))
        arr.logvar = pref.take(ptab.matrix(layout.logvar_cols, role="a latent log-variance"))
    if roles.weight is not None:
        which, col = roles.weight
        tab, ref = (ptab, pref) if which == "pred" else (tsrc, tref)
        assert ref is not None
        arr.weight = ref.take(tab.numeric(col, role="the sample-weight"))
    if roles.group is not None:
        which, col = roles.group
        tab, ref = (ptab, pref) if which == "pred" else (tsrc, tref)
        assert ref is not None
        arr.groups = ref.take(tab.columns[col])
    return arr


# --------------------------------------------------------------------------- layouts


def _build(
    ds: Dataset,
    arr: ChunkArrays,
    plan: TablePlan,
    group_col: str | None,
    task: str,
    logits: bool | None,
) -> None:
    """Fill task, pred, target, context, input kind and class names of ``ds``."""
    layout = plan.layout
    pinned = layout.task in ("gan", "vae", "detection") or layout.embedding in (
        "triplets",
        "pairs",
        "distance",
    )
    if layout.task == "segmentation" or (task == "segmentation" and not pinned):
        _segmentation_rows(ds, arr, layout, group_col, logits)
        return
    if pinned:
        _pinned(ds, arr, layout, logits)
        return
    assert arr.target is not None and arr.tref is not None
    decision = infer_task(
        arr.pred,
        arr.target,
        layout,
        task=task,
        target_ref=arr.tref,
        pred_name=arr.pref.name,
        pos_label=plan.pos_label,
    )
    if (
        plan.class_order is not None
        and decision.task == "multiclass"
        and decision.target_form == "indices"
        and decision.class_names is None
        and arr.target.dtype == object
    ):
        decision.class_names = plan.class_order
    if plan.pos_label is not None and decision.task != "binary":
        ds.warnings.append(f"--pos-label has no effect on task {decision.task}")
    ds.evidence.extend(decision.evidence)
    ds.warnings.extend(decision.warnings)
    ds.task = decision.task
    fill = _BY_TASK.get(decision.task)
    if fill is None:  # pragma: no cover
        raise DataError(f"task '{decision.task}' cannot be read from tables")
    fill(ds, arr, layout, decision, logits)


def _regression(
    ds: Dataset, arr: ChunkArrays, layout: Layout, decision: Decision, logits: bool | None
) -> None:
    assert arr.target is not None
    _no_input_kind(ds, logits)
    ds.pred = arr.pred[:, 0] if arr.pred.shape[1] == 1 else arr.pred
    t = arr.target
    ds.target = t[:, 0] if t.shape[1] == 1 else _matched_order(t, layout, ds)
    if ds.pred.ndim == 2:
        ds.class_names = list(layout.pred_cols)  # outputs are named by their columns


def _binary(
    ds: Dataset, arr: ChunkArrays, layout: Layout, decision: Decision, logits: bool | None
) -> None:
    assert arr.target is not None and arr.tref is not None
    tcol = layout.target_cols[0]
    j = decision.pos_col or 0
    ds.pred = arr.pred[:, j]
    pcols = [layout.pred_cols[j]]
    if decision.pos_col is not None:
        ds.pred_columns = pcols
        ds.inputs["predictions"]["columns"] = pcols
    if decision.target_form == "positive":
        ds.target = np.fromiter(
            (1.0 if str(v) == decision.positive else 0.0 for v in arr.target),
            dtype=np.float64,
            count=arr.n,
        )
    else:
        ds.target = _binary_labels(ds, arr.target[:, 0], tcol)
        check_binary_targets(
            ds.target, arr.tref, [tcol], "binary", hint=_two_labels_hint(ds.target)
        )
        if decision.target_form == "flip":
            ds.target = 1.0 - ds.target
    _scores(ds, arr.pref, ds.pred, logits, pcols)


def _multilabel(
    ds: Dataset, arr: ChunkArrays, layout: Layout, decision: Decision, logits: bool | None
) -> None:
    assert arr.target is not None and arr.tref is not None
    ds.pred, ds.target = arr.pred, _matched_order(arr.target, layout, ds)
    check_binary_targets(ds.target, arr.tref, layout.target_cols, "multilabel")
    ds.class_names = list(layout.pred_cols)
    _scores(ds, arr.pref, ds.pred, logits, layout.pred_cols)


def _multiclass(
    ds: Dataset, arr: ChunkArrays, layout: Layout, decision: Decision, logits: bool | None
) -> None:
    assert arr.target is not None and arr.tref is not None
    pcols, tcol = layout.pred_cols, layout.target_cols[0]
    ds.pred = arr.pred
    # positional columns read in sorted class order (Decision.class_names)
    ds.class_names = list(decision.class_names or pcols)
    if decision.target_form == "onehot":
        tgt = _matched_order(arr.target, layout, ds)
        ds.target = one_hot_indices(tgt, arr.tref, layout.target_cols)
    else:
        labels = arr.target if arr.target.dtype == object else arr.target[:, 0]
        ds.target, how = class_indices(labels, ds.class_names, arr.tref, tcol)
        said = ds.task_inferred and how.startswith("class names")
        if how != "class indices" and not said:
            ds.evidence.append(f"targets (column '{tcol}') read as {how}")
    _scores(ds, arr.pref, ds.pred, logits, pcols)


def _distribution(
    ds: Dataset, arr: ChunkArrays, layout: Layout, decision: Decision, logits: bool | None
) -> None:
    assert arr.target is not None
    if logits:
        raise UsageError(
            "--logits does not apply to distribution: predictions are distributions",
            hint="drop --logits (apply a softmax to logits first)",
        )
    pcols = layout.pred_cols
    ds.pred, ds.target = arr.pred, _matched_order(arr.target, layout, ds)
    ds.class_names = list(pcols)
    # rows of a distribution are probabilities by definition: inferred unless --probs
    ds.input_kind, ds.input_kind_inferred = "probabilities", logits is None
    if logits is None:
        ds.evidence.append("distribution predictions are probabilities by definition")
    if not ds.task_inferred:
        _check_distribution(ds.pred, arr.pref, pcols, "predictions")
        _check_distribution(ds.target, arr.tref, layout.target_cols, "targets")


def _embedding(
    ds: Dataset, arr: ChunkArrays, layout: Layout, decision: Decision, logits: bool | None
) -> None:
    assert arr.target is not None and arr.tref is not None
    tcol = layout.target_cols[0]
    _no_input_kind(ds, logits)
    if decision.embedding == "distance":
        ds.pred = arr.pred[:, 0]
        ds.target = _similarity(ds, arr.target[:, 0], tcol)
        check_zero_one(ds.target, arr.tref, tcol, what="similarity target")
        ds.context = {"layout": "distance"}
        return
    ds.pred = arr.pred
    ds.target = _embedding_labels(arr.target, arr.tref, tcol)
    ds.context = {"layout": "labels"}


#: How the arrays of each task decided by values are laid out for the kernels.
_BY_TASK: dict[str, Callable[[Dataset, ChunkArrays, Layout, Decision, bool | None], None]] = {
    "regression": _regression,
    "binary": _binary,
    "multilabel": _multilabel,
    "multiclass": _multiclass,
    "distribution": _distribution,
    "embedding": _embedding,
}


def _binary_labels(ds: Dataset, t: np.ndarray, col: str) -> np.ndarray:
    """Binary targets: 0/1 (or soft labels in [0, 1]) as they are; -1/+1 (the hinge
    convention) read as 0/1, with a note."""
    minus = t == -1.0
    if minus.any() and bool(np.all(minus | (t == 1.0))):
        ds.warnings.append(f"binary targets (column '{col}') are -1/+1: read as 0/1 (-1 → 0)")
        return (t > 0.0).astype(np.float64)
    return t


def _similarity(ds: Dataset, t: np.ndarray, col: str) -> np.ndarray:
    """Pair similarity targets: 0/1 as they are; 1/−1 (torch ``CosineEmbeddingLoss``,
    ``HingeEmbeddingLoss``) read as 1/0, with a note."""
    minus = t == -1.0
    if minus.any() and bool(np.all(minus | (t == 1.0))):
        ds.warnings.append(
            f"similarity targets (column '{col}') are 1/-1 (torch's convention): -1 read as "
            "dissimilar (0)"
        )
        return (t > 0.0).astype(np.float64)
    return t


def _two_labels_hint(t: np.ndarray) -> str | None:
    """Binary targets outside [0, 1] that take two values: how to recode them."""
    if t.size == 0 or (t.min() >= 0.0 and t.max() <= 1.0):
        return None
    u = np.unique(t)
    if u.size != 2:
        return None
    a, b = (f"{v:g}" for v in u)
    return f"they take two values: recode them to 0/1 ({a} → 0, {b} → 1); -1/+1 is read as 0/1"


def _matched_order(target: np.ndarray, layout: Layout, ds: Dataset) -> np.ndarray:
    """Target columns with the same names as the prediction columns, in their order."""
    p, t = layout.pred_cols, layout.target_cols
    if set(p) == set(t) and p != t:
        order = [t.index(c) for c in p]
        layout.target_cols = list(p)
        ds.target_columns = list(p)
        ds.evidence.append("target columns reordered by name to match the prediction columns")
        return target[:, order]
    return target


def _no_input_kind(ds: Dataset, logits: bool | None) -> None:
    ds.input_kind, ds.input_kind_inferred = None, False
    if logits is not None:
        flag = "--logits" if logits else "--probs"
        ds.warnings.append(f"{flag} has no effect on task {ds.task}")


def _scores(
    ds: Dataset,
    ref: RowRef,
    scores: np.ndarray,
    logits: bool | None,
    cols: Sequence[str],
    *,
    rows: np.ndarray | None = None,
    what: str = "predictions",
) -> None:
    """Input kind of classification-like scores, and the from_logits context.

    ``rows`` (n, k): the same scores one source row each, for error messages, when
    ``scores`` has another layout (long-form segmentation).
    """
    kind = infer_input_kind(scores, task=ds.task, logits=logits, what=what)
    if kind.kind == "probabilities" and logits is False:
        check_probabilities(scores if rows is None else rows, ref, cols)
    ds.input_kind, ds.input_kind_inferred = kind.kind, kind.inferred
    ds.evidence.extend(kind.evidence)
    ds.warnings.extend(kind.warnings)
    ds.context["from_logits"] = kind.kind == "logits"
    if kind.inferred and kind.kind == "probabilities" and ds.task in ("binary", "multilabel"):
        ambiguous = logits_in_unit(scores, ds.target)
        if ambiguous is not None:
            ds.warnings.append(ambiguous)


#: How a warning that the files cannot settle a reading which changes the values begins;
#: the table view repeats such warnings on stdout (:mod:`losscli.report.table`).
AMBIGUOUS = "ambiguous input:"


def logits_in_unit(scores: np.ndarray, target: np.ndarray | None) -> str | None:
    """Scores in [0, 1] read as probabilities that fit the 0/1 targets at least as well
    read as logits (bce of sigmoid(s) ≤ bce of s): the files cannot tell which they are,
    and the values differ — the warning naming --logits/--probs, else None."""
    if target is None or target.shape != scores.shape or scores.size == 0:
        return None
    t = np.asarray(target, dtype=np.float64)
    if not bool(np.all((t == 0.0) | (t == 1.0))):
        return None
    eps = 1e-12
    p = np.clip(scores, eps, 1.0 - eps)
    as_probs = float(-np.mean(t * np.log(p) + (1.0 - t) * np.log1p(-p)))
    # bce of sigmoid(s), stably: softplus(s) − t·s
    as_logits = float(np.mean(np.logaddexp(0.0, scores) - t * scores))
    if as_logits > as_probs:
        return None
    return (
        f"{AMBIGUOUS} predictions lie in [0, 1] and were read as probabilities (bce "
        f"{as_probs:.4g}), "
        f"but read as logits they fit the targets as well or better (bce {as_logits:.4g}): "
        "the values depend on which they are — pass --logits if they are logits, --probs "
        "if they are probabilities"
    )


def _check_distribution(
    values: np.ndarray, ref: RowRef | None, cols: Sequence[str], what: str
) -> None:
    assert ref is not None
    check_unit_interval(
        values,
        ref,
        cols,
        what=f"distribution {what}",
        hint="rows must be probability distributions",
    )
    bad = rows_off_sum(values)
    if bad.size:
        raise DataError(
            f"{ref.name}: distribution {what} must sum to 1 per row; "
            f"{ref.phrase(bad[:5], total=bad.size)} sum to {values[bad[0]].sum():.6g}"
            + (" (first)" if bad.size > 1 else ""),
            hint="normalise each row (divide by its sum), or apply a softmax to logits",
        )


def _embedding_labels(target: np.ndarray, ref: RowRef | None, col: str) -> np.ndarray:
    assert ref is not None
    if target.dtype == object:
        codes, _names = encode_names(target)
        return codes
    t = target[:, 0] if target.ndim == 2 else target
    bad = np.flatnonzero(t != np.round(t))
    if bad.size:
        raise DataError(
            f"{ref.name}: embedding labels (column '{col}') must be whole numbers or names; "
            f"found {t[bad[0]]:g} at {ref.phrase(bad[:5], total=bad.size)}",
            hint="labels say which items belong to the same class",
        )
    return t.astype(np.int64)


def _pinned(ds: Dataset, arr: ChunkArrays, layout: Layout, logits: bool | None) -> None:
    """Tasks decided by column names: gan, vae, detection, embedding pairs/distance/triplets."""
    ds.task = layout.task or "embedding"
    fill = _PINNED.get(ds.task, _embedding_by_name)
    fill(ds, arr, layout, logits)


def _gan(ds: Dataset, arr: ChunkArrays, layout: Layout, logits: bool | None) -> None:
    _no_input_kind(ds, logits)
    assert arr.target is not None
    ds.pred, ds.target = arr.pred[:, 0], arr.target[:, 0]


def _vae(ds: Dataset, arr: ChunkArrays, layout: Layout, logits: bool | None) -> None:
    _no_input_kind(ds, logits)
    assert arr.target is not None
    if arr.target.dtype == object or arr.target.shape[1] != arr.pred.shape[1]:
        m = 1 if arr.target.dtype == object else arr.target.shape[1]
        raise DataError(
            f"vae: {arr.pred.shape[1]} reconstruction columns ({', '.join(layout.pred_cols[:6])}) "
            f"but {m} target columns ({', '.join(layout.target_cols[:6])})",
            hint="the targets are the original inputs, one column per reconstructed feature",
        )
    ds.pred, ds.target = arr.pred, _matched_order(arr.target, layout, ds)
    ds.context = {"mu": arr.mu, "logvar": arr.logvar}


def _detection(ds: Dataset, arr: ChunkArrays, layout: Layout, logits: bool | None) -> None:
    assert arr.target is not None and arr.tref is not None
    ds.pred, ds.target = arr.pred, arr.target
    if arr.label is not None:
        check_zero_one(arr.label, arr.tref, layout.label_col or "label", what="detection labels")
        ds.context["labels"] = np.ascontiguousarray(arr.label)
    if arr.score is None:
        _no_input_kind(ds, logits)
        return
    ds.context["scores"] = np.ascontiguousarray(arr.score)
    col = layout.score_col or "score"
    _scores(ds, arr.pref, arr.score, logits, [col], what=f"scores (column '{col}')")


def _embedding_by_name(ds: Dataset, arr: ChunkArrays, layout: Layout, logits: bool | None) -> None:
    """Embedding triplets, pairs or distances (column names decided the layout)."""
    _no_input_kind(ds, logits)
    ds.task = "embedding"
    ds.context = {"layout": layout.embedding}
    if layout.embedding == "triplets":
        ds.pred, ds.target = arr.pred, None
        return
    assert arr.target is not None and arr.tref is not None
    t = arr.target
    if t.dtype == object or t.shape[1] != 1:
        raise DataError(
            f"embedding {layout.embedding}: the target is one 0/1 similarity column; got "
            f"{', '.join(layout.target_cols[:6])}",
            hint="choose it with --target-col",
        )
    ds.target = _similarity(ds, t[:, 0], layout.target_cols[0])
    check_zero_one(ds.target, arr.tref, layout.target_cols[0], what="similarity target")
    ds.pred = arr.pred[:, 0] if layout.embedding == "distance" else arr.pred


#: How the arrays of each task decided by column names are laid out for the kernels.
_PINNED: dict[str, Callable[[Dataset, ChunkArrays, Layout, bool | None], None]] = {
    "gan": _gan,
    "vae": _vae,
    "detection": _detection,
}


# --------------------------------------------------------------------------- segmentation


def _segmentation_rows(
    ds: Dataset, arr: ChunkArrays, layout: Layout, group_col: str | None, logits: bool | None
) -> None:
    """Segmentation from tables: long form (--group-col) or one image per row."""
    ds.task = "segmentation"
    assert arr.target is not None and arr.tref is not None
    k = arr.pred.shape[1]
    text = arr.target.dtype == object
    m = 1 if text else arr.target.shape[1]
    tcol = layout.target_cols[0]
    if group_col is None:
        # Rows are images, columns are pixels (C = 1).
        if text or m != k:
            raise DataError(
                f"segmentation from a table without --group-col reads each row as one image's "
                f"pixels; predictions have {k} columns, targets {m}",
                hint="pass --group-col naming the image id of long-form pixel rows, or use .npy masks",
            )
        pred = arr.pred[:, None, :]
        target = arr.target[:, None, :]
        check_binary_targets(arr.target, arr.tref, layout.target_cols, "segmentation")
        ds.row_numbers = arr.pref.rows(arr.n)
    else:
        if text or (m == 1 and k >= 2):
            labels = arr.target if text else arr.target[:, 0]
            idx, _how = class_indices(labels, layout.pred_cols, arr.tref, tcol)
            onehot = np.zeros((arr.n, k), dtype=np.float64)
            onehot[np.arange(arr.n), idx] = 1.0
            tgt = onehot
        elif m == k:
            tgt = _matched_order(arr.target, layout, ds)
            check_binary_targets(tgt, arr.tref, layout.target_cols, "segmentation")
        else:
            raise DataError(
                f"segmentation: {k} prediction columns but {m} target columns",
                hint="targets are one mask column (0/1 or class labels) or one column per class",
            )
        ref = arr.pref
        assert arr.groups is not None
        g = group_rows(arr.groups, ref, group_col)
        pred = arr.pred[g.order].reshape(g.n_images, g.pixels, k).transpose(0, 2, 1)
        target = tgt[g.order].reshape(g.n_images, g.pixels, k).transpose(0, 2, 1)
        if arr.weight is not None:
            w = arr.weight[g.order].reshape(g.n_images, g.pixels)
            if not np.all(w == w[:, :1]):
                raise DataError(
                    "segmentation: sample weights must be the same for every pixel of an image",
                    hint="weights apply per image",
                )
            ds.sample_weight = w[:, 0].copy()
        ds.row_numbers = arr.pref.rows(arr.n)[g.first]
        ds.row_ids = g.ids
        ds.evidence.append(
            f"{g.n_images} images of {g.pixels} pixels each (group column '{group_col}')"
        )
    ds.pred = np.ascontiguousarray(pred)
    ds.target = np.ascontiguousarray(target)
    k = ds.pred.shape[1]
    ds.class_names = list(layout.pred_cols) if k > 1 else None
    _scores(ds, arr.pref, ds.pred, logits, layout.pred_cols, rows=arr.pred)


__all__ = ["Dataset", "TablePlan", "build_dataset", "plan_tables", "table_arrays"]
