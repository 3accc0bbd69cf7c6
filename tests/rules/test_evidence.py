"""--from-data measurements: class balance, robust outliers, overconfidence."""

from __future__ import annotations

import json

import numpy as np
import pytest

from losscli.errors import DataError
from losscli.rules import recommend_from_data
from losscli.rules.evidence import measure, robust_z
from losscli.rules.load import packaged_rules

T = packaged_rules().thresholds


def test_four_percent_positives_is_imbalanced_and_recommends_focal():
    y = np.zeros(1000)
    y[::25] = 1.0  # 40 positives of 1000 = 4%
    result = recommend_from_data("binary", y)
    assert result["conditions"] == {"imbalanced": True}
    (row,) = result["evidence"]
    assert row["name"] == "minority share"
    assert row["value"] == pytest.approx(0.04)
    assert row["threshold"] == 0.2
    assert row["verdict"] == "imbalanced"
    # 960 negatives / 40 positives = 24
    assert row["details"] == {
        "class_counts": {"0": 960, "1": 40},
        "imbalance_ratio": 24.0,
        "neg_pos_ratio": 24.0,
    }
    assert row["sentence"].startswith("The positives are 4.0% of 1000 targets (40 of 1000)")
    recs = result["recommendations"]
    assert recs[0]["losses"] == ["focal"]
    assert recs[1]["params"] == {"pos_weight": 24.0}
    json.dumps(result, allow_nan=False)


def test_balanced_binary_keeps_bce():
    y = np.tile([0.0, 1.0, 1.0], 100)  # minority 1/3
    result = recommend_from_data("binary", y)
    assert result["conditions"] == {}
    assert result["recommendations"][0]["losses"] == ["bce"]


def test_heavy_outlier_regression_recommends_huber():
    rng = np.random.default_rng(7)
    y = rng.normal(size=1000)
    y[:50] += 40.0  # 5% gross outliers
    result = recommend_from_data("regression", y)
    assert result["conditions"] == {"outliers": True}
    share, kurt = result["evidence"]
    assert share["verdict"] == "outliers"
    assert share["value"] >= 0.05
    assert share["details"]["basis"] == "targets"
    assert kurt["verdict"] == "heavy tails"
    assert result["recommendations"][0]["losses"] == ["huber"]


def test_clean_normal_regression_recommends_mse():
    y = np.random.default_rng(11).normal(loc=5.0, scale=2.0, size=5000)
    result = recommend_from_data("regression", y)
    assert result["conditions"] == {}
    share, kurt = result["evidence"]
    # a normal sample has about 0.05% beyond |z| = 3.5
    assert share["value"] < 0.005
    assert share["verdict"] == "no outliers"
    assert abs(kurt["value"]) < 0.3
    assert result["recommendations"][0]["losses"] == ["mse"]


def test_residuals_are_measured_when_predictions_are_given():
    rng = np.random.default_rng(3)
    y = rng.standard_cauchy(2000)  # heavy-tailed targets ...
    pred = y + rng.normal(scale=0.1, size=2000)  # ... predicted with small normal errors
    assert measure("regression", y, thresholds=T)[0] == {"outliers"}
    conditions, rows = measure("regression", y, pred, thresholds=T)
    assert conditions == frozenset()
    assert rows[0]["details"]["basis"] == "residuals"


def test_robust_z_known_values():
    # median 3, |x − 3| = 2,1,0,1,97 → MAD 1 → z = 0.6745·(x − 3)
    z = robust_z(np.array([[1.0], [2.0], [3.0], [4.0], [100.0]]))
    np.testing.assert_allclose(z.ravel(), [-1.349, -0.6745, 0.0, 0.6745, 65.4265], rtol=1e-12)
    # MAD = 0 → MeanAD = 2 → z = x / (1.253314·2)
    z = robust_z(np.array([[0.0], [0.0], [0.0], [0.0], [10.0]]))
    np.testing.assert_allclose(z.ravel(), [0, 0, 0, 0, 10 / 2.506628], rtol=1e-12)
    # constant column: no scale, no outliers
    assert np.all(robust_z(np.ones((4, 1))) == 0)


def test_kurtosis_known_value():
    # x − mean = −2,−2,−2,−2,8: m2 = 80/5 = 16, m4 = 4160/5 = 832 → 832/256 − 3 = 0.25
    _, rows = measure("regression", np.array([0.0, 0.0, 0.0, 0.0, 10.0]), thresholds=T)
    assert rows[1]["value"] == pytest.approx(0.25, rel=1e-12)
    _, rows = measure("regression", np.full(5, 2.0), thresholds=T)
    assert rows[1]["value"] is None
    assert rows[0]["value"] == 0.0


