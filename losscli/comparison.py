"""``compare``: several models under every applicable loss — who wins under which loss,
and whether the gap is bigger than noise (paired bootstrap). With one model: how much
of each loss comes from the worst rows (outlier sensitivity).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from losscli.accumulate import Outcome
from losscli.api import Report, doc_head, open_inputs, plan_run, run_reduction
from losscli.bootstrap import check_replicates, percentile_interval, replicate_means
from losscli.compute import per_class_values
from losscli.config import resolve, unused_config_keys
from losscli.errors import DataError, UsageError, unknown_name
from losscli.files import encodable
from losscli.gates import (
    baseline_values,
    change,
    check_gates,
    check_increases,
    check_not_worse,
    flat_compare_values,
    load_baseline,
)
from losscli.options import RunOptions, loss_key, settings_of
from losscli.registry import canonical_name
from losscli.run import Plan, Source, quiet_floats, run_source

#: Shares of rows whose contribution the one-model view reports.
TOP_SHARES = (0.01, 0.05)

#: Losses that read the scores as given: a logit and a probability (mapped to 2p − 1 by
#: the hinge losses, used as is by multi_hinge) are on different scales, so values of a
#: probability model and a logit model under them are not comparable.
SCORE_SCALE_LOSSES = frozenset({"hinge", "squared_hinge", "multi_hinge"})


def model_names(paths: Sequence[str], names: Sequence[str] | None) -> list[str]:
    """Names from ``--names`` or from the file stems (made unique)."""
    if names:
        if len(names) != len(paths):
            raise UsageError(
                f"--names gives {len(names)} names for {len(paths)} prediction files",
                hint="give one name per predictions file, e.g. --names a,b",
            )
        if len(set(names)) != len(names):
            raise UsageError("--names repeats a name", hint="model names must be unique")
        return [encodable(n) for n in names]
    out: list[str] = []
    for p in paths:
        stem = encodable(Path(p).name.split(".")[0]) if p != "-" else "stdin"
        name, i = stem, 2
        while name in out:
            name, i = f"{stem}_{i}", i + 1
        out.append(name)
    return out


def _share_of_top(per_row: Any, weight: Any, share: float) -> float:
    """Fraction of Σ w·l carried by the ``share`` rows with the largest w·l."""
    import numpy as np

    contrib = per_row if weight is None else per_row * weight
    contrib = contrib[np.isfinite(contrib)]
    total = float(contrib.sum())
    if contrib.size == 0 or total <= 0:
        return math.nan
    k = max(1, math.ceil(share * contrib.size))
    top = np.partition(contrib, contrib.size - k)[contrib.size - k :]
    return float(top.sum()) / total


def compare_options(
    predictions: Sequence[str],
    targets: str | None = None,
    *,
    opts: RunOptions,
    targets_last: bool = False,
) -> Report:
    """:func:`compare` with resolved options (what the command line calls).

    ``targets_last``: ``predictions`` are the command line's paths, PREDS [PREDS...]
    TARGETS — the last one is the targets file, except with one path or for task gan
    (every file is a model)."""
    if targets_last:
        predictions, targets = split_paths(predictions, opts.task)
    if not predictions:
        raise UsageError("compare needs at least one predictions file")
    per_model: list[RunOptions] | None = None
    columns_note: str | None = None
    if len(predictions) == 1 and targets is not None:
        from losscli.data.pipeline import model_columns

        found = model_columns(predictions[0], targets, opts.read_options())
        if found is not None:
            cols, columns_note = found
            per_model = [replace(opts, pred_cols=(c,)) for c in cols]
            predictions = [predictions[0]] * len(cols)
            opts = replace(opts, names=opts.names or cols)
    models = model_names(predictions, opts.names)
    opts = _gate_options(opts, models)
    check_replicates(opts.bootstrap)
    if per_model is not None:
        per_model = [replace(opts, pred_cols=m.pred_cols) for m in per_model]
    sources = _open_models(predictions, targets, opts, per_model)
    try:
        keep = opts.bootstrap > 0 or len(models) == 1
        plan = plan_run(sources[0].first.task, opts, keep_per_row=keep, sort_by=opts.sort_by)
        in_memory = all(s.info.mode == "memory" for s in sources)
        if in_memory:  # ids may reorder rows: align before computing
            _check_aligned(models, predictions, [s.first for s in sources])
        outcomes: dict[str, Outcome] = {}
        for m, source in zip(models, sources):
            outcomes[m] = run_source(source, plan)
            source.close()
        datasets = [s.summary() for s in sources]
    finally:
        for s in sources:
            s.close()
    if not in_memory:
        _check_aligned(models, predictions, datasets)
    doc = _compare_doc(models, dict(zip(models, datasets)), plan, outcomes, opts)
    if columns_note is not None:
        doc["evidence"].insert(0, columns_note)
    return Report(doc, dataset=datasets[0])


def split_paths(paths: Sequence[str], task: str) -> tuple[list[str], str | None]:
    """PREDS [PREDS...] TARGETS → (predictions, targets): the last path is the targets
    file, except with one path or for task gan (every file is a model)."""
    if task == "gan" or len(paths) < 2:
        return list(paths), None
    return list(paths[:-1]), paths[-1]


def _open_models(
    predictions: Sequence[str],
    targets: str | None,
    opts: RunOptions,
    per_model: Sequence[RunOptions] | None = None,
) -> list[Source]:
    """One source per model, each against the targets (standard input spooled once and
    read again); read in one piece when the run needs every row's loss or models carry ids.
    ``per_model``: each model's options (one file, one model per column)."""
    from losscli.data.stream import open_source

    if [*predictions, targets].count("-") > 1:
        raise UsageError(
            "at most one input may be '-' (standard input)", hint="save the others to files"
        )
    whole = None
    if opts.bootstrap > 0:
        whole = "--bootstrap needs every row's loss"
    elif len(predictions) == 1:
        whole = "the one-model view needs every row's loss"
    sources: list[Source] = []
    try:
        for j, path in enumerate(predictions):
            task = opts.task if not sources else sources[0].first.task
            mopts = opts if per_model is None else per_model[j]
            # standard input ("-") is spooled once and read again for every model
            source = open_inputs(open_source, path, targets, mopts, task=task, keep_whole=whole)
            if source.info.mode == "stream" and source.first.row_ids is not None:
                # models with ids may list the rows in other orders: align in memory
                source.close()
                why = "model files carry ids"
                source = open_inputs(open_source, path, targets, mopts, task=task, keep_whole=why)
            sources.append(source)
    except BaseException:
        for s in sources:
            s.close()
        raise
    return sources


