"""Classification losses: binary, multilabel (elementwise) and multiclass (per row).

Conventions (SPEC §6), each chosen to match a reference implementation in float64:

* Probabilities: every log is clamped below at −100 (PyTorch ``BCELoss`` / ``NLLLoss`` on
  log-probabilities), so p = 0 or 1 costs at most 100 per element. ``bce`` takes
  ``eps`` to clip p to [eps, 1−eps] instead (scikit-learn ``log_loss`` / Keras).
* Logits: the stable softplus form of ``BCEWithLogitsLoss`` and a max-shifted log-softmax;
  logits of ±1000 give exact, finite values (never sigmoid-then-log).
* Binary label smoothing y(1−ε) + ε/2 (Keras); categorical (1−ε)·onehot + ε/C (PyTorch,
  with PyTorch's class-weight convention, pytorch/pytorch#104776).
* Focal: torchvision ``sigmoid_focal_loss`` (α_t = α for y = 1, 1−α for y = 0; α = −1
  disables it); multiclass focal follows Keras ``CategoricalFocalCrossentropy`` (a scalar
  α scales every class, a list is per class).
* Hinge: 0/1 targets become t = 2y − 1; probability scores become s = 2p − 1. Multiclass
  hinge is Crammer–Singer (scikit-learn ``hinge_loss``).

Binary inputs are ``(n,)`` (multilabel ``(n, L)``, loss per element); multiclass inputs
are ``pred (n, C)`` and integer ``target (n,)``. Kernels assume the inputs already passed
the domain checks of their registry spec.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from losscli.losses._numerics import (
    LOG_CLAMP,
    NLL_CLAMP_NOTE,
    as_float,
    clip_probabilities,
    log_sigmoid,
    log_softmax_rows,
    row_max,
    row_sum,
    sigmoid,
    softmax,
)
from losscli.losses._reduce import Terms

CLAMP_NOTE = "log-probabilities below -100 were clamped at -100 (PyTorch BCELoss convention)"
EPS_NOTE = "probabilities were clipped to [eps, 1-eps] before taking logs (scikit-learn, Keras)"
HINGE_LABEL_NOTE = "0/1 targets were mapped to -1/+1 (t = 2y - 1)"
HINGE_SCORE_NOTE = "probabilities were mapped to scores s = 2p - 1"
SIGMOID_NOTE = "logits were turned into probabilities with the sigmoid"
SOFTMAX_NOTE = "logits were turned into probabilities with the softmax"
ZERO_CLASS_WEIGHT_NOTE = (
    "label smoothing: rows whose class weight is 0 were left out entirely "
    "(PyTorch still adds their smoothing term; pytorch/pytorch#104776)"
)
ABSENT_CLASS_NOTE = (
    "weight=balanced: classes absent from the targets got weight 0, "
    "which removes them from the label-smoothing term"
)

#: Rows × classes per internal block of the non-decomposable multiclass kernel.
_BLOCK_ELEMENTS = 65536


# --------------------------------------------------------------------------- helpers


def _labels_like(target: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Binary targets in the floating dtype of the predictions."""
    return np.asarray(target, dtype=dtype)


def _eps_or_none(eps: float | str | None) -> float | None:
    if eps is None or (isinstance(eps, str) and eps.lower() == "none"):
        return None
    return float(eps)


# --------------------------------------------------------------------------- BCE


def _bce_logits(x: np.ndarray, y: np.ndarray, pos_weight: float) -> np.ndarray:
    """(1−y)·x − (1 + (pw−1)·y)·log σ(x)  (torch ``binary_cross_entropy_with_logits``).

    log σ(x) = min(x, 0) − log1p(e^−|x|) (torch's CPU form, never overflows), with the
    same operations and rounding as torch.
    """
    log_sig = log_sigmoid(x)
    if pos_weight != 1.0:
        log_sig *= (pos_weight - 1.0) * y + 1.0
    out = np.subtract(1.0, y)
    out *= x
    out -= log_sig
    return out


