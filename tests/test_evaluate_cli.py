"""End-to-end tests of ``losscli evaluate`` through the CLI runner.

Expected values come from the loss core called directly
(``losscli.compute.compute(get_spec(name, task), ...)``) on arrays built here from the
files with the ``csv`` module and NumPy — never through ``losscli.data`` — so a bug in
reading, aligning or inferring shows up as a mismatch.
"""

from __future__ import annotations

import csv
import gzip
import json
import math
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from losscli.compute import compute
from losscli.errors import ExitCode
from losscli.registry import get_spec
from tests.conftest import write_csv

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"


# --------------------------------------------------------------------------- helpers


def read_columns(path: Path) -> dict[str, list[str]]:
    """Columns of a CSV file as lists of strings (csv module; BOM-tolerant)."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    return {name: [r[j] for r in body] for j, name in enumerate(header)}


def floats(values: list[str]) -> np.ndarray:
    return np.array([float(v) for v in values], dtype=np.float64)


def core(
    name: str,
    task: str,
    pred: np.ndarray,
    target: np.ndarray | None,
    *,
    context: dict[str, Any] | None = None,
    **kwargs: Any,
) -> Any:
    """The loss core's result for one loss (strict=False: domain misses → not_applicable)."""
    return compute(get_spec(name, task), pred, target, context=context, strict=False, **kwargs)


def assert_clean_error(r: Any, code: int, *needles: str) -> None:
    """Exit ``code``, ``Error: …`` on stderr naming every needle, and on stdout nothing
    — or, when the run asked for JSON, only the error document (SPEC §11)."""
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    if r.stdout:
        doc = json.loads(r.stdout)
        assert doc["ok"] is False and doc["error"]["code"] == code, doc
        assert doc["error"]["message"] in r.stderr
    assert r.stderr.startswith("Error: "), r.stderr
    assert "Traceback" not in r.stderr
    for needle in needles:
        assert needle in r.stderr, (needle, r.stderr)


def run_json(cli: Any, *args: Any, input: str | None = None, code: int = 0) -> dict[str, Any]:
    """Run ``evaluate ARGS --json``; check the exit code and parse strict JSON."""
    r = cli("evaluate", *args, "--json", input=input)
    assert r.exit_code == code, (r.exit_code, r.stderr)
    assert "Traceback" not in r.stderr + r.stdout
    doc = json.loads(r.stdout, parse_constant=_reject_constant)
    assert doc["schema_version"] == 1 and doc["command"] == "evaluate"
    return doc


def _reject_constant(name: str) -> None:
    raise AssertionError(f"non-strict JSON constant {name} on stdout")


def values(doc: dict[str, Any]) -> dict[str, Any]:
    return {it["name"]: it["value"] for it in doc["losses"]}


def statuses(doc: dict[str, Any]) -> dict[str, str]:
    return {it["name"]: it["status"] for it in doc["losses"]}


def assert_matches_core(
    doc: dict[str, Any],
    task: str,
    pred: np.ndarray,
    target: np.ndarray | None,
    *,
    context: dict[str, Any] | None = None,
    rtol: float = 1e-12,
) -> None:
    """Every loss in ``doc`` has the core's value (or the core's status)."""
    assert doc["losses"], "no loss computed"
    for item in doc["losses"]:
        ref = core(item["name"], task, pred, target, context=context)
        assert item["status"] == ref.status, (item["name"], item, ref.reason)
        if ref.status == "ok":
            np.testing.assert_allclose(item["value"], ref.value, rtol=rtol, err_msg=item["name"])
        else:
            assert item["value"] is None


