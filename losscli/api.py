"""The Python API behind the commands: ``evaluate`` (and the helpers compare reuses).

The CLI is a thin shell over these functions; they take plain Python values, return
JSON-ready documents, and raise :mod:`losscli.errors` exceptions.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from losscli.errors import DataError, UsageError, did_you_mean
from losscli.registry import (
    TASKS,
    LossSpec,
    canonical_name,
    get_spec,
    loss_names,
    specs_for_task,
)

TASK_CHOICES = ("auto", *TASKS)


# ------------------------------------------------------------------ argument parsing


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
        out.setdefault(canonical_name(loss), {})[name.strip()] = value.strip()
    return out


def parse_gate_flags(items: Iterable[str]) -> dict[str, float]:
    """``["mse=0.5"]`` → ``{"mse": 0.5}``."""
    out: dict[str, float] = {}
    for item in items:
        loss, sep, value = item.partition("=")
        try:
            limit = float(value)
        except ValueError:
            limit = math.nan
        if not sep or not loss.strip() or math.isnan(limit):
            raise UsageError(
                f"cannot read --max '{item}'", hint="write LOSS=VALUE, e.g. --max mse=0.5"
            )
        out[canonical_name(loss)] = limit
    return out


def merge_params(
    *layers: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Merge per-loss params; later layers win key by key (flags over config)."""
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for loss, kv in (layer or {}).items():
            out.setdefault(canonical_name(loss), {}).update(kv)
    return out


# ------------------------------------------------------------------ results


@dataclass
class Report:
    """What ``evaluate`` returns: the JSON document plus per-row arrays when asked."""

    data: dict[str, Any]
    per_sample: dict[str, Any] = field(default_factory=dict)
    dataset: Any = None

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @property
    def ok(self) -> bool:
        return bool(self.data.get("ok", True))

    @property
    def values(self) -> dict[str, float | None]:
        """``{loss name: value}`` for every computed loss."""
        return {it["name"]: it["value"] for it in self.data["losses"]}


def select_specs(task: str, losses: Sequence[str] | None) -> tuple[list[LossSpec], bool]:
    """Specs to compute and whether they were asked for explicitly."""
    if losses:
        specs: list[LossSpec] = []
        for name in losses:
            spec = get_spec(name, task)
            if spec not in specs:
                specs.append(spec)
        return specs, True
    return specs_for_task(task, only_default=True), False


def compute_all(
    dataset: Any,
    specs: Sequence[LossSpec],
    *,
    explicit: bool,
    params: Mapping[str, Mapping[str, Any]],
    reduction: str = "mean",
    keep_per_row: bool = False,
) -> list[Any]:
    """Compute each spec on ``dataset``; in the default run a loss whose domain the data
    leaves is ``not_applicable`` instead of an error (SPEC §5 Domains)."""
    from losscli.compute import KernelInputError, LossResult, compute

    results: list[LossResult] = []
    for spec in specs:
        try:
            res = compute(
                spec,
                dataset.pred,
                dataset.target,
                params=params.get(spec.name, {}),
                context=dataset.context,
                sample_weight=dataset.sample_weight,
                reduction=reduction,  # type: ignore[arg-type]
                keep_per_row=keep_per_row,
                strict=explicit,
                class_names=dataset.class_names,
            )
        except (DataError, KernelInputError) as exc:
            if explicit or (isinstance(exc, KernelInputError) and params.get(spec.name)):
                raise
            from losscli.registry import resolve_params

            res = LossResult(
                spec.name,
                None,
                "not_applicable",
                resolve_params(spec, params.get(spec.name, {})),
                reason=exc.message,
            )
        results.append(res)
    return results


def _check_unused(
    params: Mapping[str, Any], gates: Mapping[str, float], specs: Sequence[LossSpec], task: str
) -> None:
    names = {s.name for s in specs}
    for loss in params:
        if loss not in names:
            raise UsageError(
                f"--param names loss '{loss}', which is not computed for task '{task}'",
                hint=did_you_mean(loss, names) or f"computed: {', '.join(sorted(names))}",
            )
    for loss in gates:
        if loss not in {n for s in specs_for_task(task) for n in [s.name]}:
            raise UsageError(
                f"--max names loss '{loss}', which does not apply to task '{task}'",
                hint=f"losses of this task: {', '.join(s.name for s in specs_for_task(task))}",
            )


