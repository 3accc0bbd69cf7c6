"""Gradients of the regression losses (``losses/regression.py``) with respect to ŷ.

Each returns ∂l/∂ŷ per element with the predictions' shape, divided by the number of
outputs k for ``(n, k)`` inputs (the row value is the mean over outputs). See
:mod:`losscli.losses.grads` for the conventions.
"""

from __future__ import annotations

import numpy as np

from losscli.losses.grads._common import as_grad_float, per_row_mean, sign0
from losscli.losses.regression import MAPE_EPS

__all__ = [
    "huber_grad",
    "log_cosh_grad",
    "mae_grad",
    "mape_grad",
    "mse_grad",
    "msle_grad",
    "pinball_grad",
    "poisson_nll_grad",
    "smooth_l1_grad",
]


def _outputs(d: np.ndarray, output_weights: tuple[float, ...] | str | None) -> np.ndarray:
    """Element derivatives of a row that is the mean over its k outputs (``none``), or the
    weighted mean Σ_j w_j·l_ij / Σ_j w_j (``output_weights``, scikit-learn multioutput)."""
    if output_weights is None or isinstance(output_weights, str):
        return per_row_mean(d)
    w = np.asarray(output_weights, dtype=np.float64).reshape(-1)
    k = d.shape[1] if d.ndim == 2 else 1
    if w.size != k:
        raise ValueError(f"output_weights has {w.size} values but there are {k} outputs")
    w = w / w.sum()
    return d * (w if d.ndim == 2 else w[0])


def _e(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = as_grad_float(pred)
    return p - np.asarray(target, dtype=p.dtype)


def mse_grad(
    pred: np.ndarray, target: np.ndarray, *, output_weights: tuple[float, ...] | str = "none"
) -> np.ndarray:
    """∂(ŷ − y)²/∂ŷ = 2(ŷ − y) (also rmse's inner term; the engine applies 1/(2√mse))."""
    return _outputs(2.0 * _e(pred, target), output_weights)


def mae_grad(
    pred: np.ndarray, target: np.ndarray, *, output_weights: tuple[float, ...] | str = "none"
) -> np.ndarray:
    """∂|ŷ − y|/∂ŷ = sign(ŷ − y), 0 at e = 0 (torch ``l1_loss`` backward)."""
    return _outputs(sign0(_e(pred, target)), output_weights)


def huber_grad(pred: np.ndarray, target: np.ndarray, *, delta: float = 1.0) -> np.ndarray:
    """e for |e| ≤ δ, else δ·sign(e) (torch ``huber_loss_backward``: clamp(e, −δ, δ))."""
    d = float(delta)
    return per_row_mean(np.clip(_e(pred, target), -d, d))


def smooth_l1_grad(pred: np.ndarray, target: np.ndarray, *, beta: float = 1.0) -> np.ndarray:
    """e/β for |e| < β, else sign(e); β = 0 → sign(e) with 0 at e = 0 (torch
    ``smooth_l1_loss_backward``)."""
    e = _e(pred, target)
    b = float(beta)
    if b == 0.0:
        return per_row_mean(sign0(e))
    return per_row_mean(np.clip(e / b, -1.0, 1.0))


def log_cosh_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """∂ log cosh(e)/∂ŷ = tanh(e)."""
    return per_row_mean(np.tanh(_e(pred, target)))


def pinball_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    quantile: float = 0.5,
    output_weights: tuple[float, ...] | str = "none",
) -> np.ndarray:
    """max(q·d, (q − 1)·d), d = y − ŷ: −q when ŷ < y, 1 − q when ŷ > y, and ½ − q at
    ŷ = y (``torch.maximum`` splits the gradient of a tie evenly)."""
    q = float(quantile)
    e = _e(pred, target)
    g = np.where(e < 0, -q, np.where(e > 0, 1.0 - q, 0.5 - q)).astype(e.dtype, copy=False)
    return _outputs(g, output_weights)


def msle_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    clip: float | str | None = "none",
    output_weights: tuple[float, ...] | str = "none",
) -> np.ndarray:
    """2(log1p ŷ − log1p y)/(1 + ŷ). With ``clip`` c both are first raised to c, and no
    gradient passes where ŷ < c (``torch.clamp(min=c)`` backward: it passes at ŷ = c)."""
    p = as_grad_float(pred)
    y = np.asarray(target, dtype=p.dtype)
    keep = None
    if clip is not None and not isinstance(clip, str):
        c = float(clip)
        keep = p >= c
        p, y = np.maximum(p, c), np.maximum(y, c)
    g = 2.0 * (np.log1p(p) - np.log1p(y)) / (1.0 + p)
    if keep is not None:
        g = np.where(keep, g, 0.0)
    return _outputs(g, output_weights)


def mape_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    eps: float = MAPE_EPS,
    percent: bool = False,
    output_weights: tuple[float, ...] | str = "none",
) -> np.ndarray:
    """sign(ŷ − y)/max(|y|, eps) (0 at e = 0), ×100 with ``percent``."""
    e = _e(pred, target)
    den = np.maximum(np.abs(np.asarray(target, dtype=e.dtype)), float(eps))
    g = sign0(e) / den
    if percent:
        g *= 100.0
    return _outputs(g, output_weights)


def poisson_nll_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    eps: float = 1e-8,
    log_input: bool = False,
    full: bool = False,
) -> np.ndarray:
    """∂(ŷ − y·log(ŷ + eps))/∂ŷ = 1 − y/(ŷ + eps); ``log_input``: ∂(e^ŷ − y·ŷ)/∂ŷ = e^ŷ − y.
    ``full``'s Stirling term depends on y only: it adds no gradient."""
    del full
    p = as_grad_float(pred)
    y = np.asarray(target, dtype=p.dtype)
    if log_input:
        return per_row_mean(np.exp(p) - y)
    return per_row_mean(1.0 - y / (p + float(eps)))
