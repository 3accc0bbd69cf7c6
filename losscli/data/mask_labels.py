"""What the values of a segmentation mask are: 0/1 channels, a label map of class ids,
or an 8-bit image mask ({0, 255}, a data error) — shared by the masks read with
predictions (:mod:`losscli.data.masks`) and alone (``recommend --from-data``)."""

from __future__ import annotations

import numpy as np

from losscli.errors import DataError


def is_0_255(values: np.ndarray) -> bool:
    """A mask saved as an 8-bit image: values 0 and 255 only (255 present)."""
    return bool(values.size and np.all((values == 0.0) | (values == 255.0)) and values.max() == 255)


def mask_255_error(name: str) -> DataError:
    """A {0, 255} mask (an 8-bit image): a data error, never read as a class id."""
    return DataError(
        f"{name}: the mask holds only 0 and 255 — an 8-bit image mask, not 0/1 labels or class ids",
        hint="divide it by 255 (mask // 255) to get 0/1; if 255 marks pixels to ignore, "
        "set them to a class id or drop those images",
    )


#: Integer masks with at most this many distinct ids (more than 0/1) are label maps.
MAX_LABEL_IDS = 256


def mask_channels(y: np.ndarray, name: str) -> tuple[np.ndarray, str]:
    """True masks alone (``recommend --from-data``) → ``(N, C, P)`` 0/1 channels, and how
    they were read: ``(N,H,W)`` and ``(N,1,H,W)`` one channel; ``(N,C,H,W)`` 0/1 masks C
    channels; an ``(N,H,W)`` label map of class ids one-hot by id (C = largest id + 1).
    A {0, 255} mask is a data error."""
    a = np.asarray(y, dtype=np.float64)
    n = a.shape[0]
    flat = a.reshape(n, -1)
    if is_0_255(flat):
        raise mask_255_error(name)
    binary = bool(np.all((flat >= 0.0) & (flat <= 1.0)))
    if a.ndim >= 4:
        c = int(a.shape[1])
        if c == 1 or binary:
            how = f"(N,C,H,W) masks of {c} channel{'s' if c > 1 else ''}"
            return a.reshape(n, c, -1), how
        if not binary:
            raise DataError(
                f"{name}: (N,C,H,W) masks hold values outside [0, 1] (max {flat.max():g})",
                hint="masks with channels hold 0/1 per channel; label maps of class ids "
                "are (N,H,W)",
            )
    if binary:
        return a.reshape(n, 1, -1), "(N,H,W) masks of one channel (0/1)"
    ids = np.unique(flat)
    if np.all(ids == np.round(ids)) and ids.min() >= 0 and ids.size <= MAX_LABEL_IDS:
        c = int(ids.max()) + 1
        ints = flat.astype(np.int64)
        out = np.zeros((n, c, ints.shape[1]), dtype=np.float64)
        for j in range(c):
            out[:, j, :] = ints == j
        return out, f"(N,H,W) label map of class ids 0…{c - 1} → {c} one-hot channels"
    raise DataError(
        f"{name}: the mask holds values outside [0, 1] that are not class ids "
        f"(min {flat.min():g}, max {flat.max():g})",
        hint="masks hold 0/1 per pixel, or whole-number class ids 0…C-1",
    )


__all__ = ["is_0_255", "mask_255_error", "mask_channels"]
