"""Where settings come from: flags, ``LOSSCLI_*`` environment variables, ``--config
FILE.yaml``, ``[tool.losscli]`` in pyproject.toml, defaults.

:func:`resolve` is the one precedence rule (flags or API keywords > environment >
``--config`` > pyproject > defaults; the command line reads the environment and
pyproject.toml, the Python API neither); :func:`from_flags` feeds it a command line;
:func:`load_config` reads and checks the file against the keys :mod:`losscli.options`
declares, :func:`load_pyproject` the same keys under ``[tool.losscli]``, and
:func:`env_values` the ``LOSSCLI_<LONG_OPTION>`` variables (``LOSSCLI_MAX=mse=0.5,mae=1``,
``LOSSCLI_PER_CLASS=1``; repeatable options take a comma list, booleans 1/0, true/false,
yes/no).

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
    baseline: baseline.json       # or, for compare, a model name
    gates: {max_increase: {mse: 5%}, fail_if_worse: [mse], margin: {mse: 0.01}}

A relative ``model_weights`` path is read relative to the config file's directory.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from losscli import safeyaml
from losscli.errors import ConfigError, UsageError, did_you_mean
from losscli.options import (
    INPUT_FLAGS,
    SETTINGS,
    RunOptions,
    Setting,
    config_keys,
    logits_from_flags,
    merge_gates,
    merge_increases,
    merge_params,
    parse_gate_flags,
    parse_increases,
    parse_param_flags,
    parse_task,
    value_problem,
)
from losscli.safeyaml import shown

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
    shown_crumbs = [
        c if len(c) <= safeyaml.SHOWN_CHARS else c[: safeyaml.SHOWN_CHARS] + "…" for c in crumbs
    ]
    return ConfigError(" › ".join([path, *shown_crumbs]) + f": {msg}", hint=hint)


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
    """Loss names and parameter keys under ``params`` exist in some variant of the loss
    (values are checked when the loss runs, against the variant of the task)."""
    from losscli.registry import check_param_name, specs_named

    for loss, kv in params.items():
        name = _loss_name(path, ["params", loss], loss)
        for key in kv:
            try:
                check_param_name(specs_named(name), str(key))
            except UsageError as exc:
                raise _err(path, ["params", loss, str(key)], exc.message, exc.hint) from None


def _read(path: str) -> Any:
    """The YAML document of ``path`` (None for an empty file), read within the bounds of
    :mod:`losscli.safeyaml` (size, nesting, alias expansion)."""
    limit = safeyaml.limit_from_env("LOSSCLI_MAX_CONFIG_BYTES", safeyaml.MAX_CONFIG_BYTES)
    text = safeyaml.read_bounded(
        path,
        what="config file",
        max_bytes=limit,
        env="LOSSCLI_MAX_CONFIG_BYTES",
        flag="--config",
    )
    import yaml

    try:
        return safeyaml.load(text, path, max_nodes=safeyaml.MAX_CONFIG_NODES)
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
            problem = value_problem(node, value)
            if problem is not None:
                crumbs_at = where if problem.key is None else [*where, problem.key]
                raise _err(path, crumbs_at, problem.what, problem.hint)
            check = _CHECKS.get(node.kind)
            out[key] = check(path, where, value, node) if check else value
    return out


def _task(path: str, where: list[str], value: Any, s: Setting) -> str:
    if not isinstance(value, str):
        raise _err(path, where, f"must be a task name, got {shown(value)}")
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
    out = {str(k): dict(v) for k, v in value.items()}
    _check_param_names(path, out)
    return out


def _gates(path: str, where: list[str], value: Any, s: Setting) -> dict[str, float]:
    for k in value:
        _loss_name(path, [*where, str(k)], str(k))
    return {str(k): float(v) for k, v in value.items()}


def _increases(path: str, where: list[str], value: Any, s: Setting) -> dict[str, Any]:
    for k in value:
        _loss_name(path, [*where, str(k)], str(k))
    return {str(k): v for k, v in value.items()}


def _strs(path: str, where: list[str], value: Any, s: Setting) -> list[str]:
    items = value if isinstance(value, list) else [value]
    for i, x in enumerate(items):
        _scalar(path, [*where, f"[{i}]"] if isinstance(value, list) else where, x)
    return [str(x) for x in items]


def _str(path: str, where: list[str], value: Any, s: Setting) -> str:
    _scalar(path, where, value)
    return str(value)


def _scalar(path: str, where: list[str], value: Any) -> None:
    """A name must be one word or number, not a list or mapping."""
    if isinstance(value, (list, dict)):
        raise _err(path, where, f"must be a name, got {shown(value)}")


def _path(path: str, where: list[str], value: Any, s: Setting) -> str:
    """A file path, read relative to the config file's directory."""
    if not isinstance(value, str) or not value.strip():
        raise _err(path, where, "must be a file path")
    p = Path(value).expanduser()
    return str(p if p.is_absolute() else Path(path).parent / p)


