"""The chance level of a loss: its value when every prediction is the prior (classes)
or the mean (regression) of the targets, computed by the loss core.

Binary 0/1 targets get ``p = mean(y)`` on every row (BCE = the entropy of the label
frequency, in nats); integer class labels with more than two values get the class
frequencies on every row (cross-entropy = the entropy of the class distribution);
anything else is regression and gets ``mean(y)`` (MSE = the variance). ``loss``
chooses another registered loss of that task.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from losscli.compute import compute
from losscli.errors import UsageError
from losscli.registry import get_spec, specs_for_task

#: The loss a task's chance level is measured with unless ``--loss`` says otherwise.
DEFAULT_LOSS: dict[str, str] = {"binary": "bce", "multiclass": "cross_entropy", "regression": "mse"}


@dataclass(frozen=True)
class Chance:
    loss: str
    task: str
    value: float
    prediction: str
    n: int


def target_task(y: np.ndarray) -> str:
    """binary (only 0 and 1), multiclass (integers 0…C−1, C > 2) or regression."""
    finite = y[np.isfinite(y)]
    values = np.unique(finite)
    if values.size and np.all(np.isin(values, (0.0, 1.0))):
        return "binary"
    if values.size > 2 and np.all(values == np.round(values)) and values.min() >= 0:
        return "multiclass"
    return "regression"


def chance_level(y: np.ndarray, loss: str | None = None) -> Chance:
    """The loss of predicting the prior / mean of ``y`` for every row."""
    y = np.asarray(y, dtype=np.float64)
    task = target_task(y)
    name = loss or DEFAULT_LOSS[task]
    spec = get_spec(name, task)
    if task not in spec.tasks:  # pragma: no cover - get_spec raises first
        raise UsageError(f"{name} does not apply to {task} targets")
    n = int(y.shape[0])
    if task == "binary":
        prior = float(np.mean(y))
        pred = np.full(n, prior)
        shown = f"p = {prior:.6g} on every row"
        context = {"from_logits": False} if "from_logits" in spec.context else None
    elif task == "multiclass":
        labels = y.astype(np.int64)
        k = int(labels.max()) + 1
        freq = np.bincount(labels, minlength=k) / n
        pred = np.tile(freq, (n, 1))
        y = labels
        shown = "the class frequencies on every row"
        context = {"from_logits": False} if "from_logits" in spec.context else None
    else:
        mean = float(np.mean(y))
        pred = np.full(n, mean)
        shown = f"the mean {mean:.6g} on every row"
        context = None
    result = compute(spec, pred, y, context=context)
    return Chance(name, task, float(result.value), shown, n)


def task_losses(task: str) -> list[str]:
    """The loss names a chance level can be measured with for ``task``."""
    return [s.name for s in specs_for_task(task)]
