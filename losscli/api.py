"""The Python API behind the commands: ``evaluate`` (and the helpers compare reuses).

Settings arrive as :class:`losscli.options.RunOptions` (the command line resolves them
once; the keyword API resolves its keywords the same way); the rows go through the one
run loop, :func:`losscli.run.run_source`.

The CLI is a thin shell over these functions; they take plain Python values, return
JSON-ready documents, and raise :mod:`losscli.errors` exceptions.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from losscli.accumulate import Outcome
from losscli.compute import per_class_values
from losscli.config import resolve
from losscli.errors import UsageError
from losscli.gates import baseline_gates, check_gates, flat_values
from losscli.options import RunOptions, loss_key, settings_of
from losscli.registry import (
    TASKS,
    LossSpec,
    all_specs,
    canonical_name,
    get_spec,
    loss_names,
    normalise_name,
    specs_for_task,
)
from losscli.run import Plan, Source, run_source

if TYPE_CHECKING:
    from losscli.data.dataset import Dataset

#: Called with (bytes read, total bytes) of the predictions file after each chunk.
Progress = Callable[[int, int], None]

# ------------------------------------------------------------------ loss names


def _loss_tasks(canon: str) -> list[str]:
    return [t for t in TASKS if any(s.name == canon and t in s.tasks for s in all_specs())]


def _kind(tasks: Sequence[str]) -> str:
    """``a regression loss``, ``an embedding loss``, ``a binary/multilabel loss``."""
    words = "/".join(tasks)
    return f"{'an' if words[:1] in 'aeiou' else 'a'} {words} loss"


def task_losses_text(task: str) -> str:
    """``losses of task binary: bce, focal, …`` (every loss of the task, catalogue order)."""
    names = list(dict.fromkeys(s.name for s in specs_for_task(task)))
    return f"losses of task {task}: {', '.join(names)}"


def loss_error(
    name: str, task: str, *, flag: str, computed: Sequence[str] | None = None
) -> UsageError:
    """The usage error for a loss named by ``flag`` (``--loss``, ``--param`` …) that this
    run of task ``task`` does not compute: unknown names get suggestions among the task's
    losses first; a loss of another task says which task it belongs to; a loss of this
    task that is not computed says how to add it."""
    listing = task_losses_text(task)
    try:
        canon = canonical_name(name)
    except UsageError:
        canon = None
    if canon is None:
        key = normalise_name(name)
        own = {w: s.name for s in specs_for_task(task) for w in (s.name, *s.aliases)}
        picks = list(dict.fromkeys(own[w] for w in difflib.get_close_matches(key, list(own), n=3)))
        if picks:
            hint = "did you mean " + " or ".join(f"'{p}'" for p in picks) + f"? {listing}"
        else:
            every = {w: s.name for s in all_specs() for w in (s.name, *s.aliases)}
            close = difflib.get_close_matches(key, list(every), n=1)
            if close:
                other = every[close[0]]
                hint = (
                    f"did you mean '{other}'? It is {_kind(_loss_tasks(other))}, "
                    f"not one of task {task}; {listing}"
                )
            else:
                hint = listing
        return UsageError(f"unknown loss '{name}' in {flag}", hint=hint)
    tasks = _loss_tasks(canon)
    if task not in tasks:
        return UsageError(
            f"{canon} is {_kind(tasks)}; this run's task is {task} ({flag} {name})",
            hint=listing,
        )
    shown = ", ".join(computed) if computed else ""
    return UsageError(
        f"{flag} names loss '{canon}', which is not computed in this run",
        hint=(f"computed: {shown}; " if shown else "") + f"add --loss {canon} to compute it",
    )


# ------------------------------------------------------------------ results


@dataclass
class Report:
    """What ``evaluate`` returns: the JSON document plus per-row arrays when asked."""

    data: dict[str, Any]
    per_sample: dict[str, Any] = field(default_factory=dict)
    #: The input's arrays when it was read in one piece (None when streamed).
    dataset: Dataset | None = None
    #: Per-row weights (kernel weight × sample weight) of the losses in ``per_sample``
    #: whose rows do not all weigh 1 (class weights, ignored rows, pair counts …).
    per_sample_weight: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    @property
    def ok(self) -> bool:
        return bool(self.data.get("ok", True))

    @property
    def values(self) -> dict[str, Any]:
        """``{loss name: value}`` for every computed loss; for a :func:`compare` report,
        ``{loss name: {model: value}}``."""
        return {
            it["name"]: it["value"] if "value" in it else it.get("values")
            for it in self.data["losses"]
        }


def choose_specs(
    task: str, opts: RunOptions, *, sort_by: str | None = None
) -> tuple[list[LossSpec], bool]:
    """The losses to compute for ``task`` and whether they were asked for explicitly.

    ``--loss`` names them (default: the task's default losses); a gate on a loss that is
    not computed adds that loss. Names in ``--param``, ``--max`` and ``--sort-by`` that
    this run does not compute are usage errors naming the flag.
    """
    specs: list[LossSpec] = []
    lookup = _Lookup(task, opts)
    for spec in (lookup(name) for name in opts.losses or []):
        if spec not in specs:
            specs.append(spec)
    specs = specs or specs_for_task(task, only_default=True)
    explicit = bool(opts.losses)
    specs = lookup.extend(specs)
    gated = [(loss, "--max") for loss in opts.gates]
    gated += [(loss, "--max-increase") for loss in opts.max_increase or {}]
    gated += [(loss_key(loss), "--fail-if-worse") for loss in opts.fail_if_worse or []]
    for loss, flag in gated:
        if all(s.name != loss for s in specs):
            if all(s.name != loss for s in specs_for_task(task)):
                raise loss_error(loss, task, flag=flag, computed=[s.name for s in specs])
            specs.append(get_spec(loss, task))
    computed = [s.name for s in specs]
    for loss in opts.params:
        if loss not in computed:
            raise loss_error(loss, task, flag="--param", computed=computed)
    if sort_by is not None and loss_key(sort_by) not in computed:
        raise loss_error(sort_by, task, flag="--sort-by", computed=computed)
    return specs, explicit


class _Lookup:
    """``--loss`` names with ``--plugin``, installed plugins and ``--combine`` composites
    (SPEC §13): plugin modules are imported here, only when named."""

    def __init__(self, task: str, opts: RunOptions) -> None:
        from losscli.plugins import parse_plugin, plugin_spec

        self.task, self.opts = task, opts
        self.plugins = {p.name: plugin_spec(p) for p in map(parse_plugin, opts.plugin)}

    def __call__(self, name: str) -> LossSpec:
        key = normalise_name(name)
        if key in self.plugins:
            return self.plugins[key]
        if key not in loss_names():
            from losscli.plugins import find_entry_point, plugin_spec

            found = find_entry_point(key)
            if found is not None:
                self.plugins[key] = plugin_spec(found)
                return self.plugins[key]
        return _spec(name, self.task)

    def extend(self, specs: list[LossSpec]) -> list[LossSpec]:
        """``specs`` with every ``--plugin`` loss, and each composite after its terms."""
        out = list(specs)
        out += [s for s in self.plugins.values() if s not in out]
        if self.opts.combine:
            from losscli.composite import composite_spec, parse_combine

            for combo in map(parse_combine, self.opts.combine):
                if any(s.name == combo.name for s in out) or combo.name in loss_names():
                    raise UsageError(
                        f"--combine name '{combo.name}' is already a loss",
                        hint="give the composite another name",
                    )
                terms = [self(loss) for loss, _ in combo.terms]
                out += [t for t in terms if t not in out]
                out.append(composite_spec(combo, terms, self.opts.params, self.task))
        return out


def plan_run(
    task: str,
    opts: RunOptions,
    *,
    keep_per_row: bool,
    worst: int | None = None,
    sort_by: str | None = None,
) -> Plan:
    """What one run computes for ``task`` (:func:`choose_specs`) and which row
    diagnostics it keeps."""
    specs, explicit = choose_specs(task, opts, sort_by=sort_by)
    return Plan(
        specs,
        explicit,
        convention_params(specs, opts.convention, opts.params),
        reduction=run_reduction(opts.reduction, opts.convention),
        worst=worst,
        per_class=opts.per_class,
        keep_per_row=keep_per_row,
        grad=opts.grad,
        dtype=opts.dtype,
    )


def convention_params(
    specs: Sequence[LossSpec], convention: str, params: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Each loss's parameters under framework ``convention`` (SPEC §10): the values the
    spec declares for it, then ``params`` (``--param``), which always win."""
    out = {k: dict(v) for k, v in params.items()}
    for spec in specs:
        c = spec.convention(convention)
        if c is not None and c.params:
            out[spec.name] = {**c.values(), **out.get(spec.name, {})}
    return out


def run_reduction(reduction: str, convention: str) -> str:
    """The reduction the engine applies: Keras' mean divides Σ w·l by the number of rows
    (its ``sum_over_batch_size``), not by Σ w, when sample weights are given."""
    return "sum_over_batch_size" if convention == "keras" and reduction == "mean" else reduction


def _spec(name: str, task: str) -> LossSpec:
    """The spec of ``--loss name`` for ``task``, or the usage error that explains why not."""
    try:
        return get_spec(name, task)
    except UsageError as exc:
        if loss_key(name) not in loss_names():
            raise loss_error(name, task, flag="--loss") from None
        kind = _kind(_loss_tasks(loss_key(name)))
        raise UsageError(
            exc.message, hint=f"'{loss_key(name)}' is {kind}; {task_losses_text(task)}"
        ) from None


def evaluate_options(
    predictions: str,
    targets: str | None = None,
    *,
    opts: RunOptions,
    per_sample: bool = False,
    progress: Progress | None = None,
) -> Report:
    """:func:`evaluate` with resolved options (what the command line calls)."""
    from losscli.engines import engine_source
    from losscli.regularized import regularization

    open_source = engine_source(opts.engine, opts.scheduler)  # before any input is read
    penalty = regularization(opts.model_weights, l1=opts.l1, l2=opts.l2)
    if opts.per_sample_path is not None:
        from losscli.files import check_writable, refuse_input_overwrite

        check_writable(opts.per_sample_path)  # before any input is read
        refuse_input_overwrite(
            [opts.per_sample_path], [predictions, targets, opts.config, opts.model_weights]
        )
    source = open_inputs(
        open_source,
        predictions,
        targets,
        opts,
        task=opts.task,
        keep_whole="per-row values were asked for (per_sample)" if per_sample else None,
        progress=progress,
    )
    try:
        plan = plan_run(source.first.task, opts, keep_per_row=per_sample, worst=opts.worst)
        outcome = _run(source, plan, opts.per_sample_path)
        dataset = source.summary()
    finally:
        source.close()
    doc, per_rows, row_weights = _evaluate_doc(dataset, plan, outcome, opts, source.info.to_dict())
    if penalty is not None:
        from losscli.regularized import apply

        apply(doc, penalty)
    return Report(
        doc,
        per_sample=per_rows if per_sample else {},
        dataset=dataset if source.info.mode == "memory" else None,
        per_sample_weight=row_weights if per_sample else {},
    )


def open_inputs(
    open_source: Callable[..., Source],
    predictions: str,
    targets: str | None,
    opts: RunOptions,
    *,
    task: str,
    keep_whole: str | None,
    progress: Progress | None = None,
) -> Source:
    """One evaluation's source (:func:`losscli.data.stream.open_source` or an engine's)
    read with the column, input-kind and chunk settings of ``opts``."""
    return open_source(
        predictions,
        targets,
        opts.read_options(task),
        chunk_rows=opts.chunk_size,
        keep_whole=keep_whole,
        progress=progress,
    )


def _run(source: Source, plan: Plan, per_sample_path: str | None) -> Outcome:
    """The run loop, with ``--per-sample`` written as the rows arrive (the writer reports
    its own failures to write as output errors)."""
    writer = None
    if per_sample_path is not None:
        from losscli.per_sample import PerSampleWriter

        writer = PerSampleWriter(per_sample_path)
    return run_source(source, plan, per_sample=writer)


def loss_items(
    specs: Sequence[LossSpec], outcome: Outcome, *, per_class: bool
) -> tuple[list[dict[str, Any]], list[str]]:
    """The ``losses`` entries of an evaluate document and the notes of the losses."""
    items, notes = [], []
    for spec, res in zip(specs, outcome.results):
        item = res.to_dict()
        item["summary"] = spec.summary
        pc = per_class_values(res, outcome.per_class.get(spec.name))
        if per_class and pc is not None:
            item["per_class"] = pc
        notes += [n if n.startswith(f"{spec.name}:") else f"{spec.name}: {n}" for n in res.notes]
        items.append(item)
    return items, notes


def _row_values(
    specs: Sequence[LossSpec], outcome: Outcome
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per-row values and weights of the losses that keep them. A finalized loss (rmse =
    sqrt of a mean) has no per-row value of its own: its per-row terms are another loss's
    (squared errors), so they are not listed under it."""
    per_rows: dict[str, Any] = {}
    row_weights: dict[str, Any] = {}
    for spec, res in zip(specs, outcome.results):
        if res.per_row is not None and spec.finalize is None:
            per_rows[spec.name] = res.per_row
            if res.per_row_weight is not None:
                row_weights[spec.name] = res.per_row_weight
    return per_rows, row_weights


def doc_head(command: str, dataset: Any, gate_rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The first keys of an evaluate or compare document (SPEC §3): schema, command,
    ``ok`` (every gate passed), task and number of samples."""
    return {
        "schema_version": 1,
        "command": command,
        "ok": all(g["passed"] for g in gate_rows),
        "task": {"name": dataset.task, "inferred": dataset.task_inferred},
        "n_samples": dataset.n_samples,
    }


def multi_output(dataset: Any) -> bool:
    """Regression with several outputs: every loss is listed per output too (SPEC §9)."""
    pred = getattr(dataset, "pred", None)
    return (
        dataset.task == "regression" and pred is not None and pred.ndim == 2 and pred.shape[1] > 1
    )


def _evaluate_doc(
    dataset: Any, plan: Plan, outcome: Outcome, opts: RunOptions, read: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """SPEC §3.1's document (less ``regularization``), and the per-row values and weights.
    ``read`` is how the input was read (:attr:`losscli.run.Source.info`)."""
    items, notes = loss_items(
        plan.specs, outcome, per_class=opts.per_class or multi_output(dataset)
    )
    if opts.combine:
        from losscli.composite import describe_terms, parse_combine

        describe_terms(items, [parse_combine(c) for c in opts.combine])
    gate_rows = check_gates(opts.gates, {it["name"]: it["value"] for it in items})
    gate_rows += baseline_gates(items, opts.baseline, opts.max_increase or {})
    doc = doc_head("evaluate", dataset, gate_rows)
    doc |= {
        "inputs": dataset.inputs,
        "losses": items,
        **flat_values(items),
        "gates": gate_rows,
        "warnings": [*dataset.warnings, *notes],
        "evidence": list(dataset.evidence),
        "reduction": opts.reduction,
        "convention": opts.convention,
        "read": read,
    }
    if dataset.input_kind is not None:
        doc["task"]["input"] = dataset.input_kind
        doc["task"]["input_inferred"] = dataset.input_kind_inferred
    if opts.worst:
        doc.update(_worst(plan.specs, outcome, opts.gates))
    per_rows, row_weights = _row_values(plan.specs, outcome)
    return doc, per_rows, row_weights


def _worst(
    specs: Sequence[LossSpec], outcome: Outcome, gates: Mapping[str, float]
) -> dict[str, Any]:
    """``worst_loss`` and ``worst``: the rows of the first gated loss, else of the first
    loss computed; nothing when no loss ranks rows."""
    rankable = outcome.worst
    ok = [s.name for s, r in zip(specs, outcome.results) if r.status == "ok"]
    loss = next((g for g in gates if g in rankable), None)
    loss = loss or next((n for n in ok if n in rankable), None)
    if loss is None:
        return {}
    return {"worst_loss": loss, "worst": rankable[loss]}


def evaluate(
    predictions: str | Any,
    targets: str | Any | None = None,
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
    worst: int | None = None,
    per_sample_path: str | None = None,
    per_class: bool | None = None,
    drop_invalid: bool | None = None,
    header: str | None = None,
    decimal: str | None = None,
    reduction: str | None = None,
    convention: str | None = None,
    config: str | None = None,
    chunk_size: int | None = None,
    engine: str | None = None,
    scheduler: str | None = None,
    l1: float | None = None,
    l2: float | None = None,
    model_weights: str | None = None,
    grad: bool | None = None,
    dtype: str | None = None,
    combine: Sequence[str] | None = None,
    plugin: Sequence[str] | None = None,
    baseline: str | None = None,
    max_increase: Mapping[str, str | float] | None = None,
    per_sample: bool = False,
    progress: Progress | None = None,
) -> Report:
    """Load ``predictions`` (and ``targets``), infer the task and compute every
    applicable loss (or ``losses``). Returns a :class:`Report` whose ``data`` is SPEC
    §3.1's JSON.

    The settings are those of ``losscli evaluate`` (:data:`losscli.options.SETTINGS`),
    checked as the flags are; None means "not given": the ``config`` file's value, else
    the default.

    * ``task``: auto (default) or a task name, any case (``--task``).
    * ``losses``: losses to compute; default: every loss of the task (``--loss``).
    * ``params``: ``{loss: {parameter: value}}``, e.g. ``{"huber": {"delta": 2}}``.
    * ``logits``: predictions are logits (True) or probabilities (False); default: inferred.
    * ``pred_cols`` / ``target_cols``: prediction / target columns.
    * ``id_col``: join the files on this id column.
    * ``group_col``: image id column (segmentation, long form).
    * ``weight_col``: sample weight column (weighted mean).
    * ``pos_label``: the positive class of binary targets given as names.
    * ``gates``: ``{loss: limit}``; ``ok`` is False when a loss exceeds its limit.
    * ``exit_zero``: the command line's ``--exit-zero`` (exit 0 when a gate fails);
      it changes no value of the result, ``ok`` included.
    * ``worst``: keep the K rows with the largest loss.
    * ``per_sample_path``: write one CSV line per row as the rows are read.
    * ``per_class``: per-class breakdown (multiclass, multilabel, segmentation).
    * ``drop_invalid``: drop rows with NaN/empty/inf cells and count them in warnings.
    * ``header``: text inputs' first row is a header: ``"auto"`` (default), ``"yes"``, ``"no"``.
    * ``decimal``: decimal mark of text inputs, ``"."`` or ``","`` (default: ``"."``; a
      file that reads as decimal commas is refused).
    * ``reduction``: ``"mean"`` (default) or ``"sum"``.
    * ``convention``: ``"torch"`` (default), ``"keras"``, ``"sklearn"`` or ``"monai"``:
      every loss's defaults follow that framework (docs/conventions.md); ``params`` win.
    * ``config``: YAML file with the same settings; keywords win.
    * ``chunk_size``: read large csv/tsv/txt inputs in chunks of this many rows
      (default 1,000,000; 0 reads in one piece) with bounded memory (docs/scale.md).
    * ``engine``: ``"local"`` (default) or ``"dask"``: a glob or directory of
      partitions evaluated on a Dask cluster (:mod:`losscli.engines`).
    * ``scheduler``: the Dask scheduler's address (default: a local cluster).
    * ``l1`` / ``l2`` with ``model_weights`` (a ``.npy`` or ``.npz`` file): the weight
      penalty l1·Σ|w| + l2·Σw² (Keras convention, SPEC §6 "regularized"): the document
      gains ``regularization`` and every loss a ``regularized`` value.
    * ``grad``: each loss gains ``grad`` (gradient statistics w.r.t. the predictions).
    * ``dtype``: ``"float16"``, ``"bfloat16"`` or ``"float32"``: each loss gains
      ``precision`` (the value recomputed in that precision, its relative error).
    * ``combine``: composites ``"NAME=LOSS:W,LOSS:W"`` reported like losses.
    * ``plugin``: your own losses ``"[NAME=]module:function"`` (docs/analysis.md).
    * ``baseline``: an earlier losscli JSON file; every loss gains ``baseline``,
      ``delta`` and ``delta_pct`` (``--baseline``).
    * ``max_increase``: ``{loss: "5%" or 0.02}``: gates on the change over ``baseline``.

    Not settings: ``per_sample`` keeps the per-row values in :attr:`Report.per_sample`
    (and reads the input in one piece, as do the arrays of :attr:`Report.dataset`);
    ``progress`` is called with (bytes read, total bytes) of the predictions file after
    each chunk.

    ``predictions`` and ``targets`` are paths or in-memory data: NumPy arrays, pandas
    or polars DataFrames/Series, pyarrow Tables (read as the same data saved to files,
    rows in order; a pandas index is not used), e.g.
    ``losscli.evaluate(model.predict_proba(X_test), y_test)``.

    Example::

        >>> import losscli
        >>> r = losscli.evaluate("sample_data/regression_preds.csv",
        ...                      "sample_data/regression_targets.csv")
        >>> r.values["mse"]  # doctest: +SKIP
    """
    given = locals()
    opts = resolve("evaluate", {s.name: given[s.name] for s in settings_of("evaluate")})
    from losscli.data.memory import staged_inputs

    with staged_inputs([predictions, targets], ["predictions", "targets"]) as (paths, staged):
        report = evaluate_options(
            paths[0], paths[1], opts=opts, per_sample=per_sample, progress=progress
        )
    report.data = staged.rename_doc(report.data)
    if report.dataset is not None:
        report.dataset.inputs = staged.rename_doc(report.dataset.inputs)
    return report
