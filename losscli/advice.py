"""``recommend --from-data``: files → the conditions the guide's rules need.

Reads the targets (and, when given, the predictions) through the data layer, infers the
task when it is not given, and hands the arrays to :mod:`losscli.rules.evidence`, which
measures class balance, outliers and overconfidence against the thresholds of the rules
file.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def _targets_only(path: str, task: str | None) -> tuple[str, np.ndarray, list[str]]:
    """The targets file alone: its values and the task (given, or inferred by the data
    layer)."""
    from losscli.data.infer import infer_targets_task
    from losscli.data.readers import read_table

    return infer_targets_task(read_table(path, role="targets"), task, path)


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
