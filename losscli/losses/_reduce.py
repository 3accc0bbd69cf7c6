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

:func:`tune_allocator` fixes glibc's malloc thresholds for the process (the command-line
entry point calls it once; importing this module changes nothing): the row-block loop
allocates and frees block-sized temporaries hundreds of times per call, and with glibc's
defaults each block could pay fresh page faults.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

Reduction = Literal["mean", "sum", "none"]

#: glibc ``mallopt`` parameter numbers (``<malloc.h>``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Allocations below this come from the heap instead of a fresh ``mmap`` (glibc's own
#: upper limit for its dynamic threshold, ``DEFAULT_MMAP_THRESHOLD_MAX`` on 64-bit).
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of the heap is returned to the OS only above this (glibc's
#: dynamic rule keeps twice the mmap threshold).
TRIM_THRESHOLD = 64 << 20


#: Outcome of :func:`tune_allocator` in this process: None until it ran, then whether
#: the thresholds took effect.
_allocator_tuned: bool | None = None


def tune_allocator() -> None:
    """Fix glibc's malloc thresholds at the values its dynamic rule settles on.

    Why: kernels are called on row blocks of about 64K elements (512 KiB in float64) and
    allocate one or more block-sized temporaries each. glibc serves the first such
    request with ``mmap``; after freeing it, its dynamic rule raises the mmap threshold to
    that size and the trim threshold to twice it. A kernel that frees two or more block
    temporaries at once then leaves more than the trim threshold free at the top of the
    heap, glibc returns it to the OS after every block, and the next block page-faults
    the same memory in again: huber on 1e7 float64 values took 95 ms instead of 38 ms in a
    fresh process (the slow state vanished once any 32 MiB chunk had been freed, so it
    depended on what the process had done before). Setting both thresholds explicitly
    makes every process start in glibc's settled state: block temporaries are reused
    from the heap, arrays above 32 MiB are still ``mmap``-ed and returned to the OS when
    freed, and at most 64 MiB of free heap is kept.

    This changes process-wide state, so only entry points call it (the command line, the
    benchmark), never an import. Only glibc on Linux is touched (other C libraries keep
    their defaults). Idempotent: later calls do nothing; :func:`allocator_tuned` tells
    whether it took effect.
    """
    global _allocator_tuned
    if _allocator_tuned is None:
        _allocator_tuned = _set_malloc_thresholds()


def allocator_tuned() -> bool:
    """Whether :func:`tune_allocator` ran in this process and took effect."""
    return bool(_allocator_tuned)


def _set_malloc_thresholds() -> bool:
    """Set glibc's mmap and trim thresholds through ``mallopt``; True if both were set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # not glibc (musl, …)
            return False
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok_mmap = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok_trim = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    return ok_mmap and ok_trim


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

    def update(self, terms: Terms, sample_weight: np.ndarray | None = None) -> Partial:
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
        self.rows += n
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
    """Reduce per-row terms: weighted mean (default), weighted sum, or the per-row values."""
    if reduction == "none":
        return terms.per_row()
    return Partial().update(terms, sample_weight).value(reduction)
