"""(spec, arrays, params) → LossResult: domain checks → kernel → reduce → notes.

The single path every loss value takes, in memory or streamed:

* :func:`compute_partial` runs a kernel over row blocks and folds the terms into a
  mergeable :class:`~losscli.losses._reduce.Partial` (Σ w·l, Σ w, per-column sums, notes);
* :func:`finish` turns a partial into a :class:`LossResult` (value, ``sqrt`` finalize,
  status, per-class values);
* :class:`LossAccumulator` strings both together over any number of chunks (with the
  domain checks, once per chunk), and :func:`compute` is that accumulator fed once.
  Reading in chunks, in partitions or in one piece therefore gives the same value (to
  summation order).

:mod:`losscli.accumulate` builds on this module (row diagnostics, one run's losses); this
module imports nothing from it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losscli.errors import DataError, UsageError
from losscli.losses._reduce import Partial, Reduction, Terms
from losscli.losses.calibration import FINISHERS
from losscli.registry import Domain, LossSpec, resolve_params

#: Target number of array elements per block (64K float64 = 512 KiB, fits in L2).
BLOCK_ELEMENTS = 65536
#: The parameter word that makes a kernel count the classes over every row it is given.
BALANCED = "balanced"


class KernelInputError(UsageError):
    """A kernel refused its inputs or parameters (a list of the wrong length, a layout the
    loss does not take). A usage error when the loss was asked for; in the default
    "every applicable loss" run the loss is listed as not applicable instead."""


@dataclass
class LossResult:
    """One computed loss."""

    name: str
    value: float | None
    status: str  # "ok" | "non_finite" | "not_applicable"
    params: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    reason: str | None = None
    per_row: np.ndarray | None = None
    #: Per-row weights (kernel weight × sample weight) when kept; None means all 1.
    per_row_weight: np.ndarray | None = None
    per_class: dict[str, float] | None = None
    partial: Partial | None = None
    #: More fields of the loss's document entry (``grad``, ``precision``, ``terms``).
    extra: dict[str, Any] = field(default_factory=dict)
    #: The loss of the best constant prediction (SPEC §11), and why there is none.
    no_skill: float | None = None
    no_skill_reason: str | None = None

    @property
    def skill(self) -> float | None:
        """1 − value/no_skill: None unless no_skill is finite and > 0 (the ratio of two
        negative log-likelihoods, e.g. poisson_nll without its constant, has no meaning)."""
        ns, v = self.no_skill, self.value
        if ns is None or v is None or ns <= 0 or not (math.isfinite(ns) and math.isfinite(v)):
            return None
        return 1.0 - v / ns

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "value": self.value if self.value is not None and math.isfinite(self.value) else None,
            "status": self.status,
            "params": _jsonable(self.params),
        }
        if self.value is not None and not math.isfinite(self.value):
            d["repr"] = repr(self.value)
        if self.reason:
            d["reason"] = self.reason
        if self.notes:
            d["notes"] = list(self.notes)
        if self.per_class is not None:
            d["per_class"] = finite_or_none(self.per_class)
        d["no_skill"] = self.no_skill
        d["skill"] = self.skill
        if self.no_skill is None:
            d["no_skill_reason"] = self.no_skill_reason or (
                "the loss is not applicable" if self.status == "not_applicable" else "no value"
            )
        d.update(self.extra)
        return d


def finite_or_none(values: Mapping[str, float]) -> dict[str, float | None]:
    """``values`` for a JSON document: a non-finite value (no rows, overflow) is None."""
    return {k: (v if math.isfinite(v) else None) for k, v in values.items()}


def per_class_values(
    result: LossResult, by_target: Mapping[str, float] | None
) -> dict[str, float | None] | None:
    """The per-class values of one loss in a document: per column (multilabel,
    segmentation: ``result.per_class``), else the mean loss by true class (multiclass:
    ``by_target``, :func:`per_class_means`). None when there is no breakdown, or when
    the loss is not applicable (it has no values, per class or not)."""
    if result.status == "not_applicable":
        return None
    values = result.per_class if result.per_class is not None else by_target
    return None if values is None else finite_or_none(values)


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


# --------------------------------------------------------------------------- domains


def value_range(arr: np.ndarray | None) -> tuple[float, float] | None:
    """(min, max) of an array, None when it is missing or empty."""
    if arr is None or arr.size == 0:
        return None
    return float(np.min(arr)), float(np.max(arr))


def domain_reason(
    spec: LossSpec,
    ranges: Mapping[str, tuple[float, float] | None],
    *,
    input_kind: str | None,
) -> str | None:
    """Why inputs with these (min, max) ranges (``"pred"``/``"target"``) fall outside
    ``spec``'s domains, or None when they fit."""
    for d in spec.domains:
        if d.when is not None and d.when != input_kind:
            continue
        rng = ranges.get(d.input)
        if rng is None:
            continue
        lo, hi = rng
        if not d.contains(lo, hi):
            return _outside(spec, d, lo if not d.contains(lo, lo) else hi)
    return None


