"""Regression losses: per-element terms of a residual e = ŷ − y.

Every kernel takes predictions and targets of the same shape, ``(n,)`` or ``(n, k)`` for
k outputs, and returns :class:`~losscli.losses._reduce.Terms` whose ``loss`` has that
shape; the reducer averages over outputs, then over rows (the mean over all elements, as
``torch.nn.functional.*_loss(reduction="mean")`` and scikit-learn's
``multioutput="uniform_average"`` do). float32 inputs stay float32 here; the reducer
accumulates in float64.

Kernels assume their inputs lie inside the loss's domain (compute checks domains first).
They allocate one or two output-sized arrays and work in place (``out=``), because
these losses are memory-bound.
"""

from __future__ import annotations

import math

import numpy as np

from losscli.losses._numerics import float_dtype
from losscli.losses._reduce import Terms

__all__ = [
    "huber",
    "log_cosh",
    "mae",
    "mape",
    "mse",
    "msle",
    "pinball",
    "poisson_nll",
    "rmse",
    "smooth_l1",
    "smooth_l1_elementwise",
]

_LN2 = math.log(2.0)

#: scikit-learn's MAPE floor for |y|: ``np.finfo(np.float64).eps`` (as a Python float, so
#: float32 inputs stay float32).
MAPE_EPS = float(np.finfo(np.float64).eps)

MAPE_NOTE = (
    "targets with |y| below float64 eps were divided by eps (scikit-learn MAPE convention); "
    "those rows dominate the mean"
)


def output_weighted(terms: Terms, output_weights: float | tuple[float, ...] | str | None) -> Terms:
    """Per-output weights (scikit-learn ``multioutput=[w_1, …, w_k]``): each row becomes
    Σ_j w_j·l_ij / Σ_j w_j, so the mean over rows is Σ_j w_j·mean_i l_ij / Σ_j w_j. The
    per-output breakdown is then gone (one value per row); ``none`` leaves the terms."""
    if output_weights is None or isinstance(output_weights, str):
        return terms
    w = np.asarray(output_weights, dtype=np.float64).reshape(-1)
    loss = terms.loss
    k = loss.shape[1] if loss.ndim == 2 else 1
    if w.size != k:
        raise ValueError(f"output_weights has {w.size} values but there are {k} outputs")
    if not w.sum() > 0:
        raise ValueError("output_weights must not all be 0")
    flat = loss if loss.ndim == 2 else loss[:, None]
    terms.loss = (flat.astype(np.float64, copy=False) @ w) / w.sum()
    return terms


