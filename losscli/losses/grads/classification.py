"""Gradients of the classification losses (``losses/classification.py``) with respect to
the predictions as given (probabilities or logits).

Binary and multilabel gradients are per element (divided by the number of labels L for
``(n, L)`` inputs); multiclass gradients are ``(n, C)`` rows of ∂(w_y·l)/∂z. Where torch
has an analytic backward the same formula is used, so the values match
``pred.grad`` to the last bits: BCE with logits is σ(x) − y (with ``pos_weight``:
(pw·y + 1 − y)·σ(x) − pw·y); BCE on probabilities is (p − y)/max(p(1 − p), 1e-12)
(``binary_cross_entropy_backward``), finite even at p ∈ {0, 1}. Elsewhere the chain rule
of the loss's own torch expression, with torch's conventions at kinks (``relu``: 0 at 0;
a clamped log passes no gradient where it clamps; ``torch.max(dim)`` sends the gradient to
the first maximum).
"""

from __future__ import annotations

import numpy as np

from losscli.losses._numerics import LOG_CLAMP, log_softmax_rows, sigmoid, softmax
from losscli.losses.classification import (
    _eps_or_none,
    _kept_rows,
    _per_class_alpha,
    _resolve_class_weight,
)
from losscli.losses.grads._common import as_grad_float, per_row_mean

__all__ = [
    "bce_grad",
    "brier_grad",
    "brier_multiclass_grad",
    "cross_entropy_grad",
    "focal_grad",
    "focal_multiclass_grad",
    "hinge_grad",
    "kl_div_multiclass_grad",
    "multi_hinge_grad",
    "multi_margin_grad",
    "squared_hinge_grad",
]

#: torch's ``EPSILON`` in ``binary_cross_entropy_backward`` (aten/src/ATen/native/Loss.cpp):
#: a float ``1e-12``, so 9.999999960041972e-13 once widened to double (measured: the
#: gradient at p = 0, y = 1 of a sum is −1.0000000039958e12 in float64).
BCE_BACKWARD_EPS = float(np.float32(1e-12))


def _xy(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = as_grad_float(pred)
    return x, np.asarray(target, dtype=x.dtype)


def _bce_prob_grad(p: np.ndarray, y: np.ndarray, pw: float) -> np.ndarray:
    """∂BCE/∂p on probabilities, torch's backward: (p − y)/max(p(1 − p), 1e-12); with a
    positive weight pw the numerator is pw·y·(p − 1) + (1 − y)·p (the same denominator)."""
    den = np.maximum((1.0 - p) * p, BCE_BACKWARD_EPS)
    num = p - y if pw == 1.0 else pw * y * (p - 1.0) + (1.0 - y) * p
    return num / den


def _bce_logit_grad(x: np.ndarray, y: np.ndarray, pw: float) -> np.ndarray:
    """∂BCEWithLogits/∂x as torch's backward writes it."""
    s = sigmoid(x)
    if pw == 1.0:
        return s - y
    t = pw * y
    return (t + 1.0 - y) * s - t


def bce_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    pos_weight: float = 1.0,
    label_smoothing: float = 0.0,
    eps: float | str | None = "none",
    weight: float | tuple[float, ...] | str | None = "none",
    from_logits: bool = False,
) -> np.ndarray:
    """∂BCE/∂prediction per element (smoothed targets y(1−ε) + ε/2 as the loss uses).
    With ``eps`` the probabilities are clipped to [eps, 1 − eps] first, and no gradient
    passes where the clip acts (``torch.clamp``'s backward). ``weight`` (one number or
    one per label) multiplies each element's gradient, as torch's ``BCELoss(weight)``."""
    x, y = _xy(pred, target)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    pw = float(pos_weight)
    eps_value = _eps_or_none(eps)
    if from_logits:
        g = _bce_logit_grad(x, y, pw)
    elif eps_value is None:
        g = _bce_prob_grad(x, y, pw)
    else:
        pc = np.clip(x, eps_value, 1.0 - eps_value)
        g = -pw * y / pc + (1.0 - y) / (1.0 - pc)
        inside = (x >= eps_value) & (x <= 1.0 - eps_value)
        g = np.where(inside, g, 0.0)
    return per_row_mean(_label_weighted_grad(g, weight))


