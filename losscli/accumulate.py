"""Accumulators: losses and row diagnostics folded chunk by chunk, merged, finalized.

Every evaluation goes through these classes, whether its rows arrive in one piece (an
in-memory :class:`~losscli.data.Dataset`) or in chunks from a stream
(:mod:`losscli.data.stream`):

* :class:`losscli.compute.LossAccumulator` — one loss: per-chunk domain checks, the
  kernel over row blocks, a mergeable :class:`~losscli.losses._reduce.Partial`.
* :class:`WorstK` — the K rows with the largest loss, a bounded selection (ties keep
  file order).
* :class:`ClassSums` — weighted per-class sums (:func:`losscli.compute.per_class_sums`).
* :class:`losscli.per_sample.PerSampleWriter` — one CSV line per row, written as rows
  arrive (atomic).
* :class:`Evaluation` — all of the above for the losses of one run; ``update`` from a
  chunk, ``merge`` with another evaluation over other rows, ``finalize``.

Nothing here keeps a per-row array unless asked to (``keep_per_row`` for bootstrap
intervals): worst rows, per-sample lines and per-class sums are reduced chunk by chunk.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losscli.compute import (
    KernelInputError,
    LossAccumulator,
    LossResult,
    Ranges,
    compute,
    n_columns,
    per_class_means,
    per_class_sums,
)
from losscli.errors import DataError
from losscli.gradients import GradAccumulator, grad_reason, grad_scale
from losscli.losses._reduce import Reduction
from losscli.noskill import TASKS as BASELINE_TASKS
from losscli.noskill import TargetSample, baseline
from losscli.per_sample import PerSampleWriter
from losscli.registry import LossSpec

# --------------------------------------------------------------------------- worst rows


class WorstK:
    """The K rows with the largest loss, kept in bounded memory over any number of chunks.

    Rows rank by loss, largest first; NaN and ±inf rank first (as +inf); ties keep file
    order (the earlier row first). ``describe(indices)`` turns a chunk's row indices into
    the reported items, only for rows that enter the top K.
    """

    def __init__(self, k: int) -> None:
        self.k = int(k)
        self._key = np.zeros(0, dtype=np.float64)
        self._pos = np.zeros(0, dtype=np.int64)
        self._items: list[dict[str, Any]] = []

    def update(
        self,
        values: np.ndarray,
        offset: int,
        describe: Callable[[np.ndarray], list[dict[str, Any]]],
    ) -> None:
        """Rows ``offset + i`` of one chunk with per-row losses ``values``."""
        n = int(values.shape[0])
        if n == 0 or self.k <= 0:
            return
        key = np.where(np.isfinite(values), values, np.inf)
        if n > self.k:
            thr = np.partition(key, n - self.k)[n - self.k]
            above = np.flatnonzero(key > thr)
            ties = np.flatnonzero(key == thr)[: self.k - above.size]
            idx = np.concatenate([above, ties])
        else:
            idx = np.arange(n)
        if self._key.size == self.k and idx.size:
            # only rows that beat the current K-th row can enter
            last_key, last_pos = self._key[-1], self._pos[-1]
            cand = key[idx]
            idx = idx[(cand > last_key) | ((cand == last_key) & (offset + idx < last_pos))]
        if idx.size == 0:
            return
        items = describe(idx)
        self._combine(key[idx], offset + idx, items)

    def _combine(self, key: np.ndarray, pos: np.ndarray, items: list[dict[str, Any]]) -> None:
        all_key = np.concatenate([self._key, key])
        all_pos = np.concatenate([self._pos, pos.astype(np.int64)])
        all_items = self._items + list(items)
        order = np.lexsort((all_pos, -all_key))[: self.k]
        self._key, self._pos = all_key[order], all_pos[order]
        self._items = [all_items[i] for i in order]

    def merge(self, other: WorstK, offset: int = 0) -> WorstK:
        """Fold in the top K of rows that follow these (``offset`` = rows before them)."""
        self._combine(other._key, other._pos + offset, other._items)
        return self

    def rows(self) -> list[dict[str, Any]]:
        return [dict(it) for it in self._items]


def row_item(ds: Any, i: int, loss: float) -> dict[str, Any]:
    """One reported row: row number (or id), prediction, target (class name for named
    multiclass targets) and loss."""
    item: dict[str, Any] = {"row": int(ds.row_numbers[i])}
    if ds.row_ids is not None:
        rid = ds.row_ids[i]
        item["id"] = rid.item() if hasattr(rid, "item") else rid
    item["prediction"] = _value(ds.pred[i])
    item["target"] = _target_value(ds, i)
    item["loss"] = float(loss)
    return item


def _target_value(ds: Any, i: int) -> Any:
    if ds.target is None:
        return None
    t = _value(ds.target[i])
    names = ds.class_names
    if ds.task == "multiclass" and names and isinstance(t, int) and 0 <= t < len(names):
        return names[t] if names[t] != str(t) else t
    return t


def _value(x: Any) -> Any:
    return x.tolist() if hasattr(x, "tolist") else x


# --------------------------------------------------------------------------- one run


@dataclass
class Outcome:
    """What :meth:`Evaluation.finalize` returns."""

    results: list[LossResult]
    #: Per loss: the K worst rows (losses with per-row values only).
    worst: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Per loss: weighted mean per-row loss by true class (multiclass, ``per_class``).
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)


class ClassSums:
    """Σw·l and Σw by true class of one loss over chunks (:func:`per_class_sums`), with
    w the rows' weights in the loss value (kernel weight × sample weight), so that the
    per-class means, weighted by their Σw, average to the loss value."""

    def __init__(self, n_classes: int) -> None:
        self.sums = np.zeros(n_classes)
        self.wsum = np.zeros(n_classes)

    def add(self, values: np.ndarray, labels: np.ndarray, weight: np.ndarray | None) -> None:
        s, w = per_class_sums(values, labels, self.sums.size, weight)
        self.sums += s
        self.wsum += w

    def merge(self, other: ClassSums) -> None:
        self.sums += other.sums
        self.wsum += other.wsum

    def means(self, names: Sequence[str] | None) -> dict[str, float]:
        names = list(names or [str(c) for c in range(self.sums.size)])
        return per_class_means(self.sums, self.wsum, names)


def chunk_locator(ds: Any) -> Callable[[str, int, int], str]:
    """Names an element of chunk ``ds`` by file, column and row number (SPEC §5)."""

    def locate(which: str, row: int, col: int) -> str:
        side = "predictions" if which == "pred" else "targets"
        path = (ds.inputs.get(side) or {}).get("path")
        cols = ds.pred_columns if which == "pred" else ds.target_columns
        parts = [str(path)] if path else []
        if 0 <= col < len(cols) and (len(cols) > 1 or col == 0):
            parts.append(f"column '{cols[col]}'")
        if 0 <= row < len(ds.row_numbers):
            parts.append(f"row {int(ds.row_numbers[row])}")
        else:
            parts.append(f"row position {row}")
        return ", ".join(parts)

    return locate


class Evaluation:
    """The losses of one run over chunks of a dataset, plus the row diagnostics.

    ``explicit``: the losses were asked for, so a domain miss or a kernel refusing its
    parameters is an error; otherwise that loss is listed ``not_applicable`` and the
    others go on (SPEC §5 Domains). Chunks are :class:`~losscli.data.Dataset` objects
    that share task, columns and input kind.
    """

    def __init__(
        self,
        specs: Sequence[LossSpec],
        *,
        explicit: bool,
        params: Mapping[str, Mapping[str, Any]],
        input_kind: str | None,
        class_names: Sequence[str] | None,
        task: str,
        reduction: Reduction = "mean",
        worst: int | None = None,
        per_class: bool = False,
        keep_per_row: bool = False,
        per_sample: PerSampleWriter | None = None,
        grad: bool = False,
        dtype: str | None = None,
    ) -> None:
        self.specs = list(specs)
        self.reduction = reduction
        self.explicit = explicit
        self.params = params
        self.task = task
        self.class_names = list(class_names) if class_names is not None else None
        self.worst_k = int(worst) if worst else 0
        self.per_class = per_class and task == "multiclass"
        self.per_sample = per_sample
        self.rows = 0
        self.accs = [
            LossAccumulator(
                s,
                params.get(s.name, {}),
                input_kind=input_kind,
                reduction=reduction,
                strict=explicit,
                class_names=class_names,
                keep_per_row=keep_per_row,
            )
            for s in self.specs
        ]
        self.reduction: Reduction = reduction
        #: The targets (compressed), for each loss's no-skill baseline.
        self.targets = TargetSample(task) if task in BASELINE_TASKS else None
        self.context: dict[str, Any] = {}
        self.pred_columns = 0
        self.failed: dict[int, LossResult] = {}
        self.worst: dict[int, WorstK] = {}
        self.by_class: dict[int, ClassSums] = {}
        self.grads = {i: GradAccumulator(s) for i, s in enumerate(self.specs)} if grad else {}
        self.precision = {}
        if dtype is not None:
            from losscli.precision import PrecisionAccumulator

            self.precision = {i: PrecisionAccumulator(s, dtype) for i, s in enumerate(self.specs)}
        self.pred_names: list[str] | None = None

    @property
    def needs_class_counts(self) -> bool:
        return any(a.needs_class_counts for a in self.accs)

    def count_ignore_index(self) -> Any:
        """``ignore_index`` of the losses that need class counts (rows left out)."""
        return next((a.ignore_index for a in self.accs if a.needs_class_counts), None)

    def set_class_counts(self, counts: np.ndarray) -> None:
        """Give the losses that weigh classes by their counts (rows per true class over
        the whole input) those counts, before the first chunk."""
        for a in self.accs:
            if a.needs_class_counts:
                a.set_class_counts(counts)

    def _want_rows(self) -> bool:
        return bool(self.worst_k or self.per_sample is not None or self.per_class)

    def update(self, ds: Any) -> None:
        """Fold in one chunk (a Dataset)."""
        n = ds.n_samples
        if n == 0:
            return
        ranges = Ranges(ds.pred, ds.target, ds.context)
        locate = chunk_locator(ds)
        sample_rows: dict[str, np.ndarray] = {}
        if self.pred_names is None:
            self.pred_names = list(getattr(ds, "pred_columns", None) or [])
        for i, spec in enumerate(self.specs):
            got = self._update_loss(i, ds, ranges, locate)
            if self._applies(i):
                self._analyse(i, ds, sample_rows)
            if got is None:
                continue
            values, weights = got
            self._diagnose(i, ds, values, weights)
            if spec.finalize is None:
                sample_rows[spec.name] = values
        if self.targets is not None:
            self.targets.add(ds.target, ds.sample_weight)
            if not self.pred_columns:
                self.context = {k: v for k, v in ds.context.items() if np.ndim(v) == 0}
                self.pred_columns = n_columns(ds.pred)
        if self.per_sample is not None:
            names = self._sample_columns(ds.pred)
            full = {nm: sample_rows.get(nm, np.full(n, np.nan)) for nm in names}
            self.per_sample.write(ds.row_numbers, ds.row_ids, full)
        self.rows += n

    def _applies(self, i: int) -> bool:
        """Whether loss ``i`` is still computed (not failed, inside its domains)."""
        return i not in self.failed and self.accs[i].reason is None

    def _analyse(self, i: int, ds: Any, sample_rows: dict[str, np.ndarray]) -> None:
        """``--grad`` and ``--dtype`` of loss ``i`` over one chunk."""
        acc = self.accs[i]
        if i in self.grads:
            d = self.grads[i].update(
                ds.pred,
                ds.target,
                acc.kernel_params(),
                context=ds.context,
                sample_weight=ds.sample_weight,
            )
            if d is not None and self.per_sample is not None:
                cols = grad_columns(self.specs[i].name, d.shape, self.pred_names)
                flat = d.reshape(d.shape[0], -1)
                if d.ndim > 2:  # images: one column, the row's |g| (L1 over its pixels)
                    flat = np.abs(flat).sum(axis=1)[:, None]
                for j, col in enumerate(cols):
                    sample_rows[col] = flat[:, j]
        if i in self.precision:
            self.precision[i].update(ds, acc.kernel_params(), offset=self.rows)

    def _sample_columns(self, pred: np.ndarray) -> list[str]:
        """The ``--per-sample`` columns: each loss (not square-rooted ones), then with
        ``--grad`` each loss's gradient columns."""
        names = [s.name for s in self.specs if s.finalize is None]
        for i, s in enumerate(self.specs):
            if i in self.grads and self.grads[i].fn is not None:
                names += grad_columns(s.name, pred.shape, self.pred_names)
        return names

    def _update_loss(
        self, i: int, ds: Any, ranges: Ranges, locate: Callable[[str, int, int], str]
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Fold chunk ``ds`` into loss ``i``; its per-row values and weights when the
        diagnostics need them. A loss the data does not fit fails alone unless asked for."""
        if i in self.failed:
            return None
        spec, acc = self.specs[i], self.accs[i]
        try:
            return acc.update(
                ds.pred,
                ds.target,
                context=ds.context,
                sample_weight=ds.sample_weight,
                ranges=ranges,
                want_rows=self._want_rows(),
                locate=locate,
            )
        except (DataError, KernelInputError) as exc:
            if self.explicit or (isinstance(exc, KernelInputError) and self.params.get(spec.name)):
                raise
            self.failed[i] = LossResult(
                spec.name, None, "not_applicable", acc.params, reason=exc.message
            )
            return None

    def _diagnose(self, i: int, ds: Any, values: np.ndarray, weights: np.ndarray | None) -> None:
        """Worst rows and per-class sums of loss ``i`` over one chunk's rows."""
        spec = self.specs[i]
        if self.worst_k and spec.row_values:
            rank = values if spec.finalize is None else _sqrt_rows(values)
            tracker = self.worst.setdefault(i, WorstK(self.worst_k))
            tracker.update(rank, self.rows, _describer(ds, rank))
        has_columns = self.accs[i].partial.col_num is not None
        if self.per_class and spec.finalize is None and not has_columns and ds.target is not None:
            c = len(self.class_names or []) or int(ds.pred.shape[1])
            self.by_class.setdefault(i, ClassSums(c)).add(values, ds.target, weights)

    def merge(self, other: Evaluation) -> Evaluation:
        """Fold in an evaluation of the same losses over rows that follow these."""
        for mine, theirs in zip(self.accs, other.accs):
            mine.merge(theirs)
        for i, res in other.failed.items():
            self.failed.setdefault(i, res)
        for i, w in other.worst.items():
            if i in self.worst:
                self.worst[i].merge(w, self.rows)
            else:
                self.worst[i] = WorstK(w.k).merge(w, self.rows)
        for i, sums in other.by_class.items():
            if i in self.by_class:
                self.by_class[i].merge(sums)
            else:
                self.by_class[i] = sums
        for i, g in other.grads.items():
            self.grads[i].merge(g)
        for i, p in other.precision.items():
            self.precision[i].merge(p)
        self.pred_names = self.pred_names or other.pred_names
        if self.targets is not None and other.targets is not None:
            self.targets.merge(other.targets)
            if not self.pred_columns:
                self.context, self.pred_columns = other.context, other.pred_columns
        self.rows += other.rows
        return self

    def _baseline(self, i: int, res: LossResult) -> None:
        """Set the no-skill value of loss ``i``'s result (SPEC §11)."""
        if res.status != "ok" or self.reduction == "none":
            return
        if self.targets is None:
            res.no_skill_reason = f"no constant-prediction baseline for {self.task} losses"
            return
        spec, acc = self.specs[i], self.accs[i]
        params = acc.kernel_params()

        def evaluate(pred: np.ndarray, target: np.ndarray, weight: np.ndarray) -> float:
            got = compute(
                spec,
                pred,
                target,
                params=params,
                context=self.context,
                sample_weight=weight,
                reduction=self.reduction,
                strict=False,
            )
            return math.nan if got.value is None else got.value

        b = baseline(
            spec,
            acc.params,
            self.targets,
            n_columns=self.pred_columns,
            from_logits=bool(self.context.get("from_logits")),
            evaluate=evaluate,
        )
        res.no_skill, res.no_skill_reason = b.value, b.reason

    def finalize(self) -> Outcome:
        """Every loss's result, with the worst rows and per-class means of the losses
        that apply; the ``--per-sample`` file is closed without the columns of losses
        that are not applicable."""
        results = [
            self.failed[i] if i in self.failed else acc.finalize()
            for i, acc in enumerate(self.accs)
        ]
        for i, res in enumerate(results):
            self._baseline(i, res)
        out = Outcome(results)
        scales: dict[str, float] = {}
        for i, (spec, res) in enumerate(zip(self.specs, results)):
            scales |= self._finish_analysis(i, spec, res)
            if res.status == "not_applicable":
                continue
            if i in self.worst:
                out.worst[spec.name] = self.worst[i].rows()
            if i in self.by_class:
                out.per_class[spec.name] = self.by_class[i].means(self.class_names)
        if self.per_sample is not None:
            keep = [
                s.name
                for s, r in zip(self.specs, results)
                if s.finalize is None and r.status != "not_applicable"
            ]
            keep += [c for c in scales if c not in keep]
            self.per_sample.close(keep, scales=scales)
        return out

    def _finish_analysis(self, i: int, spec: LossSpec, res: LossResult) -> dict[str, float]:
        """Add ``grad`` and ``precision`` to loss ``i``'s result; the scale of each of its
        ``--per-sample`` gradient columns."""
        scales: dict[str, float] = {}
        if i in self.grads:
            g = self.grads[i]
            if res.status == "not_applicable":
                res.extra["grad"] = None
                res.extra["grad_reason"] = "the loss is not applicable to these inputs"
            elif g.fn is None:
                res.extra["grad"] = None
                res.extra["grad_reason"] = g.reason or grad_reason(spec)
            else:
                part = self.accs[i].partial
                scale = grad_scale(spec, part.den, res.value, self.reduction, kden=part.kden)
                res.extra["grad"], notes = g.finalize(scale=scale, columns=self.pred_names)
                res.notes += [n for n in notes if n not in res.notes]
                cols = grad_columns(spec.name, g.shape, self.pred_names)
                scales = dict.fromkeys(cols, scale)
        if i in self.precision:
            if res.status == "not_applicable":
                res.extra["precision"] = None
            else:
                prec = self.precision[i]
                res.extra["precision"] = prec.finalize(res.value, self.reduction)
                if prec.failed is not None:
                    res.extra["precision_reason"] = prec.failed
        return scales

    def abort(self) -> None:
        """Discard partial output files after an error."""
        if self.per_sample is not None:
            self.per_sample.abort()


def _sqrt_rows(values: np.ndarray) -> np.ndarray:
    """A finalized loss (rmse = √mean) ranks rows by the root of their own term."""
    with np.errstate(invalid="ignore"):
        return np.sqrt(values)


def _describer(ds: Any, values: np.ndarray) -> Callable[[np.ndarray], list[dict[str, Any]]]:
    def describe(idx: np.ndarray) -> list[dict[str, Any]]:
        return [row_item(ds, int(i), float(values[i])) for i in idx]

    return describe


def grad_columns(loss: str, shape: tuple[int, ...], columns: Sequence[str] | None) -> list[str]:
    """``--per-sample`` gradient columns of a loss: ``grad_<loss>`` for one prediction
    column, ``grad_<loss>[<col>]`` per prediction column (positions when the columns have
    no names), and for N-d predictions (segmentation images) one column
    ``grad_<loss>[l1]``, the row's |g| (a column per pixel would not be readable)."""
    if len(shape) > 2:
        return [f"grad_{loss}[l1]"]
    k = int(shape[1]) if len(shape) == 2 else 1
    if k == 1:
        return [f"grad_{loss}"]
    names = list(columns or [])
    if len(names) != k:
        names = [str(j) for j in range(k)]
    return [f"grad_{loss}[{c}]" for c in names]


__all__ = [
    "ClassSums",
    "Evaluation",
    "Outcome",
    "WorstK",
]
