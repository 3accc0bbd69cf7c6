"""``--config FILE.yaml`` for evaluate/compare: the same settings as the flags.

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

from pathlib import Path
from typing import Any

from losscli.errors import ConfigError, did_you_mean

_TOP = {
    "task",
    "losses",
    "params",
    "gates",
    "columns",
    "input",
    "reduction",
    "drop_invalid",
    "worst",
    "per_class",
    "chunk_size",
    "regularization",
}
_COLUMNS = {"pred", "target", "id", "group", "weight"}
_GATES = {"max"}
_REGULARIZATION = {"l1", "l2", "model_weights"}


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
    from losscli.errors import UsageError
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


def load_config(path: str) -> dict[str, Any]:
    """Read and validate a config file; returns a dict with the keys above."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"config file '{path}' does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file '{path}': {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise ConfigError(f"{path}: invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise _err(path, [], "the file must hold a mapping of settings")
    _check_keys(path, [], data, _TOP)
    out: dict[str, Any] = dict(data)
    if "losses" in data:
        losses = data["losses"]
        if isinstance(losses, str):
            losses = [s.strip() for s in losses.split(",") if s.strip()]
        if not isinstance(losses, list) or not all(isinstance(x, str) for x in losses):
            raise _err(path, ["losses"], "must be a list of loss names")
        for i, loss in enumerate(losses):
            _loss_name(path, ["losses", f"[{i}]"], loss)
        out["losses"] = losses
    if "params" in data:
        params = data["params"]
        if not isinstance(params, dict) or not all(isinstance(v, dict) for v in params.values()):
            raise _err(
                path,
                ["params"],
                "must map loss names to {parameter: value}",
                "e.g. params: {huber: {delta: 2.0}}",
            )
        out["params"] = {str(k): dict(v) for k, v in params.items()}
        _check_param_names(path, out["params"])
    if "gates" in data:
        gates = data["gates"]
        if not isinstance(gates, dict):
            raise _err(path, ["gates"], "must be a mapping like {max: {mse: 0.5}}")
        _check_keys(path, ["gates"], gates, _GATES)
        mx = gates.get("max") or {}
        if not isinstance(mx, dict):
            raise _err(path, ["gates", "max"], "must map loss names to limits")
        for k, v in mx.items():
            _loss_name(path, ["gates", "max", str(k)], str(k))
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise _err(path, ["gates", "max", str(k)], f"limit must be a number, got {v!r}")
        out["gates"] = {"max": {str(k): float(v) for k, v in mx.items()}}
    if "columns" in data:
        cols = data["columns"]
        if not isinstance(cols, dict):
            raise _err(path, ["columns"], "must be a mapping")
        _check_keys(path, ["columns"], cols, _COLUMNS)
        norm: dict[str, Any] = {}
        for k, v in cols.items():
            if k in ("pred", "target"):
                norm[k] = [str(x) for x in (v if isinstance(v, list) else [v])]
            else:
                norm[k] = str(v)
        out["columns"] = norm
    if "input" in data and data["input"] not in ("probabilities", "logits"):
        raise _err(
            path, ["input"], f"unknown value {data['input']!r}", "allowed: probabilities, logits"
        )
    if "reduction" in data and data["reduction"] not in ("mean", "sum"):
        raise _err(
            path, ["reduction"], f"unknown value {data['reduction']!r}", "allowed: mean, sum"
        )
    if "worst" in data and (
        isinstance(data["worst"], bool) or not isinstance(data["worst"], int) or data["worst"] < 1
    ):
        raise _err(path, ["worst"], "must be a positive integer")
    if "chunk_size" in data and (
        isinstance(data["chunk_size"], bool)
        or not isinstance(data["chunk_size"], int)
        or data["chunk_size"] < 0
    ):
        raise _err(
            path,
            ["chunk_size"],
            f"must be a positive integer or 0 (one piece), got {data['chunk_size']!r}",
        )
    if "regularization" in data:
        out["regularization"] = _regularization(path, data["regularization"])
    return out


def _regularization(path: str, reg: Any) -> dict[str, Any]:
    """``regularization: {l1: λ, l2: λ, model_weights: W.npz}``; the weights path is
    resolved against the config file's directory."""
    if not isinstance(reg, dict):
        raise _err(
            path,
            ["regularization"],
            "must be a mapping",
            "e.g. regularization: {l2: 1.0e-4, model_weights: weights.npz}",
        )
    _check_keys(path, ["regularization"], reg, _REGULARIZATION)
    out: dict[str, Any] = {}
    for key in ("l1", "l2"):
        if key in reg:
            v = reg[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not v >= 0:
                raise _err(path, ["regularization", key], f"must be a number ≥ 0, got {v!r}")
            out[key] = float(v)
    if "model_weights" in reg:
        w = reg["model_weights"]
        if not isinstance(w, str) or not w.strip():
            raise _err(path, ["regularization", "model_weights"], "must be a file path")
        p = Path(w).expanduser()
        out["model_weights"] = str(p if p.is_absolute() else Path(path).parent / p)
    return out