def regression_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids, pred, target) of the regression sample, targets joined by id in Python."""
    p = read_columns(SAMPLES / "regression_preds.csv")
    t = read_columns(SAMPLES / "regression_targets.csv")
    by_id = dict(zip(t["id"], t["price"]))
    ids = np.array([int(i) for i in p["id"]])
    target = floats([by_id[i] for i in p["id"]])
    return ids, floats(p["prediction"]), target


def binary_arrays(kind: str = "probs") -> tuple[np.ndarray, np.ndarray]:
    col, fname = (
        ("p_fraud", "binary_probs.csv") if kind == "probs" else ("logit", "binary_logits.csv")
    )
    pred = floats(read_columns(SAMPLES / fname)[col])
    target = floats(read_columns(SAMPLES / "binary_targets.csv")["is_fraud"])
    return pred, target


def multiclass_arrays() -> tuple[np.ndarray, np.ndarray, list[str]]:
    p = read_columns(SAMPLES / "multiclass_probs.csv")
    names = list(p)
    pred = np.stack([floats(p[c]) for c in names], axis=1)
    labels = read_columns(SAMPLES / "multiclass_targets.csv")["label"]
    target = np.array([names.index(v) for v in labels], dtype=np.int64)
    return pred, target, names


# --------------------------------------------------------------------------- every sample file

SAMPLE_RUNS = [
    ("regression_preds.csv", "regression_targets.csv", "regression", None),
    ("binary_probs.csv", "binary_targets.csv", "binary", "probabilities"),
    ("binary_logits.csv", "binary_targets.csv", "binary", "logits"),
    ("multiclass_probs.csv", "multiclass_targets.csv", "multiclass", "probabilities"),
    ("multilabel_preds.csv", "multilabel_targets.csv", "multilabel", "probabilities"),
    ("segmentation_preds.npy", "segmentation_masks.npy", "segmentation", "probabilities"),
    ("detection_preds.csv", "detection_targets.csv", "detection", "probabilities"),
    ("embeddings.csv", "embedding_labels.csv", "embedding", None),
    ("distribution_preds.csv", "distribution_targets.csv", "distribution", "probabilities"),
    ("vae_outputs.csv", "vae_inputs.csv", "vae", None),
    ("gan_scores.csv", None, "gan", None),
]


@pytest.mark.parametrize(("preds", "targets", "task", "kind"), SAMPLE_RUNS)
def test_every_sample_file_infers_its_task(cli, preds, targets, task, kind):
    args = [SAMPLES / preds] + ([SAMPLES / targets] if targets else [])
    doc = run_json(cli, *args)
    assert doc["task"]["name"] == task
    assert doc["task"]["inferred"] is True
    assert doc["task"].get("input") == kind
    assert doc["ok"] is True and doc["gates"] == []
    assert all(it["status"] in ("ok", "not_applicable") for it in doc["losses"])
    assert any(it["status"] == "ok" for it in doc["losses"])
    for it in doc["losses"]:
        assert isinstance(it["params"], dict)


def test_task_is_reported_on_stderr(cli):
    r = cli("evaluate", SAMPLES / "binary_probs.csv", SAMPLES / "binary_targets.csv", "--json")
    assert r.exit_code == 0
    assert "task: binary (inferred); predictions are probabilities (inferred)" in r.stderr


def test_regression_values_equal_the_core(cli):
    doc = run_json(cli, SAMPLES / "regression_preds.csv", SAMPLES / "regression_targets.csv")
    _ids, pred, target = regression_arrays()
    assert doc["n_samples"] == pred.size == 200
    assert set(values(doc)) >= {"mse", "rmse", "mae", "huber", "msle", "mape"}
    assert_matches_core(doc, "regression", pred, target)
    # and a hand check of the two simplest: mean squared / absolute residual
    np.testing.assert_allclose(values(doc)["mse"], np.mean((pred - target) ** 2), rtol=1e-12)
    np.testing.assert_allclose(values(doc)["mae"], np.mean(np.abs(pred - target)), rtol=1e-12)


@pytest.mark.parametrize("kind", ["probs", "logits"])
def test_binary_values_equal_the_core(cli, kind):
    fname = "binary_probs.csv" if kind == "probs" else "binary_logits.csv"
    doc = run_json(cli, SAMPLES / fname, SAMPLES / "binary_targets.csv")
    pred, target = binary_arrays(kind)
    ctx = {"from_logits": kind == "logits"}
    assert set(values(doc)) == {"bce", "focal", "hinge", "squared_hinge", "brier", "ece", "mce"}
    assert_matches_core(doc, "binary", pred, target, context=ctx)
    # hand check: bce on probabilities (no value reaches the -100 clamp here)
    p = pred if kind == "probs" else 1.0 / (1.0 + np.exp(-pred))
    bce = -np.mean(target * np.log(p) + (1 - target) * np.log1p(-p))
    np.testing.assert_allclose(values(doc)["bce"], bce, rtol=1e-9)


def test_binary_probs_and_logits_samples_agree_on_bce(cli):
    """The two sample files are the same model (logit = log(p/(1-p)) rounded to 6 d.p.)."""
    a = values(run_json(cli, SAMPLES / "binary_probs.csv", SAMPLES / "binary_targets.csv"))
    b = values(run_json(cli, SAMPLES / "binary_logits.csv", SAMPLES / "binary_targets.csv"))
    np.testing.assert_allclose(a["bce"], b["bce"], rtol=1e-5)


def test_multiclass_named_classes_equal_the_core(cli):
    doc = run_json(cli, SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv")
    pred, target, _names = multiclass_arrays()
    assert {"cross_entropy", "brier", "multi_hinge"} <= set(values(doc))
    assert_matches_core(doc, "multiclass", pred, target, context={"from_logits": False})
    # hand check: cross-entropy = mean −log p_y
    ce = -np.mean(np.log(pred[np.arange(pred.shape[0]), target]))
    np.testing.assert_allclose(values(doc)["cross_entropy"], ce, rtol=1e-12)


def test_multilabel_values_equal_the_core(cli):
    p = read_columns(SAMPLES / "multilabel_preds.csv")
    t = read_columns(SAMPLES / "multilabel_targets.csv")
    pred = np.stack([floats(p[c]) for c in p], axis=1)
    target = np.stack([floats(t[c]) for c in p], axis=1)
    doc = run_json(cli, SAMPLES / "multilabel_preds.csv", SAMPLES / "multilabel_targets.csv")
    assert_matches_core(doc, "multilabel", pred, target, context={"from_logits": False})


def test_distribution_values_equal_the_core(cli):
    p = read_columns(SAMPLES / "distribution_preds.csv")
    t = read_columns(SAMPLES / "distribution_targets.csv")
    q = np.stack([floats(p[c]) for c in p], axis=1)
    pp = np.stack([floats(t[c]) for c in p], axis=1)
    doc = run_json(cli, SAMPLES / "distribution_preds.csv", SAMPLES / "distribution_targets.csv")
    assert_matches_core(doc, "distribution", q, pp)
    # hand check: KL(P‖Q) summed over classes, mean over rows (no zeros in the sample)
    kl = np.mean(np.sum(pp * np.log(pp / q), axis=1))
    np.testing.assert_allclose(values(doc)["kl_div"], kl, rtol=1e-12)


def test_gan_values_equal_the_core(cli):
    g = read_columns(SAMPLES / "gan_scores.csv")
    real, fake = floats(g["real"]), floats(g["fake"])
    doc = run_json(cli, SAMPLES / "gan_scores.csv")
    assert_matches_core(doc, "gan", real, fake)
    np.testing.assert_allclose(values(doc)["wgan_d"], fake.mean() - real.mean(), rtol=1e-12)


def test_segmentation_values_equal_the_core(cli):
    p = np.load(SAMPLES / "segmentation_preds.npy").astype(np.float64)
    t = np.load(SAMPLES / "segmentation_masks.npy").astype(np.float64)
    n = p.shape[0]
    doc = run_json(cli, SAMPLES / "segmentation_preds.npy", SAMPLES / "segmentation_masks.npy")
    assert_matches_core(
        doc,
        "segmentation",
        p.reshape(n, 1, -1),
        t.reshape(n, 1, -1),
        context={"from_logits": False},
    )


# --------------------------------------------------------------------------- one test per error


def test_missing_file_is_a_data_error(cli, tmp_path):
    r = cli("evaluate", tmp_path / "nope.csv", SAMPLES / "binary_targets.csv")
    assert_clean_error(r, ExitCode.DATA_ERROR, "nope.csv", "no such file")


def test_non_numeric_cell_names_row_and_column(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["p"], [[0.2], ["abc"], [0.4]])
    y = write_csv(tmp_path / "y.csv", ["y"], [[0], [1], [0]])
    r = cli("evaluate", p, y)
    # row 3: the header is row 1, so the second data row is row 3
    assert_clean_error(r, ExitCode.DATA_ERROR, "column 'p'", "row 3", "'abc'")


def test_nan_cell_is_a_data_error(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["p"], [[0.2], ["nan"], [0.4], [0.9]])
    y = write_csv(tmp_path / "y.csv", ["y"], [[0], [1], [0], [1]])
    r = cli("evaluate", p, y)
    assert_clean_error(r, ExitCode.DATA_ERROR, "column 'p'", "row 3", "--drop-invalid")


def test_drop_invalid_drops_and_counts_rows(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["p"], [[0.2], ["nan"], [0.4], [""], [0.9]])
    y = write_csv(tmp_path / "y.csv", ["y"], [[0], [1], [0], [1], [1]])
    doc = run_json(cli, p, y, "--drop-invalid")
    assert doc["n_samples"] == 3
    assert any("dropped 2 of 5 rows" in w for w in doc["warnings"]), doc["warnings"]
    pred, target = np.array([0.2, 0.4, 0.9]), np.array([0.0, 0.0, 1.0])
    assert_matches_core(doc, "binary", pred, target, context={"from_logits": False})


def test_row_count_mismatch_is_a_data_error(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["p"], [[0.2], [0.3]])
    y = write_csv(tmp_path / "y.csv", ["y"], [[0], [1], [0]])
    r = cli("evaluate", p, y)
    assert_clean_error(r, ExitCode.DATA_ERROR, "row counts differ", "2 rows", "3")


def test_duplicate_ids_are_a_data_error(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["id", "p"], [[1, 0.2], [2, 0.3], [2, 0.4]])
    y = write_csv(tmp_path / "y.csv", ["id", "y"], [[1, 0], [2, 1], [3, 0]])
    r = cli("evaluate", p, y)
    assert_clean_error(r, ExitCode.DATA_ERROR, "duplicate id", "2")


def test_missing_ids_are_a_data_error(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["id", "p"], [[1, 0.2], [2, 0.3], [4, 0.4]])
    y = write_csv(tmp_path / "y.csv", ["id", "y"], [[1, 0], [2, 1], [3, 0]])
    r = cli("evaluate", p, y)
    assert_clean_error(r, ExitCode.DATA_ERROR, "ids do not match", "4", "3")


def test_unknown_column_suggests_a_name(cli):
    r = cli(
        "evaluate",
        SAMPLES / "binary_probs.csv",
        SAMPLES / "binary_targets.csv",
        "--pred-col",
        "p_frod",
    )
    assert_clean_error(r, ExitCode.DATA_ERROR, "p_frod", "did you mean 'p_fraud'")


def test_unknown_loss_suggests_huber(cli):
    r = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--loss",
        "hubber",
    )
    assert_clean_error(r, ExitCode.USAGE_ERROR, "unknown loss 'hubber'", "did you mean 'huber'")


def test_unknown_param_key_suggests_delta(cli):
    r = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--param",
        "huber.deltaa=2",
    )
    assert_clean_error(r, ExitCode.USAGE_ERROR, "'deltaa'", "did you mean 'delta'")


@pytest.mark.parametrize("value", ["abc", "-1", "nan"])
def test_bad_param_value_is_a_usage_error(cli, value):
    r = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--param",
        f"huber.delta={value}",
    )
    assert_clean_error(r, ExitCode.USAGE_ERROR, "huber.delta")


def test_loss_of_another_task_is_a_usage_error(cli):
    r = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--loss",
        "bce",
    )
    assert_clean_error(r, ExitCode.USAGE_ERROR, "'bce' does not apply to task 'regression'")


def _negative_targets(tmp_path: Path) -> tuple[Path, Path]:
    p = write_csv(tmp_path / "p.csv", ["pred"], [[1.0], [2.0], [0.5], [3.25]])
    y = write_csv(tmp_path / "y.csv", ["y"], [[-2.5], [1.5], [0.7], [2.0]])
    return p, y


def test_msle_asked_for_on_negative_targets_is_a_data_error(cli, tmp_path):
    p, y = _negative_targets(tmp_path)
    r = cli("evaluate", p, y, "--loss", "msle")
    assert_clean_error(r, ExitCode.DATA_ERROR, "msle", "-2.5")


def test_default_run_lists_msle_as_not_applicable(cli, tmp_path):
    p, y = _negative_targets(tmp_path)
    doc = run_json(cli, p, y)
    msle = next(it for it in doc["losses"] if it["name"] == "msle")
    assert msle["status"] == "not_applicable" and msle["value"] is None
    assert "-2.5" in msle["reason"]
    assert statuses(doc)["mse"] == "ok"
    np.testing.assert_allclose(values(doc)["mse"], np.mean([3.5**2, 0.5**2, 0.2**2, 1.25**2]))


def test_logits_with_probs_is_a_usage_error(cli):
    r = cli(
        "evaluate",
        SAMPLES / "binary_probs.csv",
        SAMPLES / "binary_targets.csv",
        "--logits",
        "--probs",
    )
    assert_clean_error(r, ExitCode.USAGE_ERROR, "--logits conflicts with --probs")


def test_json_with_format_csv_is_a_usage_error(cli):
    r = cli(
        "evaluate",
        SAMPLES / "binary_probs.csv",
        SAMPLES / "binary_targets.csv",
        "--json",
        "--format",
        "csv",
    )
    assert_clean_error(r, ExitCode.USAGE_ERROR, "--json conflicts with --format csv")


def test_invalid_config_yaml_names_file_and_line(cli, tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("task: regression\nlosses: [mse\n")
    r = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--config",
        cfg,
    )
    assert_clean_error(r, ExitCode.USAGE_ERROR, "cfg.yaml", "invalid YAML", "line")


def test_unknown_config_key_has_a_breadcrumb(cli, tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("task: regression\nlosess: [mse]\n")
    r = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--config",
        cfg,
    )
    assert_clean_error(r, ExitCode.USAGE_ERROR, "cfg.yaml › losess", "did you mean 'losses'")


def test_unknown_config_param_key_has_a_breadcrumb(cli, tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("params:\n  huber:\n    deltaa: 2\n")
    r = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--config",
        cfg,
    )
    assert_clean_error(
        r, ExitCode.USAGE_ERROR, "cfg.yaml › params › huber › deltaa", "did you mean 'delta'"
    )


def test_bad_output_extension_fails_before_reading_data(cli, tmp_path):
    r = cli("evaluate", tmp_path / "nope.csv", "--json", "-o", tmp_path / "x.xlsx")
    assert_clean_error(r, ExitCode.USAGE_ERROR, "x.xlsx")


# --------------------------------------------------------------------------- lossless variants


def _binary_text() -> tuple[str, str]:
    return (
        (SAMPLES / "binary_probs.csv").read_text(),
        (SAMPLES / "binary_targets.csv").read_text(),
    )


def _headerless(tmp: Path) -> list[Any]:
    p, t = _binary_text()
    (tmp / "p.csv").write_text(p.split("\n", 1)[1])
    (tmp / "t.csv").write_text(t.split("\n", 1)[1])
    return [tmp / "p.csv", tmp / "t.csv"]


def _bom_crlf(tmp: Path) -> list[Any]:
    p, t = _binary_text()
    (tmp / "p.csv").write_bytes(b"\xef\xbb\xbf" + p.replace("\n", "\r\n").encode())
    (tmp / "t.csv").write_bytes(b"\xef\xbb\xbf" + t.replace("\n", "\r\n").encode())
    return [tmp / "p.csv", tmp / "t.csv"]


def _gzip(tmp: Path) -> list[Any]:
    p, t = _binary_text()
    with gzip.open(tmp / "p.csv.gz", "wt") as fh:
        fh.write(p)
    with gzip.open(tmp / "t.csv.gz", "wt") as fh:
        fh.write(t)
    return [tmp / "p.csv.gz", tmp / "t.csv.gz"]


def _parquet(tmp: Path) -> list[Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pred, target = binary_arrays()
    pq.write_table(pa.table({"p_fraud": pred}), tmp / "p.parquet")
    pq.write_table(pa.table({"is_fraud": target.astype(np.int64)}), tmp / "t.parquet")
    return [tmp / "p.parquet", tmp / "t.parquet"]


def _npy(tmp: Path) -> list[Any]:
    pred, target = binary_arrays()
    np.save(tmp / "p.npy", pred)
    np.save(tmp / "t.npy", target)
    return [tmp / "p.npy", tmp / "t.npy"]


VARIANTS = {
    "headerless": _headerless,
    "bom_crlf": _bom_crlf,
    "gzip": _gzip,
    "parquet": _parquet,
    "npy": _npy,
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_lossless_variants_give_identical_values(cli, tmp_path, variant):
    base = run_json(cli, SAMPLES / "binary_probs.csv", SAMPLES / "binary_targets.csv")
    doc = run_json(cli, *VARIANTS[variant](tmp_path))
    assert doc["task"]["name"] == "binary" and doc["task"]["input"] == "probabilities"
    assert doc["n_samples"] == base["n_samples"] == 400
    assert doc["inputs"]["predictions"]["rows"] == 400
    assert doc["inputs"]["targets"]["rows"] == 400
    assert values(doc) == values(base)
    assert statuses(doc) == statuses(base)


@pytest.mark.parametrize("which", ["predictions", "targets"])
def test_stdin_gives_identical_values(cli, which):
    base = run_json(cli, SAMPLES / "binary_probs.csv", SAMPLES / "binary_targets.csv")
    p, t = _binary_text()
    if which == "predictions":
        doc = run_json(cli, "-", SAMPLES / "binary_targets.csv", input=p)
    else:
        doc = run_json(cli, SAMPLES / "binary_probs.csv", "-", input=t)
    assert doc["n_samples"] == 400
    assert values(doc) == values(base)


def test_id_joined_shuffled_rows_give_identical_values(cli, tmp_path):
    """Targets in another row order, joined on id: the same values as a row-aligned copy."""
    ids, pred, target = regression_arrays()
    rng = np.random.default_rng(5)
    order = rng.permutation(ids.size)
    write_csv(
        tmp_path / "p.csv",
        ["id", "prediction"],
        [[int(i), repr(float(v))] for i, v in zip(ids, pred)],
    )
    write_csv(
        tmp_path / "t.csv", ["id", "price"], [[int(ids[k]), repr(float(target[k]))] for k in order]
    )
    write_csv(tmp_path / "p_noid.csv", ["prediction"], [[repr(float(v))] for v in pred])
    write_csv(tmp_path / "t_noid.csv", ["price"], [[repr(float(v))] for v in target])
    joined = run_json(cli, tmp_path / "p.csv", tmp_path / "t.csv")
    aligned = run_json(cli, tmp_path / "p_noid.csv", tmp_path / "t_noid.csv")
    sample = run_json(cli, SAMPLES / "regression_preds.csv", SAMPLES / "regression_targets.csv")
    assert joined["n_samples"] == aligned["n_samples"] == 200
    assert values(joined) == values(aligned) == values(sample)


# --------------------------------------------------------------------------- gates


def test_gate_passes(cli):
    _ids, pred, target = regression_arrays()
    mse = float(np.mean((pred - target) ** 2))
    doc = run_json(
        cli,
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--max",
        f"mse={mse * 1.01}",
    )
    assert doc["ok"] is True
    assert doc["gates"] == [
        {
            "loss": "mse",
            "op": "<=",
            "limit": mse * 1.01,
            "value": doc["gates"][0]["value"],
            "passed": True,
        }
    ]
    np.testing.assert_allclose(doc["gates"][0]["value"], mse, rtol=1e-12)


def test_gate_fails_with_exit_1(cli):
    _ids, pred, target = regression_arrays()
    mse = float(np.mean((pred - target) ** 2))
    r = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--json",
        "--max",
        f"mse={mse * 0.99}",
        "--max",
        "mae=1000",
    )
    assert r.exit_code == ExitCode.GATE_FAILED
    doc = json.loads(r.stdout)
    assert doc["ok"] is False
    assert {g["loss"]: g["passed"] for g in doc["gates"]} == {"mse": False, "mae": True}
    assert "gate failed: mse" in r.stderr
    assert "Traceback" not in r.stderr


def test_gate_on_a_not_applicable_loss_fails_closed(cli, tmp_path):
    p, y = _negative_targets(tmp_path)
    r = cli("evaluate", p, y, "--json", "--max", "msle=10")
    assert r.exit_code == ExitCode.GATE_FAILED
    doc = json.loads(r.stdout)
    assert doc["ok"] is False
    assert doc["gates"] == [
        {"loss": "msle", "op": "<=", "limit": 10.0, "value": None, "passed": False}
    ]
    assert "fail closed" in r.stderr


def test_non_finite_loss_is_null_with_status_in_strict_json(cli, tmp_path):
    """kl_div with Q = 0 where P > 0 is +inf: "value": null, "status": "non_finite"."""
    q = write_csv(tmp_path / "q.csv", ["a", "b"], [[0.5, 0.5], [0.0, 1.0]])
    p = write_csv(tmp_path / "p.csv", ["a", "b"], [[0.5, 0.5], [0.5, 0.5]])
    r = cli("evaluate", q, p, "--task", "distribution", "--json", "--max", "kl_div=100")
    assert r.exit_code == ExitCode.GATE_FAILED  # a gate on a non-finite value fails closed
    assert "Infinity" not in r.stdout and "NaN" not in r.stdout
    doc = json.loads(r.stdout, parse_constant=_reject_constant)
    kl = next(it for it in doc["losses"] if it["name"] == "kl_div")
    assert kl["value"] is None and kl["status"] == "non_finite"
    ref = core(
        "kl_div",
        "distribution",
        np.array([[0.5, 0.5], [0.0, 1.0]]),
        np.array([[0.5, 0.5], [0.5, 0.5]]),
    )
    assert ref.status == "non_finite" and ref.value == math.inf
    js = next(it for it in doc["losses"] if it["name"] == "js_div")
    assert js["status"] == "ok" and math.isfinite(js["value"])


# --------------------------------------------------------------------------- row-level outputs


def test_worst_rows_are_the_largest_sorted_with_ids(cli):
    doc = run_json(
        cli, SAMPLES / "regression_preds.csv", SAMPLES / "regression_targets.csv", "--worst", "3"
    )
    ids, pred, target = regression_arrays()
    sq = (pred - target) ** 2
    assert doc["worst_loss"] == "mse"
    worst = doc["worst"]
    assert len(worst) == 3
    top = np.argsort(-sq, kind="stable")[:3]
    assert [w["id"] for w in worst] == [int(ids[i]) for i in top]
    assert [w["row"] for w in worst] == [int(i) + 2 for i in top]  # header is row 1
    losses = [w["loss"] for w in worst]
    assert losses == sorted(losses, reverse=True)
    np.testing.assert_allclose(losses, sq[top], rtol=1e-12)
    for w, i in zip(worst, top):
        assert w["prediction"] == pred[i] and w["target"] == target[i]


def test_worst_rows_by_an_rmse_gate_show_each_rows_root_error(cli):
    """rmse has no per-row mean term; a row's rmse is √(e²) = |e|, ranked like mse."""
    doc = run_json(
        cli,
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--loss",
        "rmse",
        "--worst",
        "2",
        "--max",
        "rmse=100",
    )
    ids, pred, target = regression_arrays()
    err = np.abs(pred - target)
    top = np.argsort(-err, kind="stable")[:2]
    assert doc["worst_loss"] == "rmse"
    assert [w["id"] for w in doc["worst"]] == [int(ids[i]) for i in top]
    np.testing.assert_allclose([w["loss"] for w in doc["worst"]], err[top], rtol=1e-12)


