"""Command-line review fixes: regularized losses, compare attribution and score kinds,
output paths, float warnings, compare flags, per-class views, notes, hints, config keys."""

from __future__ import annotations

import json
import math
import shlex
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import typer

from losscli.errors import ExitCode, UsageError
from tests.conftest import SAMPLES

REG = [SAMPLES / "regression_preds.csv", SAMPLES / "regression_targets.csv"]
BIN = [SAMPLES / "binary_probs.csv", SAMPLES / "binary_targets.csv"]


def ok_json(r):
    assert r.exit_code in (0, 1), r.stderr
    assert "Traceback" not in r.stderr
    return r.json()


def entry(doc, name):
    return next(e for e in doc["losses"] if e["name"] == name)


@pytest.fixture
def weights(tmp_path) -> Path:
    w = tmp_path / "w.npy"
    np.save(w, np.array([[1.0, -2.0], [0.5, 0.0]]))
    return w


# ------------------------------------------------------------------ 1. regularized losses


def test_evaluate_l1_l2_adds_penalty_to_every_loss(cli, weights):
    r = cli("evaluate", *REG, "--l1", "0.1", "--l2", "0.01", "--model-weights", weights, "--json")
    doc = ok_json(r)
    # hand: Σ|w| = 1 + 2 + 0.5 + 0 = 3.5 → 0.35 ; Σw² = 1 + 4 + 0.25 + 0 = 5.25 → 0.0525
    reg = doc["regularization"]
    assert reg["l1_penalty"] == pytest.approx(0.35, rel=1e-15)
    assert reg["l2_penalty"] == pytest.approx(0.0525, rel=1e-15)
    assert reg["n_weights"] == 4
    for it in doc["losses"]:
        assert it["regularized"] == pytest.approx(it["value"] + 0.4025, rel=1e-15)


def test_table_and_markdown_show_the_penalty(cli, weights):
    r = cli("evaluate", *REG, "--l2", "0.01", "--model-weights", weights)
    assert r.exit_code == 0, r.stderr
    assert "+ penalty" in r.stdout and "0.0525" in r.stdout
    md = cli("evaluate", *REG, "--l2", "0.01", "--model-weights", weights, "-f", "markdown")
    assert "| + penalty |" in md.stdout and "0.0525" in md.stdout


def test_regularization_flags_need_each_other(cli, weights):
    r = cli("evaluate", *REG, "--l1", "0.1")
    assert r.exit_code == ExitCode.USAGE_ERROR and "--model-weights" in r.stderr
    r = cli("evaluate", *REG, "--model-weights", weights)
    assert r.exit_code == ExitCode.USAGE_ERROR and "--l1" in r.stderr


def test_regularization_from_config_relative_to_the_config(cli, tmp_path, weights):
    sub = tmp_path / "cfg"
    sub.mkdir()
    np.save(sub / "layer.npy", np.array([3.0]))
    (sub / "c.yaml").write_text("regularization: {l2: 0.5, model_weights: layer.npy}\n")
    doc = ok_json(cli("evaluate", *REG, "--config", sub / "c.yaml", "--json"))
    assert doc["regularization"]["penalty"] == pytest.approx(4.5)  # hand: 0.5·3²
    # flags win over the config
    doc = ok_json(cli("evaluate", *REG, "--config", sub / "c.yaml", "--l2", "1", "--json"))
    assert doc["regularization"]["penalty"] == pytest.approx(9.0)
    (sub / "bad.yaml").write_text("regularization: {l22: 1}\n")
    r = cli("evaluate", *REG, "--config", sub / "bad.yaml")
    assert r.exit_code == ExitCode.USAGE_ERROR and "regularization › l22" in r.stderr
    assert "did you mean 'l2'" in r.stderr


