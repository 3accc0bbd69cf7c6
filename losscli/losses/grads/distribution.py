"""Gradients of the distribution losses (``losses/distribution.py``) with respect to the
predicted distribution Q, per row (the row value is the sum over classes).

0·log 0 = 0 is differentiated as ``torch.xlogy`` is: a class with P_c = 0 contributes no
gradient to KL and cross-entropy; a log clamped at −100 passes none.
"""

from __future__ import annotations

import numpy as np

from losscli.losses._numerics import LOG_CLAMP
from losscli.losses.grads._common import as_grad_float

__all__ = ["cross_entropy_dist_grad", "js_div_grad", "kl_div_grad"]


def _pq(pred, target):
    q = as_grad_float(pred)
    return q, np.asarray(target, dtype=q.dtype)


def kl_div_grad(
    pred,
    target,
    *,
    reduction: str = "batchmean",
    input: str = "probabilities",
    clip: float | str | None = "none",
):
    """∂Σ P·log(P/Q)/∂Q_c = −P_c/Q_c (0 where P_c = 0). ``input="logits"``: ∂/∂z =
    (ΣP)·softmax(z) − P. ``clip`` c: P and Q clipped to [c, 1] first, no gradient where Q
    is clipped (``torch.clamp`` backward passes at the bounds). ``reduction="mean"``: ÷C."""
    q, p = _pq(pred, target)
    if input == "logits":
        e = np.exp(q - q.max(axis=1, keepdims=True))
        g = p.sum(axis=1, keepdims=True) * (e / e.sum(axis=1, keepdims=True)) - p
    elif clip is not None and not isinstance(clip, str):
        c = float(clip)
        pc, qc = np.clip(p, c, 1.0), np.clip(q, c, 1.0)
        g = np.where((q >= c) & (q <= 1.0), -pc / qc, 0.0)
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where(p == 0, 0.0, -p / q)
    if reduction == "mean" and g.ndim == 2 and g.shape[1]:
        g = g / g.shape[1]
    return g


def js_div_grad(pred, target):
    """∂JS/∂Q_c = ½·log(Q_c/M_c), M = (P + Q)/2 (0 where Q_c = 0, the xlogy limit)."""
    q, p = _pq(pred, target)
    m = 0.5 * (p + q)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(q == 0, 0.0, 0.5 * np.log(q / m))


def cross_entropy_dist_grad(pred, target, *, input: str = "probabilities"):
    """∂(−Σ P·max(log Q, −100))/∂Q_c = −P_c/Q_c where the log is not clamped;
    ``input="logits"``: (ΣP)·softmax(z) − P."""
    q, p = _pq(pred, target)
    if input == "logits":
        e = np.exp(q - q.max(axis=1, keepdims=True))
        return p.sum(axis=1, keepdims=True) * (e / e.sum(axis=1, keepdims=True)) - p
    with np.errstate(divide="ignore", invalid="ignore"):
        g = -p / q
        keep = (np.log(q) >= LOG_CLAMP) & (p != 0)
    return np.where(keep, g, 0.0)