def test_worst_rows_without_ids_and_k_larger_than_n(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["p"], [[0.9], [0.2], [0.6]])
    y = write_csv(tmp_path / "y.csv", ["y"], [[0], [0], [1]])
    doc = run_json(cli, p, y, "--worst", "10", "--loss", "brier")
    assert [w["row"] for w in doc["worst"]] == [2, 4, 3]  # (0.81, 0.16, 0.04)
    assert all("id" not in w for w in doc["worst"])
    np.testing.assert_allclose([w["loss"] for w in doc["worst"]], [0.81, 0.16, 0.04])


def test_worst_rows_show_named_classes(cli):
    doc = run_json(
        cli, SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv", "--worst", "2"
    )
    labels = read_columns(SAMPLES / "multiclass_targets.csv")["label"]
    for w in doc["worst"]:
        assert w["target"] == labels[w["row"] - 2]


def test_per_sample_file_has_one_line_per_row(cli, tmp_path):
    out = tmp_path / "rows.csv"
    doc = run_json(
        cli,
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--per-sample",
        out,
    )
    ids, pred, target = regression_arrays()
    cols = read_columns(out)
    assert len(cols["row"]) == doc["n_samples"] == 200
    assert [int(v) for v in cols["id"]] == ids.tolist()
    np.testing.assert_allclose(floats(cols["mse"]), (pred - target) ** 2, rtol=1e-12)
    np.testing.assert_allclose(floats(cols["mae"]), np.abs(pred - target), rtol=1e-12)
    # rmse has no per-row value of its own (its terms are mse's): not listed under its name
    assert "rmse" not in cols
    for name in ("huber", "log_cosh", "msle"):
        ref = core(name, "regression", pred, target, keep_per_row=True)
        np.testing.assert_allclose(floats(cols[name]), ref.per_row, rtol=1e-12)
        np.testing.assert_allclose(floats(cols[name]).mean(), values(doc)[name], rtol=1e-12)


