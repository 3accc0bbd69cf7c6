"""Detection losses: known values, degenerate boxes, missing scores, properties."""

from __future__ import annotations

import importlib
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from losscli.compute import compute
from losscli.errors import DataError
from losscli.losses import detection as det
from losscli.registry import family_specs, resolve_params

SPECS = family_specs("detection")

SPEC = {s.name: s for s in SPECS}
# the module itself: the package attribute `losscli.compute` is the re-exported function
compute_module = importlib.import_module("losscli.compute")
EPS = 1e-7


def _boxes(*rows: list[float]) -> np.ndarray:
    return np.array(rows, dtype=np.float64)


# --------------------------------------------------------------------------- smooth_l1


def test_smooth_l1_known_value() -> None:
    # errors 0.5, 0, 2, 0 → 0.5·0.25 = 0.125, 0, 2 − 0.5 = 1.5, 0 → row mean 1.625/4
    pred = _boxes([0.0, 0.0, 10.0, 10.0])
    target = _boxes([0.5, 0.0, 12.0, 10.0])
    terms = det.smooth_l1_boxes(pred, target)
    assert terms.loss.shape == (1, 4)
    np.testing.assert_allclose(terms.loss[0], [0.125, 0.0, 1.5, 0.0], rtol=1e-15)
    assert compute(SPEC["smooth_l1"], pred, target).value == pytest.approx(0.40625, rel=1e-15)


def test_smooth_l1_beta_zero_is_l1_and_per_coordinate_breakdown() -> None:
    pred = _boxes([0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 2.0, 2.0])
    target = _boxes([0.5, 0.0, 12.0, 10.0], [1.0, 3.0, 2.0, 2.25])
    result = compute(
        SPEC["smooth_l1"],
        pred,
        target,
        params={"beta": 0},
        class_names=["x1", "y1", "x2", "y2"],
    )
    # |e|: row 0 = 0.5, 0, 2, 0; row 1 = 0, 2, 0, 0.25 → mean 4.75/8
    assert result.value == pytest.approx(4.75 / 8, rel=1e-15)
    assert result.per_class == pytest.approx({"x1": 0.25, "y1": 1.0, "x2": 1.0, "y2": 0.125})


# --------------------------------------------------------------------------- giou


@pytest.mark.parametrize(
    ("pred", "target", "expected"),
    [
        # overlap: I = 1, U = 4 + 4 − 1 = 7, C = 9 → 1 − (1/7 − 2/9) = 68/63
        ([0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 3.0, 3.0], 1 - (1 / (7 + EPS) - 2 / (9 + EPS))),
        # disjoint: I = 0, U = 2, C = 3 → 1 − (0 − 1/3) = 4/3
        ([0.0, 0.0, 1.0, 1.0], [2.0, 0.0, 3.0, 1.0], 1 + 1 / (3 + EPS)),
        # nested: I = 1, U = C = 16 → 1 − 1/16 = 0.9375
        ([1.0, 1.0, 2.0, 2.0], [0.0, 0.0, 4.0, 4.0], 1 - 1 / (16 + EPS)),
        # identical, area 6 → 1 − 6/(6 + eps) = eps/(6 + eps)
        ([0.0, 0.0, 2.0, 3.0], [0.0, 0.0, 2.0, 3.0], EPS / (6 + EPS)),
        # touching edges: I = 0 (no positive overlap), U = 2, C = 2 → 1
        ([0.0, 0.0, 1.0, 1.0], [1.0, 0.0, 2.0, 1.0], 1.0),
        # zero-area boxes at one point: I = 0, U = 0, C = 0 → 1 − (0 − 0) = 1
        ([5.0, 5.0, 5.0, 5.0], [5.0, 5.0, 5.0, 5.0], 1.0),
    ],
)
def test_giou_known_values(pred, target, expected) -> None:
    terms = det.giou(_boxes(pred), _boxes(target))
    assert terms.loss.shape == (1,)
    assert terms.loss[0] == pytest.approx(expected, rel=1e-12)
    assert terms.notes == []