def _compare_doc(
    models: list[str],
    datasets: Mapping[str, Any],
    plan: Plan,
    outcomes: Mapping[str, Outcome],
    opts: RunOptions,
) -> dict[str, Any]:
    """SPEC §3.2's document."""
    specs = list(plan.specs)
    results = {m: outcomes[m].results for m in models}
    warnings = _warnings(models, datasets, results)
    unused = unused_config_keys("compare", opts)
    if unused:
        where = opts.config or "[tool.losscli] of pyproject.toml"
        warnings.insert(0, f"{where}: compare does not use {', '.join(unused)}")
    mixed = None
    if opts.logits is None:
        mixed = _mixed_score_kinds(models, [datasets[m] for m in models], specs)
    if mixed is not None:
        warnings.append(mixed[0])
    entries = [
        _entry(spec, i, models, outcomes, mixed, per_class=opts.per_class)
        for i, spec in enumerate(specs)
    ]
    if opts.combine:
        from losscli.composite import describe_terms_by_model, parse_combine

        describe_terms_by_model(entries, [parse_combine(c) for c in opts.combine], models)
    if opts.bootstrap > 0:
        _add_bootstrap(
            entries,
            specs,
            results,
            models,
            n_boot=opts.bootstrap,
            seed=opts.seed,
            warnings=warnings,
            reduction=run_reduction(opts.reduction, opts.convention),
        )
    models = _sorted_models(models, entries, opts.sort_by)
    gate_rows = _gate_rows(opts.gates, entries, models)
    gate_rows += _baseline_gates(entries, specs, results, models, opts)
    first = next(iter(datasets.values()))  # the first model's, whatever --sort-by did
    doc = doc_head("compare", first, gate_rows)
    doc |= {
        "models": models,
        "inputs": {m: datasets[m].inputs for m in models},
        "losses": entries,
        **flat_compare_values(entries, models),
        "gates": gate_rows,
        "summary": _summary(entries, models, specs, results, datasets),
        "warnings": warnings,
        "evidence": list(first.evidence),
        "reduction": opts.reduction,
        "convention": opts.convention,
    }
    if opts.bootstrap > 0:
        doc["bootstrap"] = {
            "replicates": opts.bootstrap,
            "seed": opts.seed,
            "method": "poisson",
            "level": 0.95,
        }
    if len(models) == 1:
        doc["sensitivity"] = _sensitivity(specs, results[models[0]])
        doc["summary"] += _sensitivity_sentences(doc["sensitivity"], first.task)
    return doc


