"""Segmentation losses: overlap losses (Dice, IoU, Tversky, focal Tversky) and pixel-wise
BCE / focal, one value per image and class.

Inputs: ``pred`` of shape ``(n, C, P)`` — probabilities, or logits when
``from_logits=True`` (the overlap losses then apply the sigmoid first; the pixel-wise
losses use the stable logit forms) — and ``target`` of the same shape with 0/1 mask
values (soft labels in [0, 1] are accepted). ``P`` is the number of pixels per image; a
``(n, P)`` array is read as one class and ``(n, C, H, W, ...)`` is flattened to
``(n, C, H·W·...)``. Every kernel returns :class:`Terms` whose ``loss`` has shape
``(n, C)``: the row value of an image is the mean over its classes, and the reported loss
is the mean over images (MONAI ``reduction='mean'`` on per-(batch, channel) values).

Overlap sums per image and class: TP = Σ p·y, Σp, Σy, FP = Σp − TP = Σ p(1−y),
FN = Σy − TP = Σ (1−p)y. The losses are evaluated in their "error over denominator" form,
e.g. dice = (Σp + Σy − 2TP)/(Σp + Σy + s), which is algebraically 1 − (2TP + s)/(Σp + Σy + s)
but keeps full relative precision for near-perfect predictions.

Empty masks (the convention table in MONAI issue #4160 shows the anchors disagree):

* ``smooth > 0`` (default 1.0): empty target and empty prediction give loss 0, because the
  smoothed ratio is s/s = 1. An empty target with a non-empty prediction gives
  Σp/(Σp + s) (Dice), and a non-empty target with an empty prediction Σy/(Σy + s).
* ``smooth = 0``: the ratio 0/0 of an empty target and empty prediction is taken as its
  limit for s → 0⁺, i.e. loss 0, and the note :data:`EMPTY_MATCH_NOTE` is attached.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.losses._numerics import sigmoid
from losscli.losses._reduce import Terms
from losscli.losses.classification import bce, focal

#: Attached when ``smooth=0`` met an image/class with an empty target and empty prediction.
EMPTY_MATCH_NOTE = "empty target and prediction counted as a perfect match (loss 0)"
#: Attached when ``empty=nan`` met a zero denominator (MONAI's 0/0).
EMPTY_NAN_NOTE = "0/0 terms (empty target and prediction with no smoothing) are NaN (MONAI)"
#: Attached when ``smooth=0`` met a Tversky term whose only errors carry weight 0 (0/0).
ZERO_WEIGHT_NOTE = (
    "tversky terms with no overlap and only zero-weighted errors (0/0) counted as loss 0"
)

#: Images × classes × pixels per internal chunk (64K float64 = 512 KiB, an L2 cache).
_CHUNK_ELEMENTS = 65536


# --------------------------------------------------------------------------- helpers


def _as_ncp(a: np.ndarray) -> np.ndarray:
    """View ``a`` as ``(n, C, P)``: ``(n, P)`` gets C=1, trailing spatial axes are flattened."""
    a = np.asarray(a)
    if a.ndim == 2:
        return a[:, None, :]
    if a.ndim > 3:
        return a.reshape(a.shape[0], a.shape[1], -1)
    return a


def _pixel_chunks(shape: tuple[int, ...]) -> list[slice]:
    """Slices of the pixel axis of an ``(n, C, P)`` array with about
    :data:`_CHUNK_ELEMENTS` values each (one slice when the whole array is that small).

    The row-block loop of compute hands a kernel whole images, so one large image (a
    1000×1000 mask, a 3-D volume) would otherwise be processed in image-sized
    temporaries: the pixel-wise losses ran 1.7–2.5× slower per pixel on one 1e7-pixel
    image than on 100 images of 1e5 pixels. Every quantity here is a sum over pixels,
    so chunks add up exactly.
    """
    n, c, p = shape
    step = max(1, _CHUNK_ELEMENTS // max(1, n * c))
    if step >= p:
        return [slice(0, p)]
    return [slice(start, min(start + step, p)) for start in range(0, p, step)]


def _probabilities(pred: np.ndarray, from_logits: bool, activation: str = "sigmoid") -> np.ndarray:
    p = _as_ncp(pred)
    if from_logits:
        if activation == "softmax":
            return _channel_softmax(p)
        return sigmoid(p, dtype=np.float64)
    return p


def _channel_softmax(z: np.ndarray) -> np.ndarray:
    """Softmax over the class axis of ``(n, C, P)`` logits (MONAI ``softmax=True``)."""
    z = np.asarray(z, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


@dataclass(frozen=True)
class OverlapOptions:
    """MONAI's overlap-loss switches (``DiceLoss``/``TverskyLoss``): smoothing of the
    numerator and denominator apart (None: ``smooth``), squared sums in the denominator,
    the background channel 0 left out, per-class weights, softmax over the channels of
    logits instead of the sigmoid."""

    smooth_nr: float | None = None
    smooth_dr: float | None = None
    squared_pred: bool = False
    include_background: bool = True
    weight: tuple[float, ...] | float | None = None
    activation: str = "sigmoid"
    soft_label: bool = False
    empty_nan: bool = False

    @classmethod
    def of(cls, **params: Any) -> OverlapOptions:
        def num(v: Any) -> float | None:
            return None if v is None or isinstance(v, str) else float(v)

        w = params.get("weight")
        return cls(
            num(params.get("smooth_nr")),
            num(params.get("smooth_dr")),
            bool(params.get("squared_pred", False)),
            bool(params.get("include_background", True)),
            None if w is None or isinstance(w, str) else w,
            str(params.get("activation", "sigmoid")),
            bool(params.get("soft_label", False)),
            str(params.get("empty", "zero")) == "nan",
        )

    def smooths(self, smooth: float) -> tuple[float, float]:
        nr = smooth if self.smooth_nr is None else self.smooth_nr
        dr = smooth if self.smooth_dr is None else self.smooth_dr
        return nr, dr

    def finish(self, loss: np.ndarray) -> np.ndarray:
        """Background left out and class weights applied to ``(n, C)`` values."""
        if not self.include_background and loss.shape[1] > 1:
            loss = loss[:, 1:]
        if self.weight is not None:
            w = np.asarray(self.weight, dtype=np.float64).reshape(-1)
            if w.size != 1 and w.size != loss.shape[1]:
                raise ValueError(
                    f"weight has {w.size} values but the loss has {loss.shape[1]} classes"
                    + ("" if self.include_background else " (background left out)")
                )
            loss = loss * (w if w.size > 1 else w[0])
        return loss


def _overlap_sums(
    pred: np.ndarray,
    target: np.ndarray,
    from_logits: bool,
    opts: OverlapOptions | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per image and class: TP = Σ p·y, Σp and Σy (shape ``(n, C)``, float64).

    The three pixel sums are BLAS dot products (a stack of 1×P by P×1 products and two
    matrix-vector products with a vector of ones): no (n, C, P) temporary, about 3× faster
    than ``(p * y).sum(-1)``. Large images are summed in pixel chunks
    (:func:`_pixel_chunks`), so the sigmoid of logits needs only a chunk-sized array.
    Every image is independent of the others, so row blocks can be evaluated separately.
    """
    pred = _as_ncp(pred)
    target = _as_ncp(target)
    tp, sum_p, sum_y = (np.zeros(pred.shape[:2]) for _ in range(3))
    opts = opts or OverlapOptions()
    for sl in _pixel_chunks(pred.shape):
        p = _probabilities(pred[..., sl], from_logits, opts.activation).astype(
            np.float64, copy=False
        )
        y = target[..., sl].astype(np.float64, copy=False)
        ones = np.ones(p.shape[-1])
        if opts.soft_label and not opts.squared_pred:
            # MONAI's soft-label form: TP = (Σp + Σy − Σ|p − y|)/2 (= Σp·y for 0/1 labels)
            sp, sy = p @ ones, y @ ones
            tp += 0.5 * (sp + sy - np.abs(p - y) @ ones)
            sum_p += sp
            sum_y += sy
            continue
        tp += np.matmul(p[..., None, :], y[..., :, None])[..., 0, 0]
        if opts.squared_pred:
            sum_p += (p * p) @ ones
            sum_y += (y * y) @ ones
        else:
            sum_p += p @ ones
            sum_y += y @ ones
    return tp, sum_p, sum_y


