"""--l1/--l2 with --model-weights: the penalty block and regularized values."""

from __future__ import annotations

import numpy as np
import pytest

from losscli.errors import DataError, UsageError
from losscli.regularized import apply, load_weights, regularization


def test_npz_layers_and_keras_convention(tmp_path):
    w = tmp_path / "w.npz"
    np.savez(w, dense=np.array([[1.0, -2.0], [0.5, 0.0]]), bias=np.array([3.0]))
    block = regularization(str(w), l1=0.1, l2=0.01)
    # hand: Σ|w| = 1 + 2 + 0.5 + 0 + 3 = 6.5 ; Σw² = 1 + 4 + 0.25 + 0 + 9 = 14.25
    assert block["l1_penalty"] == pytest.approx(0.65, rel=1e-15)
    assert block["l2_penalty"] == pytest.approx(0.1425, rel=1e-15)
    assert block["penalty"] == pytest.approx(0.7925, rel=1e-15)
    assert block["n_weights"] == 5
    doc = {"losses": [{"name": "mse", "value": 1.0}, {"name": "x", "value": None}]}
    apply(doc, block)
    assert doc["losses"][0]["regularized"] == pytest.approx(1.7925)
    assert doc["losses"][1]["regularized"] is None
    assert doc["regularization"] is block


def test_npy_single_array(tmp_path):
    w = tmp_path / "w.npy"
    np.save(w, np.array([-1.0, 2.0]))
    assert regularization(str(w), l2=0.5)["penalty"] == pytest.approx(2.5)


def test_no_penalty_no_block():
    assert regularization(None) is None


@pytest.mark.parametrize(
    ("path", "kw", "err"),
    [
        (None, {"l1": 0.1}, UsageError),
        ("w.npy", {}, UsageError),
        ("missing.npy", {"l2": 0.1}, DataError),
        ("w.txt", {"l2": 0.1}, UsageError),
    ],
)
def test_errors(tmp_path, path, kw, err):
    if path == "w.npy":
        np.save(tmp_path / path, np.ones(3))
    if path == "w.txt":
        (tmp_path / path).write_text("1,2")
    with pytest.raises(err):
        regularization(None if path is None else str(tmp_path / path), **kw)


def test_non_finite_weights_are_a_data_error(tmp_path):
    np.save(tmp_path / "w.npy", np.array([1.0, np.nan]))
    with pytest.raises(DataError, match="NaN"):
        load_weights(str(tmp_path / "w.npy"))


def test_negative_lambda_is_usage_error(tmp_path):
    np.save(tmp_path / "w.npy", np.ones(2))
    with pytest.raises(UsageError):
        regularization(str(tmp_path / "w.npy"), l1=-1.0)
