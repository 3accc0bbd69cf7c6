"""Accumulators: losses and row diagnostics folded chunk by chunk, merged, finalized.

Every evaluation goes through these classes, whether its rows arrive in one piece (an
in-memory :class:`~losscli.data.Dataset`) or in chunks from a stream
(:mod:`losscli.data.stream`):

* :class:`LossAccumulator` — one loss: per-chunk domain checks, the kernel over row
  blocks (:func:`losscli.compute.compute_partial`), a mergeable
  :class:`~losscli.losses._reduce.Partial` (Σ w·l, Σ w, per-column sums, notes).
* :class:`WorstK` — the K rows with the largest loss, a bounded selection (ties keep
  file order).
* :class:`PerSampleWriter` — one CSV line per row, written as rows arrive (atomic).
* :class:`Evaluation` — all of the above for the losses of one run; ``update`` from a
  chunk, ``merge`` with another evaluation over other rows, ``finalize``.

Nothing here keeps a per-row array unless asked to (``keep_per_row`` for bootstrap
intervals): worst rows, per-sample lines and per-class sums are reduced chunk by chunk.
"""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from losscli.compute import (
    BALANCED,
    ClassWeights,
    KernelInputError,
    LossResult,
    class_count_param,
    compute_partial,
    domain_reason,
    finish,
    rowwise,
    value_range,
)
from losscli.errors import DataError
from losscli.files import AtomicFile, write_atomic
from losscli.losses._reduce import Partial, Reduction
from losscli.registry import LossSpec, resolve_params

# --------------------------------------------------------------------------- one loss


class Ranges:
    """(min, max) of a chunk's predictions, targets and context arrays, computed once and
    shared by the domain checks of every loss."""

    def __init__(
        self,
        pred: np.ndarray,
        target: np.ndarray | None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self._arrays = {**(context or {}), "pred": pred, "target": target}
        self._cache: dict[str, tuple[float, float] | None] = {}

    def get(self, which: str) -> tuple[float, float] | None:
        if which not in self._cache:
            self._cache[which] = value_range(self._arrays.get(which))
        return self._cache[which]


def _widen(
    a: tuple[float, float] | None, b: tuple[float, float] | None
) -> tuple[float, float] | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a[0], b[0]), max(a[1], b[1])