def _label_weighted_grad(
    g: np.ndarray, weight: float | tuple[float, ...] | str | None
) -> np.ndarray:
    """``g`` times torch's element ``weight`` (a number, or one per label column)."""
    if weight is None or isinstance(weight, str):
        return g
    w = np.asarray(weight, dtype=np.float64).reshape(-1)
    if w.size == 1:
        return g * w[0]
    labels = g.shape[1] if g.ndim >= 2 else 1
    if w.size != labels:
        raise ValueError(f"bce.weight has {w.size} values but the predictions have {labels} labels")
    return g * w.reshape((1, labels) + (1,) * (g.ndim - 2))


def _pow_grad(base: np.ndarray, gamma: float) -> np.ndarray:
    """∂ base^γ/∂base = γ·base^(γ−1), 0 when γ = 0 (torch ``pow_backward``)."""
    if gamma == 0:
        return np.zeros_like(base)
    with np.errstate(divide="ignore", invalid="ignore"):
        return gamma * base ** (gamma - 1.0)


def focal_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    label_smoothing: float = 0.0,
    eps: float | str | None = "none",
    from_logits: bool = False,
) -> np.ndarray:
    """∂FL/∂prediction per element, FL = α_t·(1 − p_t)^γ·ce, by the chain rule of
    torchvision's ``sigmoid_focal_loss`` (logits) or of the same expression with the
    −100-clamped BCE on probabilities. ``label_smoothing`` smooths y before everything;
    ``eps`` (Keras) takes ce of p clipped to [eps, 1 − eps]: no ce gradient passes where
    the clip acts, p_t keeps the unclipped p."""
    x, y = _xy(pred, target)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    eps_value = _eps_or_none(eps)
    if eps_value is not None:
        p = sigmoid(x) if from_logits else x
        dp = p * (1.0 - p) if from_logits else np.ones_like(p)
        pc = np.clip(p, eps_value, 1.0 - eps_value)
        ce = -(y * np.log(pc) + (1.0 - y) * np.log1p(-pc))
        inside = (p >= eps_value) & (p <= 1.0 - eps_value)
        dce = np.where(inside, -y / pc + (1.0 - y) / (1.0 - pc), 0.0) * dp
    elif from_logits:
        p = sigmoid(x)
        ce = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
        dce = p - y
        dp = p * (1.0 - p)
    else:
        p = x
        with np.errstate(divide="ignore"):
            ce = -(
                y * np.maximum(np.log(p), LOG_CLAMP)
                + (1.0 - y) * np.maximum(np.log1p(-p), LOG_CLAMP)
            )
        dce = _bce_prob_grad(p, y, 1.0)
        dp = np.ones_like(p)
    one_minus_pt = 1.0 - (p * y + (1.0 - p) * (1.0 - y))
    g = dce * one_minus_pt**gamma
    g -= ce * _pow_grad(one_minus_pt, gamma) * (2.0 * y - 1.0) * dp
    if alpha >= 0:
        g *= alpha * y + (1.0 - alpha) * (1.0 - y)
    return per_row_mean(g)


def _margin(pred: np.ndarray, target: np.ndarray, from_logits: bool, scores: str = "mapped"):
    x, y = _xy(pred, target)
    t = 2.0 * y - 1.0
    raw = from_logits or scores == "raw"
    s, ds = (x, 1.0) if raw else (2.0 * x - 1.0, 2.0)
    return s, t, ds


def hinge_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    margin: float = 1.0,
    scores: str = "mapped",
    from_logits: bool = False,
) -> np.ndarray:
    """∂max(0, m − t·s)/∂prediction: −t·ds where the margin is violated, 0 elsewhere and
    at the kink (``relu``)."""
    s, t, ds = _margin(pred, target, from_logits, scores)
    return per_row_mean(np.where(margin - t * s > 0, -t * ds, 0.0))


def squared_hinge_grad(
    pred: np.ndarray, target: np.ndarray, *, scores: str = "mapped", from_logits: bool = False
) -> np.ndarray:
    """∂max(0, 1 − t·s)²/∂prediction = −2·max(0, 1 − t·s)·t·ds."""
    s, t, ds = _margin(pred, target, from_logits, scores)
    return per_row_mean(-2.0 * np.maximum(1.0 - t * s, 0.0) * t * ds)


def brier_grad(pred: np.ndarray, target: np.ndarray, *, from_logits: bool = False) -> np.ndarray:
    """2(p − y), times σ'(x) = σ(1 − σ) for logits."""
    x, y = _xy(pred, target)
    if from_logits:
        p = sigmoid(x)
        return per_row_mean(2.0 * (p - y) * p * (1.0 - p))
    return per_row_mean(2.0 * (x - y))


# --------------------------------------------------------------------------- multiclass


