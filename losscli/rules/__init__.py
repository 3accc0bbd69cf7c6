"""The selection guide as rules: the Python API behind ``losscli recommend``.

>>> from losscli.rules import recommend
>>> result = recommend("regression", ["outliers"])
>>> result["recommendations"][0]["losses"]
['huber']

:func:`recommend` returns the SPEC §3.3 document: ranked ``recommendations`` (the first
is the primary advice; each carries its reason, typical parameters, the rules that led
to it and copy-ready code for PyTorch, Keras and the ``losscli evaluate`` line that
measures it on your files), stacked ``addons``, ``notes`` on how conflicts and ties
were resolved, and, when asked, ``explain`` (every rule, fired or not and why) and
``evidence`` (what ``--from-data`` measured).

The task must be concrete: ``classification`` is refused with a usage error asking for
binary, multiclass or multilabel, because their losses and code differ.

Importing this package loads neither NumPy nor pandas; only
:func:`recommend_from_data` imports NumPy (through :mod:`losscli.rules.evidence`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any

from losscli.errors import unknown_name
from losscli.rules.engine import Candidate, Decision, decide
from losscli.rules.load import load_rules
from losscli.rules.schema import CONDITIONS, DATA_STATISTICS, FRAMEWORKS, Addon, RuleSet

__all__ = ["CONDITIONS", "FRAMEWORKS", "load_rules", "recommend", "recommend_from_data"]

SCHEMA_VERSION = 1

_FRAMEWORK_ALIASES = {"torch": "pytorch", "tf": "keras", "tensorflow": "keras"}
#: Add-on parameters that are ``losscli evaluate`` flags (SPEC §6 "regularized").
_EVALUATE_FLAGS = ("l1", "l2")
#: Tasks whose ``evaluate`` takes no target file (SPEC §4).
_NO_TARGETS = ("gan",)


def recommend(
    task: str | None = None,
    conditions: Iterable[str] = (),
    *,
    rules_path: str | os.PathLike[str] | None = None,
    framework: str = "all",
    explain: bool = False,
    evidence: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Recommend losses for ``task`` under ``conditions`` (SPEC §3.3 document).

    ``conditions`` are flag names (``"outliers"``, ``"noisy-labels"`` …).
    ``rules_path`` swaps in a user's guide. ``framework`` is ``all``, ``pytorch``,
    ``keras`` or ``losscli`` (which code to include). ``evidence`` rows (from
    :func:`losscli.rules.evidence.measure`) are copied into the result, and their
    statistics fill data-dependent parameters such as BCE's ``pos_weight``.
    """
    return _recommend(load_rules(rules_path), task, conditions, framework, explain, evidence)


def recommend_from_data(
    task: str,
    targets: Any,
    predictions: Any = None,
    conditions: Iterable[str] = (),
    *,
    rules_path: str | os.PathLike[str] | None = None,
    framework: str = "all",
    explain: bool = False,
    from_logits: bool | None = None,
) -> dict[str, Any]:
    """Measure ``targets`` (and ``predictions``), add the conditions the data shows to
    the given ones, and recommend. The evidence is part of the result."""
    from losscli.rules.evidence import measure

    ruleset = load_rules(rules_path)
    measured, rows = measure(
        task, targets, predictions, thresholds=ruleset.thresholds, from_logits=from_logits
    )
    return _recommend(ruleset, task, [*conditions, *measured], framework, explain, rows)


# --------------------------------------------------------------------------- assembly


def _recommend(
    ruleset: RuleSet,
    task: str | None,
    conditions: Iterable[str],
    framework: str,
    explain: bool,
    evidence: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    frameworks = _frameworks(framework)
    decision = decide(ruleset, task, conditions)
    stats = _statistics(evidence or [])
    recs = [
        _recommendation(rank, c, decision.task, ruleset, stats, frameworks)
        for rank, c in enumerate(decision.candidates, 1)
    ]
    primary_line = recs[0]["code"]["losscli"]  # every framework choice keeps this line
    result: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "command": "recommend",
        "task": decision.task,
        "conditions": dict.fromkeys(decision.conditions, True),
        "framework": framework if framework == "all" else frameworks[0],
        "rules_file": ruleset.path,
        "recommendations": recs,
        "addons": [
            _addon(addon, rules, ruleset, frameworks, primary_line)
            for addon, rules in decision.addons
        ],
        "notes": list(decision.notes),
    }
    if evidence is not None:
        result["evidence"] = list(evidence)
    if explain:
        result["explain"] = _explain(decision)
    return result


