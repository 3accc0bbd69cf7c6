"""Detection losses on matched boxes: Smooth L1 on coordinates, GIoU, and focal + Smooth L1.

Inputs: ``pred`` and ``target`` of shape ``(n, 4)``, one matched pair of boxes per row in
``(x1, y1, x2, y2)`` corner format. ``focal_smooth_l1`` also takes the context arrays
``scores`` (``(n,)`` prediction scores: probabilities, or logits with
``from_logits=True``) and ``labels`` (``(n,)`` 0/1: whether the match is a true object).

Degenerate boxes (``x2 < x1`` or ``y2 < y1``) are outside the domain torchvision states
for GIoU (``0 <= x1 < x2``, ``0 <= y1 < y2``). Like torchvision, :func:`giou` still
computes a value from the signed areas, and attaches :data:`DEGENERATE_NOTE` so the
report shows that the value is not meaningful for those rows. Smooth L1 compares
coordinates only and is defined for any boxes.
"""

from __future__ import annotations

import numpy as np

from losscli.losses._reduce import Terms
from losscli.losses.classification import focal
from losscli.losses.regression import smooth_l1_elementwise

#: Attached by :func:`giou` when a predicted or target box has x2 < x1 or y2 < y1.
DEGENERATE_NOTE = (
    "some boxes have x2 < x1 or y2 < y1 (degenerate); their GIoU uses signed areas "
    "as torchvision does and is not meaningful"
)


def smooth_l1_boxes(pred: np.ndarray, target: np.ndarray, *, beta: float = 1.0) -> Terms:
    """Smooth L1 on matched box coordinates, one value per coordinate.

    l = 0.5·e²/β if |e| < β else |e| − 0.5·β, e = pred − target, for each of x1, y1, x2, y2
    (β = 0 is L1). The loss has shape ``(n, 4)``: the row value is the mean of the four
    coordinates and the reported mean equals torch ``F.smooth_l1_loss(pred, target,
    beta=β)`` over the ``(n, 4)`` tensor (Fast R-CNN box regression).

    Reference: Girshick (2015), "Fast R-CNN", ICCV, eq. 3; PyTorch ``nn.SmoothL1Loss``.
    """
    return Terms(smooth_l1_elementwise(pred, target, beta=beta))


def giou(pred: np.ndarray, target: np.ndarray, *, eps: float = 1e-7) -> Terms:
    """Generalized IoU loss of matched boxes: 1 − GIoU, in [0, 2) for valid boxes.

    I = intersection area (0 when the boxes do not overlap), U = A_pred + A_target − I,
    C = area of the smallest enclosing box; loss = 1 − (I/(U + eps) − (C − U)/(C + eps)),
    exactly torchvision ``ops.generalized_box_iou_loss(reduction='none', eps=1e-7)``.
    Identical boxes of area A give eps/(A + eps) ≈ 0, not exactly 0; boxes of zero area
    have I = U = 0 and give 1 (no overlap to measure), as in torchvision. Degenerate boxes
    (x2 < x1 or y2 < y1) are computed with signed areas, as torchvision does, and noted.

    Reference: Rezatofighi, Tsoi, Gwak, Sadeghian, Reid & Savarese (2019), "Generalized
    Intersection over Union: A Metric and A Loss for Bounding Box Regression", CVPR.
    """
    pred = np.asarray(pred, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    x1, y1, x2, y2 = pred[:, 0], pred[:, 1], pred[:, 2], pred[:, 3]
    x1g, y1g, x2g, y2g = target[:, 0], target[:, 1], target[:, 2], target[:, 3]

    iw = np.minimum(x2, x2g) - np.maximum(x1, x1g)
    ih = np.minimum(y2, y2g) - np.maximum(y1, y1g)
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0.0)
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    iou = inter / (union + eps)
    area_c = (np.maximum(x2, x2g) - np.minimum(x1, x1g)) * (
        np.maximum(y2, y2g) - np.minimum(y1, y1g)
    )
    loss = 1.0 - (iou - (area_c - union) / (area_c + eps))

    notes: list[str] = []
    if bool(np.any((x2 < x1) | (y2 < y1) | (x2g < x1g) | (y2g < y1g))):
        notes.append(DEGENERATE_NOTE)
    return Terms(loss, notes=notes)


def focal_smooth_l1(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    beta: float = 1.0,
    scores: np.ndarray | None = None,
    labels: np.ndarray | None = None,
    from_logits: bool = False,
) -> Terms:
    """RetinaNet-style detection loss per matched row: focal(score, label) + box Smooth L1.

    l_i = −α_t·(1−p_t)^γ·log p_t  +  ¼·Σ_coord smoothl1_β(pred − target), with the
    torchvision ``sigmoid_focal_loss`` conventions (α_t = α for label 1, 1−α for label 0;
    α = −1 disables it; logs of probabilities clamped at −100) and the Smooth L1 of
    :func:`smooth_l1_boxes`. The mean over rows equals torchvision focal (mean) + torch
    ``F.smooth_l1_loss`` (mean over the ``(n, 4)`` tensor).

    The classification half needs the ``scores`` and ``labels`` context arrays (a score
    column in the predictions and a 0/1 label column in the targets); the registry
    declares them and their domains (scores in [0, 1] unless ``from_logits``, labels in
    [0, 1]), so the engine reports missing or out-of-range arrays as data errors before
    this runs. Called directly, the kernel refuses such inputs with a ``ValueError``.

    References: Lin et al. (2017), "Focal Loss for Dense Object Detection", ICCV
    (RetinaNet); Girshick (2015), "Fast R-CNN", ICCV.
    """
    if scores is None or labels is None:
        raise ValueError(
            "focal_smooth_l1 needs a score column in the predictions and a label column "
            "in the targets"
        )
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    y = np.asarray(labels, dtype=np.float64).reshape(-1)
    n = int(np.asarray(pred).shape[0])
    if s.shape[0] != n or y.shape[0] != n:
        raise ValueError(
            f"focal_smooth_l1 needs one score and one label per box row; got {s.shape[0]} "
            f"scores and {y.shape[0]} labels for {n} rows"
        )
    if y.size and (y.min() < 0.0 or y.max() > 1.0):
        raise ValueError("focal_smooth_l1 needs labels in [0, 1] (1 = object, 0 = background)")
    if not from_logits and s.size and (s.min() < 0.0 or s.max() > 1.0):
        raise ValueError(
            "focal_smooth_l1 needs scores in [0, 1] when they are probabilities; pass "
            "from_logits=True if the scores are raw logits"
        )
    cls = focal(s, y, alpha=alpha, gamma=gamma, from_logits=from_logits)
    # row mean of the four coordinates as a matrix-vector product (about twice as fast as
    # .mean(axis=-1) on millions of boxes)
    box = (smooth_l1_elementwise(pred, target, beta=beta) @ np.ones(4)) / 4.0
    return Terms(np.asarray(cls.loss, dtype=np.float64) + box, notes=list(cls.notes))
