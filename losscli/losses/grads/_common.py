"""Helpers shared by the gradient kernels."""

from __future__ import annotations

import math

import numpy as np


def per_row_mean(d: np.ndarray) -> np.ndarray:
    """Element derivatives ``d`` of an ``(n, k…)`` loss whose row value is the mean over
    its k… elements: divided by their number (in place; ``(n,)`` unchanged)."""
    if d.ndim > 1:
        k = math.prod(d.shape[1:])
        if k:
            d /= k
    return d


def sign0(e: np.ndarray) -> np.ndarray:
    """sign(e) with sign(0) = 0 (torch ``abs`` backward: |e| at 0 → 0)."""
    return np.sign(e)


def as_grad_float(a: object) -> np.ndarray:
    """A floating copy-safe view: floating inputs keep their dtype (so a float16 run stays
    float16), everything else becomes float64."""
    arr = np.asarray(a)
    if arr.dtype.kind == "f" or arr.dtype.name == "bfloat16":
        return arr
    return arr.astype(np.float64)
