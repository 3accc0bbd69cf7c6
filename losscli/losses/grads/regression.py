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


def _e(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    p = as_grad_float(pred)
    return p - np.asarray(target, dtype=p.dtype)


def mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """∂(ŷ − y)²/∂ŷ = 2(ŷ − y) (also rmse's inner term; the engine applies 1/(2√mse))."""
    return per_row_mean(2.0 * _e(pred, target))


def mae_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """∂|ŷ − y|/∂ŷ = sign(ŷ − y), 0 at e = 0 (torch ``l1_loss`` backward)."""
    return per_row_mean(sign0(_e(pred, target)))


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


def pinball_grad(pred: np.ndarray, target: np.ndarray, *, quantile: float = 0.5) -> np.ndarray:
    """max(q·d, (q − 1)·d), d = y − ŷ: −q when ŷ < y, 1 − q when ŷ > y, and ½ − q at
    ŷ = y (``torch.maximum`` splits the gradient of a tie evenly)."""
    q = float(quantile)
    e = _e(pred, target)
    g = np.where(e < 0, -q, np.where(e > 0, 1.0 - q, 0.5 - q)).astype(e.dtype, copy=False)
    return per_row_mean(g)


def msle_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """2(log1p ŷ − log1p y)/(1 + ŷ)."""
    p = as_grad_float(pred)
    r = np.log1p(p) - np.log1p(np.asarray(target, dtype=p.dtype))
    return per_row_mean(2.0 * r / (1.0 + p))


def mape_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """sign(ŷ − y)/max(|y|, eps) (0 at e = 0)."""
    e = _e(pred, target)
    den = np.maximum(np.abs(np.asarray(target, dtype=e.dtype)), MAPE_EPS)
    return per_row_mean(sign0(e) / den)


def poisson_nll_grad(pred: np.ndarray, target: np.ndarray, *, eps: float = 1e-8) -> np.ndarray:
    """∂(ŷ − y·log(ŷ + eps))/∂ŷ = 1 − y/(ŷ + eps)."""
    p = as_grad_float(pred)
    y = np.asarray(target, dtype=p.dtype)
    return per_row_mean(1.0 - y / (p + float(eps)))
