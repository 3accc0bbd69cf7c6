"""More real exports read right (SPEC §5 header and index columns, §9).

The model outputs are the real scikit-learn outputs of tests/fixtures/exports.json
(tests/oracle/gen_exports.py) with scikit-learn's float64 values; each test saves them
the way users do and checks losscli's values against scikit-learn's to 1e-9.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import losscli
from losscli.data.sniff import decide_header

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "exports.json").read_text())
M: dict[str, Any] = FIXTURE["models"]
E: dict[str, Any] = FIXTURE["expected"]
IRIS = np.array(["setosa", "versicolor", "virginica"])


def close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=1e-9, abs=1e-12)


def _json(cli: Any, *args: Any) -> dict[str, Any]:
    r = cli("evaluate", *map(str, args), "--json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def _values(doc: dict[str, Any]) -> dict[str, Any]:
    return {it["name"]: it["value"] for it in doc["losses"]}


def _iris_proba() -> tuple[np.ndarray, np.ndarray]:
    z = np.asarray(M["iris"]["logits"])
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True), np.asarray(M["iris"]["y"])


# ------------------------------------------------- ',0,1': to_csv() of an unnamed frame


def test_header_of_unnamed_frame_with_index_is_a_header():
    """``pd.DataFrame(arr).to_csv(path)`` writes ',0,1' above the indexed rows."""
    d = decide_header("p.csv", ["", "0", "1"], [["0", "0.2", "0.8"], ["1", "0.6", "0.4"]])
    assert d.header and d.note is not None and "to_csv()" in d.note
    # Series.to_csv(path) of 0/1 labels: ',0' above integer rows is still a header
    assert decide_header("y.csv", ["", "0"], [["0", "1"], ["1", "0"]]).header
    # an empty first cell in the rows below too: not pandas' index, read as before
    assert not decide_header("p.csv", ["", "0"], [["", "1"]]).header
    # fractions below: a data row with a missing first value, not pandas' header
    assert not decide_header("p.csv", ["", "0"], [["0.37", "1"], ["0.52", "0"]]).header


def test_dataframe_and_series_to_csv_with_index(cli, tmp_path):
    p, y = np.asarray(M["bc"]["proba"]), np.asarray(M["bc"]["y"])
    pd.DataFrame(p).to_csv(tmp_path / "p.csv")  # ',0,1' then the index
    pd.Series(y).to_csv(tmp_path / "y.csv")  # ',0' then the index
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv")
    v = _values(doc)
    assert doc["task"]["name"] == "binary" and doc["n_samples"] == y.size
    assert close(v["bce"], E["bc_log_loss"]) and close(v["brier"], E["bc_brier"])
    assert any("to_csv()" in e for e in doc["evidence"])


def test_multi_output_dataframe_to_csv_with_index(cli, tmp_path):
    pd.DataFrame(np.asarray(M["linnerud"]["pred"])).to_csv(tmp_path / "p.csv")
    pd.DataFrame(np.asarray(M["linnerud"]["y"])).to_csv(tmp_path / "y.csv")
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv")
    assert doc["task"]["name"] == "regression"
    assert close(_values(doc)["mse"], E["linnerud_mse"])


def test_split_index_against_unnamed_range_index_is_an_id_mismatch(cli, tmp_path):
    p, y, split = (np.asarray(M["bc"][k]) for k in ("proba", "y", "index"))
    pd.DataFrame(p).to_csv(tmp_path / "p.csv")  # index 0…n−1
    pd.Series(y, index=split).to_csv(tmp_path / "y.csv")  # the split's index
    r = cli("evaluate", tmp_path / "p.csv", tmp_path / "y.csv")
    assert r.exit_code == 3
    assert "indexes do not match" in r.stderr and "index=False" in r.stderr


# ------------------------------------------------- class names, unnamed proba columns


def test_class_names_with_unnamed_proba_columns_follow_classes_order(cli, tmp_path):
    proba, y = _iris_proba()
    pd.DataFrame(proba).to_csv(tmp_path / "p.csv", index=False)  # columns 0, 1, 2
    pd.Series(IRIS[y], name="species").to_csv(tmp_path / "y.csv", index=False)
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv", "--per-class")
    assert doc["task"]["name"] == "multiclass"
    assert close(_values(doc)["cross_entropy"], E["iris_log_loss"])
    assert any("classes_" in e for e in doc["evidence"])
    ce = next(it for it in doc["losses"] if it["name"] == "cross_entropy")
    assert list(ce["per_class"]) == list(IRIS)


def test_class_names_missing_a_class_with_unnamed_columns_is_refused(cli, tmp_path):
    """Two names against three unnamed columns: which column is which is not known."""
    proba, y = _iris_proba()
    keep = y < 2
    pd.DataFrame(proba[keep]).to_csv(tmp_path / "p.csv", index=False)
    pd.Series(IRIS[y[keep]], name="species").to_csv(tmp_path / "y.csv", index=False)
    r = cli("evaluate", tmp_path / "p.csv", tmp_path / "y.csv")
    assert r.exit_code == 3 and "columns=model.classes_" in r.stderr


# ------------------------------------------------- Python API


def test_compare_report_values_are_per_model():
    ridge, lasso, y = (np.asarray(M["diabetes"][k]) for k in ("ridge", "lasso", "y"))
    r = losscli.compare([ridge, lasso], y)
    mse = r.values["mse"]
    assert close(mse["model_1"], E["diabetes_mse_ridge"])
    assert close(mse["model_2"], E["diabetes_mse_lasso"])


# ------------------------------------------------- a named index in both CSV files


def test_named_index_in_both_csv_files_is_the_join_key_not_an_output(cli, tmp_path):
    """``Series(pred, index=Index(split, name="row")).to_csv()``: 'row' is not a second
    output (it would halve the MSE); rows are joined on it, in any order."""
    y, pred = np.asarray(M["diabetes"]["y"]), np.asarray(M["diabetes"]["ridge"])
    rows = pd.Index(np.random.default_rng(0).permutation(400)[: y.size], name="row")
    order = np.argsort(rows.to_numpy())
    pd.Series(pred[order], index=rows[order], name="pred").to_csv(tmp_path / "p.csv")
    pd.Series(y, index=rows, name="y").to_csv(tmp_path / "y.csv")
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv")
    assert doc["inputs"]["predictions"]["columns"] == ["pred"]
    assert close(_values(doc)["mse"], E["diabetes_mse_ridge"])
    assert any("'row'" in e and "joined" in e for e in doc["evidence"])


def test_named_index_values_differing_is_an_id_mismatch(cli, tmp_path):
    y, pred = np.asarray(M["diabetes"]["y"]), np.asarray(M["diabetes"]["ridge"])
    split = pd.Index(np.arange(y.size) * 3 + 7, name="row")
    pd.Series(pred, index=split, name="pred").to_csv(tmp_path / "p.csv")
    pd.Series(y, index=pd.RangeIndex(y.size, name="row"), name="y").to_csv(tmp_path / "y.csv")
    r = cli("evaluate", tmp_path / "p.csv", tmp_path / "y.csv")
    assert r.exit_code == 3 and "indexes do not match" in r.stderr


def test_multi_output_first_output_is_not_taken_for_an_index(cli, tmp_path):
    """Continuous first columns with the same name are outputs, not a key."""
    pred, y = np.asarray(M["linnerud"]["pred"]), np.asarray(M["linnerud"]["y"])
    names = M["linnerud"]["names"]
    pd.DataFrame(pred, columns=names).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame(y, columns=names).to_csv(tmp_path / "y.csv", index=False)
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv")
    assert doc["inputs"]["predictions"]["columns"] == names
    assert close(_values(doc)["mse"], E["linnerud_mse"])


# ------------------------------------------------- one score column, two class names


def test_one_score_column_with_two_class_names_asks_for_pos_label(cli, tmp_path):
    p, y = np.asarray(M["bc"]["proba"]), np.asarray(M["bc"]["y"])
    names = np.where(y == 1, "benign", "malignant")
    pd.DataFrame({"score": p[:, 1]}).to_csv(tmp_path / "p.csv", index=False)
    pd.Series(names, name="diagnosis").to_csv(tmp_path / "y.csv", index=False)
    r = cli("evaluate", tmp_path / "p.csv", tmp_path / "y.csv")
    assert r.exit_code == 3 and "--pos-label" in r.stderr
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv", "--pos-label", "benign")
    assert close(_values(doc)["brier"], E["bc_brier"])


def test_class_names_with_unnamed_columns_read_in_chunks(cli, tmp_path):
    """Every chunk reads the unnamed columns in the order the first chunk decided."""
    proba, y = _iris_proba()
    order = np.random.default_rng(0).permutation(y.size)  # every class in the first 40
    assert set(y[order[:40]]) == {0, 1, 2}
    pd.DataFrame(proba[order]).to_csv(tmp_path / "p.csv", index=False)
    pd.Series(IRIS[y[order]], name="species").to_csv(tmp_path / "y.csv", index=False)
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv", "--chunk-size", "40")
    assert close(_values(doc)["cross_entropy"], E["iris_log_loss"])


def test_pred_col_and_target_col_still_join_on_the_csv_index(cli, tmp_path):
    """Naming the columns used to leave the empty-named index unread: rows of a
    shuffled prediction file were then aligned by order (a wrong MSE, exit 0)."""
    y, pred = np.asarray(M["diabetes"]["y"]), np.asarray(M["diabetes"]["ridge"])
    split = np.random.default_rng(1).permutation(400)[: y.size]
    order = np.argsort(split)
    pd.Series(pred[order], index=split[order], name="pred").to_csv(tmp_path / "p.csv")
    pd.Series(y, index=split, name="y").to_csv(tmp_path / "y.csv")
    args = (tmp_path / "p.csv", tmp_path / "y.csv", "--pred-col", "pred", "--target-col", "y")
    for extra in ((), ("--chunk-size", "25")):
        doc = _json(cli, *args, *extra)
        assert close(_values(doc)["mse"], E["diabetes_mse_ridge"])


# ------------------------------------------------- predict_proba of -1/+1 labels


def test_predict_proba_of_pm1_labels_is_binary_on_the_plus_one_column(cli, tmp_path):
    """classes_ (-1, 1): the pair is binary on column '1' (not a 2-class multiclass,
    whose Brier sums both columns: twice scikit-learn's brier_score_loss)."""
    p, y = np.asarray(M["bc"]["proba"]), np.asarray(M["bc"]["y"])
    pd.DataFrame(p, columns=["-1", "1"]).to_csv(tmp_path / "p.csv", index=False)
    pd.Series(2 * y - 1, name="y").to_csv(tmp_path / "y.csv", index=False)
    # a numeric header '-1,1' is a question (SPEC §5): --header yes answers it
    args = (tmp_path / "p.csv", tmp_path / "y.csv", "--header", "yes")
    doc = _json(cli, *args)
    v = _values(doc)
    assert doc["task"]["name"] == "binary"
    assert close(v["bce"], E["bc_log_loss"]) and close(v["brier"], E["bc_brier"])
    flipped = _values(_json(cli, *args, "--pos-label", "-1"))
    assert close(flipped["brier"], E["bc_brier"])  # the same squared errors, mirrored
    assert flipped["bce"] == pytest.approx(v["bce"], rel=1e-12)


def test_class_names_unnamed_columns_with_task_multiclass_and_compare(cli, tmp_path):
    proba, y = _iris_proba()
    pd.DataFrame(proba).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame(np.asarray(M["iris"]["logits"])).to_csv(tmp_path / "z.csv", index=False)
    pd.Series(IRIS[y], name="species").to_csv(tmp_path / "y.csv", index=False)
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv", "--task", "multiclass")
    assert close(_values(doc)["cross_entropy"], E["iris_log_loss"])
    r = cli("compare", tmp_path / "p.csv", tmp_path / "z.csv", tmp_path / "y.csv", "--json")
    assert r.exit_code == 0, r.stderr
    ce = next(it for it in r.json()["losses"] if it["name"] == "cross_entropy")
    assert close(ce["values"]["p"], E["iris_log_loss"])
    assert close(ce["values"]["z"], E["iris_log_loss"])


def test_pm1_labels_with_unnamed_proba_columns_are_refused_with_the_way_out(cli, tmp_path):
    p, y = np.asarray(M["bc"]["proba"]), np.asarray(M["bc"]["y"])
    np.save(tmp_path / "p.npy", p)  # columns 0, 1
    np.save(tmp_path / "y.npy", 2 * y - 1)
    r = cli("evaluate", tmp_path / "p.npy", tmp_path / "y.npy")
    assert r.exit_code == 3 and "--task binary" in r.stderr
    doc = _json(cli, tmp_path / "p.npy", tmp_path / "y.npy", "--task", "binary")
    assert close(_values(doc)["brier"], E["bc_brier"])


# ------------------------------------------------- columns named prefix + class


def test_columns_named_with_a_prefix_name_their_classes(cli, tmp_path):
    """``proba_2, proba_0, proba_1`` (any order) and ``proba_setosa, …`` name the classes;
    the columns used to be read by position (a wrong cross-entropy, exit 0)."""
    proba, y = _iris_proba()
    order = [2, 0, 1]
    pd.DataFrame(proba[:, order], columns=[f"proba_{j}" for j in order]).to_csv(
        tmp_path / "p.csv", index=False
    )
    pd.Series(y, name="y").to_csv(tmp_path / "y.csv", index=False)
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv")
    assert close(_values(doc)["cross_entropy"], E["iris_log_loss"])
    pd.DataFrame(proba, columns=[f"proba_{c}" for c in IRIS]).to_csv(
        tmp_path / "pn.csv", index=False
    )
    pd.Series(IRIS[y], name="species").to_csv(tmp_path / "yn.csv", index=False)
    doc = _json(cli, tmp_path / "pn.csv", tmp_path / "yn.csv")
    assert close(_values(doc)["cross_entropy"], E["iris_log_loss"])
