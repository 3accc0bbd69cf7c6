"""Gates: one rule per kind of gate, for evaluate and compare, and one wording.

Three kinds of gate (SPEC §11), each a row of the document's ``gates`` list:

* ``--max LOSS=V`` (:func:`check_gates`): passes when the loss has a finite value at or
  below the limit. Rows: ``{"loss", ["model"], "op": "<=", "limit", "value", "passed"}``.
* ``--max-increase LOSS=5%|0.02`` against ``--baseline`` (:func:`check_increases`): the
  change (new − old, or (new − old)/|old| for a % limit) is at most the limit. Rows add
  ``"kind": "max_increase"``, ``"relative"``, ``"current"``, ``"baseline"``.
* ``--fail-if-worse LOSS`` against a baseline model (:func:`check_not_worse`): fails only
  when the 95 % interval of the paired bootstrap of (model − baseline) lies entirely
  above the margin. Rows add ``"kind": "not_worse"``, ``"vs"``, ``"ci"``, ``"difference"``.

A gate that cannot be evaluated (no finite value, params that differ from the
baseline's, a % limit on a baseline of 0, no interval) fails closed (SPEC §2 exit 1);
its row carries ``"error"``, the reason. :func:`gate_state` says passed / failed / error,
:func:`gate_name` names a gate (``mse <= 0.5``, ``mse increase <= 5% model_b``) and
:func:`describe_failure` words a failed one — the same in every command and format.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from losscli.errors import UsageError

#: Kinds of gate rows (a row without ``kind`` is a ``--max`` gate).
MAX, MAX_INCREASE, NOT_WORSE = "max", "max_increase", "not_worse"


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def check_gates(
    gates: Mapping[str, float],
    values: Mapping[str, float | None],
    *,
    model: str | None = None,
) -> list[dict[str, Any]]:
    """One row per gate: ``{"loss", "op", "limit", "value", "passed"}`` (+ ``"model"``)."""
    rows = []
    for loss, limit in gates.items():
        v = values.get(loss)
        passed = v is not None and math.isfinite(v) and v <= limit
        who = {"model": model} if model is not None else {}
        rows.append({"loss": loss, **who, "op": "<=", "limit": limit, "value": v, "passed": passed})
    return rows


# --------------------------------------------------------------------------- baselines


def parse_increase(item: str, flag: str = "--max-increase") -> tuple[str, float, bool]:
    """``mse=5%`` → ``("mse", 0.05, True)``; ``mse=0.02`` → ``("mse", 0.02, False)``."""
    loss, sep, text = str(item).partition("=")
    text = text.strip()
    relative = text.endswith("%")
    try:
        limit = float(text[:-1] if relative else text)
    except ValueError:
        limit = math.nan
    if not sep or not loss.strip() or not math.isfinite(limit) or limit < 0:
        raise UsageError(
            f"cannot read {flag} '{item}'",
            hint=f"write LOSS=PERCENT% or LOSS=VALUE (≥ 0), e.g. {flag} mse=5% or {flag} mse=0.02",
        )
    return loss.strip(), (limit / 100.0 if relative else limit), relative


def increase_text(limit: float, relative: bool) -> str:
    """``5%`` or ``0.02``: a ``--max-increase`` limit as written."""
    return f"{limit * 100:g}%" if relative else f"{limit:g}"


def load_baseline(path: str) -> dict[str, Any]:
    """An earlier losscli JSON document (evaluate or compare), checked enough to read
    its values; a usage error naming the file otherwise."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise UsageError(
            f"baseline file '{path}' does not exist",
            hint="give an earlier `losscli evaluate --json` output (-o baseline.json)",
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"cannot read baseline file '{path}': {exc}") from None
    if not isinstance(doc, dict) or doc.get("command") not in ("evaluate", "compare"):
        raise UsageError(
            f"baseline file '{path}' is not a losscli evaluate or compare JSON document",
            hint="write one with `losscli evaluate … -o baseline.json`",
        )
    if not isinstance(doc.get("losses"), list):
        raise UsageError(f"baseline file '{path}' has no 'losses' list")
    return doc


def baseline_values(doc: Mapping[str, Any], model: str | None = None) -> dict[str, dict[str, Any]]:
    """``{loss: {"value", "params"}}`` of a losscli document: an evaluate document's
    values, or one model's of a compare document (``model`` None: the only model; a
    compare of several models then is a usage error, as no one of them is meant)."""
    out: dict[str, dict[str, Any]] = {}
    if doc.get("command") == "compare":
        models = list(doc.get("models") or [])
        if model not in models:
            if len(models) != 1:
                raise UsageError(
                    f"the baseline holds {len(models)} models ({', '.join(models)}): "
                    "cannot tell which one to compare with",
                    hint="give the baseline an evaluate JSON of one model, or compare "
                    "models with the same names as the baseline's",
                )
            model = models[0]
        for it in doc["losses"]:
            out[it["name"]] = {
                "value": (it.get("values") or {}).get(model),
                "params": it.get("params") or {},
            }
        return out
    for it in doc["losses"]:
        out[it["name"]] = {"value": it.get("value"), "params": it.get("params") or {}}
    return out