def _error_ratio(
    err: np.ndarray,
    den: np.ndarray,
    *,
    smooth: float,
    empty: np.ndarray,
    empty_nan: bool = False,
) -> tuple[np.ndarray, list[str]]:
    """``err / den`` where a zero denominator (only possible when ``smooth == 0``) gives 0
    (``empty_nan``: NaN, as MONAI's 0/0).

    ``empty`` marks the terms whose target and prediction are both empty; the matching
    note is returned when one of them met a zero denominator, and :data:`ZERO_WEIGHT_NOTE`
    for any other zero denominator (Tversky with α or β = 0).
    """
    if smooth > 0:
        return err / den, []
    zero = den == 0
    if not zero.any():
        return err / den, []
    out = np.divide(err, den, out=np.zeros_like(err), where=~zero)
    notes: list[str] = []
    if empty_nan:
        out[zero] = np.nan  # MONAI: 0/0 stays NaN
        return out, [EMPTY_NAN_NOTE]
    if (zero & empty).any():
        notes.append(EMPTY_MATCH_NOTE)
    if (zero & ~empty).any():
        notes.append(ZERO_WEIGHT_NOTE)
    return out, notes


def _tversky_values(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    alpha: float,
    beta: float,
    smooth: float,
    from_logits: bool,
    opts: OverlapOptions | None = None,
) -> tuple[np.ndarray, list[str]]:
    """1 − (TP + s_nr)/(TP + α·FP + β·FN + s_dr) per image and class, as
    (α·FP + β·FN + s_dr − s_nr)/(TP + α·FP + β·FN + s_dr); MONAI's switches in ``opts``
    (background left out, softmax, soft labels; no squared sums)."""
    opts = opts or OverlapOptions()
    s_nr, s_dr = opts.smooths(smooth)
    tp, sum_p, sum_y = _overlap_sums(pred, target, from_logits, opts)
    fp = np.maximum(sum_p - tp, 0.0)
    fn = np.maximum(sum_y - tp, 0.0)
    err = alpha * fp + beta * fn
    den = tp + err + s_dr
    values, notes = _error_ratio(
        err + (s_dr - s_nr),
        den,
        smooth=s_dr,
        empty=(sum_p + sum_y) == 0,
        empty_nan=opts.empty_nan,
    )
    return opts.finish(values), notes


