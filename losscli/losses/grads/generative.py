"""Gradient of the VAE loss (``losses/generative.py``) with respect to the reconstruction
(the predictions); μ and log σ² are context arrays of the encoder, not predictions, so
the KL term contributes nothing here."""

from __future__ import annotations

import numpy as np

from losscli.losses.grads._common import as_grad_float
from losscli.losses.grads.classification import BCE_BACKWARD_EPS

__all__ = ["vae_grad"]


def vae_grad(pred, target, *, mu=None, logvar=None, recon: str = "bce", beta: float = 1.0):
    """Σ_f r(x̂_f, x_f) per row: bce → (x̂ − x)/max(x̂(1 − x̂), 1e-12) (torch's backward;
    0 where x̂ was clipped into [0, 1]); mse → 2(x̂ − x)."""
    del mu, logvar, beta
    p = as_grad_float(pred)
    x = np.asarray(target, dtype=p.dtype).reshape(p.shape)
    if recon == "mse":
        return 2.0 * (p - x)
    if recon != "bce":
        raise ValueError(f"unknown vae reconstruction '{recon}'")
    pc = np.clip(p, 0.0, 1.0)
    g = (pc - x) / np.maximum((1.0 - pc) * pc, BCE_BACKWARD_EPS)
    return np.where((p >= 0.0) & (p <= 1.0), g, 0.0)
