"""No-skill baselines: the loss of the best constant prediction (SPEC §11).

``no_skill`` of a loss is its value when every row gets the same prediction c, chosen
to minimise that very loss with the same parameters, sample weights and reduction;
``skill = 1 − value / no_skill`` (1 is perfect, 0 is no better than a constant, < 0
is worse). How c is found:

* closed forms where the minimiser is known: mse/rmse → the weighted mean, mae → the
  weighted median, pinball → the weighted q-quantile, msle → expm1 of the mean of
  log1p(y), mape → the median weighted by w/|y|; cross_entropy, brier, kl_div and bce
  without class weights, pos_weight or smoothing → the prior (proper scoring rules);
* otherwise numerically: a golden-section search per coordinate (on a sample of at most
  :data:`SAMPLE` targets first), polished on every target by Newton steps on central
  differences, each step kept only when it lowers the value — the value is then exact
  to ~1e-12 relative for smooth losses. Multiclass constants are searched over logits
  (softmax for probability inputs) coordinate by coordinate;
* none where a constant prediction is not a baseline (segmentation overlaps, embeddings,
  boxes, generative losses), where a constant is perfect by construction (calibration
  errors: a constant at the prior has ECE 0), or where the run could not keep the targets
  (more than :data:`MAX_KEPT` target values): ``None`` with the reason.

Targets are kept as the run reads them (:class:`TargetSample`): classification targets
compressed to their distinct values with summed weights (a few numbers whatever the
file size), regression and multilabel targets as arrays (8 bytes per value).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.registry import LossSpec

#: Most regression/multilabel/distribution target values a run keeps for the baselines
#: (16 MB of float64); ``LOSSCLI_NO_SKILL_MAX_VALUES`` raises it for one run. Beyond it
#: those losses report no baseline, so that a streamed run's memory stays flat.
MAX_KEPT = 2_000_000
MAX_KEPT_ENV = "LOSSCLI_NO_SKILL_MAX_VALUES"


def max_kept() -> int:
    """:data:`MAX_KEPT`, or the non-negative integer in ``LOSSCLI_NO_SKILL_MAX_VALUES``
    (a value that is not one is ignored: the baselines are a report, not a gate)."""
    raw = os.environ.get(MAX_KEPT_ENV, "").strip().replace("_", "")
    return int(raw) if raw.isdigit() else MAX_KEPT


#: Targets the first, coarse search of a numeric baseline looks at.
SAMPLE = 20_000
#: Tasks where a constant prediction is a meaningful baseline.
TASKS = ("regression", "binary", "multiclass", "multilabel", "distribution")
#: Logit range searched for score inputs.
LOGIT_BOUND = 40.0

_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


class TargetSample:
    """Every target row of a run (with its weight), kept compactly and mergeable."""

    def __init__(self, task: str) -> None:
        self.task = task
        self.compress = task in ("binary", "multiclass")
        self.parts: list[tuple[np.ndarray, np.ndarray | None]] = []
        self.kept = 0
        self.limit = max_kept()
        self.overflow = False
        self.sorted = False
        #: statistics shared by the losses' searches (the per-column medians)
        self.memo: dict[str, Any] = {}

    def add(self, target: np.ndarray | None, weight: np.ndarray | None) -> None:
        if target is None or self.overflow:
            return
        t = np.asarray(target)
        w = None if weight is None else np.asarray(weight, dtype=np.float64)
        if self.compress:
            ones = np.ones(t.shape[0]) if w is None else w
            self.parts.append(_distinct(t.reshape(t.shape[0], -1), ones))
            if len(self.parts) > 16:
                self.parts = [self._joined()]
            return
        self.kept += t.size
        if self.kept > self.limit:
            self.overflow, self.parts = True, []
            return
        # copies: a chunk's target column may be a view that holds its whole table
        self.parts.append((t.copy(), None if w is None else w.copy()))

    def merge(self, other: TargetSample) -> TargetSample:
        self.kept += other.kept
        # the limit holds for the merged sample too: partitions under it each can sum to
        # far more (32 partitions of 625k rows kept 20M values on the driver)
        self.overflow = self.overflow or other.overflow or self.kept > self.limit
        self.parts = [] if self.overflow else self.parts + other.parts
        self.sorted = False  # the other's rows are not in order with these
        if self.compress and len(self.parts) > 16:
            self.parts = [self._joined()]
        return self

    def _joined(self) -> tuple[np.ndarray, np.ndarray | None]:
        t = np.concatenate([p[0] for p in self.parts])
        if any(p[1] is None for p in self.parts):
            w = None
        else:
            w = np.concatenate([p[1] for p in self.parts])  # type: ignore[misc]
        if self.compress:
            return _distinct(t.reshape(t.shape[0], -1), np.ones(t.shape[0]) if w is None else w)
        return t, w

    def arrays(self) -> tuple[np.ndarray, np.ndarray | None] | None:
        """The targets and their weights (compressed for classification: the summed
        weights of each distinct target; None when every row weighs 1), or None."""
        if self.overflow or not self.parts:
            return None
        if len(self.parts) > 1:
            self.parts = [self._joined()]  # joined once, shared by every loss
        t, w = self.parts[0]
        if self.compress:
            t = t[:, 0] if t.shape[1] == 1 else t
        elif t.ndim == 1 and not self.sorted:
            # a constant prediction's loss does not depend on the rows' order: sorted in
            # place, quantiles are lookups and no copy of the targets is ever made
            if w is None:
                t.sort()
            else:
                order = np.argsort(t, kind="stable")
                t, w = t[order], w[order]
                self.parts = [(t, w)]
            self.sorted = True
        return t, w


def _distinct(t: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vals, inv = np.unique(t, axis=0, return_inverse=True)
    return vals, np.bincount(inv.reshape(-1), weights=w, minlength=vals.shape[0])


@dataclass(frozen=True)
class Baseline:
    """A loss's no-skill value (None with the reason when there is none)."""

    value: float | None
    reason: str | None = None