def _overlap_loss(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    smooth: float,
    from_logits: bool,
    jaccard: bool,
    opts: OverlapOptions | None = None,
) -> Terms:
    """Dice (Σp + Σy − 2TP)/(Σp + Σy + s) or, with ``jaccard``, IoU
    (Σp + Σy − 2TP)/(Σp + Σy − TP + s), per image and class. With ``smooth_nr`` ≠
    ``smooth_dr`` (MONAI): 1 − (2TP + s_nr)/(Σp + Σy + s_dr), i.e. err + s_dr − s_nr."""
    opts = opts or OverlapOptions()
    s_nr, s_dr = opts.smooths(smooth)
    tp, sum_p, sum_y = _overlap_sums(pred, target, from_logits, opts)
    total = sum_p + sum_y
    err = np.maximum(total - 2.0 * tp, 0.0)
    if jaccard:
        den = total - tp + s_dr
        err = err + (s_dr - s_nr)
    else:
        den = total + s_dr
        err = err + (s_dr - s_nr)
    loss, notes = _error_ratio(err, den, smooth=s_dr, empty=total == 0, empty_nan=opts.empty_nan)
    return Terms(opts.finish(loss), notes=notes)


def _pixel_mean(
    elementwise: Callable[[np.ndarray, np.ndarray], Terms], pred: np.ndarray, target: np.ndarray
) -> Terms:
    """Mean over the pixel axis of a pixel-wise loss → ``(n, C)``, with its notes.

    ``elementwise(pred_chunk, target_chunk)`` gives the per-pixel values and notes; it is
    evaluated on cache-sized pixel chunks (:func:`_pixel_chunks`) whose float64 sums are
    added up and divided by the pixel count.
    """
    pred = _as_ncp(pred)
    target = _as_ncp(target)
    chunks = _pixel_chunks(pred.shape)
    if len(chunks) == 1:
        terms = elementwise(pred, target)
        return Terms(terms.loss.mean(axis=-1, dtype=np.float64), notes=list(terms.notes))
    total = np.zeros(pred.shape[:2], dtype=np.float64)
    merged: list[str] = []
    for sl in chunks:
        terms = elementwise(pred[..., sl], target[..., sl])
        total += terms.loss.sum(axis=-1, dtype=np.float64)
        merged.extend(nt for nt in terms.notes if nt not in merged)
    total /= pred.shape[-1]
    return Terms(total, notes=merged)