def test_output_files_in_every_format(cli, tmp_path):
    outs = [tmp_path / "out" / n for n in ("a.json", "b.csv", "c.md", "d.html")]
    old = os.umask(0o022)
    try:
        r = cli(
            "evaluate",
            SAMPLES / "binary_probs.csv",
            SAMPLES / "binary_targets.csv",
            "--json",
            *[x for o in outs for x in ("-o", o)],
        )
    finally:
        os.umask(old)
    assert r.exit_code == 0, r.stderr
    assert json.loads(outs[0].read_text()) == json.loads(r.stdout)
    rows = list(csv.DictReader(outs[1].open()))
    doc = json.loads(r.stdout)
    assert [row["loss"] for row in rows] == [it["name"] for it in doc["losses"]]
    assert [float(row["value"]) for row in rows] == [it["value"] for it in doc["losses"]]
    md = outs[2].read_text()
    assert md.startswith("#") and "| `bce` |" in md
    html = outs[3].read_text()
    assert "<html" in html.lower() and "bce" in html
    for o in outs:
        assert o.stat().st_mode & 0o777 == 0o644, oct(o.stat().st_mode)  # like a plain open()
        assert not list(o.parent.glob(".*.tmp"))


def test_per_class_on_multiclass(cli):
    doc = run_json(
        cli, SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv", "--per-class"
    )
    pred, target, names = multiclass_arrays()
    ce = next(it for it in doc["losses"] if it["name"] == "cross_entropy")
    assert list(ce["per_class"]) == names == ["cat", "dog", "bird"]
    per_row = -np.log(pred[np.arange(pred.shape[0]), target])
    for c, name in enumerate(names):
        np.testing.assert_allclose(ce["per_class"][name], per_row[target == c].mean(), rtol=1e-12)