def _warnings(
    models: Sequence[str], datasets: Mapping[str, Any], results: Mapping[str, list[Any]]
) -> list[str]:
    """Each model's data warnings and loss notes, prefixed with the model's name."""
    out: list[str] = []
    for m in models:
        out += [f"{m}: {w}" for w in datasets[m].warnings]
        for r in results[m]:
            out += [
                f"{m}: {n}" if n.startswith(f"{r.name}:") else f"{m}: {r.name}: {n}"
                for n in r.notes
            ]
    return out


def _entry(
    spec: Any,
    i: int,
    models: Sequence[str],
    outcomes: Mapping[str, Outcome],
    mixed: tuple[str, list[str], str] | None,
    *,
    per_class: bool,
) -> dict[str, Any]:
    """The ``losses`` entry of loss ``i``: every model's value and status, the best model."""
    rs = {m: outcomes[m].results[i] for m in models}
    values = {m: r.to_dict()["value"] for m, r in rs.items()}
    finite = [(v, m) for m, v in values.items() if v is not None]
    entry: dict[str, Any] = {
        "name": spec.name,
        "params": rs[models[0]].to_dict()["params"],
        "values": values,
        "best": min(finite, key=lambda t: t[0])[1] if finite else None,
        "status": {m: r.status for m, r in rs.items()},
    }
    if mixed is not None and spec.name in mixed[1]:
        entry["best"] = None
        entry["best_reason"] = mixed[2]
    reasons = {m: r.reason for m, r in rs.items() if r.reason}
    if reasons:
        entry["reasons"] = reasons
    # every model is scored on the same targets: one constant baseline, a skill per model
    entry["no_skill"] = next((r.no_skill for r in rs.values() if r.no_skill is not None), None)
    entry["skill"] = {m: r.skill for m, r in rs.items()}
    if entry["no_skill"] is None:
        entry["no_skill_reason"] = next(
            (r.no_skill_reason for r in rs.values() if r.no_skill_reason), "no value"
        )
    for key in ("grad", "grad_reason", "precision", "precision_reason"):  # per model
        if any(key in r.extra for r in rs.values()):
            entry[key] = {m: r.extra.get(key) for m, r in rs.items()}
    if per_class:
        pcs = {
            m: pc
            for m in models
            if (pc := per_class_values(rs[m], outcomes[m].per_class.get(spec.name))) is not None
        }
        if pcs:
            entry["per_class"] = pcs
    return entry


def _sorted_models(
    models: list[str], entries: Sequence[dict[str, Any]], sort_by: str | None
) -> list[str]:
    """``--sort-by LOSS``: models by that loss's value (no value last)."""
    if sort_by is None:
        return models
    key = canonical_name(sort_by)
    values = next(e for e in entries if e["name"] == key)["values"]
    return sorted(models, key=lambda m: (values[m] is None, values[m] or 0.0))


def _gate_rows(
    gates: Mapping[str, float], entries: Sequence[dict[str, Any]], models: Sequence[str]
) -> list[dict[str, Any]]:
    """Every gate for every model (:func:`losscli.gates.check_gates`), gate by gate."""
    rows: list[dict[str, Any]] = []
    for loss, limit in gates.items():
        values = next(e for e in entries if e["name"] == loss)["values"]
        for m in models:
            rows += check_gates({loss: limit}, {loss: values[m]}, model=m)
    return rows


def _gate_options(opts: RunOptions, models: list[str]) -> RunOptions:
    """Check ``--baseline``/``--fail-if-worse``/``--max-increase`` against the models
    before any data is read; ``--fail-if-worse`` implies ``--bootstrap 1000``."""
    import dataclasses

    base = opts.baseline
    if opts.fail_if_worse:
        if base is None:
            raise UsageError(
                "--fail-if-worse needs --baseline MODEL",
                hint="name the model to compare against, one of: " + ", ".join(models),
            )
        if base not in models:
            raise unknown_name("baseline model", base, models)
        unknown = [k for k in opts.margin or {} if k not in map(loss_key, opts.fail_if_worse)]
        if unknown:
            raise UsageError(
                f"--margin {unknown[0]}: no --fail-if-worse {unknown[0]} to apply it to",
                hint="add --fail-if-worse " + unknown[0],
            )
        if opts.bootstrap == 0:
            opts = dataclasses.replace(opts, bootstrap=1000)
    if (opts.max_increase or {}) and base is None:
        raise UsageError(
            "--max-increase needs --baseline",
            hint="add --baseline OLD.json (an earlier run) or --baseline MODEL",
        )
    return opts