def bce_clamped(p: np.ndarray, y: np.ndarray, pos_weight: float) -> tuple[np.ndarray, bool]:
    """−[pw·y·max(log p, −100) + (1−y)·max(log(1−p), −100)]  (torch ``BCELoss``), and
    whether the clamp changed a term that counts: the one rule of BCE on probabilities
    (also the VAE's reconstruction term)."""
    with np.errstate(divide="ignore"):
        log_p = np.log(p)
        log_q = np.negative(p)
        np.log1p(log_q, out=log_q)
    # y − 1 = −(1 − y) exactly, so (y − 1)·log(1−p) − y·log p is −[y·log p + (1−y)·log(1−p)]
    # with torch's rounding, one pass shorter than negating at the end.
    y_minus_1 = np.subtract(y, 1.0)
    clamped = False
    if log_p.size and min(float(log_p.min()), float(log_q.min())) < LOG_CLAMP:
        clamped = bool(
            np.any((log_p < LOG_CLAMP) & (y != 0)) or np.any((log_q < LOG_CLAMP) & (y_minus_1 != 0))
        )
        np.maximum(log_p, LOG_CLAMP, out=log_p)
        np.maximum(log_q, LOG_CLAMP, out=log_q)
    log_p *= y if pos_weight == 1.0 else pos_weight * y
    log_q *= y_minus_1
    log_q -= log_p
    return log_q, clamped


def _bce_clipped(
    p: np.ndarray, y: np.ndarray, pos_weight: float, eps: float
) -> tuple[np.ndarray, bool]:
    """−[pw·y·log p̃ + (1−y)·log(1−p̃)], p̃ = clip(p, eps, 1−eps)  (scikit-learn ``log_loss``)."""
    clipped = bool(p.size) and bool(np.any((p < eps) | (p > 1.0 - eps)))
    pc = clip_probabilities(p, eps)
    log_p = np.log(pc)
    log_q = np.log(1.0 - pc)
    log_p *= y if pos_weight == 1.0 else pos_weight * y
    log_q *= 1.0 - y
    log_p += log_q
    np.negative(log_p, out=log_p)
    return log_p, clipped


def bce(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    pos_weight: float = 1.0,
    label_smoothing: float = 0.0,
    eps: float | str | None = "none",
    weight: float | tuple[float, ...] | str | None = "none",
    from_logits: bool = False,
) -> Terms:
    """Binary cross-entropy −[w_p·y·log p + (1−y)·log(1−p)] per element; loss shape =
    pred shape (any shape: binary ``(n,)``, multilabel ``(n, L)``, masks).

    ``weight``: torch's ``BCELoss(weight=…)`` rescaling, one number or one per label
    (multilabel columns); it multiplies each element and the mean stays over elements.

    w_p = ``pos_weight``, and with label smoothing y ← y(1−ε) + ε/2 (Keras binary
    convention).

    * probabilities, ``eps="none"``: each log clamped at −100 (torch
      ``F.binary_cross_entropy``; p = 0 with y = 1 costs exactly 100);
    * probabilities, ``eps`` a number: p clipped to [eps, 1−eps] (scikit-learn ``log_loss``
      with eps = 2.22e-16, Keras with 1e-7);
    * logits: l = (1−y)·x + (1 + (w_p−1)·y)·softplus(−x)  (torch
      ``F.binary_cross_entropy_with_logits(pos_weight=w_p)``), finite and exact for any x.

    Soft labels in [0, 1] are allowed everywhere. The probability path keeps torch's
    log1p(−p) for the negative term, so tiny p with y = 0 stays exact (a single log of
    p_t = 1 − p would lose all relative accuracy there). Multilabel ``(n, L)`` rows
    average their L labels, so the mean over rows equals torch's mean over all elements.

    References: PyTorch ``torch.nn.BCELoss`` / ``BCEWithLogitsLoss`` documentation;
    scikit-learn ``sklearn.metrics.log_loss``.
    """
    x = as_float(pred)
    y = _labels_like(target, x.dtype)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    pw = float(pos_weight)
    if from_logits:
        return _label_weighted(Terms(_bce_logits(x, y, pw)), weight, "bce")
    eps_value = _eps_or_none(eps)
    if eps_value is not None:
        loss, clipped = _bce_clipped(x, y, pw, eps_value)
        return _label_weighted(Terms(loss, notes=[EPS_NOTE] if clipped else []), weight, "bce")
    loss, clamped = bce_clamped(x, y, pw)
    return _label_weighted(Terms(loss, notes=[CLAMP_NOTE] if clamped else []), weight, "bce")