# --------------------------------------------------------------------------- config, weights, reduction


def _pipeline_config(tmp_path: Path) -> Path:
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(
        "task: regression\n"
        "columns:\n  pred: [prediction]\n  target: [price]\n  id: id\n"
        "losses: [mse, mae, huber]\n"
        "params:\n  huber:\n    delta: 25.0\n"
        "gates:\n  max:\n    mae: 25.0\n    huber: 500.0\n"
        "reduction: mean\n"
    )
    return cfg


def test_config_sets_task_losses_params_gates(cli, tmp_path):
    doc = run_json(
        cli,
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--config",
        _pipeline_config(tmp_path),
    )
    _ids, pred, target = regression_arrays()
    assert doc["task"] == {"name": "regression", "inferred": False}
    assert [it["name"] for it in doc["losses"]] == ["mse", "mae", "huber"]
    huber = next(it for it in doc["losses"] if it["name"] == "huber")
    assert huber["params"] == {"delta": 25.0}
    ref = core("huber", "regression", pred, target, params={"delta": 25.0})
    np.testing.assert_allclose(huber["value"], ref.value, rtol=1e-12)
    assert {g["loss"]: (g["limit"], g["passed"]) for g in doc["gates"]} == {
        "mae": (25.0, True),
        "huber": (500.0, True),
    }


