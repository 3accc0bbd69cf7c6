"""Registry entries of the segmentation losses (SPEC §6, task ``segmentation``).

Inputs are ``(n, C, P)`` masks; every loss is computed per image and class and averaged.
Kernels live in :mod:`losscli.losses.segmentation`.
"""

from __future__ import annotations

from losscli.registry._base import Domain, LossSpec, ParamSpec

_FN = "losscli.losses.segmentation"
_TASKS = ("segmentation",)
_CONTEXT = ("from_logits",)

_INPUTS = (
    "predictions: (n, C, P) per-pixel probabilities, or logits with --logits "
    "(.npy/.npz arrays (N, H, W) or (N, C, H, W), or long-form CSV with --group-col); "
    "targets: the same shape with 0/1 mask values (soft labels in [0, 1] accepted)"
)

_DOMAINS = (
    Domain(
        "pred",
        0.0,
        1.0,
        when="probabilities",
        why="per-pixel probabilities; pass --logits for raw scores",
    ),
    Domain("target", 0.0, 1.0, why="mask values 0/1 (soft labels in [0, 1])"),
)

_EMPTY = (
    " Empty masks: with smooth > 0 an empty target and an empty prediction give 0; with "
    "smooth = 0 their 0/0 is counted as a perfect match (loss 0) and a note says so."
)

_ORACLE_OVERLAP = (
    "torch 2.13.0 float64, formula in torch ops per (image, class) "
    "(tests/oracle/gen_segmentation.py); cross-checked against MONAI 1.6.1 "
    "{monai} when MONAI is installed"
)

_REF_MONAI_DICE = "MONAI monai.losses.DiceLoss (smooth_nr, smooth_dr, reduction='none')"


def _smooth(default: float = 1.0) -> ParamSpec:
    return ParamSpec(
        "smooth",
        default,
        help="added to numerator and denominator; 0 gives the unsmoothed ratio",
        low=0.0,
    )


_ALPHA_T = ParamSpec("alpha", 0.5, help="weight of false positives (Σ p·(1−y))", low=0.0)
_BETA_T = ParamSpec("beta", 0.5, help="weight of false negatives (Σ (1−p)·y)", low=0.0)

