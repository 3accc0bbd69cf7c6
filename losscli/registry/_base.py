"""Data types of the loss registry: what a loss is, what it takes, where it is defined.

Registry entries are plain data. ``LossSpec.fn`` names the kernel as
``"module:function"`` (resolved on first use) so listing the catalogue never imports
NumPy or the math modules.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

#: Tasks known to losscli (SPEC §4 ``--task``).
TASKS: tuple[str, ...] = (
    "regression",
    "binary",
    "multiclass",
    "multilabel",
    "segmentation",
    "detection",
    "embedding",
    "distribution",
    "vae",
    "gan",
)

ParamKind = Literal["float", "int", "bool", "choice", "floats"]

#: Framework conventions (SPEC §10 ``--convention``); the first is the default.
CONVENTIONS: tuple[str, ...] = ("torch", "keras", "sklearn", "monai")


@dataclass(frozen=True)
class ParamSpec:
    """One settable parameter of a loss.

    ``kind``: ``float``/``int``/``bool``; ``choice`` (one of ``choices``); ``floats`` (a
    comma-separated list of numbers, or one of ``words``). ``words`` are extra literal
    values accepted besides numbers (``none``, ``balanced``). Bounds are inclusive unless
    ``low_open``/``high_open``.
    """

    name: str
    default: Any
    kind: ParamKind = "float"
    help: str = ""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    #: Exceptional numeric values allowed outside the range (e.g. focal alpha=-1 disables).
    specials: tuple[float, ...] = ()

    def range_text(self) -> str:
        """Human description of the allowed values."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        parts: list[str] = []
        if self.low is not None or self.high is not None:
            parts.append(interval_text(self.low, self.high, self.low_open, self.high_open))
        else:
            parts.append("any number")
        if self.kind == "int":
            parts[0] = "integer in " + parts[0]
        if self.kind == "floats":
            parts[0] = "number or comma-separated list of numbers in " + parts[0]
        for s in self.specials:
            parts.append(_fmt(s))
        for w in self.words:
            parts.append(w)
        return " or ".join(parts)

    def in_range(self, value: float) -> bool:
        """Whether ``value`` is inside the bounds or one of the :attr:`specials`."""
        return value in self.specials or in_interval(
            value, value, self.low, self.high, self.low_open, self.high_open
        )


def _fmt(x: float) -> str:
    if isinstance(x, float) and x.is_integer():
        return str(int(x))
    return repr(x)


def interval_text(
    low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
) -> str:
    """``[low, high]`` with ``(``/``)`` for open or missing bounds (missing: ±inf)."""
    lo = "(" if (low_open or low is None) else "["
    hi = ")" if (high_open or high is None) else "]"
    lo_v = "-inf" if low is None else _fmt(low)
    hi_v = "inf" if high is None else _fmt(high)
    return f"{lo}{lo_v}, {hi_v}{hi}"


def in_interval(
    lo_val: float,
    hi_val: float,
    low: float | None,
    high: float | None,
    low_open: bool = False,
    high_open: bool = False,
) -> bool:
    """Whether the observed range [lo_val, hi_val] lies inside the interval (the one
    bounds rule of parameters and input domains)."""
    if low is not None and (lo_val <= low if low_open else lo_val < low):
        return False
    return not (high is not None and (hi_val >= high if high_open else hi_val > high))


#: How :meth:`Domain.describe` names the two main inputs (context arrays keep their name).
_INPUT_NAMES = {"pred": "predictions", "target": "targets"}


@dataclass(frozen=True)
class Domain:
    """A constraint on an input array, checked before the kernel runs (SPEC §5 Domains).

    ``input`` is ``"pred"``, ``"target"`` or a context array the kernel declares
    (``"scores"``, ``"labels"``). ``when`` restricts the check to one input kind
    (``"probabilities"`` or ``"logits"``); ``None`` means always.
    """

    input: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    when: str | None = None
    why: str = ""
    #: ``param=value`` (or ``param!=value``): the domain does not hold when that parameter
    #: has (or has not) that value (poisson_nll's rate ≥ 0 is lifted by
    #: ``log_input=true``, msle's > −1 by a ``clip``); "" always holds.
    unless: str = ""

    def lifted_by(self, params: Mapping[str, Any]) -> bool:
        """Whether ``params`` switch this domain off (see :attr:`unless`)."""
        if not self.unless:
            return False
        if "!=" in self.unless:
            key, _, value = self.unless.partition("!=")
            return str(params.get(key.strip())).lower() != value.strip().lower()
        key, _, value = self.unless.partition("=")
        return str(params.get(key.strip())).lower() == value.strip().lower()

    def describe(self) -> str:
        """``predictions in [0, 1] (when probabilities)``."""
        name = _INPUT_NAMES.get(self.input, self.input)
        bounds = interval_text(self.low, self.high, self.low_open, self.high_open)
        when = f" (when {self.when})" if self.when else ""
        return f"{name} in {bounds}{when}"

    def contains(self, lo_val: float, hi_val: float) -> bool:
        """Whether the observed range [lo_val, hi_val] lies inside the domain."""
        return in_interval(lo_val, hi_val, self.low, self.high, self.low_open, self.high_open)


