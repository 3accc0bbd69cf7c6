"""Measure the data behind ``recommend --from-data``: class balance, outliers, overconfidence.

Pure NumPy on arrays the data layer has already read and validated. Each measurement
becomes one evidence row ``{name, value, threshold, verdict, condition, sentence,
details}``; a row whose verdict crosses its threshold switches its ``condition`` on.
The cut-offs come from the rules file (:class:`~losscli.rules.schema.Thresholds`).

- **Class balance** (binary, multilabel per label, segmentation per channel): share of
  the rarer class, minority share = min(n₁, n₀)/n; imbalanced below
  ``minority_share``. Multiclass: imbalance ratio max_c n_c / min_c n_c (scale-free in
  the number of classes); imbalanced above ``imbalance_ratio``.
- **Outliers** (regression): the modified z-score of Iglewicz & Hoaglin (1993),
  z = 0.6745·(x − median)/MAD with MAD = median|x − median|, on the targets or, when
  predictions are given, on the residuals y − ŷ (per output column). When MAD = 0 the
  mean absolute deviation takes its place, z = (x − median)/(1.253314·MeanAD). The data
  has outliers when the share of |z| > ``robust_z`` exceeds ``outlier_share``. Excess
  kurtosis m₄/m₂² − 3 (Fisher; normal = 0) is reported alongside.
- **Overconfidence** (binary, multiclass, multilabel with predictions): mean top-class
  probability minus accuracy, a one-bin calibration gap (Guo et al. 2017, "On
  Calibration of Modern Neural Networks"); overconfident above ``overconfidence_gap``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from losscli.errors import DataError
from losscli.rules.schema import Thresholds

__all__ = ["measure", "robust_z"]

Evidence = dict[str, Any]

#: 0.6745 = Φ⁻¹(0.75): makes MAD a consistent estimate of σ for normal data.
_MAD_Z = 0.6745
#: √(π/2) = 1.253314: the same role for the mean absolute deviation.
_MEANAD_Z = 1.253314


def measure(
    task: str,
    targets: Any,
    predictions: Any = None,
    *,
    thresholds: Thresholds,
    from_logits: bool | None = None,
) -> tuple[frozenset[str], list[Evidence]]:
    """Measure ``targets`` (and ``predictions``) for ``task``.

    Returns the conditions the data switches on and the evidence rows. ``from_logits``
    None means: probabilities when every prediction lies in [0, 1] (and multiclass rows
    sum to 1), logits otherwise.
    """
    y = np.asarray(targets, dtype=np.float64)
    p = None if predictions is None else np.asarray(predictions, dtype=np.float64)
    if y.size == 0:
        raise DataError("there are no targets to measure")
    for name, arr in (("targets", y), ("predictions", p)):
        if arr is not None and not np.all(np.isfinite(arr)):
            raise DataError(f"the {name} contain NaN or infinite values")

    rows: list[Evidence]
    if task == "regression":
        rows = _regression(y, p, thresholds)
    elif task in ("binary", "multilabel"):
        rows = [_two_class_balance(y.reshape(len(y), -1), thresholds, per="label")]
        if p is not None:
            probs = _probabilities_binary(p, from_logits)
            rows.append(_overconfidence_binary(y, probs, thresholds))
        if task == "binary":
            rows[0] = _binary_wording(rows[0])
    elif task == "multiclass":
        n_classes = p.shape[1] if p is not None and p.ndim == 2 else None
        rows = [_multiclass_balance(y, n_classes, thresholds)]
        if p is not None:
            rows.append(
                _overconfidence_multiclass(y, _probabilities_multiclass(p, from_logits), thresholds)
            )
    elif task == "segmentation":
        masks = y.reshape(y.shape[0], 1, -1) if y.ndim <= 2 else y.reshape(*y.shape[:2], -1)
        per_channel = np.moveaxis(masks, 1, -1).reshape(-1, masks.shape[1])
        rows = [_two_class_balance(per_channel, thresholds, per="channel")]
    else:
        rows = [
            {
                "name": "measurements",
                "value": None,
                "threshold": None,
                "verdict": "not measured",
                "condition": None,
                "sentence": f"losscli measures class balance, outliers and overconfidence; "
                f"none of them applies to {task}, so the task alone decides.",
                "details": {},
            }
        ]
    conditions = frozenset(
        r["condition"] for r in rows if r["condition"] and r["verdict"] == r["condition"]
    )
    return conditions, rows


# --------------------------------------------------------------------------- regression


def robust_z(x: np.ndarray) -> np.ndarray:
    """Modified z-scores of ``x`` along axis 0 (see the module docstring)."""
    med = np.median(x, axis=0)
    dev = np.abs(x - med)
    mad = np.median(dev, axis=0)
    mean_ad = np.mean(dev, axis=0)
    scale = np.where(mad > 0, mad / _MAD_Z, _MEANAD_Z * mean_ad)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(scale > 0, (x - med) / np.where(scale > 0, scale, 1.0), 0.0)
    return z


def _regression(y: np.ndarray, p: np.ndarray | None, t: Thresholds) -> list[Evidence]:
    basis = "targets" if p is None else "residuals"
    x = y if p is None else y - p.reshape(y.shape)
    x = x.reshape(len(x), -1)
    z = robust_z(x)
    outlying = int(np.count_nonzero(np.abs(z) > t.robust_z))
    share = outlying / z.size
    has = share > t.outlier_share
    verdict = "outliers" if has else "no outliers"
    rows: list[Evidence] = [
        {
            "name": "outlier share",
            "value": share,
            "threshold": t.outlier_share,
            "verdict": verdict,
            "condition": "outliers",
            "sentence": (
                f"{outlying} of {z.size} {basis} ({share:.2%}) lie beyond a robust z-score of "
                f"±{t.robust_z:g}; more than {t.outlier_share:.0%} counts as outliers"
                + (", so the data has outliers." if has else ", so it does not.")
            ),
            "details": {
                "basis": basis,
                "robust_z": t.robust_z,
                "n_outlying": outlying,
                "median": _finite(float(np.median(x))),
                "max_abs_z": _finite(float(np.max(np.abs(z)))),
            },
        }
    ]
    kurt = _excess_kurtosis(x)
    heavy = kurt is not None and kurt > t.excess_kurtosis
    rows.append(
        {
            "name": "excess kurtosis",
            "value": kurt,
            "threshold": t.excess_kurtosis,
            "verdict": "heavy tails" if heavy else "normal tails",
            "condition": None,
            "sentence": (
                f"The {basis} have constant values, so their tails cannot be judged."
                if kurt is None
                else f"Excess kurtosis of the {basis} is {kurt:.3g} (normal = 0); above "
                f"{t.excess_kurtosis:g} the tails are "
                + ("heavy, which supports a robust loss." if heavy else "heavy; these are not.")
            ),
            "details": {"basis": basis},
        }
    )
    return rows


def _excess_kurtosis(x: np.ndarray) -> float | None:
    """Largest excess kurtosis over the columns of ``x`` (None if all are constant)."""
    c = x - x.mean(axis=0)
    m2 = np.mean(c**2, axis=0)
    m4 = np.mean(c**4, axis=0)
    ok = m2 > 0
    if not np.any(ok):
        return None
    return float(np.max(m4[ok] / m2[ok] ** 2 - 3.0))


# --------------------------------------------------------------------------- class balance


def _two_class_balance(y: np.ndarray, t: Thresholds, *, per: str) -> Evidence:
    """Minority share of 0/1 columns (labels or mask channels); the worst column decides."""
    pos = np.count_nonzero(y >= 0.5, axis=0).astype(np.float64)
    n = y.shape[0]
    minority = np.minimum(pos, n - pos) / n
    worst = int(np.argmin(minority))
    share = float(minority[worst])
    total_pos = float(pos.sum())
    total_neg = float(y.size - total_pos)
    imbalanced = share < t.minority_share
    where = "" if y.shape[1] == 1 else f" ({per} {worst} is the most skewed of {y.shape[1]})"
    return {
        "name": "minority share",
        "value": share,
        "threshold": t.minority_share,
        "verdict": "imbalanced" if imbalanced else "balanced",
        "condition": "imbalanced",
        "sentence": (
            f"The rarer class is {share:.1%} of the values{where}; below "
            f"{t.minority_share:.0%} counts as imbalanced"
            + (", so the data is imbalanced." if imbalanced else ", so it is balanced enough.")
        ),
        "details": {
            "positive_share": [float(v) for v in pos / n],
            "class_counts": {"0": int(total_neg), "1": int(total_pos)},
            "imbalance_ratio": _ratio(max(total_pos, total_neg), min(total_pos, total_neg)),
            "neg_pos_ratio": _ratio(total_neg, total_pos),
        },
    }


def _binary_wording(row: Evidence) -> Evidence:
    counts = row["details"]["class_counts"]
    n0, n1 = counts["0"], counts["1"]
    rarer = "positives" if n1 <= n0 else "negatives"
    imbalanced = row["verdict"] == "imbalanced"
    sentence = (
        f"The {rarer} are {row['value']:.1%} of {n0 + n1} targets ({min(n0, n1)} of "
        f"{n0 + n1}); below {row['threshold']:.0%} counts as imbalanced"
        + (", so the data is imbalanced." if imbalanced else ", so it is balanced enough.")
    )
    details = {k: v for k, v in row["details"].items() if k != "positive_share"}
    return {**row, "sentence": sentence, "details": details}


def _multiclass_balance(y: np.ndarray, n_classes: int | None, t: Thresholds) -> Evidence:
    labels = y.ravel()
    if not np.all(labels == np.round(labels)) or np.any(labels < 0):
        raise DataError("multiclass targets must be class indices 0 … C−1")
    idx = labels.astype(np.int64)
    if n_classes is not None:
        counts = np.bincount(idx, minlength=n_classes)
        classes = list(range(len(counts)))
    else:
        uniq, counts = np.unique(idx, return_counts=True)
        classes = [int(c) for c in uniq]
    n = labels.size
    largest, smallest = int(counts.max()), int(counts.min())
    ratio = _ratio(largest, smallest)
    imbalanced = ratio is None or ratio > t.imbalance_ratio
    rare = classes[int(np.argmin(counts))]
    common = classes[int(np.argmax(counts))]
    if ratio is None:
        sentence = f"Class {rare} never occurs in the {n} targets, so the data is imbalanced."
    else:
        sentence = (
            f"The largest class ({common}, {largest}) is {ratio:.3g}× the smallest ({rare}, "
            f"{smallest}); above {t.imbalance_ratio:g}× counts as imbalanced"
            + (", so the data is imbalanced." if imbalanced else ", so it is balanced enough.")
        )
    return {
        "name": "imbalance ratio",
        "value": ratio,
        "threshold": t.imbalance_ratio,
        "verdict": "imbalanced" if imbalanced else "balanced",
        "condition": "imbalanced",
        "sentence": sentence,
        "details": {
            "class_counts": {str(c): int(k) for c, k in zip(classes, counts, strict=True)},
            "minority_share": smallest / n,
        },
    }


# --------------------------------------------------------------------------- overconfidence


def _probabilities_binary(p: np.ndarray, from_logits: bool | None) -> np.ndarray:
    from losscli.losses._numerics import sigmoid

    logits = from_logits if from_logits is not None else bool(np.any((p < 0) | (p > 1)))
    return sigmoid(p) if logits else p


def _probabilities_multiclass(p: np.ndarray, from_logits: bool | None) -> np.ndarray:
    from losscli.losses._numerics import softmax

    if from_logits is None:
        in_unit = bool(np.all((p >= 0) & (p <= 1)))
        from_logits = not (in_unit and np.allclose(p.sum(axis=1), 1.0, atol=1e-4))
    return softmax(p, axis=1) if from_logits else p


def _overconfidence_binary(y: np.ndarray, p: np.ndarray, t: Thresholds) -> Evidence:
    p = p.reshape(y.shape)
    confidence = float(np.mean(np.maximum(p, 1.0 - p)))
    accuracy = float(np.mean((p >= 0.5) == (y >= 0.5)))
    return _overconfidence_row(confidence, accuracy, t)


def _overconfidence_multiclass(y: np.ndarray, p: np.ndarray, t: Thresholds) -> Evidence:
    confidence = float(np.mean(np.max(p, axis=1)))
    accuracy = float(np.mean(np.argmax(p, axis=1) == y.ravel().astype(np.int64)))
    return _overconfidence_row(confidence, accuracy, t)


def _overconfidence_row(confidence: float, accuracy: float, t: Thresholds) -> Evidence:
    gap = confidence - accuracy
    over = gap > t.overconfidence_gap
    return {
        "name": "confidence − accuracy",
        "value": gap,
        "threshold": t.overconfidence_gap,
        "verdict": "overconfident" if over else "not overconfident",
        "condition": "overconfident",
        "sentence": (
            f"Mean top-class probability is {confidence:.1%} against an accuracy of "
            f"{accuracy:.1%} (gap {gap * 100:+.1f} points); a gap above "
            f"{t.overconfidence_gap * 100:g} points hints at overconfidence"
            + (", and this model shows it." if over else ", and this model does not.")
        ),
        "details": {"mean_confidence": confidence, "accuracy": accuracy},
    }


# --------------------------------------------------------------------------- helpers


def _ratio(a: float, b: float) -> float | None:
    """a / b, or None when b is 0 (strict JSON has no infinity)."""
    return float(a) / float(b) if b > 0 else None


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None
