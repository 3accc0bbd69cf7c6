"""Weight penalties added to a loss: ``--l1 λ`` / ``--l2 λ`` with ``--model-weights``.

Keras convention (``keras.regularizers.L1`` / ``L2``): λ·Σ|w| and λ·Σw², without the
½ that makes λ·w the gradient of SGD weight decay (PyTorch's ``weight_decay=λ`` matches
a penalty of (λ/2)·Σw²). ``weights`` is one array of any shape or a collection of
arrays (one per layer; a mapping such as a loaded ``.npz`` contributes its values).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

Weights = np.ndarray | float | Iterable[np.ndarray] | Mapping[str, np.ndarray]


def _arrays(weights: Weights) -> list[np.ndarray]:
    if isinstance(weights, Mapping):
        items: Iterable[object] = weights.values()
    elif isinstance(weights, (np.ndarray, np.generic, int, float)):
        items = [weights]
    else:
        items = list(weights)
        if items and not any(isinstance(w, (np.ndarray, list, tuple, Mapping)) for w in items):
            items = [np.asarray(items)]  # a flat list of numbers is one array
    return [np.asarray(w, dtype=np.float64) for w in items]


def _check_lam(lam: float) -> float:
    lam = float(lam)
    if math.isnan(lam) or lam < 0:
        raise ValueError(f"penalty strength must be a number >= 0, got {lam!r}")
    return lam


def l1_penalty(weights: Weights, lam: float) -> float:
    """L1 penalty λ·Σ|w| over every weight (Keras ``regularizers.L1(l1=λ)``).

    Encourages sparse weights (Tibshirani, "Regression Shrinkage and Selection via the
    Lasso", 1996).
    """
    lam = _check_lam(lam)
    return lam * math.fsum(float(np.sum(np.abs(w))) for w in _arrays(weights))


def l2_penalty(weights: Weights, lam: float) -> float:
    """L2 penalty λ·Σw² over every weight, no ½ (Keras ``regularizers.L2(l2=λ)``).

    Shrinks weights towards zero (Hoerl & Kennard, "Ridge Regression", 1970). SGD weight
    decay λ corresponds to (λ/2)·Σw², i.e. ``l2_penalty(w, λ / 2)``.
    """
    lam = _check_lam(lam)
    return lam * math.fsum(float(np.sum(np.square(w))) for w in _arrays(weights))
