"""Generative-model losses: the VAE objective and GAN discriminator/generator losses.

GAN kernels take the discriminator's raw outputs (logits / critic scores) on real
samples and on generated ("fake") samples, row by row: ``fn(real, fake)``. Each returns
per-row terms whose mean is the batch formula (e.g. the discriminator's
``BCEwl(real, 1) + BCEwl(fake, 0)`` is the mean of ``softplus(−r) + softplus(f)``).
Inputs of shape (n, k) (patch discriminators) give (n, k) terms, averaged per row.
"""

from __future__ import annotations

import numpy as np

from losscli.losses._numerics import softplus
from losscli.losses._reduce import Terms
from losscli.losses.classification import CLAMP_NOTE, bce_clamped

NOTE_BCE_CLAMP = CLAMP_NOTE
NOTE_BCE_CLIP = "reconstructions outside [0, 1] were clipped to [0, 1] for recon=bce"


def _rows(x: np.ndarray) -> np.ndarray:
    """float64 view with one row per sample: (n,) stays (n,), (n, ...) becomes (n, k)."""
    a = np.asarray(x, dtype=np.float64)
    return a if a.ndim == 1 else a.reshape(a.shape[0], -1)


# --------------------------------------------------------------------------- VAE


def kl_standard_normal(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """KL(N(μ, e^logvar) ‖ N(0, 1)) summed over latent dimensions, one value per row.

    ``KL = −½ Σⱼ (1 + logvarⱼ − μⱼ² − e^logvarⱼ) = ½ Σⱼ (μⱼ² + expm1(logvarⱼ) − logvarⱼ)``
    (the expm1 form keeps digits when logvar is near 0). Kingma & Welling 2014,
    appendix B.
    """
    m = _rows(mu)
    lv = _rows(logvar)
    per = m * m + np.expm1(lv) - lv
    per *= 0.5
    return per if per.ndim == 1 else per.sum(axis=1)


def bce_sum(recon: np.ndarray, target: np.ndarray, notes: list[str]) -> np.ndarray:
    """Σ over features of PyTorch's BCE on probabilities, one value per row.

    ``−[x·max(log x̂, −100) + (1 − x)·max(log(1 − x̂), −100)]`` (torch
    F.binary_cross_entropy, reduction="sum" per row). Values of x̂ outside [0, 1] are
    clipped into it first (noted).
    """
    p = _rows(recon)
    x = _rows(target)
    if p.size and (p.min() < 0.0 or p.max() > 1.0):
        p = np.clip(p, 0.0, 1.0)
        notes.append(NOTE_BCE_CLIP)
    per, clamped = bce_clamped(p, x, 1.0)
    if clamped:
        notes.append(NOTE_BCE_CLAMP)
    return per if per.ndim == 1 else per.sum(axis=1)


def vae(
    pred: np.ndarray,
    target: np.ndarray,
    *,
    mu: np.ndarray,
    logvar: np.ndarray,
    recon: str = "bce",
    beta: float = 1.0,
) -> Terms:
    """VAE loss (negative ELBO, β-VAE weighting): reconstruction + β·KL per row.

    ``l_i = Σ_f r(x̂_if, x_if) + β · (−½ Σ_j (1 + logvar_ij − μ_ij² − e^logvar_ij))``

    ``recon="bce"``: r is PyTorch's BCE on probabilities with logs clamped at −100
    (``F.binary_cross_entropy(..., reduction="sum") / n``); ``recon="mse"``: r = (x̂ − x)².
    The reconstruction is summed over features and the mean is taken over rows — the
    convention of the PyTorch VAE example; it fixes the recon/KL balance.

    References: Kingma & Welling, "Auto-Encoding Variational Bayes", ICLR 2014;
    Higgins et al., "β-VAE", ICLR 2017.
    """
    notes: list[str] = []
    if recon == "bce":
        rec = bce_sum(pred, target, notes)
    elif recon == "mse":
        diff = _rows(pred) - _rows(target)
        diff *= diff
        rec = diff if diff.ndim == 1 else diff.sum(axis=1)
    else:
        raise ValueError(f"unknown vae reconstruction '{recon}'; use 'bce' or 'mse'")
    return Terms(rec + beta * kl_standard_normal(mu, logvar), None, notes)


# --------------------------------------------------------------------------- GAN


def gan_d(real: np.ndarray, fake: np.ndarray) -> Terms:
    """Standard GAN discriminator loss on logits (Goodfellow et al. 2014).

    ``BCEwl(real, 1) + BCEwl(fake, 0)`` = mean of ``softplus(−r) + softplus(f)``,
    computed as max(x, 0) + log1p(e^−|x|) (finite for any logit).
    """
    return Terms(softplus(-_rows(real)) + softplus(_rows(fake)))


def gan_g(real: np.ndarray, fake: np.ndarray) -> Terms:
    """Non-saturating GAN generator loss: ``BCEwl(fake, 1)`` = mean ``softplus(−f)``.

    ``real`` is accepted for a uniform signature and not used. Goodfellow et al. 2014 §3.
    """
    return Terms(softplus(-_rows(fake)))


def hinge_d(real: np.ndarray, fake: np.ndarray) -> Terms:
    """Hinge GAN discriminator loss: mean relu(1 − r) + mean relu(1 + f).

    Lim & Ye, "Geometric GAN", 2017; Miyato et al., "Spectral Normalization", ICLR 2018.
    """
    r = _rows(real)
    f = _rows(fake)
    return Terms(np.maximum(1.0 - r, 0.0) + np.maximum(1.0 + f, 0.0))


def hinge_g(real: np.ndarray, fake: np.ndarray) -> Terms:
    """Hinge GAN generator loss: −mean f (Lim & Ye 2017; Miyato et al. 2018)."""
    return Terms(-_rows(fake))


def wgan_d(real: np.ndarray, fake: np.ndarray) -> Terms:
    """Wasserstein critic loss: mean f − mean r (Arjovsky, Chintala & Bottou, ICML 2017)."""
    return Terms(_rows(fake) - _rows(real))


def wgan_g(real: np.ndarray, fake: np.ndarray) -> Terms:
    """Wasserstein generator loss: −mean f (Arjovsky et al. 2017)."""
    return Terms(-_rows(fake))


def lsgan_d(real: np.ndarray, fake: np.ndarray) -> Terms:
    """Least-squares GAN discriminator loss: ½ mean (r − 1)² + ½ mean f².

    Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017 (a=0, b=c=1).
    """
    r = _rows(real) - 1.0
    f = _rows(fake)
    return Terms(0.5 * (r * r) + 0.5 * (f * f))


def lsgan_g(real: np.ndarray, fake: np.ndarray) -> Terms:
    """Least-squares GAN generator loss: ½ mean (f − 1)² (Mao et al. 2017)."""
    f = _rows(fake) - 1.0
    return Terms(0.5 * (f * f))
