"""Registry entries of the classification losses (SPEC §6: binary, multilabel, multiclass).

Binary and multilabel losses are elementwise (``pred``/``target`` of the same shape);
multiclass losses take ``pred (n, C)`` and integer class indices ``target (n,)``. Every
kernel accepts the ``from_logits`` context keyword. Kernels live in
:mod:`losscli.losses.classification`.
"""

from __future__ import annotations

from losscli.registry._base import Domain, LossSpec, ParamSpec

_FN = "losscli.losses.classification"
_CONTEXT = ("from_logits",)
_BIN = ("binary",)
_BIN_ML = ("binary", "multilabel")
_MC = ("multiclass",)

_INPUTS_BIN = (
    "predictions: one column of probabilities of the positive class, or logits with "
    "--logits; targets: one column of 0/1 labels (soft labels in [0, 1] accepted)"
)
_INPUTS_BIN_ML = (
    _INPUTS_BIN + ". Multilabel: L prediction columns and L 0/1 target columns; the loss "
    "is averaged over the labels of each row"
)
_INPUTS_MC = (
    "predictions: C columns, one per class, of probabilities (rows summing to 1) or "
    "logits with --logits; targets: class indices 0..C−1 (or class names matching the "
    "prediction columns, or one-hot columns)"
)

_PRED_PROB = Domain(
    "pred",
    0.0,
    1.0,
    when="probabilities",
    why="probabilities must lie in [0, 1]; pass --logits for raw scores",
)
_TARGET_01 = Domain("target", 0.0, 1.0, why="labels are 0/1 (soft labels in [0, 1])")
_TARGET_INDEX = Domain("target", 0.0, None, why="targets are class indices 0..C−1")

_DOMAINS_BIN = (_PRED_PROB, _TARGET_01)
_DOMAINS_MC = (_PRED_PROB, _TARGET_INDEX)

_REF_TORCH_BCE = "PyTorch torch.nn.BCELoss / BCEWithLogitsLoss (log clamp at −100, pos_weight)"
_REF_SK_LOGLOSS = "scikit-learn sklearn.metrics.log_loss (clips p to [eps, 1−eps])"
_REF_FOCAL = "Lin, Goyal, Girshick, He & Dollár (2017), Focal Loss for Dense Object Detection, ICCV"
_REF_LS = (
    "Szegedy, Vanhoucke, Ioffe, Shlens & Wojna (2016), Rethinking the Inception "
    "Architecture for Computer Vision, CVPR (label smoothing)"
)
_REF_BRIER = (
    "Brier (1950), Verification of Forecasts Expressed in Terms of Probability, "
    "Monthly Weather Review 78"
)

_GAMMA = ParamSpec(
    "gamma",
    2.0,
    help="focusing exponent: larger values down-weight easy examples more; 0 gives CE",
    low=0.0,
)