#: What a ``--config`` value of each kind becomes once :func:`value_problem` passed it
#: (loss names checked, paths made relative to the file, …); other kinds stay as read.
_CHECKS = {
    "task": _task,
    "losses": _losses,
    "params": _params,
    "gates": _gates,
    "increases": _increases,
    "strs": _strs,
    "str": _str,
    "path": _path,
}


# --------------------------------------------------------------------------- precedence


def from_flags(command: str, flags: Mapping[str, Any]) -> RunOptions:
    """The options of one command line: ``flags`` holds each setting's Typer value (None
    or empty when not given; ``logits``/``probs`` as the two flags they are). The
    environment and ``[tool.losscli]`` of pyproject.toml fill what the flags leave."""
    given = _parsed(flags)
    return resolve(command, given, env=os.environ, project=find_pyproject())


def _parsed(flags: Mapping[str, Any]) -> dict[str, Any]:
    """Flag values (or the environment's, read as flags) in the form :func:`resolve`
    takes: ``--logits``/``--probs`` as one setting, ``--param``/``--max``/… items
    parsed into mappings."""
    given = dict(flags)
    if "logits" in given or "probs" in given:
        given["logits"] = logits_from_flags(*(bool(given.pop(f, False)) for f in INPUT_FLAGS))
    if "params" in given:
        given["params"] = parse_param_flags(given.get("params") or [])
    if "gates" in given:
        given["gates"] = parse_gate_flags(given.get("gates") or [])
    if "margin" in given:
        given["margin"] = parse_gate_flags(given.get("margin") or [], flag="--margin")
    if "max_increase" in given:
        given["max_increase"] = parse_increases(given.get("max_increase") or [])
    if given.get("names"):
        given["names"] = [n.strip() for n in str(given["names"]).split(",")]
    return given


# --------------------------------------------------------------------------- environment

ENV_PREFIX = "LOSSCLI_"
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def env_name(flag: str) -> str:
    """``--max-increase`` → ``LOSSCLI_MAX_INCREASE``."""
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


def _env_bool(var: str, text: str) -> bool:
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise UsageError(f"{var} must be a boolean, got {text!r}", hint="use 1/0, true/false or yes/no")


def _split_items(text: str) -> list[str]:
    """A comma list of repeatable items; a piece without ``=`` continues the previous
    item's value (``cross_entropy.weight=1,2,0.5,huber.delta=2`` is two items)."""
    out: list[str] = []
    for piece in (p.strip() for p in text.split(",")):
        if not piece:
            continue
        if out and "=" not in piece and "=" in out[-1]:
            out[-1] += "," + piece
        else:
            out.append(piece)
    return out


def _env_value(s: Setting, var: str, text: str) -> Any:
    """One variable's text as the flag's Typer value would be."""
    if s.kind == "bool":
        return _env_bool(var, text)
    if s.kind in ("int", "float"):
        try:
            return int(text) if s.kind == "int" else float(text)
        except ValueError:
            raise UsageError(f"{var} must be {s.describe()}, got {text!r}") from None
    if s.repeatable:
        return (
            _split_items(text)
            if s.kind in ("params", "gates", "increases")
            else [x.strip() for x in text.split(",") if x.strip()]
        )
    return text


