"""The paired Poisson bootstrap (losscli.bootstrap): counts, replicate formula, coverage."""

from __future__ import annotations

import math

import numpy as np
import pytest

from losscli.bootstrap import (
    BLOCK_ELEMENTS,
    percentile_interval,
    poisson_counts,
    replicate_means,
)

#: Poisson(1) CDF at k = 0..8, computed here from the pmf e^-1 / k!.
_CDF = [sum(math.exp(-1.0) / math.factorial(j) for j in range(k + 1)) for k in range(9)]


def _count_of(draw: int) -> int:
    """Inverse-CDF count of one uniform 16-bit draw, by a plain loop: the number of
    quantised CDF edges round(F(k)·2^16) that the draw reaches."""
    return sum(1 for f in _CDF if round(f * 65536) < 65536 and draw >= round(f * 65536))


def test_poisson_counts_of_every_16_bit_draw_match_the_loop():
    draws = np.arange(1 << 16, dtype=np.uint16)
    counts = poisson_counts(draws)
    assert counts.dtype == np.float64
    expected = np.array([_count_of(int(d)) for d in range(0, 1 << 16, 97)], dtype=np.float64)
    np.testing.assert_array_equal(counts[::97], expected)
    # over all 2^16 equally likely draws: the quantised distribution itself
    pmf = np.bincount(counts.astype(np.int64)) / (1 << 16)
    exact = np.array([math.exp(-1.0) / math.factorial(k) for k in range(pmf.size)])
    np.testing.assert_allclose(pmf[:6], exact[:6], atol=1 / (1 << 16))
    ks = np.arange(pmf.size)
    mean = float((ks * pmf).sum())
    var = float((ks**2 * pmf).sum()) - mean**2
    assert abs(mean - 1.0) < 1e-4 and abs(var - 1.0) < 1e-3


def test_poisson_counts_have_mean_and_variance_one():
    rng = np.random.default_rng(12)
    counts = poisson_counts(rng.integers(0, 1 << 16, size=1_000_000, dtype=np.uint16))
    # standard error of the mean is 1e-3 and of the variance ≈ 1.7e-3 at n = 1e6
    assert abs(counts.mean() - 1.0) < 0.005
    assert abs(counts.var() - 1.0) < 0.01
    assert abs((counts == 0).mean() - math.exp(-1.0)) < 0.002
    assert counts.min() == 0 and counts.max() <= 9


def test_weighted_replicates_equal_a_brute_force_loop():
    """Σ c·w·l / Σ c·w per replicate and column, recomputed with Python loops from the
    same uniform draws (one block: the generator is used exactly once)."""
    n, k, n_boot, seed = 7, 3, 25, 99
    rng = np.random.default_rng(0)
    losses = rng.normal(size=(n, k))
    weights = rng.uniform(0.1, 2.0, size=(n, k))
    got = replicate_means(losses, weights, n_boot=n_boot, seed=seed)
    assert got.shape == (n_boot, k)
    draws = np.random.default_rng(seed).integers(0, 1 << 16, size=(n_boot, n), dtype=np.uint16)
    for b in range(n_boot):
        counts = [_count_of(int(d)) for d in draws[b]]
        for j in range(k):
            num = sum(counts[i] * weights[i, j] * losses[i, j] for i in range(n))
            den = sum(counts[i] * weights[i, j] for i in range(n))
            want = num / den if den > 0 else math.nan
            if math.isnan(want):
                assert math.isnan(got[b, j])
            else:
                assert math.isclose(got[b, j], want, rel_tol=1e-12, abs_tol=1e-15)


def test_unweighted_equals_unit_weights_and_one_dimensional_weights():
    rng = np.random.default_rng(4)
    losses = rng.exponential(size=(50, 2))
    a = replicate_means(losses, None, n_boot=40, seed=3)
    b = replicate_means(losses, np.ones((50, 2)), n_boot=40, seed=3)
    np.testing.assert_allclose(a, b, rtol=1e-12)
    w = rng.uniform(0, 1, 50)
    c = replicate_means(losses, w, n_boot=40, seed=3)
    d = replicate_means(losses, np.stack([w, w], axis=1), n_boot=40, seed=3)
    np.testing.assert_allclose(c, d, rtol=1e-12)


def test_replicates_are_paired_across_columns():
    """The same counts for every column: identical columns give identical replicates, and
    a constant shift of one column shifts every replicate by exactly that constant."""
    x = np.random.default_rng(8).normal(size=300)
    reps = replicate_means(np.stack([x, x, x + 2.5], axis=1), n_boot=100, seed=0)
    np.testing.assert_array_equal(reps[:, 0], reps[:, 1])
    np.testing.assert_allclose(reps[:, 2] - reps[:, 0], 2.5, rtol=1e-12)


def test_many_blocks_give_the_same_distribution_as_one():
    """Rows beyond one block draw fresh counts: a constant column stays constant."""
    n_boot = 8
    n = BLOCK_ELEMENTS // n_boot * 2 + 5  # three blocks
    reps = replicate_means(np.full(n, 3.0), n_boot=n_boot, seed=1)
    np.testing.assert_allclose(reps, 3.0, rtol=1e-12)


def test_percentile_interval_of_known_replicates():
    reps = np.arange(101, dtype=np.float64)[:, None]
    lo, hi = percentile_interval(reps)[:, 0]
    # numpy's linear interpolation between order statistics: 0.025·100 = 2.5
    np.testing.assert_allclose([lo, hi], [2.5, 97.5], rtol=1e-12)
    with_nan = np.concatenate([reps, [[np.nan]]])
    np.testing.assert_array_equal(percentile_interval(with_nan), percentile_interval(reps))


def test_interval_coverage_for_the_mean_of_normal_data():
    """400 seeded data sets of n = 200 draws from N(0, 1), 400 replicates each: the 95%
    percentile interval holds the true mean 0 in 90–98% of them."""
    data_rng = np.random.default_rng(20240601)
    hits = 0
    for i in range(400):
        x = data_rng.normal(0.0, 1.0, 200)
        reps = replicate_means(x, n_boot=400, seed=i)
        lo, hi = percentile_interval(reps)[:, 0]
        hits += bool(lo <= 0.0 <= hi)
    # the percentile interval covers ≈ 0.94 here (3000 data sets: 0.941; the multinomial
    # bootstrap 0.945); the binomial standard error of 400 data sets is 0.012
    coverage = hits / 400
    assert 0.90 <= coverage <= 0.98, coverage


@pytest.mark.slow
def test_a_million_rows_times_100_replicates_runs():
    """Timing-free (about 0.6 s here): the blocked product handles 1e6 rows."""
    x = np.random.default_rng(0).exponential(size=1_000_000)
    reps = replicate_means(x, n_boot=100, seed=0)
    assert reps.shape == (100, 1) and np.isfinite(reps).all()
    # replicate means of 1e6 rows scatter by sd/√n ≈ 1e-3 around the sample mean
    assert np.abs(reps - x.mean()).max() < 0.01
    assert 1e-4 < reps.std() < 3e-3
