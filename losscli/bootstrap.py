"""Paired Poisson bootstrap of weighted-mean losses, vectorised.

Each replicate gives every row a count c ~ Poisson(1) (Hanley & MacGibbon 2006; Chamandy
et al. 2012, "Estimating uncertainty for massive data streams"), the same counts for
every model and every loss (paired). A loss that is a weighted mean Σ w·l / Σ w becomes
Σ c·w·l / Σ c·w in the replicate, so all replicates of all (model, loss) columns come out
of one matrix product per row block: counts (B × m) @ per-row terms (m × K).

Counts are drawn from 16-bit random integers by comparing them with the inverse-CDF
edges of Poisson(1) quantised to 2⁻¹⁶ (count = number of edges ≤ the draw), which is
several times faster than ``Generator.poisson``; counts above 8 (probability ≈ 1e-6) are
not produced. Products run in float64 (paired differences between close models can be
far below float32 resolution); memory stays bounded by the block size.

Bounds (docs/security.md): the replicates are kept (B × K float64) for the percentiles,
so B is at most :data:`MAX_REPLICATES`, and the draws B × rows at most :data:`MAX_DRAWS`
(about five minutes of drawing); ``LOSSCLI_MAX_BOOTSTRAP`` and
``LOSSCLI_MAX_BOOTSTRAP_DRAWS`` raise them.
"""

from __future__ import annotations

import math
import os

import numpy as np

from losscli.errors import UsageError

#: Elements of the (replicates × rows) count block held at once.
BLOCK_ELEMENTS = 1 << 22
#: Most replicates (``--bootstrap``); ``LOSSCLI_MAX_BOOTSTRAP`` raises it. 95% percentile
#: intervals are stable to a few digits from 10,000.
MAX_REPLICATES = 100_000
#: Most Poisson draws (replicates × rows); ``LOSSCLI_MAX_BOOTSTRAP_DRAWS`` raises it.
MAX_DRAWS = 10**10


def _limit(var: str, default: int) -> int:
    raw = os.environ.get(var, "").strip().replace("_", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else default


def check_replicates(n_boot: int, n_rows: int | None = None) -> None:
    """A UsageError when ``n_boot`` replicates (of ``n_rows`` rows, when known) exceed
    :data:`MAX_REPLICATES` or :data:`MAX_DRAWS`."""
    most = _limit("LOSSCLI_MAX_BOOTSTRAP", MAX_REPLICATES)
    if n_boot > most:
        raise UsageError(
            f"--bootstrap {n_boot:,} is above the limit of {most:,} replicates",
            hint="1,000–10,000 replicates give stable 95% intervals; to run more, set "
            f"LOSSCLI_MAX_BOOTSTRAP={n_boot}",
        )
    draws_most = _limit("LOSSCLI_MAX_BOOTSTRAP_DRAWS", MAX_DRAWS)
    if n_rows is not None and n_boot * n_rows > draws_most:
        raise UsageError(
            f"--bootstrap {n_boot:,} on {n_rows:,} rows needs {n_boot * n_rows:,} draws, above "
            f"the limit of {draws_most:,}",
            hint=f"use fewer replicates (at most {max(1, draws_most // max(n_rows, 1)):,} "
            f"here), or set LOSSCLI_MAX_BOOTSTRAP_DRAWS={n_boot * n_rows}",
        )


def _poisson_edges() -> list[int]:
    """uint16 thresholds: a draw d gives count k = #{edges ≤ d}, so P(count=k) ≈ P(K=k)."""
    edges = []
    acc = 0.0
    for k in range(9):
        acc += math.exp(-1.0) / math.factorial(k)
        edge = round(acc * (1 << 16))
        if edge >= 1 << 16:
            break
        edges.append(edge)
    return edges


_EDGES = _poisson_edges()


def poisson_counts(draws: np.ndarray) -> np.ndarray:
    """Map uniform uint16 draws to Poisson(1) counts (float64)."""
    counts = np.zeros(draws.shape, dtype=np.uint8)
    mask = np.empty(draws.shape, dtype=bool)
    for edge in _EDGES:
        np.greater_equal(draws, edge, out=mask)
        counts += mask
    return counts.astype(np.float64)


def replicate_means(
    losses: np.ndarray,
    weights: np.ndarray | None = None,
    *,
    n_boot: int,
    seed: int | None = 0,
) -> np.ndarray:
    """Bootstrap replicates of K weighted means at once.

    ``losses`` is (n, K): per-row terms of K (model, loss) columns; ``weights`` (n, K),
    (n,) (the same for every column) or None (all 1). Returns (n_boot, K) replicate values
    Σ c·w·l / Σ c·w.
    """
    losses = np.asarray(losses, dtype=np.float64)
    if losses.ndim == 1:
        losses = losses[:, None]
    n, k = losses.shape
    check_replicates(n_boot, n)
    rng = np.random.default_rng(seed)
    # one matrix holds numerators and denominators: [w·l | w] (or [l | 1] unweighted)
    if weights is None:
        cols = np.empty((n, k + 1), dtype=np.float64)
        cols[:, :k] = losses
        cols[:, k] = 1.0
    else:
        w = np.asarray(weights, dtype=np.float64)
        w = np.broadcast_to(w[:, None] if w.ndim == 1 else w, (n, k))
        cols = np.concatenate([losses * w, w], axis=1)
    acc = np.zeros((n_boot, cols.shape[1]))
    step = max(1, BLOCK_ELEMENTS // max(n_boot, 1))
    for start in range(0, n, step):
        stop = min(start + step, n)
        draws = rng.integers(0, 1 << 16, size=(n_boot, stop - start), dtype=np.uint16)
        acc += poisson_counts(draws) @ cols[start:stop]
    num = acc[:, :k]
    den = acc[:, k:] if weights is not None else acc[:, k : k + 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return num / den


def percentile_interval(reps: np.ndarray, level: float = 0.95) -> np.ndarray:
    """(2, K) lower/upper percentile bounds of replicate columns, ignoring NaN."""
    a = (1.0 - level) / 2.0
    return np.nanquantile(reps, [a, 1.0 - a], axis=0)
