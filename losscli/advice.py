"""``recommend --from-data``: files → the conditions the guide's rules need.

Reads the targets (and, when given, the predictions) through the data layer, infers the
task when it is not given, and hands the arrays to :mod:`losscli.rules.evidence`, which
measures class balance, outliers and overconfidence against the thresholds of the rules
file. :func:`parameter_evidence` then derives the losses' parameters from the same arrays
(SPEC §13): Huber's δ from the residuals' MAD, focal α and class weights from the
prior, and label smoothing only when the predictions are measurably overconfident. Each
is an evidence row whose ``details`` carry the statistic the rules' ``from_data`` reads.
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
    params = parameter_evidence(chosen, y, p, overconfident="overconfident" in set(measured))
    return chosen, set(measured), evidence + [dict(r) for r in rows] + params


#: Huber's δ = 1.345·σ gives 95 % efficiency under Gaussian noise (Huber 1964).
HUBER_EFFICIENCY = 1.345
#: MAD → σ for Gaussian data: 1 / Φ⁻¹(3/4).
MAD_TO_SIGMA = 1.4826


def parameter_evidence(
    task: str, y: np.ndarray, p: np.ndarray | None, *, overconfident: bool
) -> list[dict[str, Any]]:
    """Evidence rows that set loss parameters from the data (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    if task == "regression" and p is not None:
        rows.append(_huber_row(y, p))
    elif task in ("binary", "multilabel"):
        prior = float(np.mean(np.asarray(y, dtype=np.float64)))
        rows.append(
            _row(
                "focal alpha",
                1.0 - prior,
                f"focal α = {1.0 - prior:.3g}, the share of negatives (positive prior "
                f"{prior:.3g}), so each class carries the same total weight",
                {"focal_alpha": 1.0 - prior, "prior": prior},
            )
        )
    elif task == "multiclass":
        from losscli.losses.classification import balanced_weights_from_counts

        labels = np.asarray(y).astype(np.int64).reshape(-1)
        c = int(p.shape[1]) if p is not None and p.ndim == 2 else int(labels.max()) + 1
        weights = balanced_weights_from_counts(np.bincount(labels, minlength=c)[:c])
        shown = ", ".join(f"{w:.3g}" for w in weights)
        rows.append(
            _row(
                "class weights",
                None,
                f"class weights n/(C·count) = [{shown}] from the class counts "
                "(cross_entropy weight)",
                {"class_weights": [float(w) for w in weights]},
            )
        )
    if task in ("binary", "multiclass", "multilabel") and p is not None:
        rows.append(
            _row(
                "label smoothing",
                0.1 if overconfident else 0.0,
                "label smoothing ε = 0.1 is suggested: the predictions are overconfident"
                if overconfident
                else "no label smoothing: the predictions are not measurably overconfident",
                {},
            )
        )
    return rows


def _huber_row(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    r = (np.asarray(y, dtype=np.float64) - np.asarray(p, dtype=np.float64).reshape(y.shape)).ravel()
    med = float(np.median(r))
    sigma = MAD_TO_SIGMA * float(np.median(np.abs(r - med)))
    delta = HUBER_EFFICIENCY * sigma
    if delta > 0:
        sentence = (
            f"Huber δ = 1.345 · MAD-σ of the residuals = 1.345 · {sigma:.4g} = {delta:.4g} "
            f"(MAD-σ = 1.4826 · median |r − median r|, median r = {med:.4g}): residuals "
            "beyond δ count linearly"
        )
        details: dict[str, Any] = {"huber_delta": delta, "mad_sigma": sigma, "median": med}
    else:
        sentence = "the residuals' MAD is 0 (most residuals equal), so δ stays at its default"
        details = {"mad_sigma": sigma, "median": med}
    return _row("huber delta", delta if delta > 0 else None, sentence, details)


def _row(name: str, value: Any, sentence: str, details: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "value": value,
        "threshold": None,
        "verdict": "parameter",
        "condition": None,
        "sentence": sentence,
        "details": details,
    }
