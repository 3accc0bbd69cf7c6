"""Embedding losses: known values, layouts, blockwise == brute force, properties, scale."""

from __future__ import annotations

import contextlib
import math
import time
import tracemalloc
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import losscli.losses.embedding as emb
from losscli.compute import compute
from losscli.losses._reduce import Terms, reduce_terms
from losscli.registry import canonical_name, family_specs, get_spec, resolve_params

SPECS = family_specs("embedding")

SPEC = {s.name: s for s in SPECS}


def _mean(t: Terms) -> float:
    return float(reduce_terms(t))


@contextlib.contextmanager
def _block(elements: int) -> Iterator[None]:
    """Temporarily force row blocks of ``elements`` pair entries."""
    old = emb.PAIR_BLOCK_ELEMENTS
    emb.PAIR_BLOCK_ELEMENTS = elements
    try:
        yield
    finally:
        emb.PAIR_BLOCK_ELEMENTS = old


# --------------------------------------------------------------------------- brute force


def _brute_pairs(x: np.ndarray, lab: np.ndarray, pair_loss) -> float:
    """Mean over i<j of pair_loss(x_i, x_j, same) with explicit Python loops."""
    vals = [
        pair_loss(x[i], x[j], lab[i] == lab[j]) for i in range(len(x)) for j in range(i + 1, len(x))
    ]
    return math.fsum(vals) / len(vals)


def _hadsell_pair(m: float):
    def f(a: np.ndarray, b: np.ndarray, same: bool) -> float:
        d = math.sqrt(math.fsum((a - b) ** 2))
        return 0.5 * d * d if same else 0.5 * max(0.0, m - d) ** 2

    return f


def _cosine_pair(m: float):
    def f(a: np.ndarray, b: np.ndarray, same: bool) -> float:
        cos = float(a @ b) / math.sqrt((float(a @ a) + 1e-12) * (float(b @ b) + 1e-12))
        return 1.0 - cos if same else max(0.0, cos - m)

    return f


def _tdist(a: np.ndarray, b: np.ndarray, eps: float) -> float:
    return math.sqrt(math.fsum((a - b + eps) ** 2))


def _brute_triplets(x: np.ndarray, lab: np.ndarray, m: float, eps: float, mining: str) -> float:
    n = len(x)
    vals: list[float] = []
    for a in range(n):
        pos = [j for j in range(n) if j != a and lab[j] == lab[a]]
        neg = [j for j in range(n) if lab[j] != lab[a]]
        if not pos or not neg:
            continue
        if mining == "hard":
            dp = max(_tdist(x[a], x[j], eps) for j in pos)
            dn = min(_tdist(x[a], x[j], eps) for j in neg)
            vals.append(max(0.0, dp - dn + m))
        else:
            for p in pos:
                dp = _tdist(x[a], x[p], eps)
                vals.extend(max(0.0, dp - _tdist(x[a], x[q], eps) + m) for q in neg)
    return math.fsum(vals) / len(vals) if vals else math.nan


# --------------------------------------------------------------------------- known values


def test_contrastive_distance_known_value() -> None:
    # rows: y=1, d=.5 → ½·.25 = .125; y=0, d=.5 → ½·(1−.5)² = .125; y=0, d=2 → 0; y=1, d=0 → 0
    t = emb.contrastive(
        np.array([0.5, 0.5, 2.0, 0.0]), np.array([1.0, 0.0, 0.0, 1.0]), layout="distance"
    )
    np.testing.assert_allclose(t.loss, [0.125, 0.125, 0.0, 0.0], rtol=0, atol=1e-15)
    assert _mean(t) == pytest.approx(0.0625, rel=1e-15)


def test_contrastive_pairs_known_value() -> None:
    # a = (0, 0), b = (3, 4): d = 5. Similar: ½·25 = 12.5. Dissimilar, m = 6: ½·(6 − 5)² = 0.5
    x = np.array([[0.0, 0.0, 3.0, 4.0], [0.0, 0.0, 3.0, 4.0]])
    t = emb.contrastive(x, np.array([1.0, 0.0]), margin=6.0, layout="pairs")
    np.testing.assert_allclose(t.loss, [12.5, 0.5], rtol=1e-15)