def test_giou_hand_fractions() -> None:
    # the same values with eps → 0 (sanity of the fractions above)
    got = det.giou(
        _boxes([0, 0, 2, 2], [0, 0, 1, 1]), _boxes([1, 1, 3, 3], [2, 0, 3, 1]), eps=1e-300
    )
    np.testing.assert_allclose(got.loss, [68 / 63, 4 / 3], rtol=1e-15)


def test_giou_degenerate_boxes_are_noted() -> None:
    pred = _boxes([2.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0])
    target = _boxes([0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 1.0, 1.0])
    terms = det.giou(pred, target)
    assert terms.notes == [det.DEGENERATE_NOTE]
    assert det.giou(target, target).notes == []
    # x2 < x1 in the target is noted too
    assert det.giou(target, pred).notes == [det.DEGENERATE_NOTE]


# --------------------------------------------------------------------------- focal_smooth_l1


def test_focal_smooth_l1_known_value() -> None:
    # row 0: score 0.8, label 1 → 0.25·(0.2)²·(−ln 0.8); boxes as the smooth_l1 test → 0.40625
    # row 1: score 0.3, label 0 → p_t = 0.7, 0.75·(0.3)²·(−ln 0.7); boxes identical → 0
    pred = _boxes([0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 2.0, 2.0])
    target = _boxes([0.5, 0.0, 12.0, 10.0], [1.0, 1.0, 2.0, 2.0])
    ctx = {"scores": np.array([0.8, 0.3]), "labels": np.array([1.0, 0.0]), "from_logits": False}
    row0 = 0.25 * 0.04 * -math.log(0.8) + 0.40625
    row1 = 0.75 * 0.09 * -math.log(0.7)
    terms = det.focal_smooth_l1(pred, target, **ctx)
    np.testing.assert_allclose(terms.loss, [row0, row1], rtol=1e-14)
    result = compute(SPEC["focal_smooth_l1"], pred, target, context=ctx)
    assert result.value == pytest.approx((row0 + row1) / 2, rel=1e-14)


def test_focal_smooth_l1_logits_match_probabilities() -> None:
    rng = np.random.default_rng(3)
    pred = rng.uniform(0, 50, size=(20, 4))
    target = pred + rng.normal(0, 2, size=(20, 4))
    p = rng.uniform(0.02, 0.98, size=20)
    labels = (rng.uniform(size=20) < 0.5).astype(float)
    z = np.log(p) - np.log1p(-p)
    a = det.focal_smooth_l1(pred, target, scores=p, labels=labels).loss
    b = det.focal_smooth_l1(pred, target, scores=z, labels=labels, from_logits=True).loss
    np.testing.assert_allclose(a, b, rtol=1e-11)


def test_focal_smooth_l1_without_alpha_and_gamma_is_bce_plus_smooth_l1() -> None:
    pred = _boxes([0.0, 0.0, 10.0, 10.0])
    target = _boxes([0.5, 0.0, 12.0, 10.0])
    got = det.focal_smooth_l1(
        pred, target, alpha=-1.0, gamma=0.0, scores=np.array([0.8]), labels=np.array([1.0])
    )
    assert got.loss[0] == pytest.approx(-math.log(0.8) + 0.40625, rel=1e-14)


