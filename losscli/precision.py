"""``--dtype``: each loss recomputed in a lower precision, as torch on CPU would compute
it without autocast (SPEC §13).

The generic approach: the loss's own NumPy kernel runs on inputs cast to the dtype
(float16 from NumPy, bfloat16 from ``ml_dtypes``), and the kernels keep the dtype of
their inputs, so every elementwise operation rounds to it, as torch's CPU kernels do.
Class labels stay integers. The per-row terms are then accumulated in float32 (torch's
accumulation type for reduced-precision sums) and the mean rounded to the dtype once.

Each loss entry gains ``precision``: ``dtype``, ``value``, ``rel_error``
(|v − v64|/|v64|, None when either is non-finite), ``non_finite_rows`` and
``first_rows`` (the first five such rows), ``underflow_rows`` (rows with an input that is
non-zero in float64 but 0 after the cast).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from losscli.errors import UsageError
from losscli.registry import LossSpec

#: How many non-finite rows are named.
FIRST_ROWS = 5


def numpy_dtype(name: str) -> np.dtype:
    """The NumPy dtype of ``float16``, ``bfloat16`` (``ml_dtypes``) or ``float32``."""
    if name == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:
            raise UsageError(
                "--dtype bfloat16 needs the ml_dtypes package",
                hint='pip install "losscli[bfloat16]"',
            ) from None
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(name)


def cast(a: Any, dt: np.dtype) -> Any:
    """A floating array cast to ``dt``; integer and boolean arrays (class labels, masks
    of ids) and non-arrays as they are."""
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return a.astype(dt)
    return a


def _underflow(a: Any, c: Any) -> np.ndarray | None:
    """Rows of ``a`` with an element non-zero in float64 but 0 after the cast ``c``."""
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or a.ndim == 0:
        return None
    hit = (a != 0) & (np.asarray(c).astype(np.float64) == 0)
    return hit.reshape(hit.shape[0], -1).any(axis=1)


class PrecisionAccumulator:
    """One loss in a lower precision over chunks: float32 sums of the per-row terms."""

    def __init__(self, spec: LossSpec, dtype: str) -> None:
        self.spec = spec
        self.name = dtype
        self.dt = numpy_dtype(dtype)
        self.num = np.float32(0.0)
        self.den = np.float32(0.0)
        self.non_finite = 0
        self.first_rows: list[int] = []
        self.underflow = 0
        self.failed: str | None = None
        #: The dtype the kernel's terms came out in, when wider than the one asked for.
        self.wider: str | None = None

    def update(self, ds: Any, params: Mapping[str, Any], *, offset: int = 0) -> None:
        """Fold one chunk (a Dataset) in."""
        if self.spec.finalize not in (None, "sqrt"):
            self.failed = (
                f"{self.spec.name} is not a mean of per-row terms (finalize "
                f"{self.spec.finalize}): not recomputed in {self.name}"
            )
        if self.failed is not None:
            return
        dt = self.dt
        pred = cast(ds.pred, dt)
        target = cast(ds.target, dt) if ds.target is not None else None
        under = _underflow(ds.pred, pred)
        tu = _underflow(ds.target, target) if target is not None else None
        if under is not None and tu is not None and tu.shape == under.shape:
            under = under | tu
        if under is not None:
            self.underflow += int(under.sum())
        ctx = {k: cast(v, dt) for k, v in (ds.context or {}).items() if k in self.spec.context}
        try:
            with np.errstate(all="ignore"):
                fn = self.spec.kernel()
                if target is None:
                    terms = fn(pred, **params, **ctx)
                else:
                    terms = fn(pred, target, **params, **ctx)
        except ValueError as exc:  # the float64 run accepted these inputs; a reduced one not
            self.failed = f"not recomputed in {self.name}: {exc}"
            return
        loss = np.asarray(terms.loss)
        if loss.dtype.itemsize > dt.itemsize:
            with np.errstate(all="ignore"):
                kept = loss.astype(dt).astype(loss.dtype)
            if not bool(np.all((kept == loss) | ~np.isfinite(loss))):
                self.wider = loss.dtype.name  # terms not all values of dt: computed wider
        n = loss.shape[0]
        flat = loss.reshape(n, -1).astype(np.float32)
        k = flat.shape[1]
        w = np.ones(n, dtype=np.float32) if terms.weight is None else terms.weight
        w = np.asarray(w, dtype=np.float32)
        if ds.sample_weight is not None:
            w = w * np.asarray(ds.sample_weight, dtype=np.float32)
        bad = ~np.isfinite(flat).all(axis=1)
        if bad.any():
            self.non_finite += int(bad.sum())
            rows = np.flatnonzero(bad)[: FIRST_ROWS - len(self.first_rows)]
            numbers = getattr(ds, "row_numbers", None)
            self.first_rows += [
                int(numbers[r]) if numbers is not None else offset + int(r) for r in rows
            ]
        with np.errstate(all="ignore"):
            self.num += np.float32(np.sum(flat * w[:, None], dtype=np.float32) / np.float32(k))
            self.den += np.float32(np.sum(w, dtype=np.float32))

    def merge(self, other: PrecisionAccumulator) -> PrecisionAccumulator:
        """Fold in the sums of other rows (which follow these)."""
        self.num += other.num
        self.den += other.den
        self.non_finite += other.non_finite
        self.first_rows = (self.first_rows + other.first_rows)[:FIRST_ROWS]
        self.underflow += other.underflow
        self.failed = self.failed or other.failed
        return self

    def finalize(self, v64: float | None, reduction: str) -> dict[str, Any] | None:
        """The ``precision`` entry of a loss whose float64 value is ``v64``; None when the
        loss could not be recomputed (:attr:`failed` says why)."""
        if self.failed is not None:
            return None
        with np.errstate(all="ignore"):
            v32 = self.num if reduction == "sum" else self.num / self.den
            value = np.asarray(v32, dtype=np.float32).astype(self.dt)
            if self.spec.finalize == "sqrt":
                value = np.sqrt(value)
        v = float(value)
        rel = None
        if v64 is not None and math.isfinite(v) and math.isfinite(v64) and v64 != 0:
            rel = abs(v - v64) / abs(v64)
        elif v64 == 0 and math.isfinite(v):
            rel = 0.0 if v == 0 else None
        out = {
            "dtype": self.name,
            "value": v if math.isfinite(v) else None,
            "rel_error": rel,
            "non_finite_rows": self.non_finite,
            "first_rows": list(self.first_rows),
            "underflow_rows": self.underflow,
        }
        if self.wider:
            out["note"] = (
                f"this loss's kernel computes in {self.wider}: only the inputs were rounded "
                f"to {self.name}"
            )
        return out


__all__ = ["PrecisionAccumulator", "cast", "numpy_dtype"]
