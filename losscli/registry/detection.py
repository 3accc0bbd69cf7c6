"""Registry entries of the detection losses (SPEC §6, task ``detection``).

Inputs are matched boxes, one row per match. Kernels live in
:mod:`losscli.losses.detection`.
"""

from __future__ import annotations

from losscli.registry._base import Domain, LossSpec, Needs, ParamSpec

_FN = "losscli.losses.detection"
_TASKS = ("detection",)

_INPUTS = (
    "predictions: (n, 4) matched boxes x1, y1, x2, y2 (+ a score column, probability or "
    "logit, for focal_smooth_l1); targets: (n, 4) boxes x1, y1, x2, y2 (+ a 0/1 label "
    "column for focal_smooth_l1)"
)

#: focal_smooth_l1's classification half: a score per box and a 0/1 label per box.
_SCORES_AND_LABELS = Needs(
    ("scores", "labels"),
    "focal_smooth_l1 needs a score column in the predictions and a label column in the targets",
    hint="add a 'score' column to the predictions and a 0/1 'label' column to the "
    "targets, or use smooth_l1 / giou for the boxes alone",
)
_SCORE_LABEL_DOMAINS = (
    Domain("scores", 0.0, 1.0, when="probabilities"),
    Domain("labels", 0.0, 1.0, why="1 = object, 0 = background"),
)

_BETA = ParamSpec("beta", 1.0, help="width of the quadratic zone around 0; 0 gives L1", low=0.0)

SPECS: tuple[LossSpec, ...] = (
    LossSpec(
        name="smooth_l1",
        tasks=_TASKS,
        fn=f"{_FN}:smooth_l1_boxes",
        summary="Smooth L1 on matched box coordinates (mean of x1, y1, x2, y2)",
        formula="mean over the 4 coordinates of 0.5·e²/β if |e| < β else |e| − 0.5·β",
        when_to_use=(
            "Bounding-box regression (Fast/Faster R-CNN, RetinaNet): quadratic near zero, "
            "linear for large errors, so badly matched boxes do not dominate. Coordinates "
            "are compared independently and the value scales with box size; use giou for "
            "a scale-invariant overlap measure."
        ),
        references=(
            "Girshick (2015), Fast R-CNN, ICCV",
            "PyTorch torch.nn.SmoothL1Loss (beta)",
        ),
        inputs=_INPUTS,
        params=(_BETA,),
        oracle="torch 2.13.0 float64 F.smooth_l1_loss(pred, target, beta=β) on the (n, 4) "
        "boxes (tests/oracle/gen_segmentation.py)",
    ),
    LossSpec(
        name="giou",
        tasks=_TASKS,
        fn=f"{_FN}:giou",
        summary="Generalized IoU loss of matched boxes: 1 − GIoU",
        formula=(
            "1 − (I/(U + eps) − (C − U)/(C + eps)), I intersection, U union, C area of the "
            "smallest enclosing box (torchvision generalized_box_iou_loss)"
        ),
        when_to_use=(
            "Box regression judged by IoU: scale-invariant, and unlike plain IoU it still "
            "gives a signal when boxes do not overlap. Values lie in [0, 2) for valid boxes "
            "(x1 ≤ x2, y1 ≤ y2); degenerate boxes are computed as torchvision does and "
            "flagged with a note."
        ),
        references=(
            "Rezatofighi, Tsoi, Gwak, Sadeghian, Reid & Savarese (2019), Generalized "
            "Intersection over Union: A Metric and A Loss for Bounding Box Regression, CVPR",
            "torchvision.ops.generalized_box_iou_loss (eps=1e-7)",
        ),
        inputs=_INPUTS,
        params=(
            ParamSpec(
                "eps",
                1e-7,
                help="added to the union and enclosing areas (torchvision default)",
                low=0.0,
                low_open=True,
            ),
        ),
        aliases=("giou_loss", "generalized_iou"),
        oracle="torchvision generalized_box_iou_loss formula in torch 2.13.0 ops, float64 "
        "(tests/oracle/gen_segmentation.py)",
    ),
    LossSpec(
        name="focal_smooth_l1",
        tasks=_TASKS,
        fn=f"{_FN}:focal_smooth_l1",
        summary="RetinaNet-style loss: focal on match scores + Smooth L1 on boxes",
        formula=(
            "per row: −α_t·(1−p_t)^γ·log p_t on (score, label) + mean over the 4 "
            "coordinates of smooth_l1_β(box); mean over rows"
        ),
        when_to_use=(
            "One-stage detectors (RetinaNet): focal loss handles the extreme imbalance "
            "between object and background anchors, Smooth L1 regresses the boxes. Needs a "
            "score column in the predictions and a 0/1 label column in the targets; without "
            "them it is not computable (data error)."
        ),
        references=(
            "Lin, Goyal, Girshick, He & Dollár (2017), Focal Loss for Dense Object Detection, ICCV",
            "Girshick (2015), Fast R-CNN, ICCV",
            "torchvision.ops.sigmoid_focal_loss; PyTorch torch.nn.SmoothL1Loss",
        ),
        inputs=_INPUTS,
        params=(
            ParamSpec(
                "alpha",
                0.25,
                help="weight of label 1 (1−alpha for label 0); -1 disables",
                low=0.0,
                high=1.0,
                specials=(-1.0,),
            ),
            ParamSpec("gamma", 2.0, help="focusing exponent", low=0.0),
            _BETA,
        ),
        aliases=("retinanet",),
        context=("scores", "labels", "from_logits"),
        needs=_SCORES_AND_LABELS,
        domains=_SCORE_LABEL_DOMAINS,
        oracle="torchvision sigmoid_focal_loss formula in torch 2.13.0 ops + "
        "F.smooth_l1_loss(reduction='none').mean(-1), float64 "
        "(tests/oracle/gen_segmentation.py)",
    ),
)