def _baseline_gates(
    entries: list[dict[str, Any]],
    specs: Sequence[Any],
    results: Mapping[str, list[Any]],
    models: list[str],
    opts: RunOptions,
) -> list[dict[str, Any]]:
    """``--baseline`` of compare: a model name (deltas against that model;
    ``--max-increase`` and ``--fail-if-worse`` gates for every other model) or an
    earlier losscli JSON file (deltas and ``--max-increase`` gates for every model; a
    compare file is matched model by model). Entries gain ``baseline_values``,
    ``deltas`` and ``deltas_pct``."""
    base = opts.baseline
    if base is None:
        return []
    if base in models:
        ref = {e["name"]: {"value": e["values"].get(base), "params": e["params"]} for e in entries}
        old = {m: ref for m in models if m != base}
    else:
        doc = load_baseline(base)
        in_doc = doc.get("models") or []
        old = {
            m: (baseline_values(doc, m) if doc["command"] == "evaluate" or m in in_doc else {})
            for m in models
        }
    for e in entries:
        before = {m: (old[m].get(e["name"]) or {}).get("value") for m in old}
        changes = {m: change(e["values"].get(m), v) for m, v in before.items()}
        e["baseline_values"] = before
        e["deltas"] = {m: c["delta"] for m, c in changes.items()}
        e["deltas_pct"] = {m: c["delta_pct"] for m, c in changes.items()}
    rows: list[dict[str, Any]] = []
    for m in old:
        current = {e["name"]: {"value": e["values"].get(m), "params": e["params"]} for e in entries}
        rows += check_increases(opts.max_increase or {}, current, old[m], model=m)
    for loss in opts.fail_if_worse or []:
        rows += _not_worse(loss_key(loss), entries, specs, results, models, opts)
    return rows


def _not_worse(
    loss: str,
    entries: list[dict[str, Any]],
    specs: Sequence[Any],
    results: Mapping[str, list[Any]],
    models: list[str],
    opts: RunOptions,
) -> list[dict[str, Any]]:
    """``--fail-if-worse LOSS``: the paired bootstrap interval of (model − baseline)
    for every other model, and its gate row."""
    import numpy as np

    base = str(opts.baseline)
    i = next(k for k, s in enumerate(specs) if s.name == loss)
    margin = (opts.margin or {}).get(loss, 0.0)
    rows = []
    for m in (m for m in models if m != base):
        r, rb = results[m][i], results[base][i]
        vm, vb = entries[i]["values"].get(m), entries[i]["values"].get(base)
        diff = vm - vb if vm is not None and vb is not None else None
        error, ci = None, None
        if not specs[i].decomposable:
            error = f"{loss} is not a mean of per-row terms: no paired bootstrap"
        elif r.status != "ok" or rb.status != "ok" or r.per_row is None or rb.per_row is None:
            error = f"{loss} has no finite value for {m if r.status != 'ok' else base}"
        else:
            ones = np.ones_like(r.per_row)
            w = [r.per_row_weight, rb.per_row_weight]
            reps = _replicates(
                [r.per_row, rb.per_row],
                [x if x is not None else ones for x in w],
                [specs[i], specs[i]],
                opts.bootstrap,
                opts.seed,
                run_reduction(opts.reduction, opts.convention),
                [r, rb],
            )
            ci = _interval(reps[:, 0] - reps[:, 1])
        rows.append(
            check_not_worse(loss, m, base, difference=diff, ci=ci, margin=margin, error=error)
        )
    return rows


