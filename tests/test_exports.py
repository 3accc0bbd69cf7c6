"""Real prediction exports read right (SPEC §5 Index columns, §9).

The model outputs are real scikit-learn outputs (breast cancer, iris, linnerud,
diabetes), committed with scikit-learn's float64 values in tests/fixtures/exports.json
(tests/oracle/gen_exports.py); each test saves them the way users do —
``DataFrame.to_csv`` with and without its index, ``Series.to_csv``, ``np.save``,
``to_parquet`` — and checks losscli's values against scikit-learn's to 1e-9. The
``oracle`` tests at the end retrain the models and use torch live.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import losscli
from losscli.data.align import index_column, resolve_roles
from losscli.data.readers import Table
from losscli.errors import DataError

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "exports.json").read_text())
M: dict[str, Any] = FIXTURE["models"]
E: dict[str, Any] = FIXTURE["expected"]
REL = 1e-9


def close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=REL, abs=1e-12)


@pytest.fixture
def bc() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Breast cancer test split: predict_proba (n, 2), 0/1 targets, the split's index."""
    return np.asarray(M["bc"]["proba"]), np.asarray(M["bc"]["y"]), np.asarray(M["bc"]["index"])


def _json(cli: Any, *args: Any) -> dict[str, Any]:
    r = cli("evaluate", *map(str, args), "--json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def _values(doc: dict[str, Any]) -> dict[str, float]:
    return {it["name"]: it["value"] for it in doc["losses"]}


# --------------------------------------------------------------------------- 1. indexes


def test_both_files_with_pandas_index_join_on_it(cli, tmp_path, bc):
    p, y, _ = bc
    pd.DataFrame(p, columns=["p0", "p1"]).to_csv(tmp_path / "p.csv")  # index written
    pd.Series(y, name="y").to_csv(tmp_path / "y.csv")
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv")
    v = _values(doc)
    assert doc["task"]["name"] == "binary"
    assert close(v["bce"], E["bc_log_loss"]) and close(v["brier"], E["bc_brier"])
    assert doc["inputs"]["predictions"]["columns"] == ["p1"]
    assert any("index column" in e and "joined" in e for e in doc["evidence"])


def test_index_in_one_file_is_left_out_with_a_note(cli, tmp_path, bc):
    p, y, _ = bc
    pd.DataFrame({"p": p[:, 1]}).to_csv(tmp_path / "p.csv")  # index: not a 2nd column
    pd.Series(y, name="y").to_csv(tmp_path / "y.csv", index=False)
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv")
    assert close(_values(doc)["brier"], E["bc_brier"])
    assert doc["inputs"]["predictions"]["columns"] == ["p"]
    assert any("is the file's index, not data" in e for e in doc["evidence"])


def test_test_split_index_vs_range_index_is_an_id_mismatch(cli, tmp_path, bc):
    p, y, split_index = bc
    pd.DataFrame({"p": p[:, 1]}).to_csv(tmp_path / "p.csv")  # 0…n−1
    pd.Series(y, index=split_index, name="y").to_csv(tmp_path / "y.csv")  # the split's
    r = cli("evaluate", tmp_path / "p.csv", tmp_path / "y.csv")
    assert r.exit_code == 3
    assert "indexes do not match" in r.stderr and "index=False" in r.stderr


def test_id_col_names_the_unnamed_index(cli, tmp_path, bc):
    p, y, _ = bc
    order = np.argsort(-p[:, 1], kind="stable")  # rows of the predictions shuffled
    pd.DataFrame({"p": p[order, 1]}, index=order).to_csv(tmp_path / "p.csv")
    pd.Series(y, name="y").to_csv(tmp_path / "y.csv")
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv", "--id-col", "Unnamed: 0")
    assert close(_values(doc)["bce"], E["bc_log_loss"])


def test_parquet_index_joins_and_reorders(tmp_path, bc):
    p, y, split_index = bc
    shuffled = np.random.default_rng(0).permutation(y.size)
    pd.DataFrame({"p": p[:, 1]}, index=split_index).to_parquet(tmp_path / "p.parquet")
    pd.DataFrame({"y": y[shuffled]}, index=split_index[shuffled]).to_parquet(tmp_path / "y.parquet")
    r = losscli.evaluate(str(tmp_path / "p.parquet"), str(tmp_path / "y.parquet"))
    assert close(r.values["bce"], E["bc_log_loss"])
    assert any("__index_level_0__" in e and "joined" in e for e in r["evidence"])


def test_parquet_named_index_from_pandas_metadata_is_not_data(tmp_path, bc):
    p, y, split_index = bc
    df = pd.DataFrame({"p": p[:, 1]}, index=pd.Index(split_index, name="sample"))
    df.to_parquet(tmp_path / "p.parquet")
    pd.Series(y, name="y").to_csv(tmp_path / "y.csv", index=False)
    r = losscli.evaluate(str(tmp_path / "p.parquet"), str(tmp_path / "y.csv"))
    assert r["inputs"]["predictions"]["columns"] == ["p"]
    assert close(r.values["brier"], E["bc_brier"])


def test_empty_index_name_as_pyarrow_reads_it():
    """pyarrow's CSV reader names the empty header cell "" (pandas: "Unnamed: 0")."""
    n = 4
    tabs = [
        Table(
            path=name,
            files=[name],
            all_columns=["", col],
            columns={"": np.arange(n), col: np.linspace(0, 1, n)},
            row_numbers=np.arange(2, n + 2),
        )
        for name, col in (("p.csv", "p"), ("y.csv", "y"))
    ]
    assert index_column(tabs[0]) == ""
    roles = resolve_roles(tabs[0], tabs[1], id_col=None, weight_col=None, group_col=None)
    assert roles.joined and roles.id_pred == "" and roles.id_target == ""


# --------------------------------------------------------------------------- 2. predict_proba


def test_predict_proba_pair_is_binary_on_the_positive_column(tmp_path, bc):
    p, y, _ = bc
    np.save(tmp_path / "p.npy", p)  # columns "0", "1" (scikit-learn's classes_ order)
    np.save(tmp_path / "y.npy", y)
    r = losscli.evaluate(str(tmp_path / "p.npy"), str(tmp_path / "y.npy"))
    assert r["task"]["name"] == "binary"
    assert close(r.values["brier"], E["bc_brier"]) and close(r.values["bce"], E["bc_log_loss"])


@pytest.mark.parametrize("pos, columns", [(None, ["malignant", "benign"]), ("benign", None)])
def test_named_labels_with_pos_label(cli, tmp_path, bc, pos, columns):
    p, y, _ = bc
    names = np.where(y == 1, "benign", "malignant")  # sorted: benign, malignant
    if columns is None:  # sklearn's columns for these names: sorted, so benign first
        np.save(tmp_path / "p.npy", p[:, ::-1].copy())
        preds = tmp_path / "p.npy"
    else:
        pd.DataFrame(p, columns=columns).to_csv(tmp_path / "p.csv", index=False)
        preds = tmp_path / "p.csv"
    pd.Series(names, name="diagnosis").to_csv(tmp_path / "y.csv", index=False)
    args = [preds, tmp_path / "y.csv"] + (["--pos-label", pos] if pos else [])
    doc = _json(cli, *args)
    assert doc["task"]["name"] == "binary"
    assert close(_values(doc)["brier"], E["bc_brier"])


def test_pos_label_not_a_label_is_a_data_error(cli, tmp_path, bc):
    p, y, _ = bc
    np.save(tmp_path / "p.npy", p)
    pd.Series(np.where(y == 1, "yes", "no"), name="y").to_csv(tmp_path / "y.csv", index=False)
    r = cli("evaluate", tmp_path / "p.npy", tmp_path / "y.csv", "--pos-label", "yess")
    assert r.exit_code == 3 and "--pos-label" in r.stderr and "'yes'" in r.stderr


# --------------------------------------------------------------------------- 3. embeddings


def test_many_more_columns_than_labels_is_a_question(cli, tmp_path):
    rng = np.random.default_rng(0)
    emb = pd.DataFrame(rng.normal(size=(40, 64)), columns=[f"h{i}" for i in range(64)])
    emb.to_csv(tmp_path / "e.csv", index=False)
    pd.Series(np.arange(40) % 10, name="label").to_csv(tmp_path / "y.csv", index=False)
    r = cli("evaluate", tmp_path / "e.csv", tmp_path / "y.csv")
    assert r.exit_code == 3
    assert "--task embedding" in r.stderr and "--task multiclass" in r.stderr
    ok = cli("evaluate", tmp_path / "e.csv", tmp_path / "y.csv", "--task", "embedding", "--json")
    assert ok.exit_code == 0 and ok.json()["task"]["name"] == "embedding"


# --------------------------------------------------------------------------- 4. multi-output


def test_multi_output_regression_per_output_and_uniform_mean(cli, tmp_path):
    names = M["linnerud"]["names"]
    pd.DataFrame(M["linnerud"]["pred"], columns=names).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame(M["linnerud"]["y"], columns=names).to_csv(tmp_path / "y.csv", index=False)
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv", "--loss", "mse", "--loss", "rmse")
    by = {it["name"]: it for it in doc["losses"]}
    assert close(by["mse"]["value"], E["linnerud_mse"])
    assert close(by["rmse"]["value"], E["linnerud_rmse"])
    assert list(by["rmse"]["per_class"]) == names
    for j, name in enumerate(names):
        assert close(by["mse"]["per_class"][name], E["linnerud_mse_raw"][j])
        assert close(by["rmse"]["per_class"][name], E["linnerud_rmse_raw"][j])
    table = cli("evaluate", tmp_path / "p.csv", tmp_path / "y.csv", "--loss", "rmse")
    assert "per output" in table.stdout and "Weight" in table.stdout


# --------------------------------------------------------------------------- 7. −1/+1


def test_minus_one_plus_one_labels_are_binary(tmp_path, bc):
    _, y, _ = bc
    z = np.asarray(M["bc"]["decision"])
    pd.DataFrame({"score": z}).to_csv(tmp_path / "s.csv", index=False)
    pd.DataFrame({"y": 2 * y - 1}).to_csv(tmp_path / "y.csv", index=False)
    r = losscli.evaluate(str(tmp_path / "s.csv"), str(tmp_path / "y.csv"), losses=["bce"])
    assert r["task"]["name"] == "binary" and r["task"]["input"] == "logits"
    assert close(r.values["bce"], E["bc_log_loss_decision"])
    assert any("(y + 1) / 2" in e for e in r["evidence"])


def test_cosine_embedding_accepts_minus_one_targets(tmp_path):
    rng = np.random.default_rng(3)
    cols = [f"a_{i}" for i in range(4)] + [f"b_{i}" for i in range(4)]
    pd.DataFrame(rng.normal(size=(30, 8)), columns=cols).to_csv(tmp_path / "x.csv", index=False)
    s = np.where(rng.uniform(size=30) < 0.5, 1, -1)
    pd.DataFrame({"y": s}).to_csv(tmp_path / "pm.csv", index=False)
    pd.DataFrame({"y": (s > 0).astype(int)}).to_csv(tmp_path / "01.csv", index=False)
    pm = losscli.evaluate(str(tmp_path / "x.csv"), str(tmp_path / "pm.csv"))
    zo = losscli.evaluate(str(tmp_path / "x.csv"), str(tmp_path / "01.csv"))
    assert pm.values["cosine_embedding"] == zo.values["cosine_embedding"]
    assert any("-1 read as dissimilar" in w for w in pm["warnings"])


# --------------------------------------------------------------------------- 6. ignore_index


@pytest.mark.parametrize("ignore", [-100, -1, 255])
def test_ignore_index_rows_are_left_out(cli, tmp_path, ignore):
    z = np.asarray(M["iris"]["logits"])
    y = np.asarray(M["iris"]["y"]).copy()
    y[np.arange(y.size) % 7 == 0] = ignore
    pd.DataFrame(z, columns=["setosa", "versicolor", "virginica"]).to_csv(
        tmp_path / "z.csv", index=False
    )
    pd.Series(y, name="y").to_csv(tmp_path / "y.csv", index=False)
    args = [tmp_path / "z.csv", tmp_path / "y.csv", "--logits"]
    doc = _json(cli, *args, "--param", f"cross_entropy.ignore_index={ignore}")
    assert close(_values(doc)["cross_entropy"], E["iris_log_loss_kept"])
    assert any("ignore_index" in w for w in doc["warnings"])
    assert cli("evaluate", *args).exit_code == 3  # without it, the label is an error


# --------------------------------------------------------------------------- 8. in memory


def test_api_takes_numpy_pandas_and_pyarrow(bc):
    import pyarrow as pa

    p, y, split_index = bc
    r = losscli.evaluate(p, y)
    assert close(r.values["bce"], E["bc_log_loss"]) and close(r.values["brier"], E["bc_brier"])
    assert r["inputs"]["predictions"]["path"] == f"<numpy array {p.shape}>"
    r = losscli.evaluate(pd.DataFrame(p), pd.Series(y, index=split_index))  # order, not index
    assert close(r.values["brier"], E["bc_brier"])
    r = losscli.evaluate(pa.table({"p0": p[:, 0], "p1": p[:, 1]}), pa.table({"y": y}))
    assert close(r.values["bce"], E["bc_log_loss"])
    c = losscli.compare([p, p[:, ::-1].copy()], y)
    assert c["models"][0] == "model_1" and close(
        c["losses"][0]["values"]["model_1"], E["bc_log_loss"]
    )


def test_api_in_memory_errors_name_the_input(bc):
    p, y, _ = bc
    with pytest.raises(DataError) as exc:
        losscli.evaluate(p[:10], y)
    assert "<numpy array (10, 2)>" in exc.value.message and "losscli-" not in exc.value.message


def test_api_takes_polars(bc):
    pl = pytest.importorskip("polars")
    p, y, _ = bc
    r = losscli.evaluate(pl.DataFrame({"p0": p[:, 0], "p1": p[:, 1]}), pl.Series("y", y))
    assert close(r.values["bce"], E["bc_log_loss"])


# --------------------------------------------------------------------------- 9. ambiguous


def test_logits_in_unit_interval_are_warned_about_in_the_output(cli, tmp_path):
    rng = np.random.default_rng(0)
    z = rng.uniform(0, 1, 300)  # logits that happen to lie in [0, 1]
    y = (rng.uniform(size=300) < 1 / (1 + np.exp(-z))).astype(int)
    pd.DataFrame({"s": z}).to_csv(tmp_path / "s.csv", index=False)
    pd.DataFrame({"y": y}).to_csv(tmp_path / "y.csv", index=False)
    doc = _json(cli, tmp_path / "s.csv", tmp_path / "y.csv")
    assert any(w.startswith("ambiguous input:") and "--logits" in w for w in doc["warnings"])
    for fmt in ("table", "markdown"):
        out = cli("evaluate", tmp_path / "s.csv", tmp_path / "y.csv", "-f", fmt, "-q").stdout
        assert "ambiguous input:" in out and "--logits" in out
    forced = _json(cli, tmp_path / "s.csv", tmp_path / "y.csv", "--logits")
    assert not any(w.startswith("ambiguous") for w in forced["warnings"])


def test_real_probabilities_are_not_warned_about(cli, tmp_path, bc):
    p, y, _ = bc
    pd.DataFrame({"p": p[:, 1]}).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame({"y": y}).to_csv(tmp_path / "y.csv", index=False)
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv")
    assert not any(w.startswith("ambiguous") for w in doc["warnings"])


# --------------------------------------------------------------------------- 10. compare


def test_compare_one_file_one_model_per_column(cli, tmp_path):
    d = M["diabetes"]
    pd.DataFrame({"ridge": d["ridge"], "lasso": d["lasso"]}).to_csv(
        tmp_path / "both.csv", index=False
    )
    pd.Series(d["y"], name="y").to_csv(tmp_path / "y.csv", index=False)
    r = cli("compare", tmp_path / "both.csv", tmp_path / "y.csv", "--json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["models"] == ["ridge", "lasso"]
    mse = next(it for it in doc["losses"] if it["name"] == "mse")["values"]
    assert close(mse["ridge"], E["diabetes_mse_ridge"])
    assert close(mse["lasso"], E["diabetes_mse_lasso"])
    assert any("one model per column" in e for e in doc["evidence"])


# --------------------------------------------------------------------------- 5. masks


def test_recommend_from_data_reads_masks_by_shape(cli, tmp_path):
    rng = np.random.default_rng(0)
    m = (rng.uniform(size=(5, 8, 12)) < 0.05).astype(np.uint8)  # (N, H, W)
    np.save(tmp_path / "m.npy", m)
    doc = cli("recommend", "--from-data", tmp_path / "m.npy", "-f", "json").json()
    assert doc["task"] == "segmentation" and doc["conditions"].get("imbalanced") is True
    np.save(tmp_path / "m1.npy", m[:, None])  # (N, 1, H, W): the same
    doc1 = cli("recommend", "--from-data", tmp_path / "m1.npy", "-f", "json").json()
    assert doc1["conditions"] == doc["conditions"]
    np.save(tmp_path / "lab.npy", rng.integers(0, 3, size=(5, 8, 12)))  # label map
    r = cli("recommend", "--from-data", tmp_path / "lab.npy", "-f", "json")
    assert r.exit_code == 0 and "3 one-hot channels" in r.stderr


def test_mask_of_0_and_255_is_a_data_error(cli, tmp_path):
    rng = np.random.default_rng(0)
    m = (rng.uniform(size=(4, 6, 6)) < 0.3).astype(np.uint8)
    np.save(tmp_path / "t.npy", m * 255)
    np.save(tmp_path / "p.npy", rng.uniform(size=(4, 6, 6)))
    for args in (
        ("evaluate", tmp_path / "p.npy", tmp_path / "t.npy"),
        ("recommend", "--from-data", tmp_path / "t.npy"),
    ):
        r = cli(*args)
        assert r.exit_code == 3 and "255" in r.stderr and "divide it by 255" in r.stderr


def test_label_map_with_channel_predictions(tmp_path):
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, size=(4, 5, 5))
    logits = rng.normal(size=(4, 3, 5, 5))
    np.save(tmp_path / "p.npy", logits)
    np.save(tmp_path / "t.npy", labels)
    r = losscli.evaluate(str(tmp_path / "p.npy"), str(tmp_path / "t.npy"))
    ds = r.dataset
    assert ds is not None and ds.target.shape == (4, 3, 25)
    np.testing.assert_array_equal(ds.target.argmax(axis=1), labels.reshape(4, 25))


# --------------------------------------------------------------------------- oracle (live)


@pytest.mark.oracle
def test_live_sklearn_models_match():
    pytest.importorskip("sklearn")
    import sys

    sys.path.insert(0, str(Path(__file__).parent / "oracle"))
    import gen_exports

    live = gen_exports.models()
    exp = gen_exports.expected(live)
    p, y = np.asarray(live["bc"]["proba"]), np.asarray(live["bc"]["y"])
    r = losscli.evaluate(pd.DataFrame(p), pd.Series(y))
    assert close(r.values["bce"], exp["bc_log_loss"]) and close(r.values["brier"], exp["bc_brier"])
    lin = live["linnerud"]
    r = losscli.evaluate(
        pd.DataFrame(lin["pred"], columns=lin["names"]),
        pd.DataFrame(lin["y"], columns=lin["names"]),
        losses=["rmse"],
    )
    assert close(r.values["rmse"], exp["linnerud_rmse"])


@pytest.mark.oracle
def test_live_torch_ignore_index_and_cosine_minus_one():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    z = np.asarray(M["iris"]["logits"])
    y = np.asarray(M["iris"]["y"]).copy()
    y[::5] = -100
    ref = F.cross_entropy(torch.tensor(z), torch.tensor(y), ignore_index=-100).item()
    r = losscli.evaluate(
        z,
        y,
        logits=True,
        losses=["cross_entropy"],
        params={"cross_entropy": {"ignore_index": -100}},
    )
    assert close(r.values["cross_entropy"], ref)
    rng = np.random.default_rng(5)
    a, b = rng.normal(size=(20, 3)), rng.normal(size=(20, 3))
    s = np.where(rng.uniform(size=20) < 0.5, 1, -1)
    cols = {f"a_{i}": a[:, i] for i in range(3)} | {f"b_{i}": b[:, i] for i in range(3)}
    r = losscli.evaluate(pd.DataFrame(cols), pd.Series(s, name="y"), losses=["cosine_embedding"])
    ref = F.cosine_embedding_loss(torch.tensor(a), torch.tensor(b), torch.tensor(s)).item()
    assert close(r.values["cosine_embedding"], ref)


def test_chunked_reads_keep_the_decisions(cli, tmp_path, bc):
    """Read in chunks, later chunks follow the first one's decisions: binary on the
    positive column of predict_proba, and −1/+1 labels."""
    p, y, _ = bc
    pd.DataFrame(p, columns=["p0", "p1"]).to_csv(tmp_path / "p.csv", index=False)
    pd.DataFrame({"y": y}).to_csv(tmp_path / "y.csv", index=False)
    pd.DataFrame({"s": M["bc"]["decision"]}).to_csv(tmp_path / "s.csv", index=False)
    pd.DataFrame({"y": 2 * y - 1}).to_csv(tmp_path / "pm.csv", index=False)
    doc = _json(cli, tmp_path / "p.csv", tmp_path / "y.csv", "--chunk-size", "16")
    assert doc["read"]["mode"] == "stream" and doc["task"]["name"] == "binary"
    assert close(_values(doc)["brier"], E["bc_brier"])
    doc = _json(cli, tmp_path / "s.csv", tmp_path / "pm.csv", "--chunk-size", "16")
    assert doc["read"]["mode"] == "stream"
    assert close(_values(doc)["bce"], E["bc_log_loss_decision"])