def test_python_api_takes_the_penalty(weights):
    import losscli

    r = losscli.evaluate(*map(str, REG), l1=1.0, model_weights=str(weights))
    assert r["regularization"]["penalty"] == pytest.approx(3.5)  # hand: Σ|w|
    assert entry(r.data, "mse")["regularized"] == pytest.approx(r.values["mse"] + 3.5)


@pytest.mark.parametrize("flag", ["--overfitting", "--sparse-features"])
def test_recommended_evaluate_line_runs(cli, weights, flag):
    task = "regression" if flag == "--overfitting" else "binary"
    rec = ok_json(cli("recommend", "--task", task, flag, "--json"))
    lines = [a["code"]["losscli"] for a in rec["addons"] if "losscli" in a["code"]]
    assert lines and all("--model-weights W.npy" in ln for ln in lines)
    data = REG if task == "regression" else BIN
    for line in lines:
        args = shlex.split(line)[1:]  # drop the program name
        args = [
            str(data[0]) if a == "PREDS" else str(data[1]) if a == "TARGETS" else a for a in args
        ]
        args = [str(weights) if a == "W.npy" else a for a in args]
        doc = ok_json(cli(*args, "--json"))
        assert doc["regularization"]["penalty"] > 0
        assert all("regularized" in it for it in doc["losses"])


# ------------------------------------------------------------------ 2. attribution after --sort-by


def _top1_share() -> float:
    """Share of regression_preds' squared error carried by its worst 1% (2 of 200) rows,
    computed here from the files with pandas."""
    p = pd.read_csv(SAMPLES / "regression_preds.csv")
    y = pd.read_csv(SAMPLES / "regression_targets.csv")
    m = p.merge(y, on="id")
    se = np.sort(((m["prediction"] - m["price"]) ** 2).to_numpy())
    return float(se[-2:].sum() / se.sum())


@pytest.mark.parametrize("sort", [[], ["--sort-by", "mse"], ["--sort-by", "mae"]])
def test_big_error_sentence_names_the_right_model(cli, sort):
    assert f"{_top1_share():.0%}" == "43%"
    paths = [SAMPLES / "regression_preds.csv", SAMPLES / "regression_preds_b.csv"]
    doc = ok_json(cli("compare", *paths, SAMPLES / "regression_targets.csv", *sort, "--json"))
    sentence = next(s for s in doc["summary"] if "very large errors" in s)
    assert sentence.startswith("regression_preds has") and "carry 43%" in sentence
    for m in doc["models"]:
        assert doc["inputs"][m]["predictions"]["path"].endswith(f"/{m}.csv")
    table = cli("compare", *paths, SAMPLES / "regression_targets.csv", *sort)
    assert "regression_preds has a few very large errors: 1% of its rows carry 43%" in (
        table.stdout.replace("\n", " ")
    )


# ------------------------------------------------------------------ 3. probabilities vs logits


def test_mixed_score_kinds_name_no_best_for_hinge(cli):
    models = [SAMPLES / "binary_probs.csv", SAMPLES / "binary_logits.csv"]
    doc = ok_json(cli("compare", *models, SAMPLES / "binary_targets.csv", "--json"))
    warning = next(w for w in doc["warnings"] if "mix probabilities" in w)
    assert "binary_probs" in warning and "binary_logits" in warning
    assert "hinge, squared_hinge" in warning
    for name in ("hinge", "squared_hinge"):
        e = entry(doc, name)
        assert e["best"] is None and "not comparable" in e["best_reason"]
    assert entry(doc, "bce")["best"] is not None
    table = cli("compare", *models, SAMPLES / "binary_targets.csv")
    assert "not comparable" in table.stdout


def test_forced_kind_compares_every_loss(cli):
    models = [SAMPLES / "binary_probs.csv", SAMPLES / "binary_logits.csv"]
    doc = ok_json(cli("compare", *models, SAMPLES / "binary_targets.csv", "--logits", "--json"))
    assert not any("mix probabilities" in w for w in doc["warnings"])
    assert all(e["best"] is not None for e in doc["losses"])


