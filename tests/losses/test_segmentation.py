"""Segmentation losses: known values, empty-mask policy, identities and properties."""

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
from losscli.losses import segmentation as seg
from losscli.losses.classification import CLAMP_NOTE
from losscli.registry import family_specs, resolve_params

SPECS = family_specs("segmentation")

SPEC = {s.name: s for s in SPECS}
# the module itself: the package attribute `losscli.compute` is the re-exported function
compute_module = importlib.import_module("losscli.compute")

# One image, one class, four pixels; used by the hand computations below.
P1 = np.array([[[0.9, 0.2, 0.7, 0.0]]])
Y1 = np.array([[[1.0, 0.0, 1.0, 0.0]]])
# TP = 0.9 + 0.7 = 1.6, Σp = 1.8, Σy = 2, FP = Σp − TP = 0.2, FN = Σy − TP = 0.4


def _logit(p: np.ndarray) -> np.ndarray:
    return np.log(p) - np.log1p(-p)


# --------------------------------------------------------------------------- known values


@pytest.mark.parametrize(
    ("fn", "params", "expected"),
    [
        # 1 − (2·1.6 + 1)/(1.8 + 2 + 1) = 1 − 4.2/4.8 = 0.125
        (seg.dice, {"smooth": 1.0}, 0.125),
        # 1 − 3.2/3.8 = 0.6/3.8 = 3/19
        (seg.dice, {"smooth": 0.0}, 3 / 19),
        # 1 − (1.6 + 1)/(1.8 + 2 − 1.6 + 1) = 1 − 2.6/3.2 = 0.1875
        (seg.iou, {"smooth": 1.0}, 0.1875),
        # 1 − 1.6/2.2 = 3/11
        (seg.iou, {"smooth": 0.0}, 3 / 11),
        # 1 − (1.6 + 1)/(1.6 + 0.3·0.2 + 0.7·0.4 + 1) = 1 − 2.6/2.94 = 0.34/2.94 = 17/147
        (seg.tversky, {"alpha": 0.3, "beta": 0.7, "smooth": 1.0}, 17 / 147),
        # α = β = 0.5, s = 1: 1 − 2.6/(1.6 + 0.1 + 0.2 + 1) = 0.3/2.9 = 3/29
        (seg.tversky, {}, 3 / 29),
        # (3/29)^0.75
        (seg.focal_tversky, {}, (3 / 29) ** 0.75),
        # α = 0.7, β = 0.3, s = 0: 1 − 1.6/(1.6 + 0.14 + 0.12) = 0.26/1.86 = 13/93
        (seg.tversky, {"alpha": 0.7, "beta": 0.3, "smooth": 0.0}, 13 / 93),
        # (13/93)^2
        (
            seg.focal_tversky,
            {"gamma": 2.0, "alpha": 0.7, "beta": 0.3, "smooth": 0.0},
            (13 / 93) ** 2,
        ),
    ],
)
def test_overlap_known_values(fn, params, expected) -> None:
    terms = fn(P1, Y1, **params)
    assert terms.loss.shape == (1, 1)
    assert terms.loss[0, 0] == pytest.approx(expected, rel=1e-13)
    assert terms.notes == []


def test_seg_bce_known_value() -> None:
    # pixels: −ln 0.9 (y=1), −ln 0.8 (y=0, p=0.2), −ln 0.7 (y=1), −ln 1 = 0 (y=0, p=0)
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.7)) / 4
    terms = seg.seg_bce(P1, Y1)
    assert terms.loss[0, 0] == pytest.approx(expected, rel=1e-13)


def test_seg_bce_pos_weight_known_value() -> None:
    # positive pixels weighted by 2: −(2 ln 0.9 + ln 0.8 + 2 ln 0.7)/4
    expected = -(2 * math.log(0.9) + math.log(0.8) + 2 * math.log(0.7)) / 4
    assert seg.seg_bce(P1, Y1, pos_weight=2.0).loss[0, 0] == pytest.approx(expected, rel=1e-13)


def test_seg_focal_known_value() -> None:
    # α_t = 0.25 for y = 1, 0.75 for y = 0; (1 − p_t)^2 with p_t = 0.9, 0.8, 0.7, 1
    expected = (
        0.25 * 0.1**2 * -math.log(0.9)
        + 0.75 * 0.2**2 * -math.log(0.8)
        + 0.25 * 0.3**2 * -math.log(0.7)
        + 0.0
    ) / 4
    assert seg.seg_focal(P1, Y1).loss[0, 0] == pytest.approx(expected, rel=1e-13)