def _outside(spec: LossSpec, d: Domain, found: float, where: str = "") -> str:
    """``msle needs targets in (-1, inf) (why); found -2[ at where]`` — the one wording."""
    why = f" ({d.why})" if d.why else ""
    at = f" at {where}" if where else ""
    return f"{spec.name} needs {d.describe()}{why}; found {found:g}{at}"


def first_outside_at(
    spec: LossSpec,
    pred: np.ndarray,
    target: np.ndarray | None,
    *,
    input_kind: str | None,
    context: Mapping[str, Any] | None = None,
) -> tuple[Domain, str, int, int, float] | None:
    """``(domain, input, row position, column position, value)`` of the first element
    outside the first domain of ``spec`` that the inputs violate (the domain
    :func:`domain_reason` reports), or None. Columns count the flattened trailing axes."""
    for d in spec.domains:
        if d.when is not None and d.when != input_kind:
            continue
        arr = {**(context or {}), "pred": pred, "target": target}.get(d.input)
        if arr is None or np.asarray(arr).size == 0:
            continue
        a = np.asarray(arr).reshape(arr.shape[0], -1)
        out = np.zeros(a.shape, dtype=bool)
        if d.low is not None:
            out |= (a <= d.low) if d.low_open else (a < d.low)
        if d.high is not None:
            out |= (a >= d.high) if d.high_open else (a > d.high)
        rows = np.flatnonzero(out.any(axis=1))
        if rows.size:
            row = int(rows[0])
            col = int(np.flatnonzero(out[row])[0])
            return d, d.input, row, col, float(a[row, col])
    return None


#: Names the source of an element: ``(input, row position, column position)`` →
#: ``"file.csv, column 'y', row 3"``.
Locator = Callable[[str, int, int], str]


def check_domains(
    spec: LossSpec,
    pred: np.ndarray,
    target: np.ndarray | None,
    *,
    input_kind: str | None,
    locate: Locator | None = None,
    context: Mapping[str, Any] | None = None,
) -> str | None:
    """Why the inputs fall outside ``spec``'s domains, naming the first offending
    element and its value (its file, column and row through ``locate``, else its row
    position), or None when they fit. The one domain check of every path (in memory,
    streamed, Dask)."""
    arrays = Ranges(pred, target, context)
    ranges = {d.input: arrays.get(d.input) for d in spec.domains}
    reason = domain_reason(spec, ranges, input_kind=input_kind)
    if reason is None:
        return None
    at = first_outside_at(spec, pred, target, input_kind=input_kind, context=context)
    if at is None:
        return reason
    d, inp, row, col, value = at
    where = locate(inp, row, col) if locate is not None else f"row position {row}"
    return _outside(spec, d, value, where)


# --------------------------------------------------------------------------- row-wise


def class_count_param(spec: LossSpec) -> str | None:
    """The parameter that, set to ``balanced``, weights classes by counts over all rows
    (cross_entropy's ``weight``); None when the loss has none."""
    for p in spec.params:
        if BALANCED in p.words:
            return p.name
    return None