def _label_weighted(
    terms: Terms, weight: float | tuple[float, ...] | str | None, name: str
) -> Terms:
    """Terms whose elements are multiplied by ``weight`` (a number, or one per label of
    an ``(n, L)`` loss; ``none``: unchanged) — torch's element ``weight``."""
    if weight is None or isinstance(weight, str):
        return terms
    w = np.asarray(weight, dtype=np.float64).reshape(-1)
    loss = terms.loss
    if w.size == 1:
        terms.loss = loss * w[0]
        return terms
    labels = loss.shape[1] if loss.ndim >= 2 else 1
    if w.size != labels:
        raise ValueError(
            f"{name}.weight has {w.size} values but the predictions have {labels} labels"
        )
    terms.loss = loss * w.reshape((1, labels) + (1,) * (loss.ndim - 2))
    return terms


# --------------------------------------------------------------------------- focal


def focal(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    alpha: float = 0.25,
    gamma: float = 2.0,
    label_smoothing: float = 0.0,
    eps: float | str | None = "none",
    from_logits: bool = False,
) -> Terms:
    """Sigmoid focal loss −α_t·(1−p_t)^γ·log p_t per element; loss shape = pred shape.

    ``label_smoothing`` ε: y ← y(1−ε) + ε/2 before everything (Keras
    ``BinaryFocalCrossentropy``). ``eps`` a number: Keras' form — logits go through the
    sigmoid, and ce is the BCE of p clipped to [eps, 1−eps] (p_t keeps the unclipped p).

    FL = α_t·(1−p_t)^γ·ce,  ce = BCE(p, y),  p_t = p·y + (1−p)(1−y),
    α_t = α·y + (1−α)(1−y) when α ≥ 0 (α = −1 disables it).

    Logits follow torchvision ``ops.sigmoid_focal_loss`` step by step (ce from
    ``binary_cross_entropy_with_logits``, p = σ(x)); probabilities use the −100-clamped
    BCE of :func:`bce`. γ = 0 and α = −1 give exactly BCE.

    Reference: Lin, Goyal, Girshick, He & Dollár (2017), "Focal Loss for Dense Object
    Detection", ICCV; torchvision ``torchvision/ops/focal_loss.py``.
    """
    x = as_float(pred)
    y = _labels_like(target, x.dtype)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    eps_value = _eps_or_none(eps)
    notes: list[str] = []
    if eps_value is not None:
        p = sigmoid(x) if from_logits else x
        ce, clipped = _bce_clipped(p, y, 1.0, eps_value)
        notes = [EPS_NOTE] if clipped else []
    elif from_logits:
        ce = _bce_logits(x, y, 1.0)
        p = sigmoid(x)
    else:
        ce_terms = bce(x, y)
        ce, notes = ce_terms.loss, ce_terms.notes
        p = x
    # torchvision's operations in the same order, in three block-sized arrays:
    # p_t = p·y + (1−p)(1−y); loss = ce·(1−p_t)^γ; α_t = α·y + (1−α)(1−y); loss = α_t·loss
    one_minus_y = np.subtract(1.0, y)
    loss = np.multiply(p, y)
    tmp = np.subtract(1.0, p)
    tmp *= one_minus_y
    loss += tmp
    np.subtract(1.0, loss, out=loss)
    loss **= gamma
    loss *= ce
    if alpha >= 0:
        np.multiply(y, alpha, out=tmp)
        one_minus_y *= 1.0 - alpha
        tmp += one_minus_y
        loss *= tmp
    return Terms(loss, notes=notes)


# --------------------------------------------------------------------------- hinge, brier


