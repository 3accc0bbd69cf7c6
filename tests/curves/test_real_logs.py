"""``losscli curves`` on more logs written by the frameworks themselves (see
tests/fixtures/logs/README.md): Keras ``CSVLogger(separator=";")``, a Keras run that
diverged to NaN, Lightning ``val/loss`` names in two ``version_*`` folders, Hugging Face
with ``eval_strategy="steps"`` and with no evaluation, torch ``SummaryWriter``."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
TRUTH = json.loads((LOGS / "stops_more.json").read_text(encoding="utf-8"))


def _doc(cli, *args) -> dict:
    r = cli("curves", *[str(a) for a in args], "--json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def _series(doc: dict, name: str) -> dict:
    return next(s for s in doc["series"] if s["name"] == name)


def test_keras_semicolon_separator_and_restore(cli) -> None:
    t = TRUTH["keras_semicolon"]
    doc = _doc(cli, LOGS / t["csv"], "--early-stopping", "keras", "--patience", t["patience"])
    assert doc["axis"] == "epoch" and doc["monitor"] == "val_loss" and doc["train"] == "loss"
    lines = (LOGS / t["csv"]).read_text(encoding="utf-8").splitlines()
    assert _series(doc, "val_loss")["points"] == len(lines) - 1
    assert _series(doc, "val_loss")["values"][t["best_epoch"]] == t["best"]
    es = doc["early_stopping"]
    assert es["stopped_at"] == t["stopped_epoch"]
    assert es["restored_at"] == es["best_at"] == t["best_epoch"]


def test_keras_nan_from_the_first_epoch_is_its_best(cli) -> None:
    # Keras 3 starts from best=None: the first value is "an improvement" even when NaN,
    # nothing improves on it, so it stops after `patience` epochs and restores epoch 0
    t = TRUTH["keras_nan"]
    doc = _doc(cli, LOGS / t["csv"], "--early-stopping", "keras", "--patience", t["patience"])
    es = doc["early_stopping"]
    assert es["stopped_at"] == t["stopped_epoch"]
    assert es["restored_at"] == es["best_at"] == t["best_epoch"]
    assert es["best_value"] is None
    val = _series(doc, "val_loss")
    assert val["values"] == [None] * 4 and val["positions"] == [0, 1, 2, 3]
    nan = [f for f in doc["findings"] if f["kind"] == "nan"]
    assert {(f["series"], f["from_step"], f["to_step"]) for f in nan} == {
        ("val_loss", 0, 3),
        ("loss", 0, 3),
    }


@pytest.mark.parametrize("key", ["lightning_slash_v0", "lightning_slash_v1"])
def test_lightning_slash_names_default_and_replay(cli, key: str) -> None:
    t = TRUTH[key]
    doc = _doc(cli, LOGS / t["csv"], "--early-stopping", "lightning", "--patience", t["patience"])
    assert doc["monitor"] == "val/loss" and doc["train"] == "train/loss_epoch"
    assert doc["axis"] == "epoch"
    assert doc["early_stopping"]["stopped_at"] == t["stopped_epoch"]
    assert math.isclose(doc["early_stopping"]["best_value"], t["best_score"], rel_tol=1e-7)


def test_lightning_folder_of_two_versions_asks_which(cli) -> None:
    r = cli("curves", LOGS / "lightning_slash")
    assert r.exit_code == 3
    assert "version_0/metrics.csv" in r.stderr and "version_1/metrics.csv" in r.stderr
    assert "Traceback" not in r.stderr


def test_hf_eval_steps_every_point_on_the_step_axis(cli) -> None:
    path = LOGS / "hf_steps" / "trainer_state.json"
    history = json.loads(path.read_text(encoding="utf-8"))["log_history"]
    doc = _doc(cli, path)
    assert doc["axis"] == "step" and doc["monitor"] == "eval_loss" and doc["train"] == "loss"
    for name in ("eval_loss", "loss"):
        steps = [e["step"] for e in history if name in e]
        assert _series(doc, name)["positions"] == steps
        assert _series(doc, name)["values"] == [e[name] for e in history if name in e]


def test_hf_train_loss_only(cli) -> None:
    path = LOGS / "hf_noeval" / "trainer_state.json"
    r = cli("curves", path)
    assert r.exit_code == 3 and "grad_norm, learning_rate, loss" in r.stderr
    doc = _doc(cli, path, "--monitor", "loss")
    history = json.loads(path.read_text(encoding="utf-8"))["log_history"]
    assert _series(doc, "loss")["positions"] == [e["step"] for e in history if "loss" in e]


def test_torch_summary_writer_names_and_nan(cli) -> None:
    pytest.importorskip("tensorboard")
    doc = _doc(cli, LOGS / "torch_tb", "--smooth", "0.6")
    assert doc["monitor"] == "Loss/val" and doc["train"] == "Loss/train"
    assert doc["axis"] == "step"
    val = _series(doc, "Loss/val")
    assert val["points"] == 8 and val["positions"] == [4 * i for i in range(1, 9)]
    # NaN stays in place, unsmoothed
    for v, s in zip(val["values"], val["smoothed"]):
        assert (v is None) == (s is None)
    assert any(f["kind"] == "nan" and f["series"] == "Loss/val" for f in doc["findings"])
    assert {"both_train/both", "both_val/both"} <= set(doc["columns"])


def test_bom_and_cut_last_line(cli, tmp_path: Path) -> None:
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfepoch,loss,val_loss\r\n0,1.0,2.0\r\n1,0.5,1.5\r\n2,0.4,1.4")
    doc = _doc(cli, bom)
    assert doc["axis"] == "epoch" and _series(doc, "val_loss")["points"] == 3
    assert any("cut short" in w and "line" in w for w in doc["warnings"])


def test_two_values_at_one_position_are_named_plainly(cli, tmp_path: Path) -> None:
    log = tmp_path / "dup.csv"
    log.write_text("step,val_loss\n0,1\n0,2\n", encoding="utf-8")
    r = cli("curves", log)
    assert r.exit_code == 3
    assert "1.0 (" in r.stderr and "np.float64" not in r.stderr and "dup.csv:3" in r.stderr


def test_divergence_from_the_first_step_says_so(cli) -> None:
    pytest.importorskip("tensorboard")
    doc = _doc(cli, LOGS / "torch_tb", "--monitor", "Loss/val")
    div = next(f for f in doc["findings"] if f["kind"] == "divergence")
    assert (div["series"], div["from_step"], div["to_step"]) == ("Loss/train", 0, 5)
    assert "fell" not in div["evidence"] and "first and lowest" in div["evidence"]


def test_tensorboard_folder_of_two_versions_asks_which(cli) -> None:
    pytest.importorskip("tensorboard")
    r = cli("curves", LOGS / "lightning_slash_tb")
    assert r.exit_code == 3 and "version_0, version_1" in r.stderr
    doc = _doc(
        cli,
        LOGS / "lightning_slash_tb" / "version_1",
        "--early-stopping",
        "lightning",
        "--patience",
        2,
    )
    assert doc["monitor"] == "val/loss" and doc["axis"] == "step"
    mon = _series(doc, "val/loss")
    # the stop is at the last check: the run's 6th validation (epoch 5, stopped_epoch)
    assert mon["points"] == 6 and doc["early_stopping"]["stopped_at"] == mon["positions"][-1]


def test_hf_overfit_with_eval_and_train_at_different_steps(cli) -> None:
    # eval every 5 steps, loss every 4: they meet at steps 20, 40 and 48 only
    doc = _doc(cli, LOGS / "hf_overfit" / "trainer_state.json")
    f = next(f for f in doc["findings"] if f["kind"] == "overfit")
    assert (f["series"], f["from_step"], f["to_step"]) == ("eval_loss", 10, 48)
    # the training loss at the best eval (step 10) is the one logged at step 8
    assert f["numbers"]["train_at_best"] == _series(doc, "loss")["values"][1]


def test_a_column_named_twice_is_an_error_not_a_mean(cli, tmp_path: Path) -> None:
    log = tmp_path / "twice.csv"
    log.write_text("epoch,loss,val_loss,loss\n0,1,2,3\n1,0.5,1.5,2.5\n", encoding="utf-8")
    r = cli("curves", log)
    assert r.exit_code == 3 and "line 1" in r.stderr and "'loss'" in r.stderr


def test_unknown_monitor_did_you_mean(cli) -> None:
    r = cli("curves", LOGS / "keras_semicolon.csv", "--monitor", "val_los")
    assert r.exit_code == 3 and "did you mean 'val_loss'" in r.stderr


def test_dvclive_lightning_logger_names(cli) -> None:
    doc = _doc(cli, LOGS / "dvclive_lightning", "--early-stopping", "lightning")
    assert doc["monitor"] == "val/loss" and doc["train"] == "train/epoch/loss"
    mon = _series(doc, "val/loss")
    assert mon["points"] == 7 and doc["early_stopping"]["stopped_at"] == mon["positions"][-1]
    # DVCLive's epoch.tsv is the metric "epoch": it maps the stop back to stopped_epoch
    t = TRUTH["dvclive_lightning"]
    assert doc["early_stopping"]["epochs"]["stopped_at"] == t["stopped_epoch"]
    assert any(f["kind"] == "overfit" for f in doc["findings"])
    one = LOGS / "dvclive_lightning" / "plots" / "metrics" / "val" / "loss.tsv"
    assert _doc(cli, one)["monitor"] == "val/loss"


def test_dvclive_nan_stays_in_place(cli) -> None:
    doc = _doc(cli, LOGS / "dvclive_nan")
    val = _series(doc, "val_loss")
    assert val["positions"] == list(range(6)) and val["values"][4:] == [None, None]
    nan = {(f["series"], f["from_step"], f["to_step"]) for f in doc["findings"]}
    assert {("val_loss", 4, 5), ("train_loss", 4, 5)} <= nan


def test_inf_is_not_written_as_nan(cli) -> None:
    # Keras' first epoch loss is inf, then NaN: JSON nulls both, and says which is which
    doc = _doc(cli, LOGS / "keras_nan.csv")
    assert _series(doc, "loss")["infinite"] == [{"position": 0, "value": "inf"}]
    assert "infinite" not in _series(doc, "val_loss")
    r = cli("curves", LOGS / "keras_nan.csv", "--format", "csv", "--smooth", "0.5")
    assert r.exit_code == 0
    rows = [line.split(",") for line in r.stdout.splitlines()]
    assert ["loss", "train", "0", "inf", "inf"] in rows
    assert ["loss", "train", "1", "nan", "nan"] in rows


def test_lightning_reduce_lr_on_plateau_and_early_stopping(cli) -> None:
    t = TRUTH["lightning_plateau"]
    log = LOGS / t["csv"]
    es = _doc(cli, log, "--early-stopping", "lightning", "--patience", 4)["early_stopping"]
    assert es["stopped_at"] == t["stopped_epoch"] and es["best_at"] == 3
    p = t["reduce_lr_on_plateau"]
    args = [
        "--early-stopping",
        "torch-plateau",
        "--patience",
        p["patience"],
        "--factor",
        p["factor"],
    ]
    doc = _doc(cli, log, *args)
    first = doc["early_stopping"]["reductions"][0]
    # the LR that LearningRateMonitor logged first changes at some step; that step's epoch
    # is the first with the new LR, so the reduction came from the epoch before it
    rows = [r.split(",") for r in log.read_text(encoding="utf-8").splitlines()]
    h = rows[0]
    lrs = [(float(r[h.index("step")]), float(r[h.index("lr-Adam")])) for r in rows[1:] if r[1]]
    step, new_lr = next((s, lr) for s, lr in lrs if lr != lrs[0][1])
    epoch_of = {float(r[h.index("step")]): int(r[0]) for r in rows[1:] if r[0]}
    assert first["at"] == epoch_of[step] - 1
    assert (first["lr_before"], first["lr_after"]) == (lrs[0][1], new_lr)
    assert doc["early_stopping"]["lr_known"] is True


def test_lightning_two_validations_per_epoch_on_the_step_axis(cli) -> None:
    t = TRUTH["lightning_half"]
    doc = _doc(cli, LOGS / t["csv"], "--early-stopping", "lightning", "--patience", t["patience"])
    assert doc["axis"] == "step"
    stop = doc["early_stopping"]["stopped_at"]
    rows = (LOGS / t["csv"]).read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    at = [r.split(",") for r in rows[1:]]
    val_rows = [r for r in at if r[header.index("val_loss")]]
    assert len(val_rows) == _series(doc, "val_loss")["points"]
    stop_row = next(r for r in val_rows if float(r[header.index("step")]) == stop)
    assert int(stop_row[header.index("epoch")]) == t["stopped_epoch"]
    assert stop == _series(doc, "val_loss")["positions"][-1]


def test_step_axis_stop_is_also_given_as_the_callbacks_epoch(cli) -> None:
    pytest.importorskip("tensorboard")
    t = TRUTH["lightning_slash_v0"]
    tb = _doc(cli, LOGS / "lightning_slash_tb" / "version_0", "--early-stopping", "lightning")
    assert tb["axis"] == "step"
    assert tb["early_stopping"]["epochs"] == {"stopped_at": t["stopped_epoch"], "best_at": 3}
    h = TRUTH["lightning_half"]
    args = ["--early-stopping", "lightning", "--patience", h["patience"]]
    half = _doc(cli, LOGS / h["csv"], *args)["early_stopping"]
    assert half["epochs"]["stopped_at"] == h["stopped_epoch"]
    csv = _doc(cli, LOGS / t["csv"], "--early-stopping", "lightning")["early_stopping"]
    assert "epochs" not in csv  # already on the epoch axis


@pytest.mark.parametrize("ext", ["csv", "json"])
def test_tensorboard_download_of_one_scalar(cli, ext: str) -> None:
    # TensorBoard writes run-RUN-tag-TAG.csv ("Wall time,Step,Value") or .json triples
    logs = [
        LOGS / "tb_export" / f"run-version_0-tag-{t}.{ext}"
        for t in ("val_loss", "train_loss_epoch")
    ]
    doc = _doc(cli, *logs, "--early-stopping", "lightning")
    assert doc["monitor"] == "val_loss" and doc["train"] == "train_loss_epoch"
    assert doc["axis"] == "step" and "Wall time" not in doc["columns"]
    mon = _series(doc, "val_loss")
    assert mon["positions"] == [3, 7, 11, 15, 19, 23, 27]
    assert doc["early_stopping"]["stopped_at"] == 27
    assert any(f["kind"] == "overfit" for f in doc["findings"])


def test_hf_checkpoints_listed_in_step_order(cli, tmp_path: Path) -> None:
    state = (LOGS / "hf_steps" / "trainer_state.json").read_text(encoding="utf-8")
    for n in (100, 20, 3, 4, 5):
        (tmp_path / f"checkpoint-{n}").mkdir()
        (tmp_path / f"checkpoint-{n}" / "trainer_state.json").write_text(state, encoding="utf-8")
    r = cli("curves", tmp_path)
    assert r.exit_code == 3 and "whole history" in r.stderr
    assert "checkpoint-3/trainer_state.json, checkpoint-4" in r.stderr and ", …" in r.stderr


def test_keras_validation_every_other_epoch(cli) -> None:
    # CSVLogger writes NA where there was no validation; EarlyStopping is not called there
    t = TRUTH["keras_freq2"]
    args = ["--early-stopping", "keras", "--patience", t["patience"]]
    doc = _doc(cli, LOGS / t["csv"], *args, "--start-from-epoch", t["start_from_epoch"])
    assert doc["axis"] == "epoch" and _series(doc, "val_loss")["positions"] == [1, 3, 5]
    assert _series(doc, "loss")["positions"] == list(range(6))
    es = doc["early_stopping"]
    assert (es["stopped_at"], es["restored_at"]) == (t["stopped_epoch"], t["best_epoch"])