def _pixel_mean_of(elementwise: Callable[..., Terms], name: str, doc: str) -> Callable[..., Terms]:
    """The segmentation kernel ``name``: the elementwise loss ``elementwise`` (same
    keywords, same signature) averaged over the pixels of each image and class
    (:func:`_pixel_mean`), so the loss has shape ``(n, C)``."""

    @functools.wraps(elementwise)
    def kernel(pred: np.ndarray, target: np.ndarray, **params: Any) -> Terms:
        return _pixel_mean(lambda p, y: elementwise(p, y, **params), pred, target)

    kernel.__name__ = kernel.__qualname__ = name
    kernel.__module__ = __name__
    kernel.__doc__ = doc
    return kernel


# --------------------------------------------------------------------------- overlap losses


def dice(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    smooth: float = 1.0,
    from_logits: bool = False,
    **monai: Any,
) -> Terms:
    """Soft Dice loss per image and class.

    dice = 1 − (2·Σp·y + s) / (Σp + Σy + s), computed as (Σp + Σy − 2Σp·y)/(Σp + Σy + s);
    p = σ(pred) for logits. Equal to MONAI ``DiceLoss(smooth_nr=s, smooth_dr=s,
    reduction='none')`` on ``(n, C, P)`` inputs. With ``smooth=0`` an empty target and
    empty prediction count as a perfect match (loss 0, with a note).

    MONAI's switches (keywords, :class:`OverlapOptions`): ``smooth_nr``/``smooth_dr``
    (1 − (2TP + s_nr)/(Σp + Σy + s_dr)), ``squared_pred``, ``include_background``,
    ``weight`` per class, ``activation='softmax'`` over the channels of logits,
    ``soft_label``.

    Reference: Milletari, Navab & Ahmadi (2016), "V-Net: Fully Convolutional Neural
    Networks for Volumetric Medical Image Segmentation", 3DV, eq. 1 (soft Dice).
    """
    return _overlap_loss(
        pred,
        target,
        smooth=smooth,
        from_logits=from_logits,
        jaccard=False,
        opts=OverlapOptions.of(**monai),
    )


def iou(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    smooth: float = 1.0,
    from_logits: bool = False,
    **monai: Any,
) -> Terms:
    """Soft IoU (Jaccard) loss per image and class.

    iou = 1 − (Σp·y + s) / (Σp + Σy − Σp·y + s), computed as
    (Σp + Σy − 2Σp·y)/(Σp + Σy − Σp·y + s). Equals Tversky with α = β = 1 and SMP
    ``JaccardLoss(smooth=s)`` per image; MONAI ``DiceLoss(jaccard=True)`` puts the
    smoothing as (2I + s)/(2U + s), i.e. our value at smooth = s/2. With ``smooth=0`` an
    empty target and empty prediction count as a perfect match (loss 0, with a note).

    Reference: Rahman & Wang (2016), "Optimizing Intersection-Over-Union in Deep Neural
    Networks for Image Segmentation", ISVC.
    """
    return _overlap_loss(
        pred,
        target,
        smooth=smooth,
        from_logits=from_logits,
        jaccard=True,
        opts=OverlapOptions.of(**monai),
    )