def test_flags_win_over_config(cli, tmp_path):
    cfg = _pipeline_config(tmp_path)
    r = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--config",
        cfg,
        "--json",
        "--param",
        "huber.delta=1",
        "--max",
        "mae=10",
        "--loss",
        "huber",
        "--loss",
        "mae",
    )
    assert r.exit_code == ExitCode.GATE_FAILED, r.stderr
    doc = json.loads(r.stdout)
    assert [it["name"] for it in doc["losses"]] == ["huber", "mae"]
    huber = next(it for it in doc["losses"] if it["name"] == "huber")
    assert huber["params"] == {"delta": 1.0}
    gates = {g["loss"]: g for g in doc["gates"]}
    assert gates["mae"]["limit"] == 10.0 and gates["mae"]["passed"] is False
    assert gates["huber"]["limit"] == 500.0  # untouched config gate still applies


def test_reduction_flag_wins_over_config(cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("reduction: sum\nlosses: [mse]\n")
    args = (SAMPLES / "regression_preds.csv", SAMPLES / "regression_targets.csv", "--config", cfg)
    _ids, pred, target = regression_arrays()
    by_config = run_json(cli, *args)
    assert by_config["reduction"] == "sum"
    np.testing.assert_allclose(values(by_config)["mse"], np.sum((pred - target) ** 2), rtol=1e-12)
    by_flag = run_json(cli, *args, "--reduction", "mean")
    assert by_flag["reduction"] == "mean"
    np.testing.assert_allclose(values(by_flag)["mse"], np.mean((pred - target) ** 2), rtol=1e-12)


def test_task_flag_wins_over_config(cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("task: regression\n")
    doc = run_json(
        cli, SAMPLES / "binary_probs.csv", SAMPLES / "binary_targets.csv", "--config", cfg
    )
    assert doc["task"]["name"] == "regression"
    doc = run_json(
        cli,
        SAMPLES / "binary_probs.csv",
        SAMPLES / "binary_targets.csv",
        "--config",
        cfg,
        "--task",
        "auto",
    )
    assert doc["task"] == {
        "name": "binary",
        "inferred": True,
        "input": "probabilities",
        "input_inferred": True,
    }


def test_weight_column_gives_the_weighted_mean(cli, tmp_path):
    rng = np.random.default_rng(11)
    pred, target = rng.normal(size=40), rng.normal(size=40)
    w = rng.uniform(0, 3, size=40)
    w[:5] = 0.0
    write_csv(
        tmp_path / "p.csv",
        ["pred", "w"],
        [[repr(float(a)), repr(float(b))] for a, b in zip(pred, w)],
    )
    write_csv(tmp_path / "y.csv", ["y"], [[repr(float(v))] for v in target])
    doc = run_json(
        cli,
        tmp_path / "p.csv",
        tmp_path / "y.csv",
        "--weight-col",
        "w",
        "--loss",
        "mse",
        "--loss",
        "mae",
    )
    np.testing.assert_allclose(
        values(doc)["mse"], np.average((pred - target) ** 2, weights=w), rtol=1e-12
    )
    np.testing.assert_allclose(
        values(doc)["mae"], np.average(np.abs(pred - target), weights=w), rtol=1e-12
    )


def test_reduction_sum(cli):
    doc = run_json(
        cli,
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--reduction",
        "sum",
        "--loss",
        "mse",
        "--loss",
        "mae",
    )
    _ids, pred, target = regression_arrays()
    assert doc["reduction"] == "sum"
    np.testing.assert_allclose(values(doc)["mse"], np.sum((pred - target) ** 2), rtol=1e-12)
    np.testing.assert_allclose(values(doc)["mae"], np.sum(np.abs(pred - target)), rtol=1e-12)


# --------------------------------------------------------------------------- property test

_finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_subnormal=False)
_prob = st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_subnormal=False)


