"""``--l1 λ`` / ``--l2 λ`` with ``--model-weights W.npy``: loss + weight penalty (SPEC §6).

Reads the model's weights (``.npy``: one array; ``.npz``: every array, e.g. one per
layer), computes the Keras-convention penalties of :mod:`losscli.losses.regularization`
and adds them to every computed loss value.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any

from losscli.errors import DataError, UsageError


def load_weights(path: str) -> list[Any]:
    """The weight arrays of a ``.npy`` or ``.npz`` file (DataError when unreadable)."""
    import numpy as np

    p = Path(path)
    if not p.exists():
        raise DataError(f"model weights file '{path}' does not exist")
    suffix = p.suffix.lower()
    if suffix not in (".npy", ".npz"):
        raise UsageError(
            f"cannot read model weights from '{path}'",
            hint="give a .npy file (one array) or a .npz file (one array per layer)",
        )
    try:
        if suffix == ".npy":
            arrays = [np.load(p, allow_pickle=False)]
        else:
            with np.load(p, allow_pickle=False) as z:
                arrays = [z[k] for k in z.files]
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(f"cannot read model weights from '{path}': {exc}") from None
    out = []
    for a in arrays:
        if not np.issubdtype(a.dtype, np.number):
            raise DataError(f"model weights in '{path}' are not numeric (dtype {a.dtype})")
        a = np.asarray(a, dtype=np.float64)
        if not np.isfinite(a).all():
            raise DataError(f"model weights in '{path}' contain NaN or infinite values")
        out.append(a)
    if not out:
        raise DataError(f"'{path}' holds no arrays")
    return out


def regularization(
    weights_path: str | None, *, l1: float | None = None, l2: float | None = None
) -> dict[str, Any] | None:
    """The penalty block of the report, or None when no penalty was asked for."""
    if l1 is None and l2 is None:
        if weights_path is not None:
            raise UsageError(
                "--model-weights needs --l1 and/or --l2",
                hint="e.g. --l2 1e-4 --model-weights weights.npz",
            )
        return None
    if weights_path is None:
        raise UsageError("--l1/--l2 need --model-weights", hint="e.g. --model-weights weights.npz")
    for name, lam in (("--l1", l1), ("--l2", l2)):
        if lam is not None and (math.isnan(lam) or lam < 0):
            raise UsageError(f"{name} must be a number ≥ 0, got {lam:g}")
    from losscli.losses.regularization import l1_penalty, l2_penalty

    arrays = load_weights(weights_path)
    pen_l1 = l1_penalty(arrays, l1) if l1 is not None else 0.0
    pen_l2 = l2_penalty(arrays, l2) if l2 is not None else 0.0
    return {
        "weights": weights_path,
        "n_weights": int(sum(a.size for a in arrays)),
        "l1": l1,
        "l2": l2,
        "l1_penalty": pen_l1,
        "l2_penalty": pen_l2,
        "penalty": pen_l1 + pen_l2,
        "convention": "Keras: l1·Σ|w| + l2·Σw² (no ½)",
    }


def apply(doc: dict[str, Any], block: dict[str, Any] | None) -> None:
    """Add ``regularization`` and each loss's ``regularized`` value to a report document."""
    if block is None:
        return
    doc["regularization"] = block
    for item in doc["losses"]:
        v = item.get("value")
        item["regularized"] = None if v is None else v + block["penalty"]
