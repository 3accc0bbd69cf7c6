"""One pipeline: settings declared once, one run loop, one gate and per-class rule, one
domain check — each seen through the command line, in evaluate and compare alike."""

from __future__ import annotations

import dataclasses
import inspect
import math
from pathlib import Path

import numpy as np
import pytest

from losscli.errors import ExitCode
from losscli.options import SETTINGS, RunOptions, config_keys, settings_of

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
REG = (SAMPLES / "regression_preds.csv", SAMPLES / "regression_targets.csv")


def write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


@pytest.fixture
def weighted_multiclass(tmp_path: Path) -> str:
    """One file: three class probabilities, the class index and a sample weight."""
    rng = np.random.default_rng(3)
    p = rng.dirichlet([2.0, 2.0, 2.0], size=40)
    y = rng.integers(0, 3, size=40)
    w = rng.uniform(0.2, 5.0, size=40)
    lines = ["a,b,c,y,w"] + [
        f"{p[i, 0]:.6f},{p[i, 1]:.6f},{p[i, 2]:.6f},{y[i]},{w[i]:.4f}" for i in range(40)
    ]
    return write(tmp_path, "mc.csv", "\n".join(lines) + "\n")


# --------------------------------------------------------------------------- (a) per class


@pytest.mark.parametrize("chunk", ["0", "7"])
def test_per_class_uses_the_sample_weights_of_the_headline(cli, weighted_multiclass, chunk):
    r = cli(
        "evaluate",
        weighted_multiclass,
        "--pred-col",
        "a,b,c",
        "--target-col",
        "y",
        "--weight-col",
        "w",
        "--task",
        "multiclass",
        "--loss",
        "cross_entropy",
        "--per-class",
        "--chunk-size",
        chunk,
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    item = r.json()["losses"][0]
    data = np.loadtxt(weighted_multiclass, delimiter=",", skiprows=1)
    y, w = data[:, 3].astype(int), data[:, 4]
    class_w = np.array([w[y == c].sum() for c in range(3)])
    per_class = np.array([item["per_class"][k] for k in ("a", "b", "c")])
    assert np.sum(class_w * per_class) / class_w.sum() == pytest.approx(item["value"], rel=1e-9)
    # and each class value is that class's weighted mean
    nll = -np.log(data[np.arange(len(y)), y])
    for c, name in enumerate("abc"):
        m = y == c
        expect = np.sum(w[m] * nll[m]) / w[m].sum()
        assert item["per_class"][name] == pytest.approx(expect, rel=1e-4)


def test_compare_per_class_is_weighted_too(cli, weighted_multiclass):
    args = ("--pred-col", "a,b,c", "--target-col", "y", "--weight-col", "w")
    r = cli(
        "compare",
        weighted_multiclass,
        weighted_multiclass,
        weighted_multiclass,
        "--names",
        "m1,m2",
        "--task",
        "multiclass",
        "--loss",
        "cross_entropy",
        "--per-class",
        "--json",
        *args,
    )
    assert r.exit_code == 0, r.stderr
    e = r.json()["losses"][0]
    ev = cli(
        "evaluate",
        weighted_multiclass,
        "--task",
        "multiclass",
        "--loss",
        "cross_entropy",
        "--per-class",
        "--json",
        *args,
    )
    assert e["per_class"]["m1"] == ev.json()["losses"][0]["per_class"]


# --------------------------------------------------------------------------- (b) gates


def test_gate_without_a_finite_value_reads_the_same_in_evaluate_and_compare(cli, tmp_path):
    neg = write(tmp_path, "neg.csv", "p,y\n1.0,1.0\n2.0,-3.0\n0.5,0.2\n")
    ev = cli("evaluate", neg, "--max", "msle=1")
    cmp = cli("compare", neg, neg, neg, "--names", "a,b", "--max", "msle=1")
    assert ev.exit_code == cmp.exit_code == ExitCode.GATE_FAILED
    assert "gate failed: msle has no finite value (fail closed)" in ev.stderr
    assert "gate failed: a: msle has no finite value (fail closed)" in cmp.stderr
    assert "None" not in cmp.stderr


def test_compare_gate_above_the_limit_names_value_and_limit(cli):
    r = cli("compare", REG[0], REG[0], REG[1], "--names", "a,b", "--max", "mse=0.0001")
    assert r.exit_code == ExitCode.GATE_FAILED
    assert "gate failed: a: mse = " in r.stderr and "> 0.0001" in r.stderr


# --------------------------------------------------------------------------- (c) domains


@pytest.mark.parametrize("chunk", [[], ["--chunk-size", "2"]])
def test_domain_error_names_file_column_and_row(cli, tmp_path, chunk):
    neg = write(tmp_path, "neg.csv", "p,y\n1.0,1.0\n2.0,0.5\n0.5,-3.0\n")
    r = cli("evaluate", neg, "--loss", "msle", *chunk)
    assert r.exit_code == ExitCode.DATA_ERROR
    assert f"{neg}, column 'y', row 4" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_domain_error_names_the_prediction_column(cli, tmp_path):
    f = write(tmp_path, "p.csv", "p,q,y\n0.2,0.3,0\n0.4,1.7,1\n")
    r = cli("evaluate", f, "--pred-col", "p,q", "--target-col", "y", "--loss", "bce", "--probs")
    assert r.exit_code in (ExitCode.DATA_ERROR, ExitCode.USAGE_ERROR)


# --------------------------------------------------------------------------- (d) task


@pytest.mark.parametrize("word", ["Binary", "BINARY", " binary "])
def test_task_is_case_insensitive(cli, word):
    r = cli(
        "evaluate",
        SAMPLES / "binary_probs.csv",
        SAMPLES / "binary_targets.csv",
        "--task",
        word,
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    assert r.json()["task"]["name"] == "binary"


def test_task_case_insensitive_in_compare_and_config(cli, tmp_path):
    cfg = write(tmp_path, "c.yaml", "task: Regression\n")
    r = cli("compare", REG[0], REG[0], REG[1], "--config", cfg, "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["task"] == {"name": "regression", "inferred": False}


def test_unknown_task_is_a_usage_error(cli):
    r = cli("evaluate", *REG, "--task", "regresion")
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert "did you mean 'regression'" in r.stderr


# --------------------------------------------------------------------------- (e) booleans


def test_no_flags_switch_off_booleans_of_the_config(cli, tmp_path):
    bad = write(tmp_path, "bad.csv", "p,y\n1,1\n2,\n3,3\n")
    cfg = write(tmp_path, "c.yaml", "drop_invalid: true\nper_class: true\n")
    on = cli("evaluate", bad, "--config", cfg, "--json")
    assert on.exit_code == 0 and on.json()["n_samples"] == 2
    off = cli("evaluate", bad, "--config", cfg, "--no-drop-invalid")
    assert off.exit_code == ExitCode.DATA_ERROR
    assert "row 3" in off.stderr


def test_no_per_class_switches_off_the_config(cli, tmp_path):
    cfg = write(tmp_path, "c.yaml", "per_class: true\n")
    probs, targets = SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv"
    on = cli("evaluate", probs, targets, "--config", cfg, "--json")
    off = cli("evaluate", probs, targets, "--config", cfg, "--no-per-class", "--json")
    assert any("per_class" in it for it in on.json()["losses"])
    assert not any("per_class" in it for it in off.json()["losses"])
    cmp = cli("compare", probs, probs, targets, "--config", cfg, "--no-per-class", "--json")
    assert not any("per_class" in e for e in cmp.json()["losses"])


def test_a_config_boolean_must_be_true_or_false(cli, tmp_path):
    cfg = write(tmp_path, "c.yaml", "per_class: sometimes\n")
    r = cli("evaluate", *REG, "--config", cfg)
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert "per_class: must be true or false" in r.stderr


# --------------------------------------------------------------------------- one table


def test_run_options_fields_are_the_settings():
    assert [f.name for f in dataclasses.fields(RunOptions)] == [s.name for s in SETTINGS]


@pytest.mark.parametrize("command", ["evaluate", "compare"])
def test_cli_options_come_from_the_table(command):
    from losscli import cli as cli_module

    params = inspect.signature(getattr(cli_module, command)).parameters
    for s in settings_of(command):
        if s.kind == "input":
            assert {"logits", "probs"} <= set(params)
            continue
        assert s.name in params, s.name
        option = params[s.name].annotation.__metadata__[0]  # Annotated[…, typer.Option]
        first_decl = str(option.default)  # typer keeps the first declaration here
        assert first_decl.split("/")[0] == s.flag, s.name
        assert option.help == s.help


@pytest.mark.parametrize(
    ("module", "fn", "command"),
    [("losscli.api", "evaluate", "evaluate"), ("losscli.comparison", "compare", "compare")],
)
def test_api_keywords_are_the_settings(module, fn, command):
    import importlib

    params = inspect.signature(getattr(importlib.import_module(module), fn)).parameters
    for s in settings_of(command):
        if s.name in ("per_sample_path",) and command == "compare":
            continue
        assert s.name in params, s.name
        assert params[s.name].kind is inspect.Parameter.KEYWORD_ONLY
    keywords = {n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY}
    call_level = {"per_sample", "progress"}
    assert keywords - call_level == {s.name for s in settings_of(command)}


def test_config_keys_are_the_schema():
    from losscli.config import schema

    tree = schema()
    for key, setting in config_keys().items():
        node = tree
        for part in key.split("."):
            node = node[part]
        assert node is setting


def test_flags_win_over_config_and_config_over_defaults(tmp_path):
    from losscli.config import resolve

    cfg = write(
        tmp_path,
        "c.yaml",
        "reduction: sum\nworst: 3\nparams: {huber: {delta: 2.0}}\ngates: {max: {mse: 1}}\n",
    )
    opts = resolve(
        "evaluate",
        {"config": cfg, "worst": 5, "params": {"huber": {"delta": 3.0}}, "gates": {"mae": 2.0}},
    )
    assert opts.reduction == "sum" and opts.worst == 5
    assert opts.params == {"huber": {"delta": 3.0}}
    assert opts.gates == {"mse": 1.0, "mae": 2.0}
    assert resolve("evaluate", {}).reduction == "mean"


def test_api_none_means_not_given(tmp_path):
    import losscli

    bad = write(tmp_path, "bad.csv", "p,y\n1,1\n2,\n3,3\n")
    cfg = write(tmp_path, "c.yaml", "drop_invalid: true\n")
    assert losscli.evaluate(bad, config=cfg).data["n_samples"] == 2
    from losscli.errors import DataError

    with pytest.raises(DataError):
        losscli.evaluate(bad, config=cfg, drop_invalid=False)


# --------------------------------------------------------------------------- one loop


def test_streamed_and_in_memory_runs_agree(cli, tmp_path):
    rng = np.random.default_rng(0)
    y = rng.normal(size=50)
    rows = [f"{v + rng.normal():.6f},{v:.6f}" for v in y]
    f = write(tmp_path, "r.csv", "p,y\n" + "\n".join(rows) + "\n")
    a = cli("evaluate", f, "--chunk-size", "0", "--json").json()
    b = cli("evaluate", f, "--chunk-size", "7", "--json").json()
    assert b["read"]["mode"] == "stream"
    for x, y in zip(a["losses"], b["losses"]):
        if x["value"] is None:
            assert y["value"] is None
        else:
            assert math.isclose(x["value"], y["value"], rel_tol=1e-9)


def test_compute_does_not_import_accumulate():
    import subprocess
    import sys

    code = "import sys, losscli.compute; print('losscli.accumulate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_per_sample_drops_a_loss_that_leaves_its_domain_in_a_late_chunk(cli, tmp_path):
    f = write(tmp_path, "r.csv", "p,y\n1.0,1.0\n2.0,2.5\n0.5,-3.0\n")
    out = tmp_path / "rows.csv"
    r = cli("evaluate", f, "--chunk-size", "2", "--per-sample", out, "--json")
    assert r.exit_code == 0, r.stderr
    statuses = {it["name"]: it["status"] for it in r.json()["losses"]}
    assert statuses["msle"] == "not_applicable"
    header, *rows = out.read_text(encoding="utf-8").splitlines()
    assert header.split(",")[0] == "row" and "msle" not in header.split(",")
    assert "mse" in header.split(",") and len(rows) == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_recommend_condition_flags_are_the_rule_conditions(cli):
    from losscli.cli import CONDITION_HELP
    from losscli.rules.schema import CONDITIONS

    assert tuple(CONDITION_HELP) == CONDITIONS
    r = cli("recommend", "--task", "regression", "--noisy-labels", "--outliers", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["conditions"] == {"noisy_labels": True, "outliers": True}


@pytest.mark.slow
def test_domain_error_names_the_partition_file_on_dask(cli, tmp_path):
    pytest.importorskip("distributed")
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "a.csv").write_text("p,y\n1,1\n2,2\n", encoding="utf-8")
    (parts / "b.csv").write_text("p,y\n1,1\n2,-3\n", encoding="utf-8")
    r = cli("evaluate", parts, "--engine", "dask", "--loss", "msle")
    assert r.exit_code == ExitCode.DATA_ERROR
    assert f"{parts / 'b.csv'}, column 'y', row 3" in r.stderr, r.stderr