def change(new: float | None, old: float | None) -> dict[str, float | None]:
    """``{"delta": new − old, "delta_pct": 100·(new − old)/|old|}`` (None where undefined)."""
    if not (_finite(new) and _finite(old)):
        return {"delta": None, "delta_pct": None}
    assert new is not None and old is not None
    d = new - old
    return {"delta": d, "delta_pct": (100.0 * d / abs(old)) if old != 0 else None}


def check_increases(
    limits: Mapping[str, tuple[float, bool]],
    current: Mapping[str, Mapping[str, Any]],
    baseline: Mapping[str, Mapping[str, Any]],
    *,
    model: str | None = None,
) -> list[dict[str, Any]]:
    """One ``max_increase`` row per limit: ``limits`` is ``{loss: (limit, relative)}``;
    ``current``/``baseline`` are ``{loss: {"value", "params"}}``."""
    rows = []
    for loss, (limit, relative) in limits.items():
        new = (current.get(loss) or {}).get("value")
        old_entry = baseline.get(loss)
        old = (old_entry or {}).get("value")
        error = None
        if loss not in current:
            error = f"{loss} was not computed in this run"
        elif old_entry is None:
            error = f"{loss} is not in the baseline"
        elif not _finite(new):
            error = f"{loss} has no finite value in this run"
        elif not _finite(old):
            error = f"{loss} has no finite value in the baseline"
        elif _as_json(current[loss].get("params")) != _as_json(old_entry.get("params")):
            error = (
                f"{loss} params differ from the baseline's "
                f"({_params(current[loss].get('params'))} vs {_params(old_entry.get('params'))})"
            )
        elif relative and old == 0:
            error = f"{loss} is 0 in the baseline: a % limit has no meaning there"
        value = None
        if error is None:
            d = new - old
            value = d / abs(old) if relative else d
        row: dict[str, Any] = {
            "loss": loss,
            **({"model": model} if model is not None else {}),
            "kind": MAX_INCREASE,
            "op": "increase <=",
            "limit": limit,
            "relative": relative,
            "value": value,
            "current": new,
            "baseline": old,
            "passed": error is None and value is not None and value <= limit,
        }
        if error is not None:
            row["error"] = error
        rows.append(row)
    return rows


def _params(p: Any) -> str:
    return json.dumps(p or {}, sort_keys=True, default=str)


def _as_json(p: Any) -> Any:
    """Params as a JSON round trip gives them (tuples → lists), to compare a run's
    params with those read back from its JSON."""
    return json.loads(json.dumps(p or {}, default=str))


def check_not_worse(
    loss: str,
    model: str,
    vs: str,
    *,
    difference: float | None,
    ci: list[float] | None,
    margin: float,
    error: str | None = None,
) -> dict[str, Any]:
    """The ``--fail-if-worse`` row of ``model`` against the baseline model ``vs``:
    fails only when the whole interval of (model − vs) lies above ``margin``."""
    if error is None and (ci is None or not (_finite(ci[0]) and _finite(ci[1]))):
        error = f"{loss} has no bootstrap interval for {model} vs {vs}"
    passed = error is None and ci is not None and not ci[0] > margin
    row: dict[str, Any] = {
        "loss": loss,
        "model": model,
        "kind": NOT_WORSE,
        "op": "not worse than",
        "vs": vs,
        "limit": margin,
        "value": difference,
        "ci": ci,
        "passed": passed,
    }
    if error is not None:
        row["error"] = error
    return row


# --------------------------------------------------------------------------- wording


def gate_state(gate: Mapping[str, Any]) -> str:
    """``passed``, ``failed`` or ``error`` (could not be evaluated: fails closed)."""
    if gate.get("error") is not None:
        return "error"
    if gate.get("passed"):
        return "passed"
    if gate.get("kind", MAX) == MAX and not _finite(gate.get("value")):
        return "error"
    return "failed"


def limit_text(gate: Mapping[str, Any]) -> str:
    """The limit as written on the command line: ``0.5``, ``5%``, ``model_a + 0``."""
    kind = gate.get("kind", MAX)
    if kind == MAX_INCREASE:
        return increase_text(gate["limit"], bool(gate.get("relative")))
    if kind == NOT_WORSE:
        return f"{gate['vs']} + {gate['limit']:g}"
    return f"{gate['limit']:g}"