def test_focal_smooth_l1_needs_scores_and_labels() -> None:
    pred = target = _boxes([0.0, 0.0, 1.0, 1.0])
    # called directly, the kernel refuses with a ValueError (losses raise nothing else)
    with pytest.raises(ValueError, match="needs a score column in the predictions and a label"):
        det.focal_smooth_l1(pred, target)
    with pytest.raises(ValueError, match="needs a score column"):
        det.focal_smooth_l1(pred, target, scores=np.array([0.5]))
    # through the engine, the registry's declared needs make it a data error with a hint
    with pytest.raises(DataError, match="needs a score column") as info:
        compute(SPEC["focal_smooth_l1"], pred, target)
    assert info.value.hint is not None and "smooth_l1 / giou" in info.value.hint
    lenient = compute(SPEC["focal_smooth_l1"], pred, target, strict=False)
    assert lenient.status == "not_applicable"
    assert lenient.reason is not None and "needs a score column" in lenient.reason


def test_focal_smooth_l1_checks_score_and_label_ranges() -> None:
    pred = target = _boxes([0.0, 0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="scores in"):
        det.focal_smooth_l1(pred, target, scores=np.array([1.5]), labels=np.array([1.0]))
    # logits may take any value
    ok = det.focal_smooth_l1(
        pred, target, scores=np.array([1.5]), labels=np.array([1.0]), from_logits=True
    )
    assert np.isfinite(ok.loss).all()
    with pytest.raises(ValueError, match="labels in"):
        det.focal_smooth_l1(pred, target, scores=np.array([0.5]), labels=np.array([2.0]))
    with pytest.raises(ValueError, match="one score and one label per box row"):
        det.focal_smooth_l1(pred, target, scores=np.array([0.5, 0.5]), labels=np.array([1.0]))


def test_focal_smooth_l1_score_and_label_domains_are_data_errors() -> None:
    pred = target = _boxes([0.0, 0.0, 1.0, 1.0])
    spec = SPEC["focal_smooth_l1"]
    probs = {"scores": np.array([1.5]), "labels": np.array([1.0]), "from_logits": False}
    with pytest.raises(DataError, match=r"needs scores in \[0, 1\] \(when probabilities\)"):
        compute(spec, pred, target, context=probs)
    logits = dict(probs, from_logits=True)
    assert compute(spec, pred, target, context=logits).status == "ok"
    bad_label = {"scores": np.array([0.5]), "labels": np.array([2.0]), "from_logits": False}
    with pytest.raises(DataError, match=r"needs labels in \[0, 1\] \(1 = object"):
        compute(spec, pred, target, context=bad_label)
    assert compute(spec, pred, target, context=bad_label, strict=False).status == "not_applicable"


def test_focal_smooth_l1_context_is_sliced_per_block(monkeypatch) -> None:

    rng = np.random.default_rng(5)
    n = 101
    pred = rng.uniform(0, 50, size=(n, 4))
    target = pred + rng.normal(0, 2, size=(n, 4))
    ctx = {
        "scores": rng.uniform(size=n),
        "labels": (rng.uniform(size=n) < 0.3).astype(float),
        "from_logits": False,
    }
    whole = compute(SPEC["focal_smooth_l1"], pred, target, context=ctx, keep_per_row=True)
    monkeypatch.setattr(compute_module, "BLOCK_ELEMENTS", 40)  # 10 rows per block
    blocked = compute(SPEC["focal_smooth_l1"], pred, target, context=ctx, keep_per_row=True)
    assert blocked.value == pytest.approx(whole.value, rel=1e-13)
    np.testing.assert_allclose(blocked.per_row, whole.per_row, rtol=1e-14)


# --------------------------------------------------------------------------- properties

COORD = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)


def _valid_boxes(raw: np.ndarray) -> np.ndarray:
    """Turn any (n, 4) numbers into boxes with x1 ≤ x2, y1 ≤ y2."""
    x = np.sort(raw[:, [0, 2]], axis=1)
    y = np.sort(raw[:, [1, 3]], axis=1)
    return np.stack([x[:, 0], y[:, 0], x[:, 1], y[:, 1]], axis=1)


RAW = arrays(np.float64, st.tuples(st.integers(1, 8), st.just(4)), elements=COORD)


