"""Distribution-matching losses between a true distribution P and a predicted Q.

Inputs: ``pred`` is Q and ``target`` is P, both ``(n, C)`` with rows that are
probability distributions (values in [0, 1]; compute checks the range). Each kernel
returns :class:`~losscli.losses._reduce.Terms` with one value per row, the sum over the
C classes, so the mean over rows is PyTorch's ``reduction="batchmean"``.

Convention: 0 · log(0 / q) = 0 for every q (the limit, as in ``torch.xlogy`` and
``scipy.special.rel_entr``), so zeros in P never produce NaN.
"""

from __future__ import annotations

import math

import numpy as np

from losscli.losses._numerics import (
    LOG_CLAMP,
    NLL_CLAMP_NOTE,
    float_dtype,
    log_softmax_rows,
    row_sum,
    xlogy,
)
from losscli.losses._reduce import Terms

__all__ = ["cross_entropy", "js_div", "kl_div"]

_LN2 = math.log(2.0)

KL_ZERO_NOTE = "terms with P = Q = 0 count as 0 (0·log 0 = 0); PyTorch's kl_div gives NaN for them"
CE_CLAMP_NOTE = NLL_CLAMP_NOTE


def _p_log_ratio(p: np.ndarray, r_den: np.ndarray, dt: np.dtype) -> np.ndarray:
    """p · log(p / r_den) elementwise (a new array) with 0 · log(0 / anything) = 0."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t = np.divide(p, r_den, dtype=dt)
        np.log(t, out=t)
        t *= p
    if p.size and float(p.min()) == 0.0:
        np.copyto(t, 0.0, where=p == 0)
    return t


def _log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax of logit rows: (z − m) − log Σ e^(z − m) (torch's order)."""
    z = np.asarray(z, dtype=np.float64)
    m, lse = log_softmax_rows(z)
    out = z - m[:, None]
    out -= lse[:, None]
    return out


def kl_div(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    reduction: str = "batchmean",
    input: str = "probabilities",
    clip: float | str | None = "none",
) -> Terms:
    """Kullback–Leibler divergence KL(P ‖ Q) = Σ_c P_c · log(P_c / Q_c) per row.

    One log of the ratio per element. A row whose ratio overflows (Q subnormal) is
    recomputed as Σ P log P − Σ P log Q. Q_c = 0 with P_c > 0 gives +inf, as in PyTorch.
    The mean over rows equals ``torch.nn.functional.kl_div(Q.log(), P,
    reduction="batchmean")``; ``reduction="mean"`` divides each row by C as well (torch's
    mean over every element). ``clip`` a number: P and Q are first clipped to [clip, 1]
    (Keras ``KLDivergence``, 1e-7). Reference: Kullback & Leibler (1951), "On Information and
    Sufficiency".
    """
    if input == "logits":  # F.kl_div(F.log_softmax(z), P): Σ P·log P − Σ P·log q
        p = np.asarray(target, dtype=np.float64)
        rows = row_sum(xlogy(p, p) - p * _log_softmax(pred))
        if reduction == "mean" and rows.size:
            rows /= pred.shape[1]
        return Terms(rows)
    if clip is not None and not isinstance(clip, str):
        # Keras KLDivergence: both distributions clipped to [eps, 1] first
        p = np.clip(np.asarray(target, dtype=np.float64), float(clip), 1.0)
        q = np.clip(np.asarray(pred, dtype=np.float64), float(clip), 1.0)
        rows = row_sum(p * np.log(p / q))
        if reduction == "mean" and rows.size:
            rows /= pred.shape[1]
        return Terms(rows)
    dt = float_dtype(pred, target)
    t = _p_log_ratio(target, pred, dt)
    rows = row_sum(t)
    notes: list[str] = []
    if pred.size and float(pred.min()) == 0.0 and bool(np.any((pred == 0) & (target == 0))):
        notes.append(KL_ZERO_NOTE)
    bad = ~np.isfinite(rows)
    if bad.any():
        p = target[bad].astype(np.float64)
        q = pred[bad].astype(np.float64)
        rows[bad] = (xlogy(p, p) - xlogy(p, q)).sum(axis=1)
    if reduction == "mean" and rows.size:
        rows /= pred.shape[1]
    return Terms(rows, notes=notes)


def js_div(pred: np.ndarray, target: np.ndarray) -> Terms:
    """Jensen–Shannon divergence ½KL(P ‖ M) + ½KL(Q ‖ M), M = (P + Q)/2, per row.

    Symmetric, finite and bounded by log 2 (natural log), so a zero in either
    distribution never makes it infinite. Reference: Lin (1991), "Divergence Measures
    Based on the Shannon Entropy", IEEE Trans. Inf. Theory 37(1).
    """
    dt = float_dtype(pred, target)
    m = np.add(pred, target, dtype=dt)
    m *= 0.5
    a = _p_log_ratio(target, m, dt)
    b = _p_log_ratio(pred, m, dt)
    a += b
    a *= 0.5
    rows = row_sum(a)
    # Rounding can leave a tiny negative sum for identical rows; JS ≥ 0 by definition.
    np.maximum(rows, 0.0, out=rows)
    np.minimum(rows, _LN2, out=rows)
    return Terms(rows)


def cross_entropy(pred: np.ndarray, target: np.ndarray, *, input: str = "probabilities") -> Terms:
    """Cross-entropy H(P, Q) = −Σ_c P_c · log Q_c per row, each log clamped at −100.

    The clamp is PyTorch's convention for logs of probabilities (``BCELoss``); it keeps
    Q_c = 0 finite (a term of at most 100·P_c) and a note says when it changed a value.
    Equals ``torch.nn.functional.cross_entropy(Q.log(), P)`` for rows of Q summing to 1
    and Q > e^−100. H(P, Q) = H(P) + KL(P ‖ Q). ``input="logits"``: Q = softmax of the
    prediction rows, exactly ``F.cross_entropy(z, P)`` with class-probability targets.
    """
    if input == "logits":
        rows = row_sum(np.asarray(target, dtype=np.float64) * _log_softmax(pred))
        np.negative(rows, out=rows)
        return Terms(rows)
    dt = float_dtype(pred, target)
    with np.errstate(divide="ignore"):
        lq = np.log(pred, dtype=dt)
    notes: list[str] = []
    if lq.size and float(lq.min()) < LOG_CLAMP:
        if bool(np.any((lq < LOG_CLAMP) & (target > 0))):
            notes.append(CE_CLAMP_NOTE)
        np.maximum(lq, LOG_CLAMP, out=lq)
    lq *= target
    rows = row_sum(lq)
    np.negative(rows, out=rows)
    return Terms(rows, notes=notes)
