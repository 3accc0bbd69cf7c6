"""Classification losses: known values, edge cases, equivalences and properties.

Known values are hand computations (shown next to each) or values of the reference call
named in the comment (torch 2.13.0 / scikit-learn 1.9, float64). The oracle fixture test
(test_oracle_classification.py) covers random inputs at 1e-9.
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from losscli.compute import compute
from losscli.errors import UsageError
from losscli.losses import classification as C
from losscli.registry import family_specs, get_spec, resolve_params

SPECS = family_specs("classification")


def _pair(kernel, *args, **kwargs):
    """(per-element loss, notes) of an elementwise kernel."""
    terms = kernel(*args, **kwargs)
    return terms.loss, terms.notes


LN2 = math.log(2.0)


def run(name: str, task: str, pred, target, *, logits: bool = False, reduction="mean", **params):
    return compute(
        get_spec(name, task),
        np.asarray(pred, dtype=np.float64),
        np.asarray(target, dtype=np.int64 if task == "multiclass" else np.float64),
        params=params,
        context={"from_logits": logits},
        reduction=reduction,
    )


def value(name: str, task: str, pred, target, **kw) -> float:
    res = run(name, task, pred, target, **kw)
    assert res.value is not None
    return res.value


# =========================================================================== registry


def test_specs_names_tasks_and_kernels() -> None:
    expected = {
        ("bce", ("binary", "multilabel")): "bce",
        ("focal", ("binary", "multilabel")): "focal",
        ("hinge", ("binary",)): "hinge",
        ("squared_hinge", ("binary",)): "squared_hinge",
        ("brier", ("binary",)): "brier",
        ("cross_entropy", ("multiclass",)): "cross_entropy",
        ("focal", ("multiclass",)): "focal_multiclass",
        ("multi_hinge", ("multiclass",)): "multi_hinge",
        ("multi_margin", ("multiclass",)): "multi_margin",
        ("brier", ("multiclass",)): "brier_multiclass",
        ("kl_div", ("multiclass",)): "kl_div_multiclass",
    }
    got = {(s.name, s.tasks): s.fn.partition(":")[2] for s in SPECS}
    assert got == expected
    for s in SPECS:
        assert callable(s.kernel())
        assert s.context == ("from_logits",)
        assert s.formula and s.summary and s.when_to_use and s.references and s.inputs
        assert s.oracle and s.domains


def test_spec_defaults_match_spec_section_6() -> None:
    assert get_spec("bce", "binary").defaults() == {
        "pos_weight": 1.0,
        "label_smoothing": 0.0,
        "eps": "none",
        "weight": "none",
    }
    assert get_spec("focal", "binary").defaults() == {
        "alpha": 0.25,
        "gamma": 2.0,
        "label_smoothing": 0.0,
        "eps": "none",
    }
    assert get_spec("focal", "multiclass").defaults() == {
        "alpha": 0.25,
        "gamma": 2.0,
        "eps": "none",
        "normalize": False,
    }
    assert get_spec("hinge", "binary").defaults() == {"margin": 1.0, "scores": "mapped"}
    assert get_spec("squared_hinge", "binary").defaults() == {"scores": "mapped"}
    assert get_spec("cross_entropy", "multiclass").defaults() == {
        "label_smoothing": 0.0,
        "weight": "none",
        "ignore_index": "none",
        "eps": "none",
        "normalize": False,
    }
    assert get_spec("multi_margin", "multiclass").defaults() == {
        "p": 1,
        "margin": 1.0,
        "weight": "none",
    }
    assert get_spec("cross_entropy", "multiclass").decomposable is False


def test_params_parse_and_ranges() -> None:
    ce = get_spec("cross_entropy", "multiclass")
    assert resolve_params(ce, {"weight": "1,2,0.5"})["weight"] == (1.0, 2.0, 0.5)
    assert resolve_params(ce, {"weight": "balanced"})["weight"] == "balanced"
    assert resolve_params(ce, {"ignore_index": "-100"})["ignore_index"] == -100
    with pytest.raises(UsageError):
        resolve_params(ce, {"label_smoothing": "1.5"})
    with pytest.raises(UsageError):
        resolve_params(ce, {"ignore_index": "1.5"})
    bce = get_spec("bce", "binary")
    assert resolve_params(bce, {"eps": "1e-7"})["eps"] == 1e-7
    assert resolve_params(bce, {"eps": "none"})["eps"] == "none"
    for bad in ({"eps": "0.5"}, {"eps": "0"}, {"pos_weight": "0"}):
        with pytest.raises(UsageError):
            resolve_params(bce, bad)
    focal = get_spec("focal", "binary")
    assert resolve_params(focal, {"alpha": "-1"})["alpha"] == -1.0
    with pytest.raises(UsageError):
        resolve_params(focal, {"alpha": "-0.5"})
    assert resolve_params(get_spec("focal", "multiclass"), {"alpha": "0.1,0.9"})["alpha"] == (
        0.1,
        0.9,
    )


@pytest.mark.parametrize(
    ("alias", "task", "name"),
    [
        ("log_loss", "binary", "bce"),
        ("binary_cross_entropy", "multilabel", "bce"),
        ("ce", "multiclass", "cross_entropy"),
        ("categorical_cross_entropy", "multiclass", "cross_entropy"),
        ("nll", "multiclass", "cross_entropy"),
        ("focal_loss", "binary", "focal"),
        ("focal_loss", "multiclass", "focal"),
        ("brier_score", "multiclass", "brier"),
        ("crammer_singer", "multiclass", "multi_hinge"),
    ],
)
def test_aliases(alias: str, task: str, name: str) -> None:
    spec = get_spec(alias, task)
    assert spec.name == name and task in spec.tasks


def test_domains_reject_probabilities_outside_unit_interval() -> None:
    from losscli.errors import DataError

    with pytest.raises(DataError, match="bce"):
        run("bce", "binary", [0.5, 1.2], [1, 0])
    # the same numbers are fine as logits
    assert run("bce", "binary", [0.5, 1.2], [1, 0], logits=True).status == "ok"
    with pytest.raises(DataError):
        run("hinge", "binary", [0.5, 0.2], [1, -1])
    with pytest.raises(DataError):
        run("cross_entropy", "multiclass", [[1.5, -0.5]], [0])


# =========================================================================== binary known values


def test_bce_probabilities_known_value() -> None:
    # −log 0.9 = 0.10536051565782628, −log(1 − 0.2) = 0.2231435513142097, mean 0.1642520…
    # (torch F.binary_cross_entropy([0.9, 0.2], [1, 0]) = 0.16425203348601802, float64)
    assert value("bce", "binary", [0.9, 0.2], [1, 0]) == pytest.approx(
        0.16425203348601802, rel=1e-12
    )


def test_bce_label_smoothing_known_value() -> None:
    # y = 1, ε = 0.2 → y' = 1·0.8 + 0.1 = 0.9; p = 0.8:
    # −(0.9·log 0.8 + 0.1·log 0.2) = 0.9·0.2231435513 + 0.1·1.6094379124 = 0.3617729874…
    expected = -(0.9 * math.log(0.8) + 0.1 * math.log(0.2))
    assert value("bce", "binary", [0.8], [1], label_smoothing=0.2) == pytest.approx(
        expected, rel=1e-12
    )
    # the binary convention y(1−ε)+ε/2 makes p = 0.5 cost log 2 for any ε
    assert value("bce", "binary", [0.5, 0.5], [1, 0], label_smoothing=0.3) == pytest.approx(LN2)


def test_bce_pos_weight_probabilities_and_logits() -> None:
    # y = 1: pw·(−log p); y = 0 unchanged. p = 0.5: (3·ln2 + ln2)/2 = 2·ln2
    assert value("bce", "binary", [0.5, 0.5], [1, 0], pos_weight=3.0) == pytest.approx(2 * LN2)
    # logit 0 is p = 0.5: the same value
    assert value("bce", "binary", [0.0, 0.0], [1, 0], logits=True, pos_weight=3.0) == (
        pytest.approx(2 * LN2)
    )


def test_bce_exact_zero_and_one_probabilities_cost_100() -> None:
    # torch clamps each log at −100: p = 0 with y = 1 and p = 1 with y = 0 cost exactly 100
    # (torch F.binary_cross_entropy([0., 1.], [1., 0.], reduction='none') = [100., 100.])
    loss, notes = _pair(C.bce, np.array([0.0, 1.0, 0.0, 1.0]), np.array([1, 0, 0, 1]))
    np.testing.assert_array_equal(loss, [100.0, 100.0, 0.0, 0.0])
    assert notes == [C.CLAMP_NOTE]
    # right answers at the edges change nothing: no note
    loss, notes = _pair(C.bce, np.array([0.0, 1.0]), np.array([0.0, 1.0]))
    np.testing.assert_array_equal(loss, [0.0, 0.0])
    assert notes == []
    res = run("bce", "binary", [0.0, 1.0], [1, 0])
    assert res.value == 100.0 and C.CLAMP_NOTE in res.notes


def test_bce_tiny_probability_keeps_relative_accuracy() -> None:
    # y = 0, p = 1e-12: −log(1 − p) = p + p²/2 + … = 1.0000000000005e-12 (log1p form, torch)
    loss, _ = _pair(C.bce, np.array([1e-12]), np.array([0.0]))
    assert loss[0] == pytest.approx(1.0000000000005e-12, rel=1e-14)


def test_bce_eps_clipping_gives_scikit_learn_value() -> None:
    eps = float(np.finfo(np.float64).eps)
    # sklearn.metrics.log_loss([1, 0], [0.0, 1.0], labels=[0, 1]) = −log(2.220446049250313e-16)
    # = 36.04365338911715 (scikit-learn 1.9.1)
    res = run("bce", "binary", [0.0, 1.0], [1, 0], eps=eps)
    assert res.value == pytest.approx(36.04365338911715, rel=1e-12)
    assert C.EPS_NOTE in res.notes
    # Keras' 1e-7: −log(1e-7) = 16.11809565095832
    assert value("bce", "binary", [0.0], [1], eps=1e-7) == pytest.approx(16.11809565095832)
    # inside [eps, 1−eps] nothing changes
    assert value("bce", "binary", [0.9, 0.2], [1, 0], eps=1e-7) == pytest.approx(
        0.16425203348601802, rel=1e-12
    )


def test_bce_extreme_logits_are_finite_and_exact() -> None:
    # softplus form: (1−y)·x + softplus(−x); torch F.binary_cross_entropy_with_logits gives
    # [1000, 1000, 0, 0] for x = [1000, −1000, 1000, −1000], y = [0, 1, 1, 0]
    loss, notes = _pair(
        C.bce,
        np.array([1000.0, -1000.0, 1000.0, -1000.0]),
        np.array([0, 1, 1, 0]),
        from_logits=True,
    )
    np.testing.assert_array_equal(loss, [1000.0, 1000.0, 0.0, 0.0])
    assert notes == []
    # pos_weight scales the positive term: 2·softplus(1000) = 2000
    loss, _ = _pair(C.bce, np.array([-1000.0]), np.array([1.0]), pos_weight=2.0, from_logits=True)
    assert loss[0] == 2000.0


def test_bce_multilabel_is_elementwise_mean() -> None:
    p = np.array([[0.9, 0.2, 0.5], [0.3, 0.6, 0.99]])
    y = np.array([[1, 0, 1], [0, 1, 1]])
    terms = C.bce(p, y)
    assert terms.loss.shape == (2, 3)
    manual = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert value("bce", "multilabel", p, y) == pytest.approx(manual.mean(), rel=1e-12)


def test_focal_known_value() -> None:
    # logit 0 → p = 0.5; y = 1: ce = ln 2, (1 − 0.5)² = 0.25, α_t = 0.25
    # → 0.0625·ln 2 = 0.043321698784996576
    assert value("focal", "binary", [0.0], [1], logits=True) == pytest.approx(
        0.0625 * LN2, rel=1e-12
    )
    # y = 0, p = 0.8: ce = −ln 0.2, p_t = 0.2, (0.8)² = 0.64, α_t = 0.75 → 0.48·ln 5
    assert value("focal", "binary", [0.8], [0]) == pytest.approx(0.48 * math.log(5.0))
    # alpha = −1 disables α_t: 0.25·ln 2
    assert value("focal", "binary", [0.5], [1], alpha=-1.0) == pytest.approx(0.25 * LN2)


def test_focal_extreme_logits_and_edges() -> None:
    loss, _ = _pair(
        C.focal, np.array([1000.0, -1000.0, 1000.0]), np.array([0.0, 1.0, 1.0]), from_logits=True
    )
    # wrong and certain: p_t = 0, factor 1: α_t·1000 → [0.75·1000, 0.25·1000, 0]
    np.testing.assert_array_equal(loss, [750.0, 250.0, 0.0])
    loss, notes = _pair(C.focal, np.array([0.0, 1.0]), np.array([1.0, 0.0]))
    np.testing.assert_array_equal(loss, [25.0, 75.0])
    assert notes == [C.CLAMP_NOTE]


def test_hinge_known_values_and_notes() -> None:
    # t = 2y − 1 = [1, 1, −1]; t·s = [2, −0.5, −0.3] → max(0, 1 − ts) = [0, 1.5, 1.3]
    res = run("hinge", "binary", [2.0, -0.5, 0.3], [1, 1, 0], logits=True)
    assert res.value == pytest.approx(2.8 / 3)
    assert C.HINGE_LABEL_NOTE in res.notes and C.HINGE_SCORE_NOTE not in res.notes
    # probabilities: s = 2p − 1 = 0.5 for p = 0.75, y = 0 → 1 + 0.5 = 1.5
    res = run("hinge", "binary", [0.75], [0])
    assert res.value == pytest.approx(1.5)
    assert res.notes == [C.HINGE_LABEL_NOTE, C.HINGE_SCORE_NOTE]
    # margin 2: max(0, 2 − ts) = [0, 2.5, 2.3]
    assert value("hinge", "binary", [2.0, -0.5, 0.3], [1, 1, 0], logits=True, margin=2.0) == (
        pytest.approx(4.8 / 3)
    )
    # squared: [0, 2.25, 1.69]
    assert value("squared_hinge", "binary", [2.0, -0.5, 0.3], [1, 1, 0], logits=True) == (
        pytest.approx(3.94 / 3)
    )


def test_brier_known_values() -> None:
    # (0.7 − 1)² = 0.09, (0.2 − 0)² = 0.04 → 0.065 (= sklearn brier_score_loss)
    assert value("brier", "binary", [0.7, 0.2], [1, 0]) == pytest.approx(0.065)
    # logit 0 → p = 0.5 → 0.25
    res = run("brier", "binary", [0.0], [1], logits=True)
    assert res.value == pytest.approx(0.25) and res.notes == [C.SIGMOID_NOTE]


# =========================================================================== multiclass known values


def test_cross_entropy_known_values() -> None:
    # logits [1, 2, 3], y = 2: log(e + e² + e³) − 3 = 0.40760596444437563
    assert value("cross_entropy", "multiclass", [[1.0, 2.0, 3.0]], [2], logits=True) == (
        pytest.approx(0.40760596444437563, rel=1e-12)
    )
    # probabilities: −log 0.3 = 1.2039728043259361
    assert value("cross_entropy", "multiclass", [[0.2, 0.3, 0.5]], [1]) == pytest.approx(
        1.2039728043259361, rel=1e-12
    )


def test_cross_entropy_label_smoothing_known_value() -> None:
    # C = 2, p = [0.25, 0.75], y = 1, ε = 0.2:
    # 0.8·(−ln 0.75) + 0.1·(−ln 0.25 − ln 0.75) = 0.8·0.2876821 + 0.1·1.6739764 = 0.3975433…
    expected = 0.8 * -math.log(0.75) + 0.1 * (-math.log(0.25) - math.log(0.75))
    assert value("cross_entropy", "multiclass", [[0.25, 0.75]], [1], label_smoothing=0.2) == (
        pytest.approx(expected, rel=1e-12)
    )


def test_cross_entropy_class_weights_and_smoothing_torch_convention() -> None:
    P = np.array([[0.25, 0.75], [0.6, 0.4]])
    y = np.array([1, 0])
    w = (1.0, 3.0)
    l0, l1 = -math.log(0.75), -math.log(0.6)
    # torch: Σ w_y·l / Σ w_y = (3·l0 + 1·l1) / 4
    assert value("cross_entropy", "multiclass", P, y, weight=w) == pytest.approx(
        (3 * l0 + l1) / 4, rel=1e-12
    )
    # with ε = 0.2 (pytorch/pytorch#104776): [(1−ε)·Σ w_y·l + (ε/C)·Σ_i Σ_c w_c·(−log p_ic)]/Σ w_y
    s0 = 1 * -math.log(0.25) + 3 * -math.log(0.75)
    s1 = 1 * -math.log(0.6) + 3 * -math.log(0.4)
    expected = (0.8 * (3 * l0 + l1) + 0.1 * (s0 + s1)) / 4
    assert value("cross_entropy", "multiclass", P, y, weight=w, label_smoothing=0.2) == (
        pytest.approx(expected, rel=1e-12)
    )


def test_cross_entropy_ignore_index() -> None:
    P = np.array([[0.25, 0.75], [0.6, 0.4], [0.5, 0.5]])
    # rows with target 0 are dropped from both terms: only row 0 (y = 1) remains
    assert value("cross_entropy", "multiclass", P, [1, 0, 0], ignore_index=0) == (
        pytest.approx(-math.log(0.75), rel=1e-12)
    )
    # torch's −100 sentinel, with a value that is not a class index
    assert value("cross_entropy", "multiclass", P, [1, -100, 0], ignore_index=-100) == (
        pytest.approx((-math.log(0.75) - math.log(0.5)) / 2, rel=1e-12)
    )


def test_cross_entropy_all_rows_ignored_is_nan() -> None:
    # torch F.cross_entropy(z, [-100, -100]) is nan
    res = run(
        "cross_entropy", "multiclass", [[0.2, 0.8], [0.5, 0.5]], [-100, -100], ignore_index=-100
    )
    assert res.status == "non_finite" and res.value is not None and math.isnan(res.value)
    assert any("ignored" in n for n in res.notes)


def test_cross_entropy_extreme_logits() -> None:
    z = [[1000.0, -1000.0], [1000.0, -1000.0]]
    # −log_softmax: y = 0 → 0, y = 1 → 2000
    assert value("cross_entropy", "multiclass", z, [0, 1], logits=True) == 1000.0
    # ε = 0.1, y = 0: 0.9·0 + 0.05·(0 + 2000) = 100
    assert value("cross_entropy", "multiclass", z[:1], [0], logits=True, label_smoothing=0.1) == (
        pytest.approx(100.0, rel=1e-12)
    )


def test_cross_entropy_zero_probability_clamped() -> None:
    res = run("cross_entropy", "multiclass", [[0.0, 1.0]], [0])
    assert res.value == 100.0 and res.notes == [C.NLL_CLAMP_NOTE]
    assert run("cross_entropy", "multiclass", [[0.0, 1.0]], [1]).notes == []


def test_cross_entropy_balanced_single_class_present() -> None:
    # only class 1 present: w_1 = n/(C·n) = 1/3, others 0 → the plain mean
    P = np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])
    plain = value("cross_entropy", "multiclass", P, [1, 1])
    assert value("cross_entropy", "multiclass", P, [1, 1], weight="balanced") == pytest.approx(
        plain, rel=1e-12
    )
    # with smoothing the absent classes carry weight 0, and a note says so
    res = run("cross_entropy", "multiclass", P, [1, 1], weight="balanced", label_smoothing=0.1)
    assert C.ABSENT_CLASS_NOTE in res.notes
    expected = np.mean(0.9 * -np.log(P[:, 1]) + (0.1 / 3) * -np.log(P[:, 1]))
    assert res.value == pytest.approx(expected, rel=1e-12)


def test_cross_entropy_zero_class_weight_with_smoothing_note() -> None:
    res = run(
        "cross_entropy",
        "multiclass",
        [[0.2, 0.8], [0.5, 0.5]],
        [0, 1],
        weight=(0.0, 1.0),
        label_smoothing=0.1,
    )
    assert C.ZERO_CLASS_WEIGHT_NOTE in res.notes
    # only row 1 counts: 0.9·ln 2 + 0.05·(0·… + 1·ln 2) = 0.95·ln 2
    assert res.value == pytest.approx(0.95 * LN2, rel=1e-12)


def test_cross_entropy_weight_length_mismatch() -> None:
    with pytest.raises(ValueError, match="3 values but the predictions have 2 classes"):
        C.cross_entropy(np.array([[0.5, 0.5]]), np.array([0]), weight=(1.0, 2.0, 3.0))


def test_focal_multiclass_known_values() -> None:
    # p_y = 0.8, γ = 2, α = 0.25: 0.25·0.04·(−ln 0.8) = 0.01·0.22314355 = 0.0022314355…
    assert value("focal", "multiclass", [[0.2, 0.8]], [1]) == pytest.approx(
        0.01 * -math.log(0.8), rel=1e-12
    )
    # per-class α by the true class: α_0 = 0.9 for y = 0, p_0 = 0.2 → 0.9·0.64·(−ln 0.2)
    assert value("focal", "multiclass", [[0.2, 0.8]], [0], alpha=(0.9, 0.1)) == pytest.approx(
        0.9 * 0.64 * -math.log(0.2), rel=1e-12
    )
    with pytest.raises(ValueError, match=r"focal\.alpha"):
        C.focal_multiclass(np.array([[0.5, 0.5]]), np.array([0]), alpha=(0.1, 0.2, 0.3))


def test_multi_hinge_known_values() -> None:
    s = [[1.0, 3.0, 2.0]] * 3
    # y = 1: max(0, 1 + 2 − 3) = 0; y = 0: 1 + 3 − 1 = 3; y = 2: 1 + 3 − 2 = 2 → mean 5/3
    assert value("multi_hinge", "multiclass", s, [1, 0, 2], logits=True) == pytest.approx(5 / 3)


def test_brier_and_kl_multiclass_known_values() -> None:
    # y = 2: 0.2² + 0.3² + (0.5 − 1)² = 0.04 + 0.09 + 0.25 = 0.38
    assert value("brier", "multiclass", [[0.2, 0.3, 0.5]], [2]) == pytest.approx(0.38)
    # KL(onehot_0 ‖ q) = −ln 0.2 = 1.6094379124341003
    assert value("kl_div", "multiclass", [[0.2, 0.3, 0.5]], [0]) == pytest.approx(
        1.6094379124341003, rel=1e-12
    )
    res = run("kl_div", "multiclass", [[0.0, 1.0]], [0])
    assert res.value == 100.0 and res.notes == [C.NLL_CLAMP_NOTE]
    res = run("focal", "multiclass", [[0.0, 1.0]], [0], alpha=1.0)
    assert res.value == 100.0 and res.notes == [C.NLL_CLAMP_NOTE]


# =========================================================================== properties

unit = st.floats(0.0, 1.0, allow_nan=False)
inner = st.floats(1e-6, 1 - 1e-6, allow_nan=False)
logit = st.floats(-30.0, 30.0, allow_nan=False)
label = st.sampled_from([0.0, 1.0])


def _pairs(elem, n_max: int = 40):
    return st.integers(1, n_max).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, n, elements=elem), arrays(np.float64, n, elements=label)
        )
    )


@st.composite
def multiclass(draw, logits: bool = False, n_max: int = 30, c_max: int = 6):
    n = draw(st.integers(1, n_max))
    c = draw(st.integers(2, c_max))
    z = draw(arrays(np.float64, (n, c), elements=st.floats(-20, 20, allow_nan=False)))
    y = draw(arrays(np.int64, n, elements=st.integers(0, c - 1)))
    if logits:
        return z, y
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True), y


@settings(max_examples=60, deadline=None)
@given(_pairs(unit), st.sampled_from([True, False]))
def test_binary_losses_non_negative(data, logits: bool) -> None:
    p, y = data
    x = (p - 0.5) * 40 if logits else p
    for name in ("bce", "focal", "hinge", "squared_hinge", "brier"):
        loss = get_spec(name, "binary").kernel()(x, y, from_logits=logits).loss
        assert np.all(loss >= 0) and np.all(np.isfinite(loss)), name


@settings(max_examples=60, deadline=None)
@given(multiclass(), st.sampled_from([True, False]))
def test_multiclass_losses_non_negative(data, logits: bool) -> None:
    p, y = data
    x = np.log(p) if logits else p
    for name in ("cross_entropy", "focal", "multi_hinge", "brier", "kl_div"):
        loss = get_spec(name, "multiclass").kernel()(x, y, from_logits=logits).loss
        assert np.all(loss >= 0) and np.all(np.isfinite(loss)), name


@settings(max_examples=60, deadline=None)
@given(_pairs(unit), st.booleans())
def test_focal_gamma0_alpha_off_equals_bce(data, logits: bool) -> None:
    p, y = data
    x = (p - 0.5) * 60 if logits else p
    f, _ = _pair(C.focal, x, y, alpha=-1.0, gamma=0.0, from_logits=logits)
    b, _ = _pair(C.bce, x, y, from_logits=logits)
    np.testing.assert_array_equal(f, b)


@settings(max_examples=60, deadline=None)
@given(_pairs(logit))
def test_bce_logits_agree_with_probabilities_in_safe_range(data) -> None:
    z, y = data
    p = 1.0 / (1.0 + np.exp(-z))
    a, _ = _pair(C.bce, z, y, from_logits=True)
    b, _ = _pair(C.bce, p, y)
    # σ(z) rounds 1 − p by ~1.1e-16 absolute, i.e. ~1.1e-16·e^|z| on the log
    tol = 1e-12 * np.abs(a) + 4.5e-16 * (1.0 + np.exp(np.abs(z)))
    assert np.all(np.abs(a - b) <= tol)
    fa, _ = _pair(C.focal, z, y, from_logits=True)
    fb, _ = _pair(C.focal, p, y)
    assert np.all(np.abs(fa - fb) <= tol)


@settings(max_examples=60, deadline=None)
@given(multiclass(logits=True))
def test_cross_entropy_logits_agree_with_probabilities(data) -> None:
    z, y = data
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    for name in ("cross_entropy", "kl_div", "focal", "brier"):
        k = get_spec(name, "multiclass").kernel()
        a = k(z, y, from_logits=True).loss
        b = k(p, y, from_logits=False).loss
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, err_msg=name)


def _soft_ce(p: np.ndarray, onehot: np.ndarray) -> np.ndarray:
    """Cross-entropy against a distribution target: the distribution family's kernel when
    present, else −Σ_c P·max(log Q, −100)."""
    if importlib.util.find_spec("losscli.losses.distribution") is not None:
        from losscli.losses.distribution import cross_entropy as dist_ce

        return dist_ce(p, onehot).loss
    return -(onehot * np.maximum(np.log(p), -100.0)).sum(axis=1)


@settings(max_examples=60, deadline=None)
@given(multiclass())
def test_integer_label_ce_equals_soft_ce_of_onehot(data) -> None:
    p, y = data
    onehot = np.eye(p.shape[1])[y]
    ours = C.cross_entropy(p, y).loss
    np.testing.assert_allclose(ours, _soft_ce(p, onehot), rtol=1e-12, atol=0)
    # logits: −Σ onehot·log_softmax(z)
    z = np.log(p) + 3.0
    ls = z - z.max(axis=1, keepdims=True)
    ls -= np.log(np.exp(ls).sum(axis=1, keepdims=True))
    # near-zero losses (≈1e-9) lose relative digits in either log-softmax: allow 1e-14 absolute
    np.testing.assert_allclose(
        C.cross_entropy(z, y, from_logits=True).loss,
        -(onehot * ls).sum(axis=1),
        rtol=1e-9,
        atol=1e-14,
    )


@settings(max_examples=40, deadline=None)
@given(multiclass(), st.floats(0.0, 1.0))
def test_cross_entropy_smoothing_equals_soft_target(data, eps: float) -> None:
    p, y = data
    c = p.shape[1]
    soft = (1 - eps) * np.eye(c)[y] + eps / c
    np.testing.assert_allclose(
        C.cross_entropy(p, y, label_smoothing=eps).loss, _soft_ce(p, soft), rtol=1e-10
    )


@settings(max_examples=40, deadline=None)
@given(multiclass(), _pairs(unit))
def test_label_smoothing_zero_is_plain(mc, binary) -> None:
    p, y = mc
    np.testing.assert_array_equal(
        C.cross_entropy(p, y, label_smoothing=0.0).loss, C.cross_entropy(p, y).loss
    )
    q, t = binary
    np.testing.assert_array_equal(C.bce(q, t, label_smoothing=0.0).loss, _pair(C.bce, q, t)[0])


@settings(max_examples=40, deadline=None)
@given(multiclass(), _pairs(unit))
def test_mean_is_sum_over_n(mc, binary) -> None:
    p, y = mc
    n = p.shape[0]
    for name in ("cross_entropy", "focal", "multi_hinge", "brier", "kl_div"):
        m = value(name, "multiclass", p, y)
        s = value(name, "multiclass", p, y, reduction="sum")
        assert m == pytest.approx(s / n, rel=1e-12, abs=1e-300), name
    # class-weighted CE: the sum divides by Σ w_y
    w = (np.arange(p.shape[1]) + 1.0).tolist()
    m = value("cross_entropy", "multiclass", p, y, weight=w)
    s = value("cross_entropy", "multiclass", p, y, weight=w, reduction="sum")
    assert m == pytest.approx(s / np.asarray(w)[y].sum(), rel=1e-12, abs=1e-300)
    q, t = binary
    for name in ("bce", "focal", "hinge", "squared_hinge", "brier"):
        m = value(name, "binary", q, t)
        s = value(name, "binary", q, t, reduction="sum")
        assert m == pytest.approx(s / q.shape[0], rel=1e-12, abs=1e-300), name


@settings(max_examples=40, deadline=None)
@given(multiclass(), st.randoms(use_true_random=False))
def test_permutation_invariance(data, rnd) -> None:
    p, y = data
    perm = np.array(rnd.sample(range(p.shape[0]), p.shape[0]))
    params = [
        {},
        {"weight": "balanced", "label_smoothing": 0.1},
        {"ignore_index": 0, "label_smoothing": 0.2},
    ]
    for prm in params:
        a = run("cross_entropy", "multiclass", p, y, **prm)
        b = run("cross_entropy", "multiclass", p[perm], y[perm], **prm)
        if a.value is not None and math.isnan(a.value):
            assert b.value is not None and math.isnan(b.value)
        else:
            assert a.value == pytest.approx(b.value, rel=1e-12)
    q = p[:, 0]
    t = (y == 0).astype(np.float64)
    assert value("bce", "binary", q, t) == pytest.approx(
        value("bce", "binary", q[perm], t[perm]), rel=1e-12
    )


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 6).flatmap(lambda c: st.tuples(st.just(c), st.permutations(range(c)))),
    st.lists(st.integers(0, 5), max_size=40),
)
def test_balanced_weights_match_scikit_learn_formula(cp, extra) -> None:
    c, base = cp
    y = np.array(list(base) + [e % c for e in extra], dtype=np.int64)  # every class present
    ours = C.balanced_class_weights(y, c)
    formula = len(y) / (c * np.bincount(y, minlength=c).astype(np.float64))
    np.testing.assert_array_equal(ours, formula)
    if importlib.util.find_spec("sklearn") is not None:
        from sklearn.utils.class_weight import compute_class_weight

        np.testing.assert_allclose(
            ours, compute_class_weight("balanced", classes=np.arange(c), y=y), rtol=1e-15
        )


def test_balanced_weight_resolution_in_kernel_matches_explicit_weights() -> None:
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(4), size=50)
    y = rng.integers(0, 4, size=50)
    w = tuple(C.balanced_class_weights(y, 4).tolist())
    for eps in (0.0, 0.2):
        a = value("cross_entropy", "multiclass", p, y, weight="balanced", label_smoothing=eps)
        b = value("cross_entropy", "multiclass", p, y, weight=w, label_smoothing=eps)
        assert a == pytest.approx(b, rel=1e-12)


def test_cross_entropy_internal_blocks_match_one_block(monkeypatch) -> None:
    rng = np.random.default_rng(5)
    z = rng.normal(size=(103, 5))
    y = rng.integers(0, 5, size=103)
    full = C.cross_entropy(z, y, label_smoothing=0.1, weight="balanced", from_logits=True)
    monkeypatch.setattr(C, "_BLOCK_ELEMENTS", 10)
    small = C.cross_entropy(z, y, label_smoothing=0.1, weight="balanced", from_logits=True)
    np.testing.assert_allclose(small.loss, full.loss, rtol=1e-15)
    np.testing.assert_array_equal(small.weight, full.weight)


def test_decomposable_binary_losses_merge_across_blocks(monkeypatch) -> None:
    import losscli.compute as compute_mod

    rng = np.random.default_rng(7)
    p = rng.uniform(size=1000)
    y = (rng.uniform(size=1000) < 0.3).astype(np.float64)
    whole = value("focal", "binary", p, y)
    monkeypatch.setattr(compute_mod, "BLOCK_ELEMENTS", 64)
    assert value("focal", "binary", p, y) == pytest.approx(whole, rel=1e-12)