Value = Callable[[np.ndarray, np.ndarray, np.ndarray | None], float]


def baseline(
    spec: LossSpec,
    params: Mapping[str, Any],
    sample: TargetSample,
    *,
    n_columns: int,
    from_logits: bool,
    evaluate: Value,
) -> Baseline:
    """The no-skill value of ``spec`` over the targets in ``sample``. ``evaluate(pred,
    target, weight)`` computes the loss (same params, reduction) on arrays;
    ``n_columns`` is the width of a prediction row."""
    if sample.task not in TASKS:
        return Baseline(None, f"no constant-prediction baseline for {sample.task} losses")
    if spec.finalize in ("ece", "mce"):
        return Baseline(None, "a constant prediction at the prior is perfectly calibrated")
    if sample.overflow:
        return Baseline(
            None,
            f"more than {sample.limit:,} target values: not kept, so that memory stays flat "
            f"(set {MAX_KEPT_ENV} to raise the limit)",
        )
    got = sample.arrays()
    if got is None:
        return Baseline(None, "no targets")
    t, w = got
    search = _Search(t, w, n_columns, sample.task, from_logits, evaluate, sample.memo)
    c = _closed_form(spec, params, search)
    value = search.value(c) if c is not None else search.minimum()
    return Baseline(
        value if math.isfinite(value) else None, None if math.isfinite(value) else "not finite"
    )


# --------------------------------------------------------------------------- closed forms


def _closed_form(spec: LossSpec, params: Mapping[str, Any], s: _Search) -> np.ndarray | None:
    """The minimising constant where it is known, in the prediction's units, or None."""
    name, task = spec.name, s.task
    if task == "regression":
        y, w = s.columns(), s.weights
        if name in ("mse", "rmse"):
            return np.array([_wmean(col, w) for col in y])
        if name == "mae":
            return s.medians()
        if name == "pinball":
            q = float(params.get("quantile", 0.5))
            return np.array([_wquantile(col, w, q) for col in y])
        if name == "msle" and all(col.min() > -1 for col in y):
            return np.array([math.expm1(_wmean(np.log1p(col), w)) for col in y])
        if name == "mape":
            return np.array([_wquantile(col, w, 0.5, per_abs=True) for col in y])
        return None
    plain = not any(_set(params.get(k)) for k in ("weight", "label_smoothing", "pos_weight", "eps"))
    if name in ("cross_entropy", "brier", "kl_div", "bce") and plain and task != "distribution":
        return s.scores(s.prior())
    if name in ("cross_entropy", "kl_div") and task == "distribution" and plain:
        return s.scores(np.array([_wmean(col, s.weights) for col in s.columns()]))
    return None


