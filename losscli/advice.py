"""``recommend --from-data``: files → the conditions the guide's rules need.

Reads the targets (and, when given, the predictions) through the data layer, infers the
task when it is not given, and hands the arrays to :mod:`losscli.rules.evidence`, which
measures class balance, outliers and overconfidence against the thresholds of the rules
file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from losscli.errors import DataError

#: Integer targets with at most this many distinct values (and ≥ 5 rows per value on
#: average) count as class labels when there are no predictions to tell.
MAX_CLASSES = 20


def _targets_only(path: str, task: str | None) -> tuple[str, np.ndarray, list[str]]:
    from losscli.data.readers import read_table

    table = read_table(path, role="targets")
    if table.tensor is not None:
        return (
            task or "segmentation",
            table.tensor,
            [f"{path} holds an array of shape {table.tensor.shape} → segmentation"],
        )
    cols = [c for c in table.all_columns if c.lower() not in ("id", "index")]
    if not cols:
        raise DataError(
            f"{path} has no target column",
            hint="give a file with one target column (or several 0/1 label columns)",
        )
    text = [c for c in cols if table.kind(c) == "text"]
    if text:
        col = text[0]
        labels = table.columns[col]
        names, codes = np.unique(labels.astype(str), return_inverse=True)
        why = f"targets (column '{col}') are class names ({len(names)} classes)"
        return (
            task or ("binary" if len(names) == 2 else "multiclass"),
            codes.astype(np.float64),
            [why + " → " + (task or ("binary" if len(names) == 2 else "multiclass"))],
        )
    y = table.matrix(cols, role="a target")
    if y.shape[1] > 1:
        if np.isin(y, (0.0, 1.0)).all():
            return (
                task or "multilabel",
                y,
                [f"{y.shape[1]} target columns of 0/1 values → multilabel"],
            )
        return task or "regression", y, [f"{y.shape[1]} continuous target columns → regression"]
    y = y[:, 0]
    distinct = np.unique(y)
    if task:
        return task, y, [f"task given: {task}"]
    if np.isin(distinct, (0.0, 1.0)).all():
        return "binary", y, [f"targets (column '{cols[0]}') are all 0 or 1 → binary"]
    if (
        np.all(distinct == np.round(distinct))
        and distinct.size <= MAX_CLASSES
        and y.size >= 5 * distinct.size
        and distinct.min() >= 0
    ):
        return (
            "multiclass",
            y,
            [f"targets (column '{cols[0]}') are {distinct.size} integer labels → multiclass"],
        )
    return (
        "regression",
        y,
        [
            f"targets (column '{cols[0]}') are continuous ({distinct.size} distinct values) "
            "→ regression"
        ],
    )


def measure_conditions(
    targets: str,
    predictions: str | None = None,
    *,
    task: str | None = None,
    rules_path: str | None = None,
) -> tuple[str, set[str], list[dict[str, Any]]]:
    """(task, conditions the data switches on, evidence rows) for ``recommend``."""
    from losscli.rules.evidence import measure
    from losscli.rules.load import load_rules

    ruleset = load_rules(rules_path)
    from_logits = None
    if predictions is not None:
        from losscli.data import load_dataset

        ds = load_dataset(predictions, targets, task=task or "auto")
        chosen, y, p = ds.task, ds.target, ds.pred
        from_logits = ds.context.get("from_logits") if ds.context else None
        why = list(ds.evidence)
    else:
        chosen, y, why = _targets_only(targets, task if task != "classification" else None)
        p = None
    measured, rows = measure(chosen, y, p, thresholds=ruleset.thresholds, from_logits=from_logits)
    evidence = [
        {"name": "task", "value": chosen, "threshold": None, "verdict": chosen, "sentence": w}
        for w in why
    ]
    return chosen, set(measured), evidence + [dict(r) for r in rows]
