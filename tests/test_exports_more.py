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
    assert r.exit_code == 3 and "name each prediction column after its class" in r.stderr


# ------------------------------------------------- Python API


def test_compare_report_values_are_per_model():
    ridge, lasso, y = (np.asarray(M["diabetes"][k]) for k in ("ridge", "lasso", "y"))
    r = losscli.compare([ridge, lasso], y)
    mse = r.values["mse"]
    assert close(mse["model_1"], E["diabetes_mse_ridge"])
    assert close(mse["model_2"], E["diabetes_mse_lasso"])
