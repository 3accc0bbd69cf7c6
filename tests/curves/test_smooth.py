"""--smooth is TensorBoard's scalar smoothing: its own test cases, ported.

Provenance: tensorflow/tensorboard, tensorboard/webapp/widgets/line_chart_v2/
data_transformer_test.ts (``classicSmoothing``); each case below keeps the name and the
expected values of the TypeScript test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from losscli.curves.smooth import tensorboard_smooth

S1 = [1.0, 0.5, 0.0]
S2 = [0.0, 0.5, 1.0]


def close(a, b) -> None:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    same_nan = np.isnan(a) == np.isnan(b)
    assert same_nan.all()
    ok = ~np.isnan(a)
    np.testing.assert_allclose(a[ok], b[ok], rtol=0, atol=1e-9)


def test_smoothes_data_series() -> None:
    close(
        tensorboard_smooth(S1, 0.6),
        [1.0, 0.6875, ((0.5 * 0.4 + 0.4 * 1 * 0.6) * 0.6 + 0) / (1 - 0.6**3)],
    )
    close(
        tensorboard_smooth(S2, 0.6),
        [0.0, 0.3125, (1 * 0.4 + 0.5 * 0.4 * 0.6) / (1 - 0.6**3)],
    )
    assert tensorboard_smooth([], 0.6).size == 0


def test_does_not_smooth_at_all_when_weight_is_0() -> None:
    close(tensorboard_smooth(S1, 0.0), S1)
    close(tensorboard_smooth(S2, 0.0), S2)


def test_omits_not_finite_values_in_smoothing() -> None:
    got = tensorboard_smooth([-math.inf, 1.0, math.nan, math.inf, 0.5], 0.6)
    assert got[0] == -math.inf and got[3] == math.inf and math.isnan(got[2])
    close(got[[1, 4]], [1.0, 0.6875])


def test_returns_0_when_smoothing_weight_is_1() -> None:
    close(tensorboard_smooth(S1, 1.0), [0.0, 0.0, 0.0])


def test_does_not_inject_floating_point_noise_when_numbers_are_constant() -> None:
    got = tensorboard_smooth([0.3, 0.3, 0.3], 0.1)
    assert got.tolist() == [0.3, 0.3, 0.3]


@pytest.mark.parametrize("w", [math.nan, -1.0, -math.inf, math.inf])
def test_clips_smoothing_weight_to_0(w: float) -> None:
    # TensorBoard sets a non-finite weight to 0 before clipping, so +inf is 0 too
    close(tensorboard_smooth([1.0, 0.5], w), [1.0, 0.5])


def test_clips_smoothing_weight_larger_than_1_to_1() -> None:
    close(tensorboard_smooth([1.0, 0.5], 2.0), [0.0, 0.0])


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=30),
    st.floats(0.0, 0.99),
)
def test_debiased_ema_matches_the_closed_form(ys: list[float], w: float) -> None:
    """Point t of the debiased EMA is Σ (1−w)·w^(t−k)·y_k / (1 − w^(t+1))."""
    if all(y == ys[0] for y in ys):
        return
    got = tensorboard_smooth(ys, w)
    y = np.asarray(ys)
    for t in range(len(ys)):
        k = np.arange(t + 1)
        want = np.sum((1 - w) * w ** (t - k) * y[: t + 1]) / (1 - w ** (t + 1))
        assert got[t] == pytest.approx(want, rel=1e-9, abs=1e-6)
