"""Where settings come from: flags, ``--config FILE.yaml``, defaults.

:func:`resolve` is the one precedence rule (flags or API keywords > ``--config`` >
defaults); :func:`from_flags` feeds it a command line; :func:`load_config` reads and
checks the file against the keys :mod:`losscli.options` declares.

Schema (every key optional; unknown keys are rejected with a breadcrumb)::

    task: binary
    losses: [bce, focal]
    params: {focal: {gamma: 1.0}}
    gates: {max: {bce: 0.35}}
    columns: {pred: [p], target: [y], id: id, group: image, weight: w}
    input: probabilities          # or logits
    reduction: mean               # or sum
    drop_invalid: false
    worst: 10
    per_class: false
    chunk_size: 1000000           # rows per chunk of large text inputs; 0 = one piece
    regularization: {l1: 0.0, l2: 1.0e-4, model_weights: weights.npz}

A relative ``model_weights`` path is read relative to the config file's directory.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from losscli.errors import ConfigError, UsageError, did_you_mean
from losscli.options import (
    BY_NAME,
    SETTINGS,
    RunOptions,
    Setting,
    config_keys,
    merge_gates,
    merge_params,
    parse_gate_flags,
    parse_param_flags,
    parse_task,
    settings_of,
)

#: Examples shown when a nested section is not a mapping.
_SECTION_HINTS = {
    "gates": "e.g. gates: {max: {mse: 0.5}}",
    "regularization": "e.g. regularization: {l2: 1.0e-4, model_weights: weights.npz}",
    "columns": "e.g. columns: {pred: [p], target: [y]}",
}


def schema() -> dict[str, Any]:
    """The keys ``--config`` accepts, as a tree of :class:`~losscli.options.Setting`
    leaves (from :func:`losscli.options.config_keys`)."""
    tree: dict[str, Any] = {}
    for key, setting in config_keys().items():
        node = tree
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = setting
    return tree


def _err(path: str, crumbs: list[str], msg: str, hint: str | None = None) -> ConfigError:
    return ConfigError(" › ".join([path, *crumbs]) + f": {msg}", hint=hint)


def _check_keys(path: str, crumbs: list[str], data: dict[str, Any], allowed: set[str]) -> None:
    for key in data:
        if key not in allowed:
            hint = did_you_mean(str(key), sorted(allowed))
            raise _err(
                path,
                [*crumbs, str(key)],
                "unknown key",
                (hint + " " if hint else "") + "allowed: " + ", ".join(sorted(allowed)),
            )


def _loss_name(path: str, crumbs: list[str], loss: str) -> str:
    """Canonical name of a loss named in the config; unknown names get a breadcrumb."""
    from losscli.registry import canonical_name

    try:
        return canonical_name(loss)
    except UsageError as exc:
        raise _err(path, crumbs, f"unknown loss '{loss}'", exc.hint) from None


def _check_param_names(path: str, params: dict[str, dict[str, Any]]) -> None:
    """Loss names and parameter keys under ``params`` exist (values are checked when the
    loss runs, against the variant of the task)."""
    from losscli.registry import all_specs

    for loss, kv in params.items():
        name = _loss_name(path, ["params", loss], loss)
        keys = sorted({p.name for s in all_specs() if s.name == name for p in s.params})
        for key in kv:
            if str(key) not in keys:
                hint = did_you_mean(str(key), keys)
                allowed = f"parameters: {', '.join(keys)}" if keys else f"'{name}' takes none"
                raise _err(
                    path,
                    ["params", loss, str(key)],
                    f"loss '{name}' has no parameter '{key}'",
                    (hint + " " if hint else "") + allowed,
                )


def _read(path: str) -> Any:
    """The YAML document of ``path`` (None for an empty file)."""
    import yaml

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"config file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file '{path}': {exc}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None


def load_config(path: str) -> dict[str, Any]:
    """Read and validate a config file; returns a dict with the keys above."""
    data = _read(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _err(path, [], "the file must hold a mapping of settings")
    return _section(path, [], data, schema())


def _section(path: str, crumbs: list[str], data: Any, tree: dict[str, Any]) -> dict[str, Any]:
    """Check one mapping of the file against its part of :func:`schema`."""
    if not isinstance(data, dict):
        raise _err(path, crumbs, "must be a mapping", _SECTION_HINTS.get(crumbs[-1]))
    _check_keys(path, crumbs, data, set(tree))
    out: dict[str, Any] = {}
    for key, value in data.items():
        node = tree[key]
        where = [*crumbs, str(key)]
        if isinstance(node, dict):
            out[key] = _section(path, where, value if value is not None else {}, node)
        elif value is not None:
            out[key] = _CHECKS[node.kind](path, where, value, node)
    return out


def _task(path: str, where: list[str], value: Any, s: Setting) -> str:
    if not isinstance(value, str):
        raise _err(path, where, f"must be a task name, got {value!r}")
    try:
        return parse_task(value)
    except UsageError as exc:
        raise _err(path, where, exc.message, exc.hint) from None


def _losses(path: str, where: list[str], value: Any, s: Setting) -> list[str]:
    if isinstance(value, str):
        value = [x.strip() for x in value.split(",") if x.strip()]
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise _err(path, where, "must be a list of loss names")
    for i, loss in enumerate(value):
        _loss_name(path, [*where, f"[{i}]"], loss)
    return value


def _params(path: str, where: list[str], value: Any, s: Setting) -> dict[str, dict[str, Any]]:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise _err(
            path,
            where,
            "must map loss names to {parameter: value}",
            "e.g. params: {huber: {delta: 2.0}}",
        )
    out = {str(k): dict(v) for k, v in value.items()}
    _check_param_names(path, out)
    return out


def _gates(path: str, where: list[str], value: Any, s: Setting) -> dict[str, float]:
    if not isinstance(value, dict):
        raise _err(path, where, "must map loss names to limits")
    for k, v in value.items():
        _loss_name(path, [*where, str(k)], str(k))
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _err(path, [*where, str(k)], f"limit must be a number, got {v!r}")
    return {str(k): float(v) for k, v in value.items()}


def _strs(path: str, where: list[str], value: Any, s: Setting) -> list[str]:
    return [str(x) for x in (value if isinstance(value, list) else [value])]


def _str(path: str, where: list[str], value: Any, s: Setting) -> str:
    return str(value)


def _choice(path: str, where: list[str], value: Any, s: Setting) -> Any:
    if value not in s.choices:
        raise _err(path, where, f"unknown value {value!r}", "allowed: " + ", ".join(s.choices))
    return value


def _bool(path: str, where: list[str], value: Any, s: Setting) -> bool:
    if not isinstance(value, bool):
        raise _err(path, where, f"must be true or false, got {value!r}")
    return value


def _int(path: str, where: list[str], value: Any, s: Setting) -> int:
    low = int(s.minimum or 0)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        what = "a positive integer" if low >= 1 else "a positive integer or 0 (one piece)"
        raise _err(path, where, f"must be {what}, got {value!r}")
    return value


def _float(path: str, where: list[str], value: Any, s: Setting) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
        raise _err(path, where, f"must be a number ≥ 0, got {value!r}")
    return float(value)


def _path(path: str, where: list[str], value: Any, s: Setting) -> str:
    """A file path, read relative to the config file's directory."""
    if not isinstance(value, str) or not value.strip():
        raise _err(path, where, "must be a file path")
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else Path(path).parent / p)


