"""Registry entries of the generative-model losses: VAE and the GAN families.

Kernels: :mod:`losscli.losses.generative`. GAN losses read the discriminator's raw
outputs on real samples (predictions) and on generated samples (targets).
"""

from __future__ import annotations

from losscli.registry._base import LossSpec, ParamSpec

_GAN_INPUTS = (
    "predictions (n,) discriminator logits / critic scores on real samples (column real); "
    "targets (n,) the same on generated samples (column fake); any real values"
)

_GAN_WHEN = (
    "Monitoring GAN training from logged discriminator outputs. The selection guide's "
    "default for GANs is the standard pair gan_d / gan_g; hinge and least-squares losses "
    "are the common alternatives when training is unstable."
)

_GOODFELLOW = ("Goodfellow et al., 'Generative Adversarial Nets', NeurIPS 2014",)
_HINGE_REFS = (
    "Lim & Ye, 'Geometric GAN', arXiv:1705.02894, 2017",
    "Miyato et al., 'Spectral Normalization for Generative Adversarial Networks', ICLR 2018",
)
_WGAN_REFS = (
    "Arjovsky, Chintala & Bottou, 'Wasserstein Generative Adversarial Networks', ICML 2017",
)
_LSGAN_REFS = ("Mao et al., 'Least Squares Generative Adversarial Networks', ICCV 2017",)

_NO_LIBRARY = (
    "No library loss class; the reference is the SPEC formula written with torch 2.13.0 "
    "float64 tensor ops (tests/oracle/gen_embedding.py)."
)


def _gan(
    name: str,
    fn: str,
    summary: str,
    formula: str,
    references: tuple[str, ...],
    oracle: str,
    aliases: tuple[str, ...],
    when: str = _GAN_WHEN,
) -> LossSpec:
    return LossSpec(
        name=name,
        tasks=("gan",),
        fn=f"losscli.losses.generative:{fn}",
        summary=summary,
        formula=formula,
        when_to_use=when,
        references=references,
        inputs=_GAN_INPUTS,
        aliases=aliases,
        oracle=oracle,
    )


VAE = LossSpec(
    name="vae",
    tasks=("vae",),
    fn="losscli.losses.generative:vae",
    summary="VAE loss (negative ELBO): reconstruction summed over features plus β times "
    "the KL divergence of the latent Gaussian from N(0, I).",
    formula="Σ_f recon(x̂, x) + β·KL, KL = −½·Σ_j (1 + logvar_j − μ_j² − e^logvar_j); "
    "recon=bce: −[x·log x̂ + (1−x)·log(1−x̂)], logs clamped at −100 (PyTorch); "
    "recon=mse: (x̂ − x)²; mean over rows",
    when_to_use="Training or comparing variational autoencoders: the selection guide's "
    "generation entry (reconstruction + KL). Use recon=bce for data in [0, 1] (images "
    "with sigmoid outputs), recon=mse for real-valued data; beta > 1 trades "
    "reconstruction for a more disentangled latent space (β-VAE).",
    references=(
        "Kingma & Welling, 'Auto-Encoding Variational Bayes', ICLR 2014",
        "Higgins et al., 'β-VAE: Learning Basic Visual Concepts with a Constrained "
        "Variational Framework', ICLR 2017",
    ),
    inputs="predictions (n, F) reconstructions (probabilities in [0, 1] for recon=bce; "
    "values outside are clipped, with a note), targets (n, F) original inputs, context "
    "mu (n, k) and logvar (n, k) from the mu_* / logvar_* columns",
    params=(
        ParamSpec(
            "recon",
            "bce",
            kind="choice",
            choices=("bce", "mse"),
            help="reconstruction term: binary cross-entropy or squared error",
        ),
        ParamSpec("beta", 1.0, help="weight of the KL term (β-VAE)", low=0.0),
    ),
    aliases=("elbo", "vae_loss"),
    context=("mu", "logvar"),
    oracle="torch 2.13.0 float64: F.binary_cross_entropy(x̂, x, reduction='sum') / n (or "
    "F.mse_loss(reduction='sum') / n) + beta · kl_divergence(Normal(mu, exp(½·logvar)), "
    "Normal(0, 1)).sum(-1).mean().",
)

SPECS: tuple[LossSpec, ...] = (
    VAE,
    _gan(
        "gan_d",
        "gan_d",
        "Standard GAN discriminator loss on logits: real scored as 1, fake as 0.",
        "BCEwl(real, 1) + BCEwl(fake, 0) = mean softplus(−real) + mean softplus(fake)",
        _GOODFELLOW,
        "torch 2.13.0 F.binary_cross_entropy_with_logits(real, ones) + "
        "F.binary_cross_entropy_with_logits(fake, zeros), float64.",
        ("gan_discriminator",),
    ),
    _gan(
        "gan_g",
        "gan_g",
        "Non-saturating GAN generator loss: fake scored as 1.",
        "BCEwl(fake, 1) = mean softplus(−fake)",
        _GOODFELLOW,
        "torch 2.13.0 F.binary_cross_entropy_with_logits(fake, ones), float64.",
        ("gan_generator",),
    ),
    _gan(
        "hinge_d",
        "hinge_d",
        "Hinge GAN discriminator loss.",
        "mean relu(1 − real) + mean relu(1 + fake)",
        _HINGE_REFS,
        _NO_LIBRARY,
        ("hinge_gan_d",),
    ),
    _gan(
        "hinge_g",
        "hinge_g",
        "Hinge GAN generator loss.",
        "−mean fake",
        _HINGE_REFS,
        _NO_LIBRARY,
        ("hinge_gan_g",),
    ),
    _gan(
        "wgan_d",
        "wgan_d",
        "Wasserstein GAN critic loss (an estimate of −W₁ between real and generated data).",
        "mean fake − mean real",
        _WGAN_REFS,
        _NO_LIBRARY,
        ("wasserstein_d",),
        when=_GAN_WHEN + " WGAN values are critic scores, not probabilities: they are "
        "comparable only within one run.",
    ),
    _gan(
        "wgan_g",
        "wgan_g",
        "Wasserstein GAN generator loss.",
        "−mean fake",
        _WGAN_REFS,
        _NO_LIBRARY,
        ("wasserstein_g",),
        when=_GAN_WHEN + " WGAN values are critic scores, not probabilities: they are "
        "comparable only within one run.",
    ),
    _gan(
        "lsgan_d",
        "lsgan_d",
        "Least-squares GAN discriminator loss (targets 1 for real, 0 for fake).",
        "½·mean (real − 1)² + ½·mean fake²",
        _LSGAN_REFS,
        "torch 2.13.0 0.5·F.mse_loss(real, ones) + 0.5·F.mse_loss(fake, zeros), float64.",
        ("least_squares_gan_d",),
    ),
    _gan(
        "lsgan_g",
        "lsgan_g",
        "Least-squares GAN generator loss (target 1 for fake).",
        "½·mean (fake − 1)²",
        _LSGAN_REFS,
        "torch 2.13.0 0.5·F.mse_loss(fake, ones), float64.",
        ("least_squares_gan_g",),
    ),
)