def _set(v: Any) -> bool:
    """Whether a parameter moves the minimiser away from the prior."""
    if v is None or isinstance(v, str):
        return v not in (None, "none")
    if isinstance(v, (list, tuple)):
        return True
    return float(v) not in (0.0, 1.0)


def _wmean(y: np.ndarray, w: np.ndarray | None) -> float:
    return float(np.mean(y)) if w is None else float(np.dot(w, y) / np.sum(w))


#: Rows per block when a weighted quantile scans sorted targets (bounded temporaries).
_SCAN = 1 << 20


def _wquantile(y: np.ndarray, w: np.ndarray | None, q: float, *, per_abs: bool = False) -> float:
    """A minimiser of Σ w·ρ_q(y − c): the smallest y whose cumulative weight reaches q·W,
    with weights w (None: 1) divided by |y| when ``per_abs`` (mape). Sorted targets (1-D
    regression, see :meth:`TargetSample.arrays`) are scanned block by block; others are
    selected in linear time (equal weights) or sorted."""
    n = y.size
    if not per_abs and (w is None or np.all(w == w[0])):
        k = min(max(math.ceil(q * n) - 1, 0), n - 1)
        if n < 2 or (bool(y[0] <= y[-1]) and _is_sorted(y)):
            return float(y[k])
        return float(np.partition(y, k)[k])
    if not _is_sorted(y):
        order = np.argsort(y, kind="stable")
        y = y[order]
        w = None if w is None else w[order]

    def block(i: int) -> np.ndarray:
        part = np.ones(min(_SCAN, n - i)) if w is None else w[i : i + _SCAN]
        return part / np.maximum(np.abs(y[i : i + _SCAN]), 1e-300) if per_abs else part

    total = sum(float(block(i).sum()) for i in range(0, n, _SCAN))
    seen = 0.0
    for i in range(0, n, _SCAN):
        cw = np.cumsum(block(i)) + seen
        k = int(np.searchsorted(cw, q * total, side="left"))
        if k < cw.size:
            return float(y[i + k])
        seen = float(cw[-1])
    return float(y[-1])


def _is_sorted(y: np.ndarray) -> bool:
    return bool(np.all(y[:-1] <= y[1:])) if y.size > 1 else True


# --------------------------------------------------------------------------- numeric search


