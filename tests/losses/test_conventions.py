"""Framework conventions (SPEC §10): ``--convention`` values against the frameworks.

The fixture ``tests/fixtures/oracle_conventions.json`` holds values computed by Keras 3
(torch backend, float64), scikit-learn, torch and MONAI themselves
(tests/oracle/gen_conventions.py); the ``oracle`` stage recomputes them live. Cases ported
from the frameworks' own test files carry their provenance (repository, file, test name)
next to the numbers.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from losscli.api import convention_params, run_reduction
from losscli.compute import compute
from losscli.errors import UsageError
from losscli.registry import CONVENTIONS, all_specs, get_spec, resolve_params

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "oracle_conventions.json"
CASES = json.loads(FIXTURE.read_text())["cases"]
RTOL = 1e-9


def losscli_value(
    loss: str,
    task: str,
    convention: str,
    pred: Any,
    target: Any,
    *,
    params: dict[str, Any] | None = None,
    from_logits: bool | None = None,
    sample_weight: Any = None,
    reduction: str = "mean",
) -> float:
    """The value ``losscli evaluate --convention C --param …`` reports for these arrays."""
    spec = get_spec(loss, task)
    params = dict(params or {})
    context = {k: params.pop(k) for k in list(params) if k in spec.context}
    if from_logits is not None:
        context["from_logits"] = from_logits
    merged = convention_params([spec], convention, {spec.name: params})[spec.name]
    tdtype = np.int64 if task == "multiclass" else np.float64
    res = compute(
        spec,
        np.asarray(pred, dtype=np.float64),
        np.asarray(target, dtype=tdtype),
        params=merged,
        context=context,
        sample_weight=None if sample_weight is None else np.asarray(sample_weight, dtype=float),
        reduction=run_reduction(reduction, convention),  # type: ignore[arg-type]
    )
    return res.value


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_convention_matches_the_framework(case: dict[str, Any]) -> None:
    got = losscli_value(
        case["loss"],
        case["task"],
        case["convention"],
        case["pred"],
        case["target"],
        params=case["params"],
        from_logits=case.get("from_logits"),
        sample_weight=case.get("sample_weight"),
    )
    assert got == pytest.approx(case["expected"], rel=case.get("rtol", RTOL), abs=1e-15)


# --------------------------------------------------------------------------- ported cases
# Values from the frameworks' own test suites, with their provenance.


def test_keras_binary_crossentropy_docstring() -> None:
    # keras-team/keras, keras/src/losses/losses.py, binary_crossentropy docstring:
    # y_true=[[0, 1], [0, 0]], y_pred=[[0.6, 0.4], [0.4, 0.6]] → [0.916, 0.714] per row.
    y = [[0.0, 1.0], [0.0, 0.0]]
    p = [[0.6, 0.4], [0.4, 0.6]]
    v = losscli_value("bce", "multilabel", "keras", p, y)
    assert v == pytest.approx((0.916 + 0.714) / 2, abs=1e-3)


def test_keras_binary_focal_docstring() -> None:
    # keras-team/keras, keras/src/losses/losses.py, binary_focal_crossentropy docstring:
    # gamma=2 on the same inputs → [0.330, 0.206] per row (apply_class_balancing=False).
    y = [[0.0, 1.0], [0.0, 0.0]]
    p = [[0.6, 0.4], [0.4, 0.6]]
    v = losscli_value("focal", "multilabel", "keras", p, y)
    assert v == pytest.approx((0.330 + 0.206) / 2, abs=1e-3)


def test_keras_mape_percent_docstring_form() -> None:
    # keras-team/keras, keras/src/losses/losses_test.py, MeanAbsolutePercentageErrorTest
    # test_unweighted: y_true=[[1, 9, 2], [-5, -2, 6]], y_pred=[[4, 8, 12], [8, 1, 3]]
    # → 211.8518 (percent, mean over every element).
    y = [[1.0, 9.0, 2.0], [-5.0, -2.0, 6.0]]
    p = [[4.0, 8.0, 12.0], [8.0, 1.0, 3.0]]
    assert losscli_value("mape", "regression", "keras", p, y) == pytest.approx(211.8518, abs=1e-3)
    assert losscli_value("mape", "regression", "sklearn", p, y) == pytest.approx(2.118518, abs=1e-5)


def test_keras_msle_losses_test() -> None:
    # keras-team/keras, keras/src/losses/losses_test.py, MeanSquaredLogarithmicErrorTest
    # test_unweighted: same inputs → 1.4370 (negative targets clipped at 1e-7).
    y = [[1.0, 9.0, 2.0], [-5.0, -2.0, 6.0]]
    p = [[4.0, 8.0, 12.0], [8.0, 1.0, 3.0]]
    assert losscli_value("msle", "regression", "keras", p, y) == pytest.approx(1.4370, abs=1e-3)


def test_keras_sample_weight_divides_by_n() -> None:
    # keras-team/keras, keras/src/losses/losses_test.py, MeanSquaredErrorTest
    # test_sample_weighted: y_true=[[1, 9, 2], [-5, -2, 6]], y_pred=[[4, 8, 12], [8, 1, 3]],
    # sample_weight=[1.2, 3.4] → 767.8 / 6 (Keras "sum_over_batch_size").
    y = [[1.0, 9.0, 2.0], [-5.0, -2.0, 6.0]]
    p = [[4.0, 8.0, 12.0], [8.0, 1.0, 3.0]]
    sw = [1.2, 3.4]
    v = losscli_value("mse", "regression", "keras", p, y, sample_weight=sw)
    assert v == pytest.approx(767.8 / 6, rel=1e-6)
    # torch / sklearn: Σ w·l / Σ w
    t = losscli_value("mse", "regression", "torch", p, y, sample_weight=sw)
    assert t == pytest.approx(767.8 / 3 / 4.6, rel=1e-6)


def test_sklearn_log_loss_docstring() -> None:
    # scikit-learn, sklearn/metrics/_classification.py, log_loss docstring:
    # log_loss(["spam", "ham", "ham", "spam"], [[.1, .9], [.9, .1], [.8, .2], [.35, .65]])
    # → 0.21616…; as binary p(spam) with spam = 1.
    p = [0.9, 0.1, 0.2, 0.65]
    y = [1.0, 0.0, 0.0, 1.0]
    assert losscli_value("bce", "binary", "sklearn", p, y) == pytest.approx(0.21616, abs=1e-5)


def test_sklearn_log_loss_eps_at_zero_probability() -> None:
    # scikit-learn, sklearn/metrics/tests/test_classification.py, test_log_loss:
    # y_true=[0, 1], y_pred=[[1, 0], [0, 1]] (wrong class 0) clips at float64 eps:
    # −log(eps) for the misclassified row.
    eps = float(np.finfo(np.float64).eps)
    v = losscli_value("bce", "binary", "sklearn", [1.0, 1.0], [0.0, 1.0])
    assert v == pytest.approx((-math.log(eps) - math.log(1 - eps)) / 2, rel=1e-12)
    # torch clamps the log at −100 instead
    assert losscli_value("bce", "binary", "torch", [1.0, 1.0], [0.0, 1.0]) == pytest.approx(50.0)


def test_sklearn_brier_binary_and_two_columns_agree() -> None:
    # scikit-learn, sklearn/metrics/tests/test_classification.py, test_brier_score_loss:
    # y_true=[0, 1, 1, 0, 1, 1], y_pred=[0.1, 0.8, 0.9, 0.3, 1.0, 0.95] →
    # mean((y_true − y_pred)²); scale_by_half='auto' makes 2 predict_proba columns equal.
    y = [0, 1, 1, 0, 1, 1]
    p = [0.1, 0.8, 0.9, 0.3, 1.0, 0.95]
    want = float(np.mean((np.array(y) - np.array(p)) ** 2))
    assert losscli_value("brier", "binary", "sklearn", p, y) == pytest.approx(want, rel=1e-12)
    two = np.stack([1 - np.array(p), np.array(p)], axis=1)
    assert losscli_value("brier", "multiclass", "sklearn", two, y) == pytest.approx(want, rel=1e-12)
    assert losscli_value("brier", "multiclass", "torch", two, y) == pytest.approx(2 * want)


def test_torch_multi_margin_docs_example() -> None:
    # pytorch/pytorch, torch/nn/modules/loss.py, MultiMarginLoss docstring:
    # x=[[0.1, 0.2, 0.4, 0.8]], y=[3] → 0.32500 = 1/4·((1−(0.8−0.1)) + (1−(0.8−0.2)) + (1−(0.8−0.4))).
    v = losscli_value("multi_margin", "multiclass", "torch", [[0.1, 0.2, 0.4, 0.8]], [3])
    assert v == pytest.approx(0.325, rel=1e-12)


def test_monai_dice_loss_case() -> None:
    # Project-MONAI/MONAI, tests/losses/test_dice_loss.py, TEST_CASES[0]:
    # DiceLoss(include_background=True, sigmoid=True, smooth_nr=1e-6, smooth_dr=1e-6),
    # input [[[[1.0, -1.0], [-1.0, 1.0]]]], target [[[[1.0, 0.0], [1.0, 1.0]]]] → 0.307576
    x = [[[[1.0, -1.0], [-1.0, 1.0]]]]
    y = [[[[1.0, 0.0], [1.0, 1.0]]]]
    v = losscli_value(
        "dice",
        "segmentation",
        "monai",
        x,
        y,
        params={"smooth_nr": 1e-6, "smooth_dr": 1e-6},
        from_logits=True,
    )
    assert v == pytest.approx(0.307576, abs=1e-6)


def test_monai_generalized_dice_case() -> None:
    # Project-MONAI/MONAI, tests/losses/test_generalized_dice_loss.py, TEST_CASES[0]:
    # GeneralizedDiceLoss(include_background=True, sigmoid=True, smooth_nr=1e-6,
    # smooth_dr=1e-6), same input and target → 0.307576
    x = [[[[1.0, -1.0], [-1.0, 1.0]]]]
    y = [[[[1.0, 0.0], [1.0, 1.0]]]]
    v = losscli_value(
        "generalized_dice",
        "segmentation",
        "monai",
        x,
        y,
        params={"smooth_nr": 1e-6, "smooth_dr": 1e-6},
        from_logits=True,
    )
    assert v == pytest.approx(0.307576, abs=1e-6)


# --------------------------------------------------------------------------- registry


def test_every_convention_value_is_valid_and_named() -> None:
    for spec in all_specs():
        for c in spec.conventions:
            assert c.name in CONVENTIONS
            assert c.api or c.note, (spec.name, c.name)
            resolved = resolve_params(spec, dict(c.params))
            assert resolved == spec.convention_defaults(c.name)


def test_explicit_param_wins_over_the_convention() -> None:
    spec = get_spec("bce", "binary")
    merged = convention_params([spec], "keras", {"bce": {"eps": "1e-3"}})
    assert merged["bce"]["eps"] == "1e-3"
    assert convention_params([spec], "keras", {})["bce"] == {"eps": 1e-7}
    assert convention_params([spec], "torch", {}) == {}


def test_reduction_sum_is_the_element_sum() -> None:
    # torchvision sigmoid_focal_loss(reduction="sum") / torch BCE sum over every element:
    # a multilabel sum is L times the sum of row means.
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, (6, 3))
    y = (rng.uniform(size=(6, 3)) < 0.5).astype(float)
    mean = losscli_value("bce", "multilabel", "torch", p, y)
    total = losscli_value("bce", "multilabel", "torch", p, y, reduction="sum")
    assert total == pytest.approx(mean * p.size, rel=1e-12)


def test_poisson_log_input_lifts_the_rate_domain() -> None:
    spec = get_spec("poisson_nll")
    assert any(d.input == "pred" for d in spec.domains)
    assert all(d.input != "pred" for d in spec.under({"log_input": True}).domains)
    v = losscli_value(
        "poisson_nll", "regression", "torch", [-1.0], [2.0], params={"log_input": True}
    )
    assert v == pytest.approx(math.exp(-1.0) + 2.0, rel=1e-12)


def test_bad_convention_value_is_a_usage_error() -> None:
    from losscli.options import BY_NAME, value_problem

    assert value_problem(BY_NAME["convention"], "pytorch") is not None
    assert value_problem(BY_NAME["convention"], "keras") is None
    with pytest.raises(UsageError):
        resolve_params(get_spec("brier", "multiclass"), {"scale_by_half": "maybe"})


def test_ignore_index_outside_the_classes() -> None:
    # SPEC §9: cross_entropy.ignore_index may be −100 (torch), −1 (Keras) or 255 (masks);
    # those rows drop out as in torch.
    z = np.array([[2.0, 0.5, -1.0], [0.1, 0.2, 0.3], [1.0, -1.0, 0.0]])
    y = np.array([0, -100, 2])
    v = losscli_value(
        "cross_entropy",
        "multiclass",
        "torch",
        z,
        y,
        params={"ignore_index": -100},
        from_logits=True,
    )
    keep = [0, 2]
    ls = z[keep] - np.log(np.exp(z[keep]).sum(axis=1, keepdims=True))
    assert v == pytest.approx(-np.mean(ls[[0, 1], [0, 2]]), rel=1e-12)


def test_monai_empty_masks_without_smoothing_are_nan() -> None:
    # Project-MONAI/MONAI, monai/losses/dice.py: f = 1 − (2·0 + 0)/(0 + 0) is NaN with
    # smooth_nr = smooth_dr = 0; losscli's default counts the pair as a perfect match.
    x = np.zeros((2, 1, 4))
    y = np.zeros((2, 1, 4))
    y[1, 0, :2] = 1.0
    x[1, 0, :2] = 0.5
    zero = {"smooth_nr": 0.0, "smooth_dr": 0.0}
    assert math.isnan(losscli_value("dice", "segmentation", "monai", x, y, params=zero))
    v = losscli_value("dice", "segmentation", "torch", x, y, params={"smooth": 0.0})
    assert v == pytest.approx((0.0 + (1.0 - 2 * 1.0 / 3.0)) / 2)
