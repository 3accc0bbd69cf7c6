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


def _dist_unit(diff: np.ndarray, p: float) -> tuple[np.ndarray, np.ndarray]:
    """(∂‖diff‖_p/∂diff, ‖diff‖_p) per row: diff/d for p = 2, sign(diff) for p = 1,
    sign·|diff|^(p−1)/d^(p−1) otherwise; 0 where d = 0 (torch ``norm`` backward)."""
    if p == 2.0:
        return _unit(diff)
    a = np.abs(diff)
    if p == 1.0:
        return np.sign(diff), a.sum(axis=1)
    d = np.power(np.power(a, p).sum(axis=1), 1.0 / p)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.sign(diff) * np.power(a, p - 1.0) / np.power(d, p - 1.0)[:, None]
    return np.where(d[:, None] > 0, u, 0.0), d


def _triplet_parts(a, pos, neg, margin, eps, p, swap):
    """Per-row gradients of max(0, d(a, p) − d'(a, n) + m) with respect to a, p and n
    (unscaled by the active indicator) and the active indicator (clamp_min: ≥ 0).
    ``swap``: d' = min(d(a, n), d(p, n)), the gradient split evenly at a tie
    (``torch.min`` backward)."""
    u_ap, d_ap = _dist_unit(a - pos + eps, p)
    u_an, d_an = _dist_unit(a - neg + eps, p)
    w_an = np.ones_like(d_an)
    w_pn = np.zeros_like(d_an)
    u_pn = np.zeros_like(u_an)
    d_neg = d_an
    if swap:
        u_pn, d_pn = _dist_unit(pos - neg + eps, p)
        w_an = np.where(d_an < d_pn, 1.0, np.where(d_an == d_pn, 0.5, 0.0))
        w_pn = 1.0 - w_an
        d_neg = np.minimum(d_an, d_pn)
    active = d_ap - d_neg + margin >= 0
    ga = u_ap - w_an[:, None] * u_an
    gp = -u_ap - w_pn[:, None] * u_pn
    gn = w_an[:, None] * u_an + w_pn[:, None] * u_pn
    return ga, gp, gn, active