def _mixed_score_kinds(
    models: Sequence[str], datasets: Sequence[Any], specs: Sequence[Any]
) -> tuple[str, list[str], str] | None:
    """When some models give probabilities and others logits (each inferred from its own
    file), the losses that read scores as given are not comparable between them: the
    warning, those losses, and the reason their ``best`` is null. None otherwise."""
    kinds = {m: ds.input_kind for m, ds in zip(models, datasets) if ds.input_kind is not None}
    if len(set(kinds.values())) < 2:
        return None
    affected = [s.name for s in specs if s.name in SCORE_SCALE_LOSSES]
    if not affected:
        return None
    probs = [m for m, k in kinds.items() if k == "probabilities"]
    logit = [m for m, k in kinds.items() if k == "logits"]
    scales = []
    if any(n != "multi_hinge" for n in affected):
        scales.append("the hinge losses use 2p - 1 for probabilities and the raw logit")
    if "multi_hinge" in affected:
        scales.append("multi_hinge uses probabilities and logits as given")
    warning = (
        f"models mix probabilities ({', '.join(probs)}) and logits ({', '.join(logit)}): "
        f"{', '.join(affected)} are not comparable between them ({'; '.join(scales)}), so "
        "no best model is named for them; pass --probs or --logits if every file holds "
        "the same kind of score"
    )
    reason = (
        "not comparable: "
        + ", ".join(probs)
        + " gave probabilities, "
        + ", ".join(logit)
        + " gave logits"
    )
    return warning, affected, reason


def _check_aligned(models: list[str], paths: Sequence[str], datasets: list[Any]) -> None:
    import numpy as np

    base = datasets[0]
    for m, p, ds in zip(models[1:], paths[1:], datasets[1:]):
        if ds.n_samples != base.n_samples:
            raise DataError(
                f"model '{m}' ({p}) has {ds.n_samples} rows, model '{models[0]}' has "
                f"{base.n_samples}",
                hint="every predictions file must cover the same rows as the targets",
            )
        if (
            base.row_ids is not None
            and ds.row_ids is not None
            and not np.array_equal(base.row_ids, ds.row_ids)
        ):
            _realign(ds, base)
        if (base.row_ids is None) != (ds.row_ids is None) or (
            base.row_ids is not None and not np.array_equal(base.row_ids, ds.row_ids)
        ):
            raise DataError(
                f"model '{m}' ({p}) is not aligned with model '{models[0]}' row by row",
                hint="give every file the same id column (--id-col) or the same row order",
            )
        if ds.pred.shape[1:] != base.pred.shape[1:]:
            raise DataError(
                f"model '{m}' ({p}) has predictions of shape {ds.pred.shape[1:]}, model "
                f"'{models[0]}' has {base.pred.shape[1:]}",
                hint="compare models that predict the same outputs",
            )


def _realign(ds: Any, base: Any) -> None:
    """Put ``ds``'s rows in ``base``'s id order when both hold the same ids and each id has
    the same target in both (files joined on ids may list the rows in any order). Leaves
    ``ds`` unchanged otherwise; the caller then reports the misalignment."""
    import numpy as np

    from losscli.data.align import match_ids

    pos = match_ids(ds.row_ids, base.row_ids)
    if pos is None:
        return
    n = ds.n_samples
    target = ds.target[pos] if ds.target is not None else None
    if (target is None) != (base.target is None) or (
        target is not None and not np.array_equal(target, base.target)
    ):
        return
    ds.pred = np.ascontiguousarray(ds.pred[pos])
    ds.target = np.ascontiguousarray(target) if target is not None else None
    if ds.sample_weight is not None:
        ds.sample_weight = ds.sample_weight[pos]
    ds.row_numbers = ds.row_numbers[pos]
    ds.row_ids = ds.row_ids[pos]
    ds.context = {
        k: (v[pos] if isinstance(v, np.ndarray) and v.ndim >= 1 and v.shape[0] == n else v)
        for k, v in ds.context.items()
    }


def _bootstrap_columns(
    specs: Sequence[Any],
    results: Mapping[str, list[Any]],
    models: list[str],
    warnings: list[str],
) -> tuple[list[Any], list[Any], list[tuple[int, int]]]:
    """Per-row terms and weights of every (loss, model) with an interval, and where each
    column belongs (loss index, model index). Losses that are not means of per-row terms
    get a warning; losses not ok for every model get no interval."""
    import numpy as np

    cols, weights, where = [], [], []
    for i, spec in enumerate(specs):
        rs = [results[m][i] for m in models]
        if not spec.decomposable:
            warnings.append(
                f"{spec.name}: no bootstrap interval (the loss is not a mean of per-row terms)"
            )
            continue
        if any(r.per_row is None or r.status != "ok" for r in rs):
            continue
        if spec.finalize == "sqrt" and any(r.per_class for r in rs):
            warnings.append(
                f"{spec.name}: no bootstrap interval (over several outputs it is the mean of "
                "each output's root, not a mean of per-row terms)"
            )
            continue
        for j, r in enumerate(rs):
            cols.append(r.per_row)
            w = r.per_row_weight
            weights.append(w if w is not None else np.ones_like(r.per_row))
            where.append((i, j))
    return cols, weights, where


