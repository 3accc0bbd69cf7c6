"""Segmentation masks as N-d arrays (.npy, .npz, globs of them) → a :class:`Dataset`.

(N,H,W) → (N,1,H·W); (N,C,H,W) → (N,C,H·W); class-label targets (N,H,W) for C ≥ 2
channels become one-hot. An image with a NaN or infinite pixel is reported (or, with
``--drop-invalid``, dropped whole).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.data.align import RowRef
from losscli.data.dataset import Dataset
from losscli.data.infer import infer_input_kind, percent_hint, percent_like
from losscli.data.mask_labels import is_0_255, mask_255_error
from losscli.data.readers import Table
from losscli.errors import DataError, UsageError


def from_tensors(
    ptab: Table,
    ttab: Table | None,
    task: str,
    logits: bool | None,
    drop_invalid: bool,
    evidence: list[str],
    warnings: list[str],
) -> Dataset:
    """Segmentation masks from N-d arrays: (N,H,W) → (N,1,H·W); (N,C,H,W) → (N,C,H·W)."""
    p, t, ttab = _tensor_pair(ptab, ttab, task)
    masks = _masks(p, t)
    n, c = masks.pred.shape[0], masks.pred.shape[1]
    if task == "auto":
        shape = "×".join(str(s) for s in masks.spatial)
        evidence.append(
            f"{ptab.name} holds an array of shape {tuple(p.shape)} (ndim {p.ndim} ≥ 3) → "
            f"segmentation ({c} channel{'s' if c > 1 else ''} of {shape} pixels)"
        )
    pref, tref = RowRef(ptab), RowRef(ttab)
    keep = _finite_images(masks, pref, tref, drop_invalid, warnings)
    if keep is not None:
        masks.pred, masks.target = masks.pred[keep], masks.target[keep]
        pref, tref = pref.keep(keep), tref.keep(keep)
        n = masks.pred.shape[0]
    if masks.onehot_labels:
        target = _labels_to_onehot(masks.target, c, tref)
    else:
        target = masks.target
        _check_mask_values(target, tref)
    ds = Dataset(
        task="segmentation",
        task_inferred=task == "auto",
        input_kind=None,
        input_kind_inferred=False,
        pred=masks.pred,
        target=np.ascontiguousarray(target),
        row_numbers=pref.rows(n),
        class_names=[str(j) for j in range(c)] if c > 1 else None,
        inputs={
            "predictions": _tensor_input(ptab.name, p),
            "targets": _tensor_input(ttab.name, t),
        },
        evidence=evidence,
        warnings=warnings,
    )
    _tensor_input_kind(ds, pref, logits)
    return ds


def _tensor_pair(
    ptab: Table, ttab: Table | None, task: str
) -> tuple[np.ndarray, np.ndarray, Table]:
    """Predicted and true masks, both N-d arrays of the same number of images."""
    src = ptab if ptab.tensor is not None else ttab
    assert src is not None and src.tensor is not None
    if task not in ("auto", "segmentation"):
        raise DataError(
            f"{src.name} holds an array of shape {src.tensor.shape}; N-d arrays are read as "
            f"segmentation masks, not as {task} data",
            hint="pass --task segmentation, or save 1-D/2-D arrays (one row per sample)",
        )
    if ttab is None:
        raise UsageError(
            "segmentation needs the true masks: pass TARGETS, or an .npz holding 'pred' and "
            "'target' arrays",
        )
    p, t = ptab.tensor, ttab.tensor
    if p is None or t is None:
        other = ttab if p is not None else ptab
        raise DataError(
            f"{src.name} holds N-d masks but {other.name} is a table of {other.n_rows} rows",
            hint="give both predictions and targets as arrays (N,H,W) or (N,C,H,W)",
        )
    if t.shape[0] != p.shape[0]:
        raise DataError(
            f"{ptab.name} holds {p.shape[0]} images but {ttab.name} holds {t.shape[0]} "
            f"(shapes {p.shape} and {t.shape})",
        )
    return p, t, ttab


@dataclass
class _Masks:
    """Masks flattened per image: pred (N, C, P); target (N, C, P), or (N, P) labels."""

    pred: np.ndarray
    target: np.ndarray
    onehot_labels: bool
    spatial: tuple[int, ...]


def _masks(p: np.ndarray, t: np.ndarray) -> _Masks:
    """Flatten the pixels of both arrays; class-label targets stay (N, P)."""
    n = p.shape[0]
    c = 1 if p.ndim == 3 else int(p.shape[1])
    spatial = tuple(p.shape[1:] if p.ndim == 3 else p.shape[2:])
    pred = np.ascontiguousarray(p, dtype=np.float64).reshape(n, c, -1)
    tgt = np.ascontiguousarray(t, dtype=np.float64)
    if t.shape == p.shape:
        return _Masks(pred, tgt.reshape(n, c, -1), False, spatial)
    if p.ndim >= 4 and t.shape[1:] == spatial:
        if c == 1:
            return _Masks(pred, tgt.reshape(n, 1, -1), False, spatial)
        return _Masks(pred, tgt.reshape(n, -1), True, spatial)
    if p.ndim == 3 and t.ndim == 4 and t.shape[1] == 1 and t.shape[2:] == spatial:
        return _Masks(pred, tgt.reshape(n, 1, -1), False, spatial)
    raise DataError(
        f"mask shapes do not match: predictions {p.shape}, targets {t.shape}",
        hint="predictions (N,H,W) or (N,C,H,W); targets the same shape, or (N,H,W) class "
        "labels for C ≥ 2 channels",
    )


def _finite_images(
    masks: _Masks, pref: RowRef, tref: RowRef, drop_invalid: bool, warnings: list[str]
) -> np.ndarray | None:
    """Images with NaN or infinite pixels: an error, or (--drop-invalid) the images to
    keep and a warning. None when every pixel is finite."""
    n = masks.pred.shape[0]
    bad_p = ~np.isfinite(masks.pred.reshape(n, -1)).all(axis=1)
    bad_t = ~np.isfinite(masks.target.reshape(n, -1)).all(axis=1)
    if not (bad_p.any() or bad_t.any()):
        return None
    parts = []
    for bad, ref in ((bad_p, pref), (bad_t, tref)):
        idx = np.flatnonzero(bad)
        if idx.size:
            where = ref.phrase(idx[:5], total=idx.size, noun="image")
            parts.append(f"{ref.name}: NaN or infinite pixels in {where}")
    if not drop_invalid:
        raise DataError(
            "; ".join(parts),
            hint="fix those images, or pass --drop-invalid to skip them",
        )
    keep = ~(bad_p | bad_t)
    if not keep.any():
        raise DataError("every image has NaN or infinite pixels; nothing is left to evaluate")
    warnings.append(
        f"dropped {int((~keep).sum())} of {n} images with NaN or infinite pixels "
        f"(--drop-invalid) — " + "; ".join(parts)
    )
    return keep


def _tensor_input(name: str, a: np.ndarray) -> dict[str, Any]:
    return {"path": name, "columns": [], "rows": a.shape[0], "shape": list(a.shape)}


def _tensor_input_kind(ds: Dataset, pref: RowRef, logits: bool | None) -> None:
    """Probabilities or logits of the predicted masks (--probs: values in [0, 1])."""
    pred = ds.pred
    kind = infer_input_kind(pred, task="segmentation", logits=logits)
    if kind.kind == "probabilities" and logits is False and (pred.min() < 0 or pred.max() > 1):
        n = pred.shape[0]
        idx = np.flatnonzero(((pred < 0) | (pred > 1)).reshape(n, -1).any(axis=1))
        raise DataError(
            f"{pref.name}: probabilities (--probs) must be in [0, 1]; "
            f"{pref.phrase(idx[:5], total=idx.size, noun='image')} "
            f"{'has' if idx.size == 1 else 'have'} values outside",
            hint=percent_hint()
            if percent_like(pred)
            else "these look like logits: drop --probs (or pass --logits)",
        )
    ds.input_kind, ds.input_kind_inferred = kind.kind, kind.inferred
    ds.evidence.extend(kind.evidence)
    ds.warnings.extend(kind.warnings)
    ds.context = {"from_logits": kind.kind == "logits"}


def _labels_to_onehot(labels: np.ndarray, c: int, ref: RowRef) -> np.ndarray:
    """(N, P) integer class labels → (N, C, P) one-hot float64."""
    n = labels.shape[0]
    flat = labels.reshape(n, -1)
    bad_img = np.flatnonzero(((flat != np.round(flat)) | (flat < 0) | (flat >= c)).any(axis=1))
    if bad_img.size:
        row = flat[bad_img[0]]
        v = row[(row != np.round(row)) | (row < 0) | (row >= c)][0]
        raise DataError(
            f"{ref.name}: class label {v:g} in {ref.phrase(bad_img[:5], total=bad_img.size, noun='image')} "
            f"is not one of the {c} channels (0..{c - 1})",
            hint="label masks hold class indices 0..C-1 matching the prediction channels",
        )
    ints = flat.astype(np.int64)
    out = np.zeros((n, c, ints.shape[1]), dtype=np.float64)
    for j in range(c):
        out[:, j, :] = ints == j
    return out


def _check_mask_values(target: np.ndarray, ref: RowRef) -> None:
    n = target.shape[0]
    flat = target.reshape(n, -1)
    if flat.size == 0 or (flat.min() >= 0.0 and flat.max() <= 1.0):
        return
    if is_0_255(flat):
        raise mask_255_error(ref.name)
    bad_img = np.flatnonzero(((flat < 0) | (flat > 1)).any(axis=1))
    row = flat[bad_img[0]]
    v = row[(row < 0) | (row > 1)][0]
    raise DataError(
        f"{ref.name}: mask value {v:g} in {ref.phrase(bad_img[:5], total=bad_img.size, noun='image')} "
        "is outside [0, 1]",
        hint="masks hold 0/1 (or soft values in [0, 1]); for class-label masks give predictions "
        "one channel per class (N,C,H,W)",
    )


__all__ = ["from_tensors"]
