"""TensorBoard's scalar smoothing, value for value.

A port of ``classicSmoothing`` in TensorBoard's
``tensorboard/webapp/widgets/line_chart_v2/data_transformer.ts`` (the scalar card's
"Smoothing" slider): a first-order IIR filter started from 0 and debiased,

    last ← last·w + (1 − w)·y ;   n ← n + 1 ;   smoothed = last / (1 − wⁿ)

where ``n`` counts the finite points seen so far. A non-finite point (NaN, ±inf) is
passed through as it is and neither counts nor moves the filter. A series whose every
point equals the first is returned untouched (no floating-point noise). ``w`` is
clipped to [0, 1] and a non-finite ``w`` is 0, as in TensorBoard; with ``w = 1`` the
debias weight is 1, so every smoothed point is 0.
"""

from __future__ import annotations

import math

import numpy as np


def tensorboard_smooth(values: np.ndarray, weight: float) -> np.ndarray:
    """``values`` smoothed exactly as TensorBoard's scalar card draws them."""
    y = np.asarray(values, dtype=np.float64)
    w = float(weight) if math.isfinite(weight) else 0.0
    w = max(0.0, min(w, 1.0))
    if y.size == 0:
        return y.copy()
    # "every point == the first": NaN == NaN is false, so a series holding a NaN is
    # never constant (TensorBoard's ``every(point.y == initialYVal)``)
    if bool(np.all(y == y[0])):
        return y.copy()
    out = np.empty_like(y)
    last = 0.0
    n = 0
    for i, v in enumerate(y.tolist()):
        if not math.isfinite(v):
            out[i] = v
            continue
        last = last * w + (1 - w) * v
        n += 1
        debias = 1.0 if w == 1 else 1 - math.pow(w, n)
        out[i] = last / debias
    return out