@pytest.mark.parametrize(
    ("counts", "ratio", "verdict"),
    [([50, 30, 10], 5.0, "imbalanced"), ([40, 30, 20], 2.0, "balanced")],
)
def test_multiclass_imbalance_ratio(counts, ratio, verdict):
    y = np.repeat(np.arange(3), counts)
    _, (row,) = measure("multiclass", y, thresholds=T)
    assert row["name"] == "imbalance ratio"
    assert row["value"] == ratio
    assert row["verdict"] == verdict
    assert row["details"]["class_counts"] == {"0": counts[0], "1": counts[1], "2": counts[2]}


def test_multiclass_absent_class_counts_as_imbalanced():
    y = np.array([0, 1, 0, 1])
    probs = np.full((4, 3), 1 / 3)
    conditions, rows = measure("multiclass", y, probs, thresholds=T)
    assert "imbalanced" in conditions
    assert rows[0]["value"] is None
    assert (
        rows[0]["sentence"] == "Class 2 never occurs in the 4 targets, so the data is imbalanced."
    )


def test_overconfident_probabilities_switch_the_condition():
    y = np.tile([0.0, 1.0], 50)
    p = np.full(100, 0.99)  # always "1" with 99% confidence, right half of the time
    conditions, rows = measure("binary", y, p, thresholds=T)
    assert conditions == {"overconfident"}
    assert rows[1]["value"] == pytest.approx(0.99 - 0.5)
    result = recommend_from_data("binary", y, p)
    assert result["recommendations"][0]["params"] == {"label_smoothing": 0.1}
    assert [a["name"] for a in result["addons"]] == ["label smoothing"]


def test_logits_are_detected_and_converted():
    y = np.array([0.0, 1.0, 1.0, 0.0])
    logits = np.array([-5.0, 5.0, 5.0, -5.0])  # σ(5) = 0.9933, all correct
    _, rows = measure("binary", y, logits, thresholds=T)
    gap = 1 / (1 + np.exp(-5.0)) - 1.0
    assert rows[1]["value"] == pytest.approx(gap, rel=1e-12)
    assert rows[1]["verdict"] == "not overconfident"
    # multiclass: rows that are not distributions are logits
    z = np.array([[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]])
    _, rows = measure("multiclass", np.array([0, 1]), z, thresholds=T)
    conf = np.exp(2.0) / (np.exp(2.0) + 2.0)
    assert rows[1]["details"]["mean_confidence"] == pytest.approx(conf, rel=1e-12)


def test_multilabel_uses_the_most_skewed_label():
    y = np.zeros((100, 3))
    y[:50, 0] = 1
    y[:40, 1] = 1
    y[:5, 2] = 1
    conditions, (row,) = measure("multilabel", y, thresholds=T)
    assert conditions == {"imbalanced"}
    assert row["value"] == pytest.approx(0.05)
    assert row["details"]["positive_share"] == [0.5, 0.4, 0.05]
    assert "label 2 is the most skewed of 3" in row["sentence"]


def test_segmentation_foreground_share():
    masks = np.zeros((2, 1, 100))
    masks[:, 0, :3] = 1  # 3% foreground
    result = recommend_from_data("segmentation", masks)
    assert result["conditions"] == {"imbalanced": True}
    assert result["evidence"][0]["value"] == pytest.approx(0.03)
    assert result["recommendations"][0]["losses"] == ["dice", "focal"]


def test_tasks_without_measurements_say_so():
    conditions, (row,) = measure("embedding", np.arange(10), thresholds=T)
    assert conditions == frozenset()
    assert row["verdict"] == "not measured"


def test_given_conditions_are_kept():
    y = np.tile([0.0, 1.0], 50)
    result = recommend_from_data("binary", y, conditions=["margin"])
    assert result["conditions"] == {"margin": True}
    assert result["recommendations"][0]["losses"] == ["hinge"]


def test_bad_inputs_are_data_errors():
    with pytest.raises(DataError, match="NaN"):
        measure("regression", np.array([1.0, np.nan]), thresholds=T)
    with pytest.raises(DataError, match="no targets"):
        measure("regression", np.array([]), thresholds=T)
    with pytest.raises(DataError, match="class indices"):
        measure("multiclass", np.array([0.5, 1.0]), thresholds=T)
