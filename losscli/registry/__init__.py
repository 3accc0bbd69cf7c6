"""The loss registry: one ``LossSpec`` per loss and task family.

Specs are data: one YAML file per family (``registry/specs/regression.yaml`` …) lists
the losses with their documentation, parameters and domains; this module reads them into
:class:`LossSpec` objects and answers look-ups. Nothing here imports NumPy.

Where does a new loss go? Its kernel in ``losscli/losses/<family>.py``, its entry in
``losscli/registry/specs/<family>.yaml``, its tests in ``tests/losses/``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import cache
from importlib import resources
from typing import Any

from losscli.errors import UsageError, did_you_mean, unknown_name
from losscli.registry._base import (
    CONVENTIONS,
    TASKS,
    Convention,
    Domain,
    LossSpec,
    Needs,
    ParamSpec,
)

__all__ = [
    "CONVENTIONS",
    "TASKS",
    "Convention",
    "Domain",
    "LossSpec",
    "ParamSpec",
    "all_specs",
    "canonical_name",
    "check_param_name",
    "family_specs",
    "get_spec",
    "loss_names",
    "normalise_name",
    "parse_param_value",
    "resolve_params",
    "specs_for_task",
    "specs_from_yaml",
]

_FAMILIES = (
    "regression",
    "classification",
    "calibration",
    "distribution",
    "segmentation",
    "detection",
    "embedding",
    "generative",
)


@cache
def all_specs() -> tuple[LossSpec, ...]:
    """Every registered spec, in catalogue order."""
    return tuple(spec for fam in _FAMILIES for spec in family_specs(fam))


@cache
def family_specs(family: str) -> tuple[LossSpec, ...]:
    """The specs of one family, in the order of ``registry/specs/<family>.yaml``.

    The file holds ``module`` (where the kernels live), optional ``defaults`` (fields every
    entry gets unless it sets them) and ``losses``: one mapping of :class:`LossSpec`
    fields per loss, with ``kernel`` naming the kernel function (default: the loss name)
    and ``params``/``domains``/``needs`` as mappings of their own fields.
    """
    text = resources.files(__name__).joinpath("specs", f"{family}.yaml").read_text("utf-8")
    return specs_from_yaml(text, source=f"registry/specs/{family}.yaml")


def specs_from_yaml(text: str, *, source: str = "<yaml>") -> tuple[LossSpec, ...]:
    """The specs declared by one family file's YAML text (see :func:`family_specs`); an
    entry with an unknown or missing field raises ValueError naming ``source`` and the
    loss."""
    import yaml  # here, not at import: `losscli --help` needs task names, not specs

    doc = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    defaults = doc.get("defaults", {})
    specs = []
    for entry in doc["losses"]:
        try:
            specs.append(_spec(doc["module"], {**defaults, **entry}))
        except (TypeError, KeyError) as exc:
            raise ValueError(f"{source}: loss '{entry.get('name', '?')}': {exc}") from None
    return tuple(specs)


def _spec(module: str, fields: dict[str, Any]) -> LossSpec:
    """One :class:`LossSpec` from its YAML mapping (lists become tuples)."""
    fields = _tuples(fields)
    fields["fn"] = f"{module}:{fields.pop('kernel', fields['name'])}"
    fields["params"] = tuple(ParamSpec(**_tuples(p)) for p in fields.get("params", ()))
    fields["domains"] = tuple(Domain(**d) for d in fields.get("domains", ()))
    if "needs" in fields:
        fields["needs"] = Needs(**_tuples(fields["needs"]))
    fields["conventions"] = _conventions(fields.get("conventions") or {})
    spec = LossSpec(**fields)
    for c in spec.conventions:
        for key, raw in c.params:
            p = spec.param(key)
            if p is None:
                raise KeyError(f"convention {c.name} sets unknown parameter '{key}'")
            if raw != p.default:
                parse_param_value(spec, p, raw)  # a declared value must be a valid value
    return spec


def _conventions(table: dict[str, Any]) -> tuple[Convention, ...]:
    """``{keras: {api: …, params: {eps: 1e-7}, note: …}}`` → :class:`Convention` s."""
    out = []
    for name, entry in table.items():
        if name not in CONVENTIONS:
            raise KeyError(f"unknown convention '{name}' (known: {', '.join(CONVENTIONS)})")
        params = tuple(
            (k, tuple(v) if isinstance(v, list) else v)
            for k, v in (entry.get("params") or {}).items()
        )
        out.append(Convention(name, entry.get("api", ""), params, entry.get("note", "")))
    return tuple(out)


def _tuples(mapping: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``mapping`` with its list values as tuples (specs are frozen)."""
    return {k: tuple(v) if isinstance(v, list) else v for k, v in mapping.items()}


@cache
def _aliases() -> dict[str, str]:
    out: dict[str, str] = {}
    for s in all_specs():
        out[s.name] = s.name
        for a in s.aliases:
            out[a] = s.name
    return out


def loss_names() -> list[str]:
    """Canonical names, unique, in catalogue order."""
    seen: dict[str, None] = {}
    for s in all_specs():
        seen.setdefault(s.name, None)
    return list(seen)


def normalise_name(name: str) -> str:
    """A loss name as it is looked up: trimmed, lower case, ``-`` as ``_``
    (``Smooth-L1`` → ``smooth_l1``)."""
    return name.strip().lower().replace("-", "_")


def canonical_name(name: str) -> str:
    """Map a name or alias to its canonical name; unknown names raise a usage error."""
    try:
        return _aliases()[normalise_name(name)]
    except KeyError:
        raise unknown_name("loss", name, _aliases().keys()) from None