def _residual(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """A new array holding ŷ − y in the result's floating dtype."""
    return np.subtract(pred, target, dtype=float_dtype(pred, target))


def _abs_residual(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    """A new array holding |ŷ − y|."""
    a = _residual(pred, target)
    np.abs(a, out=a)
    return a


def _huber_from_abs(a: np.ndarray, delta: float) -> np.ndarray:
    """Huber terms from absolute residuals ``a`` (overwritten and returned).

    Branch-free: with q = min(a, δ), huber = q·(a − ½q) = ½·q·(2a − q). For a ≤ δ this
    is ½a² and for a > δ it is δ(a − ½δ), rounding exactly like PyTorch's two branches
    (scaling by 2 and ½ is exact).
    """
    q = np.minimum(a, delta)
    np.add(a, a, out=a)
    a -= q
    a *= q
    a *= 0.5
    return a


def mse(
    pred: np.ndarray, target: np.ndarray, *, output_weights: tuple[float, ...] | str = "none"
) -> Terms:
    """Squared error (ŷ − y)² per element; the mean is the MSE.

    ``output_weights``: scikit-learn's ``multioutput`` weights (:func:`output_weighted`).
    Reference: ``torch.nn.MSELoss``; ``sklearn.metrics.mean_squared_error``.
    """
    e = _residual(pred, target)
    np.multiply(e, e, out=e)
    return output_weighted(Terms(e), output_weights)


def rmse(pred: np.ndarray, target: np.ndarray) -> Terms:
    """Squared error (ŷ − y)² per element; RMSE = √(mean of these terms).

    The square root is taken after the (weighted) mean, by the spec's ``finalize="sqrt"``,
    so chunked and weighted evaluation stay exact. Reference:
    ``sklearn.metrics.root_mean_squared_error``.
    """
    return mse(pred, target)


def mae(
    pred: np.ndarray, target: np.ndarray, *, output_weights: tuple[float, ...] | str = "none"
) -> Terms:
    """Absolute error |ŷ − y| per element; the mean is the MAE (L1 loss).

    ``output_weights``: scikit-learn's ``multioutput`` weights (:func:`output_weighted`).
    Reference: ``torch.nn.L1Loss``; ``sklearn.metrics.mean_absolute_error``.
    """
    return output_weighted(Terms(_abs_residual(pred, target)), output_weights)


def huber(pred: np.ndarray, target: np.ndarray, *, delta: float = 1.0) -> Terms:
    """Huber loss: ½e² if |e| ≤ δ, else δ(|e| − ½δ), with e = ŷ − y and δ > 0.

    Quadratic near zero and linear in the tails, so outliers pull on it like on the MAE.
    Reference: Huber (1964), "Robust Estimation of a Location Parameter";
    ``torch.nn.HuberLoss(delta=1.0)``.
    """
    return Terms(_huber_from_abs(_abs_residual(pred, target), float(delta)))


def smooth_l1_elementwise(pred: np.ndarray, target: np.ndarray, *, beta: float) -> np.ndarray:
    """Smooth L1 per element: ½e²/β if |e| < β, else |e| − ½β; β = 0 gives exactly |e|.

    Equal to huber_β(e)/β (``torch.nn.SmoothL1Loss`` documents huber(δ) = δ·smooth_l1(β=δ));
    PyTorch routes β = 0 to the L1 loss, and so does this function.
    Reference: Girshick (2015), "Fast R-CNN"; ``torch.nn.SmoothL1Loss(beta=1.0)``.
    """
    a = _abs_residual(pred, target)
    beta = float(beta)
    if beta == 0.0:
        return a
    _huber_from_abs(a, beta)
    if beta != 1.0:  # x / 1 = x exactly: skip the pass for the default β
        a /= beta
    return a


def smooth_l1(pred: np.ndarray, target: np.ndarray, *, beta: float = 1.0) -> Terms:
    """Smooth L1 loss: ½e²/β if |e| < β, else |e| − ½β (β = 0 → |e|).

    Reference: Girshick (2015), "Fast R-CNN"; ``torch.nn.SmoothL1Loss(beta=1.0)``.
    """
    return Terms(smooth_l1_elementwise(pred, target, beta=beta))


def log_cosh(pred: np.ndarray, target: np.ndarray) -> Terms:
    """log cosh(e) per element, e = ŷ − y, without overflow and accurate for tiny e.

    Mathematically log cosh a = a + softplus(−2a) − log 2 = log1p(2·sinh²(a/2)) for
    a = |e| (Keras ``LogCosh``, optax ``log_cosh`` use the first form, which loses all
    relative precision for |e| ≪ 1 by cancelling against log 2). The second form is
    accurate to a few ulp and is used while sinh² cannot overflow (a below
    ½·log(max float)); above that the softplus term is below the precision of a, so the
    value is a − log 2. Reference: Chen, Chen & Zhang (2019), "Log Hyperbolic Cosine Loss
    Improves Variational Auto-Encoder"; ``keras.losses.LogCosh``.
    """
    a = _abs_residual(pred, target)
    cap = 0.5 * math.log(float(np.finfo(a.dtype).max))
    has_big = bool(a.size) and float(a.max()) > cap
    s = np.multiply(a, 0.5)
    if has_big:
        np.minimum(s, 0.5 * cap, out=s)
    np.sinh(s, out=s)
    np.multiply(s, s, out=s)
    s *= 2.0
    np.log1p(s, out=s)
    if has_big:
        big = a > cap
        s[big] = a[big] - _LN2
    return Terms(s)


def pinball(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    quantile: float = 0.5,
    output_weights: tuple[float, ...] | str = "none",
) -> Terms:
    """Pinball (quantile) loss: max(q·d, (q − 1)·d) with d = y − ŷ (scikit-learn sign).

    Under-prediction (d > 0) costs q per unit, over-prediction 1 − q; the minimiser is the
    q-quantile, and q = 0.5 gives half the MAE. Reference: Koenker & Bassett (1978),
    "Regression Quantiles"; ``sklearn.metrics.mean_pinball_loss(alpha=q)``.
    """
    q = float(quantile)
    d = np.subtract(target, pred, dtype=float_dtype(pred, target))
    neg = np.multiply(d, q - 1.0)
    d *= q
    np.maximum(d, neg, out=d)
    return output_weighted(Terms(d), output_weights)


def msle(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    clip: float | str | None = "none",
    output_weights: tuple[float, ...] | str = "none",
) -> Terms:
    """Squared log error (log1p ŷ − log1p y)² per element; domain ŷ, y > −1.

    ``clip`` a number: both are first raised to at least ``clip`` (Keras
    ``MeanSquaredLogarithmicError`` with its epsilon 1e-7), so negatives count as ~0.
    Reference: ``sklearn.metrics.mean_squared_log_error``.
    """
    dt = float_dtype(pred, target)
    if clip is not None and not isinstance(clip, str):
        pred = np.maximum(pred, float(clip), dtype=dt)
        target = np.maximum(target, float(clip), dtype=dt)
    e = np.log1p(pred, dtype=dt)
    e -= np.log1p(target, dtype=dt)
    np.multiply(e, e, out=e)
    return output_weighted(Terms(e), output_weights)


def mape(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    eps: float = MAPE_EPS,
    percent: bool = False,
    output_weights: tuple[float, ...] | str = "none",
) -> Terms:
    """Absolute percentage error |ŷ − y| / max(|y|, eps) per element, as a fraction.

    eps = ``np.finfo(np.float64).eps`` as in scikit-learn; Keras floors at 1e-7 and
    multiplies by 100 (``percent``). A note is attached when a target fell below eps.
    Reference: ``sklearn.metrics.mean_absolute_percentage_error``;
    ``keras.losses.MeanAbsolutePercentageError``.
    """
    eps = float(eps)
    e = _abs_residual(pred, target)
    den = np.abs(target, dtype=e.dtype)
    notes: list[str] = []
    if den.size and float(den.min()) < eps:
        notes.append(
            MAPE_NOTE
            if eps == MAPE_EPS
            else MAPE_NOTE.replace("float64 eps", f"eps={eps:g}").replace(
                "scikit-learn MAPE convention", "Keras convention"
            )
        )
        np.maximum(den, eps, out=den)
    e /= den
    if percent:
        e *= 100.0
    return output_weighted(Terms(e, notes=notes), output_weights)


def poisson_nll(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    eps: float = 1e-8,
    log_input: bool = False,
    full: bool = False,
) -> Terms:
    """Poisson negative log-likelihood of a rate ŷ ≥ 0: ŷ − y·log(ŷ + eps).

    PyTorch's ``log_input=False, full=False`` form (the log(y!) term is dropped, so values
    can be negative). ``log_input``: ŷ is the log-rate, loss e^ŷ − y·ŷ (torch's default).
    ``full``: adds Stirling's y·log y − y + ½·log(2πy) for y > 1 (torch ``full=True``).
    Reference: ``torch.nn.PoissonNLLLoss(log_input=False, eps=1e-8)``.
    """
    dt = float_dtype(pred, target)
    if log_input:
        out = np.exp(pred, dtype=dt)
        out -= np.multiply(target, pred, dtype=dt)
    else:
        out = np.add(pred, float(eps), dtype=dt)
        np.log(out, out=out)
        out *= target
        np.subtract(pred, out, out=out)
    if full:
        y = np.asarray(target, dtype=dt)
        big = y > 1
        if big.any():
            yb = y[big]
            out[big] += yb * np.log(yb) - yb + 0.5 * np.log(2.0 * math.pi * yb)
    return Terms(out)