@st.composite
def _regression_data(draw: Any) -> tuple[list[float], list[float]]:
    n = draw(st.integers(1, 50))
    return draw(st.lists(_finite, min_size=n, max_size=n)), draw(
        st.lists(_finite, min_size=n, max_size=n)
    )


@st.composite
def _binary_data(draw: Any) -> tuple[list[float], list[float]]:
    n = draw(st.integers(1, 50))
    return draw(st.lists(_prob, min_size=n, max_size=n)), draw(
        st.lists(st.sampled_from([0.0, 1.0]), min_size=n, max_size=n)
    )


def _check_random_csv(cli: Any, task: str, pred: list[float], target: list[float]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        write_csv(d / "p.csv", ["pred"], [[repr(v)] for v in pred])
        write_csv(d / "y.csv", ["y"], [[repr(v)] for v in target])
        doc = run_json(cli, d / "p.csv", d / "y.csv", "--task", task)
    assert doc["n_samples"] == len(pred)
    ctx = {"from_logits": False} if task == "binary" else None
    for item in doc["losses"]:
        ref = core(item["name"], task, np.array(pred), np.array(target), context=ctx)
        assert item["status"] == ref.status, (item, ref.reason)
        if ref.status == "ok":
            assert math.isclose(item["value"], ref.value, rel_tol=1e-12, abs_tol=1e-300), item


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_regression_data())
def test_random_regression_csv_matches_the_core(cli, data):
    _check_random_csv(cli, "regression", *data)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=_binary_data())
def test_random_binary_csv_matches_the_core(cli, data):
    _check_random_csv(cli, "binary", *data)
