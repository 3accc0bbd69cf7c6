"""The one reduction step: per-row terms → a number.

A kernel returns :class:`Terms`: per-row loss values ``loss`` (shape ``(n,)``, or
``(n, k)`` when a row carries k classes/outputs/channels, averaged over k) and optional
per-row ``weight`` (shape ``(n,)``; ``None`` means 1 for every row). Then

* ``mean``: Σ_i w_i · l_i / Σ_i w_i   (w = kernel weight × sample weight)
* ``sum``:  Σ_i w_i · Σ_c l_ic — every element, as ``torch`` ``reduction="sum"`` (for
  ``(n, k)`` terms this is k times the sum of the row means)
* ``sum_over_batch_size``: Σ_i w_i · l_i / Σ_i k_i, k = kernel weight only — Keras'
  default: sample weights scale the terms but do not enter the denominator
* ``none``: the per-row values l_i

Weighted means cover PyTorch's class-weighted cross-entropy (Σ w_y l / Σ w_y), ignored
rows (weight 0) and per-row sample weights with one formula. Because a mean is a ratio of
two sums, partial results from chunks merge exactly (see :class:`Partial`).

The row-block loop allocates and frees block-sized temporaries hundreds of times per call;
:func:`losscli.allocator.tune_allocator` (called by the command line, never at import)
keeps glibc from paying fresh page faults for each block.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Reduction = Literal["mean", "sum", "sum_over_batch_size", "none"]


@dataclass
class Terms:
    """Per-row loss values, optional per-row weights, and convention notes."""

    loss: np.ndarray
    weight: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return int(self.loss.shape[0])

    def per_row(self) -> np.ndarray:
        """One value per row (mean over the trailing class/output axis if any)."""
        if self.loss.ndim == 1:
            return self.loss
        flat = _as_rows(self.loss)
        k = flat.shape[1]
        if k == 0:
            return flat.mean(axis=1)
        # Σ_c l_ic / k as a matrix-vector product: ~10× faster than mean(axis=1) for the
        # narrow (rows, 2…10) blocks of boxes, classes and outputs.
        out = flat @ np.ones(k, dtype=flat.dtype)
        out /= k
        return out


@dataclass
class Partial:
    """Mergeable partial result of a weighted mean: Σ w·l and Σ w (and per-column sums)."""

    num: float = 0.0
    den: float = 0.0
    rows: int = 0
    col_num: np.ndarray | None = None
    col_den: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)
    #: Σ kernel weight (without sample weights): the Keras denominator.
    kden: float = 0.0

    def update(self, terms: Terms, sample_weight: np.ndarray | None = None) -> Partial:
        """Add one block's Σ w·l, Σ w and row count (``sample_weight`` multiplies the
        kernel's weights; per-column sums for ``(n, k)`` terms); returns ``self``."""
        loss = terms.loss
        w = _combined_weight(terms, sample_weight)
        n = terms.n
        wf = None if w is None else np.asarray(w).astype(np.float64, copy=False)
        den = float(n) if wf is None else float(np.sum(wf))
        if loss.ndim == 1:
            if wf is None:
                self.num += float(np.sum(loss, dtype=np.float64))
            else:
                self.num += float(np.dot(wf, loss.astype(np.float64, copy=False)))
        else:
            flat = _as_rows(loss).astype(np.float64, copy=False)
            k = flat.shape[1]
            # Column sums Σ_i w_i·l_ic as one matrix-vector product (sum(axis=0) and
            # mean(axis=1) are ~10× slower on narrow blocks); the row means then add up
            # to Σ_i w_i·mean_c l_ic = Σ_c (Σ_i w_i·l_ic) / k.
            cn = (np.ones(n) if wf is None else wf) @ flat
            self.num += float(np.sum(cn)) / k if k else math.nan
            cd = np.full(k, den)
            self.col_num = cn if self.col_num is None else self.col_num + cn
            self.col_den = cd if self.col_den is None else self.col_den + cd
        self.den += den
        self.kden += (
            float(n) if terms.weight is None else float(np.sum(terms.weight, dtype=np.float64))
        )
        self.rows += n
        for note in terms.notes:
            if note not in self.notes:
                self.notes.append(note)
        return self

    def merge(self, other: Partial) -> Partial:
        """A new partial of these rows and ``other``'s (sums add; notes kept once)."""
        out = Partial(
            self.num + other.num, self.den + other.den, self.rows + other.rows, None, None
        )
        for a in ("col_num", "col_den"):
            x, y = getattr(self, a), getattr(other, a)
            setattr(out, a, x if y is None else (y if x is None else x + y))
        out.notes = list(dict.fromkeys(self.notes + other.notes))
        out.kden = self.kden + other.kden
        return out

    def value(self, reduction: Reduction = "mean") -> float:
        """Σ w·l / Σ w (``mean``; NaN when no row carries weight), Σ w·l over every
        element (``sum``) or Σ w·l / Σ k (``sum_over_batch_size``, Keras)."""
        if reduction == "sum":
            if self.col_num is not None:
                return float(np.sum(self.col_num))
            return self.num
        den = self.kden if reduction == "sum_over_batch_size" else self.den
        if den == 0:
            return math.nan
        return self.num / den

    def per_column(self) -> np.ndarray | None:
        if self.col_num is None or self.col_den is None:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.col_num / self.col_den


def _as_rows(loss: np.ndarray) -> np.ndarray:
    """``(n, k…)`` as ``(n, Πk)`` (also for n = 0, where ``reshape(0, -1)`` is ambiguous)."""
    return loss.reshape(loss.shape[0], math.prod(loss.shape[1:]))


def _combined_weight(terms: Terms, sample_weight: np.ndarray | None) -> np.ndarray | None:
    if terms.weight is None:
        return sample_weight
    if sample_weight is None:
        return terms.weight
    return terms.weight * sample_weight


def reduce_terms(
    terms: Terms, *, reduction: Reduction = "mean", sample_weight: np.ndarray | None = None
) -> float | np.ndarray:
    """Reduce per-row terms: weighted mean (default), weighted sum, or the per-row values.

    A reference for the kernels' tests (one block of terms → a number); the engine
    reduces through :class:`Partial`, which this calls."""
    if reduction == "none":
        return terms.per_row()
    return Partial().update(terms, sample_weight).value(reduction)