def _interval(rep: Any) -> list[float]:
    lo, hi = percentile_interval(rep[:, None])[:, 0]
    return [float(lo), float(hi)]


def _vs_best(e: dict[str, Any], models: list[str], reps: Mapping[int, Any]) -> dict[str, Any]:
    """Each model's paired difference to the best model of entry ``e``, with its interval."""
    best = e["best"]
    b = models.index(best)
    vs = {}
    for j, rep in reps.items():
        if j == b:
            continue
        ci = _interval(rep - reps[b])
        vs[models[j]] = {
            "vs": best,
            "difference": e["values"][models[j]] - e["values"][best],
            "ci": ci,
            "excludes_zero": bool(ci[0] > 0 or ci[1] < 0),
        }
    return vs


def _mean_to_reported(result: Any, weights: Any, reduction: str) -> float:
    """The factor from a weighted mean of row values to the reported value: the total
    weight times the elements per row for ``sum`` (torch's element sum), the total weight
    over the kernel weights for Keras' ``sum_over_batch_size``."""
    partial = getattr(result, "partial", None)
    if reduction == "sum":
        k = 1 if partial is None or partial.col_num is None else len(partial.col_num)
        return float(weights.sum()) * k
    kden = partial.kden if partial is not None else 0.0
    return float(weights.sum()) / kden if kden else 1.0


def _replicates(
    cols: list[Any],
    weights: list[Any],
    specs: Sequence[Any],
    n_boot: int,
    seed: int,
    reduction: str,
    results: Sequence[Any] | None = None,
) -> Any:
    """(n_boot, K) paired replicate values of K per-row columns (the loss of column k is
    ``specs[k]``): weighted means, times the total weight for ``reduction="sum"``, and
    square-rooted for losses finalized by sqrt (rmse). The same seed draws the same row
    counts whatever the columns, so every replicate of a run is paired."""
    import numpy as np

    W = np.stack(weights, axis=1)
    with quiet_floats():
        reps = replicate_means(np.stack(cols, axis=1), W, n_boot=n_boot, seed=seed)
        for c, spec in enumerate(specs):
            if reduction in ("sum", "sum_over_batch_size"):  # the value as reported
                res = results[c] if results is not None else None
                reps[:, c] *= _mean_to_reported(res, W[:, c], reduction)
            if spec.finalize == "sqrt":
                reps[:, c] = np.sqrt(reps[:, c])
    return reps


def _add_bootstrap(
    entries: list[dict[str, Any]],
    specs: Sequence[Any],
    results: Mapping[str, list[Any]],
    models: list[str],
    *,
    n_boot: int,
    seed: int,
    warnings: list[str],
    reduction: str = "mean",
) -> None:
    """Paired bootstrap intervals (``ci``) of every entry, and ``vs_best`` differences."""

    cols, weights, where = _bootstrap_columns(specs, results, models, warnings)
    if not cols:
        return
    reps = _replicates(
        cols,
        weights,
        [specs[i] for i, _ in where],
        n_boot,
        seed,
        reduction,
        [results[models[j]][i] for i, j in where],
    )
    by_entry: dict[int, dict[int, Any]] = {}
    for c, (i, j) in enumerate(where):
        by_entry.setdefault(i, {})[j] = reps[:, c]
    for i, cols_j in by_entry.items():
        e = entries[i]
        e["ci"] = {models[j]: _interval(rep) for j, rep in cols_j.items()}
        if e["best"] is not None and len(models) >= 2:
            e["vs_best"] = _vs_best(e, models, cols_j)


def _summary(
    entries: list[dict[str, Any]],
    models: list[str],
    specs: Sequence[Any],
    results: Mapping[str, list[Any]],
    datasets: Mapping[str, Any] | None = None,
) -> list[str]:
    """Sentences: who wins, and whether each difference to the best is real."""
    if len(models) < 2:
        return []
    out = _winner_sentences(entries, specs, results, datasets)
    for e in entries:
        for m, cmp in (e.get("vs_best") or {}).items():
            out.append(_difference_sentence(e, m, cmp))
    return out