def value_text(gate: Mapping[str, Any]) -> str:
    """The measured value of a gate: ``0.41``, ``+7.3%``, ``+0.02 [+0.01, +0.03]``."""
    v = gate.get("value")
    if gate.get("error") is not None:
        return str(gate["error"])
    if not _finite(v):
        return "no finite value"
    kind = gate.get("kind", MAX)
    if kind == MAX_INCREASE:
        return f"{v * 100:+.4g}%" if gate.get("relative") else f"{v:+.6g}"
    if kind == NOT_WORSE:
        ci = gate.get("ci") or [math.nan, math.nan]
        return f"{v:+.6g} (95% CI {ci[0]:+.4g} … {ci[1]:+.4g})"
    return f"{v}"


def gate_name(gate: Mapping[str, Any]) -> str:
    """``<loss> <op> <limit>[ <model>]``: ``mse <= 0.5``, ``mse increase <= 5% b``."""
    name = f"{gate['loss']} {gate['op']} {limit_text(gate)}"
    return name if gate.get("model") is None else f"{name} {gate['model']}"


def describe_failure(gate: Mapping[str, Any]) -> str:
    """The one-line message for a failed gate, the same in every command and format."""
    who = f"{gate['model']}: " if gate.get("model") is not None else ""
    kind = gate.get("kind", MAX)
    if gate.get("error") is not None:
        return f"gate failed: {who}{gate['loss']}: {gate['error']} (fail closed)"
    v = gate.get("value")
    if v is None or not math.isfinite(v):
        return f"gate failed: {who}{gate['loss']} has no finite value (fail closed)"
    if kind == MAX_INCREASE:
        return (
            f"gate failed: {who}{gate['loss']} increased by {value_text(gate)} over the "
            f"baseline ({gate['baseline']} → {gate['current']}) > {limit_text(gate)}"
        )
    if kind == NOT_WORSE:
        return (
            f"gate failed: {who}{gate['loss']} is worse than {gate['vs']}: "
            f"{value_text(gate)} lies above the margin {gate['limit']:g}"
        )
    return f"gate failed: {who}{gate['loss']} = {v} > {gate['limit']}"


# --------------------------------------------------------------------------- documents


def _finite_map(values: Mapping[str, Any]) -> dict[str, float]:
    return {str(k): float(v) for k, v in values.items() if _finite(v)}


def flat_values(items: list[dict[str, Any]]) -> dict[str, Any]:
    """``values`` (``{loss: value}``, finite values only) and, when losses carry a
    per-class breakdown, ``per_class_values`` (``{loss: {class: value}}``) of an
    evaluate document: what DVC, MLflow and W&B read as-is (they drop lists)."""
    out: dict[str, Any] = {"values": _finite_map({it["name"]: it.get("value") for it in items})}
    per_class = {
        it["name"]: _finite_map(it["per_class"])
        for it in items
        if isinstance(it.get("per_class"), Mapping)
    }
    if per_class:
        out["per_class_values"] = per_class
    return out


def flat_compare_values(entries: list[dict[str, Any]], models: list[str]) -> dict[str, Any]:
    """:func:`flat_values` of a compare document: ``values`` is ``{model: {loss: v}}``,
    ``per_class_values`` ``{model: {loss: {class: v}}}``."""
    out: dict[str, Any] = {
        "values": {
            m: _finite_map({e["name"]: (e.get("values") or {}).get(m) for e in entries})
            for m in models
        }
    }
    per_class: dict[str, dict[str, Any]] = {}
    for e in entries:
        for m, pc in (e.get("per_class") or {}).items():
            if isinstance(pc, Mapping):
                per_class.setdefault(m, {})[e["name"]] = _finite_map(pc)
    if per_class:
        out["per_class_values"] = per_class
    return out


def metrics_document(doc: Mapping[str, Any]) -> dict[str, Any]:
    """What ``-o FILE.metrics.json`` holds: only the numbers — ``values`` at the top
    (``{loss: v}``, or ``{model: {loss: v}}`` for compare) and the per-class values
    under ``per_class``."""
    out: dict[str, Any] = dict(doc.get("values") or {})
    if doc.get("per_class_values"):
        out["per_class"] = doc["per_class_values"]
    return out


def baseline_gates(
    items: list[dict[str, Any]], path: str | None, limits: Mapping[str, tuple[float, bool]]
) -> list[dict[str, Any]]:
    """``--baseline OLD.json`` for evaluate: each loss entry gains ``baseline``,
    ``delta`` and ``delta_pct`` (in place); one ``max_increase`` row per limit."""
    if path is None:
        if limits:
            raise UsageError(
                "--max-increase needs --baseline", hint="add --baseline OLD.json (an earlier run)"
            )
        return []
    old = baseline_values(load_baseline(path))
    current = {it["name"]: {"value": it.get("value"), "params": it.get("params")} for it in items}
    for it in items:
        before = (old.get(it["name"]) or {}).get("value")
        it["baseline"] = before if _finite(before) else None
        it.update(change(it.get("value"), before))
    return check_increases(limits, current, old)
