"""Early-stopping and LR-on-plateau callbacks replayed on a logged curve.

Each replay walks the monitored values in log order, one call of the callback per
logged value (a value that was not logged is no call: Keras skips a missing monitor,
and the others are only called where the metric exists), with the callback's own
comparisons in the callback's own arithmetic:

* Keras 3 ``keras.callbacks.EarlyStopping`` (``keras/src/callbacks/early_stopping.py``):
  ``best`` starts as None and the first looked-at value is always an improvement (a
  NaN too, after which nothing improves on it); ``min_delta`` is made negative in
  ``min`` mode; an improvement is
  ``monitor_op(current − min_delta, best)`` where ``monitor_op`` is ``ops.less`` /
  ``ops.greater``, which converts both sides to float32 tensors (``floatx``) before
  comparing; ``wait`` is incremented *before* the comparison and reset only when the
  value also beats ``baseline``; it stops when ``wait ≥ patience and epoch > 0``;
  epochs before ``start_from_epoch`` are not looked at; ``best_epoch`` starts at the
  first looked-at epoch, which ``restore_best_weights`` restores even without a stop.
* Lightning ``EarlyStopping`` (``src/lightning/pytorch/callbacks/early_stopping.py``):
  a non-finite value stops at once (``check_finite``); an improvement is
  ``torch.lt(current − min_delta, best_score)`` (``gt`` in max mode, ``min_delta``
  signed by mode) on float32 tensors; ``wait_count`` grows on every other check and it
  stops when ``wait_count ≥ patience``. It restores nothing.
* torch ``ReduceLROnPlateau`` (``torch/optim/lr_scheduler.py``): ``is_better`` with
  ``threshold_mode`` rel (``a < best·(1 − threshold)``) or abs (``a < best −
  threshold``), in Python floats; a NaN is never better; in cooldown the bad count is
  reset; when ``num_bad_epochs > patience`` the LR becomes ``max(lr·factor, min_lr)``
  if that lowers it by more than ``eps``; the reduction is reported at the position
  whose value triggered it. It never stops training.

Positions are the log's own values (0-based epochs for Keras and Lightning).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

RULES: tuple[str, ...] = ("keras", "lightning", "torch-plateau")


@dataclass(frozen=True)
class StopParams:
    """The callback's settings, already resolved to the rule's defaults."""

    rule: str
    mode: str = "min"
    patience: int = 0
    min_delta: float = 0.0
    min_delta_mode: str = "abs"
    baseline: float | None = None
    start_from_epoch: int = 0
    cooldown: int = 0
    factor: float = 0.1
    min_lr: float = 0.0
    lr: float | None = None
    eps: float = 1e-8

    def as_dict(self) -> dict[str, Any]:
        common: dict[str, Any] = {
            "mode": self.mode,
            "patience": self.patience,
            "min_delta": self.min_delta,
        }
        if self.rule == "keras":
            common.update(baseline=self.baseline, start_from_epoch=self.start_from_epoch)
        if self.rule == "torch-plateau":
            common.update(
                min_delta_mode=self.min_delta_mode,
                cooldown=self.cooldown,
                factor=self.factor,
                min_lr=self.min_lr,
                eps=self.eps,
            )
        return common


#: Each rule's own defaults (the callback's constructor defaults).
DEFAULTS: dict[str, dict[str, Any]] = {
    "keras": {"patience": 0, "min_delta": 0.0, "min_delta_mode": "abs"},
    "lightning": {"patience": 3, "min_delta": 0.0, "min_delta_mode": "abs"},
    "torch-plateau": {"patience": 10, "min_delta": 1e-4, "min_delta_mode": "rel"},
}


@dataclass
class Replay:
    """Where the callback would have acted."""

    rule: str
    params: StopParams
    stopped_at: float | None = None
    best_at: float | None = None
    best_value: float | None = None
    restored_at: float | None = None
    #: torch-plateau: (position, lr before, lr after) per reduction.
    reductions: list[tuple[float, float, float]] = field(default_factory=list)
    #: Why it stopped ("patience", "non_finite"), or None.
    reason: str | None = None


def _f32(x: float) -> np.float32:
    return np.float32(x)


def replay_keras(positions: Sequence[float], values: Sequence[float], p: StopParams) -> Replay:
    """Keras 3 ``EarlyStopping.on_epoch_end`` once per logged value."""
    out = Replay("keras", p)
    less = p.mode == "min"
    min_delta = -abs(p.min_delta) if less else abs(p.min_delta)
    # Keras 3 starts from ``best = None``, and ``_is_improvement(x, None)`` is True: the
    # first looked-at value is the best whatever it is, a NaN included
    best: float | None = None
    wait = 0
    best_epoch: float | None = None

    def improves(current: float, reference: float | None) -> bool:
        if reference is None:
            return True
        a, b = _f32(current - min_delta), _f32(reference)
        return bool(a < b) if less else bool(a > b)

    for epoch, current in zip(positions, values):
        if epoch < p.start_from_epoch:
            continue
        if best_epoch is None:
            best_epoch = epoch  # restore_best_weights: "the current weights are the best"
        wait += 1
        if improves(current, best):
            best = current
            best_epoch = epoch
            out.best_value = current
            out.best_at = epoch
            if p.baseline is None or improves(current, p.baseline):
                wait = 0
            continue
        if wait >= p.patience and epoch > 0:
            out.stopped_at = epoch
            out.reason = "patience"
            break
    out.restored_at = best_epoch
    return out


def replay_lightning(positions: Sequence[float], values: Sequence[float], p: StopParams) -> Replay:
    """Lightning ``EarlyStopping._evaluate_stopping_criteria`` once per logged value."""
    out = Replay("lightning", p)
    less = p.mode == "min"
    min_delta = _f32(-p.min_delta if less else p.min_delta)
    best = _f32(math.inf if less else -math.inf)
    wait = 0
    for pos, value in zip(positions, values):
        current = _f32(value)
        if not math.isfinite(float(current)):
            out.stopped_at = pos
            out.reason = "non_finite"
            break
        shifted = _f32(current - min_delta)
        if (shifted < best) if less else (shifted > best):
            best = current
            wait = 0
            out.best_at = pos
            out.best_value = float(value)
            continue
        wait += 1
        if wait >= p.patience:
            out.stopped_at = pos
            out.reason = "patience"
            break
    return out


def replay_plateau(positions: Sequence[float], values: Sequence[float], p: StopParams) -> Replay:
    """torch ``ReduceLROnPlateau.step`` once per logged value."""
    out = Replay("torch-plateau", p)
    less = p.mode == "min"
    best = math.inf if less else -math.inf
    bad = 0
    cooldown_counter = 0
    lr = 1.0 if p.lr is None else p.lr
    t = p.min_delta

    def better(a: float, b: float) -> bool:
        if less and p.min_delta_mode == "rel":
            return a < b * (1.0 - t)
        if less:
            return a < b - t
        if p.min_delta_mode == "rel":
            return a > b * (t + 1.0)
        return a > b + t

    for pos, current in zip(positions, values):
        current = float(current)
        if better(current, best):
            best = current
            bad = 0
            out.best_at = pos
            out.best_value = current
        else:
            bad += 1
        if cooldown_counter > 0:
            cooldown_counter -= 1
            bad = 0
        if bad > p.patience:
            new_lr = max(lr * p.factor, p.min_lr)
            if lr - new_lr > p.eps:
                out.reductions.append((pos, lr, new_lr))
                lr = new_lr
            cooldown_counter = p.cooldown
            bad = 0
    return out


def replay(positions: Sequence[float], values: Sequence[float], p: StopParams) -> Replay:
    """The replay of ``p.rule``."""
    fn = {"keras": replay_keras, "lightning": replay_lightning, "torch-plateau": replay_plateau}
    return fn[p.rule](positions, values, p)