def _margin_inputs(
    pred: np.ndarray, target: np.ndarray, from_logits: bool, scores: str = "mapped"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Scores s and ±1 targets t for the binary hinge losses, with their notes
    (``scores="raw"``: probabilities used as they are, as Keras does)."""
    s = as_float(pred)
    y = _labels_like(target, s.dtype)
    notes: list[str] = []
    t = np.multiply(y, 2.0)
    t -= 1.0
    if y.size and not (float(y.min()) == 1.0 and float(y.max()) == 1.0):
        notes.append(HINGE_LABEL_NOTE)
    if not from_logits and scores != "raw":
        s = np.multiply(s, 2.0)
        s -= 1.0
        if s.size:
            notes.append(HINGE_SCORE_NOTE)
    return s, t, notes


def hinge(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    margin: float = 1.0,
    scores: str = "mapped",
    from_logits: bool = False,
) -> Terms:
    """Binary hinge max(0, m − t·s), t = 2y − 1, s = logit or 2p − 1.

    For m = 1 this is scikit-learn ``hinge_loss(y, s)`` (labels {0, 1} → {−1, +1});
    m·hinge(s/m) gives any other margin. Notes state the label and score mappings.
    ``scores="raw"`` uses probabilities as scores unchanged (Keras ``Hinge``).

    Reference: Cortes & Vapnik (1995), "Support-vector networks", Machine Learning 20;
    scikit-learn ``sklearn.metrics.hinge_loss``.
    """
    s, t, notes = _margin_inputs(pred, target, from_logits, scores)
    loss = t  # t is a new array: max(0, m − t·s) in place
    loss *= s
    np.subtract(margin, loss, out=loss)
    np.maximum(loss, 0.0, out=loss)
    return Terms(loss, notes=notes)


def squared_hinge(
    pred: np.ndarray, target: np.ndarray, *, scores: str = "mapped", from_logits: bool = False
) -> Terms:
    """Squared hinge max(0, 1 − t·s)², t = 2y − 1, s = logit or 2p − 1.

    Same label and score mappings as :func:`hinge` (Keras ``squared_hinge`` maps 0/1 labels
    the same way).

    Reference: Keras ``keras.losses.squared_hinge``; Lee & Lin (2013), "A study on L2-loss
    (squared hinge-loss) multiclass SVM", Neural Computation 25.
    """
    s, t, notes = _margin_inputs(pred, target, from_logits, scores)
    loss = t  # t is a new array: max(0, 1 − t·s)² in place
    loss *= s
    np.subtract(1.0, loss, out=loss)
    np.maximum(loss, 0.0, out=loss)
    loss *= loss
    return Terms(loss, notes=notes)


def brier(pred: np.ndarray, target: np.ndarray, *, from_logits: bool = False) -> Terms:
    """Binary Brier score (p − y)² per element; logits go through the sigmoid first.

    Equals scikit-learn ``brier_score_loss(y, p)`` (binary, its default halving of the
    two-column sum leaves the plain mean of (p − y)²).

    Reference: Brier (1950), "Verification of forecasts expressed in terms of
    probability", Monthly Weather Review 78.
    """
    p = as_float(pred)
    y = _labels_like(target, p.dtype)
    notes: list[str] = []
    if from_logits:
        d = sigmoid(p)
        if p.size:
            notes.append(SIGMOID_NOTE)
        d -= y
    else:
        d = p - y
    d *= d
    return Terms(d, notes=notes)


# --------------------------------------------------------------------------- multiclass


def _class_index(target: np.ndarray) -> np.ndarray:
    return np.asarray(target).astype(np.int64, copy=False).reshape(-1)


def _row_blocks(n: int, c: int) -> Iterator[slice]:
    step = max(1, _BLOCK_ELEMENTS // max(c, 1))
    for start in range(0, n, step):
        yield slice(start, min(start + step, n))


def _flat_index(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Flat positions of the entries ``z[i, y_i]`` of a C-contiguous ``(rows, C)`` array.

    A class index outside 0..C−1 would address a neighbouring row, so it is refused
    (ValueError) instead.
    """
    c = z.shape[1]
    if y.size:
        lo, hi = int(y.min()), int(y.max())
        if lo < 0 or hi >= c:
            raise ValueError(
                f"class index {lo if lo < 0 else hi} is outside 0..{c - 1} ({c} prediction columns)"
            )
    idx = np.arange(0, y.shape[0] * c, c, dtype=np.int64)
    idx += y
    return idx


def _take_true(z: np.ndarray, y: np.ndarray) -> np.ndarray:
    """``z[i, y_i]`` for every row (a new array)."""
    return np.take(np.ascontiguousarray(z).reshape(-1), _flat_index(z, y))


def _log_prob_matrix(block: np.ndarray, from_logits: bool) -> tuple[np.ndarray, np.ndarray]:
    """(log-probabilities, raw-log-below-clamp mask or empty) of a (rows, C) block.

    Logits: (z − m) − log Σ_c e^(z_c − m) with m the row maximum (torch's log_softmax).
    """
    if from_logits:
        m, lse = log_softmax_rows(block)
        out = np.subtract(block, m[:, None])
        out -= lse[:, None]
        return out, np.zeros((0,), dtype=bool)
    with np.errstate(divide="ignore"):
        out = np.log(block)
    hit = out < LOG_CLAMP
    np.maximum(out, LOG_CLAMP, out=out)
    return out, hit


def _log_prob_true(
    pred: np.ndarray, y: np.ndarray, from_logits: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(log p_y, p_y, mask of rows whose log the −100 clamp changed or None) of a (n, C)
    block; log p_y = (z_y − max z) − log Σ_c e^(z_c − max z) for logits (torch's
    log_softmax order), else log P_y clamped at −100.

    Only the true-class column of log-softmax is formed: the row maximum by columns, one
    ``exp`` per element, the row sums as a matrix-vector product, one ``log`` per row.
    """
    if from_logits:
        m, lse = log_softmax_rows(pred)
        log_py = _take_true(pred, y)
        log_py -= m
        log_py -= lse
        return log_py, np.exp(log_py), None
    p_y = _take_true(pred, y)
    with np.errstate(divide="ignore"):
        log_py = np.log(p_y)
    hit = None
    if log_py.size and float(log_py.min()) < LOG_CLAMP:
        hit = log_py < LOG_CLAMP
        np.maximum(log_py, LOG_CLAMP, out=log_py)
    return log_py, p_y, hit


def balanced_weights_from_counts(counts: np.ndarray) -> np.ndarray:
    """w_c = n / (C · count_c) from per-class counts (scikit-learn
    ``compute_class_weight('balanced')``); classes with no label get weight 0. The one
    rule for ``weight=balanced``, whether the counts come from one chunk or every row."""
    counts = np.asarray(counts, dtype=np.float64)
    n_classes = counts.shape[0]
    w = np.zeros(n_classes, dtype=np.float64)
    present = counts > 0
    w[present] = counts.sum() / (n_classes * counts[present])
    return w


def balanced_class_weights(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """:func:`balanced_weights_from_counts` of the given labels."""
    return balanced_weights_from_counts(np.bincount(labels, minlength=n_classes)[:n_classes])


def _resolve_class_weight(
    weight: float | tuple[float, ...] | str | None, labels: np.ndarray, n_classes: int
) -> np.ndarray | None:
    if weight is None or (isinstance(weight, str) and weight.lower() == "none"):
        return None
    if isinstance(weight, str):
        if weight.lower() != "balanced":
            raise ValueError(f"cross_entropy.weight: unknown value '{weight}'")
        return balanced_class_weights(labels, n_classes)
    if isinstance(weight, (int, float)):
        return np.full(n_classes, float(weight))
    w = np.asarray(weight, dtype=np.float64).reshape(-1)
    if w.shape[0] != n_classes:
        raise ValueError(
            f"cross_entropy.weight has {w.shape[0]} values but the predictions have "
            f"{n_classes} classes"
        )
    return w


def cross_entropy(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    label_smoothing: float = 0.0,
    weight: float | tuple[float, ...] | str | None = "none",
    ignore_index: int | str | None = "none",
    eps: float | str | None = "none",
    normalize: bool = False,
    from_logits: bool = False,
) -> Terms:
    """Categorical cross-entropy −log p_y with PyTorch's smoothing and weighting rules.

    Probabilities only: ``normalize`` divides each row by its sum first, and ``eps`` a
    number clips them to [eps, 1−eps] instead of clamping logs at −100 (Keras: both,
    eps 1e-7; scikit-learn ``log_loss``: eps = float64 machine epsilon).

    log p = log_softmax(z) for logits, or log P clamped at −100 for probabilities. With
    label smoothing ε and class weights w (1 when none), row i carries

        w_{y_i}·l_i = (1−ε)·w_{y_i}·(−log p_{i,y_i}) + (ε/C)·Σ_c w_c·(−log p_{i,c})

    and the mean divides by Σ_i w_{y_i}: exactly ``F.cross_entropy(z, y, weight=w,
    label_smoothing=ε, ignore_index=k)`` (pytorch/pytorch#104776 describes this
    convention). ``weight='balanced'`` uses n/(C·count_c) over the non-ignored targets
    passed in; rows whose target equals ``ignore_index`` get weight 0 and drop out of both
    terms (all rows ignored → NaN, as torch).

    References: PyTorch ``torch.nn.CrossEntropyLoss`` documentation; Szegedy et al.
    (2016), "Rethinking the Inception Architecture for Computer Vision", CVPR (label
    smoothing).
    """
    z = as_float(pred)
    y = _class_index(target)
    c = int(z.shape[1]) if z.ndim == 2 else 1
    pre_notes: list[str] = []
    if not from_logits:
        z, pre_notes = _prepared_probabilities(z, eps=_eps_or_none(eps), normalize=normalize)
    valid = _kept_rows(y, ignore_index)
    y_safe = np.where(valid, y, 0) if valid is not None else y
    w_class = _resolve_class_weight(weight, y if valid is None else y[valid], c)
    eps = float(label_smoothing)
    nll, smooth, clamped = _class_log_terms(
        z, y_safe, from_logits=from_logits, smoothing=bool(eps), w_class=w_class, valid=valid
    )
    notes = pre_notes + ([NLL_CLAMP_NOTE] if clamped else [])
    row_w = _row_weights(w_class, y_safe, valid)
    if smooth is None:
        loss = nll
    else:
        loss = _smoothed(nll, smooth, eps, c, row_w if w_class is not None else None)
        notes += _smoothing_notes(smooth, w_class, row_w, valid, weight)
    if valid is not None:
        loss = np.where(valid, loss, 0.0)
    return Terms(loss, weight=row_w, notes=notes)


def _prepared_probabilities(
    p: np.ndarray, *, eps: float | None, normalize: bool
) -> tuple[np.ndarray, list[str]]:
    """Rows of probabilities divided by their sum (``normalize``), then clipped to
    [eps, 1−eps] (``eps``), with the note of a clip that changed a value."""
    notes: list[str] = []
    if normalize and p.size:
        p = p / row_sum(p)[:, None]
    if eps is not None:
        if p.size and bool(np.any((p < eps) | (p > 1.0 - eps))):
            notes.append(EPS_NOTE)
        p = clip_probabilities(p, eps)
    return p, notes


def _kept_rows(y: np.ndarray, ignore_index: int | str | None) -> np.ndarray | None:
    """Mask of the rows whose target is not ``ignore_index``; None when every row counts."""
    if ignore_index is None or isinstance(ignore_index, str):
        return None
    valid = y != int(ignore_index)
    return None if bool(valid.all()) else valid


def _class_log_terms(
    z: np.ndarray,
    y: np.ndarray,
    *,
    from_logits: bool,
    smoothing: bool,
    w_class: np.ndarray | None,
    valid: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray | None, bool]:
    """(−log p_y, the smoothing sums −Σ_c w_c·log p_c or None, whether the −100 clamp
    changed a log that counts) per row, in row blocks of about 64K values.

    Without smoothing only the true-class log-probability is formed; with it the whole
    row of logs (class weights w, or 1 when None). Clamped logs of ignored rows, or of
    classes of weight 0, do not count.
    """
    n = int(z.shape[0])
    c = int(z.shape[1]) if z.ndim == 2 else 1
    nll = np.empty(n, dtype=np.float64)
    smooth = np.empty(n, dtype=np.float64) if smoothing else None
    clamped = False
    for sl in _row_blocks(n, c):
        if smooth is None:
            log_py, _, hit = _log_prob_true(z[sl], y[sl], from_logits)
            nll[sl] = -log_py
        else:
            logp, hit = _log_prob_matrix(z[sl], from_logits)
            nll[sl] = -_take_true(logp, y[sl])
            smooth[sl] = -(logp @ w_class if w_class is not None else row_sum(logp))
            if hit.size and w_class is not None:
                hit &= (w_class != 0)[None, :]
        clamped = _counted_clamp(hit, valid, sl) or clamped
    return nll, smooth, clamped


def _counted_clamp(hit: np.ndarray | None, valid: np.ndarray | None, sl: slice) -> bool:
    """Whether a clamp mask of a row block (per row, or per row and class) marks a log of
    a row that is not ignored."""
    if hit is None or not hit.size:
        return False
    if valid is not None:
        hit &= valid[sl] if hit.ndim == 1 else valid[sl][:, None]
    return bool(hit.any())


def _row_weights(
    w_class: np.ndarray | None, y: np.ndarray, valid: np.ndarray | None
) -> np.ndarray | None:
    """Per-row weight: the true class's weight (or 1), 0 for ignored rows; None when all 1."""
    if w_class is None:
        return None if valid is None else valid.astype(np.float64)
    row_w = w_class[y]
    return row_w if valid is None else np.where(valid, row_w, 0.0)


def _smoothed(
    nll: np.ndarray, smooth: np.ndarray, eps: float, c: int, row_w: np.ndarray | None
) -> np.ndarray:
    """(1−ε)·nll + (ε/C)·smooth, with the smoothing term divided by the row's class weight
    when there are class weights (so that the weighted mean is PyTorch's); rows of weight
    0 keep their smoothing sum undivided (they drop out of the mean anyway)."""
    if row_w is None:
        return (1.0 - eps) * nll + (eps / c) * smooth
    safe_w = np.where(row_w != 0, row_w, 1.0)
    return (1.0 - eps) * nll + (eps / c) * smooth / safe_w


def _smoothing_notes(
    smooth: np.ndarray,
    w_class: np.ndarray | None,
    row_w: np.ndarray | None,
    valid: np.ndarray | None,
    weight: object,
) -> list[str]:
    """Notes of label smoothing with class weights: rows dropped by a zero class weight,
    and classes that ``balanced`` weighted 0 because no target has them."""
    if w_class is None or row_w is None:
        return []
    notes: list[str] = []
    dropped = row_w == 0 if valid is None else (row_w == 0) & valid
    if np.any(dropped & (smooth != 0)):
        notes.append(ZERO_CLASS_WEIGHT_NOTE)
    if isinstance(weight, str) and np.any(w_class == 0):
        notes.append(ABSENT_CLASS_NOTE)
    return notes


def _per_class_alpha(alpha: float | tuple[float, ...], n_classes: int) -> np.ndarray | float:
    if isinstance(alpha, (int, float)):
        return float(alpha)
    a = np.asarray(alpha, dtype=np.float64).reshape(-1)
    if a.shape[0] != n_classes:
        raise ValueError(
            f"focal.alpha has {a.shape[0]} values but the predictions have {n_classes} classes"
        )
    return a


def focal_multiclass(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    alpha: float | tuple[float, ...] = 0.25,
    gamma: float = 2.0,
    eps: float | str | None = "none",
    normalize: bool = False,
    from_logits: bool = False,
) -> Terms:
    """Softmax focal loss −α_y·(1 − p_y)^γ·log p_y per row.

    ``eps`` a number: Keras' form — p = softmax(z) for logits, rows divided by their sum
    with ``normalize``, then clipped to [eps, 1−eps] for both the log and the factor.

    p from the softmax of logits, or the given probabilities (log clamped at −100). A scalar
    α scales every class (Keras ``categorical_focal_crossentropy``); a list gives α per
    class, applied by the true class. γ = 0, α = 1 is cross-entropy.

    Reference: Lin et al. (2017), "Focal Loss for Dense Object Detection", ICCV; Keras
    ``keras.losses.CategoricalFocalCrossentropy``.
    """
    z = as_float(pred)
    y = _class_index(target)
    eps_value = _eps_or_none(eps)
    notes: list[str] = []
    if eps_value is not None:
        p = softmax(z) if from_logits else z
        p, notes = _prepared_probabilities(p, eps=eps_value, normalize=normalize)
        p_y = _take_true(p, y)
        log_py, clamped = np.log(p_y), False
    else:
        log_py, p_y, hit = _log_prob_true(z, y, from_logits)
        clamped = hit is not None and bool(hit.any())
    a = _per_class_alpha(alpha, int(z.shape[1]))
    loss = (1.0 - p_y) ** gamma
    loss *= log_py
    np.negative(loss, out=loss)
    loss *= a[y] if isinstance(a, np.ndarray) else a
    return Terms(loss, notes=notes + ([NLL_CLAMP_NOTE] if clamped else []))


def multi_hinge(pred: np.ndarray, target: np.ndarray, *, from_logits: bool = False) -> Terms:
    """Crammer–Singer multiclass hinge max(0, 1 + max_{j≠y} s_j − s_y) per row.

    Scores are used as given (logits or probabilities); equals scikit-learn
    ``hinge_loss(y, S, labels=range(C))`` and optax ``multiclass_hinge_loss``. (torch
    ``multi_margin_loss`` is the different Weston–Watkins sum.)

    Reference: Crammer & Singer (2001), "On the Algorithmic Implementation of Multiclass
    Kernel-based Vector Machines", JMLR 2.
    """
    del from_logits  # scores are used as they are either way
    s = as_float(pred)
    y = _class_index(target)
    idx = _flat_index(s, y)
    if s.shape[1] < 2:  # no other class: the margin is +inf and the loss 0
        return Terms(np.zeros(y.shape[0], dtype=s.dtype))
    others = np.array(s, order="C", copy=True)
    flat = others.reshape(-1)
    s_y = np.take(flat, idx)
    flat[idx] = -np.inf
    loss = row_max(others)  # max_{j≠y} s_j
    loss -= s_y
    loss += 1.0
    np.maximum(loss, 0.0, out=loss)
    return Terms(loss)


def multi_margin(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    p: int = 1,
    margin: float = 1.0,
    weight: float | tuple[float, ...] | str | None = "none",
    from_logits: bool = False,
) -> Terms:
    """Weston–Watkins multiclass hinge (1/C)·Σ_{j≠y} w_y·max(0, m − s_y + s_j)^p per row.

    Scores are used as given (logits or probabilities). ``weight`` (one per class)
    multiplies the row by its true class's weight and the mean stays over rows, exactly
    ``torch.nn.MultiMarginLoss(p, margin, weight)``. (``multi_hinge`` is Crammer–Singer.)

    Reference: Weston & Watkins (1999), "Support Vector Machines for Multi-Class Pattern
    Recognition", ESANN; PyTorch ``torch.nn.MultiMarginLoss`` documentation.
    """
    del from_logits  # scores are used as they are either way
    s = as_float(pred)
    y = _class_index(target)
    c = int(s.shape[1])
    s_y = _take_true(s, y)
    t = s - s_y[:, None]
    t += float(margin)
    np.maximum(t, 0.0, out=t)
    if int(p) == 2:
        t *= t
    t.reshape(-1)[_flat_index(t, y)] = 0.0
    loss = row_sum(t)
    loss /= c
    w = _resolve_class_weight(weight, y, c)
    if w is not None:
        loss *= w[y]
    return Terms(loss)


def brier_multiclass(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    scale_by_half: bool | str = "false",
    from_logits: bool = False,
) -> Terms:
    """Multiclass Brier score Σ_c (p_c − onehot_c)² per row (range [0, 2]).

    ``scale_by_half`` halves it (scikit-learn ≥ 1.7; ``auto``: only with two classes,
    which makes two columns agree with the binary (p − y)²).

    Probabilities as given, or the softmax of logits. Equals scikit-learn
    ``brier_score_loss(y, P, labels=range(C), scale_by_half=False)``.

    Reference: Brier (1950), Monthly Weather Review 78.
    """
    z = as_float(pred)
    y = _class_index(target)
    notes: list[str] = []
    if from_logits:
        d = softmax(z)
        if d.size:
            notes.append(SOFTMAX_NOTE)
    else:
        d = np.array(z, order="C", copy=True)
    flat = d.reshape(-1)
    idx = _flat_index(d, y)
    flat[idx] -= 1.0
    d *= d
    out = row_sum(d)
    how = str(scale_by_half).lower()
    if how == "true" or (how == "auto" and d.shape[1] == 2):
        out *= 0.5
    return Terms(out, notes=notes)


def kl_div_multiclass(
    pred: np.ndarray, target: np.ndarray, *, reduction: str = "batchmean", from_logits: bool = False
) -> Terms:
    """KL(onehot_y ‖ Q) = −log q_y per row (0·log 0 = 0 for the other classes).

    log q from the log-softmax of logits, or log Q clamped at −100 for probabilities.
    Equals ``F.kl_div(log Q, onehot, reduction='batchmean')``; with one-hot targets it
    coincides with cross-entropy.

    Reference: Kullback & Leibler (1951), "On Information and Sufficiency", Annals of
    Mathematical Statistics 22; PyTorch ``torch.nn.KLDivLoss`` documentation.
    """
    z = as_float(pred)
    y = _class_index(target)
    log_qy, _, hit = _log_prob_true(z, y, from_logits)
    clamped = hit is not None and bool(hit.any())
    np.negative(log_qy, out=log_qy)
    if reduction == "mean" and z.ndim == 2:
        log_qy /= z.shape[1]  # torch's mean over every element
    return Terms(log_qy, notes=[NLL_CLAMP_NOTE] if clamped else [])