def _onehot(y: np.ndarray, c: int, dtype: np.dtype) -> np.ndarray:
    out = np.zeros((y.shape[0], c), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1.0
    return out


def _labels(target: np.ndarray) -> np.ndarray:
    return np.asarray(target).astype(np.int64, copy=False).reshape(-1)


def _nll_grad(z: np.ndarray, q: np.ndarray, from_logits: bool) -> np.ndarray:
    """∂(−Σ_c q_c·log p_c)/∂prediction of each row: (Σq)·softmax(z) − q for logits,
    −q_c/P_c for probabilities (0 where the log is clamped at −100)."""
    if from_logits:
        return q.sum(axis=1, keepdims=True) * softmax(z) - q
    with np.errstate(divide="ignore", invalid="ignore"):
        log_p = np.log(z)
        g = -q / z
    return np.where((log_p >= LOG_CLAMP) & (q != 0), g, 0.0)


def cross_entropy_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    label_smoothing: float = 0.0,
    weight: float | tuple[float, ...] | str | None = "none",
    ignore_index: int | str | None = "none",
    eps: float | str | None = "none",
    normalize: bool = False,
    from_logits: bool = False,
) -> np.ndarray:
    """∂(w_y·l)/∂z of each row: with q = (1 − ε)·w_y·onehot_y + (ε/C)·w (w = 1 without
    class weights), the row carries −Σ_c q_c·log p_c; ignored rows and rows of class
    weight 0 carry nothing. Probabilities with ``normalize`` go through P/ΣP
    (∂/∂z_j = (g_j − Σ_k g_k·p_k)/ΣP), with ``eps`` through the clip to [eps, 1 − eps]
    (no gradient where it acts)."""
    z = as_grad_float(pred)
    eps_value = None if from_logits else _eps_or_none(eps)
    if not from_logits and (normalize or eps_value is not None):
        return _prepared_grad(
            z, target, eps_value, normalize, label_smoothing, weight, ignore_index
        )
    y = _labels(target)
    c = int(z.shape[1])
    valid = _kept_rows(y, ignore_index)
    y_safe = np.where(valid, y, 0) if valid is not None else y
    w_class = _resolve_class_weight(weight, y if valid is None else y[valid], c)
    w = np.ones(c) if w_class is None else w_class
    eps = float(label_smoothing)
    w_y = w[y_safe]
    q = _onehot(y_safe, c, z.dtype) * ((1.0 - eps) * w_y)[:, None]
    if eps:
        q += (eps / c) * w[None, :]
    keep = w_y != 0
    if valid is not None:
        keep &= valid
    q[~keep] = 0.0
    return _nll_grad(z, q, from_logits)


def _prepared_grad(z, target, eps_value, normalize, label_smoothing, weight, ignore_index):
    """Probability cross-entropy gradient through ``normalize`` and the ``eps`` clip."""
    total = z.sum(axis=1, keepdims=True) if normalize else None
    p = z / total if normalize else z
    pc = p
    if eps_value is not None:
        pc = np.clip(p, eps_value, 1.0 - eps_value)
    g = cross_entropy_grad(
        pc,
        target,
        label_smoothing=label_smoothing,
        weight=weight,
        ignore_index=ignore_index,
    )
    if eps_value is not None:
        g = np.where((p >= eps_value) & (p <= 1.0 - eps_value), g, 0.0)
    if total is not None:
        g = (g - (g * p).sum(axis=1, keepdims=True)) / total
    return g