def _winner_sentences(
    entries: list[dict[str, Any]],
    specs: Sequence[Any],
    results: Mapping[str, list[Any]],
    datasets: Mapping[str, Any] | None,
) -> list[str]:
    bests = {e["name"]: e["best"] for e in entries if e["best"] is not None}
    winners = sorted(set(bests.values()))
    if len(winners) == 1:
        scope = "comparable" if any("best_reason" in e for e in entries) else "computed"
        return [f"{winners[0]} is best under every {scope} loss."]
    parts = [f"{loss} prefers {m}" for loss, m in bests.items()]
    out = ["The losses disagree: " + ", ".join(parts) + "."]
    if "mse" in bests and "mae" in bests and bests["mse"] != bests["mae"]:
        out.append(_few_large_errors(bests["mae"], specs, results, datasets))
    return out


def _few_large_errors(
    loser: str,
    specs: Sequence[Any],
    results: Mapping[str, list[Any]],
    datasets: Mapping[str, Any] | None,
) -> str:
    """The model best on mae but not on mse makes a few big errors: how much of its
    squared error its worst 1% of rows carry."""
    i = next(k for k, s in enumerate(specs) if s.name == "mse")
    r = results[loser][i]
    if r.per_row is None and datasets is not None and loser in datasets:
        r = _with_per_row(specs[i], r, datasets[loser])
    if r.per_row is None:
        return (
            f"{loser} wins on absolute error but loses on squared error: "
            "it makes a few large errors."
        )
    share = _share_of_top(r.per_row, r.per_row_weight, 0.01)
    return (
        f"{loser} has a few very large errors: 1% of its rows carry "
        f"{share:.0%} of its squared error."
    )


def _difference_sentence(e: dict[str, Any], m: str, cmp: Mapping[str, Any]) -> str:
    best_v = abs(e["values"][cmp["vs"]] or 0.0)
    if not cmp["excludes_zero"]:
        verdict = "within noise"
    elif abs(cmp["difference"]) <= 1e-4 * best_v:
        verdict = "consistent but negligible (under 0.01%)"
    else:
        verdict = "a real difference"
    return (
        f"{e['name']}: {m} vs {cmp['vs']}: {cmp['difference']:+.4g} "
        f"(95% CI {cmp['ci'][0]:+.3g} … {cmp['ci'][1]:+.3g}) — {verdict}."
    )


def _with_per_row(spec: Any, result: Any, ds: Any) -> Any:
    """``result`` recomputed with its per-row terms (one loss of one model: only the
    summary needs them when no bootstrap kept them)."""
    from losscli.compute import compute

    return compute(
        spec,
        ds.pred,
        ds.target,
        params=result.params,
        context=ds.context,
        sample_weight=ds.sample_weight,
        keep_per_row=True,
        strict=False,
        class_names=ds.class_names,
    )


def _sensitivity(specs: Sequence[Any], results: list[Any]) -> list[dict[str, Any]]:
    out = []
    for spec, r in zip(specs, results):
        item: dict[str, Any] = {"loss": spec.name, "value": r.to_dict()["value"]}
        if r.per_row is not None and r.status == "ok" and spec.decomposable:
            for s in TOP_SHARES:
                v = _share_of_top(r.per_row, r.per_row_weight, s)
                item[f"top_{round(s * 100)}pct_share"] = v if math.isfinite(v) else None
        out.append(item)
    return out


def _sensitivity_sentences(sens: list[dict[str, Any]], task: str) -> list[str]:
    out = []
    for item in sens:
        share = item.get("top_1pct_share")
        if share is None:
            continue
        out.append(
            f"{item['loss']}: the worst 1% of rows carry {share:.0%} of it, the worst 5% "
            f"{item.get('top_5pct_share') or 0:.0%}."
        )
    by = {i["loss"]: i.get("top_1pct_share") for i in sens}
    if task == "regression" and (by.get("mse") or 0) > 0.2:
        out.append(
            "A few rows dominate mse: prefer a robust loss such as huber or mae "
            "(losscli recommend --task regression --outliers)."
        )
    return out


