"""``recommend --from-data``: loss parameters measured on the data (SPEC §13)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import SAMPLES, write_csv


def _rec(doc, name):
    return next(r for r in doc["recommendations"] if r["name"] == name)


def test_huber_delta_is_1345_mad_sigma_of_the_residuals(cli, tmp_path):
    rng = np.random.default_rng(4)
    y = rng.normal(10, 3, 400)
    p = y + rng.standard_t(2, 400)  # heavy-tailed residuals
    preds = write_csv(tmp_path / "p.csv", ["p"], [[v] for v in p])
    targets = write_csv(tmp_path / "y.csv", ["y"], [[v] for v in y])
    doc = cli(
        "recommend", "--from-data", targets, "--predictions", preds, "--outliers", "--json"
    ).json()
    r = y - p
    want = 1.345 * 1.4826 * np.median(np.abs(r - np.median(r)))
    huber = _rec(doc, "Huber")
    assert huber["params"]["delta"] == pytest.approx(want, rel=1e-3)  # shown to 4 digits
    assert f"huber.delta={huber['params']['delta']:g}" in huber["code"]["losscli"]
    row = next(e for e in doc["evidence"] if e["name"] == "huber delta")
    assert row["details"]["huber_delta"] == pytest.approx(want, rel=1e-12)


def test_binary_alpha_pos_weight_and_no_smoothing(cli):
    doc = cli(
        "recommend",
        "--from-data",
        SAMPLES / "binary_targets.csv",
        "--predictions",
        SAMPLES / "binary_probs.csv",
        "--imbalanced",
        "--json",
    ).json()
    y = np.loadtxt(SAMPLES / "binary_targets.csv", delimiter=",", skiprows=1, usecols=-1)
    prior = y.mean()
    assert _rec(doc, "Focal")["params"]["alpha"] == pytest.approx(1 - prior, rel=1e-3)
    assert _rec(doc, "Weighted BCE")["params"]["pos_weight"] == pytest.approx(
        (1 - prior) / prior, rel=1e-3
    )
    smoothing = next(e for e in doc["evidence"] if e["name"] == "label smoothing")
    assert smoothing["value"] == 0.0 and not doc["addons"]


def test_multiclass_class_weights(cli):
    doc = cli(
        "recommend",
        "--from-data",
        SAMPLES / "multiclass_targets.csv",
        "--imbalanced",
        "--json",
    ).json()
    w = _rec(doc, "Weighted cross-entropy")["params"]["weight"]
    assert isinstance(w, list) and len(w) >= 2
    assert "cross_entropy.weight=" in _rec(doc, "Weighted cross-entropy")["code"]["losscli"]


def test_without_data_the_defaults_stand(cli):
    doc = cli("recommend", "--task", "regression", "--outliers", "--json").json()
    huber = _rec(doc, "Huber")
    assert huber["params"]["delta"] == 1.0 and "<" not in huber["code"]["losscli"]