def tversky(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth: float = 1.0,
    from_logits: bool = False,
    **monai: Any,
) -> Terms:
    """Tversky loss per image and class.

    tversky = 1 − (TP + s) / (TP + α·FP + β·FN + s), TP = Σp·y, FP = Σp(1−y),
    FN = Σ(1−p)y; computed as (α·FP + β·FN)/(TP + α·FP + β·FN + s). α weighs false
    positives and β false negatives (MONAI, SMP and Keras agree on this order); β > α
    favours recall. α = β = 1 is IoU; α = β = 0.5 is Dice with smoothing 2s (at s = 0 exactly
    Dice). Equal to MONAI ``TverskyLoss(alpha, beta, smooth_nr=s, smooth_dr=s)``. With
    ``smooth=0`` a zero denominator (empty target and prediction, or only errors of weight
    0) counts as loss 0, with a note.

    Reference: Salehi, Erdogmus & Gholipour (2017), "Tversky loss function for image
    segmentation using 3D fully convolutional deep networks", MLMI. MONAI's
    ``smooth_nr``/``smooth_dr``, ``include_background``, ``activation='softmax'`` and
    ``soft_label`` are keywords here (:class:`OverlapOptions`).
    """
    loss, notes = _tversky_values(
        pred,
        target,
        alpha=alpha,
        beta=beta,
        smooth=smooth,
        from_logits=from_logits,
        opts=OverlapOptions.of(**monai),
    )
    return Terms(loss, notes=notes)


def focal_tversky(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    gamma: float = 0.75,
    alpha: float = 0.5,
    beta: float = 0.5,
    smooth: float = 1.0,
    from_logits: bool = False,
) -> Terms:
    """Focal Tversky loss per image and class: tversky^γ.

    γ < 1 raises small losses (hard images/classes weigh more once the easy ones are
    nearly solved); γ = 1 is Tversky. The paper writes the exponent as 1/γ with γ = 4/3,
    which is the default 0.75 here. Applied per image and class, not to the class mean
    (SMP ``TverskyLoss(gamma)`` raises the class mean instead).

    Reference: Abraham & Khan (2019), "A Novel Focal Tversky Loss Function with Improved
    Attention U-Net for Lesion Segmentation", ISBI.
    """
    values, notes = _tversky_values(
        pred, target, alpha=alpha, beta=beta, smooth=smooth, from_logits=from_logits
    )
    return Terms(np.power(values, gamma), notes=notes)


def generalized_dice(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    w_type: str = "square",
    smooth_nr: float = 1e-5,
    smooth_dr: float = 1e-5,
    include_background: bool = True,
    activation: str = "sigmoid",
    soft_label: bool = False,
    from_logits: bool = False,
) -> Terms:
    """Generalised Dice loss per image: 1 − (2·Σ_c w_c·TP_c + s_nr)/(Σ_c w_c·(Σp_c + Σy_c) + s_dr).

    w_c = 1/(Σy_c)² (``square``), 1/Σy_c (``simple``) or 1 (``uniform``) from the image's
    own target; a class absent from the target (w = ∞) takes the image's largest finite
    weight, as MONAI ``GeneralizedDiceLoss`` (batch=False) does. One value per image.

    Reference: Sudre, Li, Vercauteren, Ourselin & Cardoso (2017), "Generalised Dice
    overlap as a deep learning loss function for highly unbalanced segmentations", DLMIA;
    MONAI ``monai.losses.GeneralizedDiceLoss``.
    """
    opts = OverlapOptions(activation=activation, soft_label=soft_label)
    tp, sum_p, sum_y = _overlap_sums(pred, target, from_logits, opts)
    if not include_background and tp.shape[1] > 1:
        tp, sum_p, sum_y = tp[:, 1:], sum_p[:, 1:], sum_y[:, 1:]
    w = generalized_weights(sum_y, w_type)
    numer = 2.0 * (tp * w).sum(axis=1) + float(smooth_nr)
    denom = ((sum_p + sum_y) * w).sum(axis=1) + float(smooth_dr)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = 1.0 - numer / denom
    return Terms(loss)