SPECS: tuple[LossSpec, ...] = (
    # ------------------------------------------------------------ binary / multilabel
    LossSpec(
        name="bce",
        tasks=_BIN_ML,
        fn=f"{_FN}:bce",
        summary="Binary cross-entropy (log loss) of predicted probabilities or logits",
        formula=(
            "−[w_p·y·log p + (1−y)·log(1−p)]; probabilities: each log clamped at −100 "
            "(torch), or p clipped to [eps, 1−eps] when eps is set; logits: "
            "(1−y)·x + (1 + (w_p−1)·y)·softplus(−x); label smoothing y ← y(1−ε) + ε/2"
        ),
        when_to_use=(
            "The default for binary classification with a sigmoid output, and for "
            "multilabel problems (one independent sigmoid per label): it is the negative "
            "log-likelihood of a Bernoulli model, so minimising it yields calibrated "
            "probabilities and strong gradients on confident mistakes. For class imbalance "
            "raise pos_weight (≈ negatives/positives) or switch to focal; for an "
            "overconfident model add label_smoothing ≈ 0.1. Prefer logits when you have "
            "them: the logit path stays exact where probabilities have rounded to 0 or 1."
        ),
        references=(
            _REF_TORCH_BCE,
            _REF_SK_LOGLOSS,
            "Keras keras.losses.BinaryCrossentropy (label_smoothing: y(1−ε) + ε/2)",
        ),
        inputs=_INPUTS_BIN_ML,
        params=(
            ParamSpec(
                "pos_weight",
                1.0,
                help="weight of the positive term (torch pos_weight); > 1 raises recall",
                low=0.0,
                low_open=True,
            ),
            ParamSpec(
                "label_smoothing",
                0.0,
                help="targets become y·(1−ε) + ε/2 (Keras binary convention)",
                low=0.0,
                high=1.0,
            ),
            ParamSpec(
                "eps",
                "none",
                help=(
                    "probabilities only: clip p to [eps, 1−eps] instead of clamping logs "
                    "at −100 (scikit-learn uses 2.22e-16, Keras 1e-7)"
                ),
                low=0.0,
                high=0.5,
                low_open=True,
                high_open=True,
                words=("none",),
            ),
        ),
        domains=_DOMAINS_BIN,
        aliases=("log_loss", "binary_cross_entropy", "binary_crossentropy", "logloss"),
        context=_CONTEXT,
        oracle=(
            "torch 2.13.0 float64 F.binary_cross_entropy, F.binary_cross_entropy_with_logits"
            "(pos_weight), smoothed targets y(1−ε)+ε/2; scikit-learn 1.9 log_loss for "
            "eps=2.22e-16 (tests/oracle/gen_classification.py)"
        ),
    ),
    LossSpec(
        name="focal",
        tasks=_BIN_ML,
        fn=f"{_FN}:focal",
        summary="Sigmoid focal loss: cross-entropy that down-weights easy examples",
        formula=(
            "−α_t·(1−p_t)^γ·log p_t, p_t = p·y + (1−p)(1−y), α_t = α for y = 1 and 1−α "
            "for y = 0 (torchvision sigmoid_focal_loss); alpha = −1 disables α_t"
        ),
        when_to_use=(
            "Class imbalance: the factor (1−p_t)^γ shrinks the loss of examples the model "
            "already gets right, so the rare, hard cases dominate training (dense object "
            "detection, rare-event and rare-disease detection). Note that torchvision's "
            "default α = 0.25 weights the positive class down, not up; use alpha = −1 to "
            "disable it. γ = 0 with alpha = −1 is exactly bce."
        ),
        references=(_REF_FOCAL, "torchvision.ops.sigmoid_focal_loss (alpha=0.25, gamma=2)"),
        inputs=_INPUTS_BIN_ML,
        params=(
            ParamSpec(
                "alpha",
                0.25,
                help="weight of the positive class (1−alpha for negatives); −1 disables",
                low=0.0,
                high=1.0,
                specials=(-1.0,),
            ),
            _GAMMA,
        ),
        domains=_DOMAINS_BIN,
        aliases=("focal_loss", "sigmoid_focal"),
        context=_CONTEXT,
        oracle=(
            "torchvision.ops.sigmoid_focal_loss written in torch 2.13.0 ops, float64 "
            "(torchvision does not import beside the CPU wheel); probabilities: the same with "
            "clamped-log F.binary_cross_entropy (tests/oracle/gen_classification.py)"
        ),
    ),
    LossSpec(
        name="hinge",
        tasks=_BIN,
        fn=f"{_FN}:hinge",
        summary="Binary hinge loss of a margin classifier (SVM)",
        formula=(
            "max(0, m − t·s), t = 2y − 1 (0/1 labels → −1/+1), s = logit, or 2p − 1 for "
            "probabilities"
        ),
        when_to_use=(
            "Maximum-margin classification (linear SVMs, some deep nets): only examples "
            "inside the margin or misclassified cost anything, so it concentrates on the "
            "decision boundary and ignores well-separated points. It does not produce or "
            "reward calibrated probabilities; use bce when probabilities matter. The label "
            "mapping 0/1 → −1/+1 (and 2p − 1 for probability scores) is always reported."
        ),
        references=(
            "Cortes & Vapnik (1995), Support-Vector Networks, Machine Learning 20",
            "scikit-learn sklearn.metrics.hinge_loss",
        ),
        inputs=_INPUTS_BIN,
        params=(ParamSpec("margin", 1.0, help="required margin m of t·s", low=0.0),),
        domains=_DOMAINS_BIN,
        aliases=("hinge_loss",),
        context=_CONTEXT,
        oracle=(
            "scikit-learn 1.9 hinge_loss(y, s) (margin m: m·hinge_loss(y, s/m)), "
            "s = logits or 2p−1 (tests/oracle/gen_classification.py)"
        ),
    ),
    LossSpec(
        name="squared_hinge",
        tasks=_BIN,
        fn=f"{_FN}:squared_hinge",
        summary="Squared binary hinge loss",
        formula="max(0, 1 − t·s)², t = 2y − 1, s = logit or 2p − 1",
        when_to_use=(
            "Margin classification with a smooth (differentiable) penalty: margin "
            "violations cost quadratically, so large violations weigh more than with hinge "
            "(L2-SVM). Same label and score mappings as hinge."
        ),
        references=(
            "Lee & Lin (2013), A Study on L2-Loss (Squared Hinge-Loss) Multiclass SVM, "
            "Neural Computation 25",
            "Keras keras.losses.SquaredHinge",
        ),
        inputs=_INPUTS_BIN,
        domains=_DOMAINS_BIN,
        aliases=("squared_hinge_loss",),
        context=_CONTEXT,
        oracle=(
            "torch 2.13.0 float64 torch.clamp(1 − t·s, min=0)**2 mean "
            "(no library function; tests/oracle/gen_classification.py)"
        ),
    ),
    LossSpec(
        name="brier",
        tasks=_BIN,
        fn=f"{_FN}:brier",
        summary="Brier score: mean squared error of the predicted probability",
        formula="(p − y)², p = sigmoid(logit) for logits (not halved)",
        when_to_use=(
            "Judging how well calibrated predicted probabilities are: bounded in [0, 1] "
            "and far gentler than log loss on a confident mistake, so one bad prediction "
            "cannot dominate it. A scoring rule for model comparison rather than a "
            "training loss."
        ),
        references=(_REF_BRIER, "scikit-learn sklearn.metrics.brier_score_loss"),
        inputs=_INPUTS_BIN,
        domains=_DOMAINS_BIN,
        aliases=("brier_score", "brier_score_loss"),
        context=_CONTEXT,
        oracle="scikit-learn 1.9 brier_score_loss(y, p) (tests/oracle/gen_classification.py)",
    ),
    # ------------------------------------------------------------ multiclass
    LossSpec(
        name="cross_entropy",
        tasks=_MC,
        fn=f"{_FN}:cross_entropy",
        summary="Categorical cross-entropy of softmax logits or class probabilities",
        formula=(
            "−log softmax(z)_y (logits) or −max(log p_y, −100) (probabilities); label "
            "smoothing: (1−ε)·(−log p_y) + (ε/C)·Σ_c(−log p_c); class weights w: mean "
            "Σ w_y·l / Σ w_y (torch, smoothing term Σ_c w_c·(−log p_c)); "
            "weight=balanced: w_c = n/(C·count_c)"
        ),
        when_to_use=(
            "The default for multiclass classification with a softmax output: the "
            "negative log-likelihood of a categorical model (maximum likelihood). For "
            "imbalanced classes set weight=balanced (or a list of class weights) or switch "
            "to focal; for an overconfident model add label_smoothing ≈ 0.1, which "
            "softens the one-hot target, improves calibration and acts as a regulariser. "
            "ignore_index drops rows with that label (e.g. -100, unlabelled)."
        ),
        references=(
            "PyTorch torch.nn.CrossEntropyLoss (weight, ignore_index, label_smoothing)",
            "pytorch/pytorch#104776 (class weights with label smoothing)",
            _REF_LS,
            "scikit-learn sklearn.utils.class_weight.compute_class_weight('balanced')",
        ),
        inputs=_INPUTS_MC,
        params=(
            ParamSpec(
                "label_smoothing",
                0.0,
                help="target becomes (1−ε)·onehot + ε/C (torch)",
                low=0.0,
                high=1.0,
            ),
            ParamSpec(
                "weight",
                "none",
                kind="floats",
                help=(
                    "class weights: a list of C numbers, 'balanced' for n/(C·count_c) over "
                    "the targets, or none"
                ),
                low=0.0,
                words=("none", "balanced"),
            ),
            ParamSpec(
                "ignore_index",
                "none",
                kind="int",
                help="target value whose rows are left out (torch's default is -100)",
                words=("none",),
            ),
        ),
        domains=(_PRED_PROB,),
        aliases=("ce", "categorical_cross_entropy", "categorical_crossentropy", "nll"),
        context=_CONTEXT,
        # weight=balanced counts the classes over every target row, so the kernel needs
        # all rows in one call.
        decomposable=False,
        oracle=(
            "torch 2.13.0 float64 F.cross_entropy(z, y, weight, label_smoothing, "
            "ignore_index); probabilities: F.nll_loss(log P) / F.cross_entropy(log P) "
            "(tests/oracle/gen_classification.py)"
        ),
    ),
    LossSpec(
        name="focal",
        tasks=_MC,
        fn=f"{_FN}:focal_multiclass",
        summary="Softmax focal loss: cross-entropy that down-weights easy examples",
        formula=(
            "−α_y·(1 − p_y)^γ·log p_y, p = softmax(z) or the given probabilities (log "
            "clamped at −100); a scalar alpha scales every class, a list is per class"
        ),
        when_to_use=(
            "Multiclass problems with class imbalance or many easy examples: (1 − p_y)^γ "
            "lets the hard, rare cases dominate. A scalar alpha only rescales the loss "
            "(Keras convention); give one alpha per class to re-weight classes. "
            "γ = 0 and alpha = 1 is cross_entropy."
        ),
        references=(_REF_FOCAL, "Keras keras.losses.CategoricalFocalCrossentropy"),
        inputs=_INPUTS_MC,
        params=(
            ParamSpec(
                "alpha",
                0.25,
                kind="floats",
                help="scale of every class, or a comma-separated list with one value per class",
                low=0.0,
                high=1.0,
            ),
            _GAMMA,
        ),
        domains=_DOMAINS_MC,
        context=_CONTEXT,
        oracle=(
            "torch 2.13.0 float64: −α_y·(1 − exp(ls_y))^γ·ls_y with ls = F.log_softmax(z) "
            "(MONAI softmax_focal_loss form), or clamped log P (tests/oracle/gen_classification.py)"
        ),
    ),
    LossSpec(
        name="multi_hinge",
        tasks=_MC,
        fn=f"{_FN}:multi_hinge",
        summary="Multiclass hinge loss (Crammer–Singer)",
        formula="max(0, 1 + max_{j≠y} s_j − s_y), scores s = logits or probabilities as given",
        when_to_use=(
            "Margin-based multiclass classification (multiclass SVMs): the true class must "
            "beat the best other class by a margin of 1; rows already separated cost "
            "nothing. Does not reward calibrated probabilities. Note torch's "
            "MultiMarginLoss is the different Weston–Watkins sum."
        ),
        references=(
            "Crammer & Singer (2001), On the Algorithmic Implementation of Multiclass "
            "Kernel-based Vector Machines, JMLR 2",
            "scikit-learn sklearn.metrics.hinge_loss (multiclass)",
        ),
        inputs=_INPUTS_MC,
        domains=(_TARGET_INDEX,),
        aliases=("crammer_singer", "multiclass_hinge"),
        context=_CONTEXT,
        oracle=(
            "scikit-learn 1.9 hinge_loss(y, S, labels=range(C)) "
            "(tests/oracle/gen_classification.py)"
        ),
    ),
    LossSpec(
        name="brier",
        tasks=_MC,
        fn=f"{_FN}:brier_multiclass",
        summary="Multiclass Brier score: squared error of the probability vector",
        formula="Σ_c (p_c − onehot_c)² per row, mean (range [0, 2]); softmax first for logits",
        when_to_use=(
            "Judging the calibration of a whole predicted class distribution: bounded and "
            "gentle on confident mistakes compared with cross-entropy. A scoring rule for "
            "comparing models rather than a training loss."
        ),
        references=(_REF_BRIER, "scikit-learn sklearn.metrics.brier_score_loss (multiclass)"),
        inputs=_INPUTS_MC,
        domains=_DOMAINS_MC,
        context=_CONTEXT,
        oracle=(
            "scikit-learn 1.9 brier_score_loss(y, P, labels=range(C), scale_by_half=False) "
            "(tests/oracle/gen_classification.py)"
        ),
    ),
    LossSpec(
        name="kl_div",
        tasks=_MC,
        fn=f"{_FN}:kl_div_multiclass",
        summary="KL divergence from the one-hot target to the predicted distribution",
        formula=(
            "KL(onehot_y ‖ q) = −log q_y per row, mean over rows (torch batchmean); log q "
            "from log_softmax of logits or log Q clamped at −100"
        ),
        when_to_use=(
            "Distribution matching and distillation; with hard one-hot targets it equals "
            "cross_entropy (the target's entropy is 0), so it is listed for comparison "
            "with soft-target runs of the distribution task."
        ),
        references=(
            "Kullback & Leibler (1951), On Information and Sufficiency, Annals of "
            "Mathematical Statistics 22",
            "PyTorch torch.nn.KLDivLoss (reduction='batchmean')",
        ),
        inputs=_INPUTS_MC,
        domains=_DOMAINS_MC,
        context=_CONTEXT,
        oracle=(
            "torch 2.13.0 float64 F.kl_div(log Q, onehot, reduction='batchmean'), "
            "log Q = F.log_softmax(z) for logits (tests/oracle/gen_classification.py)"
        ),
    ),
)
