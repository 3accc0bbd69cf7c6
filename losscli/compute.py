"""(spec, arrays, params) → LossResult: domain checks → kernel → reduce → notes.

The single path every loss value takes, in memory or streamed: decomposable losses are
evaluated in row blocks and merged through :class:`~losscli.losses._reduce.Partial`, so
an in-memory call and a chunked call run the same code.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losscli.errors import DataError, UsageError
from losscli.losses._reduce import Partial, Reduction, Terms
from losscli.registry import LossSpec, resolve_params

#: Target number of array elements per block (64K float64 = 512 KiB, fits in L2).
BLOCK_ELEMENTS = 65536


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
            d["per_class"] = {
                k: (v if math.isfinite(v) else None) for k, v in self.per_class.items()
            }
        return d


def _jsonable(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def check_domains(
    spec: LossSpec, pred: np.ndarray, target: np.ndarray | None, *, input_kind: str | None
) -> str | None:
    """Return why the inputs fall outside ``spec``'s domains, or None when they fit."""
    for d in spec.domains:
        if d.when is not None and d.when != input_kind:
            continue
        arr = pred if d.input == "pred" else target
        if arr is None or arr.size == 0:
            continue
        lo, hi = float(np.min(arr)), float(np.max(arr))
        if not d.contains(lo, hi):
            found = lo if not d.contains(lo, lo) else hi
            why = f" ({d.why})" if d.why else ""
            return f"{spec.name} needs {d.describe()}{why}; found {found:g}"
    return None


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
    """Compute one loss.

    ``params`` are raw or typed overrides (validated against the spec); ``context`` holds
    the non-user keywords the kernel declares (``from_logits``, ``layout``, ``mu`` …).
    Domain violations raise :class:`DataError` when ``strict``, else give a
    ``not_applicable`` result with the reason.
    """
    resolved = resolve_params(spec, dict(params or {}))
    ctx = {k: v for k, v in (context or {}).items() if k in spec.context}
    input_kind = None
    if "from_logits" in (context or {}):
        input_kind = "logits" if (context or {})["from_logits"] else "probabilities"
    reason = check_domains(spec, pred, target, input_kind=input_kind)
    if reason is not None:
        if strict:
            raise DataError(reason, hint=f"check the inputs, or leave {spec.name} out of --loss")
        return LossResult(spec.name, None, "not_applicable", resolved, reason=reason)

    fn = spec.kernel()
    n = int(pred.shape[0])
    partial = Partial()
    rows_out: list[np.ndarray] = []
    weights_out: list[np.ndarray] = []
    weighted = sample_weight is not None
    if spec.decomposable and n > 0:
        per_row_elems = max(1, int(np.prod(pred.shape[1:])) if pred.ndim > 1 else 1)
        step = max(1, BLOCK_ELEMENTS // per_row_elems)
    else:
        step = max(n, 1)
    for start in range(0, max(n, 1), step):
        stop = min(start + step, n)
        sl = slice(start, stop)
        block_ctx = {k: _slice(v, sl, n) for k, v in ctx.items()}
        t = target[sl] if target is not None else None
        sw = sample_weight[sl] if sample_weight is not None else None
        try:
            terms: Terms = (
                fn(pred[sl], t, **resolved, **block_ctx)
                if t is not None
                else fn(pred[sl], **resolved, **block_ctx)
            )
        except ValueError as exc:
            # kernels raise ValueError when a parameter does not fit the data
            # (a class-weight list of the wrong length, …): a usage error
            raise KernelInputError(f"{spec.name}: {exc}", hint=_param_hint(spec)) from None
        partial.update(terms, sw)
        if keep_per_row:
            rows_out.append(terms.per_row())
            weighted |= terms.weight is not None
            w = np.ones(terms.n) if terms.weight is None else terms.weight
            weights_out.append(w if sw is None else w * sw)
        if n == 0:
            break
    value = partial.value(reduction)
    if spec.finalize == "sqrt" and reduction != "none":
        value = math.sqrt(value) if value >= 0 else math.nan
    status = "ok" if math.isfinite(value) else "non_finite"
    notes = list(partial.notes)
    if status == "non_finite" and partial.den == 0:
        notes.append("no row carries weight (all rows ignored or zero-weighted): value is NaN")
    per_class = None
    cols = partial.per_column()
    if cols is not None and cols.size > 1:
        names = list(class_names) if class_names is not None else []
        if len(names) != cols.size:
            names = [str(i) for i in range(cols.size)]
        per_class = {nm: float(v) for nm, v in zip(names, cols)}
    return LossResult(
        spec.name,
        float(value),
        status,
        resolved,
        notes=notes,
        per_row=np.concatenate(rows_out) if keep_per_row and rows_out else None,
        per_row_weight=np.concatenate(weights_out) if weighted and weights_out else None,
        per_class=per_class,
        partial=partial,
    )


def _slice(v: Any, sl: slice, n: int) -> Any:
    if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n:
        return v[sl]
    return v


def _param_hint(spec: LossSpec) -> str:
    names = ", ".join(f"{p.name} ({p.range_text()})" for p in spec.params)
    return f"check --param values for {spec.name}: {names}" if names else "check the inputs"
