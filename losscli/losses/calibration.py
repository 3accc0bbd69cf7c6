"""Calibration error: how far predicted confidence is from observed frequency.

Expected (ECE) and maximum (MCE) calibration error with equal-width bins, as
torchmetrics' ``BinaryCalibrationError`` / ``MulticlassCalibrationError`` define them
(``norm="l1"`` and ``norm="max"``):

* binary: confidence c = p (the probability of the positive class; sigmoid of logits),
  accuracy a = y (the 0/1 target);
* multiclass: c = max_k p_k (softmax of logits), a = 1 when argmax_k p_k = y else 0.

Bin b of ``bins`` holds the rows with edge_b ≤ c < edge_{b+1} over
``edges = linspace(0, 1, bins + 1)``; c = 1 falls in an extra last bin, exactly as
``torch.bucketize(c, edges, right=True) − 1`` places it. With the weighted count
n_b, mean confidence c̄_b and accuracy ā_b of each bin:

    ECE = Σ_b (n_b / Σ n) · |ā_b − c̄_b|        MCE = max_b |ā_b − c̄_b|  (empty bins 0)

Neither is a mean of per-row terms, so :func:`calibration_bins` returns per-row bin
memberships (count, confidence, accuracy per bin) whose column sums merge across chunks
like any partial, and :func:`ece_from_sums` / :func:`mce_from_sums` finish them.

References: Naeini, Cooper & Hauskrecht (2015), Obtaining Well Calibrated
Probabilities Using Bayesian Binning, AAAI; Guo, Pleiss, Sun & Weinberger (2017), On
Calibration of Modern Neural Networks, ICML; torchmetrics
``torchmetrics.functional.classification.calibration_error``.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import numpy as np

from losscli.losses._numerics import as_float, sigmoid, softmax
from losscli.losses._reduce import Terms


@cache
def _edges(bins: int) -> tuple[float, ...]:
    steps = bins + 1
    step = 1.0 / bins
    half = steps // 2
    # the second half as one fused multiply-add, 1 − step·(steps − 1 − i) rounded once
    return tuple(
        i * step if i < half else float(Fraction(1) - Fraction(step) * (steps - 1 - i))
        for i in range(steps)
    )


def bin_edges(bins: int) -> np.ndarray:
    """``bins + 1`` equal-width edges over [0, 1], bit for bit as ``torch.linspace(0, 1,
    bins + 1, dtype=float64)`` computes them on CPU (the first half up from 0, the second
    half down from 1 with one rounding), so that a confidence on an edge falls in the same
    bin as in torchmetrics."""
    return np.array(_edges(int(bins)))


def confidences(
    pred: np.ndarray, target: np.ndarray, *, from_logits: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Per-row confidence and accuracy: binary (one column) on p(positive) vs y,
    multiclass on the top probability vs argmax = y."""
    p = as_float(pred)
    if p.ndim == 1 or p.shape[1] == 1:
        p = p.reshape(-1)
        conf = sigmoid(p) if from_logits else p
        acc = as_float(target).reshape(-1)
        return conf, acc
    prob = softmax(p, axis=1) if from_logits else p
    top = np.argmax(prob, axis=1)
    conf = np.take_along_axis(prob, top[:, None], axis=1)[:, 0]
    acc = (top == np.asarray(target).reshape(-1).astype(np.int64)).astype(np.float64)
    return conf, acc


def calibration_bins(
    pred: np.ndarray, target: np.ndarray, *, bins: int = 15, from_logits: bool = False
) -> Terms:
    """Per-row bin memberships, shape ``(n, 3·(bins + 1))``: for each bin slot the
    indicator, the confidence and the accuracy of the row when it falls in that slot
    (0 elsewhere). Column sums give each bin's count, Σ confidence and Σ accuracy."""
    if int(bins) < 1:
        raise ValueError(f"bins must be ≥ 1, got {bins}")
    conf, acc = confidences(pred, target, from_logits=from_logits)
    slots = int(bins) + 1
    idx = np.searchsorted(bin_edges(bins), conf, side="right") - 1
    idx = np.clip(idx, 0, slots - 1)
    n = conf.shape[0]
    out = np.zeros((n, 3 * slots))
    rows = np.arange(n)
    out[rows, idx] = 1.0
    out[rows, slots + idx] = conf
    out[rows, 2 * slots + idx] = acc
    return Terms(out)


def _bin_gaps(sums: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each bin's weighted count and |ā_b − c̄_b| (0 for an empty bin) from the column
    sums of :func:`calibration_bins`."""
    slots = sums.shape[0] // 3
    count, conf, acc = sums[:slots], sums[slots : 2 * slots], sums[2 * slots :]
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(count > 0, np.abs(acc / count - conf / count), 0.0)
    return count, gap


def ece_from_sums(sums: np.ndarray) -> float:
    """Expected calibration error Σ_b (n_b/Σn)·|ā_b − c̄_b| (NaN with no rows)."""
    count, gap = _bin_gaps(np.asarray(sums, dtype=np.float64))
    total = float(count.sum())
    return float(np.dot(count, gap) / total) if total > 0 else float("nan")


def mce_from_sums(sums: np.ndarray) -> float:
    """Maximum calibration error max_b |ā_b − c̄_b| (NaN with no rows)."""
    count, gap = _bin_gaps(np.asarray(sums, dtype=np.float64))
    return float(gap.max()) if float(count.sum()) > 0 else float("nan")


#: How a loss whose value is not a mean of per-row terms is finished from its column
#: sums (the registry's ``finalize`` names one of these).
FINISHERS = {"ece": ece_from_sums, "mce": mce_from_sums}