def compare(
    predictions: Sequence[str | Any],
    targets: str | Any | None,
    *,
    task: str | None = None,
    losses: Sequence[str] | None = None,
    params: Mapping[str, Mapping[str, Any]] | None = None,
    logits: bool | None = None,
    pred_cols: Sequence[str] | None = None,
    target_cols: Sequence[str] | None = None,
    id_col: str | None = None,
    group_col: str | None = None,
    weight_col: str | None = None,
    pos_label: str | None = None,
    gates: Mapping[str, float] | None = None,
    exit_zero: bool | None = None,
    per_class: bool | None = None,
    drop_invalid: bool | None = None,
    header: str | None = None,
    decimal: str | None = None,
    reduction: str | None = None,
    convention: str | None = None,
    config: str | None = None,
    chunk_size: int | None = None,
    grad: bool | None = None,
    dtype: str | None = None,
    combine: Sequence[str] | None = None,
    plugin: Sequence[str] | None = None,
    names: Sequence[str] | None = None,
    bootstrap: int | None = None,
    seed: int | None = None,
    sort_by: str | None = None,
    baseline: str | None = None,
    max_increase: Mapping[str, str | float] | None = None,
    fail_if_worse: Sequence[str] | None = None,
    margin: Mapping[str, float] | None = None,
) -> Report:
    """Evaluate each predictions file against the same ``targets`` (None: each file
    holds its targets, or every file is a model of task gan); SPEC §3.2's JSON.

    The settings are those of ``losscli compare`` (:data:`losscli.options.SETTINGS`),
    checked as the flags are; None means "not given": the ``config`` file's value, else
    the default. Those shared with :func:`losscli.api.evaluate` work as there:

    * ``task``: auto (default) or a task name, any case.
    * ``losses``: losses to compute; default: every loss of the task.
    * ``params``: ``{loss: {parameter: value}}``.
    * ``logits``: predictions are logits (True) or probabilities (False); default: inferred.
    * ``pred_cols`` / ``target_cols``: prediction / target columns.
    * ``id_col``: join the files on this id column.
    * ``group_col``: image id column (segmentation, long form).
    * ``weight_col``: sample weight column (weighted mean).
    * ``pos_label``: the positive class of binary targets given as names.
    * ``gates``: ``{loss: limit}``, checked for every model.
    * ``exit_zero``: the command line's ``--exit-zero`` (exit 0 when a gate fails);
      it changes no value of the result, ``ok`` included.
    * ``per_class``: each loss entry gains ``per_class``: model → class → value.
    * ``drop_invalid``: drop rows with NaN/empty/inf cells and count them in warnings.
    * ``header``: text inputs' first row is a header: ``"auto"`` (default), ``"yes"``, ``"no"``.
    * ``decimal``: decimal mark of text inputs, ``"."`` or ``","`` (default: ``"."``; a
      file that reads as decimal commas is refused).
    * ``reduction``: ``"mean"`` (default) or ``"sum"``.
    * ``convention``: framework whose defaults every loss follows (torch, keras,
      sklearn, monai); ``params`` win.
    * ``config``: YAML file with the same settings; keywords win.
    * ``chunk_size``: rows per chunk of large csv/tsv/txt inputs, one model at a time
      (docs/scale.md); bootstrap intervals and the one-model view read in one piece.
    * ``grad``, ``dtype``, ``combine``, ``plugin``: as in :func:`losscli.api.evaluate`
      (docs/analysis.md); ``grad``/``precision`` are given per model.
    * ``names``: model names (default: the file names).
    * ``bootstrap``: paired bootstrap replicates for 95% intervals (e.g. 1000).
    * ``seed``: random seed of the bootstrap.
    * ``sort_by``: order models by this loss.
    * ``baseline``: a model name, or an earlier losscli JSON file: entries gain
      ``baseline_values``, ``deltas`` and ``deltas_pct``.
    * ``max_increase``: ``{loss: "5%" or 0.02}``: gates on the change over ``baseline``.
    * ``fail_if_worse``: losses gated on the paired bootstrap of (model − baseline
      model): fails when the 95% interval lies above ``margin`` (implies 1000 replicates).
    * ``margin``: ``{loss: V}`` tolerated difference for ``fail_if_worse`` (default 0).
    """
    given = locals()
    opts = resolve("compare", {s.name: given[s.name] for s in settings_of("compare")})
    from losscli.data.memory import is_path, staged_inputs

    models = list(predictions)
    if opts.names is None and not all(is_path(m) for m in models):
        opts = replace(opts, names=_memory_names(models))
    roles = ["predictions"] * len(models) + ["targets"]
    with staged_inputs([*models, targets], roles) as (paths, staged):
        report = compare_options(paths[:-1], paths[-1], opts=opts)
    report.data = staged.rename_doc(report.data)
    return report


def _memory_names(models: Sequence[Any]) -> list[str]:
    """Model names when some models are in-memory data: file names for paths,
    ``model_1``, ``model_2`` … for the others."""
    from losscli.data.memory import is_path

    out = []
    for j, m in enumerate(models):
        out.append(model_names([str(m)], None)[0] if is_path(m) else f"model_{j + 1}")
    return out
