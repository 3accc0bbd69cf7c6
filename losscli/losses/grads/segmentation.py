"""Gradients of the segmentation overlap losses (``losses/segmentation.py``) with respect
to the per-pixel predictions, per image and class.

With per-image, per-class sums TP = Σp·y, Σp, Σy and the loss written as torch code
writes it, 1 − (2TP + s)/(Σp + Σy + s) (Dice), the derivative for pixel j is the quotient
rule of that ratio; the image's value is the mean over its C classes (÷C), and logits go
through σ'(x) = σ(1 − σ). A term whose denominator is 0 (``smooth = 0`` on an empty mask
and prediction, where the loss is defined as 0) passes no gradient. The pixel-wise losses
(``bce``, ``focal``) are the binary gradients divided by the C·P values of the image.
"""

from __future__ import annotations

import numpy as np

from losscli.losses._numerics import LOG_CLAMP, sigmoid
from losscli.losses.grads._common import as_grad_float
from losscli.losses.grads.classification import bce_grad, focal_grad
from losscli.losses.segmentation import OverlapOptions, generalized_weights

__all__ = [
    "dice_bce_grad",
    "dice_grad",
    "focal_tversky_grad",
    "generalized_dice_grad",
    "iou_grad",
    "seg_cross_entropy_grad",
    "seg_focal_grad",
    "tversky_grad",
]


def _ncp(pred, target, from_logits):
    x = as_grad_float(pred)
    shape = x.shape
    n = shape[0]
    x3 = x.reshape(n, 1, -1) if x.ndim == 2 else x.reshape(n, shape[1], -1)
    y3 = np.asarray(target, dtype=x.dtype).reshape(x3.shape)
    p = sigmoid(x3) if from_logits else x3
    dp = p * (1.0 - p) if from_logits else None
    return shape, p, y3, dp


def _finish(g, shape, dp):
    """∂/∂p → ∂/∂prediction (σ' for logits), ÷C for the mean over classes, pred's shape."""
    if dp is not None:
        g = g * dp
    g /= g.shape[1]
    return g.reshape(shape)