class LossAccumulator:
    """One loss over any number of chunks of rows.

    ``params`` are raw or typed overrides (validated here); ``input_kind`` is
    ``"probabilities"``/``"logits"`` for score inputs (domain checks depend on it).
    Outside a domain: a :class:`DataError` at the first offending chunk when ``strict``,
    else the loss ends ``not_applicable`` with the reason found over all rows.
    """

    def __init__(
        self,
        spec: LossSpec,
        params: Mapping[str, Any] | None = None,
        *,
        input_kind: str | None = None,
        reduction: Reduction = "mean",
        strict: bool = True,
        class_names: Iterable[str] | None = None,
        keep_per_row: bool = False,
    ) -> None:
        self.spec = spec
        self.params = resolve_params(spec, dict(params or {}))
        self.input_kind = input_kind
        self.reduction: Reduction = reduction
        self.strict = strict
        self.class_names = list(class_names) if class_names is not None else None
        self.keep_per_row = keep_per_row
        self.partial = Partial()
        self.rows = 0
        self.reason: str | None = None
        self.class_weights: ClassWeights | None = None
        name = class_count_param(spec)
        self._count_param = name if name and self.params.get(name) == BALANCED else None
        self._inputs = sorted({d.input for d in spec.domains})
        self._ranges: dict[str, tuple[float, float] | None] = {}
        self._per_row: list[np.ndarray] = []
        self._per_row_weight: list[np.ndarray | None] = []

    # ------------------------------------------------------------------ class counts

    @property
    def needs_class_counts(self) -> bool:
        """True until :meth:`set_class_counts` resolves ``weight=balanced``."""
        return self._count_param is not None and self.class_weights is None

    @property
    def ignore_index(self) -> Any:
        v = self.params.get("ignore_index")
        return None if v is None or isinstance(v, str) else v

    def set_class_counts(self, counts: np.ndarray) -> None:
        """Resolve ``balanced`` class weights from the class counts of every row."""
        if self._count_param is not None:
            self.class_weights = ClassWeights(self._count_param, np.asarray(counts))

    def kernel_params(self) -> dict[str, Any]:
        """Parameters as the kernel receives them (class weights resolved)."""
        out = dict(self.params)
        if self.class_weights is not None:
            out[self.class_weights.param] = self.class_weights.weights()
        return out

    # ------------------------------------------------------------------ chunks

    def update(
        self,
        pred: np.ndarray,
        target: np.ndarray | None,
        *,
        context: Mapping[str, Any] | None = None,
        sample_weight: np.ndarray | None = None,
        ranges: Ranges | None = None,
        want_rows: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Fold one chunk in. With ``want_rows``, return its per-row values and weights
        (None when the loss is not applicable)."""
        n = int(pred.shape[0])
        if n == 0 and self.rows > 0:
            return None
        ranges = ranges if ranges is not None else Ranges(pred, target, context)
        chunk = {inp: ranges.get(inp) for inp in self._inputs}
        for inp, rng in chunk.items():
            self._ranges[inp] = _widen(self._ranges.get(inp), rng)
        if self.reason is not None:
            return None
        refusal = self._refusal(chunk, context)
        if refusal is not None:
            if self.strict:
                raise refusal
            self.reason = refusal.message
            return None
        if self.needs_class_counts:
            raise RuntimeError(f"{self.spec.name}: class counts must be set before the rows")
        params = self.kernel_params()
        blocks = rowwise(self.spec, params)
        if not blocks and self.rows > 0:
            raise RuntimeError(f"{self.spec.name} needs every row in one call")
        keep = want_rows or self.keep_per_row
        _, per_row, per_row_weight = compute_partial(
            self.spec,
            pred,
            target,
            params=params,
            context=context,
            sample_weight=sample_weight,
            row_blocks=blocks,
            partial=self.partial,
            keep_per_row=keep,
        )
        self.rows += n
        if self.keep_per_row and per_row is not None:
            self._per_row.append(per_row)
            self._per_row_weight.append(per_row_weight)
        if want_rows and per_row is not None:
            return per_row, per_row_weight
        return None

    def _refusal(
        self,
        chunk: Mapping[str, tuple[float, float] | None],
        context: Mapping[str, Any] | None,
    ) -> DataError | None:
        """Why the loss cannot take this chunk, as the data error to raise: a context array
        it needs is absent, or values fall outside its domains; None when it can."""
        needs = self.spec.missing_context(context)
        if needs is not None:
            return DataError(needs.message, hint=needs.hint or None)
        reason = domain_reason(self.spec, chunk, input_kind=self.input_kind)
        if reason is None:
            return None
        return DataError(reason, hint=f"check the inputs, or leave {self.spec.name} out of --loss")

    def merge(self, other: LossAccumulator) -> LossAccumulator:
        """Fold in an accumulator of the same loss over other rows (which follow these)."""
        self.partial = self.partial.merge(other.partial)
        self.rows += other.rows
        for inp, rng in other._ranges.items():
            self._ranges[inp] = _widen(self._ranges.get(inp), rng)
        self.reason = self.reason or other.reason
        self._per_row += other._per_row
        self._per_row_weight += other._per_row_weight
        return self

    def finalize(self) -> LossResult:
        if self.reason is not None:
            reason = domain_reason(self.spec, self._ranges, input_kind=self.input_kind)
            return LossResult(
                self.spec.name, None, "not_applicable", self.params, reason=reason or self.reason
            )
        notes = self.class_weights.notes(self.params) if self.class_weights else []
        per_row = per_row_weight = None
        if self.keep_per_row and self._per_row:
            per_row = np.concatenate(self._per_row)
            if any(w is not None for w in self._per_row_weight):
                per_row_weight = np.concatenate(
                    [
                        np.ones(r.shape[0]) if w is None else w
                        for r, w in zip(self._per_row, self._per_row_weight)
                    ]
                )
        return finish(
            self.spec,
            self.partial,
            self.params,
            reduction=self.reduction,
            class_names=self.class_names,
            notes=notes,
            per_row=per_row,
            per_row_weight=per_row_weight,
        )


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


# --------------------------------------------------------------------------- per sample


class PerSampleWriter:
    """``--per-sample FILE.csv``: one line per row (row number, id, each loss), written
    chunk by chunk through :class:`losscli.files.AtomicFile` and renamed into place by
    :meth:`close` — a failed run leaves no half-written file.

    Lines are rendered by :func:`losscli.report.csv.render_per_sample`, the same view an
    in-memory run writes. Columns of losses that end up not applicable are removed at
    the end (a loss can leave its domain in a late chunk).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.names: list[str] | None = None
        self._file: AtomicFile | None = None

    def write(self, row_numbers: Any, row_ids: Any, per_rows: Mapping[str, np.ndarray]) -> None:
        from losscli.report.csv import render_per_sample

        text = render_per_sample(row_numbers, row_ids, dict(per_rows))
        if self._file is None:
            self.names = list(per_rows)
            self._file = AtomicFile(self.path)
        else:
            text = text.split("\n", 1)[1]
        self._file.write(text)

    def close(self, keep: Sequence[str] | None = None) -> None:
        """Finish the file, keeping only the loss columns ``keep`` (all when None)."""
        if self._file is None:
            from losscli.report.csv import render_per_sample

            write_atomic(self.path, render_per_sample([], None, {n: [] for n in keep or []}))
            return
        file, self._file = self._file, None
        try:
            names = self.names or []
            if keep is not None and list(keep) != names:
                _drop_columns(file.close_temp(), [n for n in names if n not in keep])
            file.commit()
        except BaseException:
            file.abort()
            raise

    def abort(self) -> None:
        if self._file is not None:
            self._file.abort()
            self._file = None


def _drop_columns(path: str, drop: Sequence[str]) -> None:
    out = path + ".cols"
    with (
        open(path, newline="", encoding="utf-8") as src,
        open(out, "w", newline="", encoding="utf-8") as dst,
    ):
        reader = csv.reader(src)
        writer = csv.writer(dst, lineterminator="\n")
        header = next(reader)
        fixed = 2 if header[1:2] == ["id"] else 1  # row number, and the id when present
        keep = list(range(fixed)) + [j for j in range(fixed, len(header)) if header[j] not in drop]
        for row in [header, *reader]:
            writer.writerow([row[j] for j in keep])
    os.replace(out, path)


# --------------------------------------------------------------------------- one run


@dataclass
class Outcome:
    """What :meth:`Evaluation.finalize` returns."""

    results: list[LossResult]
    #: Per loss: the K worst rows (losses with per-row values only).
    worst: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    #: Per loss: mean per-row loss by true class (multiclass, ``per_class``).
    per_class: dict[str, dict[str, float]] = field(default_factory=dict)
    #: Per loss: per-row values (``keep_per_row`` only).
    per_rows: dict[str, np.ndarray] = field(default_factory=dict)


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
    ) -> None:
        self.specs = list(specs)
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
        self.failed: dict[int, LossResult] = {}
        self.worst: dict[int, WorstK] = {}
        self._class_sum: dict[int, np.ndarray] = {}
        self._class_n: np.ndarray | None = None

    @property
    def needs_class_counts(self) -> bool:
        return any(a.needs_class_counts for a in self.accs)

    def count_ignore_index(self) -> Any:
        """``ignore_index`` of the losses that need class counts (rows left out)."""
        return next((a.ignore_index for a in self.accs if a.needs_class_counts), None)

    def set_class_counts(self, counts: np.ndarray) -> None:
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
        want = self._want_rows()
        sample_rows: dict[str, np.ndarray] = {}
        for i, (spec, acc) in enumerate(zip(self.specs, self.accs)):
            if i in self.failed:
                continue
            try:
                got = acc.update(
                    ds.pred,
                    ds.target,
                    context=ds.context,
                    sample_weight=ds.sample_weight,
                    ranges=ranges,
                    want_rows=want,
                )
            except (DataError, KernelInputError) as exc:
                if self.explicit or (
                    isinstance(exc, KernelInputError) and self.params.get(spec.name)
                ):
                    raise
                self.failed[i] = LossResult(
                    spec.name, None, "not_applicable", acc.params, reason=exc.message
                )
                continue
            if got is None:
                continue
            values, _weights = got
            if self.worst_k:
                rank = values if spec.finalize is None else _sqrt_rows(values)
                tracker = self.worst.setdefault(i, WorstK(self.worst_k))
                tracker.update(rank, self.rows, _describer(ds, rank))
            if spec.finalize is None:
                sample_rows[spec.name] = values
                if self.per_class and acc.partial.col_num is None and ds.target is not None:
                    c = len(self.class_names or []) or int(ds.pred.shape[1])
                    y = ds.target.astype(np.int64, copy=False)
                    s = np.bincount(y, weights=values, minlength=c)[:c]
                    self._class_sum[i] = self._class_sum.get(i, 0) + s
        if self.per_class and ds.target is not None:
            c = len(self.class_names or []) or int(ds.pred.shape[1])
            counts = np.bincount(ds.target.astype(np.int64, copy=False), minlength=c)[:c]
            self._class_n = counts if self._class_n is None else self._class_n + counts
        if self.per_sample is not None:
            names = [s.name for s in self.specs if s.finalize is None]
            full = {nm: sample_rows.get(nm, np.full(n, np.nan)) for nm in names}
            self.per_sample.write(ds.row_numbers, ds.row_ids, full)
        self.rows += n

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
        for i, s in other._class_sum.items():
            self._class_sum[i] = self._class_sum.get(i, 0) + s
        if other._class_n is not None:
            self._class_n = (
                other._class_n if self._class_n is None else self._class_n + other._class_n
            )
        self.rows += other.rows
        return self

    def finalize(self) -> Outcome:
        results = [
            self.failed[i] if i in self.failed else acc.finalize()
            for i, acc in enumerate(self.accs)
        ]
        out = Outcome(results)
        for i, (spec, res) in enumerate(zip(self.specs, results)):
            if res.status == "not_applicable":
                continue
            if i in self.worst:
                out.worst[spec.name] = self.worst[i].rows()
            if i in self._class_sum and self._class_n is not None:
                names = self.class_names or [str(c) for c in range(self._class_n.size)]
                sums = np.asarray(self._class_sum[i], dtype=np.float64)
                out.per_class[spec.name] = {
                    nm: (float(sums[c] / self._class_n[c]) if self._class_n[c] else math.nan)
                    for c, nm in enumerate(names)
                }
            if res.per_row is not None:
                out.per_rows[spec.name] = res.per_row
        if self.per_sample is not None:
            keep = [
                s.name
                for s, r in zip(self.specs, results)
                if s.finalize is None and r.status != "not_applicable"
            ]
            self.per_sample.close(keep)
        return out

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


__all__ = [
    "Evaluation",
    "LossAccumulator",
    "Outcome",
    "PerSampleWriter",
    "Ranges",
    "WorstK",
    "row_item",
]