def evaluate_gates(
    gates: Mapping[str, float], values: Mapping[str, float | None]
) -> list[dict[str, Any]]:
    """``--max`` gates; a gate whose loss has no finite value fails (fail closed)."""
    out = []
    for loss, limit in gates.items():
        v = values.get(loss)
        passed = v is not None and math.isfinite(v) and v <= limit
        out.append({"loss": loss, "op": "<=", "limit": limit, "value": v, "passed": passed})
    return out


def worst_rows(dataset: Any, per_row: Any, k: int) -> list[dict[str, Any]]:
    """The k rows with the largest per-row loss (ties keep file order)."""
    import numpy as np

    finite = np.where(np.isfinite(per_row), per_row, np.inf)
    k = min(k, finite.shape[0])
    idx = np.argsort(-finite, kind="stable")[:k]
    out = []
    for i in idx:
        item: dict[str, Any] = {"row": int(dataset.row_numbers[i])}
        if dataset.row_ids is not None:
            rid = dataset.row_ids[i]
            item["id"] = rid.item() if hasattr(rid, "item") else rid
        item["prediction"] = _value(dataset.pred[i])
        item["target"] = _target_value(dataset, i)
        item["loss"] = float(per_row[i])
        out.append(item)
    return out


def _sqrt_rows(per_row: Any) -> Any:
    import numpy as np

    with np.errstate(invalid="ignore"):
        return np.sqrt(per_row)


def _target_value(dataset: Any, i: int) -> Any:
    """Row i's target as the file gave it: a class name for named multiclass targets."""
    if dataset.target is None:
        return None
    t = _value(dataset.target[i])
    names = dataset.class_names
    if dataset.task == "multiclass" and names and isinstance(t, int) and 0 <= t < len(names):
        return names[t] if names[t] != str(t) else t
    return t


def _value(x: Any) -> Any:
    if hasattr(x, "tolist"):
        v = x.tolist()
        return v
    return x


def per_class_by_target(dataset: Any, per_row: Any) -> dict[str, float] | None:
    """Mean per-row loss grouped by true class (multiclass)."""
    import numpy as np

    if dataset.task != "multiclass" or dataset.target is None:
        return None
    names = dataset.class_names or [str(i) for i in range(dataset.pred.shape[1])]
    out = {}
    for c, name in enumerate(names):
        mask = dataset.target == c
        out[name] = float(np.mean(per_row[mask])) if mask.any() else math.nan
    return out