@dataclass(frozen=True)
class Needs:
    """Context arrays without which a loss is not computable: when one is absent, the
    engine reports ``message`` and ``hint`` as a data error (or the loss as not
    applicable in a run over every loss), before the kernel runs."""

    arrays: tuple[str, ...]
    message: str
    hint: str = ""

    def missing(self, context: Mapping[str, Any] | None) -> bool:
        """Whether one of the arrays is absent from ``context``."""
        ctx = context or {}
        return any(ctx.get(name) is None for name in self.arrays)


@dataclass(frozen=True)
class Convention:
    """What one framework does for a loss (SPEC §10): the peer ``api`` it mirrors, the
    parameter values that reproduce it (``params``, as ``(name, value)`` pairs; the rest
    keep the spec's defaults), and ``note`` on what cannot be matched, if anything.
    ``api`` empty means the framework has no such loss (the defaults apply)."""

    name: str
    api: str = ""
    params: tuple[tuple[str, Any], ...] = ()
    note: str = ""

    def values(self) -> dict[str, Any]:
        return dict(self.params)


@dataclass(frozen=True)
class LossSpec:
    """Everything losscli knows about one loss on one family of tasks.

    A name may have several specs for different tasks (``focal`` binary vs multiclass);
    their ``tasks`` never overlap.
    """

    name: str
    tasks: tuple[str, ...]
    fn: str
    summary: str
    formula: str
    when_to_use: str
    references: tuple[str, ...]
    inputs: str
    params: tuple[ParamSpec, ...] = ()
    domains: tuple[Domain, ...] = ()
    aliases: tuple[str, ...] = ()
    #: Context keywords the kernel accepts besides params (``from_logits``, ``layout``,
    #: ``mu``, ``logvar``, ``scores``, ``labels``) — filled by compute, not by the user.
    context: tuple[str, ...] = ()
    #: Context arrays the loss cannot do without (focal_smooth_l1's scores and labels).
    needs: Needs | None = None
    #: True when the loss is a (weighted) mean of per-row terms that can be computed
    #: block by block and merged. False for losses that need every row at once
    #: (all-pairs contrastive, batch-hard triplet).
    decomposable: bool = True
    #: Transform applied to the reduced mean (``"sqrt"`` for rmse), or None.
    finalize: str | None = None
    #: Reference implementation the oracle fixture compares with, or why there is none.
    oracle: str = ""
    #: Whether the default "every applicable loss" run includes it.
    default: bool = True
    #: Lower is better for every loss; kept explicit for machine consumers.
    higher_is_better: bool = False
    #: Per framework (``keras``, ``sklearn`` …): the peer API and the parameter values
    #: that reproduce it (:class:`Convention`); ``torch`` is the spec's defaults.
    conventions: tuple[Convention, ...] = ()

    _fn_cache: dict[str, Callable[..., Any]] = field(
        default_factory=dict, repr=False, compare=False, hash=False
    )

    def kernel(self) -> Callable[..., Any]:
        """Import and return the kernel function."""
        fn = self._fn_cache.get("fn")
        if fn is None:
            module, _, attr = self.fn.partition(":")
            fn = getattr(importlib.import_module(module), attr)
            self._fn_cache["fn"] = fn
        return fn

    @property
    def row_values(self) -> bool:
        """Whether each row has a loss of its own (for ``--worst``): every mean of per-row
        terms, rmse ranked by the root of its term; not a calibration error, which is a
        function of bin sums."""
        return self.finalize in (None, "sqrt")

    def param(self, name: str) -> ParamSpec | None:
        for p in self.params:
            if p.name == name:
                return p
        return None

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def under(self, params: Mapping[str, Any]) -> LossSpec:
        """This spec with only the domains that hold under ``params`` (itself when every
        domain holds)."""
        kept = tuple(d for d in self.domains if not d.lifted_by(params))
        if len(kept) == len(self.domains):
            return self
        return replace(self, domains=kept, _fn_cache={})

    def convention(self, name: str) -> Convention | None:
        """What framework ``name`` does for this loss, or None when it is not declared."""
        for c in self.conventions:
            if c.name == name:
                return c
        return None

    def convention_defaults(self, name: str) -> dict[str, Any]:
        """The parameter defaults under framework convention ``name`` (the spec's defaults
        updated with the convention's values)."""
        out = self.defaults()
        c = self.convention(name)
        if c is not None:
            out.update(c.values())
        return out

    def missing_context(self, context: Mapping[str, Any] | None) -> Needs | None:
        """The unmet :attr:`needs` of these context arrays, or None when they are all
        there."""
        if self.needs is not None and self.needs.missing(context):
            return self.needs
        return None