def env_values(command: str, environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings ``command`` takes that ``LOSSCLI_<LONG_OPTION>`` variables set, in
    the form :func:`resolve` takes (empty variables are not set)."""
    raw: dict[str, Any] = {}
    for s in SETTINGS:
        if command not in s.commands:
            continue
        if s.kind == "input":
            for flag in INPUT_FLAGS:
                var = env_name(flag)
                if environ.get(var, "").strip():
                    raw[flag] = _env_bool(var, environ[var])
            continue
        var = env_name(s.flag)
        text = environ.get(var, "")
        if text.strip():
            raw[s.name] = _env_value(s, var, text)
    try:
        return _parsed(raw)
    except UsageError as exc:
        raise UsageError(f"environment: {exc.message}", hint=exc.hint) from None


# --------------------------------------------------------------------------- pyproject


def find_pyproject(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The first pyproject.toml upward from ``start`` (the working directory) that has
    a ``[tool.losscli]`` table; None when there is none."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                raw = candidate.read_bytes()
            except OSError:
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                if (
                    b"losscli" in raw or "losscli".encode("utf-16-le") in raw
                ):  # ours: skipping it would drop its gates
                    raise ConfigError(
                        f"{candidate}: not UTF-8 text (byte {exc.start}): TOML files are UTF-8",
                        hint="save the file as UTF-8",
                    ) from None
                continue
            if "losscli" not in text:
                continue
            try:
                data = _toml(candidate, text)
            except ConfigError:
                if "tool.losscli" in text:
                    raise  # ours, and broken: say so
                continue  # someone else's file that merely mentions losscli
            if isinstance(data.get("tool"), dict) and "losscli" in data["tool"]:
                return candidate
    return None


def _toml(path: Path, text: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_pyproject(path: str | os.PathLike[str]) -> dict[str, Any]:
    """``[tool.losscli]`` of a pyproject.toml, checked like a ``--config`` file (the same
    keys; relative paths read from the file's directory)."""
    p = Path(path)
    data = _toml(p, p.read_text(encoding="utf-8"))
    table = (data.get("tool") or {}).get("losscli")
    if table is None:
        return {}
    if not isinstance(table, dict):
        raise _err(str(p), ["tool", "losscli"], "must be a table of settings")
    return _section(str(p), ["tool", "losscli"], table, schema())


# --------------------------------------------------------------------------- precedence


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
    """A given value of ``s`` (flag, API keyword or ``--config``) checked
    (:func:`~losscli.options.value_problem`: kind, minimum, choices) and in its resolved
    form: one check and one parse, whatever the source."""
    problem = value_problem(s, value)
    if problem is not None:
        raise problem.error(s)
    if s.kind == "task":
        return parse_task(value)
    if s.kind == "input":
        return value if isinstance(value, bool) else value == "logits"
    if s.kind == "float":
        return float(value)
    if s.kind in ("strs", "losses"):
        items = [value] if isinstance(value, str) else list(value)
        return tuple(items) if s.kind == "strs" else items
    return value


#: How the mapping settings merge their layers key by key (later layers win).
_MERGES = {"params": merge_params, "gates": merge_gates, "increases": merge_increases}


def resolve(
    command: str,
    given: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    project: str | os.PathLike[str] | None = None,
) -> RunOptions:
    """The one precedence rule: a given flag or keyword, else the environment's
    ``LOSSCLI_*`` value (``env``), else the ``--config`` value, else ``[tool.losscli]``
    of the ``project`` pyproject.toml, else the default. ``params``, ``gates``,
    ``max_increase`` and ``margin`` merge key by key (the higher layer wins)."""
    from_env = env_values(command, env) if env is not None else {}
    config = given.get("config")
    if config is None and from_env.get("config") is not None:
        config = from_env["config"]
    cfg: dict[str, Any] = load_config(str(config)) if config is not None else {}
    proj: dict[str, Any] = load_pyproject(project) if project is not None else {}
    values: dict[str, Any] = {}
    for s in SETTINGS:
        from_cfg = _config_value(cfg, s.config) if s.config else None
        from_proj = _config_value(proj, s.config) if s.config else None
        if s.kind in _MERGES:
            layers = [from_proj, from_cfg, from_env.get(s.name), given.get(s.name)]
            normalised = [None if x is None else _normalise(s, x) for x in layers]
            values[s.name] = _MERGES[s.kind](*normalised)
        elif command in s.commands and _given(given.get(s.name)):
            values[s.name] = _normalise(s, given[s.name])
        elif command in s.commands and _given(from_env.get(s.name)):
            values[s.name] = _normalise(s, from_env[s.name])
        elif from_cfg is not None:
            values[s.name] = _normalise(s, from_cfg)
        elif from_proj is not None:
            values[s.name] = _normalise(s, from_proj)
        else:
            values[s.name] = s.default
    if values.get("config") is None and config is not None:
        values["config"] = str(config)
    return RunOptions(**values)


def unused_config_keys(command: str, opts: RunOptions) -> list[str]:
    """The ``--config`` keys that hold a value in ``opts`` but that ``command`` does not
    use (``worst`` or ``regularization.l2`` for compare): only the file can set them, as
    ``command`` takes no such flag or keyword."""
    return [
        s.config
        for s in SETTINGS
        if s.config is not None and command not in s.commands and getattr(opts, s.name) != s.default
    ]