class _Search:
    """The loss of a constant prediction as a function of the constant's coordinates."""

    def __init__(
        self,
        t: np.ndarray,
        w: np.ndarray | None,
        n_columns: int,
        task: str,
        from_logits: bool,
        evaluate: Value,
        memo: dict[str, Any] | None = None,
    ) -> None:
        self.memo = memo if memo is not None else {}
        self.t, self.k, self.task = t, n_columns, task
        #: weights passed to the loss (None: every row 1 — the unweighted fast path)
        self.weights = w
        self.from_logits = from_logits
        self.evaluate = evaluate
        self.logit_space = task in ("multiclass", "distribution")

    # -- the constant's representation
    def columns(self) -> list[np.ndarray]:
        if "columns" not in self.memo:
            t = self.t.reshape(self.t.shape[0], -1).astype(np.float64, copy=False)
            self.memo["columns"] = [np.ascontiguousarray(t[:, j]) for j in range(t.shape[1])]
        return self.memo["columns"]

    def medians(self) -> np.ndarray:
        if "median" not in self.memo:
            self.memo["median"] = np.array(
                [_wquantile(c, self.weights, 0.5) for c in self.columns()]
            )
        return self.memo["median"]

    def prior(self) -> np.ndarray:
        """Weighted class frequencies (multiclass) or label means (binary, multilabel)."""
        if self.task == "multiclass":
            idx = self.t.astype(np.int64).reshape(-1)
            ok = (idx >= 0) & (idx < self.k)
            w = None if self.weights is None else self.weights[ok]
            p = np.bincount(idx[ok], weights=w, minlength=self.k)[: self.k].astype(float)
            return p / p.sum()
        return np.array([_wmean(col, self.weights) for col in self.columns()])

    def scores(self, p: np.ndarray) -> np.ndarray:
        """Probabilities ``p`` as the search's coordinates: logits for multiclass and
        distribution constants (a softmax makes them probabilities again for probability
        inputs), else the predictions' own kind (probabilities, or logit p for logits)."""
        tiny = np.finfo(np.float64).tiny
        if self.logit_space:
            return np.log(np.maximum(p, tiny))
        if not self.from_logits:
            return p
        q = np.clip(p, tiny, 1.0 - np.finfo(np.float64).eps)
        return np.log(q) - np.log1p(-q)

    def _pred(self, c: np.ndarray, n: int) -> np.ndarray:
        row = c
        if self.logit_space and not self.from_logits:
            z = c - c.max()
            row = np.exp(z) / np.exp(z).sum()
        # read-only views with stride 0: no memory per row (the kernels never write
        # into their inputs)
        if self.task in ("regression", "binary") and self.k == 1:
            return np.broadcast_to(np.float64(row[0]), (n,))
        return np.broadcast_to(row, (n, row.size))

    def value(self, c: np.ndarray, sub: slice | None = None) -> float:
        t, w = self.t, self.weights
        if sub is not None:
            t, w = t[sub], (None if w is None else w[sub])
        with np.errstate(all="ignore"):
            return float(
                self.evaluate(self._pred(np.asarray(c, dtype=np.float64), t.shape[0]), t, w)
            )

    # -- the search
    def bounds(self, j: int) -> tuple[float, float]:
        if self.logit_space or self.from_logits:
            return -LOGIT_BOUND, LOGIT_BOUND
        if self.task in ("binary", "multilabel"):
            return 0.0, 1.0
        col = self.columns()[j]
        return float(col.min()), float(col.max())

    def start(self) -> np.ndarray:
        if self.logit_space:
            p = (
                self.prior()
                if self.task == "multiclass"
                else np.array([_wmean(col, self.weights) for col in self.columns()])
            )
            return self.scores(p)
        if self.task == "regression":
            return self.medians().copy()
        return self.scores(np.clip(self.prior(), 1e-6, 1 - 1e-6))

    def minimum(self) -> float:
        n = self.t.shape[0]
        sub = slice(None, None, max(1, n // SAMPLE)) if n > SAMPLE else None
        c = self.start()
        sweeps = 1 if self.k == 1 or not self.logit_space else 30
        for _ in range(sweeps):
            before = self.value(c, sub)
            for j in range(c.size):
                c[j] = self._golden(c, j, sub)
            if abs(before - self.value(c, sub)) <= 1e-15 * max(1.0, abs(before)):
                break
        return self._polish(c)

    def _golden(self, c: np.ndarray, j: int, sub: slice | None) -> float:
        lo, hi = self.bounds(j)
        if not hi > lo:
            return lo

        def f(x: float) -> float:
            trial = c.copy()
            trial[j] = x
            v = self.value(trial, sub)
            return v if math.isfinite(v) else math.inf

        a, b = lo, hi
        x1, x2 = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
        f1, f2 = f(x1), f(x2)
        tol = 1e-12 * max(1.0, abs(lo), abs(hi))
        for _ in range(200):
            if b - a <= tol:
                break
            if f1 <= f2:
                b, x2, f2 = x2, x1, f1
                x1 = b - _GOLDEN * (b - a)
                f1 = f(x1)
            else:
                a, x1, f1 = x1, x2, f2
                x2 = a + _GOLDEN * (b - a)
                f2 = f(x2)
        best = min((f(lo), lo), (f1, x1), (f2, x2), (f(hi), hi))
        return best[1]

    def _polish(self, c: np.ndarray) -> float:
        """Newton steps on central differences over every target, per coordinate, each
        kept only when it lowers the value; the best value seen. From the sample's
        optimum two or three steps reach the full data's optimum to ~1e-10 of the
        targets' range, far below what moves the value at 1e-12."""
        best = self.value(c)
        for j in range(c.size):
            lo, hi = self.bounds(j)
            scale = max(1e-12, hi - lo)
            h = 1e-3 * scale
            for _ in range(4):
                up, down = c.copy(), c.copy()
                up[j] += h
                down[j] -= h
                fu, fd = self.value(up), self.value(down)
                curv = (fu - 2 * best + fd) / (h * h)
                if not (math.isfinite(curv) and curv > 0):
                    break
                step = (fu - fd) / (2 * h) / curv
                if 0.5 * curv * step * step <= 1e-13 * abs(best):
                    break  # the step could lower the value by less than 1e-13 of it
                trial = c.copy()
                trial[j] = min(max(c[j] - step, lo), hi)
                v = self.value(trial)
                if not v < best:
                    break
                c, best = trial, v
                if abs(step) < 1e-9 * scale:
                    break
                h = max(abs(step), 1e-7 * scale)
        return best
