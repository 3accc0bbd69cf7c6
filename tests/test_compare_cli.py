"""End-to-end tests of ``losscli compare`` through the CLI runner."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from losscli.errors import ExitCode
from tests.conftest import write_csv

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"


def write_column(path: Path, name: str, values: np.ndarray) -> Path:
    return write_csv(path, [name], [[repr(float(v))] for v in values])


def run_json(cli: Any, *args: Any, command: str = "compare", code: int = 0) -> dict[str, Any]:
    r = cli(command, *args, "--json")
    assert r.exit_code == code, (r.exit_code, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    doc = json.loads(r.stdout, parse_constant=_reject)
    assert doc["schema_version"] == 1 and doc["command"] == command
    return doc


def _reject(name: str) -> None:
    raise AssertionError(f"non-strict JSON constant {name}")


def entry(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(e for e in doc["losses"] if e["name"] == name)


def assert_clean_error(r: Any, code: int, *needles: str) -> None:
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("Error: ") and "Traceback" not in r.stderr
    for needle in needles:
        assert needle in r.stderr, (needle, r.stderr)


@pytest.fixture
def disagreeing(tmp_path: Path) -> dict[str, Any]:
    """Model 'spiky': tiny errors except 3 huge ones; model 'steady': moderate errors
    everywhere. Squared error prefers steady, absolute error prefers spiky."""
    rng = np.random.default_rng(2024)
    n = 200
    y = rng.normal(10.0, 2.0, n)
    spiky = y + rng.normal(0.0, 0.05, n)
    spiky[[17, 90, 151]] += np.array([30.0, -28.0, 25.0])
    steady = y + rng.normal(0.0, 1.0, n)
    return {
        "y": y,
        "spiky": spiky,
        "steady": steady,
        "paths": (
            write_column(tmp_path / "spiky.csv", "pred", spiky),
            write_column(tmp_path / "steady.csv", "pred", steady),
            write_column(tmp_path / "y.csv", "y", y),
        ),
    }


# --------------------------------------------------------------------------- two models


def test_mse_and_mae_disagree_and_the_summary_says_why(cli, disagreeing):
    d = disagreeing
    doc = run_json(cli, *d["paths"])
    assert doc["models"] == ["spiky", "steady"]
    assert doc["task"]["name"] == "regression" and doc["n_samples"] == 200
    mse, mae = entry(doc, "mse"), entry(doc, "mae")
    assert mse["best"] == "steady" and mae["best"] == "spiky"
    # hand check of both values from the arrays
    for m in ("spiky", "steady"):
        err = d[m] - d["y"]
        np.testing.assert_allclose(mse["values"][m], np.mean(err**2), rtol=1e-12)
        np.testing.assert_allclose(mae["values"][m], np.mean(np.abs(err)), rtol=1e-12)
    text = " ".join(doc["summary"])
    assert "disagree" in text
    # 1% of 200 rows = 2 rows: the two largest squared errors of spiky over the total
    sq = np.sort((d["spiky"] - d["y"]) ** 2)
    share = sq[-2:].sum() / sq.sum()
    assert (
        f"spiky has a few very large errors: 1% of its rows carry {share:.0%} of its "
        "squared error." in doc["summary"]
    )


def test_compare_values_equal_evaluate_per_model(cli, disagreeing):
    spiky, steady, y = disagreeing["paths"]
    doc = run_json(cli, spiky, steady, y)
    for name, path in (("spiky", spiky), ("steady", steady)):
        ev = run_json(cli, path, y, command="evaluate")
        for item in ev["losses"]:
            e = entry(doc, item["name"])
            assert e["values"][name] == item["value"], item["name"]
            assert e["status"][name] == item["status"]
            assert e["params"] == item["params"]


def test_names_option(cli, disagreeing):
    doc = run_json(cli, *disagreeing["paths"], "--names", "a, b")
    assert doc["models"] == ["a", "b"]
    assert set(entry(doc, "mse")["values"]) == {"a", "b"}
    assert entry(doc, "mse")["best"] == "b"


def test_sort_by_orders_models(cli, disagreeing):
    by_mae = run_json(cli, *disagreeing["paths"], "--sort-by", "mae")
    by_mse = run_json(cli, *disagreeing["paths"], "--sort-by", "mse")
    assert by_mae["models"] == ["spiky", "steady"]
    assert by_mse["models"] == ["steady", "spiky"]
    assert entry(by_mse, "mse")["values"] == entry(by_mae, "mse")["values"]


def test_sort_by_unknown_loss_is_a_usage_error(cli, disagreeing):
    r = cli("compare", *disagreeing["paths"], "--sort-by", "maee")
    assert_clean_error(r, ExitCode.USAGE_ERROR, "did you mean 'mae'")


def test_gate_for_every_model(cli, disagreeing):
    r = cli("compare", *disagreeing["paths"], "--json", "--max", "mse=5")
    assert r.exit_code == ExitCode.GATE_FAILED
    doc = json.loads(r.stdout)
    assert {(g["model"], g["passed"]) for g in doc["gates"]} == {("spiky", False), ("steady", True)}
    assert "gate failed: spiky: mse" in r.stderr


def test_csv_output_has_one_line_per_model_and_loss(cli, disagreeing, tmp_path):
    out = tmp_path / "cmp.csv"
    doc = run_json(cli, *disagreeing["paths"], "-o", out)
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2 * len(doc["losses"])
    mse = {r["model"]: r for r in rows if r["loss"] == "mse"}
    assert float(mse["steady"]["value"]) == entry(doc, "mse")["values"]["steady"]
    assert mse["steady"]["best"] == "true" and mse["spiky"]["best"] == "false"


# --------------------------------------------------------------------------- three multiclass models


def test_three_multiclass_models_ranked(cli, tmp_path):
    rng = np.random.default_rng(7)
    n, names = 300, ["cat", "dog", "bird"]
    y = rng.integers(0, 3, n)
    onehot = np.eye(3)[y]
    noise = rng.dirichlet(np.ones(3), n)
    paths = []
    for model, alpha in (("good", 0.8), ("fair", 0.5), ("poor", 0.2)):
        p = alpha * onehot + (1 - alpha) * noise
        paths.append(
            write_csv(
                tmp_path / f"{model}.csv", names, [[repr(float(v)) for v in row] for row in p]
            )
        )
    targets = write_csv(tmp_path / "t.csv", ["label"], [[names[k]] for k in y])
    doc = run_json(cli, *paths, targets, "--sort-by", "cross_entropy")
    assert doc["task"]["name"] == "multiclass"
    assert doc["models"] == ["good", "fair", "poor"]
    for name in ("cross_entropy", "brier", "multi_hinge"):
        e = entry(doc, name)
        assert e["best"] == "good", name
        v = e["values"]
        assert v["good"] < v["fair"] < v["poor"], (name, v)
    # hand check: mean −log p_y of the best model
    p = 0.8 * onehot + 0.2 * noise
    ce = -np.mean(np.log(p[np.arange(n), y]))
    # the CSV holds repr() of each float: exact round trip
    np.testing.assert_allclose(entry(doc, "cross_entropy")["values"]["good"], ce, rtol=1e-12)


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_gives_intervals_and_paired_differences(cli, tmp_path):
    rng = np.random.default_rng(3)
    n = 400
    y = rng.normal(0.0, 1.0, n)
    good = y + rng.normal(0.0, 0.3, n)
    bad = y + rng.normal(0.0, 1.0, n)
    paths = (
        write_column(tmp_path / "good.csv", "pred", good),
        write_column(tmp_path / "bad.csv", "pred", bad),
        write_column(tmp_path / "same.csv", "pred", good),
        write_column(tmp_path / "y.csv", "y", y),
    )
    doc = run_json(
        cli,
        *paths,
        "--bootstrap",
        "500",
        "--seed",
        "1",
        "--loss",
        "mse",
        "--loss",
        "mae",
        "--loss",
        "rmse",
    )
    assert doc["bootstrap"] == {"replicates": 500, "seed": 1, "method": "poisson", "level": 0.95}
    for name in ("mse", "mae", "rmse"):
        e = entry(doc, name)
        assert set(e["ci"]) == {"good", "bad", "same"}
        for m, (lo, hi) in e["ci"].items():
            assert lo < e["values"][m] < hi, (name, m)
        assert e["best"] == "good"
        vs = e["vs_best"]
        assert set(vs) == {"bad", "same"}
        # bad vs good: mse 1.09 vs 0.09 on 400 rows — far outside the noise
        assert vs["bad"]["vs"] == "good" and vs["bad"]["excludes_zero"] is True
        assert vs["bad"]["ci"][0] > 0
        np.testing.assert_allclose(
            vs["bad"]["difference"], e["values"]["bad"] - e["values"]["good"], rtol=1e-12
        )
        # identical predictions: every paired replicate differs by exactly 0
        assert vs["same"]["excludes_zero"] is False
        assert vs["same"]["ci"] == [0.0, 0.0] and vs["same"]["difference"] == 0.0
    # rmse replicates are the square roots of mse's (same counts, monotone map): the
    # intervals agree up to the linear interpolation between neighbouring order statistics
    np.testing.assert_allclose(
        entry(doc, "rmse")["ci"]["bad"], np.sqrt(entry(doc, "mse")["ci"]["bad"]), rtol=1e-4
    )
    assert any("a real difference" in s for s in doc["summary"])
    assert any("within noise" in s for s in doc["summary"])


def test_bootstrap_is_reproducible_by_seed(cli, disagreeing):
    a = run_json(cli, *disagreeing["paths"], "--bootstrap", "200", "--seed", "5")
    b = run_json(cli, *disagreeing["paths"], "--bootstrap", "200", "--seed", "5")
    c = run_json(cli, *disagreeing["paths"], "--bootstrap", "200", "--seed", "6")
    assert entry(a, "mse")["ci"] == entry(b, "mse")["ci"]
    assert entry(a, "mse")["ci"] != entry(c, "mse")["ci"]


def test_models_joined_on_ids_in_any_row_order(cli, tmp_path):
    """Two prediction files with the same ids in different orders, joined to the targets
    on id: they are the same rows, paired row by row for the bootstrap."""
    rows = list(csv.reader((SAMPLES / "regression_preds.csv").open()))
    header, body = rows[0], rows[1:]
    order = np.random.default_rng(1).permutation(len(body))
    shuffled = write_csv(tmp_path / "shuffled.csv", header, [body[i] for i in order])
    doc = run_json(
        cli,
        SAMPLES / "regression_preds.csv",
        shuffled,
        SAMPLES / "regression_targets.csv",
        "--bootstrap",
        "100",
    )
    mse = entry(doc, "mse")
    a, b = mse["values"]["regression_preds"], mse["values"]["shuffled"]
    np.testing.assert_allclose(a, b, rtol=1e-12)
    assert mse["vs_best"][doc["models"][1]]["ci"] == [0.0, 0.0]


# --------------------------------------------------------------------------- layouts and errors


def test_mismatched_rows_between_models_is_a_data_error(cli, disagreeing, tmp_path):
    spiky, _steady, y = disagreeing["paths"]
    short = write_column(tmp_path / "short.csv", "pred", disagreeing["steady"][:150])
    r = cli("compare", spiky, short, y)
    assert_clean_error(r, ExitCode.DATA_ERROR, "short.csv", "150")


def test_names_count_mismatch_is_a_usage_error(cli, disagreeing):
    r = cli("compare", *disagreeing["paths"], "--names", "only_one")
    assert_clean_error(r, ExitCode.USAGE_ERROR, "--names gives 1 names for 2")


def test_repeated_names_are_a_usage_error(cli, disagreeing):
    r = cli("compare", *disagreeing["paths"], "--names", "a,a")
    assert_clean_error(r, ExitCode.USAGE_ERROR, "--names repeats a name")


def test_single_predictions_file_without_targets_is_a_usage_error(cli, disagreeing):
    """One file and no target column: nothing to compare against."""
    r = cli("compare", disagreeing["paths"][0])
    assert_clean_error(r, ExitCode.USAGE_ERROR, "no targets", "TARGETS")


def test_models_with_different_outputs_are_a_data_error(cli, tmp_path):
    y = write_csv(tmp_path / "y.csv", ["label"], [["a"], ["b"], ["c"], ["a"]])
    three = write_csv(
        tmp_path / "m3.csv",
        ["a", "b", "c"],
        [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.6, 0.2, 0.2]],
    )
    four = write_csv(tmp_path / "m4.csv", ["a", "b", "c", "d"], [[0.7, 0.1, 0.1, 0.1]] * 4)
    r = cli("compare", three, four, y)
    assert_clean_error(r, ExitCode.DATA_ERROR, "m4.csv", "(4,)", "(3,)")


# --------------------------------------------------------------------------- one model


def test_one_model_reports_sensitivity(cli):
    doc = run_json(cli, SAMPLES / "regression_preds.csv", SAMPLES / "regression_targets.csv")
    assert doc["models"] == ["regression_preds"]
    sens = {s["loss"]: s for s in doc["sensitivity"]}
    # brute force from the files: squared errors joined on id
    p = {
        r["id"]: float(r["prediction"])
        for r in csv.DictReader((SAMPLES / "regression_preds.csv").open())
    }
    t = {
        r["id"]: float(r["price"])
        for r in csv.DictReader((SAMPLES / "regression_targets.csv").open())
    }
    sq = np.sort([(p[i] - t[i]) ** 2 for i in p])[::-1]
    k1, k5 = math.ceil(0.01 * sq.size), math.ceil(0.05 * sq.size)
    np.testing.assert_allclose(sens["mse"]["top_1pct_share"], sq[:k1].sum() / sq.sum(), rtol=1e-12)
    np.testing.assert_allclose(sens["mse"]["top_5pct_share"], sq[:k5].sum() / sq.sum(), rtol=1e-12)
    assert 0 < sens["mae"]["top_1pct_share"] < sens["mse"]["top_1pct_share"] < 1
    assert any("prefer a robust loss" in s for s in doc["summary"])


def test_targets_on_stdin_serve_every_model(cli, disagreeing):
    spiky, steady, y = disagreeing["paths"]
    base = run_json(cli, spiky, steady, y)
    r = cli("compare", spiky, steady, "-", "--json", input=y.read_text())
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [e["values"] for e in doc["losses"]] == [e["values"] for e in base["losses"]]


def test_two_inputs_on_stdin_is_a_usage_error(cli, disagreeing):
    spiky, _steady, y = disagreeing["paths"]
    r = cli("compare", "-", "-", y, input=spiky.read_text())
    assert_clean_error(r, ExitCode.USAGE_ERROR, "at most one input may be '-'")


def test_gan_models_have_no_targets_file(cli, tmp_path):
    """With --task gan every path is a model (discriminator outputs real, fake)."""
    rng = np.random.default_rng(9)
    real, fake = rng.normal(1.0, 1.0, 200), rng.normal(-1.0, 1.0, 200)
    other = write_csv(
        tmp_path / "other.csv",
        ["real", "fake"],
        [[repr(float(a)), repr(float(b))] for a, b in zip(real, fake)],
    )
    doc = run_json(cli, SAMPLES / "gan_scores.csv", other, "--task", "gan")
    assert doc["task"]["name"] == "gan" and doc["models"] == ["gan_scores", "other"]
    np.testing.assert_allclose(
        entry(doc, "wgan_d")["values"]["other"], fake.mean() - real.mean(), rtol=1e-12
    )