def generalized_weights(sum_y: np.ndarray, w_type: str) -> np.ndarray:
    """Generalized Dice class weights per image, shape of ``sum_y`` (images × classes):
    1/(Σy)² (``square``), 1/Σy (``simple``) or 1 (``uniform``); a class absent from the
    image's target (weight ∞) takes that image's largest finite weight (MONAI)."""
    with np.errstate(divide="ignore"):
        if w_type == "square":
            w = 1.0 / (sum_y * sum_y)
        elif w_type == "simple":
            w = 1.0 / sum_y
        else:
            w = np.ones_like(sum_y)
    inf = np.isinf(w)
    if inf.any():
        w[inf] = 0.0
        w = w + inf * w.max(axis=1, keepdims=True)
    return w


# --------------------------------------------------------------------------- pixel-wise losses


def seg_cross_entropy(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    weight: float | tuple[float, ...] | str | None = "none",
    from_logits: bool = False,
) -> Terms:
    """Softmax cross-entropy over the channels, averaged over the pixels of each image.

    −Σ_c w_c·y_c·log p_c per pixel with p = softmax over the C channels of logits (or the
    given per-pixel class probabilities, logs clamped at −100) and y the one-hot or soft
    target; one value per image. The mean over images equals torch
    ``F.cross_entropy(z, y_probabilities, weight=w)`` on ``(n, C, H, W)`` and the CE term
    of MONAI ``DiceCELoss(softmax=True)``.

    Reference: PyTorch ``torch.nn.CrossEntropyLoss`` (class-probability targets); MONAI
    ``monai.losses.DiceCELoss``.
    """
    pred = _as_ncp(pred)
    target = _as_ncp(target)
    n, c, pix = pred.shape
    if c < 2:
        raise ValueError(
            "cross_entropy over segmentation channels needs (n, C, H, W) predictions with C ≥ 2; "
            "use bce for one channel"
        )
    w = None
    if weight is not None and not isinstance(weight, str):
        w = np.asarray(weight, dtype=np.float64).reshape(-1)
        if w.size == 1:
            w = np.full(c, w[0])
        if w.size != c:
            raise ValueError(f"cross_entropy.weight has {w.size} values but there are {c} channels")
    total = np.zeros(n)
    clamped = False
    for sl in _pixel_chunks(pred.shape):
        z = np.asarray(pred[..., sl], dtype=np.float64)
        y = np.asarray(target[..., sl], dtype=np.float64)
        if from_logits:
            m = z.max(axis=1, keepdims=True)
            logp = z - m
            logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
        else:
            with np.errstate(divide="ignore"):
                logp = np.log(z)
            clamped = clamped or bool(np.any((logp < -100.0) & (y != 0)))
            np.maximum(logp, -100.0, out=logp)
        logp *= y
        if w is not None:
            logp *= w[None, :, None]
        total -= logp.sum(axis=(1, 2))
    total /= pix
    return Terms(
        total, notes=["log-probabilities below -100 were clamped at -100"] if clamped else []
    )


seg_bce = _pixel_mean_of(
    bce,
    "seg_bce",
    """Pixel-wise binary cross-entropy, averaged over the pixels of each image and class.

    −[w_p·y·log p + (1−y)·log(1−p)] per pixel with the binary ``bce`` conventions (logs of
    probabilities clamped at −100 as torch ``BCELoss``; logits through the stable softplus
    form of ``BCEWithLogitsLoss``; label smoothing y(1−ε) + ε/2; ``eps`` clips p to
    [eps, 1−eps] instead of clamping). The mean over images and classes equals torch
    ``F.binary_cross_entropy(_with_logits)`` over the whole ``(n, C, P)`` tensor.

    Reference: PyTorch ``torch.nn.BCELoss`` / ``BCEWithLogitsLoss`` documentation.
    """,
)