_CHECKS = {
    "task": _task,
    "losses": _losses,
    "params": _params,
    "gates": _gates,
    "strs": _strs,
    "str": _str,
    "choice": _choice,
    "input": _choice,
    "bool": _bool,
    "int": _int,
    "float": _float,
    "path": _path,
}


# --------------------------------------------------------------------------- precedence


def from_flags(command: str, flags: Mapping[str, Any]) -> RunOptions:
    """The options of one command line: ``flags`` holds each setting's Typer value (None
    or empty when not given; ``logits``/``probs`` as the two flags they are)."""
    given = dict(flags)
    logits, probs = given.pop("logits", False), given.pop("probs", False)
    if logits and probs:
        raise UsageError("--logits conflicts with --probs", hint="give at most one of them")
    given["logits"] = True if logits else (False if probs else None)
    given["params"] = parse_param_flags(given.get("params") or [])
    given["gates"] = parse_gate_flags(given.get("gates") or [])
    if given.get("names"):
        given["names"] = [n.strip() for n in str(given["names"]).split(",")]
    return resolve(command, given)


def _given(value: Any) -> bool:
    """Whether a flag or keyword was given (None and empty sequences were not)."""
    if isinstance(value, (list, tuple, dict)):
        return bool(value)
    return value is not None


def _config_value(cfg: Mapping[str, Any], key: str) -> Any:
    """``cfg["columns"]["pred"]`` for ``"columns.pred"``; None when absent."""
    node: Any = cfg
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _normalise(s: Setting, value: Any) -> Any:
    """A given value of ``s`` in its resolved form (one parse, whatever the source)."""
    if s.kind == "task":
        return parse_task(value)
    if s.kind == "choice" and value not in s.choices:
        raise UsageError(f"unknown {s.name} '{value}'", hint="allowed: " + ", ".join(s.choices))
    if s.kind in ("strs", "losses") and not isinstance(value, str):
        return tuple(value) if s.kind == "strs" else list(value)
    if s.kind == "strs":
        return (value,)
    if s.kind == "losses":
        return [value]
    if s.kind == "bool":
        return bool(value)
    return value


