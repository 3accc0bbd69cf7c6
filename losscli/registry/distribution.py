"""Registry entries of the distribution-matching losses (``losscli.losses.distribution``).

The multiclass variants of ``kl_div`` and ``cross_entropy`` (class-index targets) live
with the classification family; these take a full target distribution per row.
"""

from __future__ import annotations

from losscli.registry._base import Domain, LossSpec

_TASKS = ("distribution",)
_INPUTS = (
    "predictions: (n, C) predicted distribution Q, one probability row per sample; "
    "targets: (n, C) true distribution P"
)
_FN = "losscli.losses.distribution:"
_DOMAINS = (
    Domain("pred", low=0.0, high=1.0, why="rows are probability distributions"),
    Domain("target", low=0.0, high=1.0, why="rows are probability distributions"),
)

SPECS: tuple[LossSpec, ...] = (
    LossSpec(
        name="kl_div",
        tasks=_TASKS,
        fn=_FN + "kl_div",
        summary="Kullback–Leibler divergence KL(P ‖ Q), summed over classes, mean over rows.",
        formula="mean over rows of Σ_c P_c · log(P_c / Q_c);  0·log 0 = 0 (PyTorch batchmean)",
        when_to_use=(
            "The standard loss for matching a predicted distribution to a target one, as in "
            "distillation, VAEs and probabilistic models. It is asymmetric and becomes "
            "infinite where Q puts zero mass on an outcome P allows; js_div is the bounded, "
            "symmetric alternative."
        ),
        references=(
            "torch.nn.KLDivLoss(reduction='batchmean')",
            "Kullback & Leibler 1951, On Information and Sufficiency, Ann. Math. Statist. 22(1)",
        ),
        inputs=_INPUTS,
        domains=_DOMAINS,
        aliases=("kl", "kld", "kl_divergence", "relative_entropy"),
        oracle="torch.nn.functional.kl_div(torch.log(Q), P, reduction='batchmean')",
    ),
    LossSpec(
        name="js_div",
        tasks=_TASKS,
        fn=_FN + "js_div",
        summary="Jensen–Shannon divergence: symmetric, bounded by log 2.",
        formula="½KL(P ‖ M) + ½KL(Q ‖ M),  M = (P + Q)/2;  0 ≤ JS ≤ log 2",
        when_to_use=(
            "An alternative to kl_div for distribution matching when you want a symmetric "
            "score that stays finite even where one distribution has zeros. Its square root "
            "is a metric, which makes values comparable across models."
        ),
        references=(
            "Lin 1991, Divergence Measures Based on the Shannon Entropy, "
            "IEEE Trans. Inf. Theory 37(1)",
            "scipy.spatial.distance.jensenshannon (returns √JS)",
        ),
        inputs=_INPUTS,
        domains=_DOMAINS,
        aliases=("js", "jsd", "jensen_shannon", "js_divergence"),
        oracle=(
            "no torch function: 0.5*F.kl_div(torch.log(M), P, reduction='batchmean') + "
            "0.5*F.kl_div(torch.log(M), Q, reduction='batchmean'), M = (P + Q)/2"
        ),
    ),
    LossSpec(
        name="cross_entropy",
        tasks=_TASKS,
        fn=_FN + "cross_entropy",
        summary="Cross-entropy of a predicted distribution against a soft target distribution.",
        formula="mean over rows of −Σ_c P_c · max(log Q_c, −100)",
        when_to_use=(
            "Use it to train against soft targets such as teacher outputs or label "
            "distributions: it equals kl_div plus the entropy of P, which the model cannot "
            "change, so it has the same minimiser. Its value never drops to 0 unless P is "
            "one-hot; read kl_div for the gap itself."
        ),
        references=(
            "torch.nn.CrossEntropyLoss (probability targets)",
            "Shannon 1948, A Mathematical Theory of Communication",
        ),
        inputs=_INPUTS,
        domains=_DOMAINS,
        oracle=(
            "-(P * torch.log(Q)).sum(1).mean(); equals "
            "torch.nn.functional.cross_entropy(torch.log(Q), P) for rows of Q summing to 1"
        ),
    ),
)
