"""Tiny real training runs with each framework's own loggers and callbacks.

Used twice: ``python -m tests.curves.frameworks OUT`` made the committed logs in
tests/fixtures/logs/ (and their ``stops.json``: where each callback really stopped or
reduced), and the ``oracle`` tests run them live in a temporary folder and check that
``losscli curves`` replays the callbacks to the same position.

The task: a noisy regression with few training rows and a wide MLP, so the validation
loss falls, then rises (early stopping has something to find). Needs torch, lightning,
keras (torch backend), tensorboard and dvclive: the ``oracle`` extra.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np


def data(seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=8)
    x = rng.normal(size=(140, 8)).astype(np.float32)
    y = (x @ w + rng.normal(scale=1.5, size=140)).astype(np.float32)
    return x[:40], y[:40], x[40:], y[40:]


# ------------------------------------------------------------------------- Lightning


def lightning_run(
    out: Path,
    *,
    patience: int = 3,
    min_delta: float = 0.0,
    lr: float = 0.01,
    epochs: int = 60,
    nan_at: int | None = None,
    name: str = "lightning",
) -> dict[str, Any]:
    """Lightning with CSVLogger + TensorBoardLogger and EarlyStopping(val_loss). With
    ``nan_at``, a NaN batch at that epoch poisons the weights (check_finite stops)."""
    import lightning as L
    import torch
    from lightning.pytorch.callbacks import EarlyStopping
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
    from torch.utils.data import DataLoader, TensorDataset

    L.seed_everything(0, verbose=False)
    xt, yt, xv, yv = data()

    class Net(L.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(8, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1)
            )

        def forward(self, x: Any) -> Any:
            return self.net(x).squeeze(-1)

        def training_step(self, batch: Any, _: int) -> Any:
            x, y = batch
            loss = torch.nn.functional.mse_loss(self(x), y)
            if nan_at is not None and self.current_epoch == nan_at:
                loss = loss * float("nan")
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch: Any, _: int) -> None:
            x, y = batch
            self.log("val_loss", torch.nn.functional.mse_loss(self(x), y))

        def configure_optimizers(self) -> Any:
            return torch.optim.Adam(self.parameters(), lr=lr)

    stop = EarlyStopping("val_loss", patience=patience, min_delta=min_delta)
    trainer = L.Trainer(
        max_epochs=epochs,
        callbacks=[stop],
        logger=[
            CSVLogger(out, name=name, version=0),
            TensorBoardLogger(out, name=f"{name}_tb", version=0),
        ],
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        accelerator="cpu",
    )
    trainer.fit(
        Net(),
        DataLoader(TensorDataset(torch.tensor(xt), torch.tensor(yt)), batch_size=10),
        DataLoader(TensorDataset(torch.tensor(xv), torch.tensor(yv)), batch_size=100),
    )
    stopped = int(stop.stopped_epoch) if trainer.should_stop else None
    return {
        "rule": "lightning",
        "patience": patience,
        "min_delta": min_delta,
        "stopped_at": stopped,
        "best_score": float(stop.best_score),
        "csv": f"{name}/version_0/metrics.csv",
        "tensorboard": f"{name}_tb/version_0",
    }


# ----------------------------------------------------------------------------- Keras


def keras_run(
    out: Path,
    *,
    patience: int = 2,
    min_delta: float = 0.0,
    start_from_epoch: int = 0,
    baseline: float | None = None,
    epochs: int = 60,
    name: str = "keras_metrics.csv",
    lr: float = 0.01,
    scale: float = 1.0,
    separator: str = ",",
) -> dict[str, Any]:
    """Keras 3 (torch backend) with CSVLogger and EarlyStopping(restore_best_weights).
    ``scale`` multiplies the targets (with a high ``lr``, the run diverges to NaN);
    ``separator`` is ``CSVLogger``'s."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(0)
    xt, yt, xv, yv = data()
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dense(1)]
    )
    optimizer = keras.optimizers.Adam(lr) if lr < 1 else keras.optimizers.SGD(lr)
    model.compile(optimizer, loss="mse")
    stop = keras.callbacks.EarlyStopping(
        patience=patience,
        min_delta=min_delta,
        start_from_epoch=start_from_epoch,
        baseline=baseline,
        restore_best_weights=True,
    )
    model.fit(
        xt,
        yt * scale,
        validation_data=(xv, yv * scale),
        epochs=epochs,
        batch_size=10,
        verbose=0,
        shuffle=False,
        callbacks=[keras.callbacks.CSVLogger(str(out / name), separator=separator), stop],
    )
    return {
        "rule": "keras",
        "patience": patience,
        "min_delta": min_delta,
        "start_from_epoch": start_from_epoch,
        "baseline": baseline,
        "stopped_at": int(stop.stopped_epoch) if stop.stopped_epoch > 0 else None,
        "restored_at": int(stop.best_epoch),
        "csv": name,
    }


# --------------------------------------------------------------- torch ReduceLROnPlateau


