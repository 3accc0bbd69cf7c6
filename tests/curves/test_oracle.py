"""Live: train tiny models with each framework's callback and check that ``losscli
curves`` replays exactly where the callback stopped, restored or reduced the LR.

Needs the ``oracle`` extra (torch, lightning, keras on the torch backend,
tensorboard, dvclive); each case trains for a few seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

pytestmark = pytest.mark.oracle


def _doc(cli, *args) -> dict:
    r = cli("curves", *[str(a) for a in args], "--json")
    assert r.exit_code == 0, r.stderr
    return r.json()


@pytest.mark.parametrize(
    "kw",
    [
        {"patience": 3},
        {"patience": 2, "min_delta": 0.05},
        {"patience": 5, "nan_at": 4},
    ],
)
def test_lightning_early_stopping(cli, tmp_path: Path, kw: dict) -> None:
    pytest.importorskip("lightning")
    pytest.importorskip("tensorboard")
    from tests.curves.frameworks import lightning_run

    truth = lightning_run(tmp_path, **kw)
    args = ["--early-stopping", "lightning", "--patience", kw["patience"]]
    if "min_delta" in kw:
        args += ["--min-delta", kw["min_delta"]]
    for log in (truth["csv"], truth["tensorboard"]):
        doc = _doc(cli, tmp_path / log, *args)
        es = doc["early_stopping"]
        if log == truth["csv"]:
            assert es.get("stopped_at") == truth["stopped_at"]
        else:  # the TensorBoard log is on the step axis: the stop is at the last check
            mon = next(s for s in doc["series"] if s["role"] == "monitor")
            assert (es.get("stopped_at") is not None) == (truth["stopped_at"] is not None)
            assert es.get("stopped_at") == mon["positions"][-1]


@pytest.mark.parametrize(
    "kw",
    [
        {"patience": 2},
        {"patience": 1, "start_from_epoch": 3},
        {"patience": 3, "min_delta": 0.02},
        {"patience": 2, "baseline": 2.5},
        {"patience": 3, "lr": 5.0, "scale": 100.0, "separator": ";"},
    ],
)
def test_keras_early_stopping(cli, tmp_path: Path, kw: dict) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    pytest.importorskip("keras")
    from tests.curves.frameworks import keras_run

    truth = keras_run(tmp_path, **kw)
    args = ["--early-stopping", "keras"]
    for k, v in kw.items():
        if k not in ("lr", "scale", "separator"):  # the run's, not the callback's
            args += [f"--{k.replace('_', '-')}", v]
    es = _doc(cli, tmp_path / truth["csv"], *args)["early_stopping"]
    assert es.get("stopped_at") == truth["stopped_at"]
    assert es["restored_at"] == truth["restored_at"]


@pytest.mark.parametrize(
    "kw",
    [
        {"patience": 2, "cooldown": 1, "factor": 0.5},
        {"patience": 1, "threshold": 0.01, "threshold_mode": "abs", "factor": 0.3, "min_lr": 0.004},
        {"patience": 3, "threshold": 0.05, "threshold_mode": "rel", "cooldown": 2},
    ],
)
def test_torch_reduce_lr_on_plateau(cli, tmp_path: Path, kw: dict) -> None:
    pytest.importorskip("torch")
    from tests.curves.frameworks import torch_plateau_run

    truth = torch_plateau_run(tmp_path, **kw)
    # every setting the run used (its defaults included), as recorded by the run
    args = ["--early-stopping", "torch-plateau"]
    for k in ("patience", "min_delta", "min_delta_mode", "cooldown", "factor", "min_lr"):
        args += [f"--{k.replace('_', '-')}", truth[k]]
    es = _doc(cli, tmp_path / truth["csv"], *args)["early_stopping"]
    assert [r["at"] for r in es["reductions"]] == truth["reductions"]


def test_keras_tensorboard_layout(cli, tmp_path: Path) -> None:
    """Keras' TensorBoard callback writes ``train/`` and ``validation/`` runs with an
    ``epoch_loss`` tag; the same layout written by torch's SummaryWriter."""
    pytest.importorskip("tensorboard")
    from torch.utils.tensorboard import SummaryWriter

    runs = {
        "train": [1.0, 0.8, 0.7, 0.65, 0.6, 0.55],
        "validation": [1.1, 0.9, 0.85, 0.86, 0.9, 0.95],
    }
    for run, vals in runs.items():
        w = SummaryWriter(str(tmp_path / run))
        for i, v in enumerate(vals):
            w.add_scalar("epoch_loss", v, i)
        w.close()
    doc = _doc(cli, tmp_path, "--early-stopping", "keras", "--patience", "1")
    assert doc["monitor"] == "validation/epoch_loss" and doc["train"] == "train/epoch_loss"
    assert doc["early_stopping"]["stopped_at"] == 3 and doc["early_stopping"]["restored_at"] == 2
    assert [f["kind"] for f in doc["findings"]] == ["overfit"]