def _normalize_back(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """∂/∂x of a gradient ``g`` with respect to x/max(‖x‖, 1e-12) (torch ``F.normalize``)."""
    norm = np.sqrt(np.einsum("ij,ij->i", x, x))
    den = np.maximum(norm, 1e-12)
    xh = x / den[:, None]
    radial = np.where(norm >= 1e-12, np.einsum("ij,ij->i", xh, g), 0.0)
    return (g - radial[:, None] * xh) / den[:, None]


def triplet_grad(
    pred,
    target=None,
    *,
    margin: float = 1.0,
    eps: float = 1e-6,
    mining: str = "hard",
    swap: bool = False,
    p: float = 2.0,
    normalize: bool = False,
    reducer: str = "mean",
    layout: str = "labels",
    sample_weight=None,
):
    """max(0, d(a, p) − d(a, n) + m): a gets u_ap − u_an, p gets −u_ap, n gets u_an
    (u = ∂d/∂(a − b + eps), (a − b + eps)/d for p = 2) where the hinge is active
    (clamp_min: ≥ 0); with ``swap`` the negative distance min(d(a, n), d(p, n)) sends its
    part to p and n instead where d(p, n) is the smaller; ``normalize`` goes back through
    the L2 normalisation of the embeddings."""
    x = as_grad_float(pred)
    p = float(p)
    if layout == "triplets":
        a, pos, neg = _split(x, 3, "triplets")
        ga, gp, gn, active = _triplet_parts(a, pos, neg, margin, eps, p, swap)
        c = active * _sw(sample_weight, x.shape[0])
        return np.concatenate([ga, gp, gn], axis=1) * c[:, None]
    if mining != "hard" or reducer != "mean":
        raise ValueError("gradient of triplet with mining=all: not available yet")
    x = x.reshape(x.shape[0], -1)
    raw = x
    if normalize:
        x = x / np.maximum(np.sqrt(np.einsum("ij,ij->i", x, x)), 1e-12)[:, None]
    lab = _labels(target, x.shape[0])
    pos, neg, valid = batch_hard_triplets(x, lab, eps=eps)
    ga, gp, gn, active = _triplet_parts(x, x[pos], x[neg], margin, eps, p, swap)
    c = (valid & active) * _sw(sample_weight, x.shape[0])
    g = ga * c[:, None]
    np.add.at(g, pos, gp * c[:, None])
    np.add.at(g, neg, gn * c[:, None])
    return _normalize_back(raw, g) if normalize else g


def _pair_blocks(n: int):
    step = max(1, PAIR_BLOCK_ELEMENTS // max(n, 1))
    for s in range(0, n, step):
        yield slice(s, min(s + step, n))


def _pair_weights(sw: np.ndarray, rows: slice) -> np.ndarray:
    """(sw_i + sw_j)/2: a pair's weight in Σ_i sw_i·w_i·l_i of the all-pairs mean."""
    return 0.5 * (sw[rows, None] + sw[None, :])


def _contrastive_pml_grad(x, lab, sw, neg_margin, pos_margin, nonzero):
    """pytorch-metric-learning's form: row i carries n·Σ_j (relu(d_ij − m_pos)/N_pos or
    relu(m_neg − d_ij)/N_neg) over j ≠ i, so ∂(Σ_i sw_i·l_i)/∂x_k = Σ_j K_kj·(x_k − x_j)
    with K_kj = n·(sw_k + sw_j)·c_kj/d_kj, c = 1/N_pos on an active similar pair, −1/N_neg
    on an active dissimilar one (``relu``: none at the kink; the counts are not
    differentiated)."""
    n = x.shape[0]
    sq = np.einsum("ij,ij->i", x, x)

    def blocks():
        for rows in _pair_blocks(n):
            d = np.sqrt(np.maximum(sq[rows, None] + sq[None, :] - 2.0 * x[rows] @ x.T, 0.0))
            same = lab[rows, None] == lab[None, :]
            idx = np.arange(rows.start, rows.stop)
            other = np.ones_like(same)
            other[idx - rows.start, idx] = False
            pos = same & other & (d - pos_margin > 0)
            neg = ~same & (neg_margin - d > 0)
            yield rows, d, pos, neg, same & other, ~same

    pos_cnt = neg_cnt = 0.0
    for _, _, pos, neg, all_pos, all_neg in blocks():
        pos_cnt += float(np.count_nonzero(pos if nonzero else all_pos))
        neg_cnt += float(np.count_nonzero(neg if nonzero else all_neg))
    g = np.zeros_like(x)
    for rows, d, pos, neg, _, _ in blocks():
        c = np.zeros_like(d)
        if pos_cnt:
            c += pos / pos_cnt
        if neg_cnt:
            c -= neg / neg_cnt
        with np.errstate(divide="ignore", invalid="ignore"):
            k = np.where(d > 0, c / d, 0.0) * n * (sw[rows, None] + sw[None, :])
        g[rows] = k.sum(axis=1)[:, None] * x[rows] - k @ x
    return g


def contrastive_grad(
    pred,
    target=None,
    *,
    margin: float = 1.0,
    form: str = "hadsell",
    pos_margin: float = 0.0,
    normalize: bool = False,
    reducer: str = "mean",
    layout: str = "labels",
    sample_weight=None,
):
    """½·y·d² + ½·(1 − y)·max(0, m − d)²: ∂/∂x_i = y·(x_i − x_j) − (1 − y)·max(0, m − d)·
    (x_i − x_j)/d, summed over the pairs of row i (layout labels). ``form="pml"`` and
    ``normalize`` (labels): :func:`_contrastive_pml_grad` and back through the L2
    normalisation."""
    x = as_grad_float(pred)
    n = x.shape[0]
    sw = _sw(sample_weight, n)
    if layout == "labels" and (normalize or form == "pml"):
        raw = x.reshape(n, -1)
        x = raw
        if normalize:
            x = raw / np.maximum(np.sqrt(np.einsum("ij,ij->i", raw, raw)), 1e-12)[:, None]
        if form == "pml":
            g = _contrastive_pml_grad(
                x, _labels(target, n), sw, margin, pos_margin, reducer == "avg_nonzero"
            )
        else:
            g = contrastive_grad(x, target, margin=margin, sample_weight=sample_weight)
        return _normalize_back(raw, g) if normalize else g
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