def test_contrastive_labels_known_value_and_row_terms() -> None:
    # x = 0, 1, 3 with labels a, a, b and m = 2.5:
    # (0,1) same, d=1 → ½; (0,2) diff, d=3 → ½·max(0, −.5)² = 0; (1,2) diff, d=2 → ½·.25 = .125
    # mean over the 3 pairs = .625/3; each row carries the mean of its 2 pairs with weight 1.
    x = np.array([[0.0], [1.0], [3.0]])
    t = emb.contrastive(x, np.array(["a", "a", "b"]), margin=2.5)
    np.testing.assert_allclose(t.loss, [0.25, 0.3125, 0.0625], rtol=1e-15)
    np.testing.assert_allclose(t.weight, [1.0, 1.0, 1.0])
    assert _mean(t) == pytest.approx(0.625 / 3, rel=1e-15)
    assert float(reduce_terms(t, reduction="sum")) == pytest.approx(0.625, rel=1e-15)


def test_triplet_explicit_known_values() -> None:
    # a = (0,0), p = (1,0), n = (0,2); eps = 0: d_ap = 1, d_an = 2
    row = np.array([[0.0, 0.0, 1.0, 0.0, 0.0, 2.0]])
    assert emb.triplet(row, margin=1.0, eps=0.0, layout="triplets").loss[0] == 0.0
    assert emb.triplet(row, margin=1.5, eps=0.0, layout="triplets").loss[0] == pytest.approx(0.5)
    # eps is added to each coordinate of the difference (torch). a = (0,0), p = (1,1),
    # n = (−2,−2): d_ap = ‖(−1+e, −1+e)‖ = √2(1 − e), d_an = ‖(2+e, 2+e)‖ = √2(2 + e);
    # m = 2 → 2 − √2 − 2√2·e, which differs from the eps = 0 value by 2.8e-6.
    row = np.array([[0.0, 0.0, 1.0, 1.0, -2.0, -2.0]])
    e = 1e-6
    got = emb.triplet(row, margin=2.0, layout="triplets").loss[0]
    assert got == pytest.approx(2 - math.sqrt(2) - 2 * math.sqrt(2) * e, rel=1e-14)
    plain = emb.triplet(row, margin=2.0, eps=0.0, layout="triplets").loss[0]
    assert plain == pytest.approx(2 - math.sqrt(2), rel=1e-15)


# 1-D points 0, 1 (class 0) and 4, 6 (class 1), eps = 0, m = 3.
LINE_X = np.array([[0.0], [1.0], [4.0], [6.0]])
LINE_Y = np.array([0, 0, 1, 1])


def test_batch_hard_known_value() -> None:
    # anchor 0: d_ap = 1, nearest negative 4 → max(0, 1 − 4 + 3) = 0
    # anchor 1: d_ap = 1, nearest negative 3 → 1
    # anchor 4: d_ap = 2, nearest negative 3 (x=1) → 2
    # anchor 6: d_ap = 2, nearest negative 5 → 0        mean = 3/4
    t = emb.triplet(LINE_X, LINE_Y, margin=3.0, eps=0.0)
    np.testing.assert_allclose(t.loss, [0.0, 1.0, 2.0, 0.0], atol=1e-15)
    assert _mean(t) == pytest.approx(0.75, rel=1e-15)


def test_all_triplets_known_value() -> None:
    # anchor 0: (1−4+3, 1−6+3) → 0, 0; anchor 1: (1−3+3, 1−5+3) → 1, 0
    # anchor 4: (2−4+3, 2−3+3) → 1, 2; anchor 6: (2−6+3, 2−5+3) → 0, 0   → 4 / 8 triplets
    t = emb.triplet(LINE_X, LINE_Y, margin=3.0, eps=0.0, mining="all")
    np.testing.assert_allclose(t.weight, [2.0, 2.0, 2.0, 2.0])
    np.testing.assert_allclose(t.loss, [0.0, 0.5, 1.5, 0.0], atol=1e-15)
    assert _mean(t) == pytest.approx(0.5, rel=1e-15)


