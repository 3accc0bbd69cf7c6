"""The one implementation of each numeric rule (losscli.losses._numerics)."""

from __future__ import annotations

import numpy as np

from losscli.losses import _numerics as N


def test_sigmoid_is_torchs_form_and_never_overflows() -> None:
    x = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    got = N.sigmoid(x)
    # 1 / (1 + e^−x): e^800 overflows to inf and the reciprocal gives exactly 0 (torch too)
    assert got[0] == 0.0 and got[2] == 0.5 and got[4] == 1.0
    np.testing.assert_allclose(got[1], np.exp(-30.0) / (1.0 + np.exp(-30.0)), rtol=1e-15)
    assert N.sigmoid(x.astype(np.float32)).dtype == np.float32
    assert N.sigmoid(x.astype(np.float32), dtype=np.float64).dtype == np.float64
    assert N.sigmoid(np.array([0, 1])).dtype == np.float64  # integers become float64


def test_softmax_and_log_softmax_rows_agree_and_stay_finite() -> None:
    z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    p = N.softmax(z)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-15)
    m, lse = N.log_softmax_rows(z)
    np.testing.assert_allclose(np.exp(z - m[:, None] - lse[:, None]), p, rtol=1e-14, atol=0)
    assert p[0, 0] == 1.0 and p[0, 2] == 0.0
    # any axis: the class axis first gives the transposed result
    np.testing.assert_array_equal(N.softmax(z.T, axis=0), p.T)


def test_softplus_and_log_sigmoid_share_one_stable_step() -> None:
    x = np.array([-1000.0, -1.0, 0.0, 1.0, 1000.0])
    np.testing.assert_array_equal(N.log_sigmoid(x), -N.softplus(-x))
    assert N.softplus(np.array([1000.0]))[0] == 1000.0


def test_float_dtype_keeps_float32_only_when_every_input_is_float32() -> None:
    f32 = np.zeros(2, dtype=np.float32)
    assert N.float_dtype(f32, f32) == np.float32
    assert N.float_dtype(f32, np.zeros(2)) == np.float64
    assert N.float_dtype(np.zeros(2, dtype=np.int64)) == np.float64
