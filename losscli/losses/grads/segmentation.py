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

from losscli.losses._numerics import sigmoid
from losscli.losses.grads._common import as_grad_float
from losscli.losses.grads.classification import bce_grad

__all__ = ["dice_bce_grad", "dice_grad", "focal_tversky_grad", "iou_grad", "tversky_grad"]


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


def dice_grad(pred, target, *, smooth: float = 1.0, from_logits: bool = False):
    """−∂[(2TP + s)/(Σp + Σy + s)]/∂p_j = −(2y_j·B − A)/B²."""
    shape, p, y, dp = _ncp(pred, target, from_logits)
    tp, sp, sy = _sums(p, y)
    g = _ratio_grad(2 * tp + smooth, sp + sy + smooth, 2 * y, np.ones_like(p))
    return _finish(g, shape, dp)


def iou_grad(pred, target, *, smooth: float = 1.0, from_logits: bool = False):
    """−∂[(TP + s)/(Σp + Σy − TP + s)]/∂p_j."""
    shape, p, y, dp = _ncp(pred, target, from_logits)
    tp, sp, sy = _sums(p, y)
    g = _ratio_grad(tp + smooth, sp + sy - tp + smooth, y, 1.0 - y)
    return _finish(g, shape, dp)


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
):
    """−∂[(TP + s)/(TP + α·FP + β·FN + s)]/∂p_j, FP = Σp − TP, FN = Σy − TP."""
    shape, p, y, dp = _ncp(pred, target, from_logits)
    _, g = _tversky(p, y, alpha, beta, smooth)
    return _finish(g, shape, dp)


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