def test_cosine_pairs_known_values() -> None:
    # (1,0)·(0,1): cos 0 → similar 1, dissimilar 0. (1,1)·(1,0): cos = 1/√2; m = .5 → 1/√2 − .5
    x = np.array([[1.0, 0.0, 0.0, 1.0], [1.0, 0.0, 0.0, 1.0], [1.0, 1.0, 1.0, 0.0]])
    t = emb.cosine_embedding(x, np.array([1.0, 0.0, 0.0]), margin=0.5, layout="pairs")
    np.testing.assert_allclose(t.loss, [1.0, 0.0, 1 / math.sqrt(2) - 0.5], rtol=1e-11)
    assert t.notes == []
    t2 = emb.cosine_embedding(x, np.array([1.0, -1.0, -1.0]), margin=0.5, layout="pairs")
    np.testing.assert_array_equal(t2.loss, t.loss)
    assert t2.notes == [emb.NOTE_NEGATIVE_TARGET]


def test_cosine_zero_vector_uses_torch_epsilon() -> None:
    # ‖a‖ = 0: cos = 0 / √(1e-12 · (1 + 1e-12)) = 0, so similar → 1, not NaN
    t = emb.cosine_embedding(np.array([[0.0, 0.0, 1.0, 0.0]]), np.array([1.0]), layout="pairs")
    assert t.loss[0] == 1.0


def test_contrastive_minus_one_targets_read_as_dissimilar() -> None:
    d = np.array([0.2, 0.4])
    a = emb.contrastive(d, np.array([1.0, -1.0]), layout="distance")
    b = emb.contrastive(d, np.array([1.0, 0.0]), layout="distance")
    np.testing.assert_array_equal(a.loss, b.loss)
    assert a.notes == [emb.NOTE_NEGATIVE_TARGET] and b.notes == []


# --------------------------------------------------------------------------- layouts, edges


@pytest.mark.parametrize(
    ("fn", "layout"),
    [
        (emb.cosine_embedding, "distance"),
        (emb.cosine_embedding, "triplets"),
        (emb.triplet, "pairs"),
        (emb.triplet, "distance"),
        (emb.contrastive, "triplets"),
    ],
)
def test_unsupported_layout_is_rejected(fn, layout) -> None:
    with pytest.raises(ValueError, match="layout"):
        fn(np.zeros((3, 6)), np.zeros(3), layout=layout)


def test_layout_table_matches_kernels() -> None:
    assert set(emb.LAYOUTS) == set(SPEC)
    for spec in SPECS:
        assert spec.context == ("layout",)
        for layout in emb.LAYOUTS[spec.name]:
            assert layout in spec.inputs


def test_pairs_need_an_even_width() -> None:
    with pytest.raises(ValueError, match="2 equal blocks"):
        emb.contrastive(np.zeros((2, 3)), np.zeros(2), layout="pairs")
    with pytest.raises(ValueError, match="3 equal blocks"):
        emb.triplet(np.zeros((2, 4)), layout="triplets")


def test_single_item_has_no_pairs() -> None:
    t = emb.contrastive(np.ones((1, 3)), np.array([0]))
    assert t.notes == [emb.NOTE_NO_PAIRS]
    res = compute(SPEC["contrastive"], np.ones((1, 3)), np.array([0]), context={"layout": "labels"})
    assert res.status == "non_finite"


def test_anchors_without_positive_or_negative_carry_no_weight() -> None:
    # labels 0, 0, 1: the class-1 item has no positive
    x = np.array([[0.0], [1.0], [5.0]])
    for mining in ("hard", "all"):
        t = emb.triplet(x, np.array([0, 0, 1]), mining=mining)
        assert t.weight[2] == 0.0 and t.weight[0] > 0
        assert t.notes == [emb.NOTE_ANCHORS_SKIPPED]
    # one class only: no negatives anywhere → no weight at all → NaN
    res = compute(SPEC["triplet"], x, np.zeros(3), context={"layout": "labels"})
    assert res.status == "non_finite"