def _frameworks(framework: str) -> tuple[str, ...]:
    key = str(framework).strip().lower()
    key = _FRAMEWORK_ALIASES.get(key, key)
    if key == "all":
        return FRAMEWORKS
    if key not in FRAMEWORKS:
        raise unknown_name("framework", framework, ("all", *FRAMEWORKS))
    return (key,) if key == "losscli" else (key, "losscli")


def _statistics(evidence: list[dict[str, Any]]) -> dict[str, float]:
    """Data statistics (``neg_pos_ratio`` …) found in the evidence rows' details."""
    stats: dict[str, float] = {}
    for row in evidence:
        details = row.get("details") or {}
        for name in DATA_STATISTICS:
            value = details.get(name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                stats.setdefault(name, float(f"{value:.4g}"))
            elif isinstance(value, list) and value:  # per-class values (class_weights)
                stats.setdefault(name, [float(f"{v:.4g}") for v in value])  # type: ignore[arg-type]
    return stats


def _recommendation(
    rank: int,
    cand: Candidate,
    task: str,
    ruleset: RuleSet,
    stats: Mapping[str, float],
    frameworks: tuple[str, ...],
) -> dict[str, Any]:
    choice = cand.choice
    params = dict(choice.params)
    pending: dict[str, str] = {}
    for key, stat in choice.from_data.items():
        if stat in stats:
            params[key] = stats[stat]
        elif key not in params:  # a default stands in until data gives the value
            pending[key] = DATA_STATISTICS[stat]
    entry: dict[str, Any] = {
        "rank": rank,
        "role": "primary" if rank == 1 else "alternative",
        "name": choice.name,
        "losses": list(choice.losses),
        "measure": list(choice.measure),
        "params": params,
        "why": choice.why,
        "rules": list(cand.rules),
        "sources": [s.cite(ruleset.sources) for s in cand.sources],
        "code": _code(choice.code, frameworks, _evaluate_line(task, cand, params, pending)),
    }
    if choice.from_data:
        entry["from_data"] = {k: DATA_STATISTICS[s] for k, s in choice.from_data.items()}
    return entry


def _code(snippets: Mapping[str, str], frameworks: tuple[str, ...], line: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for fw in frameworks:
        if fw == "losscli":
            out[fw] = line
        elif fw in snippets:
            out[fw] = snippets[fw]
    return out


def _evaluate_line(
    task: str,
    cand: Candidate,
    params: Mapping[str, Any],
    pending: Mapping[str, str] | None = None,
) -> str:
    """The ``losscli evaluate`` command that measures a choice with its parameters."""
    from losscli.registry import get_spec

    files = "PREDS" if task in _NO_TARGETS else "PREDS TARGETS"
    parts = [f"losscli evaluate {files} --task {task}"]
    parts += [f"--loss {name}" for name in cand.choice.measure]
    specs = [get_spec(name, task) for name in cand.choice.measure]
    for key, value in params.items():
        for spec in specs:
            if spec.param(key) is not None:
                parts.append(f"--param {spec.name}.{key}={_value(value)}")
    line = " ".join(parts)
    if pending:
        todo = [
            f"--param {spec.name}.{key}=<{what}>"
            for key, what in pending.items()
            for spec in specs
            if spec.param(key) is not None
        ]
        line += "  # set " + " ".join(todo).replace(" / ", "/")
    return line


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ",".join(_value(v) for v in value)
    return str(value)


def _addon(
    addon: Addon,
    rules: tuple[str, ...],
    ruleset: RuleSet,
    frameworks: tuple[str, ...],
    primary_line: str,
) -> dict[str, Any]:
    flags = [
        f"--{key} {_value(float(v))}" for key, v in addon.params.items() if key in _EVALUATE_FLAGS
    ]
    line = ""
    if flags:
        base = primary_line.split("  # ")[0]
        line = " ".join([base, *flags, "--model-weights W.npy"])
    code = _code(addon.code, frameworks, line)
    if not line:
        code.pop("losscli", None)
    return {
        "name": addon.name,
        "params": dict(addon.params),
        "why": addon.why,
        "rules": list(rules),
        "sources": [s.cite(ruleset.sources) for s in addon.source],
        "code": code,
    }


def _explain(decision: Decision) -> list[dict[str, Any]]:
    return [
        {
            "rule": t.rule,
            "task": t.task,
            "fired": t.fired,
            "status": t.status,
            "specificity": t.specificity,
            "reason": t.reason,
        }
        for t in decision.trace
    ]