def torch_plateau_run(
    out: Path,
    *,
    patience: int = 2,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 1,
    factor: float = 0.5,
    min_lr: float = 0.0,
    epochs: int = 40,
    name: str = "torch_plateau.csv",
) -> dict[str, Any]:
    """A plain torch loop with ReduceLROnPlateau(val_loss); the log is a plain CSV of
    epoch, train_loss, val_loss and the lr in effect during the epoch."""
    import torch

    torch.manual_seed(0)
    xt, yt, xv, yv = (torch.tensor(a) for a in data())
    net = torch.nn.Sequential(torch.nn.Linear(8, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.05)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        opt,
        patience=patience,
        threshold=threshold,
        threshold_mode=threshold_mode,
        cooldown=cooldown,
        factor=factor,
        min_lr=min_lr,
    )
    rows = ["epoch,train_loss,val_loss,lr"]
    reductions = []
    for epoch in range(epochs):
        lr = opt.param_groups[0]["lr"]
        net.train()
        losses = []
        for i in range(0, len(xt), 10):
            opt.zero_grad()
            loss = torch.nn.functional.mse_loss(net(xt[i : i + 10]).squeeze(-1), yt[i : i + 10])
            loss.backward()
            opt.step()
            losses.append(loss.item())
        net.eval()
        with torch.no_grad():
            val = torch.nn.functional.mse_loss(net(xv).squeeze(-1), yv).item()
        rows.append(f"{epoch},{float(np.mean(losses))!r},{val!r},{lr!r}")
        sched.step(val)
        if opt.param_groups[0]["lr"] < lr:
            reductions.append(epoch)
    (out / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    return {
        "rule": "torch-plateau",
        "patience": patience,
        "min_delta": threshold,
        "min_delta_mode": threshold_mode,
        "cooldown": cooldown,
        "factor": factor,
        "min_lr": min_lr,
        "reductions": reductions,
        "csv": name,
    }


# ---------------------------------------------------------------------------- DVCLive


def dvclive_run(out: Path, *, epochs: int = 15, name: str = "dvclive") -> dict[str, Any]:
    """A plain torch loop logging train/loss and val/loss with DVCLive's ``Live``."""
    import torch
    from dvclive import Live

    torch.manual_seed(0)
    xt, yt, xv, yv = (torch.tensor(a) for a in data())
    net = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    with Live(str(out / name), save_dvc_exp=False, report=None, dvcyaml=None) as live:
        for _ in range(epochs):
            loss = torch.nn.functional.mse_loss(net(xt).squeeze(-1), yt)
            opt.zero_grad()
            loss.backward()
            opt.step()
            with torch.no_grad():
                val = torch.nn.functional.mse_loss(net(xv).squeeze(-1), yv).item()
            live.log_metric("train/loss", loss.item())
            live.log_metric("val/loss", val)
            live.next_step()
    return {"dir": name}


# ------------------------------------------------------------------- Hugging Face


def hf_run(out: Path, *, epochs: int = 6, name: str = "hf") -> dict[str, Any]:
    """A Hugging Face ``Trainer`` on a tiny torch module (no download); the state is
    written with the Trainer's own ``TrainerState.save_to_json``."""
    import torch
    from transformers import Trainer, TrainingArguments

    torch.manual_seed(0)
    xt, yt, xv, yv = data()

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(
                torch.nn.Linear(8, 128), torch.nn.ReLU(), torch.nn.Linear(128, 1)
            )

        def forward(self, x: Any, labels: Any = None) -> Any:
            pred = self.net(x).squeeze(-1)
            return {"loss": torch.nn.functional.mse_loss(pred, labels), "logits": pred}

    def rows(x: np.ndarray, y: np.ndarray) -> list[dict[str, Any]]:
        return [{"x": torch.tensor(a), "labels": torch.tensor(b)} for a, b in zip(x, y)]

    args = TrainingArguments(
        output_dir=str(out / f"{name}_run"),
        num_train_epochs=epochs,
        per_device_train_batch_size=10,
        learning_rate=0.01,
        eval_strategy="epoch",
        logging_steps=2,
        save_strategy="no",
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
    )
    trainer = Trainer(model=Net(), args=args, train_dataset=rows(xt, yt), eval_dataset=rows(xv, yv))
    trainer.train()
    (out / name).mkdir(parents=True, exist_ok=True)
    trainer.state.save_to_json(str(out / name / "trainer_state.json"))
    return {"dir": name}


def make_all(out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    stops = {
        "lightning": lightning_run(out),
        "lightning_nan": lightning_run(out, patience=5, nan_at=3, name="lightning_nan"),
        "keras": keras_run(out),
        "keras_start": keras_run(out, patience=1, start_from_epoch=3, name="keras_start.csv"),
        "torch_plateau": torch_plateau_run(out),
        "dvclive": dvclive_run(out),
        "hf": hf_run(out),
    }
    (out / "stops.json").write_text(json.dumps(stops, indent=2) + "\n", encoding="utf-8")
    return stops


if __name__ == "__main__":
    print(json.dumps(make_all(Path(sys.argv[1])), indent=2))