def test_batch_hard_equals_triplet_layout_on_mined_triplets() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 5))
    lab = rng.integers(0, 4, 40)
    ip, iq, valid = emb.batch_hard_triplets(x, lab, eps=1e-6)
    rows = np.concatenate([x, x[ip], x[iq]], axis=1)[valid]
    explicit = emb.triplet(rows, layout="triplets")
    assert _mean(emb.triplet(x, lab)) == pytest.approx(_mean(explicit), rel=1e-13)


def test_near_duplicates_far_from_origin_stay_exact() -> None:
    # Gram identity alone: ‖a‖² ≈ 1e8, so d² of 1e-12 would be lost entirely.
    rng = np.random.default_rng(5)
    base = rng.normal(size=(6, 3)) + 1e4
    x = np.concatenate([base, base + 1e-6, base + rng.normal(scale=0.1, size=(6, 3))])
    lab = np.tile(np.arange(6), 3)
    for m in (0.05, 1.0):
        got = _mean(emb.contrastive(x, lab, margin=m))
        assert got == pytest.approx(_brute_pairs(x, lab, _hadsell_pair(m)), rel=1e-9)
    for mining in ("hard", "all"):
        got = _mean(emb.triplet(x, lab, mining=mining, margin=0.05))
        assert got == pytest.approx(_brute_triplets(x, lab, 0.05, 1e-6, mining), rel=1e-9)


def test_string_and_float_labels() -> None:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(15, 3))
    lab = rng.integers(0, 3, 15)
    a = _mean(emb.contrastive(x, lab))
    assert _mean(emb.contrastive(x, lab.astype(np.float64))) == a
    assert _mean(emb.contrastive(x, np.array(["c0", "c1", "c2"])[lab])) == a


# --------------------------------------------------------------------------- properties

embeddings = st.integers(2, 14).flatmap(
    lambda n: st.tuples(
        arrays(
            np.float64,
            st.tuples(st.just(n), st.integers(1, 4)),
            elements=st.floats(-3, 3, allow_nan=False, width=32),
        ),
        arrays(np.int64, st.just(n), elements=st.integers(0, 3)),
    )
)


@settings(max_examples=60, deadline=None)
@given(embeddings, st.floats(0.0, 4.0), st.integers(1, 40))
def test_blockwise_all_pairs_equal_brute_force(data, margin, block) -> None:
    x, lab = data
    with _block(block):
        con = emb.contrastive(x, lab, margin=margin)
        cos = emb.cosine_embedding(x, lab, margin=margin / 4 - 0.5)
    assert _mean(con) == pytest.approx(
        _brute_pairs(x, lab, _hadsell_pair(margin)), rel=1e-9, abs=1e-14
    )
    assert _mean(cos) == pytest.approx(
        _brute_pairs(x, lab, _cosine_pair(margin / 4 - 0.5)), rel=1e-9, abs=1e-12
    )
    assert np.all(con.loss >= 0)
    assert np.all(cos.loss >= -1e-15)
    n = len(x)
    # Σ w·l is the sum over pairs, Σ w the number of pairs
    assert con.weight.sum() == pytest.approx(n * (n - 1) / 2)


@settings(max_examples=60, deadline=None)
@given(embeddings, st.floats(0.0, 3.0), st.sampled_from([0.0, 1e-6, 1e-2]), st.integers(1, 40))
def test_mined_triplets_equal_brute_force(data, margin, eps, block) -> None:
    x, lab = data
    for mining in ("hard", "all"):
        with _block(block):
            t = emb.triplet(x, lab, margin=margin, eps=eps, mining=mining)
        expected = _brute_triplets(x, lab, margin, eps, mining)
        assert np.all(t.loss >= 0)
        if math.isnan(expected):
            assert t.weight.sum() == 0
        else:
            assert _mean(t) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(embeddings, st.randoms(use_true_random=False))