def specs_named(name: str) -> list[LossSpec]:
    """Every spec of loss ``name`` (a name or alias): one per task variant, in catalogue
    order; unknown names raise a usage error."""
    canon = canonical_name(name)
    return [s for s in all_specs() if s.name == canon]


def get_spec(name: str, task: str | None = None) -> LossSpec:
    """The spec of loss ``name`` for ``task`` (the first one when task is None)."""
    specs = specs_named(name)
    if task is None:
        return specs[0]
    for s in specs:
        if task in s.tasks:
            return s
    tasks = sorted({t for s in specs for t in s.tasks})
    raise UsageError(
        f"loss '{specs[0].name}' does not apply to task '{task}'",
        hint=f"'{specs[0].name}' applies to: {', '.join(tasks)}; "
        f"see `losscli losses --task {task}` for the losses of this task",
    )


def specs_for_task(task: str, *, only_default: bool = False) -> list[LossSpec]:
    """Specs applicable to ``task`` in catalogue order."""
    if task not in TASKS:
        raise unknown_name("task", task, TASKS)
    return [s for s in all_specs() if task in s.tasks and (s.default or not only_default)]


# --------------------------------------------------------------------------- params

_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def parse_param_value(spec: LossSpec, p: ParamSpec, raw: Any) -> Any:
    """Turn a raw value (a string from the command line, or a YAML scalar/list) into a
    validated parameter value. Raises UsageError naming the loss, the key and the range."""
    where = f"{spec.name}.{p.name}"
    text = raw.strip() if isinstance(raw, str) else raw
    if isinstance(text, str) and text.lower() in p.words:
        return text.lower()
    return _PARSERS[p.kind](where, p, raw, text)


def _parse_bool(where: str, p: ParamSpec, raw: Any, text: Any) -> bool:
    if isinstance(text, bool):
        return text
    if isinstance(text, str) and text.lower() in _TRUE | _FALSE:
        return text.lower() in _TRUE
    raise _bad(where, raw, p)


def _parse_choice(where: str, p: ParamSpec, raw: Any, text: Any) -> str:
    if isinstance(text, str) and text.lower() in p.choices:
        return text.lower()
    hint = did_you_mean(str(text), p.choices) if isinstance(text, str) else None
    raise UsageError(
        f"invalid value '{raw}' for {where}",
        hint=(hint + " " if hint else "") + f"allowed: {p.range_text()}",
    )


def _parse_floats(where: str, p: ParamSpec, raw: Any, text: Any) -> float | tuple[float, ...]:
    """One number, or a list (YAML) or comma-separated string of numbers."""
    if isinstance(text, (list, tuple)):
        items = list(text)
    elif isinstance(text, str) and "," in text:
        items = [t for t in text.split(",") if t.strip()]
    else:
        return _parse_float(where, p, raw, text)
    values = [_number(where, t, p) for t in items]  # every item a number, then in range
    for v in values:
        _check_range(where, v, p)
    return tuple(values)


def _parse_float(where: str, p: ParamSpec, raw: Any, text: Any) -> float:
    value = _number(where, text, p)
    _check_range(where, value, p)
    return value


def _parse_int(where: str, p: ParamSpec, raw: Any, text: Any) -> int:
    value = _number(where, text, p)
    if not float(value).is_integer():
        raise _bad(where, raw, p)
    _check_range(where, int(value), p)
    return int(value)


def _number(where: str, text: Any, p: ParamSpec) -> float:
    if isinstance(text, bool):
        raise _bad(where, text, p)
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise _bad(where, text, p) from None
    if math.isnan(value):
        raise _bad(where, text, p)
    return value


def _check_range(where: str, v: float, p: ParamSpec) -> None:
    if not p.in_range(v):
        raise UsageError(
            f"value {v:g} is out of range for {where}", hint=f"allowed: {p.range_text()}"
        )


def _bad(where: str, raw: Any, p: ParamSpec) -> UsageError:
    return UsageError(f"invalid value '{raw}' for {where}", hint=f"allowed: {p.range_text()}")


_PARSERS: dict[str, Callable[[str, ParamSpec, Any, Any], Any]] = {
    "bool": _parse_bool,
    "choice": _parse_choice,
    "floats": _parse_floats,
    "float": _parse_float,
    "int": _parse_int,
}


def resolve_params(
    spec: LossSpec, overrides: dict[str, Any] | None = None, *, convention: str = "torch"
) -> dict[str, Any]:
    """Defaults of ``spec`` under framework ``convention`` (SPEC §10) updated with
    validated ``overrides`` (raw strings or values): an explicit value always wins."""
    params = spec.convention_defaults(convention)
    for key, raw in (overrides or {}).items():
        check_param_name([spec], key)
        params[key] = parse_param_value(spec, spec.param(key), raw)  # type: ignore[arg-type]
    return params


def check_param_name(specs: Sequence[LossSpec], key: str) -> None:
    """The usage error for a parameter ``key`` that none of ``specs`` (the variants of
    one loss, e.g. :func:`specs_named`) takes; nothing when one of them takes it."""
    names = list(dict.fromkeys(p.name for s in specs for p in s.params))
    if key in names:
        return
    name = specs[0].name
    if not names:
        hint = f"'{name}' takes no parameters"
    else:
        close = did_you_mean(key, names)
        hint = (close + " " if close else "") + f"parameters: {', '.join(names)}"
    raise UsageError(f"loss '{name}' has no parameter '{key}'", hint=hint)
