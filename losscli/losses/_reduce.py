"""The one reduction step: per-row terms → a number.

A kernel returns :class:`Terms`: per-row loss values ``loss`` (shape ``(n,)``, or
``(n, k)`` when a row carries k classes/outputs/channels, averaged over k) and optional
per-row ``weight`` (shape ``(n,)``; ``None`` means 1 for every row). Then

* ``mean``: Σ_i w_i · l_i / Σ_i w_i   (w = kernel weight × sample weight)
* ``sum``:  Σ_i w_i · l_i
* ``none``: the per-row values l_i

Weighted means cover PyTorch's class-weighted cross-entropy (Σ w_y l / Σ w_y), ignored
rows (weight 0) and per-row sample weights with one formula. Because a mean is a ratio of
two sums, partial results from chunks merge exactly (see :class:`Partial`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Reduction = Literal["mean", "sum", "none"]


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
        return self.loss.reshape(self.loss.shape[0], -1).mean(axis=1)


@dataclass
class Partial:
    """Mergeable partial result of a weighted mean: Σ w·l and Σ w (and per-column sums)."""

    num: float = 0.0
    den: float = 0.0
    rows: int = 0
    col_num: np.ndarray | None = None
    col_den: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)

    def update(self, terms: Terms, sample_weight: np.ndarray | None = None) -> Partial:
        loss = terms.loss
        w = _combined_weight(terms, sample_weight)
        row = terms.per_row()
        if w is None:
            self.num += float(np.sum(row, dtype=np.float64))
            self.den += float(terms.n)
        else:
            self.num += float(np.dot(w.astype(np.float64), row.astype(np.float64)))
            self.den += float(np.sum(w, dtype=np.float64))
        if loss.ndim > 1:
            flat = loss.reshape(loss.shape[0], -1).astype(np.float64)
            cn = flat.sum(axis=0) if w is None else w.astype(np.float64) @ flat
            cd = (
                np.full(flat.shape[1], float(terms.n))
                if w is None
                else np.full(flat.shape[1], float(np.sum(w, dtype=np.float64)))
            )
            self.col_num = cn if self.col_num is None else self.col_num + cn
            self.col_den = cd if self.col_den is None else self.col_den + cd
        self.rows += terms.n
        for note in terms.notes:
            if note not in self.notes:
                self.notes.append(note)
        return self

    def merge(self, other: Partial) -> Partial:
        out = Partial(
            self.num + other.num, self.den + other.den, self.rows + other.rows, None, None
        )
        for a in ("col_num", "col_den"):
            x, y = getattr(self, a), getattr(other, a)
            setattr(out, a, x if y is None else (y if x is None else x + y))
        out.notes = list(dict.fromkeys(self.notes + other.notes))
        return out

    def value(self, reduction: Reduction = "mean") -> float:
        if reduction == "sum":
            return self.num
        if self.den == 0:
            return math.nan
        return self.num / self.den

    def per_column(self) -> np.ndarray | None:
        if self.col_num is None or self.col_den is None:
            return None
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.col_num / self.col_den


def _combined_weight(terms: Terms, sample_weight: np.ndarray | None) -> np.ndarray | None:
    if terms.weight is None:
        return sample_weight
    if sample_weight is None:
        return terms.weight
    return terms.weight * sample_weight


def reduce_terms(
    terms: Terms, *, reduction: Reduction = "mean", sample_weight: np.ndarray | None = None
) -> float | np.ndarray:
    """Reduce per-row terms: weighted mean (default), weighted sum, or the per-row values."""
    if reduction == "none":
        return terms.per_row()
    return Partial().update(terms, sample_weight).value(reduction)
