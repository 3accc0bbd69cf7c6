"""Data types of the selection guide (``configs/rules.yaml``).

The guide is plain data: a rule says *when* it applies (a task and a set of condition
flags) and *what* it recommends (a loss choice, alternatives, add-ons). The engine
(:mod:`losscli.rules.engine`) only reads these frozen dataclasses, so it can be tested
without YAML, and the loader (:mod:`losscli.rules.load`) is the only place that turns
a file into them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Condition flags of ``losscli recommend`` (SPEC §4), in flag order. On the command
#: line they are spelled with hyphens (``--noisy-labels``); everywhere else with
#: underscores.
CONDITIONS: tuple[str, ...] = (
    "outliers",
    "imbalanced",
    "noisy_labels",
    "overconfident",
    "sparse_features",
    "overfitting",
    "interpretable",
    "large_scale",
    "margin",
)

#: Frameworks a recommendation carries code for. ``losscli`` is the ``evaluate`` line
#: that measures the recommendation on the user's own files.
FRAMEWORKS: tuple[str, ...] = ("pytorch", "keras", "losscli")

#: Ways a rule can reorder the candidates instead of adding one.
PREFERENCES: tuple[str, ...] = ("simplest",)

#: Statistics of the measured data that may fill a parameter (``from_data``), with
#: what they mean. :mod:`losscli.rules.evidence` reports them under ``details``.
DATA_STATISTICS: dict[str, str] = {
    "neg_pos_ratio": "negatives / positives in the targets",
    "huber_delta": "1.345 · MAD-σ of the residuals (--predictions)",
    "focal_alpha": "the share of negatives in the targets",
    "class_weights": "n / (C · count) per class in the targets",
}


@dataclass(frozen=True)
class When:
    """The situation a rule applies to.

    ``task`` None means every task. A rule fires when the task matches and *every*
    condition in ``conditions`` was given; its specificity is ``len(conditions)``.
    """

    task: str | None
    conditions: tuple[str, ...] = ()

    @property
    def specificity(self) -> int:
        return len(self.conditions)


@dataclass(frozen=True)
class SourceRef:
    """Where a piece of advice comes from: a key of ``RuleSet.sources`` and a section."""

    ref: str
    section: str

    def cite(self, sources: dict[str, str]) -> str:
        return f"{sources.get(self.ref, self.ref)}, “{self.section}”"


@dataclass(frozen=True)
class Choice:
    """One loss choice: what to train with, and how to measure it with losscli.

    ``losses`` are the canonical names of the parts (``["dice", "bce"]``); ``measure``
    the losscli losses that evaluate it (``["dice_bce"]``; defaults to ``losses``).
    ``params`` hold typical values; each key is a parameter of at least one measured
    loss. ``from_data`` names parameters whose value comes from the measured data
    (``{"pos_weight": "neg_pos_ratio"}``). ``cost`` ranks compute and tuning burden
    (1 = one elementwise pass, no knob to tune) for ``large_scale``.
    """

    name: str
    losses: tuple[str, ...]
    measure: tuple[str, ...]
    why: str
    cost: int
    params: dict[str, Any] = field(default_factory=dict)
    from_data: dict[str, str] = field(default_factory=dict)
    code: dict[str, str] = field(default_factory=dict)

    def key(self) -> tuple[Any, ...]:
        """Identity used to merge the same advice coming from several rules."""
        params = tuple(
            sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in self.params.items())
        )
        return (self.losses, self.measure, params)


@dataclass(frozen=True)
class Addon:
    """Something to add on top of the chosen loss (label smoothing, L1, L2 …)."""

    id: str
    name: str
    why: str
    params: dict[str, Any] = field(default_factory=dict)
    code: dict[str, str] = field(default_factory=dict)
    source: tuple[SourceRef, ...] = ()


@dataclass(frozen=True)
class Rule:
    """One line of the guide: when → recommendation, alternatives, add-ons."""

    id: str
    when: When
    why: str
    source: tuple[SourceRef, ...] = ()
    recommend: Choice | None = None
    alternatives: tuple[Choice, ...] = ()
    addons: tuple[str, ...] = ()
    prefer: str | None = None
    #: Breaks ties between rules of equal specificity (higher first), then file order.
    priority: int = 0


@dataclass(frozen=True)
class Thresholds:
    """Cut-offs for ``--from-data`` (SPEC §7); the values live in the rules file.

    - ``minority_share``: binary, multilabel (per label) and segmentation (per channel)
      targets count as imbalanced when the rarer class is below this share.
    - ``imbalance_ratio``: multiclass targets count as imbalanced when the largest class
      count divided by the smallest exceeds this ratio.
    - ``robust_z``: a regression target (or residual) is outlying when its robust
      z-score 0.6745·(x − median)/MAD exceeds this in absolute value.
    - ``outlier_share``: the data has outliers when more than this share is outlying.
    - ``excess_kurtosis``: tails heavier than this (Fisher, normal = 0) are reported.
    - ``overconfidence_gap``: mean top-class probability minus accuracy above this
      counts as overconfident.
    """

    minority_share: float
    imbalance_ratio: float
    robust_z: float
    outlier_share: float
    excess_kurtosis: float
    overconfidence_gap: float


@dataclass(frozen=True)
class RuleSet:
    """A whole guide: its rules in file order, the add-on catalogue, the sources."""

    path: str
    version: int
    thresholds: Thresholds
    rules: tuple[Rule, ...]
    addons: dict[str, Addon] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
