"""Gradient of the GIoU loss (``losses/detection.py``) with respect to the predicted box
(x1, y1, x2, y2), by the chain rule of torchvision's ``generalized_box_iou_loss``.

Its elementwise ``torch.max``/``torch.min`` split the gradient of a tie evenly (½ to each
side), and the intersection is 0 — with no gradient — when the boxes do not overlap.
"""

from __future__ import annotations

import numpy as np

from losscli.losses.grads._common import as_grad_float

__all__ = ["giou_grad"]


def _pick(a: np.ndarray, b: np.ndarray, larger: bool) -> np.ndarray:
    """∂max(a, b)/∂a (``larger``) or ∂min(a, b)/∂a: 1, ½ at a tie, else 0."""
    won = a > b if larger else a < b
    return np.where(a == b, 0.5, won.astype(np.float64))


def giou_grad(pred, target, *, eps: float = 1e-7):
    """∂(1 − I/(U + eps) + (C − U)/(C + eps))/∂(x1, y1, x2, y2)."""
    p = as_grad_float(pred).astype(np.float64)
    t = np.asarray(target, dtype=np.float64)
    x1, y1, x2, y2 = p.T
    a1, b1, a2, b2 = t.T
    iw = np.minimum(x2, a2) - np.maximum(x1, a1)
    ih = np.minimum(y2, b2) - np.maximum(y1, b1)
    mask = (iw > 0) & (ih > 0)
    inter = np.where(mask, iw * ih, 0.0)
    d_inter = (
        np.stack(
            [
                -ih * _pick(x1, a1, True),
                -iw * _pick(y1, b1, True),
                ih * _pick(x2, a2, False),
                iw * _pick(y2, b2, False),
            ],
            axis=1,
        )
        * mask[:, None]
    )
    w, h = x2 - x1, y2 - y1
    d_area = np.stack([-h, -w, h, w], axis=1)
    union = w * h + (a2 - a1) * (b2 - b1) - inter
    d_union = d_area - d_inter
    cw = np.maximum(x2, a2) - np.minimum(x1, a1)
    ch = np.maximum(y2, b2) - np.minimum(y1, b1)
    c = cw * ch
    d_c = np.stack(
        [
            -ch * _pick(x1, a1, False),
            -cw * _pick(y1, b1, False),
            ch * _pick(x2, a2, True),
            cw * _pick(y2, b2, True),
        ],
        axis=1,
    )
    u, cc = (union + eps)[:, None], (c + eps)[:, None]
    g = -(d_inter * u - inter[:, None] * d_union) / (u * u)
    g += ((d_c - d_union) * cc - (c - union)[:, None] * d_c) / (cc * cc)
    return g
