"""Regression kernels: known values, edge cases, identities and properties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from losscli.compute import compute
from losscli.errors import DataError, UsageError
from losscli.losses import regression as R
from losscli.losses._reduce import Terms, reduce_terms
from losscli.registry import family_specs, get_spec

SPECS = family_specs("regression")

NAMES = [s.name for s in SPECS]
#: Losses that are ≥ 0 and vanish at a perfect prediction (poisson_nll is an NLL without
#: its constant term: neither holds).
DISTANCE_LIKE = [n for n in NAMES if n != "poisson_nll"]


def value(name: str, pred: Any, target: Any, **kw: Any) -> float:
    result = compute(
        get_spec(name, "regression"), np.asarray(pred, float), np.asarray(target, float), **kw
    )
    assert result.value is not None
    return result.value


def kernel(name: str, pred: np.ndarray, target: np.ndarray, **params: Any) -> Terms:
    spec = get_spec(name, "regression")
    return spec.kernel()(pred, target, **{**spec.defaults(), **params})


# --------------------------------------------------------------------------- known values

# pred [1, 2, 3], target [1, 0, 5]: e = ŷ − y = [0, 2, −2].
P3, T3 = [1.0, 2.0, 3.0], [1.0, 0.0, 5.0]
# e = [0.5, −2, 3] (pred − target).
PE, TE = [0.5, -2.0, 3.0], [0.0, 0.0, 0.0]


@pytest.mark.parametrize(
    ("name", "pred", "target", "params", "expected"),
    [
        # e² = [0, 4, 4] → 8/3
        ("mse", P3, T3, {}, 8 / 3),
        # √(8/3)
        ("rmse", P3, T3, {}, math.sqrt(8 / 3)),
        # |e| = [0, 2, 2] → 4/3
        ("mae", P3, T3, {}, 4 / 3),
        # δ=1: [½·0.25, 1·(2 − ½), 1·(3 − ½)] = [0.125, 1.5, 2.5] → 4.125/3
        ("huber", PE, TE, {}, 4.125 / 3),
        # δ=2: [0.125, ½·4 (|e| = δ is quadratic), 2·(3 − 1)] = [0.125, 2, 4] → 6.125/3
        ("huber", PE, TE, {"delta": 2.0}, 6.125 / 3),
        # β=1: [½·0.25/1, 2 − ½, 3 − ½] → 4.125/3 (= huber δ=1)
        ("smooth_l1", PE, TE, {}, 4.125 / 3),
        # β=2: [½·0.25/2, 2 − 1 (|e| = β is linear), 3 − 1] = [0.0625, 1, 2] → 3.0625/3
        ("smooth_l1", PE, TE, {"beta": 2.0}, 3.0625 / 3),
        # β=0 is exactly L1: [0.5, 2, 3] → 5.5/3
        ("smooth_l1", PE, TE, {"beta": 0.0}, 5.5 / 3),
        # log cosh(0) = 0, log cosh(1) = log((e + 1/e)/2) = 0.4337808304830272
        ("log_cosh", [0.0, 1.0], [0.0, 0.0], {}, math.log((math.e + 1 / math.e) / 2) / 2),
        # d = y − ŷ = [2, −2]; q=0.5: [1, 1] → 1
        ("pinball", [0.0, 0.0], [2.0, -2.0], {}, 1.0),
        # q=0.9: [0.9·2, 0.1·2] = [1.8, 0.2] → 1.0; q=0.1: [0.2, 1.8] → 1.0
        ("pinball", [0.0, 0.0], [2.0, -2.0], {"quantile": 0.9}, 1.0),
        # only under-prediction, q=0.9: d = [4, 1] → [3.6, 0.9] → 2.25
        ("pinball", [0.0, 1.0], [4.0, 2.0], {"quantile": 0.9}, 2.25),
        # log1p(e−1) = 1, log1p(0) = 0; log1p(e²−1) = 2, log1p(e−1) = 1 → [1, 1] → 1
        ("msle", [math.expm1(1), math.expm1(2)], [0.0, math.expm1(1)], {}, 1.0),
        # |e|/|y| = [10/100, 10/100, 50/50] → 1.2/3 = 0.4
        ("mape", [110.0, 90.0, 0.0], [100.0, 100.0, -50.0], {}, 0.4),
        # ŷ − y·log(ŷ + 1e-8): [1 − 0, 2 − 2·log(2 + 1e-8)]
        ("poisson_nll", [1.0, 2.0], [0.0, 2.0], {}, (1.0 + 2.0 - 2.0 * math.log(2.0 + 1e-8)) / 2),
        # eps=0.5: [0 − 3·log(0.5)] (a zero rate with a positive count)
        ("poisson_nll", [0.0], [3.0], {"eps": 0.5}, -3.0 * math.log(0.5)),
    ],
)
def test_known_values(
    name: str, pred: list[float], target: list[float], params: dict[str, Any], expected: float
) -> None:
    assert value(name, pred, target, params=params) == pytest.approx(expected, rel=1e-12)


def test_multi_output_is_the_mean_over_all_elements() -> None:
    # e = [[1, 2], [3, 4]] → e² = [[1, 4], [9, 16]] → 30/4 (torch mean over all elements)
    pred = np.array([[1.0, 2.0], [3.0, 4.0]])
    terms = kernel("mse", pred, np.zeros((2, 2)))
    assert terms.loss.shape == (2, 2)
    assert value("mse", pred, np.zeros((2, 2))) == pytest.approx(7.5, rel=1e-15)


# --------------------------------------------------------------------------- edge cases


def test_log_cosh_does_not_overflow_for_huge_errors() -> None:
    # cosh overflows beyond |e| ≈ 710; log cosh(e) = |e| − log 2 there (to 1 ulp).
    e = np.array([700.0, -711.0, 1e4, -1e300])
    with np.errstate(all="raise"):
        out = kernel("log_cosh", e, np.zeros(4)).loss
    np.testing.assert_allclose(out, np.abs(e) - math.log(2.0), rtol=1e-15)


def test_log_cosh_is_accurate_for_tiny_errors() -> None:
    # log cosh(e) = e²/2 − e⁴/12 + …; at e = 1e-8 that is 5e-17 to 30 digits, which the
    # |e| + softplus(−2|e|) − log 2 form would lose to cancellation entirely.
    e = np.array([1e-8, -3e-5, 1e-3])
    out = kernel("log_cosh", e, np.zeros(3)).loss
    expected = e**2 / 2 - e**4 / 12 + e**6 / 45
    np.testing.assert_allclose(out, expected, rtol=1e-14)


def test_log_cosh_float32_huge_and_moderate() -> None:
    # float32 overflows sinh² near |e| ≈ 44: the kernel switches to |e| − log 2 there.
    e = np.array([0.5, 30.0, 50.0, 1e30], dtype=np.float32)
    with np.errstate(all="raise"):
        out = kernel("log_cosh", e, np.zeros(4, np.float32)).loss
    assert out.dtype == np.float32
    expected = [math.log(math.cosh(0.5)), 30 - math.log(2), 50 - math.log(2), 1e30]
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def test_smooth_l1_beta_zero_is_exact_l1() -> None:
    rng = np.random.default_rng(1)
    p, t = rng.normal(size=50), rng.normal(size=50)
    got = R.smooth_l1_elementwise(p, t, beta=0.0)
    np.testing.assert_array_equal(got, np.abs(p - t))


def test_smooth_l1_elementwise_keeps_box_shape() -> None:
    boxes = np.array([[0.0, 0.0, 10.0, 10.0], [1.0, 1.0, 2.0, 2.0]])
    shift = np.array([0.5, -2.0, 0.0, 1.0])
    got = R.smooth_l1_elementwise(boxes + shift, boxes, beta=1.0)
    assert isinstance(got, np.ndarray) and got.shape == (2, 4)
    np.testing.assert_allclose(got[0], [0.125, 1.5, 0.0, 0.5], rtol=1e-15)


def test_huber_matches_torch_branches_bit_for_bit() -> None:
    # torch: z < δ ? ½z² : δ(z − ½δ); the branch-free form rounds identically.
    rng = np.random.default_rng(2)
    e = rng.normal(scale=3.0, size=1000)
    for delta in (0.3, 1.0, 2.5):
        a = np.abs(e)
        expected = np.where(a < delta, 0.5 * a * a, delta * (a - 0.5 * delta))
        np.testing.assert_array_equal(
            kernel("huber", e, np.zeros_like(e), delta=delta).loss, expected
        )


def test_mape_notes_targets_below_eps() -> None:
    result = compute(get_spec("mape", "regression"), np.array([1.0, 2.0]), np.array([0.0, 2.0]))
    # |1 − 0| / eps = 2**52 = 4503599627370496; second row 0 → mean 2**51
    assert result.value == 2.0**51
    assert result.notes == [R.MAPE_NOTE]
    clean = compute(get_spec("mape", "regression"), np.array([1.0]), np.array([2.0]))
    assert clean.notes == []


def test_poisson_nll_zero_rate_and_zero_count_is_zero() -> None:
    # 0 − 0·log(0 + 1e-8) = 0; a zero rate with a count of 2 costs −2·log(1e-8) = 36.84…
    terms = kernel("poisson_nll", np.array([0.0, 0.0]), np.array([0.0, 2.0]))
    np.testing.assert_allclose(terms.loss, [0.0, -2.0 * math.log(1e-8)], rtol=1e-15)


@pytest.mark.parametrize("name", NAMES)
def test_float32_in_float32_out_close_to_float64(name: str) -> None:
    rng = np.random.default_rng(3)
    t = rng.uniform(0.5, 5.0, size=(200, 2))
    p = t + rng.normal(scale=0.5, size=t.shape)
    p = np.abs(p)  # inside every domain (msle, poisson_nll)
    t32, p32 = t.astype(np.float32), p.astype(np.float32)
    terms32 = kernel(name, p32, t32)
    assert terms32.loss.dtype == np.float32
    assert terms32.loss.shape == (200, 2)
    v64 = value(name, p32.astype(np.float64), t32.astype(np.float64))
    v32 = compute(get_spec(name, "regression"), p32, t32).value
    assert v32 == pytest.approx(v64, rel=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_integer_inputs_give_float64(name: str) -> None:
    terms = kernel(name, np.array([1, 2, 3]), np.array([1, 1, 5]))
    assert terms.loss.dtype == np.float64


@pytest.mark.parametrize("name", NAMES)
def test_empty_block(name: str) -> None:
    terms = kernel(name, np.zeros(0), np.zeros(0))
    assert terms.loss.shape == (0,)


@pytest.mark.parametrize("name", NAMES)
def test_kernels_do_not_modify_inputs(name: str) -> None:
    p = np.array([0.5, 2.0, 3.0])
    t = np.array([1.0, 0.0, 4.0])
    kernel(name, p, t)
    np.testing.assert_array_equal(p, [0.5, 2.0, 3.0])
    np.testing.assert_array_equal(t, [1.0, 0.0, 4.0])


# --------------------------------------------------------------------------- registry


def test_domains_are_checked_before_the_kernel() -> None:
    with pytest.raises(DataError, match="msle"):
        value("msle", [-1.0, 0.0], [0.0, 0.0])
    with pytest.raises(DataError, match="poisson_nll"):
        value("poisson_nll", [-0.1], [1.0])
    with pytest.raises(DataError):
        value("poisson_nll", [1.0], [-1.0])
    lenient = compute(
        get_spec("msle", "regression"), np.array([-2.0]), np.array([1.0]), strict=False
    )
    assert lenient.status == "not_applicable"
    assert lenient.reason is not None and "-1" in lenient.reason
    # Inside the domain: -0.5 is allowed for msle (log1p(-0.5) = -log 2), 0 for poisson_nll.
    assert value("msle", [-0.5], [0.0]) == pytest.approx(math.log(2.0) ** 2, rel=1e-15)
    assert value("poisson_nll", [0.0], [0.0]) == 0.0


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("huber", {"delta": "0"}),
        ("huber", {"delta": "-1"}),
        ("smooth_l1", {"beta": "-0.5"}),
        ("pinball", {"quantile": "1.5"}),
        ("pinball", {"quantile": "-0.1"}),
        ("poisson_nll", {"eps": "0"}),
        ("mse", {"delta": "1"}),
    ],
)
def test_bad_parameters_are_usage_errors(name: str, params: dict[str, str]) -> None:
    with pytest.raises(UsageError):
        value(name, [1.0], [2.0], params=params)


def test_parameters_from_the_command_line_strings() -> None:
    # "--param huber.delta=2": e = [0.5, −2, 3] → 6.125/3 as above
    assert value("huber", PE, TE, params={"delta": "2"}) == pytest.approx(6.125 / 3, rel=1e-15)
    assert value("pinball", [0.0], [1.0], params={"quantile": "0"}) == 0.0
    assert value("pinball", [0.0], [1.0], params={"quantile": "1"}) == 1.0


@pytest.mark.parametrize(
    ("alias", "name"),
    [
        ("l2", "mse"),
        ("mean_squared_error", "mse"),
        ("l1", "mae"),
        ("quantile", "pinball"),
        ("huber_loss", "huber"),
        ("logcosh", "log_cosh"),
        ("root_mean_squared_error", "rmse"),
        ("poisson", "poisson_nll"),
    ],
)
def test_aliases(alias: str, name: str) -> None:
    assert get_spec(alias, "regression").name == name


def test_specs_are_complete() -> None:
    for spec in SPECS:
        assert spec.tasks == ("regression",)
        assert spec.fn == f"losscli.losses.regression:{spec.name}"
        assert callable(spec.kernel())
        assert spec.summary and spec.formula and spec.when_to_use and spec.inputs
        assert spec.references and spec.oracle
        assert spec.decomposable
        assert "\n" not in spec.summary
    assert get_spec("rmse", "regression").finalize == "sqrt"
    assert {(s.name, p.name): p.default for s in SPECS for p in s.params} == {
        **{(n, "output_weights"): "none" for n in ("mse", "mae", "pinball", "msle", "mape")},
        ("huber", "delta"): 1.0,
        ("smooth_l1", "beta"): 1.0,
        ("pinball", "quantile"): 0.5,
        ("msle", "clip"): "none",
        ("mape", "eps"): float(np.finfo(np.float64).eps),
        ("mape", "percent"): False,
        ("poisson_nll", "eps"): 1e-8,
        ("poisson_nll", "log_input"): False,
        ("poisson_nll", "full"): False,
    }


# --------------------------------------------------------------------------- properties

finite = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
positive = st.floats(0.0, 1e3, allow_nan=False, allow_infinity=False)


@st.composite
def pairs(draw: st.DrawFn, elements: st.SearchStrategy[float] = finite) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(1, 40))
    shape = draw(st.sampled_from([(n,), (n, 3)]))
    p = draw(hnp.arrays(np.float64, shape, elements=elements))
    t = draw(hnp.arrays(np.float64, shape, elements=elements))
    return p, t


@settings(deadline=None, max_examples=60)
@given(data=pairs(positive), name=st.sampled_from(DISTANCE_LIKE))
def test_non_negative_and_zero_at_perfect_prediction(
    data: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    p, t = data
    assert np.all(kernel(name, p, t).loss >= 0.0)
    assert np.all(kernel(name, t, t).loss == 0.0)


@settings(deadline=None, max_examples=60)
@given(data=pairs(positive), name=st.sampled_from(NAMES), seed=st.integers(0, 2**32 - 1))
def test_permutation_invariance(data: tuple[np.ndarray, np.ndarray], name: str, seed: int) -> None:
    p, t = data
    perm = np.random.default_rng(seed).permutation(p.shape[0])
    assert value(name, p[perm], t[perm]) == pytest.approx(value(name, p, t), rel=1e-12, abs=1e-300)


@settings(deadline=None, max_examples=60)
@given(data=pairs(positive), name=st.sampled_from(NAMES))
def test_mean_is_sum_over_n(data: tuple[np.ndarray, np.ndarray], name: str) -> None:
    p, t = data
    terms = kernel(name, p, t)
    mean = reduce_terms(terms, reduction="mean")
    total = reduce_terms(terms, reduction="sum")
    # sum is over every element (torch's reduction="sum"), the mean over rows and outputs
    assert mean == pytest.approx(total / p.size, rel=1e-12, abs=1e-300)
    # compute through the registry runs the same kernel and reduction
    if name != "rmse":
        assert value(name, p, t) == pytest.approx(mean, rel=1e-12, abs=1e-300)


@settings(deadline=None, max_examples=80)
@given(data=pairs(), delta=st.floats(0.01, 100.0))
def test_huber_is_delta_times_smooth_l1(data: tuple[np.ndarray, np.ndarray], delta: float) -> None:
    p, t = data
    h = kernel("huber", p, t, delta=delta).loss
    s = kernel("smooth_l1", p, t, beta=delta).loss
    np.testing.assert_allclose(h, delta * s, rtol=1e-13, atol=1e-300)


@settings(deadline=None, max_examples=80)
@given(data=pairs())
def test_pinball_half_is_half_mae(data: tuple[np.ndarray, np.ndarray]) -> None:
    p, t = data
    np.testing.assert_array_equal(
        kernel("pinball", p, t, quantile=0.5).loss, 0.5 * kernel("mae", p, t).loss
    )


@settings(deadline=None, max_examples=80)
@given(data=pairs(), w=st.floats(0.1, 10.0))
def test_rmse_squared_is_mse(data: tuple[np.ndarray, np.ndarray], w: float) -> None:
    p, t = data
    weights = np.full(p.shape[0], w)
    rmse = value("rmse", p, t, sample_weight=weights)
    if p.ndim == 2 and p.shape[1] > 1:  # several outputs: √mse of each, averaged (SPEC §9)
        per_output = [value("mse", p[:, j], t[:, j]) ** 0.5 for j in range(p.shape[1])]
        assert rmse == pytest.approx(np.mean(per_output), rel=1e-12, abs=1e-300)
        return
    assert rmse**2 == pytest.approx(value("mse", p, t), rel=1e-12, abs=1e-300)


@settings(deadline=None, max_examples=80)
@given(data=pairs())
def test_log_cosh_is_between_its_asymptotes(data: tuple[np.ndarray, np.ndarray]) -> None:
    # |e| − log 2 ≤ log cosh(e) ≤ min(½e², |e|)
    p, t = data
    e = np.abs(p - t)
    lc = kernel("log_cosh", p, t).loss
    tol = 1e-12 * (1.0 + e)
    assert np.all(lc >= e - math.log(2.0) - tol)
    assert np.all(lc <= np.minimum(0.5 * e * e, e) + tol)


@settings(deadline=None, max_examples=60)
@given(data=pairs(), q=st.floats(0.0, 1.0))
def test_pinball_tilts_with_the_quantile(data: tuple[np.ndarray, np.ndarray], q: float) -> None:
    # pinball_q(y, ŷ) = pinball_{1−q}(ŷ, y): swapping roles mirrors the quantile.
    p, t = data
    np.testing.assert_allclose(
        kernel("pinball", p, t, quantile=q).loss,
        kernel("pinball", t, p, quantile=1.0 - q).loss,
        rtol=1e-12,
        atol=1e-9,
    )