def test_permutation_of_rows_changes_nothing(data, rnd) -> None:
    x, lab = data
    perm = np.array(rnd.sample(range(len(x)), len(x)))
    for fn, kw in (
        (emb.contrastive, {}),
        (emb.cosine_embedding, {}),
        (emb.triplet, {"mining": "hard"}),
        (emb.triplet, {"mining": "all"}),
    ):
        a = fn(x, lab, **kw)
        b = fn(x[perm], lab[perm], **kw)
        # per-row terms follow their rows, so the mean (and the sum) do not move
        np.testing.assert_allclose(b.loss, a.loss[perm], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b.weight, a.weight[perm])


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 5),
    st.integers(2, 6),
    st.integers(1, 4),
    st.floats(0.0, 2.0),
    st.integers(0, 2**31 - 1),
)
def test_batch_hard_is_zero_for_classes_separated_beyond_the_margin(
    k, per, d, margin, seed
) -> None:
    # points within radius r of centres spaced S ≥ 4r + m + 1 apart: farthest positive ≤ 2r,
    # nearest negative ≥ S − 2r, so d_ap − d_an + m ≤ 4r + m − S < 0
    rng = np.random.default_rng(seed)
    r = 0.5
    spacing = 4 * r + margin + 1.0
    centres = np.zeros((k, d))
    centres[:, 0] = spacing * np.arange(k)
    offs = rng.normal(size=(k * per, d))
    offs *= r * rng.uniform(0, 1, (k * per, 1)) / np.linalg.norm(offs, axis=1, keepdims=True)
    lab = np.repeat(np.arange(k), per)
    x = centres[lab] + offs
    for mining in ("hard", "all"):
        t = emb.triplet(x, lab, margin=margin, mining=mining)
        assert np.all(t.loss == 0.0)
        assert np.all(t.weight > 0)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, (n, 6), elements=st.floats(-3, 3, allow_nan=False, width=32)),
            arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0])),
        )
    ),
)
def test_per_row_layouts_mean_is_sum_over_n(data) -> None:
    x, y = data
    n = len(x)
    dist = np.abs(x[:, 0])
    for name, pred, target, layout in (
        ("contrastive", dist, y, "distance"),
        ("contrastive", x, y, "pairs"),
        ("cosine_embedding", x, y, "pairs"),
        ("triplet", x, None, "triplets"),
    ):
        spec = SPEC[name]
        ctx = {"layout": layout}
        mean = compute(spec, pred, target, context=ctx).value
        total = compute(spec, pred, target, context=ctx, reduction="sum").value
        assert mean == pytest.approx(total / n, rel=1e-12, abs=1e-14)
        assert mean >= 0


def test_all_pairs_sum_is_the_sum_over_pairs() -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(25, 4))
    lab = rng.integers(0, 3, 25)
    spec = SPEC["contrastive"]
    mean = compute(spec, x, lab, context={"layout": "labels"}).value
    total = compute(spec, x, lab, context={"layout": "labels"}, reduction="sum").value
    assert total == pytest.approx(mean * 300, rel=1e-12)  # 25·24/2 pairs


def test_one_class_contrastive_is_total_sample_variance() -> None:
    # Σ_{i<j} ‖x_i − x_j‖² = n·Σ_i ‖x_i − x̄‖², so with one label the mean over the
    # n(n−1)/2 pairs of ½d² is Σ_i ‖x_i − x̄‖² / (n − 1): the summed sample variance.
    rng = np.random.default_rng(11)
    x = rng.normal(size=(3000, 16)) * rng.uniform(0.1, 3.0, 16) + 5.0
    got = _mean(emb.contrastive(x, np.zeros(3000)))
    assert got == pytest.approx(float(x.var(axis=0, ddof=1).sum()), rel=1e-10)


def test_one_class_cosine_matches_the_sum_identity() -> None:
    # cos_ij = u_i·u_j with u = x/√(‖x‖² + 1e-12), and Σ_{i<j} u_i·u_j = (‖Σu‖² − Σ‖u‖²)/2
    rng = np.random.default_rng(12)
    x = rng.normal(size=(3000, 8)) + 0.5
    u = x / np.sqrt((x * x).sum(1, keepdims=True) + 1e-12)
    s = u.sum(0)
    n = len(x)
    mean_cos = (s @ s - (u * u).sum()) / (n * (n - 1))
    got = _mean(emb.cosine_embedding(x, np.zeros(n)))
    assert got == pytest.approx(1.0 - mean_cos, rel=1e-10)


