"""Registry entries of the embedding (metric-learning) losses.

Kernels: :mod:`losscli.losses.embedding`. The ``layout`` context says what the rows hold
(``labels``, ``distance``, ``pairs``, ``triplets``; see that module).
"""

from __future__ import annotations

from losscli.registry._base import LossSpec, ParamSpec

_LAYOUTS_TEXT = (
    "layout labels: predictions (n, d) embeddings, targets (n,) class labels; "
    "layout distance: predictions (n,) distances, targets (n,) 1 similar / 0 dissimilar; "
    "layout pairs: predictions (n, 2d) = embedding a | embedding b, targets as for distance; "
    "layout triplets: predictions (n, 3d) = anchor | positive | negative, no targets"
)

CONTRASTIVE = LossSpec(
    name="contrastive",
    tasks=("embedding",),
    fn="losscli.losses.embedding:contrastive",
    summary="Contrastive loss (Hadsell, squared form): pulls similar pairs together, pushes "
    "dissimilar pairs beyond a margin.",
    formula="½·y·d² + ½·(1−y)·max(0, m − d)², d = ‖a − b‖₂, y = 1 similar / 0 dissimilar; "
    "from labels: mean over all unordered pairs i<j (y = 1 when the labels match)",
    when_to_use="Learning an embedding or similarity metric from labelled pairs (siamese "
    "networks, verification). The selection guide lists it beside triplet loss for "
    "embeddings; it needs only pairs, not triplets. Distances are Euclidean and not "
    "normalised; the margin is in the same units as the embeddings.",
    references=(
        "Hadsell, Chopra & LeCun, 'Dimensionality Reduction by Learning an Invariant "
        "Mapping', CVPR 2006 (eq. 4)",
    ),
    inputs=_LAYOUTS_TEXT + " (contrastive accepts labels, distance, pairs)",
    params=(
        ParamSpec(
            "margin",
            1.0,
            help="distance beyond which dissimilar pairs cost nothing",
            low=0.0,
        ),
    ),
    aliases=("contrastive_loss", "hadsell"),
    context=("layout",),
    decomposable=False,
    oracle="No library implements Hadsell's squared form (PyTorch Metric Learning uses "
    "unsquared hinges on normalised embeddings), so the reference is the formula written "
    "with torch 2.13.0 float64 tensor ops (tests/oracle/gen_embedding.py).",
)

TRIPLET = LossSpec(
    name="triplet",
    tasks=("embedding",),
    fn="losscli.losses.embedding:triplet",
    summary="Triplet margin loss: an anchor must be closer to a positive than to a "
    "negative by a margin; from labels with batch-hard mining.",
    formula="max(0, d(a,p) − d(a,n) + m), d(x,y) = ‖x − y + eps‖₂ (PyTorch); from labels, "
    "mining=hard: per anchor its farthest positive and nearest negative (anchors lacking "
    "either are skipped); mining=all: mean over every valid (a,p,n)",
    when_to_use="The selection guide's first choice for embeddings: face recognition, "
    "re-identification, retrieval. It constrains relative distances, so it suits ranking "
    "better than contrastive loss. Batch-hard mining focuses on the hardest examples; "
    "mining=all is gentler but costs O(n² log n).",
    references=(
        "Schroff, Kalenichenko & Philbin, 'FaceNet: A Unified Embedding for Face "
        "Recognition and Clustering', CVPR 2015",
        "Hermans, Beyer & Leibe, 'In Defense of the Triplet Loss for Person "
        "Re-Identification', arXiv:1703.07737, 2017 (batch-hard)",
        "torch.nn.TripletMarginLoss (PyTorch 2.13)",
    ),
    inputs=_LAYOUTS_TEXT + " (triplet accepts labels, triplets)",
    params=(
        ParamSpec(
            "margin",
            1.0,
            help="required gap between the positive and the negative distance",
            low=0.0,
        ),
        ParamSpec(
            "eps",
            1e-6,
            help="added to each coordinate of the difference before the norm (PyTorch)",
            low=0.0,
        ),
        ParamSpec(
            "mining",
            "hard",
            kind="choice",
            choices=("hard", "all"),
            help="triplets formed from labels: batch-hard, or every valid triplet",
        ),
    ),
    aliases=("triplet_margin", "triplet_loss"),
    context=("layout",),
    decomposable=False,
    oracle="torch 2.13.0 F.triplet_margin_loss(a, p, n, margin=m, p=2, eps=eps) in float64, "
    "on explicit triplets and on batch-hard / all triplets mined with torch ops.",
)

COSINE_EMBEDDING = LossSpec(
    name="cosine_embedding",
    tasks=("embedding",),
    fn="losscli.losses.embedding:cosine_embedding",
    summary="Cosine embedding loss (PyTorch): similar pairs toward cosine 1, dissimilar "
    "pairs below a cosine margin.",
    formula="cos = a·b / √((‖a‖² + 1e-12)(‖b‖² + 1e-12)); y = 1: 1 − cos; y = 0: "
    "max(0, cos − m); from labels: mean over all unordered pairs i<j",
    when_to_use="Embeddings compared by angle rather than distance (text and sentence "
    "embeddings, normalised features); scale-free, so it ignores vector length.",
    references=("torch.nn.CosineEmbeddingLoss (PyTorch 2.13)",),
    inputs=_LAYOUTS_TEXT + " (cosine_embedding accepts labels, pairs; targets of −1 read as "
    "dissimilar)",
    params=(
        ParamSpec(
            "margin",
            0.0,
            help="cosine below which dissimilar pairs cost nothing",
            low=-1.0,
            high=1.0,
        ),
    ),
    aliases=("cosine_embedding_loss",),
    context=("layout",),
    decomposable=False,
    oracle="torch 2.13.0 F.cosine_embedding_loss(a, b, y) with y in {−1, 1}, float64.",
)

SPECS: tuple[LossSpec, ...] = (TRIPLET, CONTRASTIVE, COSINE_EMBEDDING)
