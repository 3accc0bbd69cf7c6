"""Metric-learning losses: contrastive (Hadsell), triplet and cosine embedding (PyTorch).

Every kernel takes the context keyword ``layout``, which says what the rows hold:

``"labels"``
    ``pred`` (n, d) embeddings, ``target`` (n,) class labels. Pairs or triplets are
    formed from the labels over the whole input (not per block), so these specs are not
    decomposable.
``"distance"``
    ``pred`` (n,) precomputed distances, ``target`` (n,) 1 = similar, 0 = dissimilar.
``"pairs"``
    ``pred`` (n, 2d): embedding ``a`` then embedding ``b``; ``target`` as for distance.
``"triplets"``
    ``pred`` (n, 3d): anchor | positive | negative; no target.

:data:`LAYOUTS` lists the layouts each loss accepts; any other layout raises
``ValueError``.

All-pairs and batch-hard computations run in row blocks of about
:data:`PAIR_BLOCK_ELEMENTS` pair entries (2^19 float64 values = 4 MiB per array, a
handful of arrays live at a time), so 20,000 embeddings need well under 100 MB.
Squared distances come from the Gram identity ‖a−b‖² = ‖a‖² + ‖b‖² − 2a·b on
column-centred embeddings (distances do not change under a shift); wherever that value
is small next to ‖a‖² + ‖b‖² — where the identity loses digits — the pair is
recomputed from the coordinate differences, so every distance stays within about
1e-11 relative of the direct formula.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from losscli.losses._reduce import Terms

#: Layouts each embedding loss accepts.
LAYOUTS: dict[str, tuple[str, ...]] = {
    "contrastive": ("labels", "distance", "pairs"),
    "triplet": ("labels", "triplets"),
    "cosine_embedding": ("labels", "pairs"),
}

#: Pair entries per block in the all-pairs / batch-hard loops.
PAIR_BLOCK_ELEMENTS = 1 << 19

#: A Gram-identity squared distance at or below this fraction of ‖a‖² + ‖b‖² is
#: recomputed from coordinate differences (the identity's error is about
#: d·2⁻⁵³·(‖a‖² + ‖b‖²), so the relative error of any kept value is below ~1e-10).
TINY_RATIO = 1e-5

#: PyTorch's CosineEmbeddingLoss adds this to each squared norm (``EPSILON`` in
#: aten/src/ATen/native/Loss.cpp).
COSINE_EPS = 1e-12

#: Pairs recomputed exactly per vectorised step (bounds the temporary (k, d) array).
_RECOMPUTE_CHUNK = 1 << 16

NOTE_NEGATIVE_TARGET = (
    "pair targets of -1 were read as dissimilar (0); 1 means similar (PyTorch ±1 convention)"
)
NOTE_NO_PAIRS = "fewer than two rows: no pair can be formed"
NOTE_ANCHORS_SKIPPED = (
    "anchors without a positive (same label, other row) or a negative carry no weight"
)


# --------------------------------------------------------------------------- helpers


def _check_layout(loss: str, layout: str) -> None:
    if layout not in LAYOUTS[loss]:
        raise ValueError(
            f"{loss} does not accept layout '{layout}'; accepted: {', '.join(LAYOUTS[loss])}"
        )


def _as_2d(pred: np.ndarray) -> np.ndarray:
    x = np.asarray(pred, dtype=np.float64)
    return x.reshape(x.shape[0], -1)


def _split(pred: np.ndarray, parts: int, what: str) -> list[np.ndarray]:
    """Split (n, parts·d) rows into ``parts`` arrays of shape (n, d)."""
    x = _as_2d(pred)
    width = x.shape[1]
    if width == 0 or width % parts:
        raise ValueError(
            f"layout '{what}' needs {parts} equal blocks of embedding columns; got {width} columns"
        )
    d = width // parts
    return [x[:, k * d : (k + 1) * d] for k in range(parts)]


def _pair_targets(target: np.ndarray, notes: list[str]) -> np.ndarray:
    """0/1 similarity targets as float; -1 (PyTorch's dissimilar label) reads as 0."""
    y = np.asarray(target, dtype=np.float64).reshape(-1)
    if np.any(y < 0):
        y = np.where(y < 0, 0.0, y)
        notes.append(NOTE_NEGATIVE_TARGET)
    return y


def _labels(target: np.ndarray | None, n: int) -> np.ndarray:
    if target is None:
        raise ValueError("layout 'labels' needs a target of class labels")
    lab = np.asarray(target).reshape(-1)
    if lab.shape[0] != n:
        raise ValueError(f"got {lab.shape[0]} labels for {n} embeddings")
    return lab


def _row_norms_sq(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


class _Geometry:
    """Embeddings prepared for blockwise squared distances d²(i, j) = ‖x_i + s − x_j‖².

    ``shift`` s is added to every coordinate of the anchor side (PyTorch's
    ``pairwise_distance`` eps convention ‖a − b + eps‖); 0 gives the plain distance.
    """

    def __init__(self, x: np.ndarray, shift: float = 0.0) -> None:
        self.x = x
        self.shift = float(shift)
        n, d = x.shape
        centre = x.mean(axis=0) if n else np.zeros(d)
        xc = x - centre
        anchors = xc + self.shift if self.shift else xc
        self.sqa = _row_norms_sq(anchors)
        self.sq = _row_norms_sq(xc)
        self.sq_max = float(self.sq.max()) if n else 0.0
        # One matrix product gives ‖a‖² + ‖b‖² − 2a·b: [−2a, ‖a‖², 1] · [b, 1, ‖b‖²].
        self.left = np.empty((n, d + 2))
        self.left[:, :d] = -2.0 * anchors  # scaling by −2 is exact
        self.left[:, d] = self.sqa
        self.left[:, d + 1] = 1.0
        self.right = np.empty((n, d + 2))
        self.right[:, :d] = xc
        self.right[:, d] = 1.0
        self.right[:, d + 1] = self.sq
        self.self_sq = d * self.shift * self.shift  # d²(i, i) = ‖shift·1‖²

    def sq_dists(self, rows: slice, cols: slice) -> np.ndarray:
        """d² for anchors ``rows`` × others ``cols`` (unit-step slices) as a fresh array."""
        d2 = self.left[rows] @ self.right[cols].T
        # Recompute where the identity may have lost digits: d² ≤ TINY_RATIO·(‖a‖² + ‖b‖²)
        # (tested against the largest ‖b‖², a superset; negative values always qualify).
        flagged = d2 <= (TINY_RATIO * (self.sqa[rows] + self.sq_max))[:, None]
        r0, c0 = rows.start or 0, cols.start or 0
        same = np.arange(max(r0, c0), min(rows.stop, cols.stop))
        if same.size:  # an item against itself: known exactly
            flagged[same - r0, same - c0] = False
            d2[same - r0, same - c0] = self.self_sq
        if flagged.any():
            ii, jj = np.nonzero(flagged)
            xr, xo = self.x[rows], self.x[cols]
            for k in range(0, ii.size, _RECOMPUTE_CHUNK):
                i, j = ii[k : k + _RECOMPUTE_CHUNK], jj[k : k + _RECOMPUTE_CHUNK]
                diff = xr[i] - xo[j]
                if self.shift:
                    diff += self.shift
                d2[i, j] = _row_norms_sq(diff)
        return d2


def _block_rows(n_cols: int) -> int:
    return max(1, PAIR_BLOCK_ELEMENTS // max(n_cols, 1))


def _all_pairs(n: int, pair_block: Callable[[slice, slice], np.ndarray]) -> Terms:
    """Mean over all unordered pairs i<j as per-row terms.

    ``pair_block(rows, cols)`` returns the pair losses of rows × cols. Only the upper
    triangle is evaluated; each pair's loss is credited to both of its rows. Row i
    carries the mean over the n−1 pairs it belongs to, with weight (n−1)/2, so
    Σ w·l / Σ w is the mean over the n(n−1)/2 pairs, Σ w·l their sum, and the per-row
    values do not depend on row order.
    """
    if n < 2:
        return Terms(np.zeros(n), np.zeros(n), [NOTE_NO_PAIRS])
    sums = np.zeros(n)
    step = _block_rows(n)
    for s in range(0, n, step):
        e = min(s + step, n)
        block = pair_block(slice(s, e), slice(s, n))
        b = e - s
        block[:, :b][np.tril_indices(b)] = 0.0
        sums[s:e] += block.sum(axis=1)
        sums[s:] += block.sum(axis=0)
    return Terms(sums / (n - 1), np.full(n, (n - 1) / 2.0))


def _hadsell(d2: np.ndarray, y: np.ndarray, margin: float) -> np.ndarray:
    """½·y·d² + ½·(1−y)·max(0, m − d)² elementwise (y may be boolean or in [0, 1])."""
    hinge = np.sqrt(d2)
    np.subtract(margin, hinge, out=hinge)
    np.maximum(hinge, 0.0, out=hinge)
    hinge *= hinge
    if y.dtype == bool:
        np.copyto(hinge, d2, where=y)
    else:
        hinge = y * d2 + (1.0 - y) * hinge
    hinge *= 0.5
    return hinge


# --------------------------------------------------------------------------- contrastive


def contrastive(
    pred: np.ndarray,
    target: np.ndarray | None = None,
    *,
    margin: float = 1.0,
    form: str = "hadsell",
    pos_margin: float = 0.0,
    normalize: bool = False,
    reducer: str = "mean",
    layout: str = "labels",
) -> Terms:
    """Contrastive loss in Hadsell's squared form.

    ``form="pml"`` (labels): pytorch-metric-learning's ``ContrastiveLoss`` — unsquared
    hinges max(0, d − pos_margin) for similar pairs and max(0, margin − d) for dissimilar
    ones, each reduced on its own and the two added; ``reducer="avg_nonzero"`` (its
    default ``AvgNonZeroReducer``) averages only the positive ones, ``mean`` all;
    ``normalize`` L2-normalises the embeddings first (its ``normalize_embeddings``).

    ``l = ½·y·d² + ½·(1 − y)·max(0, m − d)²`` with y = 1 for a similar pair, y = 0 for a
    dissimilar one, and d the Euclidean distance (no eps, no normalisation). Layout
    ``distance`` takes d per row, ``pairs`` computes d = ‖a − b‖ per row, and ``labels``
    averages over all unordered pairs i<j of the input (y = 1 when the labels match):
    O(n²·d) time in row blocks of bounded memory.

    Reference: Hadsell, Chopra & LeCun, "Dimensionality Reduction by Learning an
    Invariant Mapping", CVPR 2006 (eq. 4). No library implements this form; PyTorch
    Metric Learning's ContrastiveLoss uses unsquared hinges on normalised embeddings.
    """
    _check_layout("contrastive", layout)
    notes: list[str] = []
    if layout == "labels":
        x = _as_2d(pred)
        if normalize:
            x = _l2_normalized(x)
        lab = _labels(target, x.shape[0])
        if form == "pml":
            return _contrastive_pml(x, lab, margin, pos_margin, nonzero=reducer == "avg_nonzero")
        geo = _Geometry(x)

        def block(rows: slice, cols: slice) -> np.ndarray:
            same = lab[rows, None] == lab[None, cols]
            return _hadsell(geo.sq_dists(rows, cols), same, margin)

        return _all_pairs(x.shape[0], block)
    if target is None:
        raise ValueError(f"layout '{layout}' needs 0/1 similarity targets")
    y = _pair_targets(target, notes)
    if layout == "distance":
        d = np.asarray(pred, dtype=np.float64).reshape(-1)
        d2 = d * d
        hinge = np.maximum(margin - d, 0.0)
        loss = 0.5 * (y * d2 + (1.0 - y) * hinge * hinge)
        return Terms(loss, None, notes)
    a, b = _split(pred, 2, "pairs")
    return Terms(_hadsell(_row_norms_sq(a - b), y, margin), None, notes)


def _contrastive_pml(
    x: np.ndarray, lab: np.ndarray, neg_margin: float, pos_margin: float, *, nonzero: bool
) -> Terms:
    """pytorch-metric-learning ``ContrastiveLoss``: Σ_pos l/N_pos + Σ_neg l/N_neg over the
    pairs i ≠ j (N: the pairs, or with ``nonzero`` those with a positive loss; an empty
    group adds 0). Row i carries n·(its pairs' share of that sum), so the mean over rows
    is the value."""
    n = x.shape[0]
    if n < 2:
        return Terms(np.zeros(n), np.ones(n), [NOTE_NO_PAIRS])
    geo = _Geometry(x)
    pos_sum, neg_sum = np.zeros(n), np.zeros(n)
    pos_cnt = neg_cnt = 0.0
    step = _block_rows(n)
    for s in range(0, n, step):
        e = min(s + step, n)
        d = np.sqrt(np.maximum(geo.sq_dists(slice(s, e), slice(0, n)), 0.0))
        same = lab[s:e, None] == lab[None, :]
        rows = np.arange(e - s)
        other = np.ones_like(same)
        other[rows, s + rows] = False  # i ≠ j
        pos = np.where(same & other, np.maximum(d - pos_margin, 0.0), 0.0)
        neg = np.where(~same, np.maximum(neg_margin - d, 0.0), 0.0)
        pos_sum[s:e] = pos.sum(axis=1)
        neg_sum[s:e] = neg.sum(axis=1)
        pos_cnt += float(np.count_nonzero(pos > 0) if nonzero else np.count_nonzero(same & other))
        neg_cnt += float(np.count_nonzero(neg > 0) if nonzero else np.count_nonzero(~same))
    loss = np.zeros(n)
    if pos_cnt:
        loss += pos_sum / pos_cnt
    if neg_cnt:
        loss += neg_sum / neg_cnt
    return Terms(loss * n, np.ones(n))


# --------------------------------------------------------------------------- triplet


def _torch_distance(a: np.ndarray, b: np.ndarray, eps: float, p: float = 2.0) -> np.ndarray:
    """‖a − b + eps‖_p per row (torch.pairwise_distance: eps added to each coordinate)."""
    diff = a - b
    if eps:
        diff += eps
    if p == 2.0:
        return np.sqrt(_row_norms_sq(diff))
    np.abs(diff, out=diff)
    if p == 1.0:
        return diff.sum(axis=1)
    return np.power(np.power(diff, p).sum(axis=1), 1.0 / p)


def _swapped(
    d_an: np.ndarray, pos: np.ndarray, neg: np.ndarray, eps: float, p: float
) -> np.ndarray:
    """torch's distance swap: min(d(a, n), d(p, n))."""
    return np.minimum(d_an, _torch_distance(pos, neg, eps, p))


def triplet(
    pred: np.ndarray,
    target: np.ndarray | None = None,
    *,
    margin: float = 1.0,
    eps: float = 1e-6,
    mining: str = "hard",
    swap: bool = False,
    p: float = 2.0,
    normalize: bool = False,
    reducer: str = "mean",
    layout: str = "labels",
) -> Terms:
    """Triplet margin loss with PyTorch's distance convention.

    pytorch-metric-learning's ``TripletMarginLoss`` (labels, ``mining="all"``):
    ``normalize`` L2-normalises the embeddings first (its ``normalize_embeddings``),
    ``reducer="avg_nonzero"`` averages only the triplets with a positive loss (its
    ``AvgNonZeroReducer``; no such triplet gives 0), and ``eps=0`` its plain distance.

    ``p``: the norm of the distance (torch ``p``; mining from labels needs p = 2);
    ``swap``: the negative's distance is min(d(a, n), d(p, n)) (torch ``swap``, Balntas
    et al. 2016), for explicit triplets and batch-hard mining.

    ``l = max(0, d(a, p) − d(a, n) + m)`` with ``d(x, y) = ‖x − y + eps‖₂`` (eps added to
    each coordinate of the difference, as ``torch.nn.TripletMarginLoss``; optax adds it
    to the sum of squares instead, a ~1e-6 relative difference).

    Layout ``triplets``: one triplet per row. Layout ``labels``:

    * ``mining="hard"`` (batch-hard, Hermans et al. 2017): each anchor with at least one
      positive (same label, other row) and one negative takes its farthest positive and
      nearest negative; anchors lacking either get weight 0. O(n²·d) time.
    * ``mining="all"``: the mean over every valid (a, p, n). Per anchor the negatives'
      distances are sorted once, and each positive's sum Σₙ max(0, d_ap + m − d_an)
      comes from a prefix sum: O(n² log n) time instead of the O(n³) enumeration
      (about 10 CPU seconds for 20,000 rows of 16), memory bounded by the row blocks.

    References: Schroff, Kalenichenko & Philbin, "FaceNet", CVPR 2015; Hermans, Beyer &
    Leibe, "In Defense of the Triplet Loss for Person Re-Identification", 2017;
    torch.nn.TripletMarginLoss.
    """
    _check_layout("triplet", layout)
    if layout == "triplets":
        a, pos, n = _split(pred, 3, "triplets")
        d_ap = _torch_distance(a, pos, eps, p)
        d_an = _torch_distance(a, n, eps, p)
        if swap:
            d_an = _swapped(d_an, pos, n, eps, p)
        return Terms(np.maximum(d_ap - d_an + margin, 0.0))
    x = _as_2d(pred)
    if normalize:
        x = _l2_normalized(x)
    lab = _labels(target, x.shape[0])
    if p != 2.0:
        raise ValueError("triplet.p other than 2 needs explicit triplets (--param triplet.p)")
    if mining == "all":
        if swap:
            raise ValueError("triplet.swap applies to explicit triplets and mining=hard")
        return _triplet_all(x, lab, margin, eps, nonzero=reducer == "avg_nonzero")
    if reducer != "mean":
        raise ValueError("triplet.reducer=avg_nonzero needs mining=all")
    if mining != "hard":
        raise ValueError(f"unknown triplet mining '{mining}'; use 'hard' or 'all'")
    return _triplet_hard(x, lab, margin, eps, swap=swap)


def batch_hard_triplets(
    x: np.ndarray, labels: np.ndarray, *, eps: float = 1e-6
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Batch-hard mining: per anchor the farthest positive and nearest negative.

    Distances follow ``‖x_a − x_j + eps‖``. Returns ``(positive_index, negative_index,
    valid)``; where ``valid`` is False (no positive or no negative) the indices are 0.
    """
    x = _as_2d(x)
    lab = np.asarray(labels).reshape(-1)
    n = x.shape[0]
    geo = _Geometry(x, shift=eps)
    pos_idx = np.zeros(n, dtype=np.intp)
    neg_idx = np.zeros(n, dtype=np.intp)
    valid = np.zeros(n, dtype=bool)
    step = _block_rows(n)
    for s in range(0, n, step):
        e = min(s + step, n)
        rows = np.arange(s, e)
        d2 = geo.sq_dists(slice(s, e), slice(0, n))
        same = lab[s:e, None] == lab[None, :]
        same[rows - s, rows] = False  # an anchor is not its own positive
        cand = np.where(same, d2, -np.inf)
        pos_idx[s:e] = np.argmax(cand, axis=1)
        has_pos = np.isfinite(cand[rows - s, pos_idx[s:e]])
        del cand
        same[rows - s, rows] = True  # nor its own negative
        np.copyto(d2, np.inf, where=same)
        neg_idx[s:e] = np.argmin(d2, axis=1)
        has_neg = np.isfinite(d2[rows - s, neg_idx[s:e]])
        valid[s:e] = has_pos & has_neg
    pos_idx[~valid] = 0
    neg_idx[~valid] = 0
    return pos_idx, neg_idx, valid


def _triplet_hard(
    x: np.ndarray, lab: np.ndarray, margin: float, eps: float, *, swap: bool = False
) -> Terms:
    n = x.shape[0]
    pos_idx, neg_idx, valid = batch_hard_triplets(x, lab, eps=eps)
    # The chosen distances are recomputed from coordinates, exactly as torch does.
    d_ap = _torch_distance(x, x[pos_idx], eps)
    d_an = _torch_distance(x, x[neg_idx], eps)
    if swap:
        d_an = _swapped(d_an, x[pos_idx], x[neg_idx], eps, 2.0)
    loss = np.where(valid, np.maximum(d_ap - d_an + margin, 0.0), 0.0)
    notes = [] if valid.all() or n == 0 else [NOTE_ANCHORS_SKIPPED]
    return Terms(loss, valid.astype(np.float64), notes)


def _l2_normalized(x: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm (at least 1e-12, as torch ``F.normalize``)."""
    x = np.asarray(x, dtype=np.float64)
    norms = np.sqrt(_row_norms_sq(x))
    return x / np.maximum(norms, 1e-12)[:, None]


def _triplet_all(
    x: np.ndarray, lab: np.ndarray, margin: float, eps: float, *, nonzero: bool = False
) -> Terms:
    """Mean over every valid triplet (``nonzero``: over those with a positive loss, 0
    when there is none — pytorch-metric-learning's AvgNonZeroReducer)."""
    n = x.shape[0]
    geo = _Geometry(x, shift=eps)
    totals = np.zeros(n)
    counts = np.zeros(n)
    positive = np.zeros(n)
    step = _block_rows(n)
    for s in range(0, n, step):
        e = min(s + step, n)
        d = np.sqrt(geo.sq_dists(slice(s, e), slice(0, n)))
        same = lab[s:e, None] == lab[None, :]
        for r in range(e - s):
            negs = np.sort(d[r][~same[r]])
            same[r, s + r] = False  # the anchor is not its own positive
            q = d[r][same[r]] + margin
            if negs.size == 0 or q.size == 0:
                continue
            prefix = np.concatenate(([0.0], np.cumsum(negs)))
            below = np.searchsorted(negs, q, side="left")
            totals[s + r] = float(np.sum(below * q - prefix[below]))
            counts[s + r] = float(q.size) * float(negs.size)
            positive[s + r] = float(np.sum(below))
    if nonzero:
        if not positive.any():  # no triplet with a positive loss: 0, not NaN
            return Terms(np.zeros(n), np.ones(n))
        counts = positive
    loss = np.divide(totals, counts, out=np.zeros(n), where=counts > 0)
    notes = [] if (counts > 0).all() or n == 0 else [NOTE_ANCHORS_SKIPPED]
    return Terms(loss, counts, notes)


# --------------------------------------------------------------------------- cosine


def _cosine_terms(cos: np.ndarray, similar: np.ndarray, margin: float) -> np.ndarray:
    """1 − cos for similar pairs, max(0, cos − m) for dissimilar ones."""
    out = cos - margin
    np.maximum(out, 0.0, out=out)
    np.copyto(out, 1.0 - cos, where=similar)
    return out


def cosine_embedding(
    pred: np.ndarray,
    target: np.ndarray | None = None,
    *,
    margin: float = 0.0,
    layout: str = "labels",
) -> Terms:
    """Cosine embedding loss as ``torch.nn.CosineEmbeddingLoss``.

    ``cos = a·b / √((‖a‖² + 1e-12)(‖b‖² + 1e-12))``; similar pairs (y = 1) cost
    ``1 − cos``, dissimilar pairs (y = 0, or −1 as in PyTorch) ``max(0, cos − m)``.
    Layout ``pairs`` takes one (a | b) pair per row; ``labels`` averages over all
    unordered pairs i<j (similar when the labels match), O(n²·d) time in row blocks.

    Reference: torch.nn.CosineEmbeddingLoss (aten/src/ATen/native/Loss.cpp,
    ``cosine_embedding_loss``).
    """
    _check_layout("cosine_embedding", layout)
    if layout == "labels":
        x = _as_2d(pred)
        lab = _labels(target, x.shape[0])
        mag = _row_norms_sq(x) + COSINE_EPS

        def block(rows: slice, cols: slice) -> np.ndarray:
            cos = x[rows] @ x[cols].T
            cos /= np.sqrt(mag[rows, None] * mag[None, cols])
            return _cosine_terms(cos, lab[rows, None] == lab[None, cols], margin)

        return _all_pairs(x.shape[0], block)
    if target is None:
        raise ValueError("layout 'pairs' needs 0/1 similarity targets")
    notes: list[str] = []
    y = _pair_targets(target, notes)
    a, b = _split(pred, 2, "pairs")
    cos = np.einsum("ij,ij->i", a, b) / np.sqrt(
        (_row_norms_sq(a) + COSINE_EPS) * (_row_norms_sq(b) + COSINE_EPS)
    )
    return Terms(_cosine_terms(cos, y > 0, margin), None, notes)