def rowwise(spec: LossSpec, params: Mapping[str, Any]) -> bool:
    """Whether the kernel computes every row on its own under ``params``, so that it may
    be called on row blocks and chunks and the partial results merged.

    Decomposable specs always do. A spec marked non-decomposable only because of a
    class-count parameter (cross_entropy with ``weight=balanced``) does as soon as that
    parameter holds explicit class weights, which :class:`ClassWeights` resolves from the
    class counts.
    """
    if spec.decomposable:
        return True
    name = class_count_param(spec)
    return name is not None and params.get(name) != BALANCED


def class_counts(target: np.ndarray, n_classes: int, ignore_index: Any = None) -> np.ndarray:
    """Number of rows of each class among integer class targets (``ignore_index`` left
    out)."""
    y = np.asarray(target).astype(np.int64, copy=False).reshape(-1)
    if ignore_index is not None and not isinstance(ignore_index, str):
        y = y[y != int(ignore_index)]
    y = y[(y >= 0) & (y < n_classes)]
    return np.bincount(y, minlength=n_classes)[:n_classes].astype(np.int64)


def per_class_sums(
    values: np.ndarray,
    labels: np.ndarray,
    n_classes: int,
    weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Σw·l and Σw of per-row losses ``values`` grouped by integer class ``labels``
    (rows whose label lies outside 0…C−1, e.g. an ``ignore_index``, are left out).
    Mergeable: add the pairs of two chunks. The one per-class rule (SPEC §6)."""
    y = np.asarray(labels).astype(np.int64, copy=False).reshape(-1)
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    w = np.ones_like(v) if weight is None else np.asarray(weight, dtype=np.float64).reshape(-1)
    keep = (y >= 0) & (y < n_classes)
    if not keep.all():
        y, v, w = y[keep], v[keep], w[keep]
    sums = np.bincount(y, weights=w * v, minlength=n_classes)[:n_classes]
    wsum = np.bincount(y, weights=w, minlength=n_classes)[:n_classes]
    return sums, wsum


def per_class_means(sums: np.ndarray, wsum: np.ndarray, names: list[str]) -> dict[str, float]:
    """``{class name: Σw·l/Σw}`` from :func:`per_class_sums`; NaN for a class with no rows."""
    with np.errstate(all="ignore"):
        means = np.where(wsum > 0, sums / np.where(wsum > 0, wsum, 1.0), np.nan)
    return {name: float(m) for name, m in zip(names, means)}


@dataclass
class ClassWeights:
    """``weight=balanced`` resolved from class counts: w_c = n / (C·count_c), 0 for absent
    classes (:func:`losscli.losses.classification.balanced_weights_from_counts`)."""

    param: str
    counts: np.ndarray

    def weights(self) -> tuple[float, ...]:
        from losscli.losses.classification import balanced_weights_from_counts

        return tuple(float(v) for v in balanced_weights_from_counts(self.counts))

    def notes(self, params: Mapping[str, Any]) -> list[str]:
        """The kernel's note for absent classes, which it gives only for the word."""
        from losscli.losses.classification import ABSENT_CLASS_NOTE

        smoothing = params.get("label_smoothing") or 0.0
        if smoothing and bool(np.any(self.counts == 0)):
            return [ABSENT_CLASS_NOTE]
        return []


# --------------------------------------------------------------------------- blocks


def _block_rows(pred: np.ndarray, row_blocks: bool) -> int:
    """Rows per kernel call: about :data:`BLOCK_ELEMENTS` elements, or every row."""
    n = int(pred.shape[0])
    if not row_blocks or n == 0:
        return max(n, 1)
    per_row_elems = max(1, int(np.prod(pred.shape[1:])) if pred.ndim > 1 else 1)
    return max(1, BLOCK_ELEMENTS // per_row_elems)


def _call_kernel(
    spec: LossSpec,
    fn: Callable[..., Terms],
    pred: np.ndarray,
    target: np.ndarray | None,
    params: Mapping[str, Any],
    ctx: Mapping[str, Any],
) -> Terms:
    """One kernel call; a kernel's ValueError (a parameter that does not fit the data: a
    class-weight list of the wrong length, …) becomes a :class:`KernelInputError`."""
    try:
        if target is None:
            return fn(pred, **params, **ctx)
        return fn(pred, target, **params, **ctx)
    except ValueError as exc:
        raise KernelInputError(f"{spec.name}: {exc}", hint=_param_hint(spec)) from None


def _joined(parts: list[np.ndarray]) -> np.ndarray:
    return parts[0] if len(parts) == 1 else np.concatenate(parts)


def compute_partial(
    spec: LossSpec,
    pred: np.ndarray,
    target: np.ndarray | None,
    *,
    params: Mapping[str, Any],
    context: Mapping[str, Any] | None = None,
    sample_weight: np.ndarray | None = None,
    row_blocks: bool = True,
    partial: Partial | None = None,
    keep_per_row: bool = False,
) -> tuple[Partial, np.ndarray | None, np.ndarray | None]:
    """Run ``spec``'s kernel on ``pred``/``target`` and fold its terms into ``partial``.

    ``params`` are validated values passed to the kernel as they are; ``context`` only
    the keywords the kernel declares. With ``row_blocks`` the kernel is called on blocks of
    about :data:`BLOCK_ELEMENTS` elements (the kernel must be row-wise, see
    :func:`rowwise`), else once on every row. Returns the partial and, with
    ``keep_per_row``, the per-row values and weights (None: all 1) of these rows.
    """
    fn = spec.kernel()
    ctx = {k: v for k, v in (context or {}).items() if k in spec.context}
    n = int(pred.shape[0])
    partial = partial if partial is not None else Partial()
    rows_out: list[np.ndarray] = []
    weights_out: list[np.ndarray] = []
    weighted = sample_weight is not None
    step = _block_rows(pred, row_blocks)
    for start in range(0, max(n, 1), step):
        sl = slice(start, min(start + step, n))
        t = target[sl] if target is not None else None
        sw = sample_weight[sl] if sample_weight is not None else None
        block_ctx = {k: _slice(v, sl, n) for k, v in ctx.items()}
        terms = _call_kernel(spec, fn, pred[sl], t, params, block_ctx)
        partial.update(terms, sw)
        if keep_per_row:
            rows_out.append(terms.per_row())
            weighted |= terms.weight is not None
            w = np.ones(terms.n) if terms.weight is None else terms.weight
            weights_out.append(w if sw is None else w * sw)
    if not (keep_per_row and rows_out):
        return partial, None, None
    return partial, _joined(rows_out), _joined(weights_out) if weighted else None


def finish(
    spec: LossSpec,
    partial: Partial,
    params: dict[str, Any],
    *,
    reduction: Reduction = "mean",
    class_names: Iterable[str] | None = None,
    notes: Iterable[str] = (),
    per_row: np.ndarray | None = None,
    per_row_weight: np.ndarray | None = None,
) -> LossResult:
    """A merged partial → :class:`LossResult` (``params`` as reported)."""
    value = partial.value(reduction)
    finisher = FINISHERS.get(spec.finalize or "")
    cols = None if finisher is not None else partial.per_column()
    if finisher is not None:  # calibration errors: a function of the column sums
        sums = partial.col_num
        value = finisher(sums) if sums is not None else math.nan
    elif spec.finalize == "sqrt" and reduction != "none":
        value = math.sqrt(value) if value >= 0 else math.nan
        if cols is not None and cols.size > 1 and reduction == "mean":
            # several outputs: √ of each output's mean, averaged uniformly (scikit-learn
            # multioutput="uniform_average")
            with np.errstate(invalid="ignore"):
                cols = np.sqrt(cols)
            value = float(np.mean(cols))
    status = "ok" if math.isfinite(value) else "non_finite"
    all_notes = list(dict.fromkeys([*partial.notes, *notes]))
    if status == "non_finite" and partial.den == 0:
        all_notes.append("no row carries weight (all rows ignored or zero-weighted): value is NaN")
    per_class = None
    if cols is not None and cols.size > 1:
        names = list(class_names) if class_names is not None else []
        if len(names) != cols.size:
            names = [str(i) for i in range(cols.size)]
        per_class = {nm: float(v) for nm, v in zip(names, cols)}
    return LossResult(
        spec.name,
        float(value),
        status,
        params,
        notes=all_notes,
        per_row=per_row,
        per_row_weight=per_row_weight,
        per_class=per_class,
        partial=partial,
    )


def compute(
    spec: LossSpec,
    pred: np.ndarray,
    target: np.ndarray | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    sample_weight: np.ndarray | None = None,
    reduction: Reduction = "mean",
    keep_per_row: bool = False,
    strict: bool = True,
    class_names: Iterable[str] | None = None,
) -> LossResult:
    """Compute one loss on arrays held in memory.

    ``params`` are raw or typed overrides (validated against the spec); ``context`` holds
    the non-user keywords the kernel declares (``from_logits``, ``layout``, ``mu`` …).
    Domain violations raise :class:`DataError` when ``strict``, else give a
    ``not_applicable`` result with the reason.
    """
    acc = LossAccumulator(
        spec,
        params,
        input_kind=input_kind(context),
        reduction=reduction,
        strict=strict,
        class_names=class_names,
        keep_per_row=keep_per_row,
    )
    if acc.needs_class_counts and target is not None:
        acc.set_class_counts(class_counts(target, n_columns(pred), acc.ignore_index))
    acc.update(pred, target, context=context, sample_weight=sample_weight)
    return acc.finalize()


def input_kind(context: Mapping[str, Any] | None) -> str | None:
    """``"logits"``/``"probabilities"`` for score inputs (a dataset's ``context`` holds
    ``from_logits``), else None."""
    if context and "from_logits" in context:
        return "logits" if context["from_logits"] else "probabilities"
    return None


def n_columns(pred: np.ndarray) -> int:
    """How many classes (columns) ``pred`` scores: its second axis, 1 for one column."""
    return int(pred.shape[1]) if pred.ndim > 1 else 1


def _slice(v: Any, sl: slice, n: int) -> Any:
    if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n:
        return v[sl]
    return v


def _param_hint(spec: LossSpec) -> str:
    names = ", ".join(f"{p.name} ({p.range_text()})" for p in spec.params)
    return f"check --param values for {spec.name}: {names}" if names else "check the inputs"


# --------------------------------------------------------------------------- chunks


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
        self.params = resolve_params(spec, dict(params or {}))
        self.spec = spec.under(self.params)  # the domains that hold under these params
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
        locate: Locator | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Fold one chunk in. With ``want_rows``, return its per-row values and weights
        (None when the loss is not applicable). ``locate`` names the file, column and row
        of an element outside the loss's domains in the error (strict)."""
        n = int(pred.shape[0])
        if n == 0 and self.rows > 0:
            return None
        if not self._check_domains(pred, target, ranges, locate, context):
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

    def _check_domains(
        self,
        pred: np.ndarray,
        target: np.ndarray | None,
        ranges: Ranges | None,
        locate: Locator | None,
        context: Mapping[str, Any] | None,
    ) -> bool:
        """Widen the seen ranges by this chunk's; whether the loss may run on it. A
        context array the loss needs is absent, or values fall outside a domain: a
        :class:`DataError` (naming the first offending element) when strict, else the loss
        is not applicable from now on."""
        ranges = ranges if ranges is not None else Ranges(pred, target, context)
        chunk = {inp: ranges.get(inp) for inp in self._inputs}
        for inp, rng in chunk.items():
            self._ranges[inp] = _widen(self._ranges.get(inp), rng)
        if self.reason is not None:
            return False
        needs = self.spec.missing_context(context)
        if needs is not None:
            if self.strict:
                raise DataError(needs.message, hint=needs.hint or None)
            self.reason = needs.message
            return False
        reason = domain_reason(self.spec, chunk, input_kind=self.input_kind)
        if reason is None:
            return True
        if self.strict:
            found = check_domains(
                self.spec, pred, target, input_kind=self.input_kind, locate=locate, context=context
            )
            raise DataError(
                found or reason,
                hint=f"check the inputs, or leave {self.spec.name} out of --loss",
            )
        self.reason = reason
        return False

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
