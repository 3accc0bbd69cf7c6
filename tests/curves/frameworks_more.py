"""More tiny real runs: the logs of tests/fixtures/logs/ listed in its README's second
table, and ``stops_more.json`` (what each callback itself reported).

``cd /tmp && KERAS_BACKEND=torch PYTHONPATH=CHECKOUT python -m tests.curves.frameworks_more
OUT`` writes them to OUT (run it outside the checkout: DVCLive sets up DVC, and stages
its files, in the git repository around the working directory).
Same task as :mod:`tests.curves.frameworks` (its :func:`data`); needs torch, lightning,
keras (torch backend), tensorboard, dvclive and transformers.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np

from tests.curves.frameworks import data


def keras_runs(out: Path) -> dict[str, Any]:
    """``separator=";"`` with ``ReduceLROnPlateau``; SGD lr 5 on targets ×100 (inf, NaN)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    xt, yt, xv, yv = data()
    truth: dict[str, Any] = {}
    for name, lr, scale, sep, epochs, extra in (
        ("keras_semicolon.csv", 0.01, 1.0, ";", 30, True),
        ("keras_nan.csv", 5.0, 100.0, ",", 12, False),
    ):
        keras.utils.set_random_seed(0)
        model = keras.Sequential(
            [keras.Input((8,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dense(1)]
        )
        opt = keras.optimizers.Adam(lr) if lr < 1 else keras.optimizers.SGD(lr)
        model.compile(opt, loss="mse")
        stop = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
        callbacks: list[Any] = [keras.callbacks.CSVLogger(str(out / name), separator=sep)]
        if extra:
            callbacks.append(keras.callbacks.ReduceLROnPlateau(patience=1, factor=0.5))
        model.fit(
            xt,
            yt * scale,
            validation_data=(xv, yv * scale),
            epochs=epochs,
            batch_size=10,
            verbose=0,
            shuffle=False,
            callbacks=[*callbacks, stop],
        )
        best = float(stop.best)
        truth[name[: -len(".csv")]] = {
            "rule": "keras",
            "patience": 3,
            "restore_best_weights": True,
            "stopped_epoch": int(stop.stopped_epoch),
            "best_epoch": int(stop.best_epoch),
            "best": best if np.isfinite(best) else None,
            "csv": name,
        }
    return truth


def keras_freq_run(out: Path) -> dict[str, Any]:
    """``validation_freq=2``: ``CSVLogger`` writes ``NA`` for the epochs without a
    validation, where ``EarlyStopping`` is not called (no ``val_loss`` in its logs)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    keras.utils.set_random_seed(0)
    xt, yt, xv, yv = data()
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(128, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.Adam(0.01), loss="mse")
    stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True, start_from_epoch=1)
    model.fit(
        xt,
        yt,
        validation_data=(xv, yv),
        validation_freq=2,
        epochs=40,
        batch_size=10,
        verbose=0,
        shuffle=False,
        callbacks=[keras.callbacks.CSVLogger(str(out / "keras_freq2.csv")), stop],
    )
    return {
        "rule": "keras",
        "patience": 2,
        "start_from_epoch": 1,
        "restore_best_weights": True,
        "stopped_epoch": int(stop.stopped_epoch),
        "best_epoch": int(stop.best_epoch),
        "csv": "keras_freq2.csv",
    }


def summary_writer_run(out: Path) -> None:
    """torch ``SummaryWriter``: ``Loss/train`` per step, ``Loss/val`` per epoch,
    ``add_scalars("both")``; SGD lr 0.3 diverges to NaN."""
    import torch
    from torch.utils.tensorboard import SummaryWriter

    torch.manual_seed(0)
    xt, yt, xv, yv = (torch.tensor(a) for a in data())
    net = torch.nn.Sequential(torch.nn.Linear(8, 64), torch.nn.ReLU(), torch.nn.Linear(64, 1))
    opt = torch.optim.SGD(net.parameters(), lr=0.3)
    w = SummaryWriter(str(out / "torch_tb"))
    step = 0
    for _ in range(8):
        for i in range(0, 40, 10):
            loss = torch.nn.functional.mse_loss(net(xt[i : i + 10]).squeeze(-1), yt[i : i + 10])
            opt.zero_grad()
            loss.backward()
            opt.step()
            w.add_scalar("Loss/train", loss.item(), step)
            step += 1
        with torch.no_grad():
            v = torch.nn.functional.mse_loss(net(xv).squeeze(-1), yv).item()
        w.add_scalar("Loss/val", v, step)
        w.add_scalars("both", {"train": loss.item(), "val": v}, step)
    w.close()


def lightning_run(
    out: Path,
    name: str,
    *,
    version: int = 0,
    slash: bool = False,
    plateau: bool = False,
    val_check_interval: float = 1.0,
    patience: int = 3,
    lr: float = 0.01,
    epochs: int = 30,
    dvclive: bool = False,
) -> dict[str, Any]:
    """Lightning with ``EarlyStopping`` and ``LearningRateMonitor``; ``slash`` logs
    ``train/loss`` and ``val/loss`` (else ``train_loss``, ``val_loss``); ``plateau`` adds
    ``ReduceLROnPlateau(patience=1, factor=0.5)``; ``dvclive`` logs with DVCLive's
    ``DVCLiveLogger`` (else ``CSVLogger`` + ``TensorBoardLogger``)."""
    import lightning as L
    import torch
    from lightning.pytorch.callbacks import EarlyStopping, LearningRateMonitor
    from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
    from torch.utils.data import DataLoader, TensorDataset

    L.seed_everything(0, verbose=False)
    train_name, val_name = ("train/loss", "val/loss") if slash else ("train_loss", "val_loss")

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
            self.log(train_name, loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch: Any, _: int) -> None:
            x, y = batch
            self.log(val_name, torch.nn.functional.mse_loss(self(x), y))

        def configure_optimizers(self) -> Any:
            opt = torch.optim.Adam(self.parameters(), lr=lr)
            if not plateau:
                return opt
            sch = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=1, factor=0.5)
            return {"optimizer": opt, "lr_scheduler": {"scheduler": sch, "monitor": val_name}}

    if dvclive:
        from dvclive.lightning import DVCLiveLogger

        loggers: Any = DVCLiveLogger(
            dir=str(out / name), save_dvc_exp=False, report=None, dvcyaml=None
        )
    else:
        loggers = [
            CSVLogger(out, name=name, version=version),
            TensorBoardLogger(out, name=f"{name}_tb", version=version),
        ]
    stop = EarlyStopping(val_name, patience=patience)
    trainer = L.Trainer(
        max_epochs=epochs,
        val_check_interval=val_check_interval,
        callbacks=[stop, LearningRateMonitor("epoch")] if not dvclive else [stop],
        logger=loggers,
        enable_progress_bar=False,
        enable_model_summary=False,
        enable_checkpointing=False,
        log_every_n_steps=1,
        num_sanity_val_steps=0,
        accelerator="cpu",
    )
    xt, yt, xv, yv = data()
    trainer.fit(
        Net(),
        DataLoader(TensorDataset(torch.tensor(xt), torch.tensor(yt)), batch_size=10),
        DataLoader(TensorDataset(torch.tensor(xv), torch.tensor(yv)), batch_size=100),
    )
    return {
        "rule": "lightning",
        "monitor": val_name,
        "patience": patience,
        "val_check_interval": val_check_interval,
        "reduce_lr_on_plateau": {"patience": 1, "factor": 0.5} if plateau else None,
        "stopped_epoch": int(stop.stopped_epoch) if trainer.should_stop else None,
        "best_score": float(stop.best_score),
        "csv": None if dvclive else f"{name}/version_{version}/metrics.csv",
    }


def dvclive_nan_run(out: Path) -> None:
    from dvclive import Live

    with Live(str(out / "dvclive_nan"), save_dvc_exp=False, report=None, dvcyaml=None) as live:
        for i in range(6):
            live.log_metric("train_loss", 1.0 / (i + 1) if i < 4 else float("nan"))
            live.log_metric("val_loss", 1.2 / (i + 1) if i < 4 else float("nan"))
            live.next_step()


def hf_runs(out: Path) -> None:
    """Hugging Face ``Trainer`` with evaluation every few steps, and with none."""
    import torch
    from transformers import Trainer, TrainingArguments

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

    runs = {
        "hf_steps": {"eval_strategy": "steps", "eval_steps": 3, "logging_steps": 2},
        "hf_noeval": {"eval_strategy": "no", "logging_steps": 1},
        "hf_overfit": {
            "eval_strategy": "steps",
            "eval_steps": 5,
            "logging_steps": 4,
            "num_train_epochs": 12,
            "lr_scheduler_type": "constant",
        },
    }
    for name, kw in runs.items():
        torch.manual_seed(0)
        args = TrainingArguments(
            output_dir=str(out / f"{name}_run"),
            **{"num_train_epochs": 5, **kw},
            per_device_train_batch_size=10,
            learning_rate=0.01,
            save_strategy="no",
            report_to="none",
            use_cpu=True,
            disable_tqdm=True,
        )
        trainer = Trainer(
            model=Net(), args=args, train_dataset=rows(xt, yt), eval_dataset=rows(xv, yv)
        )
        trainer.train()
        (out / name).mkdir(parents=True, exist_ok=True)
        trainer.state.save_to_json(str(out / name / "trainer_state.json"))


def make_more(out: Path) -> dict[str, Any]:
    out.mkdir(parents=True, exist_ok=True)
    truth = keras_runs(out)
    truth["keras_freq2"] = keras_freq_run(out)
    summary_writer_run(out)
    truth["lightning_slash_v0"] = lightning_run(out, "lightning_slash", slash=True)
    truth["lightning_slash_v1"] = lightning_run(
        out, "lightning_slash", version=1, slash=True, patience=2, lr=0.03
    )
    truth["lightning_plateau"] = lightning_run(out, "lightning_plateau", plateau=True, patience=4)
    truth["lightning_half"] = lightning_run(
        out, "lightning_half", plateau=True, patience=4, val_check_interval=0.5
    )
    truth["dvclive_lightning"] = lightning_run(out, "dvclive_lightning", dvclive=True)
    dvclive_nan_run(out)
    hf_runs(out)
    (out / "stops_more.json").write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    return truth


if __name__ == "__main__":
    print(json.dumps(make_more(Path(sys.argv[1])), indent=2))
