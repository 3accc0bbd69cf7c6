"""``--grad``: the gradient of each reported loss value with respect to the predictions,
folded chunk by chunk into mergeable summary statistics (SPEC §13).

For a loss value V = Σ_i sw_i·w_i·l_i / Σ_i sw_i·w_i (``mean``) or Σ_i sw_i·w_i·l_i
(``sum``), the gradient of row i is ``scale · sw_i · D_i`` with ``D_i = ∂(w_i·l_i)/∂pred_i``
from the loss's gradient kernel (:mod:`losscli.losses.grads`) and ``scale`` = 1/Σ sw·w
(mean) or 1 (sum), times 1/(2√mse) for rmse. The scale is known only when every row has
been read, so each chunk contributes unscaled terms, and the statistics are scaled once:

* ``mean_abs`` — the mean over rows of |g_row| (a row's L1 norm over its columns);
* ``max_abs`` — the largest |g_row|;
* ``top1pct_share`` — Σ of the ⌈N/100⌉ largest |g_row| over Σ of all;
* ``saturated_share`` — the share of rows with |g_row| < 1e-6·max_abs;
* ``per_class`` — the mean |g| of each prediction column (None for one column).

``top1pct_share`` and ``saturated_share`` need the row norms in order: they are kept
(float64) up to :data:`EXACT_ROWS` rows, beyond which a log-spaced histogram of
:data:`SUB_BINS` bins per octave (count and sum per bin, mergeable, bounded) answers
them, to within one bin at the boundary (a note says so).
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from losscli.compute import finite_or_none
from losscli.losses.grads import GRADS, NO_GRAD, NOT_YET
from losscli.registry import LossSpec

#: Row norms kept exactly up to this many rows (8 MB).
EXACT_ROWS = 1_000_000
#: Histogram bins per octave beyond that.
SUB_BINS = 64
#: A row is saturated when its gradient norm is below this fraction of the largest.
SATURATED = 1e-6
HIST_NOTE = (
    "grad: top1pct_share and saturated_share from a histogram of 1/64-octave bins "
    "(more than 1,000,000 rows)"
)


def grad_kernel(fn: str) -> Callable[..., Any] | None:
    """The gradient kernel of loss kernel ``fn`` (``module:function``), or None."""
    target = GRADS.get(fn)
    if target is None:
        return None
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def no_grad_reason(fn: str) -> str:
    """Why loss kernel ``fn`` has no gradient kernel."""
    return NO_GRAD.get(fn, NOT_YET)


def weighs_rows(grad: Callable[..., Any]) -> bool:
    """Whether a gradient kernel takes ``sample_weight`` itself (its rows' gradients mix
    several rows' terms: pairs, mined triplets)."""
    module = importlib.import_module(grad.__module__)
    return bool(getattr(module, "HANDLES_SAMPLE_WEIGHT", False))


def grad_function(spec: LossSpec) -> Callable[..., Any] | None:
    """The gradient kernel of ``spec``: a closed-form kernel of the registry's, or the one
    a composite or plugin spec carries; None when there is none."""
    own = spec._fn_cache.get("grad")
    if own is not None:
        return own
    if spec.finalize not in (None, "sqrt"):  # only a mean (or its root) has our scale
        return None
    if spec._fn_cache.get("no_grad"):
        return None
    return grad_kernel(spec.fn)


def grad_reason(spec: LossSpec) -> str:
    """Why ``spec`` has no gradient."""
    return str(spec._fn_cache.get("no_grad") or no_grad_reason(spec.fn))


def _histogram(norms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(bin keys, counts, sums) of the positive norms (zeros are counted apart)."""
    pos = norms[norms > 0]
    keys, inv = np.unique(_bins(pos), return_inverse=True)
    return (
        keys,
        np.bincount(inv, minlength=keys.size).astype(np.float64),
        np.bincount(inv, weights=pos, minlength=keys.size),
    )


def _bins(norms: np.ndarray) -> np.ndarray:
    """Histogram bin of each positive finite norm: exponent·SUB_BINS + mantissa bucket."""
    m, e = np.frexp(norms)  # norms = m·2^e, m in [0.5, 1)
    return e.astype(np.int64) * SUB_BINS + ((m - 0.5) * 2 * SUB_BINS).astype(np.int64)


def grad_params(
    fn: Any, spec: LossSpec, params: Mapping[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """The parameters ``fn`` (a gradient kernel) takes, and why there is no gradient when
    a parameter it does not take is set away from the loss's default (a parameter added
    to the loss kernel after its gradient kernel was written)."""
    import inspect

    sig = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in sig.values()):
        return dict(params), None
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in sig:
            out[key] = value
            continue
        p = spec.param(key)
        if p is None or value != p.default:
            return {}, f"{spec.name}: no gradient yet with {key}={value}"
    return out, None


class GradAccumulator:
    """Unscaled gradient statistics of one loss over chunks (see the module docstring)."""

    def __init__(self, spec: LossSpec) -> None:
        self.spec = spec
        self.fn = grad_function(spec)
        self.reason: str | None = None
        self.shape: tuple[int, ...] = (0,)
        self.rows = 0
        self.sum_norm = 0.0
        self.max_norm = 0.0
        self.non_finite = 0
        self.zeros = 0
        self.col_abs: np.ndarray | None = None
        self._norms: list[np.ndarray] | None = []
        self._kept = 0
        #: The histogram (bin keys, counts, sums), built once the norms exceed EXACT_ROWS.
        self._hist: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def update(
        self,
        pred: np.ndarray,
        target: np.ndarray | None,
        params: Mapping[str, Any],
        *,
        context: Mapping[str, Any] | None = None,
        sample_weight: np.ndarray | None = None,
    ) -> np.ndarray | None:
        """Fold one chunk in; its unscaled per-row gradients ``sw·D`` (pred's shape)."""
        if self.fn is None:
            return None
        self.shape = tuple(pred.shape)
        params, missing = grad_params(self.fn, self.spec, params)
        if missing is not None:  # a parameter the gradient kernel does not know (yet)
            self.fn, self.reason = None, missing
            return None
        ctx = {k: v for k, v in (context or {}).items() if k in self.spec.context}
        own_weights = weighs_rows(self.fn)
        if own_weights:
            ctx["sample_weight"] = sample_weight
        try:
            with np.errstate(all="ignore"):
                if target is None:
                    d = self.fn(pred, **params, **ctx)
                else:
                    d = self.fn(pred, target, **params, **ctx)
        except ValueError as exc:  # this setting has no gradient kernel (yet)
            self.fn, self.reason = None, str(exc)
            return None
        with np.errstate(all="ignore"):
            d = np.asarray(d, dtype=np.float64).reshape(pred.shape)
            if sample_weight is not None and not own_weights:
                d = d * np.asarray(sample_weight, dtype=np.float64).reshape(
                    (-1,) + (1,) * (d.ndim - 1)
                )
        self._fold(d)
        return d

    def _fold(self, d: np.ndarray) -> None:
        flat = np.abs(d.reshape(d.shape[0], -1))
        norms = flat.sum(axis=1)
        finite = np.isfinite(norms)
        self.non_finite += int(norms.size - finite.sum())
        ok = norms[finite]
        self.rows += int(ok.size)
        self.sum_norm += float(ok.sum())
        if ok.size:
            self.max_norm = max(self.max_norm, float(ok.max()))
        if d.ndim > 1 and flat.shape[1] > 1:
            cols = np.where(finite[:, None], flat, 0.0).sum(axis=0)
            self.col_abs = cols if self.col_abs is None else self.col_abs + cols
        self.zeros += int(np.count_nonzero(ok == 0))
        self._keep([ok])

    def _keep(self, parts: list[np.ndarray]) -> None:
        """Keep row norms exactly while they fit in EXACT_ROWS, else in the histogram."""
        if self._norms is not None:
            self._norms += parts
            self._kept += sum(a.size for a in parts)
            if self._kept <= EXACT_ROWS:
                return
            parts, self._norms = self._norms, None
        for a in parts:
            self._add_hist(*_histogram(a))

    def _add_hist(self, keys: np.ndarray, counts: np.ndarray, sums: np.ndarray) -> None:
        if self._hist is not None:
            keys = np.concatenate([self._hist[0], keys])
            counts = np.concatenate([self._hist[1], counts])
            sums = np.concatenate([self._hist[2], sums])
        uniq, inv = np.unique(keys, return_inverse=True)
        self._hist = (uniq, np.bincount(inv, weights=counts), np.bincount(inv, weights=sums))

    def merge(self, other: GradAccumulator) -> GradAccumulator:
        """Fold in the statistics of other rows."""
        if self.rows == 0:
            self.shape = other.shape
        self.rows += other.rows
        self.sum_norm += other.sum_norm
        self.max_norm = max(self.max_norm, other.max_norm)
        self.non_finite += other.non_finite
        self.zeros += other.zeros
        if other.col_abs is not None:
            self.col_abs = other.col_abs if self.col_abs is None else self.col_abs + other.col_abs
        if other._norms is not None:
            self._keep(list(other._norms))
        else:
            self._keep([])
            if self._norms is not None:  # other is past the limit: so is the merge
                parts, self._norms = self._norms, None
                for a in parts:
                    self._add_hist(*_histogram(a))
            if other._hist is not None:
                self._add_hist(*other._hist)
        return self

    # ------------------------------------------------------------------ shares

    def _shares(self) -> tuple[float, float, bool]:
        """(top1pct_share, saturated_share, exact) of the unscaled norms."""
        n = self.rows
        if n == 0 or self.sum_norm == 0:
            return math.nan, (1.0 if n else math.nan), True
        top = math.ceil(n / 100)
        thr = SATURATED * self.max_norm
        if self._norms is not None:
            norms = np.concatenate(self._norms) if self._norms else np.zeros(0)
            largest = np.partition(norms, norms.size - top)[norms.size - top :]
            return float(largest.sum()) / self.sum_norm, float(np.mean(norms < thr)), True
        keys, counts, sums = self._hist if self._hist is not None else (np.zeros(0),) * 3
        order = np.argsort(keys)[::-1]  # largest bins first
        need, total = float(top), 0.0
        for c, sm in zip(counts[order].tolist(), sums[order].tolist()):
            take = min(c, need)
            total += sm * take / c
            need -= take
            if need <= 0:
                break
        below = float(self.zeros) + float(counts[sums / np.maximum(counts, 1) < thr].sum())
        return total / self.sum_norm, below / n, False

    def finalize(
        self,
        *,
        scale: float,
        columns: Sequence[str] | None,
    ) -> tuple[dict[str, Any], list[str]]:
        """The ``grad`` entry of a loss (statistics × ``scale``) and its notes."""
        n = self.rows
        top, sat, exact = self._shares()
        per_class = None
        if self.col_abs is not None and n:
            names = list(columns or [])
            if len(names) != self.col_abs.size:
                names = [str(i) for i in range(self.col_abs.size)]
            per_class = finite_or_none(
                {nm: float(v) * scale / n for nm, v in zip(names, self.col_abs)}
            )
        out = {
            "mean_abs": _finite(scale * self.sum_norm / n) if n else None,
            "max_abs": _finite(scale * self.max_norm) if n else None,
            "top1pct_share": _finite(top),
            "saturated_share": _finite(sat),
            "per_class": per_class,
        }
        notes: list[str] = []
        if self.non_finite:
            out["non_finite_rows"] = self.non_finite
            notes.append(
                f"grad: {self.non_finite} rows have a non-finite gradient (left out of the "
                "statistics)"
            )
        if not exact:
            notes.append(HIST_NOTE)
        return out, notes


def _finite(v: float) -> float | None:
    return v if math.isfinite(v) else None


def grad_scale(
    spec: LossSpec, den: float, value: float | None, reduction: str, *, kden: float | None = None
) -> float:
    """The factor from unscaled terms sw·D to ∂value/∂pred: 1/Σw for a mean (1 for a
    sum; 1/Σk, the kernel weights without the sample weights, for Keras'
    ``sum_over_batch_size`` when ``kden`` is given), times 1/(2·value) for a square-rooted
    mean (rmse)."""
    if reduction == "sum_over_batch_size" and kden is not None:
        den = kden
    scale = 1.0 if reduction == "sum" else (1.0 / den if den else math.nan)
    if spec.finalize == "sqrt":
        scale *= 1.0 / (2.0 * value) if value else math.inf
    return scale


def gradient(
    spec: LossSpec,
    pred: np.ndarray,
    target: np.ndarray | None = None,
    *,
    params: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
    sample_weight: np.ndarray | None = None,
    reduction: str = "mean",
) -> tuple[float, np.ndarray]:
    """(value, ∂value/∂pred) of one loss on arrays held in memory: what
    ``value.backward()`` leaves in ``pred.grad``. A loss without a gradient kernel raises
    ValueError with the reason."""
    from losscli.compute import LossAccumulator, class_counts, input_kind, n_columns

    acc = LossAccumulator(spec, params, input_kind=input_kind(context), reduction=reduction)  # type: ignore[arg-type]
    if acc.needs_class_counts and target is not None:
        acc.set_class_counts(class_counts(target, n_columns(pred), acc.ignore_index))
    acc.update(pred, target, context=context, sample_weight=sample_weight)
    res = acc.finalize()
    g = GradAccumulator(spec)
    d = None
    if g.fn is not None:
        d = g.update(
            pred, target, acc.kernel_params(), context=context, sample_weight=sample_weight
        )
    if d is None:
        raise ValueError(f"{spec.name}: {g.reason or grad_reason(spec)}")
    return float(res.value or math.nan), d * grad_scale(
        spec, acc.partial.den, res.value, reduction, kden=acc.partial.kden
    )


__all__ = [
    "GradAccumulator",
    "grad_function",
    "grad_params",
    "grad_reason",
    "grad_scale",
    "gradient",
]
