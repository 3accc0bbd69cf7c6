"""Every setting of ``evaluate`` and ``compare``, declared once.

Each :class:`Setting` gives a setting's name (the attribute of :class:`RunOptions` and
the keyword of the Python API), its command-line flag, help text, kind, default and
``--config`` key. From this table come:

* the Typer options of ``losscli evaluate`` / ``compare`` (:mod:`losscli.cli`);
* the keys ``--config FILE.yaml`` accepts and how each is checked (:mod:`losscli.config`);
* how every value is checked, whatever its source (:func:`value_problem`);
* the keyword arguments of :func:`losscli.evaluate` / :func:`losscli.compare` (written
  out there with their types; a test keeps them equal to this table).

:func:`losscli.config.resolve` is the one place where precedence lives: flags (or API
keywords) win over ``--config``, which wins over the defaults. Nothing heavy is imported
here, so ``losscli --help`` stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from losscli.errors import UsageError, unknown_name
from losscli.registry._base import CONVENTIONS, TASKS
from losscli.safeyaml import shown

#: Every task name (the registry's order), and ``auto``.
TASK_CHOICES = ("auto", *TASKS)
REDUCTIONS = ("mean", "sum")
INPUT_KINDS = ("probabilities", "logits")
HEADER_CHOICES = ("auto", "yes", "no")
DECIMAL_CHOICES = (".", ",")
#: ``--dtype``: the precisions a run can be recomputed in (SPEC §13).
DTYPES = ("float16", "bfloat16", "float32")

BOTH = ("evaluate", "compare")
EVALUATE = ("evaluate",)
COMPARE = ("compare",)


@dataclass(frozen=True)
class Setting:
    """One setting: where it comes from and what values it takes.

    ``kind`` is one of ``str``, ``strs`` (repeatable), ``bool`` (``--x/--no-x``),
    ``int``, ``float``, ``choice``, ``task``, ``input`` (``--logits``/``--probs``),
    ``params`` (``--param LOSS.KEY=VALUE``), ``gates`` (``--max LOSS=V``), ``increases``
    (``--max-increase LOSS=5%|0.02``), ``losses``, ``names`` (comma-separated) or ``path``. ``config`` is the dotted ``--config`` key
    (None: flag only); ``minimum`` bounds numbers; ``choices`` bounds words.
    """

    name: str
    flag: str
    help: str
    kind: str = "str"
    default: Any = None
    config: str | None = None
    commands: tuple[str, ...] = BOTH
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    #: What a valid value is, in words (default: from ``kind`` and ``minimum``).
    allowed: str | None = None

    @property
    def py_type(self) -> type:
        """The Python type of one value: ``bool``, ``int``, ``float`` or ``str`` (one
        item of a repeatable flag; ``--logits``/``--probs`` are two ``bool`` flags)."""
        return _PY_TYPES.get(self.kind, str)

    @property
    def repeatable(self) -> bool:
        """Whether the flag may be given several times (``--loss a --loss b``)."""
        return self.kind in ("losses", "strs", "params", "gates", "increases")

    def describe(self) -> str:
        """What a valid value is: ``a positive integer``, ``a number ≥ 0`` …"""
        if self.allowed is not None:
            return self.allowed
        if self.kind == "bool":
            return "true or false"
        noun = {"int": "an integer", "float": "a number"}.get(self.kind)
        if noun is None:
            return "one of: " + ", ".join(self.choices) if self.choices else "a value"
        if self.minimum is None:
            return noun
        if self.kind == "int" and self.minimum in (0, 1):
            return "a positive integer" + (" or 0" if self.minimum == 0 else "")
        return f"{noun} ≥ {self.minimum:g}"


_PY_TYPES: dict[str, type] = {"bool": bool, "int": int, "float": float}

#: The two flags of the ``input`` setting and the value each gives ``logits``.
INPUT_FLAGS = {"logits": True, "probs": False}


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "task",
        "--task",
        "auto (default) or one of: " + ", ".join(TASKS) + " (any case).",
        kind="task",
        default="auto",
        config="task",
    ),
    Setting(
        "losses",
        "--loss",
        "Loss to compute (repeatable); default: every loss of the task.",
        kind="losses",
        config="losses",
    ),
    Setting(
        "params",
        "--param",
        "LOSS.KEY=VALUE, e.g. huber.delta=2 (repeatable).",
        kind="params",
        default={},
        config="params",
    ),
    Setting(
        "logits",
        "--logits",
        "Predictions are logits (--logits) or probabilities (--probs); default: inferred.",
        kind="input",
        config="input",
        choices=INPUT_KINDS,
    ),
    Setting(
        "pred_cols",
        "--pred-col",
        "Prediction column (repeatable).",
        kind="strs",
        default=(),
        config="columns.pred",
    ),
    Setting(
        "target_cols",
        "--target-col",
        "Target column (repeatable).",
        kind="strs",
        default=(),
        config="columns.target",
    ),
    Setting("id_col", "--id-col", "Join the files on this id column.", config="columns.id"),
    Setting(
        "group_col",
        "--group-col",
        "Image id column (segmentation, long form).",
        config="columns.group",
    ),
    Setting(
        "weight_col",
        "--weight-col",
        "Sample weight column (weighted mean).",
        config="columns.weight",
    ),
    Setting(
        "pos_label",
        "--pos-label",
        "The positive class of binary targets given as names (yes, malignant).",
        config="pos_label",
        metavar="LABEL",
    ),
    Setting(
        "gates",
        "--max",
        "Gate LOSS=V: exit 1 if LOSS > V, for every model with compare (repeatable).",
        kind="gates",
        default={},
        config="gates.max",
    ),
    Setting(
        "exit_zero",
        "--exit-zero",
        "Exit 0 when a gate fails (report only); errors keep their exit codes 2, 3, 4.",
        kind="bool",
        default=False,
        config="exit_zero",
    ),
    Setting(
        "worst",
        "--worst",
        "Show the K rows with the largest loss.",
        kind="int",
        config="worst",
        commands=EVALUATE,
        minimum=1,
    ),
    Setting(
        "per_sample_path",
        "--per-sample",
        "Write one loss value per row to this CSV.",
        kind="path",
        commands=EVALUATE,
    ),
    Setting(
        "per_class",
        "--per-class",
        "Per-class breakdown (multiclass, multilabel, segmentation).",
        kind="bool",
        default=False,
        config="per_class",
    ),
    Setting(
        "drop_invalid",
        "--drop-invalid",
        "Drop rows with NaN/empty/inf cells and count them in warnings.",
        kind="bool",
        default=False,
        config="drop_invalid",
    ),
    Setting(
        "header",
        "--header",
        "Text inputs' first row: auto (default: a header when any cell is text, or when "
        "it is 0,1,…,k-1 above non-integer rows), yes, or no.",
        kind="choice",
        default="auto",
        config="header",
        choices=HEADER_CHOICES,
        metavar="auto|yes|no",
    ),
    Setting(
        "decimal",
        "--decimal",
        "Decimal mark of text inputs: '.' or ',' (European exports, 0,05). Default '.'; "
        "a file that reads as decimal commas is refused until this is given.",
        kind="choice",
        config="decimal",
        choices=DECIMAL_CHOICES,
        metavar=".|,",
    ),
    Setting(
        "reduction",
        "--reduction",
        "mean (default) or sum.",
        kind="choice",
        default="mean",
        config="reduction",
        choices=REDUCTIONS,
    ),
    Setting(
        "convention",
        "--convention",
        "Framework whose defaults every loss follows: torch (default), keras, sklearn or "
        "monai; an explicit --param still wins (docs/conventions.md).",
        kind="choice",
        default="torch",
        config="convention",
        choices=CONVENTIONS,
    ),
    Setting("config", "--config", "YAML file with the same settings; flags win.", kind="path"),
    Setting(
        "chunk_size",
        "--chunk-size",
        "Read large csv/tsv/txt inputs in chunks of this many rows (default 1000000; "
        "0 reads in one piece). Memory stays bounded whatever the file size.",
        kind="int",
        config="chunk_size",
        minimum=0,
        metavar="ROWS",
        allowed="a positive integer or 0 (one piece)",
    ),
    Setting(
        "engine",
        "--engine",
        "local (default), or dask: evaluate a glob or directory of Parquet/CSV "
        'partitions on a Dask cluster (pip install "losscli[dask]").',
        default="local",
        commands=EVALUATE,
        metavar="local|dask",
    ),
    Setting(
        "scheduler",
        "--scheduler",
        "Dask scheduler, e.g. tcp://host:8786 (with --engine dask; default: a local "
        "cluster for the run).",
        commands=EVALUATE,
        metavar="ADDRESS",
    ),
    Setting(
        "l1",
        "--l1",
        "Also report loss + LAMBDA·Σ|w| over --model-weights (Keras convention).",
        kind="float",
        config="regularization.l1",
        commands=EVALUATE,
        minimum=0,
        metavar="LAMBDA",
    ),
    Setting(
        "l2",
        "--l2",
        "Also report loss + LAMBDA·Σw² over --model-weights (Keras convention, no ½).",
        kind="float",
        config="regularization.l2",
        commands=EVALUATE,
        minimum=0,
        metavar="LAMBDA",
    ),
    Setting(
        "model_weights",
        "--model-weights",
        "The model's weights for --l1/--l2: one .npy array or a .npz of arrays.",
        kind="path",
        config="regularization.model_weights",
        commands=EVALUATE,
        metavar="W.npy|W.npz",
    ),
    Setting(
        "grad",
        "--grad",
        "Report the gradient of each loss w.r.t. the predictions (mean/max |g|, top 1% "
        "share, saturated rows, per class); with --per-sample, grad_<loss> columns.",
        kind="bool",
        default=False,
        config="analysis.grad",
    ),
    Setting(
        "dtype",
        "--dtype",
        "Also recompute each loss in this precision (float16, bfloat16, float32), as "
        "torch on CPU would without autocast, with its error against float64.",
        kind="choice",
        config="analysis.dtype",
        choices=DTYPES,
        metavar="float16|bfloat16|float32",
    ),
    Setting(
        "combine",
        "--combine",
        "A weighted composite NAME=LOSS:W,LOSS:W reported like a loss (repeatable).",
        kind="strs",
        default=(),
        config="analysis.combine",
        metavar="NAME=LOSS:W,…",
    ),
    Setting(
        "plugin",
        "--plugin",
        "Your own loss [NAME=]module:function; f(pred, target) returns per-row losses "
        "(repeatable).",
        kind="strs",
        default=(),
        config="analysis.plugin",
        metavar="[NAME=]module:function",
    ),
    Setting(
        "names",
        "--names",
        "Model names, comma-separated (default: file names).",
        kind="names",
        commands=COMPARE,
    ),
    Setting(
        "bootstrap",
        "--bootstrap",
        "Paired bootstrap replicates for 95% intervals (e.g. 1000).",
        kind="int",
        default=0,
        commands=COMPARE,
        minimum=0,
    ),
    Setting(
        "seed",
        "--seed",
        "Random seed of the bootstrap.",
        kind="int",
        default=0,
        commands=COMPARE,
        minimum=0,
        allowed="an integer ≥ 0",
    ),
    Setting("sort_by", "--sort-by", "Order models by this loss.", commands=COMPARE),
    Setting(
        "baseline",
        "--baseline",
        "An earlier losscli JSON (OLD.json) for --max-increase and deltas; with compare, "
        "also a model name (for --fail-if-worse and --max-increase against that model).",
        config="baseline",
        metavar="OLD.json|MODEL",
    ),
    Setting(
        "max_increase",
        "--max-increase",
        "Gate LOSS=5% (relative) or LOSS=0.02 (absolute): exit 1 if LOSS rose more than "
        "that over --baseline (repeatable).",
        kind="increases",
        default={},
        config="gates.max_increase",
    ),
    Setting(
        "fail_if_worse",
        "--fail-if-worse",
        "Gate: exit 1 if a model is worse than the --baseline model under LOSS beyond noise "
        "(the 95% paired bootstrap interval of the difference lies above --margin; implies "
        "--bootstrap 1000; repeatable).",
        kind="losses",
        config="gates.fail_if_worse",
        commands=COMPARE,
        metavar="LOSS",
    ),
    Setting(
        "margin",
        "--margin",
        "LOSS=V: how much worse than the baseline model --fail-if-worse tolerates, in loss "
        "units (default 0; repeatable).",
        kind="gates",
        default={},
        config="gates.margin",
        commands=COMPARE,
    ),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def settings_of(command: str) -> list[Setting]:
    """The settings ``command`` (``evaluate`` or ``compare``) takes, in table order."""
    return [s for s in SETTINGS if command in s.commands]


def config_keys() -> dict[str, Setting]:
    """``{dotted config key: setting}`` of every setting ``--config`` may hold."""
    return {s.config: s for s in SETTINGS if s.config is not None}


def _names(cols: str | Iterable[str]) -> tuple[str, ...]:
    """Column names as a tuple; one string is one name (not its characters)."""
    return (cols,) if isinstance(cols, str) else tuple(cols)


@dataclass(frozen=True)
class ReadOptions:
    """The data flags of one input (``--task``, ``--pred-col``, …), checked once: every
    source (in memory, streamed, Dask partitions) reads with them."""

    task: str = "auto"
    pred_cols: tuple[str, ...] = ()
    target_cols: tuple[str, ...] = ()
    id_col: str | None = None
    group_col: str | None = None
    weight_col: str | None = None
    logits: bool | None = None
    drop_invalid: bool = False
    pos_label: str | None = None
    #: cross_entropy's ignore_index: class labels equal to it are rows the loss skips.
    ignore_index: int | None = None
    #: Whether text inputs' first row is a header: auto, yes or no (SPEC §5).
    header: str = "auto"
    #: Decimal mark of text inputs: "." or ","; None: "." unless the file reads as
    #: decimal commas (then refused, naming --decimal).
    decimal: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "task", parse_task(self.task or "auto"))
        object.__setattr__(self, "pred_cols", _names(self.pred_cols))
        object.__setattr__(self, "target_cols", _names(self.target_cols))


@dataclass(frozen=True)
class RunOptions:
    """The resolved settings of one evaluate or compare run (see :data:`SETTINGS`)."""

    task: str
    losses: list[str] | None
    params: dict[str, dict[str, Any]]
    logits: bool | None
    pred_cols: tuple[str, ...]
    target_cols: tuple[str, ...]
    id_col: str | None
    group_col: str | None
    weight_col: str | None
    pos_label: str | None
    gates: dict[str, float]
    exit_zero: bool
    worst: int | None
    per_sample_path: str | None
    per_class: bool
    drop_invalid: bool
    header: str
    decimal: str | None
    reduction: str
    convention: str
    config: str | None
    chunk_size: int | None
    engine: str
    scheduler: str | None
    l1: float | None
    l2: float | None
    model_weights: str | None
    grad: bool
    dtype: str | None
    combine: tuple[str, ...]
    plugin: tuple[str, ...]
    names: list[str] | None
    bootstrap: int
    seed: int
    sort_by: str | None
    baseline: str | None = None
    max_increase: dict[str, tuple[float, bool]] | None = None
    fail_if_worse: list[str] | None = None
    margin: dict[str, float] | None = None

    def read_options(self, task: str | None = None) -> ReadOptions:
        """The data flags of this run (``task`` overrides the run's, e.g. the task the
        first model's file decided for the others)."""
        return ReadOptions(
            task=task or self.task,
            pred_cols=self.pred_cols,
            target_cols=self.target_cols,
            id_col=self.id_col,
            group_col=self.group_col,
            weight_col=self.weight_col,
            logits=self.logits,
            drop_invalid=self.drop_invalid,
            pos_label=self.pos_label,
            ignore_index=_ignore_index(self.params),
            header=self.header,
            decimal=self.decimal,
        )


def _ignore_index(params: dict[str, dict[str, Any]]) -> int | None:
    """``cross_entropy.ignore_index`` when given as a whole number (else None)."""
    v = params.get("cross_entropy", {}).get("ignore_index")
    if isinstance(v, bool) or v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None  # "none", or a bad value the loss's own check reports
    return int(f) if f.is_integer() else None


# --------------------------------------------------------------------------- checking


def _is_number(value: Any, kind: type | tuple[type, ...] = (int, float)) -> bool:
    """A real number of ``kind`` (bool is not a number here; NaN is not a number)."""
    return not isinstance(value, bool) and isinstance(value, kind) and value == value


@dataclass(frozen=True)
class Problem:
    """What is wrong with a value: ``must be …, got …``, a hint, and the key of a
    mapping it concerns (``mse`` of ``gates``), if any."""

    what: str
    hint: str | None = None
    key: str | None = None

    def error(self, s: Setting) -> UsageError:
        """The usage error of a flag or API keyword: ``--worst must be …, got 0``."""
        where = f"{s.flag} {self.key}:" if self.key is not None else s.flag
        return UsageError(f"{where} {self.what}", hint=self.hint)


def value_problem(s: Setting, value: Any) -> Problem | None:
    """What is wrong with a given ``value`` of ``s`` — its kind, minimum or choices —
    or None when it is fine. The one value check of every source: flags, ``--config``
    and API keywords."""
    if s.kind in ("int", "float"):
        numeric = _is_number(value, int if s.kind == "int" else (int, float))
        if not numeric or (s.minimum is not None and value < s.minimum):
            return Problem(f"must be {s.describe()}, got {shown(value)}")
    elif s.kind == "bool" and not isinstance(value, bool):
        return Problem(f"must be {s.describe()}, got {shown(value)}")
    elif s.kind in ("choice", "input") and value not in s.choices:
        if s.kind == "input" and isinstance(value, bool):  # logits=True / False
            return None
        return Problem(f"unknown value {shown(value)}", "allowed: " + ", ".join(s.choices))
    elif s.kind == "gates":
        return _gates_problem(value)
    elif s.kind == "increases":
        return _increases_problem(value)
    elif s.kind == "params" and not (
        isinstance(value, Mapping) and all(isinstance(v, Mapping) for v in value.values())
    ):
        return Problem(
            "must map loss names to {parameter: value}", "e.g. params: {huber: {delta: 2.0}}"
        )
    return None


def _gates_problem(value: Any) -> Problem | None:
    if not isinstance(value, Mapping):
        return Problem("must map loss names to limits", "e.g. gates: {max: {mse: 0.5}}")
    for loss, limit in value.items():
        if not _is_number(limit):
            return Problem(f"limit must be a number, got {shown(limit)}", key=str(loss))
        if not math.isfinite(limit):
            return Problem(
                f"limit must be a finite number, got {shown(limit)}",
                hint="a gate needs a finite limit; to report a loss without gating it, "
                "give no limit",
                key=str(loss),
            )
    return None


def _increases_problem(value: Any) -> Problem | None:
    from losscli.gates import parse_increase

    if not isinstance(value, Mapping):
        return Problem(
            "must map loss names to limits", "e.g. gates: {max_increase: {mse: 5%, mae: 0.02}}"
        )
    for loss, limit in value.items():
        if isinstance(limit, tuple):
            continue
        try:
            parse_increase(f"{loss}={limit}")
        except UsageError:
            return Problem(
                f"limit must be a percentage (5%) or a number ≥ 0, got {shown(limit)}",
                key=str(loss),
            )
    return None


def logits_from_flags(logits: bool, probs: bool) -> bool | None:
    """The ``input`` setting from its two flags: ``--logits`` → True, ``--probs`` →
    False, neither → None (inferred); both is a usage error."""
    if logits and probs:
        raise UsageError("--logits conflicts with --probs", hint="give at most one of them")
    return True if logits else (False if probs else None)


# --------------------------------------------------------------------------- parsing


def parse_task(value: str) -> str:
    """A task name in any case (``Binary`` → ``binary``); ``auto`` for inference."""
    word = str(value).strip().lower()
    if word not in TASK_CHOICES:
        raise unknown_name("task", str(value), TASK_CHOICES)
    return word


def loss_key(name: str) -> str:
    """Canonical name of a known loss, else the name as typed (normalised). Unknown names
    are reported once the task is known, with that task's losses."""
    from losscli.registry import canonical_name, normalise_name

    try:
        return canonical_name(name)
    except UsageError:
        return normalise_name(name)


def parse_param_flags(items: Iterable[str]) -> dict[str, dict[str, str]]:
    """``["huber.delta=2", "focal.gamma=1"]`` → ``{"huber": {"delta": "2"}, …}``."""
    out: dict[str, dict[str, str]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        loss, dot, name = key.partition(".")
        if not sep or not dot or not loss.strip() or not name.strip() or not value.strip():
            raise UsageError(
                f"cannot read --param '{item}'",
                hint="write LOSS.KEY=VALUE, e.g. --param huber.delta=2",
            )
        out.setdefault(loss_key(loss), {})[name.strip()] = value.strip()
    return out


def parse_gate_flags(items: Iterable[str], flag: str = "--max") -> dict[str, float]:
    """``["mse=0.5"]`` → ``{"mse": 0.5}`` (``flag`` names the option in errors)."""
    out: dict[str, float] = {}
    for item in items:
        loss, sep, value = item.partition("=")
        try:
            limit = float(value)
        except ValueError:
            limit = math.nan
        if not sep or not loss.strip() or math.isnan(limit):
            raise UsageError(
                f"cannot read {flag} '{item}'", hint=f"write LOSS=VALUE, e.g. {flag} mse=0.5"
            )
        if not math.isfinite(limit):
            raise UsageError(
                f"{flag} {loss.strip()}: limit must be a finite number, got {value.strip()!r}",
                hint="a gate needs a finite limit; to report a loss without gating it, "
                f"leave out its {flag}",
            )
        out[loss_key(loss)] = limit
    return out


def merge_params(
    *layers: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Merge per-loss params; later layers win key by key (flags over config)."""
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for loss, kv in (layer or {}).items():
            out.setdefault(loss_key(loss), {}).update(kv)
    return out


def merge_gates(*layers: Mapping[str, float] | None) -> dict[str, float]:
    """Merge gate limits by loss (names made canonical); later layers win (flags over
    config)."""
    out: dict[str, float] = {}
    for layer in layers:
        out.update({loss_key(k): float(v) for k, v in (layer or {}).items()})
    return out


def parse_increases(
    value: Mapping[str, Any] | Iterable[str] | None,
) -> dict[str, tuple[float, bool]]:
    """``--max-increase`` items (``["mse=5%"]``) or a config mapping (``{mse: "5%"}``) →
    ``{"mse": (0.05, True)}`` (names made canonical)."""
    from losscli.gates import parse_increase

    if value is None:
        return {}
    if isinstance(value, Mapping):
        out: dict[str, tuple[float, bool]] = {}
        for k, v in value.items():
            if isinstance(v, tuple):
                out[loss_key(k)] = (float(v[0]), bool(v[1]))
            else:
                loss, limit, rel = parse_increase(f"{k}={v}")
                out[loss_key(loss)] = (limit, rel)
        return out
    return {loss_key(k): (lim, rel) for k, lim, rel in (parse_increase(i) for i in value)}


def merge_increases(
    *layers: Mapping[str, tuple[float, bool]] | None,
) -> dict[str, tuple[float, bool]]:
    """Merge ``--max-increase`` limits by loss; later layers win."""
    out: dict[str, tuple[float, bool]] = {}
    for layer in layers:
        out.update(parse_increases(layer))
    return out