# --------------------------------------------------------------------------- scale


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "params"),
    [("contrastive", {}), ("triplet", {}), ("cosine_embedding", {})],
)
def test_twenty_thousand_items_in_bounded_memory(name, params) -> None:
    rng = np.random.default_rng(2026)
    x = rng.normal(size=(20_000, 16))
    lab = rng.integers(0, 10, 20_000)
    tracemalloc.start()
    start = time.process_time()
    try:
        res = compute(SPEC[name], x, lab, params=params, context={"layout": "labels"})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    cpu = time.process_time() - start  # CPU seconds: robust to a busy machine
    assert res.status == "ok" and res.value is not None and res.value > 0
    assert peak < 100 * 2**20, f"peak {peak / 2**20:.0f} MiB"
    assert cpu < 30, f"{cpu:.1f} CPU s"


@pytest.mark.slow
def test_all_triplets_twenty_thousand_items() -> None:
    rng = np.random.default_rng(2027)
    x = rng.normal(size=(20_000, 16))
    lab = rng.integers(0, 10, 20_000)
    res = compute(SPEC["triplet"], x, lab, params={"mining": "all"}, context={"layout": "labels"})
    assert res.status == "ok" and res.value is not None and res.value > 0


# --------------------------------------------------------------------------- registry


def test_specs_follow_the_catalogue() -> None:
    assert set(SPEC) == {"contrastive", "triplet", "cosine_embedding"}
    for spec in SPECS:
        assert spec.tasks == ("embedding",)
        assert spec.decomposable is False
        assert spec.formula and spec.summary and spec.when_to_use and spec.references
        assert spec.oracle
        assert callable(spec.kernel())
        assert get_spec(spec.name, "embedding") is spec
        for alias in spec.aliases:
            assert canonical_name(alias) == spec.name
    assert SPEC["contrastive"].defaults() == {
        "margin": 1.0,
        "form": "hadsell",
        "pos_margin": 0.0,
        "normalize": False,
        "reducer": "mean",
    }
    assert SPEC["triplet"].defaults() == {
        "margin": 1.0,
        "eps": 1e-6,
        "mining": "hard",
        "swap": False,
        "p": 2.0,
        "normalize": False,
        "reducer": "mean",
    }
    assert SPEC["cosine_embedding"].defaults() == {"margin": 0.0}
    assert SPEC["triplet"].param("mining").choices == ("hard", "all")
    assert "Hadsell" in " ".join(SPEC["contrastive"].references)
    assert any("FaceNet" in r for r in SPEC["triplet"].references)
    assert any("Hermans" in r for r in SPEC["triplet"].references)


def test_aliases_do_not_take_reserved_names() -> None:
    reserved = {
        "mse",
        "l2",
        "mae",
        "l1",
        "quantile",
        "kl",
        "jsd",
        "log_loss",
        "ce",
        "nll",
        "jaccard",
    }
    for spec in SPECS:
        assert not reserved & set(spec.aliases)


@pytest.mark.parametrize(
    ("loss", "key", "raw", "ok"),
    [
        ("contrastive", "margin", "-0.1", False),
        ("contrastive", "margin", "0", True),
        ("triplet", "mining", "semi", False),
        ("triplet", "mining", "ALL", True),
        ("triplet", "eps", "-1e-6", False),
        ("cosine_embedding", "margin", "-1", True),
        ("cosine_embedding", "margin", "1.5", False),
    ],
)
def test_param_ranges(loss, key, raw, ok) -> None:
    from losscli.errors import UsageError

    if ok:
        resolve_params(SPEC[loss], {key: raw})
    else:
        with pytest.raises(UsageError):
            resolve_params(SPEC[loss], {key: raw})