def focal_multiclass_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    alpha: float | tuple[float, ...] = 0.25,
    gamma: float = 2.0,
    eps: float | str | None = "none",
    normalize: bool = False,
    from_logits: bool = False,
) -> np.ndarray:
    """∂(−α_y·(1 − p_y)^γ·log p_y)/∂prediction: through log-softmax for logits
    (g_j = D·(δ_jy − p_j)), on the true column only for probabilities. With ``eps``
    (Keras): p = softmax(z) or P (÷ΣP with ``normalize``), clipped to [eps, 1 − eps] for
    both factors; no gradient where the clip acts, then back through the row sum and the
    softmax Jacobian."""
    z = as_grad_float(pred)
    y = _labels(target)
    n, c = z.shape
    a = _per_class_alpha(alpha, c)
    a_y = a[y] if isinstance(a, np.ndarray) else a
    rows = np.arange(n)
    eps_value = _eps_or_none(eps)
    if eps_value is not None:
        raw = softmax(z) if from_logits else z
        total = raw.sum(axis=1, keepdims=True) if normalize else None
        p = raw / total if normalize else raw
        p_y = p[rows, y]
        pc = np.clip(p_y, eps_value, 1.0 - eps_value)
        d = -a_y * ((1.0 - pc) ** gamma / pc - _pow_grad(1.0 - pc, gamma) * np.log(pc))
        d = np.where((p_y >= eps_value) & (p_y <= 1.0 - eps_value), d, 0.0)
        g = np.zeros_like(p)
        g[rows, y] = d
        if total is not None:
            g = (g - (g * p).sum(axis=1, keepdims=True)) / total
        if from_logits:
            g = raw * (g - (g * raw).sum(axis=1, keepdims=True))
        return g
    if from_logits:
        m, lse = log_softmax_rows(z)
        lp = z[rows, y] - m - lse
        p_y = np.exp(lp)
        d = -a_y * ((1.0 - p_y) ** gamma - _pow_grad(1.0 - p_y, gamma) * p_y * lp)
        g = -d[:, None] * softmax(z)
        g[rows, y] += d
        return g
    p_y = z[rows, y]
    with np.errstate(divide="ignore"):
        raw = np.log(p_y)
        inv = np.where(raw >= LOG_CLAMP, 1.0 / p_y, 0.0)
    lp = np.maximum(raw, LOG_CLAMP)
    d = -a_y * ((1.0 - p_y) ** gamma * inv - _pow_grad(1.0 - p_y, gamma) * lp)
    g = np.zeros_like(z)
    g[rows, y] = d
    return g


def multi_hinge_grad(
    pred: np.ndarray, target: np.ndarray, *, from_logits: bool = False
) -> np.ndarray:
    """max(0, 1 + max_{j≠y} s_j − s_y): +1 at the first runner-up j, −1 at y, where the
    margin is violated (0 at the kink)."""
    del from_logits
    s = as_grad_float(pred)
    y = _labels(target)
    n, c = s.shape
    g = np.zeros_like(s)
    if c < 2:
        return g
    rows = np.arange(n)
    others = np.array(s, copy=True)
    others[rows, y] = -np.inf
    j = np.argmax(others, axis=1)
    active = 1.0 + others[rows, j] - s[rows, y] > 0
    g[rows[active], j[active]] += 1.0
    g[rows[active], y[active]] -= 1.0
    return g


def brier_multiclass_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    scale_by_half: bool | str = "false",
    from_logits: bool = False,
) -> np.ndarray:
    """2(p − onehot_y) (halved with ``scale_by_half``); for logits through the softmax
    Jacobian: p ⊙ (v − p·v)."""
    z = as_grad_float(pred)
    y = _labels(target)
    c = int(z.shape[1])
    onehot = _onehot(y, c, z.dtype)
    how = str(scale_by_half).lower()
    k = 1.0 if how == "true" or (how == "auto" and c == 2) else 2.0
    if not from_logits:
        return k * (z - onehot)
    p = softmax(z)
    v = k * (p - onehot)
    return p * (v - (p * v).sum(axis=1, keepdims=True))


def kl_div_multiclass_grad(
    pred: np.ndarray, target: np.ndarray, *, reduction: str = "batchmean", from_logits: bool = False
) -> np.ndarray:
    """∂(−log q_y)/∂prediction: softmax(z) − onehot_y, or −1/Q_y on the true column;
    ÷C with ``reduction="mean"`` (torch's mean over every element)."""
    z = as_grad_float(pred)
    y = _labels(target)
    q = _onehot(y, int(z.shape[1]), z.dtype)
    g = _nll_grad(z, q, from_logits)
    return g / z.shape[1] if reduction == "mean" else g


def multi_margin_grad(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    p: int = 1,
    margin: float = 1.0,
    weight: float | tuple[float, ...] | str | None = "none",
    from_logits: bool = False,
) -> np.ndarray:
    """∂[(w_y/C)·Σ_{j≠y} max(0, m − s_y + s_j)^p]/∂s: for each violated j (t_j > 0, none at
    the kink, torch ``multi_margin_loss_backward``) w_y/C·(1 or 2t_j) at j, and minus their
    sum at y."""
    del from_logits
    s = as_grad_float(pred)
    y = _labels(target)
    n, c = s.shape
    rows = np.arange(n)
    t = s - s[rows, y][:, None] + float(margin)
    g = np.where(t > 0, 2.0 * t if int(p) == 2 else 1.0, 0.0).astype(s.dtype, copy=False)
    g[rows, y] = 0.0
    g[rows, y] = -g.sum(axis=1)
    w = _resolve_class_weight(weight, y, c)
    scale = (w[y] if w is not None else np.ones(n)) / c
    return g * scale[:, None]
