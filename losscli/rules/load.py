"""Read and validate a selection-guide file into a :class:`~losscli.rules.schema.RuleSet`.

The file is parsed with the YAML safe loader and checked against the schema kept here as
data (allowed keys per mapping). Every problem is a :class:`~losscli.errors.ConfigError`
(exit 2) whose message reads like a breadcrumb to the bad value::

    configs/rules.yaml › rules[3] › when › task: unknown value 'segmentaton'
    hint: did you mean 'segmentation'?

Loss names are checked against the registry (canonical names only, applicable to the
rule's task) and parameters against the loss's own parameter specs, so a guide can
never recommend something ``losscli evaluate`` cannot measure.

The guide shipped with losscli is ``losscli/configs/rules.yaml`` (package data, found
with :mod:`importlib.resources`); the repository keeps a byte-identical copy at
``configs/rules.yaml`` where people look for it. A user's own file (``--rules``) may
leave out ``thresholds`` (or some of them): missing values come from the shipped guide.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from losscli import safeyaml
from losscli.errors import ConfigError, UsageError, did_you_mean
from losscli.rules.schema import (
    CONDITIONS,
    DATA_STATISTICS,
    PREFERENCES,
    Addon,
    Choice,
    Rule,
    RuleSet,
    SourceRef,
    Thresholds,
    When,
)

__all__ = ["PACKAGED_RULES", "load_rules", "packaged_rules", "parse_rules"]

#: Location of the shipped guide inside the package.
PACKAGED_RULES = ("configs", "rules.yaml")

SCHEMA_VERSION = 1

_TOP_KEYS = {"version": True, "sources": False, "thresholds": False, "addons": False, "rules": True}
_RULE_KEYS = {
    "id": True,
    "when": True,
    "why": True,
    "source": False,
    "recommend": False,
    "alternatives": False,
    "addons": False,
    "prefer": False,
    "priority": False,
}
_WHEN_KEYS = {"task": False, "conditions": False}
_CHOICE_KEYS = {
    "name": True,
    "losses": True,
    "measure": False,
    "params": False,
    "from_data": False,
    "cost": True,
    "why": False,
    "code": False,
}
_ADDON_KEYS = {"name": True, "why": True, "params": False, "code": False, "source": False}
_SOURCE_KEYS = {"ref": True, "section": True}
_CODE_KEYS = ("pytorch", "keras")
#: Allowed range of each threshold: (low, high, low_open, high_open); None = unbounded.
_THRESHOLD_RANGES: dict[str, tuple[float | None, float | None, bool, bool]] = {
    "minority_share": (0.0, 0.5, True, False),
    "imbalance_ratio": (1.0, None, False, False),
    "robust_z": (0.0, None, True, False),
    "outlier_share": (0.0, 1.0, False, True),
    "excess_kurtosis": (None, None, False, False),
    "overconfidence_gap": (0.0, 1.0, False, True),
}

Crumbs = list[str | int]


# --------------------------------------------------------------------------- public


def load_rules(path: str | os.PathLike[str] | None = None) -> RuleSet:
    """Load the guide at ``path``, or the shipped guide when ``path`` is None."""
    if path is None:
        return packaged_rules()
    p = Path(path)
    limit = safeyaml.limit_from_env("LOSSCLI_MAX_RULES_BYTES", safeyaml.MAX_RULES_BYTES)
    if not p.exists():
        raise ConfigError(
            f"rules file '{path}' does not exist",
            hint="pass an existing YAML file to --rules, or leave --rules out to use the built-in guide",
        )
    text = safeyaml.read_bounded(
        str(p), what="rules file", max_bytes=limit, env="LOSSCLI_MAX_RULES_BYTES", flag="--rules"
    )
    return parse_rules(_safe_load(text, _display(p)), _display(p), base=packaged_rules())


@cache
def packaged_rules() -> RuleSet:
    """The guide shipped inside the package (validated once per process)."""
    res = resources.files("losscli")
    for part in PACKAGED_RULES:  # one part per call: Python 3.10's joinpath takes one
        res = res.joinpath(part)
    display = _display(Path(str(res)))
    try:
        text = res.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the built-in guide '{display}': {exc}") from None
    return parse_rules(_safe_load(text, display), display, base=None)


def parse_rules(data: Any, display: str, *, base: RuleSet | None = None) -> RuleSet:
    """Validate already-parsed YAML ``data``. ``base`` supplies missing thresholds."""
    return _Parser(display, base).ruleset(data)


# --------------------------------------------------------------------------- parsing


def _safe_load(text: str, display: str) -> Any:
    try:
        # the safe loader, in its C implementation when PyYAML was built with libyaml
        # (5× faster on the shipped guide; same safe constructors)
        # (5× faster on the shipped guide; same safe constructors), within the bounds of
        # losscli.safeyaml: nesting depth and alias expansion
        return safeyaml.load(text, display)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise ConfigError(
            f"{display}: invalid YAML{where}: {problem}",
            hint="check the indentation and quoting around that position",
        ) from None


def _display(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


class _Parser:
    def __init__(self, display: str, base: RuleSet | None) -> None:
        self.display = display
        self.base = base
        self.sources: dict[str, str] = {}
        self.addons: dict[str, Addon] = {}

    # ----------------------------------------------------------------- errors
    def err(self, path: Crumbs, message: str, hint: str | None = None) -> ConfigError:
        crumbs = [self.display]
        for part in path:
            if isinstance(part, int):
                crumbs[-1] += f"[{part}]"
            else:
                crumbs.append(part)
        return ConfigError(" › ".join(crumbs) + ": " + message, hint=hint)

    def unknown(self, path: Crumbs, kind: str, word: Any, choices: Iterable[str]) -> ConfigError:
        choices = list(choices)
        hint = did_you_mean(str(word), choices)
        shown = choices if len(choices) <= 12 else [*choices[:12], "…"]
        allowed = "allowed: " + ", ".join(shown)
        return self.err(
            path,
            f"unknown {kind} {safeyaml.shown(word)}",
            f"{hint} ({allowed})" if hint else allowed,
        )

    # ----------------------------------------------------------------- primitives
    def mapping(self, value: Any, path: Crumbs, keys: dict[str, bool]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.err(path, f"expected a mapping, got {_kind(value)}")
        for k in value:
            if k not in keys:
                raise self.unknown([*path, str(k)], "key", k, keys)
        for k, required in keys.items():
            if required and k not in value:
                raise self.err(path, f"missing key '{k}'")
        return value

    def string(self, value: Any, path: Crumbs) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.err(path, f"expected a non-empty string, got {_kind(value)}")
        return value.strip()

    def integer(self, value: Any, path: Crumbs, *, low: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.err(path, f"expected an integer, got {_kind(value)}")
        if low is not None and value < low:
            raise self.err(path, f"must be at least {low}, got {value}")
        return value

    def number(self, value: Any, path: Crumbs) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.err(path, f"expected a number, got {_kind(value)}")
        return float(value)

    def strings(self, value: Any, path: Crumbs) -> list[str]:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise self.err(path, f"expected a list of strings, got {_kind(value)}")
        return [self.string(v, [*path, i]) for i, v in enumerate(value)]

    def items(self, value: Any, path: Crumbs) -> list[Any]:
        if not isinstance(value, list):
            raise self.err(path, f"expected a list, got {_kind(value)}")
        return value

    # ----------------------------------------------------------------- document
    def ruleset(self, data: Any) -> RuleSet:
        if data is None:
            raise self.err([], "the file is empty", hint="a guide needs 'version: 1' and 'rules'")
        doc = self.mapping(data, [], _TOP_KEYS)
        version = self.integer(doc["version"], ["version"])
        if version != SCHEMA_VERSION:
            raise self.err(["version"], f"unsupported version {version}", hint="use version: 1")
        self.sources = self.source_catalogue(doc.get("sources") or {})
        self.addons = self.addon_catalogue(doc.get("addons") or {})
        thresholds = self.thresholds(doc.get("thresholds"))
        rules = self.items(doc["rules"], ["rules"])
        if not rules:
            raise self.err(["rules"], "the guide has no rules")
        parsed: list[Rule] = []
        seen: dict[str, int] = {}
        for i, raw in enumerate(rules):
            rule = self.rule(raw, ["rules", i])
            if rule.id in seen:
                raise self.err(
                    ["rules", i, "id"], f"duplicate id '{rule.id}' (also rules[{seen[rule.id]}])"
                )
            seen[rule.id] = i
            parsed.append(rule)
        return RuleSet(
            path=self.display,
            version=version,
            thresholds=thresholds,
            rules=tuple(parsed),
            addons=self.addons,
            sources=self.sources,
        )

    def source_catalogue(self, value: Any) -> dict[str, str]:
        if not isinstance(value, dict):
            raise self.err(["sources"], f"expected a mapping of id → title, got {_kind(value)}")
        return {str(k): self.string(v, ["sources", str(k)]) for k, v in value.items()}

    def source_refs(self, value: Any, path: Crumbs) -> tuple[SourceRef, ...]:
        refs = []
        for i, raw in enumerate(self.items(value, path)):
            m = self.mapping(raw, [*path, i], _SOURCE_KEYS)
            ref = self.string(m["ref"], [*path, i, "ref"])
            if ref not in self.sources:
                raise self.unknown([*path, i, "ref"], "source", ref, self.sources)
            refs.append(SourceRef(ref, self.string(m["section"], [*path, i, "section"])))
        return tuple(refs)

    def thresholds(self, value: Any) -> Thresholds:
        path: Crumbs = ["thresholds"]
        fields = dict.fromkeys(_THRESHOLD_RANGES, False)
        given = {} if value is None else self.mapping(value, path, fields)
        values: dict[str, float] = {}
        for key, (lo, hi, lo_open, hi_open) in _THRESHOLD_RANGES.items():
            if key in given:
                v = self.number(given[key], [*path, key])
                below = lo is not None and (v <= lo if lo_open else v < lo)
                above = hi is not None and (v >= hi if hi_open else v > hi)
                if below or above:
                    lo_t = "-inf" if lo is None else f"{lo:g}"
                    hi_t = "inf" if hi is None else f"{hi:g}"
                    bracket = (
                        ("(" if lo_open else "[") + f"{lo_t}, {hi_t}" + (")" if hi_open else "]")
                    )
                    raise self.err(
                        [*path, key], f"value {v:g} is out of range", f"allowed: {bracket}"
                    )
                values[key] = v
            elif self.base is not None:
                values[key] = getattr(self.base.thresholds, key)
            else:
                raise self.err(path, f"missing key '{key}'")
        return Thresholds(**values)

    def addon_catalogue(self, value: Any) -> dict[str, Addon]:
        if not isinstance(value, dict):
            raise self.err(["addons"], f"expected a mapping of id → add-on, got {_kind(value)}")
        out: dict[str, Addon] = {}
        for key, raw in value.items():
            path: Crumbs = ["addons", str(key)]
            m = self.mapping(raw, path, _ADDON_KEYS)
            params = m.get("params") or {}
            if not isinstance(params, dict):
                raise self.err([*path, "params"], f"expected a mapping, got {_kind(params)}")
            out[str(key)] = Addon(
                id=str(key),
                name=self.string(m["name"], [*path, "name"]),
                why=self.string(m["why"], [*path, "why"]),
                params={
                    str(k): self.scalar(v, [*path, "params", str(k)]) for k, v in params.items()
                },
                code=self.code(m.get("code"), [*path, "code"]),
                source=self.source_refs(m.get("source") or [], [*path, "source"]),
            )
        return out

    def scalar(self, value: Any, path: Crumbs) -> Any:
        if isinstance(value, (bool, int, float, str)):
            return value
        raise self.err(path, f"expected a number or a word, got {_kind(value)}")

    def code(self, value: Any, path: Crumbs) -> dict[str, str]:
        if value is None:
            return {}
        m = self.mapping(value, path, dict.fromkeys(_CODE_KEYS, False))
        return {k: self.string(v, [*path, k]).rstrip() + "\n" for k, v in m.items()}

    # ----------------------------------------------------------------- rules
    def rule(self, raw: Any, path: Crumbs) -> Rule:
        m = self.mapping(raw, path, _RULE_KEYS)
        rule_id = self.string(m["id"], [*path, "id"])
        when = self.when(m["when"], [*path, "when"])
        recommend = None
        if m.get("recommend") is not None:
            if when.task is None:
                raise self.err(
                    [*path, "recommend"],
                    "a rule that recommends a loss needs 'when › task'",
                    hint="task-independent rules may only carry add-ons or 'prefer'",
                )
            if isinstance(m["recommend"], dict) and "why" in m["recommend"]:
                raise self.err(
                    [*path, "recommend", "why"],
                    "the recommendation takes its reason from the rule",
                    hint="move the text to the rule's own 'why'",
                )
            recommend = self.choice(m["recommend"], [*path, "recommend"], when.task)
        alternatives: list[Choice] = []
        if m.get("alternatives") is not None:
            if recommend is None:
                raise self.err([*path, "alternatives"], "alternatives need a 'recommend'")
            for i, raw_alt in enumerate(self.items(m["alternatives"], [*path, "alternatives"])):
                alt_path: Crumbs = [*path, "alternatives", i]
                alt = self.choice(raw_alt, alt_path, when.task or "")
                if "why" not in raw_alt:
                    raise self.err(alt_path, "missing key 'why'")
                alternatives.append(alt)
        addons = self.strings(m.get("addons") or [], [*path, "addons"])
        for i, a in enumerate(addons):
            if a not in self.addons:
                raise self.unknown([*path, "addons", i], "add-on", a, self.addons)
        prefer = None
        if m.get("prefer") is not None:
            prefer = self.string(m["prefer"], [*path, "prefer"])
            if prefer not in PREFERENCES:
                raise self.unknown([*path, "prefer"], "value", prefer, PREFERENCES)
        if recommend is None and not addons and prefer is None:
            raise self.err(
                path,
                f"rule '{rule_id}' does nothing",
                hint="give it 'recommend', 'addons' or 'prefer'",
            )
        why = self.string(m["why"], [*path, "why"])
        if recommend is not None:
            recommend = replace(recommend, why=why)
        return Rule(
            id=rule_id,
            when=when,
            why=why,
            source=self.source_refs(m.get("source") or [], [*path, "source"]),
            recommend=recommend,
            alternatives=tuple(alternatives),
            addons=tuple(addons),
            prefer=prefer,
            priority=self.integer(m.get("priority", 0), [*path, "priority"]),
        )

    def when(self, raw: Any, path: Crumbs) -> When:
        from losscli.registry import TASKS

        m = self.mapping(raw, path, _WHEN_KEYS)
        task = None
        if m.get("task") is not None:
            task = self.string(m["task"], [*path, "task"])
            if task not in TASKS:
                raise self.unknown([*path, "task"], "value", task, TASKS)
        conditions = self.strings(m.get("conditions") or [], [*path, "conditions"])
        for i, c in enumerate(conditions):
            if c not in CONDITIONS:
                raise self.unknown([*path, "conditions", i], "condition", c, CONDITIONS)
            if c in conditions[:i]:
                raise self.err([*path, "conditions", i], f"condition '{c}' is listed twice")
        if task is None and not conditions:
            raise self.err(path, "a rule needs a task or at least one condition")
        return When(task=task, conditions=tuple(conditions))

    def choice(self, raw: Any, path: Crumbs, task: str) -> Choice:
        from losscli.registry import LossSpec

        m = self.mapping(raw, path, _CHOICE_KEYS)
        # ``losses`` name the parts (they may belong to other tasks, as focal and
        # smooth_l1 in detection's focal_smooth_l1); what is measured must apply.
        has_measure = m.get("measure") is not None
        losses = self.loss_names(m["losses"], [*path, "losses"])
        measure = self.loss_names(m["measure"], [*path, "measure"]) if has_measure else losses
        where: Crumbs = [*path, "measure" if has_measure else "losses"]
        specs: list[LossSpec] = [self.spec(n, task, [*where, i]) for i, n in enumerate(measure)]
        params_raw = m.get("params") or {}
        if not isinstance(params_raw, dict):
            raise self.err([*path, "params"], f"expected a mapping, got {_kind(params_raw)}")
        params = {
            str(k): self.param(specs, str(k), v, [*path, "params", str(k)])
            for k, v in params_raw.items()
        }
        from_data_raw = m.get("from_data") or {}
        if not isinstance(from_data_raw, dict):
            raise self.err([*path, "from_data"], f"expected a mapping, got {_kind(from_data_raw)}")
        from_data: dict[str, str] = {}
        for k, v in from_data_raw.items():
            p: Crumbs = [*path, "from_data", str(k)]
            self.param_holders(specs, str(k), p)
            stat = self.string(v, p)
            if stat not in DATA_STATISTICS:
                raise self.unknown(p, "statistic", stat, DATA_STATISTICS)
            from_data[str(k)] = stat
        return Choice(
            name=self.string(m["name"], [*path, "name"]),
            losses=tuple(losses),
            measure=tuple(measure),
            why=self.string(m["why"], [*path, "why"]) if m.get("why") is not None else "",
            cost=self.integer(m["cost"], [*path, "cost"], low=1),
            params=params,
            from_data=from_data,
            code=self.code(m.get("code"), [*path, "code"]),
        )

    def loss_names(self, value: Any, path: Crumbs) -> list[str]:
        from losscli.registry import canonical_name, loss_names

        names = self.strings(value, path)
        if not names:
            raise self.err(path, "expected at least one loss name")
        for i, name in enumerate(names):
            try:
                canon = canonical_name(name)
            except UsageError:
                # rules files take canonical names only, so suggest only those
                raise self.unknown([*path, i], "loss", name, loss_names()) from None
            if canon != name:
                raise self.err(
                    [*path, i],
                    f"'{name}' is an alias",
                    hint=f"write the canonical name '{canon}'",
                )
        return names

    def spec(self, name: str, task: str, path: Crumbs) -> Any:
        from losscli.registry import get_spec

        try:
            return get_spec(name, task)
        except UsageError as exc:
            raise self.err(path, exc.message, hint=exc.hint) from None

    def param_holders(self, specs: list[Any], key: str, path: Crumbs) -> list[Any]:
        holders = [s for s in specs if s.param(key) is not None]
        if not holders:
            names = sorted({p.name for s in specs for p in s.params})
            losses = ", ".join(s.name for s in specs)
            if not names:
                raise self.err(
                    path, f"unknown parameter '{key}'", hint=f"{losses} take no parameters"
                )
            raise self.unknown(path, f"parameter of {losses}:", key, names)
        return holders

    def param(self, specs: list[Any], key: str, value: Any, path: Crumbs) -> Any:
        from losscli.registry import parse_param_value

        parsed: Any = None
        for spec in self.param_holders(specs, key, path):
            try:
                parsed = parse_param_value(spec, spec.param(key), value)
            except UsageError as exc:
                raise self.err(path, exc.message, hint=exc.hint) from None
        return list(parsed) if isinstance(parsed, tuple) else parsed


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "nothing"
    for t, name in kinds.items():
        if isinstance(value, t):
            return name + (f" ({safeyaml.shown(value)})" if t in (str, bool) else "")
    if isinstance(value, (int, float)):
        return f"a number ({safeyaml.shown(value)})"
    return type(value).__name__