def evaluate(
    predictions: str,
    targets: str | None = None,
    *,
    task: str | None = None,
    losses: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    gates: Mapping[str, float] | None = None,
    logits: bool | None = None,
    pred_cols: Sequence[str] = (),
    target_cols: Sequence[str] = (),
    id_col: str | None = None,
    group_col: str | None = None,
    weight_col: str | None = None,
    drop_invalid: bool = False,
    reduction: str | None = None,
    worst: int | None = None,
    per_sample: bool = False,
    per_class: bool = False,
    config: str | None = None,
) -> Report:
    """Load ``predictions`` (and ``targets``), infer the task and compute every applicable
    loss (or ``losses``). Returns a :class:`Report` whose ``data`` is SPEC §3.1's JSON.

    Example::

        >>> import losscli
        >>> r = losscli.evaluate("sample_data/regression_preds.csv",
        ...                      "sample_data/regression_targets.csv")
        >>> r.values["mse"]  # doctest: +SKIP
    """
    from losscli.data import load_dataset

    cfg: dict[str, Any] = {}
    if config is not None:
        from losscli.config import load_config

        cfg = load_config(config)
    cols = cfg.get("columns", {})
    # None means "not given": the config decides, else the default (flags win over config)
    task = task if task is not None else str(cfg.get("task") or "auto")
    if task not in TASK_CHOICES:
        from losscli.errors import unknown_name

        raise unknown_name("task", task, TASK_CHOICES)
    if logits is None and cfg.get("input"):
        logits = cfg["input"] == "logits"
    losses = list(losses) if losses else list(cfg.get("losses", [])) or None
    all_params = merge_params(cfg.get("params"), params)
    all_gates = {
        **{canonical_name(k): v for k, v in cfg.get("gates", {}).get("max", {}).items()},
        **(gates or {}),
    }
    if reduction is None:
        reduction = str(cfg.get("reduction") or "mean")
    if reduction not in ("mean", "sum"):
        raise UsageError(f"unknown reduction '{reduction}'", hint="allowed: mean, sum")
    worst = worst if worst is not None else cfg.get("worst")
    drop_invalid = drop_invalid or bool(cfg.get("drop_invalid", False))
    per_class = per_class or bool(cfg.get("per_class", False))

    dataset = load_dataset(
        predictions,
        targets,
        task=task,
        pred_cols=tuple(pred_cols) or tuple(cols.get("pred", ())),
        target_cols=tuple(target_cols) or tuple(cols.get("target", ())),
        id_col=id_col or cols.get("id"),
        group_col=group_col or cols.get("group"),
        weight_col=weight_col or cols.get("weight"),
        logits=logits,
        drop_invalid=drop_invalid,
    )
    specs, explicit = select_specs(dataset.task, losses)
    # a gate on a loss that is not computed adds that loss to the run
    for loss in all_gates:
        if all(s.name != loss for s in specs):
            with contextlib.suppress(UsageError):  # reported by _check_unused below
                specs.append(get_spec(loss, dataset.task))
    _check_unused(all_params, all_gates, specs, dataset.task)
    keep = bool(worst) or per_sample or per_class
    results = compute_all(
        dataset, specs, explicit=explicit, params=all_params, reduction=reduction, keep_per_row=keep
    )

    items = []
    per_rows: dict[str, Any] = {}
    rankable: dict[str, Any] = {}
    notes: list[str] = list(dataset.warnings)
    for spec, res in zip(specs, results):
        item = res.to_dict()
        item["summary"] = spec.summary
        if per_class and res.per_class is None and res.per_row is not None:
            pc = per_class_by_target(dataset, res.per_row)
            if pc is not None:
                item["per_class"] = {k: (v if math.isfinite(v) else None) for k, v in pc.items()}
        for n in res.notes:
            notes.append(n if n.startswith(f"{spec.name}:") else f"{spec.name}: {n}")
        items.append(item)
        # a finalized loss (rmse = sqrt of a mean) has no per-row value of its own: its
        # per-row terms are another loss's (squared errors), so they are not listed under it
        if res.per_row is not None and spec.finalize is None:
            per_rows[spec.name] = res.per_row
        elif res.per_row is not None and spec.finalize == "sqrt":
            # for --worst a row's rmse is the root of its own term (|e|: the same order)
            rankable[spec.name] = _sqrt_rows(res.per_row)
    rankable = {**rankable, **per_rows}
    values = {it["name"]: it["value"] for it in items}
    gate_rows = evaluate_gates(all_gates, values)
    doc: dict[str, Any] = {
        "schema_version": 1,
        "command": "evaluate",
        "ok": all(g["passed"] for g in gate_rows),
        "task": {"name": dataset.task, "inferred": dataset.task_inferred},
        "n_samples": dataset.n_samples,
        "inputs": dataset.inputs,
        "losses": items,
        "gates": gate_rows,
        "warnings": notes,
        "evidence": list(dataset.evidence),
        "reduction": reduction,
    }
    if dataset.input_kind is not None:
        doc["task"]["input"] = dataset.input_kind
        doc["task"]["input_inferred"] = dataset.input_kind_inferred
    if per_class:
        doc["show_per_class"] = True
    if worst:
        target_loss = next(
            (g for g in all_gates if g in rankable),
            next(
                (s.name for s, r in zip(specs, results) if r.status == "ok" and s.name in rankable),
                None,
            ),
        )
        if target_loss is not None:
            doc["worst_loss"] = target_loss
            doc["worst"] = worst_rows(dataset, rankable[target_loss], int(worst))
    return Report(doc, per_sample=per_rows if per_sample else {}, dataset=dataset)


def known_losses() -> list[str]:
    return loss_names()