_seg_focal_sigmoid = _pixel_mean_of(
    focal,
    "seg_focal",
    """Pixel-wise sigmoid focal loss, averaged over the pixels of each image and class.

    −α_t·(1−p_t)^γ·log p_t per pixel, α_t = α for y = 1 and 1−α for y = 0 (α = −1
    disables the weighting), as torchvision ``sigmoid_focal_loss``; the mean over images
    and classes equals its ``reduction='mean'`` over the whole tensor.

    Reference: Lin, Goyal, Girshick, He & Dollár (2017), "Focal Loss for Dense Object
    Detection", ICCV.
    """,
)


def seg_focal(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    activation: str = "sigmoid",
    from_logits: bool = False,
    **params: Any,
) -> Terms:
    """Pixel-wise focal loss, averaged over the pixels of each image and class.

    ``activation="sigmoid"`` (default): the sigmoid focal loss of :func:`focal` per
    pixel (torchvision ``sigmoid_focal_loss``). ``activation="softmax"`` with logits:
    −α_c·(1 − p_c)^γ·y_c·log p_c per pixel and channel, p = softmax over the channels,
    α_c = 1 − α for channel 0 and α for the others (α = −1: none) — MONAI
    ``FocalLoss(use_softmax=True)``.

    Reference: Lin et al. (2017), "Focal Loss for Dense Object Detection", ICCV; MONAI
    ``monai.losses.FocalLoss``.
    """
    if activation != "softmax" or not from_logits:
        return _seg_focal_sigmoid(pred, target, from_logits=from_logits, **params)
    alpha, gamma = float(params.get("alpha", 0.25)), float(params.get("gamma", 2.0))
    pred, target = _as_ncp(pred), _as_ncp(target)
    n, c, pix = pred.shape
    total = np.zeros((n, c))
    for sl in _pixel_chunks(pred.shape):
        z = np.asarray(pred[..., sl], dtype=np.float64)
        ls = z - z.max(axis=1, keepdims=True)
        ls -= np.log(np.exp(ls).sum(axis=1, keepdims=True))
        loss = (
            -np.power(1.0 - np.exp(ls), gamma) * ls * np.asarray(target[..., sl], dtype=np.float64)
        )
        total += loss.sum(axis=-1)
    total /= pix
    if alpha >= 0:
        total *= np.array([1.0 - alpha] + [alpha] * (c - 1))[None, :]
    return Terms(total)


def dice_bce(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    smooth: float = 1.0,
    lambda_dice: float = 1.0,
    lambda_bce: float = 1.0,
    from_logits: bool = False,
) -> Terms:
    """Dice plus pixel-mean BCE per image and class: λ_d·dice + λ_b·mean_pixels(bce).

    The Dice term is :func:`dice` (σ applied to logits); the BCE term is :func:`seg_bce`
    with its defaults (stable logit form, or logs clamped at −100 for probabilities).
    With λ = 1 the mean over images and classes equals MONAI ``DiceCELoss`` for a
    single-channel sigmoid output (Dice mean + ``BCEWithLogitsLoss``) and the common
    "Dice + BCE" sum.

    References: Milletari et al. (2016) V-Net; Isensee et al. (2021) nnU-Net (Dice + CE);
    MONAI ``DiceCELoss``.
    """
    overlap = dice(pred, target, smooth=smooth, from_logits=from_logits)
    pixel = seg_bce(pred, target, from_logits=from_logits)
    loss = lambda_dice * overlap.loss + lambda_bce * pixel.loss
    return Terms(loss, notes=list(dict.fromkeys(overlap.notes + pixel.notes)))