SPECS: tuple[LossSpec, ...] = (
    LossSpec(
        name="dice",
        tasks=_TASKS,
        fn=f"{_FN}:dice",
        summary="Soft Dice loss: 1 − overlap ratio per image and class",
        formula="1 − (2·Σp·y + s) / (Σp + Σy + s) per image and class, mean",
        when_to_use=(
            "Segmentation where the foreground is a small part of the image: Dice scores "
            "the overlap of predicted and true masks directly, so the many easy background "
            "pixels do not dominate it. Usually paired with BCE (dice_bce) for smoother "
            "pixel-wise gradients." + _EMPTY
        ),
        references=(
            "Milletari, Navab & Ahmadi (2016), V-Net: Fully Convolutional Neural Networks "
            "for Volumetric Medical Image Segmentation, 3DV",
            _REF_MONAI_DICE,
        ),
        inputs=_INPUTS,
        params=(_smooth(),),
        domains=_DOMAINS,
        aliases=("dice_loss",),
        context=_CONTEXT,
        oracle=_ORACLE_OVERLAP.format(monai="DiceLoss(smooth_nr=s, smooth_dr=s)"),
    ),
    LossSpec(
        name="iou",
        tasks=_TASKS,
        fn=f"{_FN}:iou",
        summary="Soft IoU (Jaccard) loss: 1 − intersection over union per image and class",
        formula="1 − (Σp·y + s) / (Σp + Σy − Σp·y + s) per image and class, mean",
        when_to_use=(
            "Segmentation judged by IoU / Jaccard: optimises the overlap measure itself. "
            "An alternative to Dice that penalises partial overlaps more strongly. Equals "
            "Tversky with α = β = 1." + _EMPTY
        ),
        references=(
            "Rahman & Wang (2016), Optimizing Intersection-Over-Union in Deep Neural "
            "Networks for Image Segmentation, ISVC",
            "segmentation_models.pytorch JaccardLoss (smooth in numerator and denominator)",
            "MONAI monai.losses.DiceLoss(jaccard=True): (2I + s)/(2U + s), i.e. smooth s/2 here",
        ),
        inputs=_INPUTS,
        params=(_smooth(),),
        domains=_DOMAINS,
        aliases=("jaccard", "iou_loss", "jaccard_loss"),
        context=_CONTEXT,
        oracle=_ORACLE_OVERLAP.format(monai="DiceLoss(jaccard=True, smooth_nr=2s, smooth_dr=2s)"),
    ),
    LossSpec(
        name="tversky",
        tasks=_TASKS,
        fn=f"{_FN}:tversky",
        summary="Tversky loss: Dice with separate weights for false positives and negatives",
        formula=(
            "1 − (TP + s) / (TP + α·FP + β·FN + s), TP = Σp·y, FP = Σp·(1−y), "
            "FN = Σ(1−p)·y, per image and class, mean"
        ),
        when_to_use=(
            "Imbalanced segmentation where missing foreground costs more than extra "
            "foreground (or the reverse): β > α favours recall, α > β precision. α = β = 0.5 "
            "is Dice (with smoothing 2s), α = β = 1 is IoU." + _EMPTY
        ),
        references=(
            "Salehi, Erdogmus & Gholipour (2017), Tversky loss function for image "
            "segmentation using 3D fully convolutional deep networks, MLMI",
            "MONAI monai.losses.TverskyLoss (alpha, beta, smooth_nr, smooth_dr)",
        ),
        inputs=_INPUTS,
        params=(_ALPHA_T, _BETA_T, _smooth()),
        domains=_DOMAINS,
        aliases=("tversky_loss",),
        context=_CONTEXT,
        oracle=_ORACLE_OVERLAP.format(
            monai="TverskyLoss(alpha=α, beta=β, smooth_nr=s, smooth_dr=s)"
        ),
    ),
    LossSpec(
        name="focal_tversky",
        tasks=_TASKS,
        fn=f"{_FN}:focal_tversky",
        summary="Focal Tversky loss: Tversky raised to γ per image and class",
        formula="tversky^γ per image and class (tversky as above), mean",
        when_to_use=(
            "Highly imbalanced segmentation with small structures (lesions): γ < 1 keeps "
            "the loss of images and classes that are still poorly segmented large relative "
            "to the well-segmented ones. γ = 1 is Tversky; the paper's exponent 1/γ with "
            "γ = 4/3 is the default 0.75." + _EMPTY
        ),
        references=(
            "Abraham & Khan (2019), A Novel Focal Tversky Loss Function with Improved "
            "Attention U-Net for Lesion Segmentation, ISBI",
            "Salehi, Erdogmus & Gholipour (2017), Tversky loss function, MLMI",
        ),
        inputs=_INPUTS,
        params=(
            ParamSpec(
                "gamma",
                0.75,
                help="exponent applied to the Tversky loss of each image and class",
                low=0.0,
                low_open=True,
            ),
            _ALPHA_T,
            _BETA_T,
            _smooth(),
        ),
        domains=_DOMAINS,
        aliases=("focal_tversky_loss",),
        context=_CONTEXT,
        oracle=_ORACLE_OVERLAP.format(
            monai="TverskyLoss(alpha=α, beta=β, smooth_nr=s, smooth_dr=s) raised to γ per element"
        ),
    ),
    LossSpec(
        name="dice_bce",
        tasks=_TASKS,
        fn=f"{_FN}:dice_bce",
        summary="Dice + pixel-wise binary cross-entropy",
        formula=(
            "λ_d·dice + λ_b·mean_pixels(−[y·log p + (1−y)·log(1−p)]) per image and class, "
            "mean (BCE logs clamped at −100; logits through the softplus form)"
        ),
        when_to_use=(
            "The default for segmentation: Dice handles foreground/background imbalance and "
            "optimises overlap, while BCE gives stable per-pixel gradients early in "
            "training." + _EMPTY
        ),
        references=(
            "Milletari, Navab & Ahmadi (2016), V-Net, 3DV",
            "Isensee et al. (2021), nnU-Net: a self-configuring method for deep "
            "learning-based biomedical image segmentation, Nature Methods (Dice + CE)",
            "MONAI monai.losses.DiceCELoss (lambda_dice, lambda_ce)",
        ),
        inputs=_INPUTS,
        params=(
            _smooth(),
            ParamSpec("lambda_dice", 1.0, help="weight of the Dice term", low=0.0),
            ParamSpec("lambda_bce", 1.0, help="weight of the BCE term", low=0.0),
        ),
        domains=_DOMAINS,
        aliases=("bce_dice", "dice_bce_loss"),
        context=_CONTEXT,
        oracle=(
            "torch 2.13.0 float64: Dice in torch ops + F.binary_cross_entropy(_with_logits)"
            "(reduction='none') averaged per (image, class) (tests/oracle/gen_segmentation.py)"
        ),
    ),
    LossSpec(
        name="bce",
        tasks=_TASKS,
        fn=f"{_FN}:seg_bce",
        summary="Pixel-wise binary cross-entropy, averaged per image and class",
        formula=(
            "mean over pixels of −[w_p·y·log p + (1−y)·log(1−p)], logs clamped at −100 "
            "(torch); logits: (1−y)·x − (1 + (w_p−1)·y)·log σ(x)"
        ),
        when_to_use=(
            "Pixel-wise baseline for segmentation with balanced masks; with small "
            "foregrounds combine it with Dice (dice_bce) or raise pos_weight."
        ),
        references=(
            "PyTorch torch.nn.BCELoss / BCEWithLogitsLoss (log clamp at −100, pos_weight)",
        ),
        inputs=_INPUTS,
        params=(
            ParamSpec(
                "pos_weight",
                1.0,
                help="weight of the positive (foreground) term; > 1 raises recall",
                low=0.0,
                low_open=True,
            ),
            ParamSpec(
                "label_smoothing",
                0.0,
                help="targets become y·(1−ε) + ε/2",
                low=0.0,
                high=1.0,
            ),
            ParamSpec(
                "eps",
                "none",
                help="clip probabilities to [eps, 1−eps] instead of clamping logs at −100",
                low=0.0,
                high=0.5,
                low_open=True,
                high_open=True,
                words=("none",),
            ),
        ),
        domains=_DOMAINS,
        context=_CONTEXT,
        oracle=(
            "torch 2.13.0 float64 F.binary_cross_entropy / F.binary_cross_entropy_with_logits"
            "(reduction='none') averaged per (image, class) (tests/oracle/gen_segmentation.py)"
        ),
    ),
    LossSpec(
        name="focal",
        tasks=_TASKS,
        fn=f"{_FN}:seg_focal",
        summary="Pixel-wise sigmoid focal loss, averaged per image and class",
        formula=(
            "mean over pixels of −α_t·(1−p_t)^γ·log p_t, α_t = α for y = 1, 1−α for y = 0 "
            "(torchvision sigmoid_focal_loss); alpha = −1 disables α_t"
        ),
        when_to_use=(
            "Segmentation with a rare foreground: down-weights the many easy background "
            "pixels. Pair it with Dice for imbalanced masks, or use tversky / focal_tversky."
        ),
        references=(
            "Lin, Goyal, Girshick, He & Dollár (2017), Focal Loss for Dense Object Detection, ICCV",
            "torchvision.ops.sigmoid_focal_loss (alpha=0.25, gamma=2)",
        ),
        inputs=_INPUTS,
        params=(
            ParamSpec(
                "alpha",
                0.25,
                help="weight of the positive class (1−alpha for negatives); -1 disables",
                low=0.0,
                high=1.0,
                specials=(-1.0,),
            ),
            ParamSpec("gamma", 2.0, help="focusing exponent; 0 gives α-weighted BCE", low=0.0),
        ),
        domains=_DOMAINS,
        context=_CONTEXT,
        oracle=(
            "torchvision sigmoid_focal_loss formula in torch 2.13.0 ops, float64 "
            "(tests/oracle/gen_segmentation.py)"
        ),
    ),
)