def resolve(command: str, given: Mapping[str, Any]) -> RunOptions:
    """The one precedence rule: a given flag or keyword, else the ``--config`` value,
    else the default. ``params`` and ``gates`` merge key by key (flags win)."""
    cfg: dict[str, Any] = {}
    if given.get("config") is not None:
        cfg = load_config(str(given["config"]))
    values: dict[str, Any] = {}
    for s in SETTINGS:
        from_cfg = _config_value(cfg, s.config) if s.config else None
        if s.kind == "input" and from_cfg is not None:
            from_cfg = from_cfg == "logits"
        if s.kind in ("params", "gates"):
            merge = merge_params if s.kind == "params" else merge_gates
            values[s.name] = merge(from_cfg, given.get(s.name))
        elif command in s.commands and _given(given.get(s.name)):
            values[s.name] = _normalise(s, given[s.name])
        elif from_cfg is not None:
            values[s.name] = _normalise(s, from_cfg)
        else:
            values[s.name] = s.default
    return RunOptions(**values)


#: How each kind of setting is typed as a keyword of the Python API.
_API_TYPES = {
    "losses": "Sequence[str] | None",
    "strs": "Sequence[str] | None",
    "names": "Sequence[str] | None",
    "params": "Mapping[str, Mapping[str, Any]] | None",
    "gates": "Mapping[str, float] | None",
    "bool": "bool | None",
    "input": "bool | None",
    "int": "int | None",
    "float": "float | None",
}


def keyword_api(command: str, fn: Callable[..., Any], doc: str) -> Callable[..., Any]:
    """The Python API of ``command``: ``fn``'s positional parameters, then every setting
    of ``command`` as a keyword (None: not given, so ``config``'s value or the default),
    then ``fn``'s own keywords. The settings are resolved once (:func:`resolve`) and
    ``fn`` receives them as ``opts``."""
    names = [st.name for st in settings_of(command)]
    sig = inspect.signature(fn)
    params = list(sig.parameters.values())
    head = [p for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
    tail = [p for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "opts"]
    added = [
        inspect.Parameter(
            n,
            inspect.Parameter.KEYWORD_ONLY,
            default=None,
            annotation=_API_TYPES.get(BY_NAME[n].kind, "str | None"),
        )
        for n in names
    ]

    def api(*args: Any, **kwargs: Any) -> Any:
        given = {n: kwargs.pop(n) for n in names if n in kwargs}
        return fn(*args, opts=resolve(command, given), **kwargs)

    api.__signature__ = sig.replace(parameters=[*head, *added, *tail])  # type: ignore[attr-defined]
    api.__name__ = api.__qualname__ = command
    api.__module__ = fn.__module__
    api.__doc__ = doc
    return api