def test_dice_bce_known_value() -> None:
    # dice 0.125 (above) + pixel-mean BCE −ln(0.9·0.8·0.7)/4
    expected = 0.125 - math.log(0.9 * 0.8 * 0.7) / 4
    assert seg.dice_bce(P1, Y1).loss[0, 0] == pytest.approx(expected, rel=1e-13)
    # λ_d = 0.5, λ_b = 2
    weighted = 0.5 * 0.125 - 2 * math.log(0.504) / 4
    got = seg.dice_bce(P1, Y1, lambda_dice=0.5, lambda_bce=2.0).loss[0, 0]
    assert got == pytest.approx(weighted, rel=1e-13)


def test_per_image_and_class_shape_and_values() -> None:
    # image 0: class 0 = P1/Y1 (dice 0.125), class 1 perfect hard mask (dice 0)
    # image 1: class 0 prediction 0.5 everywhere, target [1,1,0,0]:
    #   TP = 1, Σp = 2, Σy = 2 → 1 − 3/5 = 0.4; class 1 empty/empty → 0
    pred = np.array(
        [
            [[0.9, 0.2, 0.7, 0.0], [1.0, 0.0, 0.0, 1.0]],
            [[0.5, 0.5, 0.5, 0.5], [0.0, 0.0, 0.0, 0.0]],
        ]
    )
    target = np.array(
        [
            [[1.0, 0.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]],
            [[1.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
        ]
    )
    terms = seg.dice(pred, target)
    np.testing.assert_allclose(terms.loss, [[0.125, 0.0], [0.4, 0.0]], rtol=1e-13, atol=1e-16)
    result = compute(SPEC["dice"], pred, target, keep_per_row=True, class_names=["bg", "fg"])
    assert result.value == pytest.approx((0.125 + 0.4) / 4, rel=1e-13)
    np.testing.assert_allclose(result.per_row, [0.0625, 0.2], rtol=1e-13)
    assert result.per_class == pytest.approx({"bg": 0.2625, "fg": 0.0})


def test_logits_match_probabilities() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.99, size=(4, 2, 30))
    y = (rng.uniform(size=p.shape) < 0.3).astype(float)
    z = _logit(p)
    for fn in (seg.dice, seg.iou, seg.tversky, seg.focal_tversky, seg.dice_bce, seg.seg_bce):
        a = fn(p, y).loss
        b = fn(z, y, from_logits=True).loss
        np.testing.assert_allclose(a, b, rtol=1e-11, err_msg=fn.__name__)


def test_shapes_two_and_four_dimensional() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(size=(3, 2, 4, 5))
    y = (rng.uniform(size=p.shape) < 0.5).astype(float)
    flat = seg.dice(p.reshape(3, 2, 20), y.reshape(3, 2, 20)).loss
    np.testing.assert_array_equal(seg.dice(p, y).loss, flat)
    one_class = seg.dice(p[:, 0].reshape(3, 20), y[:, 0].reshape(3, 20)).loss
    np.testing.assert_allclose(one_class, flat[:, :1], rtol=1e-14)


def test_integer_and_float32_inputs() -> None:
    p = P1.astype(np.float32)
    y = Y1.astype(np.int64)
    assert seg.dice(p, y).loss.dtype == np.float64
    assert seg.dice(p, y).loss[0, 0] == pytest.approx(0.125, rel=1e-6)


# --------------------------------------------------------------------------- empty masks

EMPTY = np.zeros((1, 1, 4))
HALF = np.array([[[0.5, 0.5, 0.0, 0.0]]])
GT = np.array([[[1.0, 1.0, 0.0, 0.0]]])


@pytest.mark.parametrize(
    ("fn", "pred", "target", "smooth", "expected", "note"),
    [
        # GT empty, prediction empty: s/s = 1 → 0; at s = 0 the 0/0 is a perfect match
        (seg.dice, EMPTY, EMPTY, 1.0, 0.0, None),
        (seg.dice, EMPTY, EMPTY, 0.0, 0.0, seg.EMPTY_MATCH_NOTE),
        (seg.iou, EMPTY, EMPTY, 1.0, 0.0, None),
        (seg.iou, EMPTY, EMPTY, 0.0, 0.0, seg.EMPTY_MATCH_NOTE),
        (seg.tversky, EMPTY, EMPTY, 0.0, 0.0, seg.EMPTY_MATCH_NOTE),
        (seg.focal_tversky, EMPTY, EMPTY, 0.0, 0.0, seg.EMPTY_MATCH_NOTE),
        # GT empty, prediction Σp = 1: dice 1 − 1/(1 + 1) = 0.5 at s = 1, 1 − 0/1 = 1 at s = 0
        (seg.dice, HALF, EMPTY, 1.0, 0.5, None),
        (seg.dice, HALF, EMPTY, 0.0, 1.0, None),
        # iou: 1 − 1/(1 + 1) = 0.5; s = 0: 1
        (seg.iou, HALF, EMPTY, 1.0, 0.5, None),
        (seg.iou, HALF, EMPTY, 0.0, 1.0, None),
        # GT Σy = 2, prediction empty: dice 1 − 1/(2 + 1) = 2/3; s = 0: 1
        (seg.dice, EMPTY, GT, 1.0, 2 / 3, None),
        (seg.dice, EMPTY, GT, 0.0, 1.0, None),
        (seg.iou, EMPTY, GT, 1.0, 2 / 3, None),
        (seg.tversky, EMPTY, GT, 0.0, 1.0, None),
        # both non-empty: TP = 1, Σp = 1, Σy = 2: dice 1 − 3/4 = 0.25 (s = 1), 1 − 2/3 (s = 0)
        (seg.dice, HALF, GT, 1.0, 0.25, None),
        (seg.dice, HALF, GT, 0.0, 1 / 3, None),
        # iou: 1 − 2/(2 + 1) = 1/3 (s = 1); 1 − 1/2 (s = 0)
        (seg.iou, HALF, GT, 1.0, 1 / 3, None),
        (seg.iou, HALF, GT, 0.0, 0.5, None),
    ],
)
def test_empty_mask_policy(fn, pred, target, smooth, expected, note) -> None:
    terms = fn(pred, target, smooth=smooth)
    assert terms.loss[0, 0] == pytest.approx(expected, rel=1e-13, abs=0.0)
    assert terms.notes == ([] if note is None else [note])


def test_empty_note_only_when_an_empty_pair_exists() -> None:
    pred = np.concatenate([HALF, EMPTY])
    target = np.concatenate([GT, EMPTY])
    result = compute(SPEC["dice"], pred, target, params={"smooth": 0})
    # (1/3 + 0)/2
    assert result.value == pytest.approx(1 / 6, rel=1e-13)
    assert result.notes == [seg.EMPTY_MATCH_NOTE]
    assert compute(SPEC["dice"], pred[:1], target[:1], params={"smooth": 0}).notes == []
    # with the default smoothing the empty pair is 0 by the formula itself: no note
    assert compute(SPEC["dice"], pred, target).notes == []


def test_tversky_zero_weight_errors() -> None:
    # α = 0: false positives are free; GT empty, prediction non-empty → 0/0 → loss 0
    terms = seg.tversky(HALF, EMPTY, alpha=0.0, beta=1.0, smooth=0.0)
    assert terms.loss[0, 0] == 0.0
    assert terms.notes == [seg.ZERO_WEIGHT_NOTE]


def test_dice_bce_carries_the_empty_note() -> None:
    terms = seg.dice_bce(EMPTY, EMPTY, smooth=0.0)
    assert terms.loss[0, 0] == 0.0
    assert seg.EMPTY_MATCH_NOTE in terms.notes


def test_bce_clamp_note_passes_through() -> None:
    # pixel 1: y = 1, p = 0 → −log 0 clamped → 100; pixel 4: y = 0, p = 1 → −log(1 − 1)
    # clamped → 100; pixels 2, 3 are exact → 0. Mean (100 + 0 + 0 + 100)/4 = 50
    pred = np.array([[[0.0, 0.0, 1.0, 1.0]]])
    target = np.array([[[1.0, 0.0, 1.0, 0.0]]])
    terms = seg.seg_bce(pred, target)
    assert terms.loss[0, 0] == pytest.approx(50.0, rel=1e-15)
    assert terms.notes == [CLAMP_NOTE]


# --------------------------------------------------------------------------- identities


# Subnormal probabilities are left out: α·5e-324 underflows to 0, which turns a lone
# false positive of 5e-324 into a zero-weight error (a float artefact, not a convention).
UNIT = st.floats(0.0, 1.0, allow_subnormal=False)


def _mask_pair(draw_shape=(3, 2, 6)):
    probs = arrays(np.float64, draw_shape, elements=UNIT)
    masks = arrays(np.float64, draw_shape, elements=st.sampled_from([0.0, 1.0]))
    return probs, masks


PROBS, MASKS = _mask_pair()
SMOOTH = st.sampled_from([0.0, 1e-5, 0.5, 1.0, 3.0])


@settings(max_examples=60, deadline=None)
@given(p=PROBS, y=MASKS, s=SMOOTH)
def test_tversky_half_is_dice_with_double_smoothing(p, y, s) -> None:
    # TP + ½FP + ½FN = ½(Σp + Σy): tversky(α = β = ½, s) = 1 − (2TP + 2s)/(Σp + Σy + 2s)
    a = seg.tversky(p, y, alpha=0.5, beta=0.5, smooth=s).loss
    b = seg.dice(p, y, smooth=2 * s).loss
    np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(p=PROBS, y=MASKS)
def test_tversky_half_equals_dice_unsmoothed(p, y) -> None:
    a = seg.tversky(p, y, alpha=0.5, beta=0.5, smooth=0.0).loss
    np.testing.assert_allclose(a, seg.dice(p, y, smooth=0.0).loss, rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(p=PROBS, y=MASKS, s=SMOOTH)
def test_tversky_one_is_iou(p, y, s) -> None:
    a = seg.tversky(p, y, alpha=1.0, beta=1.0, smooth=s).loss
    np.testing.assert_allclose(a, seg.iou(p, y, smooth=s).loss, rtol=1e-9, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(p=PROBS, y=MASKS, s=SMOOTH)
def test_focal_tversky_gamma_one_is_tversky(p, y, s) -> None:
    a = seg.focal_tversky(p, y, gamma=1.0, alpha=0.3, beta=0.7, smooth=s).loss
    b = seg.tversky(p, y, alpha=0.3, beta=0.7, smooth=s).loss
    np.testing.assert_array_equal(a, b)


@settings(max_examples=80, deadline=None)
@given(
    p=PROBS,
    y=arrays(np.float64, (3, 2, 6), elements=UNIT),
    s=SMOOTH,
    a=st.floats(0.0, 3.0),
    b=st.floats(0.0, 3.0),
)
def test_overlap_losses_in_unit_interval(p, y, s, a, b) -> None:
    for terms in (
        seg.dice(p, y, smooth=s),
        seg.iou(p, y, smooth=s),
        seg.tversky(p, y, alpha=a, beta=b, smooth=s),
        seg.focal_tversky(p, y, alpha=a, beta=b, smooth=s),
    ):
        assert np.all(np.isfinite(terms.loss))
        assert np.all(terms.loss >= 0.0)
        assert np.all(terms.loss <= 1.0)


@settings(max_examples=60, deadline=None)
@given(y=MASKS)
def test_perfect_prediction_is_zero_without_smoothing(y) -> None:
    for fn in (seg.dice, seg.iou, seg.tversky, seg.focal_tversky):
        assert np.all(np.abs(fn(y, y, smooth=0.0).loss) <= 1e-12), fn.__name__
    # and with smoothing (the ratio is (Σy + s)/(Σy + s) for every hard mask)
    assert np.all(np.abs(seg.dice(y, y).loss) <= 1e-12)


@settings(max_examples=40, deadline=None)
@given(p=PROBS, y=MASKS, perm=st.permutations(range(3)))
def test_permutation_invariance_over_images(p, y, perm) -> None:
    idx = np.asarray(perm)
    for name in ("dice", "iou", "tversky", "focal_tversky", "dice_bce", "bce", "focal"):
        spec = SPEC[name]
        a = compute(spec, p, y, keep_per_row=True)
        b = compute(spec, p[idx], y[idx], keep_per_row=True)
        assert b.value == pytest.approx(a.value, rel=1e-12, abs=1e-15), name
        np.testing.assert_allclose(b.per_row, a.per_row[idx], rtol=1e-12, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(p=PROBS, y=MASKS)
def test_focal_gamma0_no_alpha_is_bce(p, y) -> None:
    a = seg.seg_focal(p, y, alpha=-1.0, gamma=0.0).loss
    np.testing.assert_allclose(a, seg.seg_bce(p, y).loss, rtol=1e-12, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(p=PROBS, y=MASKS, s=SMOOTH)
def test_dice_bce_is_sum_of_parts(p, y, s) -> None:
    total = seg.dice_bce(p, y, smooth=s).loss
    parts = seg.dice(p, y, smooth=s).loss + seg.seg_bce(p, y).loss
    np.testing.assert_allclose(total, parts, rtol=1e-13, atol=1e-15)


# --------------------------------------------------------------------------- compute path


def test_blocks_merge_to_the_in_memory_value(monkeypatch) -> None:
    rng = np.random.default_rng(7)
    p = rng.uniform(size=(37, 3, 50))
    y = (rng.uniform(size=p.shape) < 0.2).astype(float)
    for name in ("dice", "iou", "tversky", "focal_tversky", "dice_bce", "bce", "focal"):
        whole = compute(SPEC[name], p, y, keep_per_row=True)
        monkeypatch.setattr(compute_module, "BLOCK_ELEMENTS", 150 * 4)  # 4 images per block
        blocked = compute(SPEC[name], p, y, keep_per_row=True)
        monkeypatch.undo()
        assert blocked.value == pytest.approx(whole.value, rel=1e-13), name
        np.testing.assert_allclose(blocked.per_row, whole.per_row, rtol=1e-13)


def test_probability_domain_is_checked() -> None:
    pred = P1 + 0.5
    with pytest.raises(DataError, match="dice needs predictions in"):
        compute(SPEC["dice"], pred, Y1, context={"from_logits": False})
    result = compute(SPEC["dice"], pred, Y1, context={"from_logits": False}, strict=False)
    assert result.status == "not_applicable"
    # logits may take any value
    assert compute(SPEC["dice"], pred, Y1, context={"from_logits": True}).status == "ok"
    with pytest.raises(DataError, match="targets in"):
        compute(SPEC["dice"], P1, Y1 * 2, context={"from_logits": False})


# --------------------------------------------------------------------------- registry


def test_specs_cover_the_catalogue() -> None:
    assert set(SPEC) == {
        "dice",
        "iou",
        "tversky",
        "focal_tversky",
        "dice_bce",
        "bce",
        "focal",
        "generalized_dice",
        "cross_entropy",
    }
    for spec in SPECS:
        assert spec.tasks == ("segmentation",)
        assert spec.context == ("from_logits",)
        assert spec.summary and spec.formula and spec.when_to_use and spec.inputs
        assert spec.references and spec.oracle and spec.domains
        assert callable(spec.kernel())


def test_spec_defaults_follow_the_contract() -> None:
    monai = {
        "smooth_nr": "none",
        "smooth_dr": "none",
        "squared_pred": False,
        "include_background": True,
        "weight": "none",
        "activation": "sigmoid",
        "soft_label": False,
        "empty": "zero",
    }
    assert SPEC["dice"].defaults() == {"smooth": 1.0, **monai}
    assert SPEC["iou"].defaults() == {"smooth": 1.0, **monai}
    assert SPEC["tversky"].defaults() == {
        "alpha": 0.5,
        "beta": 0.5,
        "smooth": 1.0,
        "smooth_nr": "none",
        "smooth_dr": "none",
        "include_background": True,
        "activation": "sigmoid",
        "soft_label": False,
        "empty": "zero",
    }
    assert SPEC["focal_tversky"].defaults() == {
        "gamma": 0.75,
        "alpha": 0.5,
        "beta": 0.5,
        "smooth": 1.0,
    }
    assert SPEC["focal"].defaults() == {
        "alpha": 0.25,
        "gamma": 2.0,
        "label_smoothing": 0.0,
        "eps": "none",
        "activation": "sigmoid",
    }
    assert SPEC["bce"].defaults() == {
        "pos_weight": 1.0,
        "label_smoothing": 0.0,
        "eps": "none",
        "weight": "none",
    }
    assert "jaccard" in SPEC["iou"].aliases


@pytest.mark.parametrize("name", ["bce", "focal"])
def test_pixelwise_params_match_the_binary_losses(name) -> None:
    from dataclasses import astuple, replace

    from losscli.registry import get_spec

    def bare(spec):
        return [astuple(replace(p, help="")) for p in spec.params]

    seg = [p for p in bare(SPEC[name]) if p[0] != "activation"]  # softmax over channels
    assert seg == bare(get_spec(name, "binary"))
    assert get_spec(name, "segmentation") is SPEC[name]


def test_params_validate() -> None:
    from losscli.errors import UsageError

    assert resolve_params(SPEC["focal"], {"alpha": "-1"})["alpha"] == -1.0
    with pytest.raises(UsageError):
        resolve_params(SPEC["focal"], {"alpha": "1.5"})
    with pytest.raises(UsageError):
        resolve_params(SPEC["dice"], {"smooth": "-1"})
    with pytest.raises(UsageError):
        resolve_params(SPEC["focal_tversky"], {"gamma": "0"})
    assert resolve_params(SPEC["bce"], {"eps": "1e-7"})["eps"] == 1e-7
    assert resolve_params(SPEC["bce"], {"eps": "none"})["eps"] == "none"
    # every default and every validated value reaches the kernel
    p = np.array([[[0.3, 0.8]]])
    y = np.array([[[0.0, 1.0]]])
    for spec in SPECS:
        if spec.name == "cross_entropy":  # softmax over channels needs C ≥ 2
            continue
        shape = (1,) if spec.name == "generalized_dice" else (1, 1)  # one value per image
        assert spec.kernel()(p, y, **resolve_params(spec)).loss.shape == shape