def _ratio_grad(a, b, da, db):
    """∂(−a/b) = −(da·b − a·db)/b², 0 where b = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        g = -(da * b[..., None] - a[..., None] * db) / (b * b)[..., None]
    return np.where((b == 0)[..., None], 0.0, g)


def _sums(p, y):
    return (p * y).sum(-1), p.sum(-1), y.sum(-1)


_MONAI = (
    "smooth_nr",
    "smooth_dr",
    "squared_pred",
    "include_background",
    "weight",
    "activation",
    "soft_label",
    "empty",
)


def _overlap_grad(pred, target, from_logits, smooth, monai, ratio):
    """Gradient of MONAI-style overlap terms 1 − A/B per image and class.

    ``ratio(tp, sp, sy, s_nr, s_dr)`` gives (A, B) and the coefficients (a_tp, a_sp, b_tp,
    b_sp) of ∂A = a_tp·∂TP + a_sp·∂Σp and ∂B likewise. ∂TP/∂p_j = y_j (soft labels:
    (1 − sign(p_j − y_j))/2, ``abs``'s backward) and ∂Σp/∂p_j = 1 (2p_j with
    ``squared_pred``); a left-out background channel, class weights and the mean over the
    kept channels follow ``OverlapOptions.finish``; logits go back through the sigmoid or
    the channel softmax. A zero denominator passes no gradient (NaN with ``empty=nan``).
    """
    opts = OverlapOptions.of(**{k: v for k, v in monai.items() if k in _MONAI})
    s_nr, s_dr = opts.smooths(float(smooth))
    x = as_grad_float(pred)
    shape = x.shape
    n = shape[0]
    x3 = x.reshape(n, 1, -1) if x.ndim == 2 else x.reshape(n, shape[1], -1)
    y = np.asarray(target, dtype=x.dtype).reshape(x3.shape)
    p, back = _channel_probs(x3, from_logits, opts.activation)
    if opts.squared_pred:
        tp, sp, sy = (p * y).sum(-1), (p * p).sum(-1), (y * y).sum(-1)
        dtp, dsp = y, 2.0 * p
    elif opts.soft_label:
        sp, sy = p.sum(-1), y.sum(-1)
        tp = 0.5 * (sp + sy - np.abs(p - y).sum(-1))
        dtp, dsp = 0.5 * (1.0 - np.sign(p - y)), np.ones_like(p)
    else:
        tp, sp, sy = _sums(p, y)
        dtp, dsp = y, np.ones_like(p)
    a, b, (a_tp, a_sp, b_tp, b_sp) = ratio(tp, sp, sy, s_nr, s_dr)
    da = a_tp * dtp + a_sp * dsp
    db = b_tp * dtp + b_sp * dsp
    g = _ratio_grad(a, b, da, db)
    if opts.empty_nan:
        g = np.where((b == 0)[..., None], np.nan, g)
    c = g.shape[1]
    keep = np.ones(c, dtype=bool)
    if not opts.include_background and c > 1:
        keep[0] = False
        g[:, 0] = 0.0
    if opts.weight is not None:
        w = np.asarray(opts.weight, dtype=np.float64).reshape(-1)
        kept = int(keep.sum())
        if w.size != 1 and w.size != kept:
            raise ValueError(f"weight has {w.size} values but the loss has {kept} classes")
        g[:, keep] *= (w if w.size > 1 else w[0])[None, :, None]
    g /= int(keep.sum())
    return back(g).reshape(shape)


def _dice(tp, sp, sy, s_nr, s_dr):
    return 2.0 * tp + s_nr, sp + sy + s_dr, (2.0, 0.0, 0.0, 1.0)


def _iou(tp, sp, sy, s_nr, s_dr):
    return tp + s_nr, sp + sy - tp + s_dr, (1.0, 0.0, -1.0, 1.0)


def dice_grad(
    pred,
    target,
    *,
    smooth: float = 1.0,
    from_logits: bool = False,
    smooth_nr: float | str | None = "none",
    smooth_dr: float | str | None = "none",
    squared_pred: bool = False,
    include_background: bool = True,
    weight: float | tuple[float, ...] | str | None = "none",
    activation: str = "sigmoid",
    soft_label: bool = False,
    empty: str = "zero",
):
    """−∂[(2TP + s_nr)/(Σp + Σy + s_dr)]/∂p_j = −(2y_j·B − A)/B² (MONAI's switches as
    :func:`_overlap_grad` describes)."""
    monai = {
        "smooth_nr": smooth_nr,
        "smooth_dr": smooth_dr,
        "squared_pred": squared_pred,
        "include_background": include_background,
        "weight": weight,
        "activation": activation,
        "soft_label": soft_label,
        "empty": empty,
    }
    return _overlap_grad(pred, target, from_logits, smooth, monai, _dice)


def iou_grad(
    pred,
    target,
    *,
    smooth: float = 1.0,
    from_logits: bool = False,
    smooth_nr: float | str | None = "none",
    smooth_dr: float | str | None = "none",
    squared_pred: bool = False,
    include_background: bool = True,
    weight: float | tuple[float, ...] | str | None = "none",
    activation: str = "sigmoid",
    soft_label: bool = False,
    empty: str = "zero",
):
    """−∂[(TP + s_nr)/(Σp + Σy − TP + s_dr)]/∂p_j."""
    monai = {
        "smooth_nr": smooth_nr,
        "smooth_dr": smooth_dr,
        "squared_pred": squared_pred,
        "include_background": include_background,
        "weight": weight,
        "activation": activation,
        "soft_label": soft_label,
        "empty": empty,
    }
    return _overlap_grad(pred, target, from_logits, smooth, monai, _iou)


def _tversky(p, y, alpha, beta, smooth):
    tp, sp, sy = _sums(p, y)
    b = tp + alpha * (sp - tp) + beta * (sy - tp) + smooth
    a = tp + smooth
    db = y + alpha * (1.0 - y) - beta * y
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(b == 0, 0.0, 1.0 - a / b)
    return value, _ratio_grad(a, b, y, db)


def tversky_grad(
    pred,
    target,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth: float = 1.0,
    from_logits: bool = False,
    smooth_nr: float | str | None = "none",
    smooth_dr: float | str | None = "none",
    include_background: bool = True,
    activation: str = "sigmoid",
    soft_label: bool = False,
    empty: str = "zero",
):
    """−∂[(TP + s_nr)/(TP + α·FP + β·FN + s_dr)]/∂p_j, FP = Σp − TP, FN = Σy − TP."""
    a_, b_ = float(alpha), float(beta)

    def ratio(tp, sp, sy, s_nr, s_dr):
        den = tp + a_ * (sp - tp) + b_ * (sy - tp) + s_dr
        return tp + s_nr, den, (1.0, 0.0, 1.0 - a_ - b_, a_)

    monai = {
        "smooth_nr": smooth_nr,
        "smooth_dr": smooth_dr,
        "include_background": include_background,
        "activation": activation,
        "soft_label": soft_label,
        "empty": empty,
    }
    return _overlap_grad(pred, target, from_logits, smooth, monai, ratio)


def focal_tversky_grad(
    pred,
    target,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth: float = 1.0,
    gamma: float = 0.75,
    from_logits: bool = False,
):
    """γ·T^(γ−1)·∂T (T the Tversky loss; 0 where γ = 0, as torch's ``pow`` backward)."""
    shape, p, y, dp = _ncp(pred, target, from_logits)
    t, g = _tversky(p, y, alpha, beta, smooth)
    with np.errstate(divide="ignore", invalid="ignore"):
        outer = np.zeros_like(t) if gamma == 0 else gamma * t ** (gamma - 1.0)
    return _finish(g * outer[..., None], shape, dp)


def dice_bce_grad(
    pred,
    target,
    *,
    smooth: float = 1.0,
    lambda_dice: float = 1.0,
    lambda_bce: float = 1.0,
    from_logits: bool = False,
):
    """λ_d·∂dice + λ_b·∂bce (pixel mean per image and class)."""
    d = dice_grad(pred, target, smooth=smooth, from_logits=from_logits)
    b = bce_grad(pred, target, from_logits=from_logits)
    return lambda_dice * d + lambda_bce * b


def _channel_probs(x3, from_logits: bool, activation: str):
    """Probabilities over ``(n, C, P)`` and the map from ∂/∂p to ∂/∂prediction: σ' for
    the sigmoid, the softmax Jacobian over the channels, identity for probabilities."""
    if not from_logits:
        return x3, lambda g: g
    if activation == "softmax":
        e = np.exp(x3 - x3.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        return p, lambda g: p * (g - (g * p).sum(axis=1, keepdims=True))
    p = sigmoid(x3)
    return p, lambda g: g * p * (1.0 - p)


def generalized_dice_grad(
    pred,
    target,
    *,
    w_type: str = "square",
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    include_background: bool = True,
    activation: str = "sigmoid",
    soft_label: bool = False,
    from_logits: bool = False,
):
    """−∂[(2·Σ_c w_c·TP_c + s_nr)/(Σ_c w_c·(Σp_c + Σy_c) + s_dr)]/∂p_cj with the class
    weights w_c a function of the target only (MONAI computes them from the labels: no
    gradient flows through them); a left-out background channel contributes nothing
    (but still moves the others through a softmax)."""
    if soft_label:
        raise ValueError("generalized_dice: no gradient yet with soft_label=true")
    x = as_grad_float(pred)
    shape = x.shape
    n = shape[0]
    x3 = x.reshape(n, 1, -1) if x.ndim == 2 else x.reshape(n, shape[1], -1)
    y = np.asarray(target, dtype=x.dtype).reshape(x3.shape)
    p, back = _channel_probs(x3, from_logits, activation)
    keep = np.ones(x3.shape[1], dtype=bool)
    if not include_background and x3.shape[1] > 1:
        keep[0] = False
    tp, sp, sy = _sums(p[:, keep], y[:, keep])
    w = generalized_weights(sy, w_type)
    a = 2.0 * (tp * w).sum(axis=1) + float(smooth_nr)
    b = ((sp + sy) * w).sum(axis=1) + float(smooth_dr)
    wk = w[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        gk = (
            -(2.0 * wk * y[:, keep] * b[:, None, None] - a[:, None, None] * wk)
            / (b * b)[:, None, None]
        )
    g = np.zeros_like(p)
    g[:, keep] = gk
    return back(g).reshape(shape)


def seg_cross_entropy_grad(
    pred,
    target,
    *,
    weight: float | tuple[float, ...] | str | None = "none",
    from_logits: bool = False,
):
    """∂[−(1/P)·Σ_pixels Σ_c w_c·y_c·log p_c]/∂prediction: (Σ_c w_c·y_c·softmax_c − w_c·y_c)/P
    for logits, −w_c·y_c/(P·p_c) for probabilities (0 where the log is clamped at −100)."""
    x = as_grad_float(pred)
    shape = x.shape
    n = shape[0]
    x3 = x.reshape(n, shape[1], -1)
    y = np.asarray(target, dtype=x.dtype).reshape(x3.shape)
    c, pix = x3.shape[1], x3.shape[2]
    q = y
    if weight is not None and not isinstance(weight, str):
        w = np.asarray(weight, dtype=np.float64).reshape(-1)
        if w.size == 1:
            w = np.full(c, w[0])
        if w.size != c:
            raise ValueError(f"cross_entropy.weight has {w.size} values but there are {c} channels")
        q = y * w[None, :, None]
    if from_logits:
        e = np.exp(x3 - x3.max(axis=1, keepdims=True))
        g = q.sum(axis=1, keepdims=True) * (e / e.sum(axis=1, keepdims=True)) - q
    else:
        with np.errstate(divide="ignore", invalid="ignore"):
            g = np.where((np.log(x3) >= LOG_CLAMP) & (q != 0), -q / x3, 0.0)
    return (g / pix).reshape(shape)


def seg_focal_grad(
    pred,
    target,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    label_smoothing: float = 0.0,
    eps: float | str | None = "none",
    activation: str = "sigmoid",
    from_logits: bool = False,
):
    """The binary focal gradient per pixel (÷ the C·P values of the image), or with
    ``activation="softmax"`` on logits (MONAI ``FocalLoss(use_softmax=True)``) the
    chain rule through the channel log-softmax ls: with h_c = ∂u_c/∂ls_c of the pixel term
    u_c = −α_c·y_c·(1 − p_c)^γ·ls_c, g_j = h_j − p_j·Σ_c h_c (÷ C·P)."""
    if activation != "softmax" or not from_logits:
        return focal_grad(
            pred,
            target,
            alpha=alpha,
            gamma=gamma,
            label_smoothing=label_smoothing,
            eps=eps,
            from_logits=from_logits,
        )
    x = as_grad_float(pred)
    shape = x.shape
    x3 = x.reshape(shape[0], shape[1], -1)
    y = np.asarray(target, dtype=x.dtype).reshape(x3.shape)
    c, pix = x3.shape[1], x3.shape[2]
    ls = x3 - x3.max(axis=1, keepdims=True)
    ls -= np.log(np.exp(ls).sum(axis=1, keepdims=True))
    p = np.exp(ls)
    a = float(alpha)
    a_c = np.array([1.0 - a] + [a] * (c - 1)) if a >= 0 else np.ones(c)
    g_gamma = float(gamma)
    with np.errstate(divide="ignore", invalid="ignore"):
        dpow = np.zeros_like(p) if g_gamma == 0 else g_gamma * (1.0 - p) ** (g_gamma - 1.0)
    h = -a_c[None, :, None] * y * ((1.0 - p) ** g_gamma - dpow * p * ls)
    g = h - p * h.sum(axis=1, keepdims=True)
    return (g / (c * pix)).reshape(shape)