@settings(max_examples=100, deadline=None)
@given(raw=RAW)
def test_giou_of_identical_boxes_is_zero(raw) -> None:
    b = _valid_boxes(raw)
    area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    loss = det.giou(b, b).loss
    # 1 − A/(A + eps) = eps/(A + eps) ≤ eps/A (up to the rounding of 1 − ratio, ~1e-16);
    # zero-area boxes have no IoU to speak of: I = U = C = 0 gives 1
    positive = area > 0
    np.testing.assert_allclose(loss[positive], EPS / (area[positive] + EPS), rtol=1e-6, atol=5e-16)
    with np.errstate(over="ignore"):  # eps/area is +inf for subnormal areas: bound holds
        assert np.all(np.abs(loss[positive]) <= EPS / area[positive] + 5e-16)
    np.testing.assert_array_equal(loss[~positive], 1.0)


@settings(max_examples=150, deadline=None)
@given(data=st.data(), n=st.integers(1, 8))
def test_giou_in_zero_two_and_symmetric(data, n) -> None:
    shape = (n, 4)
    a = _valid_boxes(data.draw(arrays(np.float64, shape, elements=COORD)))
    b = _valid_boxes(data.draw(arrays(np.float64, shape, elements=COORD)))
    loss = det.giou(a, b).loss
    assert np.all(loss >= -1e-12)
    assert np.all(loss <= 2.0)
    np.testing.assert_allclose(loss, det.giou(b, a).loss, rtol=1e-12, atol=1e-15)


@settings(max_examples=50, deadline=None)
@given(data=st.data(), n=st.integers(2, 8))
def test_detection_losses_permutation_invariant(data, n) -> None:
    a = _valid_boxes(data.draw(arrays(np.float64, (n, 4), elements=COORD)))
    b = _valid_boxes(data.draw(arrays(np.float64, (n, 4), elements=COORD)))
    perm = np.asarray(data.draw(st.permutations(range(n))))
    scores = data.draw(arrays(np.float64, (n,), elements=st.floats(0.0, 1.0)))
    labels = data.draw(arrays(np.float64, (n,), elements=st.sampled_from([0.0, 1.0])))
    for name in ("smooth_l1", "giou", "focal_smooth_l1"):
        ctx = {"scores": scores, "labels": labels, "from_logits": False}
        pctx = {"scores": scores[perm], "labels": labels[perm], "from_logits": False}
        x = compute(SPEC[name], a, b, context=ctx, keep_per_row=True)
        y = compute(SPEC[name], a[perm], b[perm], context=pctx, keep_per_row=True)
        assert y.value == pytest.approx(x.value, rel=1e-12, abs=1e-15), name
        np.testing.assert_allclose(y.per_row, x.per_row[perm], rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------- registry


def test_specs_cover_the_catalogue() -> None:
    assert set(SPEC) == {"smooth_l1", "giou", "focal_smooth_l1"}
    for spec in SPECS:
        assert spec.tasks == ("detection",)
        assert spec.summary and spec.formula and spec.when_to_use and spec.inputs
        assert spec.references and spec.oracle
        assert callable(spec.kernel())
    assert SPEC["smooth_l1"].defaults() == {"beta": 1.0}
    assert SPEC["giou"].defaults() == {"eps": 1e-7}
    assert SPEC["focal_smooth_l1"].defaults() == {"alpha": 0.25, "gamma": 2.0, "beta": 1.0}
    assert SPEC["focal_smooth_l1"].context == ("scores", "labels", "from_logits")
    assert "giou_loss" in SPEC["giou"].aliases


def test_detection_params_validate() -> None:
    from losscli.errors import UsageError

    with pytest.raises(UsageError):
        resolve_params(SPEC["smooth_l1"], {"beta": "-1"})
    with pytest.raises(UsageError):
        resolve_params(SPEC["giou"], {"eps": "0"})
    assert resolve_params(SPEC["focal_smooth_l1"], {"alpha": "-1"})["alpha"] == -1.0
