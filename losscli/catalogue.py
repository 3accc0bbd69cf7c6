"""The loss catalogue as documents: what ``losscli losses`` and ``losses show`` print.

Generated from the registry, so the docs live where each loss is defined.
"""

from __future__ import annotations

from typing import Any

from losscli.errors import unknown_name
from losscli.registry import CONVENTIONS, TASKS, LossSpec, all_specs, specs_named


def _variant(spec: LossSpec) -> dict[str, Any]:
    return {
        "tasks": list(spec.tasks),
        "summary": spec.summary,
        "formula": spec.formula,
        "inputs": spec.inputs,
        "domains": [d.describe() for d in spec.domains],
        "when_to_use": spec.when_to_use,
        "params": [
            {
                "name": p.name,
                "default": list(p.default) if isinstance(p.default, tuple) else p.default,
                "allowed": p.range_text(),
                "help": p.help,
            }
            for p in spec.params
        ],
        "aliases": list(spec.aliases),
        "conventions": _conventions(spec),
        "references": list(spec.references),
        "oracle": spec.oracle,
        "decomposable": spec.decomposable,
        "higher_is_better": spec.higher_is_better,
    }


def _conventions(spec: LossSpec) -> list[dict[str, Any]]:
    """Per framework convention (SPEC §10): the peer API it mirrors, the parameter values
    it sets (every parameter, defaults included) and what cannot be matched."""
    out = []
    for name in CONVENTIONS:
        c = spec.convention(name)
        params = spec.convention_defaults(name)
        out.append(
            {
                "name": name,
                "api": c.api if c is not None else "",
                "params": {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()},
                "changes": sorted(dict(c.params)) if c is not None else [],
                "note": c.note if c is not None else "",
            }
        )
    return out


def list_losses(task: str | None = None) -> dict[str, Any]:
    """Every registered loss (merged over task variants), optionally for one task (any
    case)."""
    if task is not None and task.strip().lower() not in TASKS:
        raise unknown_name("task", task, TASKS)
    task = task.strip().lower() if task is not None else None
    merged: dict[str, dict[str, Any]] = {}
    for spec in all_specs():
        if task is not None and task not in spec.tasks:
            continue
        entry = merged.setdefault(
            spec.name,
            {
                "name": spec.name,
                "tasks": [],
                "params": {},
                "aliases": [],
                "summary": spec.summary,
                "higher_is_better": spec.higher_is_better,
            },
        )
        entry["tasks"] += [t for t in spec.tasks if t not in entry["tasks"]]
        for p in spec.params:
            default = list(p.default) if isinstance(p.default, tuple) else p.default
            entry["params"].setdefault(p.name, default)
        entry["aliases"] += [a for a in spec.aliases if a not in entry["aliases"]]
    for plugin in _installed_plugins():
        merged.setdefault(
            plugin.name,
            {
                "name": plugin.name,
                "tasks": list(TASKS) if task is None else [task],
                "params": {},
                "aliases": [],
                "summary": f"plugin {plugin.target} (entry point; imported only when used)",
                "higher_is_better": False,
                "plugin": plugin.target,
            },
        )
    return {"schema_version": 1, "command": "losses", "task": task, "losses": list(merged.values())}


def _installed_plugins() -> list[Any]:
    """The ``losscli.losses`` entry points (names only: no plugin module is imported)."""
    from losscli.plugins import entry_points

    return entry_points()


def describe_loss(name: str) -> dict[str, Any]:
    """Full documentation of one loss, every task variant."""
    specs = specs_named(name)
    return {
        "schema_version": 1,
        "command": "losses show",
        "name": specs[0].name,
        "variants": [_variant(s) for s in specs],
    }
