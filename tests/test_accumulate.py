"""Accumulators: chunked updates and merges give the one-piece result."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from losscli.accumulate import WorstK
from losscli.compute import LossAccumulator, compute, rowwise
from losscli.errors import DataError
from losscli.per_sample import PerSampleWriter
from losscli.registry import get_spec


def _chunks(n: int, size: int) -> list[slice]:
    return [slice(s, min(s + size, n)) for s in range(0, n, size)]


@pytest.mark.parametrize("name", ["mse", "rmse", "huber", "mae", "log_cosh"])
def test_chunked_updates_equal_one_update(name):
    rng = np.random.default_rng(0)
    t = rng.normal(size=1001)
    p = t + rng.normal(size=1001)
    spec = get_spec(name, "regression")
    whole = compute(spec, p, t).value
    acc = LossAccumulator(spec)
    for sl in _chunks(1001, 97):
        acc.update(p[sl], t[sl])
    assert acc.rows == 1001
    np.testing.assert_allclose(acc.finalize().value, whole, rtol=1e-12)


def test_merge_of_two_halves_equals_the_whole_with_sample_weights():
    rng = np.random.default_rng(1)
    t, p, w = rng.normal(size=500), rng.normal(size=500), rng.uniform(0, 2, size=500)
    spec = get_spec("mse", "regression")
    # weighted mean Σ w·e² / Σ w, by hand
    ref = float(np.sum(w * (p - t) ** 2) / np.sum(w))
    a, b = LossAccumulator(spec), LossAccumulator(spec)
    a.update(p[:200], t[:200], sample_weight=w[:200])
    b.update(p[200:], t[200:], sample_weight=w[200:])
    np.testing.assert_allclose(a.merge(b).finalize().value, ref, rtol=1e-12)


def test_domain_left_in_a_later_chunk_reports_the_global_range():
    spec = get_spec("msle", "regression")
    acc = LossAccumulator(spec, strict=False)
    acc.update(np.array([0.5, 1.0]), np.array([0.4, 1.1]))
    acc.update(np.array([-2.0, 3.0]), np.array([0.0, 1.0]))
    acc.update(np.array([-5.0]), np.array([0.0]))
    res = acc.finalize()
    assert res.status == "not_applicable"
    assert (
        res.reason
        == compute(spec, np.array([0.5, 1.0, -2.0, 3.0, -5.0]), np.zeros(5), strict=False).reason
    )
    assert "found -5" in res.reason


def test_strict_domain_miss_raises_at_the_chunk():
    acc = LossAccumulator(get_spec("msle", "regression"))
    acc.update(np.array([0.5]), np.array([0.5]))
    with pytest.raises(DataError, match="msle needs"):
        acc.update(np.array([-3.0]), np.array([0.5]))


def test_balanced_cross_entropy_is_rowwise_once_resolved():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(300, 3))
    y = rng.integers(0, 3, size=300)
    spec = get_spec("cross_entropy", "multiclass")
    assert not rowwise(spec, {"weight": "balanced"})
    assert rowwise(spec, {"weight": (1.0, 2.0, 3.0)})
    ctx = {"from_logits": True}
    whole = compute(spec, z, y, params={"weight": "balanced"}, context=ctx).value
    # torch F.cross_entropy(z, y, weight=w) with w_c = n/(C·count_c), by hand:
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    w = 300 / (3 * np.bincount(y, minlength=3))
    ref = np.sum(w[y] * -logp[np.arange(300), y]) / np.sum(w[y])
    np.testing.assert_allclose(whole, ref, rtol=1e-12)
    acc = LossAccumulator(spec, {"weight": "balanced"}, input_kind="logits")
    assert acc.needs_class_counts
    acc.set_class_counts(np.bincount(y, minlength=3))
    for sl in _chunks(300, 41):
        acc.update(z[sl], y[sl], context=ctx)
    res = acc.finalize()
    np.testing.assert_allclose(res.value, ref, rtol=1e-12)
    assert res.params["weight"] == "balanced"


def test_worst_k_keeps_largest_nan_first_and_file_order_on_ties():
    values = np.array([1.0, 5.0, np.nan, 5.0, 0.5, 5.0, 2.0, 7.0])
    tracker = WorstK(4)
    for sl in _chunks(values.size, 3):
        tracker.update(
            values[sl], sl.start, lambda idx, o=sl.start: [{"pos": o + int(i)} for i in idx]
        )
    # NaN ranks as +inf; then 7; then the 5s in file order (positions 1, 3)
    assert [r["pos"] for r in tracker.rows()] == [2, 7, 1, 3]


def test_worst_k_merge_equals_one_pass():
    rng = np.random.default_rng(3)
    v = rng.integers(0, 5, size=200).astype(float)
    one = WorstK(10)
    one.update(v, 0, lambda idx: [{"pos": int(i)} for i in idx])
    a, b = WorstK(10), WorstK(10)
    a.update(v[:120], 0, lambda idx: [{"pos": int(i)} for i in idx])
    b.update(v[120:], 0, lambda idx: [{"pos": 120 + int(i)} for i in idx])
    assert a.merge(b, 120).rows() == one.rows()
    expected = np.argsort(-v, kind="stable")[:10].tolist()
    assert [r["pos"] for r in one.rows()] == expected


def test_per_sample_writer_drops_columns_and_is_atomic(tmp_path: Path):
    out = tmp_path / "rows.csv"
    w = PerSampleWriter(out)
    w.write(np.array([2, 3]), None, {"mse": np.array([0.25, 1.0]), "msle": np.array([1.0, 2.0])})
    assert not out.exists()  # only the temporary file so far
    w.write(np.array([4]), None, {"mse": np.array([4.0]), "msle": np.array([math.nan])})
    w.close(keep=["mse"])
    rows = list(csv.reader(out.open()))
    assert rows == [["row", "mse"], ["2", "0.25"], ["3", "1.0"], ["4", "4.0"]]
    assert [p.name for p in tmp_path.iterdir()] == ["rows.csv"]


def test_per_sample_writer_abort_leaves_nothing(tmp_path: Path):
    w = PerSampleWriter(tmp_path / "rows.csv")
    w.write(np.array([2]), np.array(["a"], dtype=object), {"mae": np.array([0.5])})
    w.abort()
    assert list(tmp_path.iterdir()) == []
