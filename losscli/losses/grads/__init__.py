"""Closed-form gradients of the loss kernels with respect to the predictions.

Every gradient kernel sits beside its loss kernel's family (``grads/regression.py`` for
``losses/regression.py`` …), takes the same arguments (predictions first, targets second,
the loss's parameters and context keyword-only) and returns an array ``D`` of the
predictions' shape:

    D_i = ∂(w_i · l_i) / ∂pred_i

where ``l_i`` is row i's value as the loss kernel reports it (the mean over its trailing
class/output axis when its ``Terms.loss`` is ``(n, k)``) and ``w_i`` the kernel's row
weight (1 when ``Terms.weight`` is None). The engine multiplies by the sample weight and
divides by Σ w (``mean``) once every row is known, so ``sw_i · D_i / Σ w`` is exactly
what ``value.backward()`` leaves in ``pred.grad`` (SPEC §13).

Torch backward conventions are followed where a derivative is not defined: |e| at 0 → 0,
max(0, x) at 0 → 0 (``relu``), a clamped log passes no gradient where it clamps, and BCE
on probabilities divides by max(p(1 − p), 1e-12) (``binary_cross_entropy_backward``).

:data:`GRADS` maps a loss kernel (``LossSpec.fn``) to its gradient kernel; a loss whose
kernel is not listed has no gradient yet, and :data:`NO_GRAD` names the losses that
have none, with the reason. :mod:`losscli.gradients` resolves these names (this package
imports nothing but NumPy, like every module of ``losses/``).
"""

from __future__ import annotations

_R = "losscli.losses.regression"
_C = "losscli.losses.classification"
_GR = "losscli.losses.grads.regression"
_GC = "losscli.losses.grads.classification"
_S = "losscli.losses.segmentation"
_GS = "losscli.losses.grads.segmentation"
_D = "losscli.losses.distribution"
_GD = "losscli.losses.grads.distribution"
_E = "losscli.losses.embedding"
_GE = "losscli.losses.grads.embedding"
_G = "losscli.losses.generative"
_T = "losscli.losses.detection"

#: ``LossSpec.fn`` → ``module:function`` of its gradient kernel.
GRADS: dict[str, str] = {
    f"{_R}:mse": f"{_GR}:mse_grad",
    f"{_R}:rmse": f"{_GR}:mse_grad",
    f"{_R}:mae": f"{_GR}:mae_grad",
    f"{_R}:huber": f"{_GR}:huber_grad",
    f"{_R}:smooth_l1": f"{_GR}:smooth_l1_grad",
    f"{_R}:log_cosh": f"{_GR}:log_cosh_grad",
    f"{_R}:pinball": f"{_GR}:pinball_grad",
    f"{_R}:msle": f"{_GR}:msle_grad",
    f"{_R}:mape": f"{_GR}:mape_grad",
    f"{_R}:poisson_nll": f"{_GR}:poisson_nll_grad",
    f"{_C}:bce": f"{_GC}:bce_grad",
    f"{_C}:focal": f"{_GC}:focal_grad",
    f"{_C}:hinge": f"{_GC}:hinge_grad",
    f"{_C}:squared_hinge": f"{_GC}:squared_hinge_grad",
    f"{_C}:brier": f"{_GC}:brier_grad",
    f"{_C}:cross_entropy": f"{_GC}:cross_entropy_grad",
    f"{_C}:focal_multiclass": f"{_GC}:focal_multiclass_grad",
    f"{_C}:multi_hinge": f"{_GC}:multi_hinge_grad",
    f"{_C}:multi_margin": f"{_GC}:multi_margin_grad",
    f"{_C}:brier_multiclass": f"{_GC}:brier_multiclass_grad",
    f"{_C}:kl_div_multiclass": f"{_GC}:kl_div_multiclass_grad",
    f"{_S}:dice": f"{_GS}:dice_grad",
    f"{_S}:iou": f"{_GS}:iou_grad",
    f"{_S}:tversky": f"{_GS}:tversky_grad",
    f"{_S}:focal_tversky": f"{_GS}:focal_tversky_grad",
    f"{_S}:dice_bce": f"{_GS}:dice_bce_grad",
    f"{_S}:generalized_dice": f"{_GS}:generalized_dice_grad",
    f"{_S}:seg_cross_entropy": f"{_GS}:seg_cross_entropy_grad",
    f"{_S}:seg_bce": f"{_GC}:bce_grad",  # per pixel, ÷ C·P of the image
    f"{_S}:seg_focal": f"{_GS}:seg_focal_grad",
    f"{_D}:kl_div": f"{_GD}:kl_div_grad",
    f"{_D}:js_div": f"{_GD}:js_div_grad",
    f"{_D}:cross_entropy": f"{_GD}:cross_entropy_dist_grad",
    f"{_E}:triplet": f"{_GE}:triplet_grad",
    f"{_E}:contrastive": f"{_GE}:contrastive_grad",
    f"{_E}:cosine_embedding": f"{_GE}:cosine_embedding_grad",
    f"{_G}:vae": "losscli.losses.grads.generative:vae_grad",
    f"{_T}:smooth_l1_boxes": f"{_GR}:smooth_l1_grad",  # ÷4 coordinates per box row
    f"{_T}:giou": "losscli.losses.grads.detection:giou_grad",
}

#: Losses without a gradient with respect to the predictions, by nature (``LossSpec.fn``
#: → why).
NO_GRAD: dict[str, str] = {
    **{
        f"{_G}:{name}": "a GAN loss is a function of two score columns (real, fake); its "
        "gradient is not reported yet"
        for name in (
            "gan_d",
            "gan_g",
            "hinge_d",
            "hinge_g",
            "wgan_d",
            "wgan_g",
            "lsgan_d",
            "lsgan_g",
        )
    },
    f"{_T}:focal_smooth_l1": "its focal half is a function of the score column; the "
    "gradient is not reported yet",
    "losscli.losses.calibration:calibration_bins": "a calibration error is built on bins "
    "and the argmax (piecewise constant in the predictions): it has no useful gradient",
}

NOT_YET = "no closed-form gradient kernel for this loss yet"
