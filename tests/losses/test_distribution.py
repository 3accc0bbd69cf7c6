"""Distribution kernels (Q = pred, P = target): known values, edge cases, properties."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from losscli.compute import compute
from losscli.errors import DataError
from losscli.losses import distribution as D
from losscli.losses._reduce import Terms, reduce_terms
from losscli.registry import family_specs, get_spec

SPECS = family_specs("distribution")

NAMES = [s.name for s in SPECS]
LN2 = math.log(2.0)


def run(name: str, q: Any, p: Any, **kw: Any):
    return compute(
        get_spec(name, "distribution"),
        np.asarray(q, dtype=kw.pop("dtype", np.float64)),
        np.asarray(p, dtype=np.float64),
        **kw,
    )


def value(name: str, q: Any, p: Any, **kw: Any) -> float:
    result = run(name, q, p, **kw)
    assert result.value is not None
    return result.value


def kernel(name: str, q: np.ndarray, p: np.ndarray) -> Terms:
    return get_spec(name, "distribution").kernel()(q, p)


# --------------------------------------------------------------------------- known values


@pytest.mark.parametrize(
    ("name", "q", "p", "expected"),
    [
        # ½·log(0.5/0.25) + ½·log(0.5/0.75) = ½·log(4/3)
        ("kl_div", [[0.25, 0.75]], [[0.5, 0.5]], 0.5 * math.log(4 / 3)),
        # P = [1, 0]: 1·log(1/0.5) + 0 (0·log 0 = 0) = log 2
        ("kl_div", [[0.5, 0.5]], [[1.0, 0.0]], LN2),
        # two rows, batchmean: (½·log(4/3) + log 2)/2
        (
            "kl_div",
            [[0.25, 0.75], [0.5, 0.5]],
            [[0.5, 0.5], [1.0, 0.0]],
            (0.5 * math.log(4 / 3) + LN2) / 2,
        ),
        # disjoint supports: M = [½, ½], ½·log 2 + ½·log 2 = log 2 (the maximum)
        ("js_div", [[0.0, 1.0]], [[1.0, 0.0]], LN2),
        # P = [1, 0], Q = [½, ½], M = [¾, ¼]: ½·log(4/3) + ½·(½·log(2/3) + ½·log 2)
        #   = ½·log(4/3) + ¼·log(4/3) = ¾·log(4/3)
        ("js_div", [[0.5, 0.5]], [[1.0, 0.0]], 0.75 * math.log(4 / 3)),
        # −(½·log ¼ + ½·log ¾) = ½·log(16/3) = H(P) + KL = log 2 + ½·log(4/3)
        ("cross_entropy", [[0.25, 0.75]], [[0.5, 0.5]], 0.5 * math.log(16 / 3)),
        # one-hot P picks −log Q_y: −log 0.2
        ("cross_entropy", [[0.2, 0.3, 0.5]], [[1.0, 0.0, 0.0]], -math.log(0.2)),
    ],
)
def test_known_values(name: str, q: list, p: list, expected: float) -> None:
    assert value(name, q, p) == pytest.approx(expected, rel=1e-14)


def test_loss_is_one_value_per_row() -> None:
    q = np.full((4, 5), 0.2)
    p = np.eye(5)[:4]
    for name in NAMES:
        terms = kernel(name, q, p)
        assert terms.loss.shape == (4,)


# --------------------------------------------------------------------------- edge cases


def test_kl_zero_in_both_counts_as_zero_with_a_note() -> None:
    # P = Q = [1, 0]: 1·log 1 + 0·log(0/0) → 0 (PyTorch gives NaN for the second term)
    result = run("kl_div", [[1.0, 0.0]], [[1.0, 0.0]])
    assert result.value == 0.0
    assert result.notes == [D.KL_ZERO_NOTE]
    assert run("kl_div", [[0.5, 0.5]], [[1.0, 0.0]]).notes == []


def test_kl_zero_mass_in_q_where_p_has_mass_is_infinite() -> None:
    # ½·log(½/0) = +inf, as torch.nn.functional.kl_div(log Q, P) gives
    result = run("kl_div", [[1.0, 0.0]], [[0.5, 0.5]])
    assert result.status == "non_finite"
    assert result.value == math.inf


def test_kl_subnormal_q_does_not_overflow_the_ratio() -> None:
    # 0.5/5e-324 overflows; ½·(log ½ − log 5e-324) + ½·log(½/1) is finite (≈ 371.5)
    q = np.array([[5e-324, 1.0]])
    p = np.array([[0.5, 0.5]])
    expected = 0.5 * (math.log(0.5) - math.log(5e-324)) + 0.5 * math.log(0.5)
    assert value("kl_div", q, p) == pytest.approx(expected, rel=1e-14)
    q32 = np.array([[1e-40, 1.0]], dtype=np.float32)  # float32 subnormal
    p32 = np.array([[0.5, 0.5]], dtype=np.float32)
    expected32 = 0.5 * (math.log(0.5) - math.log(float(q32[0, 0]))) + 0.5 * math.log(0.5)
    assert float(kernel("kl_div", q32, p32).loss[0]) == pytest.approx(expected32, rel=1e-6)


def test_js_is_finite_with_zeros_anywhere() -> None:
    q = np.array([[0.0, 0.0, 1.0], [0.5, 0.5, 0.0]])
    p = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    rows = kernel("js_div", q, p).loss
    # disjoint supports → log 2; identical rows with a shared zero → 0
    np.testing.assert_allclose(rows, [LN2, 0.0], atol=1e-16)


def test_cross_entropy_clamps_log_zero_at_minus_100_with_a_note() -> None:
    # −1·max(log 0, −100) = 100
    result = run("cross_entropy", [[0.0, 1.0]], [[1.0, 0.0]])
    assert result.value == 100.0
    assert result.notes == [D.CE_CLAMP_NOTE]
    # Q = 1e-50 < e^−100 ≈ 3.7e-44: also 100
    assert value("cross_entropy", [[1e-50, 1.0 - 1e-50]], [[1.0, 0.0]]) == 100.0


def test_cross_entropy_no_note_when_the_clamp_meets_zero_mass() -> None:
    # Q_0 = 0 but P_0 = 0: the term is 0 either way; −log 1 = 0 for the rest
    result = run("cross_entropy", [[0.0, 1.0]], [[0.0, 1.0]])
    assert result.value == 0.0
    assert result.notes == []


@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32_and_close(name: str) -> None:
    rng = np.random.default_rng(4)
    q = rng.dirichlet(np.ones(6), size=100)
    p = rng.dirichlet(np.ones(6), size=100)
    q32, p32 = q.astype(np.float32), p.astype(np.float32)
    terms = kernel(name, q32, p32)
    assert terms.loss.dtype == np.float32
    v32 = compute(get_spec(name, "distribution"), q32, p32).value
    v64 = value(name, q32.astype(np.float64), p32.astype(np.float64))
    assert v32 == pytest.approx(v64, rel=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_kernels_do_not_modify_inputs(name: str) -> None:
    q = np.array([[0.0, 0.25, 0.75]])
    p = np.array([[0.5, 0.0, 0.5]])
    kernel(name, q, p)
    np.testing.assert_array_equal(q, [[0.0, 0.25, 0.75]])
    np.testing.assert_array_equal(p, [[0.5, 0.0, 0.5]])


# --------------------------------------------------------------------------- registry


def test_domain_is_probabilities() -> None:
    for name in NAMES:
        with pytest.raises(DataError, match=name):
            value(name, [[1.5, -0.5]], [[0.5, 0.5]])
        with pytest.raises(DataError):
            value(name, [[0.5, 0.5]], [[2.0, -1.0]])


@pytest.mark.parametrize(
    ("alias", "name"),
    [("kl", "kl_div"), ("kl_divergence", "kl_div"), ("jsd", "js_div"), ("js", "js_div")],
)
def test_aliases(alias: str, name: str) -> None:
    assert get_spec(alias, "distribution").name == name


def test_specs_are_complete() -> None:
    for spec in SPECS:
        assert spec.tasks == ("distribution",)
        assert spec.fn == f"losscli.losses.distribution:{spec.name}"
        assert callable(spec.kernel())
        assert spec.summary and spec.formula and spec.when_to_use and spec.inputs
        assert spec.references and spec.oracle
        assert {d.input for d in spec.domains} == {"pred", "target"}
        assert [p.name for p in spec.params] == {
            "kl_div": ["reduction", "input", "clip"],
            "cross_entropy": ["input"],
        }.get(spec.name, [])
    assert get_spec("cross_entropy", "distribution").fn.endswith("distribution:cross_entropy")


# --------------------------------------------------------------------------- properties


@st.composite
def simplex_rows(draw: st.DrawFn, n: int, c: int) -> np.ndarray:
    """n rows on the probability simplex over c classes, zeros allowed."""
    raw = draw(
        hnp.arrays(
            np.float64,
            (n, c),
            elements=st.one_of(st.just(0.0), st.floats(1e-6, 1.0)),
        )
    )
    raw[:, 0] += (raw.sum(axis=1) == 0).astype(float)  # at least one positive per row
    return raw / raw.sum(axis=1, keepdims=True)


@st.composite
def two_distributions(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    n = draw(st.integers(1, 20))
    c = draw(st.integers(2, 8))
    return draw(simplex_rows(n, c)), draw(simplex_rows(n, c))


def _positive(q: np.ndarray) -> np.ndarray:
    """Mix with the uniform distribution so every entry is > 0 (KL stays finite)."""
    return 0.9 * q + 0.1 / q.shape[1]


@settings(deadline=None, max_examples=80)
@given(two_distributions())
def test_kl_non_negative_and_zero_for_equal_rows(pq: tuple[np.ndarray, np.ndarray]) -> None:
    q, p = pq
    q = _positive(q)
    assert np.all(kernel("kl_div", q, p).loss >= -1e-12)
    np.testing.assert_allclose(kernel("kl_div", p, p).loss, 0.0, atol=1e-15)


@settings(deadline=None, max_examples=80)
@given(two_distributions())
def test_js_symmetric_bounded_and_zero_for_equal_rows(pq: tuple[np.ndarray, np.ndarray]) -> None:
    q, p = pq
    ab = kernel("js_div", q, p).loss
    ba = kernel("js_div", p, q).loss
    np.testing.assert_array_equal(ab, ba)
    assert np.all(ab >= 0.0) and np.all(ab <= LN2)
    np.testing.assert_allclose(kernel("js_div", p, p).loss, 0.0, atol=1e-15)


@settings(deadline=None, max_examples=80)
@given(two_distributions())
def test_cross_entropy_is_entropy_plus_kl(pq: tuple[np.ndarray, np.ndarray]) -> None:
    # H(P, Q) = H(P) + KL(P ‖ Q) for Q > 0
    q, p = pq
    q = _positive(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = -np.where(p > 0, p * np.log(p), 0.0).sum(axis=1)
    ce = kernel("cross_entropy", q, p).loss
    kl = kernel("kl_div", q, p).loss
    np.testing.assert_allclose(ce, entropy + kl, rtol=1e-12, atol=1e-12)


@settings(deadline=None, max_examples=60)
@given(pq=two_distributions(), name=st.sampled_from(NAMES), seed=st.integers(0, 2**32 - 1))
def test_permutation_invariance_of_rows_and_classes(
    pq: tuple[np.ndarray, np.ndarray], name: str, seed: int
) -> None:
    q, p = pq
    q = _positive(q)
    rng = np.random.default_rng(seed)
    rows = rng.permutation(q.shape[0])
    cols = rng.permutation(q.shape[1])
    base = value(name, q, p)
    assert value(name, q[rows], p[rows]) == pytest.approx(base, rel=1e-12, abs=1e-15)
    assert value(name, q[:, cols], p[:, cols]) == pytest.approx(base, rel=1e-12, abs=1e-15)


@settings(deadline=None, max_examples=60)
@given(pq=two_distributions(), name=st.sampled_from(NAMES))
def test_mean_is_sum_over_n_and_compute_agrees(
    pq: tuple[np.ndarray, np.ndarray], name: str
) -> None:
    q, p = pq
    q = _positive(q)
    terms = kernel(name, q, p)
    mean = reduce_terms(terms, reduction="mean")
    assert mean == pytest.approx(reduce_terms(terms, reduction="sum") / q.shape[0], rel=1e-12)
    assert value(name, q, p) == pytest.approx(mean, rel=1e-12, abs=1e-300)
