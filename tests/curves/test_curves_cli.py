"""``losscli curves``: the formats it reads, the document, the gates and the errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, write_csv

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"


def test_sample_log_json_document(cli) -> None:
    r = cli("curves", SAMPLES / "training" / "metrics.csv", "--json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["command"] == "curves" and doc["schema_version"] == 1
    assert doc["axis"] == "epoch"
    assert doc["monitor"] == "val_loss" and doc["train"] == "train_loss_epoch"
    for key in ("series", "best", "early_stopping", "findings", "chance_level"):
        assert key in doc
    assert doc["best"]["position"] == 3
    mon = next(s for s in doc["series"] if s["role"] == "monitor")
    assert mon["positions"] == list(range(7))
    kinds = {f["kind"] for f in doc["findings"]}
    assert "overfit" in kinds  # val rises after epoch 3 while the training loss falls
    f = next(f for f in doc["findings"] if f["kind"] == "overfit")
    assert (f["from_step"], f["to_step"]) == (3, 6)
    assert set(f) >= {"kind", "from_step", "to_step", "severity", "evidence"}


def test_fail_on_gates_exit_1(cli) -> None:
    log = SAMPLES / "training" / "metrics.csv"
    r = cli("curves", log, "--fail-on", "overfit,nan")
    assert r.exit_code == 1
    assert "gate failed: --fail-on overfit" in r.stderr
    assert cli("curves", log, "--fail-on", "nan").exit_code == 0
    r = cli("curves", log, "--fail-on", "nans")
    assert r.exit_code == 2 and "did you mean 'nan'" in r.stderr


def test_nan_is_found_and_gated(cli) -> None:
    r = cli(
        "curves", LOGS / "lightning_nan" / "version_0" / "metrics.csv", "--fail-on", "nan", "--json"
    )
    assert r.exit_code == 1
    nan = [f for f in r.json()["findings"] if f["kind"] == "nan"]
    assert {f["series"] for f in nan} == {"val_loss", "train_loss_epoch"}


def test_keras_csvlogger_na_cells_are_not_logged(cli, tmp_path: Path) -> None:
    # CSVLogger writes NA for a key it did not get; nan is a NaN value
    p = tmp_path / "log.csv"
    p.write_text("epoch,loss,val_loss\n0,1.0,NA\n1,0.8,0.9\n2,nan,0.85\n", encoding="utf-8")
    doc = cli("curves", p, "--json").json()
    series = {s["name"]: s for s in doc["series"]}
    assert series["val_loss"]["positions"] == [1, 2]
    assert series["loss"]["values"] == [1.0, 0.8, None]


def test_hugging_face_trainer_state_written_by_the_trainer(cli) -> None:
    doc = cli("curves", LOGS / "hf", "--json").json()
    assert doc["inputs"]["logs"][0]["format"] == "huggingface"
    assert doc["axis"] == "step" and doc["monitor"] == "eval_loss" and doc["train"] == "loss"
    mon = next(s for s in doc["series"] if s["role"] == "monitor")
    assert mon["positions"] == [4, 8, 12, 16, 20, 24]  # one evaluation per epoch of 4 steps
    assert "train_loss" not in {s["name"] for s in doc["series"]}


def test_hugging_face_trainer_state(cli, tmp_path: Path) -> None:
    state = {
        "global_step": 30,
        "log_history": [
            {"epoch": 0.33, "grad_norm": 1.2, "learning_rate": 5e-5, "loss": 0.9, "step": 10},
            {"epoch": 1.0, "eval_loss": 0.7, "eval_runtime": 0.1, "step": 15},
            {"epoch": 1.33, "grad_norm": 1.0, "learning_rate": 3e-5, "loss": 0.6, "step": 20},
            {"epoch": 2.0, "eval_loss": 0.75, "eval_runtime": 0.1, "step": 30},
            {"epoch": 2.0, "step": 30, "total_flos": 1.0, "train_loss": 0.7, "train_runtime": 3.0},
        ],
    }
    p = tmp_path / "trainer_state.json"
    p.write_text(json.dumps(state), encoding="utf-8")
    doc = cli("curves", tmp_path, "--json").json()
    assert doc["inputs"]["logs"][0]["format"] == "huggingface"
    assert doc["axis"] == "step" and doc["monitor"] == "eval_loss" and doc["train"] == "loss"
    names = {s["name"] for s in doc["series"]}
    assert "train_loss" not in names  # the summary entry is not a point
    mon = next(s for s in doc["series"] if s["role"] == "monitor")
    assert mon["positions"] == [15, 30]


def test_dvclive_folder_and_plain_jsonl(cli, tmp_path: Path) -> None:
    doc = cli("curves", LOGS / "dvclive", "--json").json()
    assert doc["monitor"] == "val/loss" and doc["train"] == "train/loss" and doc["axis"] == "step"
    p = tmp_path / "log.jsonl"
    p.write_text(
        '{"step": 0, "loss": 2, "val_loss": 3}\n{"step": 10, "loss": 1, "val_loss": NaN}\n'
    )
    doc = cli("curves", p, "--json").json()
    mon = next(s for s in doc["series"] if s["role"] == "monitor")
    assert mon["positions"] == [0, 10] and mon["values"] == [3, None]


def test_malformed_log_names_file_and_line(cli, tmp_path: Path) -> None:
    p = tmp_path / "metrics.csv"
    p.write_text("epoch,step,val_loss\n0,9,1.5\n1,19,oops\n", encoding="utf-8")
    r = cli("curves", p)
    assert r.exit_code == 3
    assert f"{p}, line 3" in r.stderr and "oops" in r.stderr
    p.write_text("epoch,step,val_loss\n0,9,1.5,7\n", encoding="utf-8")
    r = cli("curves", p)
    assert r.exit_code == 3 and "line 2" in r.stderr and "Traceback" not in r.stderr


def test_no_monitored_column_names_the_columns(cli, tmp_path: Path) -> None:
    p = write_csv(tmp_path / "log.csv", ["step", "acc", "loss"], [[0, 0.5, 1.0], [1, 0.6, 0.9]])
    r = cli("curves", p)
    assert r.exit_code == 3
    assert "acc" in r.stderr and "loss" in r.stderr and "--monitor" in r.stderr
    r = cli("curves", p, "--monitor", "accuracy")
    assert r.exit_code == 3 and "columns: acc, loss" in r.stderr
    doc = cli("curves", p, "--monitor", "acc", "--mode", "max", "--json").json()
    assert doc["best"]["value"] == 0.6


def test_overlapping_logs_with_different_values_ask(cli, tmp_path: Path) -> None:
    a = write_csv(tmp_path / "a.csv", ["epoch", "val_loss"], [[0, 1.0], [1, 0.9]])
    b = write_csv(tmp_path / "b.csv", ["epoch", "val_loss"], [[1, 0.8], [2, 0.7]])
    r = cli("curves", a, b)
    assert r.exit_code == 3 and "two values at epoch 1" in r.stderr
    c = write_csv(tmp_path / "c.csv", ["epoch", "val_loss"], [[2, 0.8], [3, 0.7]])
    doc = cli("curves", a, c, "--json").json()
    assert next(s for s in doc["series"] if s["role"] == "monitor")["positions"] == [0, 1, 2, 3]


def test_usage_errors(cli) -> None:
    log = SAMPLES / "training" / "metrics.csv"
    r = cli("curves", log, "--patience", "3")
    assert r.exit_code == 2 and "--early-stopping" in r.stderr
    r = cli("curves", log, "--early-stopping", "lightning", "--cooldown", "1")
    assert r.exit_code == 2 and "torch-plateau" not in r.stderr.splitlines()[0]
    r = cli("curves", log, "--early-stopping", "keras", "--min-delta-mode", "rel")
    assert r.exit_code == 2
    r = cli("curves", log, "--smooth", "1.5")
    assert r.exit_code == 2
    r = cli("curves", log, "--early-stopping", "kears")
    assert r.exit_code == 2 and "did you mean 'keras'" in r.stderr


def test_smooth_plot_markdown(cli) -> None:
    log = SAMPLES / "training" / "metrics.csv"
    r = cli("curves", log, "--smooth", "0.6", "--json")
    mon = next(s for s in r.json()["series"] if s["role"] == "monitor")
    assert mon["smoothed"][0] == pytest.approx(mon["values"][0], abs=1e-12)
    r = cli("curves", log, "--plot", "--early-stopping", "lightning", env={"COLUMNS": "80"})
    assert r.exit_code == 0
    assert "┤" in r.stdout and "* val_loss" in r.stdout
    chart = [ln for ln in r.stdout.splitlines() if "┤" in ln or "┊" in ln]
    assert chart and all(len(ln) <= 80 for ln in chart)
    r = cli("curves", log, "--format", "markdown")
    assert r.stdout.startswith("## Training curves: val_loss") and "| overfit |" in r.stdout


@pytest.mark.slow
def test_html_report_shades_the_findings(cli, tmp_path: Path) -> None:
    log = SAMPLES / "training" / "metrics.csv"
    out = tmp_path / "report.html"
    r = cli("curves", log, "-o", out, "--early-stopping", "keras", "--patience", "2")
    assert r.exit_code == 0, r.stderr
    page = out.read_text(encoding="utf-8")
    assert "<svg" in page and "overfit" in page and "http" not in page.split("<svg", 1)[0]


def test_chance_level_from_targets(cli, tmp_path: Path) -> None:
    log = SAMPLES / "training" / "metrics.csv"
    t = write_csv(tmp_path / "y.csv", ["y"], [[1], [0], [0], [0]])
    doc = cli("curves", log, "--targets", t, "--json").json()
    ch = doc["chance_level"]
    p = 0.25
    want = -(p * __import__("math").log(p) + (1 - p) * __import__("math").log(1 - p))
    assert ch["loss"] == "bce" and ch["value"] == pytest.approx(want, rel=1e-12)
    t = write_csv(tmp_path / "r.csv", ["target"], [[1.0], [2.0], [4.5]])
    ch = cli("curves", log, "--targets", t, "--json").json()["chance_level"]
    assert ch["loss"] == "mse" and ch["value"] == pytest.approx(6.5 / 3, rel=1e-12)
    r = cli("curves", log, "--targets", t, "--loss", "mae", "--json")
    assert r.json()["chance_level"]["value"] == pytest.approx(4 / 3, rel=1e-12)


def test_tensorboard_missing_is_exit_2(cli, monkeypatch) -> None:
    import builtins

    real = builtins.__import__

    def fake(name, *a, **k):
        if name.startswith("tensorboard"):
            raise ImportError(name)
        return real(name, *a, **k)

    monkeypatch.setattr(builtins, "__import__", fake)
    r = cli("curves", LOGS / "lightning_tb")
    assert r.exit_code == 2 and "losscli[curves]" in r.stderr


def test_csv_view_and_output_files(cli, tmp_path: Path) -> None:
    log = SAMPLES / "training" / "metrics.csv"
    r = cli("curves", log, "--format", "csv", "--smooth", "0.5", "-o", tmp_path / "c.json")
    assert r.exit_code == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0] == "series,role,epoch,value,smoothed"
    assert any(line.startswith("val_loss,monitor,0,") for line in lines)
    doc = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert doc["command"] == "curves" and doc["smooth"] == 0.5
    r = cli("curves", log, "-o", tmp_path / "c.xyz")
    assert r.exit_code == 2 and not (tmp_path / "c.xyz").exists()
