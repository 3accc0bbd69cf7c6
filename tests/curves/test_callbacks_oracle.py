"""Live: the replays against the callbacks themselves, driven value by value on random
curves with NaN, inf, ties and float32-sized gains (no training: each callback is fed the
values directly). Needs torch, lightning and keras (torch backend)."""

from __future__ import annotations

import os
import random

import pytest

from losscli.curves.stopping import StopParams, replay_keras, replay_lightning, replay_plateau

pytestmark = pytest.mark.oracle


def _curves(seed: int, n_cases: int) -> list[list[float]]:
    rng = random.Random(seed)
    pool = [float("nan"), float("inf"), 1.0, 1.0 - 1e-9]
    return [
        [
            rng.choice([round(rng.uniform(0, 2), 2), round(rng.uniform(0, 2), 2), *pool])
            for _ in range(rng.randint(2, 20))
        ]
        for _ in range(n_cases)
    ]


def test_torch_reduce_lr_on_plateau_value_by_value() -> None:
    torch = pytest.importorskip("torch")
    rng = random.Random(0)
    for vals in _curves(0, 300):
        kw = {
            "mode": rng.choice(["min", "max"]),
            "patience": rng.randint(0, 3),
            "cooldown": rng.randint(0, 2),
            "threshold": rng.choice([0.0, 1e-4, 0.05]),
            "threshold_mode": rng.choice(["rel", "abs"]),
            "factor": rng.choice([0.1, 0.5]),
            "min_lr": rng.choice([0.0, 0.002]),
        }
        opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
        real = []
        for i, v in enumerate(vals):
            before = opt.param_groups[0]["lr"]
            sched.step(v)
            if opt.param_groups[0]["lr"] < before:
                real.append((i, before, opt.param_groups[0]["lr"]))
        p = StopParams(
            rule="torch-plateau",
            mode=kw["mode"],
            patience=kw["patience"],
            cooldown=kw["cooldown"],
            min_delta=kw["threshold"],
            min_delta_mode=kw["threshold_mode"],
            factor=kw["factor"],
            min_lr=kw["min_lr"],
            lr=0.1,
        )
        assert replay_plateau(list(range(len(vals))), vals, p).reductions == real, (vals, kw)


def test_lightning_early_stopping_value_by_value() -> None:
    torch = pytest.importorskip("torch")
    callbacks = pytest.importorskip("lightning.pytorch.callbacks")
    rng = random.Random(1)
    for vals in _curves(1, 300):
        mode, patience = rng.choice(["min", "max"]), rng.randint(0, 3)
        min_delta = rng.choice([0.0, 0.01, 0.3])
        es = callbacks.EarlyStopping("v", mode=mode, patience=patience, min_delta=min_delta)
        stop = None
        for i, v in enumerate(vals):
            if es._evaluate_stopping_criteria(torch.tensor(v, dtype=torch.float32))[0]:
                stop = i
                break
        p = StopParams(rule="lightning", mode=mode, patience=patience, min_delta=min_delta)
        assert replay_lightning(list(range(len(vals))), vals, p).stopped_at == stop, vals


def test_keras_early_stopping_value_by_value() -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")

    class Model:  # what EarlyStopping touches of a model
        stop_training = False

        def get_weights(self) -> list:
            return []

        def set_weights(self, weights: list) -> None:
            pass

    rng = random.Random(2)
    for vals in _curves(2, 300):
        kw = {
            "mode": rng.choice(["min", "max"]),
            "patience": rng.randint(0, 3),
            "min_delta": rng.choice([0.0, 0.01, 0.3]),
            "baseline": rng.choice([None, None, 1.0]),
            "start_from_epoch": rng.choice([0, 0, 2]),
        }
        es = keras.callbacks.EarlyStopping(monitor="v", restore_best_weights=True, **kw)
        es.set_model(Model())
        es.on_train_begin()
        stop = None
        for i, v in enumerate(vals):
            es.on_epoch_end(i, {"v": v})
            if es.model.stop_training:
                stop = i
                break
        restored = es.best_epoch if es.best_weights is not None else None
        rep = replay_keras(list(range(len(vals))), vals, StopParams(rule="keras", **kw))
        assert (rep.stopped_at, rep.restored_at) == (stop, restored), (vals, kw)
