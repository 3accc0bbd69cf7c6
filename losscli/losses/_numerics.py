"""Stable numeric primitives shared by every loss family — one eps policy.

* Logs of probabilities are clamped at ``LOG_CLAMP = -100`` (PyTorch's BCELoss /
  NLL-on-probabilities convention) unless a loss's ``eps`` parameter asks for Keras /
  scikit-learn style clipping of the probabilities instead.
* Logit paths never exponentiate a large positive number: softplus and log-sigmoid use
  ``max(x, 0) + log1p(exp(-|x|))``; log-softmax subtracts the row maximum.
* ``0 · log 0 = 0`` through :func:`xlogy`.
"""

from __future__ import annotations

import numpy as np

#: PyTorch clamps each log-probability at -100 (torch.nn.BCELoss documentation).
LOG_CLAMP = -100.0

FloatArray = np.ndarray


def as_float(a: object) -> np.ndarray:
    """Contiguous floating array; float32 stays float32, everything else becomes float64."""
    arr = np.asarray(a)
    if arr.dtype == np.float32 or arr.dtype == np.float64:
        return np.ascontiguousarray(arr)
    return np.ascontiguousarray(arr, dtype=np.float64)


def softplus(x: np.ndarray) -> np.ndarray:
    """log(1 + e^x) without overflow: max(x, 0) + log1p(exp(-|x|))."""
    out = np.abs(x)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(x, 0)
    return out


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """log σ(x) = -softplus(-x) = min(x, 0) - log1p(exp(-|x|)) (torch's CPU form)."""
    out = np.abs(x)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    np.subtract(np.minimum(x, 0), out, out=out)
    return out


def sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) computed without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """log softmax along ``axis`` with the maximum subtracted (finite for logits of ±1e3)."""
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    shifted = z - m
    lse = np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    shifted -= lse
    return shifted


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """softmax along ``axis`` (exp of :func:`log_softmax`)."""
    return np.exp(log_softmax(z, axis=axis))


def clamped_log(p: np.ndarray, *, floor: float = LOG_CLAMP) -> np.ndarray:
    """log(p) with each value clamped below at ``floor`` (log 0 → floor, no warning)."""
    with np.errstate(divide="ignore"):
        out = np.log(p)
    np.maximum(out, floor, out=out)
    return out


def clamped_log1m(p: np.ndarray, *, floor: float = LOG_CLAMP) -> np.ndarray:
    """log(1 - p) via log1p(-p), clamped below at ``floor``."""
    with np.errstate(divide="ignore"):
        out = np.log1p(-p)
    np.maximum(out, floor, out=out)
    return out


def xlogy(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """x · log(y) with 0 · log(anything) = 0 (torch.xlogy / scipy.special.xlogy)."""
    x = np.asarray(x, dtype=np.result_type(x, y, np.float64))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = x * np.log(y)
    return np.where(x == 0, 0.0, out)


def clip_probabilities(p: np.ndarray, eps: float) -> np.ndarray:
    """Clip probabilities to [eps, 1 - eps] (Keras / scikit-learn convention)."""
    return np.clip(p, eps, 1.0 - eps)


def probs_to_logits(p: np.ndarray) -> np.ndarray:
    """logit(p) = log p - log(1-p), infinite at 0 and 1."""
    with np.errstate(divide="ignore"):
        return np.log(p) - np.log1p(-p)
