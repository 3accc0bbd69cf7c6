"""Gradients of the metric-learning losses (``losses/embedding.py``) with respect to the
embeddings.

With layout ``labels`` a row's loss involves other rows (its mined positive and negative,
or every pair it belongs to), so these kernels return the whole gradient
∂(Σ_i sw_i·w_i·l_i)/∂pred and take the sample weights themselves
(:data:`HANDLES_SAMPLE_WEIGHT`). Mining (which positive is the farthest) is not
differentiated, as in torch: the gradient flows through the chosen distances.

Conventions: torch's ``pairwise_distance`` d = ‖a − b + eps‖ (triplet), the Euclidean
distance without eps (contrastive; its derivative at d = 0 is 0, as torch's ``norm``
backward), ``clamp_min(x, 0)`` passing the gradient at x = 0 (torch's triplet and
cosine embedding losses).
"""

from __future__ import annotations

import numpy as np

from losscli.losses.embedding import (
    COSINE_EPS,
    PAIR_BLOCK_ELEMENTS,
    _labels,
    _split,
    batch_hard_triplets,
)
from losscli.losses.grads._common import as_grad_float

__all__ = ["contrastive_grad", "cosine_embedding_grad", "triplet_grad"]

#: The gradient kernels of this module weigh rows by the sample weights themselves.
HANDLES_SAMPLE_WEIGHT = True


def _sw(sample_weight, n: int) -> np.ndarray:
    return np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)


def _unit(diff: np.ndarray) -> np.ndarray:
    """diff/‖diff‖ per row, 0 where ‖diff‖ = 0."""
    d = np.sqrt(np.einsum("ij,ij->i", diff, diff))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(d[:, None] > 0, diff / d[:, None], 0.0), d


def triplet_grad(
    pred,
    target=None,
    *,
    margin: float = 1.0,
    eps: float = 1e-6,
    mining: str = "hard",
    layout: str = "labels",
    sample_weight=None,
):
    """max(0, d(a, p) − d(a, n) + m): a gets u_ap − u_an, p gets −u_ap, n gets u_an
    (u = (a − b + eps)/d) where the hinge is active (clamp_min: ≥ 0)."""
    x = as_grad_float(pred)
    if layout == "triplets":
        a, p, n = _split(x, 3, "triplets")
        u_ap, d_ap = _unit(a - p + eps)
        u_an, d_an = _unit(a - n + eps)
        c = (d_ap - d_an + margin >= 0) * _sw(sample_weight, x.shape[0])
        return np.concatenate([u_ap - u_an, -u_ap, u_an], axis=1) * c[:, None]
    if mining != "hard":
        raise ValueError("gradient of triplet with mining=all: not available yet")
    x = x.reshape(x.shape[0], -1)
    lab = _labels(target, x.shape[0])
    pos, neg, valid = batch_hard_triplets(x, lab, eps=eps)
    u_ap, d_ap = _unit(x - x[pos] + eps)
    u_an, d_an = _unit(x - x[neg] + eps)
    c = (valid & (d_ap - d_an + margin >= 0)) * _sw(sample_weight, x.shape[0])
    g = (u_ap - u_an) * c[:, None]
    np.add.at(g, pos, -u_ap * c[:, None])
    np.add.at(g, neg, u_an * c[:, None])
    return g


def _pair_blocks(n: int):
    step = max(1, PAIR_BLOCK_ELEMENTS // max(n, 1))
    for s in range(0, n, step):
        yield slice(s, min(s + step, n))


def _pair_weights(sw: np.ndarray, rows: slice) -> np.ndarray:
    """(sw_i + sw_j)/2: a pair's weight in Σ_i sw_i·w_i·l_i of the all-pairs mean."""
    return 0.5 * (sw[rows, None] + sw[None, :])


def contrastive_grad(
    pred, target=None, *, margin: float = 1.0, layout: str = "labels", sample_weight=None
):
    """½·y·d² + ½·(1 − y)·max(0, m − d)²: ∂/∂x_i = y·(x_i − x_j) − (1 − y)·max(0, m − d)·
    (x_i − x_j)/d, summed over the pairs of row i (layout labels)."""
    x = as_grad_float(pred)
    n = x.shape[0]
    sw = _sw(sample_weight, n)
    if layout == "distance":
        d = x.reshape(-1)
        y = (np.asarray(target).reshape(-1) > 0).astype(np.float64)
        return (y * d - (1 - y) * np.maximum(margin - d, 0.0)) * sw
    if layout == "pairs":
        a, b = _split(x, 2, "pairs")
        y = (np.asarray(target).reshape(-1) > 0).astype(np.float64)
        u, d = _unit(a - b)
        ga = y[:, None] * (a - b) - ((1 - y) * np.maximum(margin - d, 0.0))[:, None] * u
        return np.concatenate([ga, -ga], axis=1) * sw[:, None]
    x = x.reshape(n, -1)
    lab = _labels(target, n)
    sq = np.einsum("ij,ij->i", x, x)
    g = np.zeros_like(x)
    for rows in _pair_blocks(n):
        diff2 = np.maximum(sq[rows, None] + sq[None, :] - 2.0 * x[rows] @ x.T, 0.0)
        d = np.sqrt(diff2)
        same = lab[rows, None] == lab[None, :]
        with np.errstate(divide="ignore", invalid="ignore"):
            hinge = np.where(d > 0, np.maximum(margin - d, 0.0) / d, 0.0)
        k = np.where(same, 1.0, -hinge) * _pair_weights(sw, rows)
        idx = np.arange(rows.start, rows.stop)
        k[idx - rows.start, idx] = 0.0
        g[rows] = k.sum(axis=1)[:, None] * x[rows] - k @ x
    return g


def cosine_embedding_grad(
    pred, target=None, *, margin: float = 0.0, layout: str = "labels", sample_weight=None
):
    """1 − cos (similar) or max(0, cos − m) (dissimilar), torch's
    cos = a·b/√((‖a‖² + 1e-12)(‖b‖² + 1e-12)): ∂cos/∂a = b/den − cos·a/(‖a‖² + 1e-12)."""
    x = as_grad_float(pred)
    n = x.shape[0]
    sw = _sw(sample_weight, n)
    if layout == "pairs":
        a, b = _split(x, 2, "pairs")
        y = np.asarray(target).reshape(-1) > 0
        ma = np.einsum("ij,ij->i", a, a) + COSINE_EPS
        mb = np.einsum("ij,ij->i", b, b) + COSINE_EPS
        den = np.sqrt(ma * mb)
        cos = np.einsum("ij,ij->i", a, b) / den
        s = np.where(y, -1.0, (cos - margin >= 0).astype(np.float64)) * sw
        ga = b / den[:, None] - (cos / ma)[:, None] * a
        gb = a / den[:, None] - (cos / mb)[:, None] * b
        return np.concatenate([ga * s[:, None], gb * s[:, None]], axis=1)
    x = x.reshape(n, -1)
    lab = _labels(target, n)
    mag = np.einsum("ij,ij->i", x, x) + COSINE_EPS
    g = np.zeros_like(x)
    for rows in _pair_blocks(n):
        den = np.sqrt(mag[rows, None] * mag[None, :])
        cos = (x[rows] @ x.T) / den
        same = lab[rows, None] == lab[None, :]
        s = np.where(same, -1.0, (cos - margin >= 0).astype(np.float64))
        k = s * _pair_weights(sw, rows)
        idx = np.arange(rows.start, rows.stop)
        k[idx - rows.start, idx] = 0.0
        g[rows] = (k / den) @ x - ((k * cos).sum(axis=1) / mag[rows])[:, None] * x[rows]
    return g