# ------------------------------------------------------------------ 4. output paths


@pytest.mark.parametrize("kind", ["proc", "parent_file", "directory"])
def test_unwritable_output_is_a_usage_error(cli, tmp_path, kind):
    (tmp_path / "r.json").write_text("{}")
    (tmp_path / "d.json").mkdir()
    target = {
        "proc": "/proc/losscli_out.json",
        "parent_file": str(tmp_path / "r.json" / "x.json"),
        "directory": str(tmp_path / "d.json"),
    }[kind]
    for args in (
        ("evaluate", *REG, "-o", target),
        ("evaluate", *REG, "--per-sample", target),
        ("compare", *REG, "-o", target),
        ("recommend", "--task", "regression", "-o", target),
    ):
        r = cli(*args)
        assert r.exit_code == ExitCode.USAGE_ERROR, (args, r.stderr)
        assert f"Error: cannot write '{target}'" in r.stderr and "hint:" in r.stderr
        assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "r.json").read_text() == "{}"


def test_per_sample_write_failure_during_the_run(tmp_path, monkeypatch):
    import errno

    import losscli
    import losscli.files

    def full(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(losscli.files.os, "replace", full)
    out = tmp_path / "rows.csv"
    with pytest.raises(UsageError, match=r"cannot write .*rows\.csv': No space left on device"):
        losscli.evaluate(*map(str, REG), per_sample_path=str(out))
    assert list(tmp_path.iterdir()) == []  # the temporary file is gone


def test_write_files_maps_os_errors(tmp_path):
    from losscli.report import write_files

    (tmp_path / "f").write_text("")
    with pytest.raises(UsageError, match="/f' is a file, not a directory"):
        write_files([str(tmp_path / "f" / "x.json")], lambda kind: "{}")


# ------------------------------------------------------------------ 5. float warnings


@pytest.mark.parametrize(
    ("data", "param", "loss"),
    [
        (BIN, "hinge.margin=1e308", "hinge"),
        (
            [SAMPLES / "embeddings.csv", SAMPLES / "embedding_labels.csv"],
            "contrastive.margin=1e200",
            "contrastive",
        ),
    ],
)
def test_no_raw_numpy_warnings(cli, data, param, loss):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a float warning anywhere in the run fails here
        r = cli("evaluate", *data, "--param", param, "--json")
        doc = ok_json(r)
        assert entry(doc, loss)["status"] == "non_finite"
        assert "Warning" not in r.stderr
        q = cli("evaluate", *data, "--param", param, "-q")
    assert q.exit_code == 0 and q.stderr == ""


def test_python_warnings_become_notes(capsys):
    from losscli.cli import run_command

    def body(out, err):
        warnings.warn("something odd", UserWarning, stacklevel=1)
        warnings.warn("old api", DeprecationWarning, stacklevel=1)
        return 0

    for quiet in (False, True):
        with pytest.raises(typer.Exit):
            run_command(False, body, quiet=quiet)
        err = capsys.readouterr().err
        assert ("note: UserWarning: something odd" in err) is not quiet
        assert "old api" not in err and "warnings.warn" not in err


# ------------------------------------------------------------------ 6. compare --reduction/--per-class


def test_compare_reduction_sum(cli):
    mean = ok_json(cli("compare", *REG, "--json"))
    total = ok_json(cli("compare", *REG, "--reduction", "sum", "--json"))
    assert total["reduction"] == "sum"
    (m,) = mean["models"]
    # sum = n · mean for unweighted rows (n = 200)
    assert entry(total, "mae")["values"][m] == pytest.approx(200 * entry(mean, "mae")["values"][m])
    r = cli("compare", *REG, "--reduction", "median")
    assert r.exit_code == ExitCode.USAGE_ERROR


def test_compare_reduction_sum_bootstrap_interval_covers_value(cli):
    paths = [SAMPLES / "regression_preds.csv", SAMPLES / "regression_preds_b.csv"]
    args = ("compare", *paths, SAMPLES / "regression_targets.csv", "--bootstrap", "200")
    doc = ok_json(cli(*args, "--reduction", "sum", "--json"))
    e = entry(doc, "mae")
    for m, (lo, hi) in e["ci"].items():
        assert lo <= e["values"][m] <= hi


def test_compare_per_class_matches_evaluate(cli):
    data = [SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv"]
    ev = ok_json(cli("evaluate", *data, "--per-class", "--json"))
    doc = ok_json(
        cli("compare", data[0], data[0], data[1], "--names", "a,b", "--per-class", "--json")
    )
    ce = entry(doc, "cross_entropy")
    assert ce["per_class"]["a"] == pytest.approx(entry(ev, "cross_entropy")["per_class"])
    assert ce["per_class"]["b"] == ce["per_class"]["a"]
    table = cli("compare", data[0], data[0], data[1], "--names", "a,b", "--per-class")
    assert "per class" in table.stdout and "cat" in table.stdout


# ------------------------------------------------------------------ 7. recommend --help


def test_recommend_help_does_not_offer_classification(cli):
    r = cli("recommend", "--help")
    assert r.exit_code == 0 and "classification" not in r.stdout
    r = cli("recommend", "--task", "classification")
    assert r.exit_code == ExitCode.USAGE_ERROR


# ------------------------------------------------------------------ 8. per-class views


def test_per_class_json_has_no_internal_key_and_table_shows_it(cli):
    data = [SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv"]
    doc = ok_json(cli("evaluate", *data, "--per-class", "--json"))
    assert "show_per_class" not in doc
    assert entry(doc, "cross_entropy")["per_class"]
    r = cli("evaluate", *data, "--per-class")
    assert "per class" in r.stdout
    md = cli("evaluate", *data, "--per-class", "-f", "markdown")
    assert "### Per class" in md.stdout
    csv = cli("evaluate", *data, "--per-class", "-f", "csv")
    assert csv.exit_code == 0 and "per-class values are in the json" in csv.stderr


# ------------------------------------------------------------------ 9. note prefixes


@pytest.mark.parametrize(
    "files",
    [
        BIN,
        [SAMPLES / "binary_logits.csv", SAMPLES / "binary_targets.csv"],
        [SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv"],
        [SAMPLES / "multilabel_preds.csv", SAMPLES / "multilabel_targets.csv"],
        [SAMPLES / "segmentation_preds.npy", SAMPLES / "segmentation_masks.npy"],
        [SAMPLES / "detection_preds.csv", SAMPLES / "detection_targets.csv"],
        [SAMPLES / "distribution_preds.csv", SAMPLES / "distribution_targets.csv"],
        [SAMPLES / "embeddings.csv", SAMPLES / "embedding_labels.csv"],
        [SAMPLES / "vae_outputs.csv", SAMPLES / "vae_inputs.csv"],
    ],
)
def test_each_note_names_its_loss_once(cli, files):
    from losscli.registry import loss_names

    doc = ok_json(cli("evaluate", *files, "--json"))
    names = set(loss_names())
    computed = {it["name"] for it in doc["losses"]}
    for w in doc["warnings"]:
        head, _, rest = w.partition(": ")
        if head in computed:
            assert rest.partition(": ")[0] not in names, w


def test_squared_hinge_note_text(cli):
    doc = ok_json(cli("evaluate", *BIN, "--json"))
    assert "squared_hinge: 0/1 targets were mapped to -1/+1 (t = 2y - 1)" in doc["warnings"]
    assert not any("squared_hinge: hinge:" in w for w in doc["warnings"])


# ------------------------------------------------------------------ 10. singular


def test_one_sample_is_singular(cli, tmp_path):
    (tmp_path / "p.csv").write_text("p\n1.5\n")
    (tmp_path / "y.csv").write_text("y\n1.0\n")
    r = cli("evaluate", tmp_path / "p.csv", tmp_path / "y.csv", "--task", "regression")
    assert r.exit_code == 0, r.stderr
    assert "1 sample" in r.stdout and "1 samples" not in r.stdout + r.stderr
    md = cli(
        "evaluate", tmp_path / "p.csv", tmp_path / "y.csv", "--task", "regression", "-f", "markdown"
    )
    assert "(1 sample)" in md.stdout


# ------------------------------------------------------------------ 11. chunk_size in the config


@pytest.mark.parametrize("value", [0, 50])
def test_config_chunk_size_is_accepted_and_used(cli, tmp_path, value):
    (tmp_path / "c.yaml").write_text(f"chunk_size: {value}\n")
    doc = ok_json(cli("evaluate", *REG, "--config", tmp_path / "c.yaml", "--json"))
    assert doc["read"]["chunk_size"] == (value or doc["read"]["chunk_size"])
    comp = ok_json(cli("compare", *REG, "--config", tmp_path / "c.yaml", "--json"))
    assert entry(comp, "mse")["values"]["regression_preds"] == entry(doc, "mse")["value"]


@pytest.mark.parametrize("value", ["-1", "x", "1.5", "true"])
def test_config_bad_chunk_size(cli, tmp_path, value):
    (tmp_path / "c.yaml").write_text(f"chunk_size: {value}\n")
    r = cli("evaluate", *REG, "--config", tmp_path / "c.yaml")
    assert r.exit_code == ExitCode.USAGE_ERROR and "chunk_size" in r.stderr


# ------------------------------------------------------------------ 12. focal_smooth_l1 row mean


def test_focal_smooth_l1_box_term_is_the_coordinate_mean():
    from losscli.losses.detection import focal_smooth_l1

    pred = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 5.0]])
    target = np.array([[0.5, 0.0, 2.0, 4.0], [1.0, 1.0, 3.0, 5.0]])
    # alpha=-1, gamma=0, logit 0 → focal = log 2 for either label (hand)
    t = focal_smooth_l1(
        pred, target, alpha=-1, gamma=0.0, scores=np.zeros(2), labels=np.ones(2), from_logits=True
    )
    # row 0: errors 0.5, 0, 0, 2 → smooth_l1 (β=1): 0.125, 0, 0, 1.5 → mean 0.40625
    np.testing.assert_allclose(t.loss, [math.log(2) + 0.40625, math.log(2)], rtol=1e-15)


# ------------------------------------------------------------------ 13. loss-name hints


def test_unknown_loss_suggests_the_task_losses(cli):
    r = cli("evaluate", *BIN, "--loss", "focall")
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert "did you mean 'focal'?" in r.stderr
    assert "losses of task binary: bce, focal, hinge, squared_hinge, brier" in r.stderr
    assert "absolute_error" not in r.stderr


def test_loss_of_another_task_says_so(cli):
    for flag in (("--param", "huber.delta=2"), ("--max", "huber=1")):
        r = cli("evaluate", *BIN, *flag)
        assert r.exit_code == ExitCode.USAGE_ERROR
        assert "huber is a regression loss; this run's task is binary" in r.stderr
        assert "brier" not in r.stderr.splitlines()[0]
    r = cli("compare", *BIN, "--sort-by", "huber")
    assert "huber is a regression loss; this run's task is binary" in r.stderr


def test_typo_of_a_loss_of_another_task(cli):
    r = cli("evaluate", *BIN, "--param", "hubr.delta=1")
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert "unknown loss 'hubr'" in r.stderr and "'huber'" in r.stderr
    assert "regression loss" in r.stderr


def test_json_is_strict(cli, weights):
    r = cli("evaluate", *REG, "--l2", "1e-4", "--model-weights", weights, "--json")
    json.loads(r.stdout, parse_constant=lambda c: pytest.fail(f"non-strict JSON {c}"))
