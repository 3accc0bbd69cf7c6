"""VAE and GAN losses and the L1/L2 weight penalties: known values, identities, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import losscli.losses.generative as gen
from losscli.compute import compute
from losscli.losses._reduce import reduce_terms
from losscli.losses.regularization import l1_penalty, l2_penalty
from losscli.registry import canonical_name, family_specs, get_spec, resolve_params

SPECS = family_specs("generative")

SPEC = {s.name: s for s in SPECS}
GANS = ("gan_d", "gan_g", "hinge_d", "hinge_g", "wgan_d", "wgan_g", "lsgan_d", "lsgan_g")


def _mean(t) -> float:
    return float(reduce_terms(t))


# --------------------------------------------------------------------------- VAE known values

# One row: x̂ = (0.5, 0.25), x = (1, 0); μ = (1, 0), logvar = (0, log 2).
VX_HAT = np.array([[0.5, 0.25]])
VX = np.array([[1.0, 0.0]])
VMU = np.array([[1.0, 0.0]])
VLV = np.array([[0.0, math.log(2.0)]])
# BCE sum = −log 0.5 − log 0.75 = log(8/3)
BCE = math.log(8.0 / 3.0)
# KL = ½Σ(μ² + e^lv − 1 − lv) = ½[(1 + 1 − 1 − 0) + (0 + 2 − 1 − log 2)] = 1 − ½ log 2
KL = 1.0 - 0.5 * math.log(2.0)
# MSE sum = (0.5 − 1)² + 0.25² = 0.3125
MSE = 0.3125


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, BCE + KL),
        ({"beta": 0.0}, BCE),
        ({"beta": 4.0}, BCE + 4.0 * KL),
        ({"recon": "mse"}, MSE + KL),
        ({"recon": "mse", "beta": 0.5}, MSE + 0.5 * KL),
    ],
)
def test_vae_known_values(params, expected) -> None:
    t = gen.vae(VX_HAT, VX, mu=VMU, logvar=VLV, **params)
    assert t.loss.shape == (1,)
    assert t.loss[0] == pytest.approx(expected, rel=1e-14)
    assert t.notes == []


def test_kl_is_zero_at_the_prior() -> None:
    z = np.zeros((5, 3))
    np.testing.assert_array_equal(gen.kl_standard_normal(z, z), np.zeros(5))
    # and the VAE loss is then the reconstruction alone
    x = np.full((5, 4), 0.5)
    t = gen.vae(x, x, mu=z, logvar=z, beta=3.0)
    np.testing.assert_allclose(t.loss, 4 * math.log(2.0), rtol=1e-15)


@settings(max_examples=100, deadline=None)
@given(
    arrays(np.float64, (6, 3), elements=st.floats(-20, 20, allow_nan=False)),
    arrays(np.float64, (6, 3), elements=st.floats(-20, 8, allow_nan=False)),
)
def test_kl_is_non_negative_and_matches_the_textbook_form(mu, logvar) -> None:
    kl = gen.kl_standard_normal(mu, logvar)
    assert np.all(kl >= 0)
    textbook = -0.5 * np.sum(1 + logvar - mu**2 - np.exp(logvar), axis=1)
    np.testing.assert_allclose(kl, textbook, rtol=1e-9, atol=1e-12)


def test_kl_keeps_digits_for_tiny_logvar() -> None:
    # expm1(lv) − lv = lv²/2 + lv³/6 + …; for lv = 1e-6 the textbook 1 + lv − e^lv loses
    # about 10 digits, the expm1 form none.
    lv = np.array([[1e-6]])
    kl = gen.kl_standard_normal(np.zeros((1, 1)), lv)[0]
    assert kl == pytest.approx(0.5 * (1e-12 / 2 + 1e-18 / 6), rel=1e-9)


def test_vae_bce_uses_torch_log_clamp_and_says_so() -> None:
    # x̂ = 0 with x = 1: −max(log 0, −100) = 100; x̂ = 1 with x = 0: 100; x̂ = 0 with x = 0: 0
    z = np.zeros((3, 1))
    t = gen.vae(np.array([[0.0], [1.0], [0.0]]), np.array([[1.0], [0.0], [0.0]]), mu=z, logvar=z)
    np.testing.assert_array_equal(t.loss, [100.0, 100.0, 0.0])
    assert t.notes == [gen.NOTE_BCE_CLAMP]
    # exact 0/1 reconstructions that match their targets change nothing: no note
    t2 = gen.vae(np.array([[0.0, 1.0]]), np.array([[0.0, 1.0]]), mu=z[:1], logvar=z[:1])
    assert t2.loss[0] == 0.0 and t2.notes == []


def test_vae_bce_clips_reconstructions_outside_unit_interval() -> None:
    z = np.zeros((1, 1))
    t = gen.vae(np.array([[1.2, -0.1]]), np.array([[1.0, 0.0]]), mu=z, logvar=z)
    assert t.loss[0] == 0.0
    assert gen.NOTE_BCE_CLIP in t.notes


def test_vae_soft_targets_and_one_dimensional_latents() -> None:
    # x = 0.3, x̂ = 0.6: −(0.3 log 0.6 + 0.7 log 0.4); μ = 2, logvar = −1: ½(4 + e⁻¹ − 1 + 1)
    t = gen.vae(np.array([0.6]), np.array([0.3]), mu=np.array([2.0]), logvar=np.array([-1.0]))
    expected = -(0.3 * math.log(0.6) + 0.7 * math.log(0.4)) + 0.5 * (4 + math.exp(-1))
    assert t.loss[0] == pytest.approx(expected, rel=1e-14)


def test_vae_unknown_recon_is_rejected() -> None:
    z = np.zeros((1, 1))
    with pytest.raises(ValueError, match="recon"):
        gen.vae(z, z, mu=z, logvar=z, recon="l1")


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, (n, 5), elements=st.floats(0, 1)),
            arrays(np.float64, (n, 5), elements=st.floats(0, 1)),
            arrays(np.float64, (n, 2), elements=st.floats(-5, 5)),
            arrays(np.float64, (n, 2), elements=st.floats(-5, 5)),
        )
    ),
    st.sampled_from(["bce", "mse"]),
    st.floats(0, 5),
)
def test_vae_mean_is_sum_over_n_and_linear_in_beta(data, recon, beta) -> None:
    xh, x, mu, lv = data
    n = len(x)
    spec = SPEC["vae"]
    ctx = {"mu": mu, "logvar": lv}
    prm = {"recon": recon, "beta": beta}
    mean = compute(spec, xh, x, params=prm, context=ctx).value
    total = compute(spec, xh, x, params=prm, context=ctx, reduction="sum").value
    assert mean == pytest.approx(total / n, rel=1e-12, abs=1e-14)
    assert mean >= 0
    rec = compute(spec, xh, x, params={"recon": recon, "beta": 0.0}, context=ctx).value
    kl = float(gen.kl_standard_normal(mu, lv).mean())
    assert mean == pytest.approx(rec + beta * kl, rel=1e-12, abs=1e-12)


def test_vae_chunked_compute_equals_one_call() -> None:
    import losscli.compute as comp

    rng = np.random.default_rng(1)
    xh = rng.uniform(size=(500, 40))
    x = (rng.uniform(size=(500, 40)) < 0.4).astype(float)
    mu, lv = rng.normal(size=(500, 4)), rng.normal(size=(500, 4))
    whole = _mean(gen.vae(xh, x, mu=mu, logvar=lv))
    old = comp.BLOCK_ELEMENTS
    comp.BLOCK_ELEMENTS = 7 * 40  # blocks of 7 rows; mu/logvar are sliced with them
    try:
        chunked = compute(SPEC["vae"], xh, x, context={"mu": mu, "logvar": lv}).value
    finally:
        comp.BLOCK_ELEMENTS = old
    assert chunked == pytest.approx(whole, rel=1e-12)


# --------------------------------------------------------------------------- GAN known values


@pytest.mark.parametrize(
    ("fn", "real", "fake", "expected"),
    [
        # softplus(0) + softplus(0) = 2 log 2
        (gen.gan_d, [0.0], [0.0], 2 * math.log(2.0)),
        # softplus(−1000) + softplus(1000) = 0 + 1000 (no overflow)
        (gen.gan_d, [1000.0], [1000.0], 1000.0),
        (gen.gan_d, [-1000.0], [1000.0], 2000.0),
        # softplus(−0) = log 2; softplus(−(−800)) = 800
        (gen.gan_g, [5.0], [0.0], math.log(2.0)),
        (gen.gan_g, [5.0], [-800.0], 800.0),
        # rows: relu(1−2) + relu(1−2) = 0; relu(1−0) + relu(1+0.5) = 2.5 → mean 1.25
        (gen.hinge_d, [2.0, 0.0], [-2.0, 0.5], 1.25),
        # −mean(1, 3) = −2
        (gen.hinge_g, [0.0, 0.0], [1.0, 3.0], -2.0),
        (gen.wgan_g, [0.0, 0.0], [1.0, 3.0], -2.0),
        # mean fake − mean real = 2 − 1.5
        (gen.wgan_d, [1.0, 2.0], [0.0, 4.0], 0.5),
        # rows: ½·0 + ½·0 = 0; ½·(3−1)² + ½·2² = 4 → mean 2
        (gen.lsgan_d, [1.0, 3.0], [0.0, 2.0], 2.0),
        # rows: 0; ½·(3−1)² = 2 → mean 1
        (gen.lsgan_g, [9.0, 9.0], [1.0, 3.0], 1.0),
    ],
)
def test_gan_known_values(fn, real, fake, expected) -> None:
    assert _mean(fn(np.array(real), np.array(fake))) == pytest.approx(expected, rel=1e-15)


finite = st.floats(-30, 30, allow_nan=False, allow_infinity=False)
logit_pairs = st.integers(1, 30).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, n, elements=finite), arrays(np.float64, n, elements=finite)
    )
)


moderate = st.floats(-10, 10, allow_nan=False)


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 30).flatmap(
        lambda n: st.tuples(
            arrays(np.float64, n, elements=moderate), arrays(np.float64, n, elements=moderate)
        )
    )
)
def test_gan_losses_match_the_probability_forms(data) -> None:
    # −log σ(r) − log(1 − σ(f)) and −log σ(f); within |x| ≤ 10 the naive probability form
    # keeps ~12 digits (1 − σ(10) ≈ 4.5e-5), enough for the comparison.
    r, f = data
    sr = 1 / (1 + np.exp(-r))
    sf = 1 / (1 + np.exp(-f))
    d = -np.log(sr) - np.log1p(-sf)
    g = -np.log(sf)
    np.testing.assert_allclose(gen.gan_d(r, f).loss, d, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(gen.gan_g(r, f).loss, g, rtol=1e-9, atol=1e-15)


@settings(max_examples=100, deadline=None)
@given(logit_pairs, st.sampled_from(GANS))
def test_gan_mean_is_sum_over_n_and_signs(data, name) -> None:
    r, f = data
    spec = SPEC[name]
    mean = compute(spec, r, f).value
    total = compute(spec, r, f, reduction="sum").value
    assert mean == pytest.approx(total / len(r), rel=1e-12, abs=1e-12)
    if name in ("gan_d", "gan_g", "hinge_d", "lsgan_d", "lsgan_g"):
        assert mean >= 0
    if name in ("hinge_g", "wgan_g"):
        assert mean == pytest.approx(-f.mean(), rel=1e-12, abs=1e-12)
    if name == "wgan_d":
        assert mean == pytest.approx(f.mean() - r.mean(), rel=1e-9, abs=1e-9)


def test_patch_outputs_average_over_all_elements() -> None:
    rng = np.random.default_rng(2)
    r, f = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    for name in GANS:
        fn = getattr(gen, name)
        flat = _mean(fn(r.ravel(), f.ravel()))
        assert _mean(fn(r, f)) == pytest.approx(flat, rel=1e-13, abs=1e-15), name


def test_generator_losses_ignore_real_scores() -> None:
    f = np.array([0.3, -2.0])
    for fn in (gen.gan_g, gen.hinge_g, gen.wgan_g, gen.lsgan_g):
        np.testing.assert_array_equal(fn(np.zeros(2), f).loss, fn(np.full(2, 9.0), f).loss)


# --------------------------------------------------------------------------- regularization


def test_l1_l2_known_values() -> None:
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    # λΣ|w| = 0.1·3.5; λΣw² = 0.1·(1 + 4 + 0.25) — Keras convention, no ½
    assert l1_penalty(w, 0.1) == pytest.approx(0.35, rel=1e-15)
    assert l2_penalty(w, 0.1) == pytest.approx(0.525, rel=1e-15)
    assert l1_penalty(w, 0.0) == 0.0


def test_penalties_accept_layers_lists_and_mappings() -> None:
    layers = [np.array([[1.0, -1.0]]), np.array([3.0]), np.ones((2, 2, 2))]
    # Σ|w| = 2 + 3 + 8 = 13; Σw² = 2 + 9 + 8 = 19
    assert l1_penalty(layers, 2.0) == 26.0
    assert l2_penalty(layers, 2.0) == 38.0
    assert l2_penalty({"a": layers[0], "b": layers[1]}, 1.0) == 11.0
    assert l1_penalty([1.0, -2.0, 3.0], 1.0) == 6.0  # a flat list of numbers is one array
    assert l1_penalty(np.float64(-4.0), 0.5) == 2.0


def test_l2_is_twice_the_weight_decay_penalty() -> None:
    # SGD weight_decay=λ adds λ·w to the gradient: the gradient of (λ/2)Σw²
    w = np.array([0.3, -1.2, 2.0])
    assert l2_penalty(w, 0.01) == pytest.approx(2 * 0.5 * 0.01 * float(w @ w), rel=1e-15)


@pytest.mark.parametrize("lam", [-0.1, float("nan")])
def test_penalty_strength_must_be_non_negative(lam) -> None:
    with pytest.raises(ValueError, match=">= 0"):
        l1_penalty(np.ones(2), lam)
    with pytest.raises(ValueError, match=">= 0"):
        l2_penalty(np.ones(2), lam)


# --------------------------------------------------------------------------- registry


def test_specs_follow_the_catalogue() -> None:
    assert set(SPEC) == {"vae", *GANS}
    for spec in SPECS:
        assert spec.formula and spec.summary and spec.when_to_use and spec.references
        assert spec.oracle and spec.inputs
        assert callable(spec.kernel())
        assert get_spec(spec.name, spec.tasks[0]) is spec
        for alias in spec.aliases:
            assert canonical_name(alias) == spec.name
    assert SPEC["vae"].tasks == ("vae",)
    assert SPEC["vae"].context == ("mu", "logvar")
    assert SPEC["vae"].defaults() == {"recon": "bce", "beta": 1.0}
    assert SPEC["vae"].param("recon").choices == ("bce", "mse")
    for name in GANS:
        assert SPEC[name].tasks == ("gan",)
        assert SPEC[name].params == ()
        assert SPEC[name].decomposable


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


def test_vae_param_validation() -> None:
    from losscli.errors import UsageError

    assert resolve_params(SPEC["vae"], {"recon": "MSE", "beta": "0"}) == {
        "recon": "mse",
        "beta": 0.0,
    }
    with pytest.raises(UsageError):
        resolve_params(SPEC["vae"], {"beta": "-1"})
    with pytest.raises(UsageError):
        resolve_params(SPEC["vae"], {"recon": "l1"})
