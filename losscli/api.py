"""The Python API behind the commands: ``evaluate`` (and the helpers compare reuses).

The CLI is a thin shell over these functions; they take plain Python values, return
JSON-ready documents, and raise :mod:`losscli.errors` exceptions.
"""

from __future__ import annotations

import contextlib
import difflib
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from losscli.errors import UsageError
from losscli.registry import (
    TASKS,
    LossSpec,
    all_specs,
    canonical_name,
    get_spec,
    loss_names,
    specs_for_task,
)

TASK_CHOICES = ("auto", *TASKS)


# ------------------------------------------------------------------ loss names


def loss_key(name: str) -> str:
    """Canonical name of a known loss, else the name as typed (normalised). Unknown names
    are reported once the task is known (:func:`loss_error`), with that task's losses."""
    try:
        return canonical_name(name)
    except UsageError:
        return name.strip().lower().replace("-", "_")


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
        key = name.strip().lower().replace("-", "_")
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
        out.setdefault(loss_key(loss), {})[name.strip()] = value.strip()
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
        out[loss_key(loss)] = limit
    return out


def merge_params(
    *layers: Mapping[str, Mapping[str, Any]] | None,
) -> dict[str, dict[str, Any]]:
    """Merge per-loss params; later layers win key by key (flags over config)."""
    out: dict[str, dict[str, Any]] = {}
    for layer in layers:
        for loss, kv in (layer or {}).items():
            out.setdefault(loss_key(loss), {}).update(kv)
    return out


@dataclass
class Settings:
    """Flags merged over ``--config`` (flags win; None means "not given")."""

    cfg: dict[str, Any]
    task: str
    logits: bool | None
    losses: list[str] | None
    params: dict[str, dict[str, Any]]
    gates: dict[str, float]
    reduction: str
    per_class: bool
    drop_invalid: bool
    chunk_size: int | None

    def column(self, role: str, given: Any) -> Any:
        """A column flag, else the config's ``columns.<role>``."""
        cols = self.cfg.get("columns", {})
        if role in ("pred", "target"):
            return tuple(given) or tuple(cols.get(role, ()))
        return given or cols.get(role)


def resolve_settings(
    config: str | None,
    *,
    task: str | None,
    logits: bool | None,
    losses: Sequence[str] | None,
    params: Mapping[str, Mapping[str, Any]] | None,
    gates: Mapping[str, float] | None,
    reduction: str | None,
    per_class: bool,
    drop_invalid: bool,
    chunk_size: int | None,
) -> Settings:
    """The settings shared by evaluate and compare, validated."""
    cfg: dict[str, Any] = {}
    if config is not None:
        from losscli.config import load_config

        cfg = load_config(config)
    task = task if task is not None else str(cfg.get("task") or "auto")
    if task not in TASK_CHOICES:
        from losscli.errors import unknown_name

        raise unknown_name("task", task, TASK_CHOICES)
    if logits is None and cfg.get("input"):
        logits = cfg["input"] == "logits"
    reduction = reduction if reduction is not None else str(cfg.get("reduction") or "mean")
    if reduction not in ("mean", "sum"):
        raise UsageError(f"unknown reduction '{reduction}'", hint="allowed: mean, sum")
    return Settings(
        cfg=cfg,
        task=task,
        logits=logits,
        losses=list(losses) if losses else list(cfg.get("losses", [])) or None,
        params=merge_params(cfg.get("params"), params),
        gates={
            **{canonical_name(k): v for k, v in cfg.get("gates", {}).get("max", {}).items()},
            **(gates or {}),
        },
        reduction=reduction,
        per_class=per_class or bool(cfg.get("per_class", False)),
        drop_invalid=drop_invalid or bool(cfg.get("drop_invalid", False)),
        chunk_size=chunk_size if chunk_size is not None else cfg.get("chunk_size"),
    )


# ------------------------------------------------------------------ results


@dataclass
class Report:
    """What ``evaluate`` returns: the JSON document plus per-row arrays when asked."""

    data: dict[str, Any]
    per_sample: dict[str, Any] = field(default_factory=dict)
    dataset: Any = None
    #: Per-row weights (kernel weight × sample weight) of the losses in ``per_sample``
    #: whose rows do not all weigh 1 (class weights, ignored rows, pair counts …).
    per_sample_weight: dict[str, Any] = field(default_factory=dict)

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
            try:
                spec = get_spec(name, task)
            except UsageError as exc:
                known = loss_key(name) in loss_names()
                if not known:
                    raise loss_error(name, task, flag="--loss") from None
                kind = _kind(_loss_tasks(loss_key(name)))
                raise UsageError(
                    exc.message, hint=f"'{loss_key(name)}' is {kind}; {task_losses_text(task)}"
                ) from None
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
    """Compute each spec on ``dataset`` (held in memory); in the default run a loss whose
    domain the data leaves is ``not_applicable`` instead of an error (SPEC §5 Domains)."""
    run = new_evaluation(
        dataset,
        specs,
        explicit=explicit,
        params=params,
        reduction=reduction,
        keep_per_row=keep_per_row,
    )
    with quiet_floats():
        if run.needs_class_counts:
            run.set_class_counts(_class_counts(dataset, run.count_ignore_index()))
        run.update(dataset)
        return run.finalize().results


def new_evaluation(
    first: Any,
    specs: Sequence[LossSpec],
    *,
    explicit: bool,
    params: Mapping[str, Mapping[str, Any]],
    reduction: str = "mean",
    **options: Any,
) -> Any:
    """An :class:`~losscli.accumulate.Evaluation` of ``specs`` for chunks like ``first``
    (same task, input kind and classes)."""
    from losscli.accumulate import Evaluation

    kind = None
    if "from_logits" in first.context:
        kind = "logits" if first.context["from_logits"] else "probabilities"
    return Evaluation(
        specs,
        explicit=explicit,
        params=params,
        input_kind=kind,
        class_names=first.class_names,
        task=first.task,
        reduction=reduction,  # type: ignore[arg-type]
        **options,
    )


def _class_counts(dataset: Any, ignore_index: Any) -> Any:
    from losscli.compute import class_counts

    c = int(dataset.pred.shape[1]) if dataset.pred.ndim > 1 else 1
    return class_counts(dataset.target, c, ignore_index)


def _check_unused(
    params: Mapping[str, Any], gates: Mapping[str, float], specs: Sequence[LossSpec], task: str
) -> None:
    names = [s.name for s in specs]
    for loss in params:
        if loss not in names:
            raise loss_error(loss, task, flag="--param", computed=names)
    for loss in gates:
        if loss not in {s.name for s in specs_for_task(task)}:
            raise loss_error(loss, task, flag="--max", computed=names)


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
    chunk_size: int | None = None,
    per_sample_path: str | None = None,
    progress: Any = None,
    engine: str = "local",
    scheduler: str | None = None,
    l1: float | None = None,
    l2: float | None = None,
    model_weights: str | None = None,
) -> Report:
    """Load ``predictions`` (and ``targets``), infer the task and compute every applicable
    loss (or ``losses``). Returns a :class:`Report` whose ``data`` is SPEC §3.1's JSON.

    ``l1``/``l2`` with ``model_weights`` (a ``.npy`` or ``.npz`` file) add the weight
    penalty l1·Σ|w| + l2·Σw² (Keras convention, SPEC §6 "regularized"): the document gains
    ``regularization`` and every loss a ``regularized`` value (loss + penalty).

    Large delimited-text inputs are read in chunks of ``chunk_size`` rows (default
    1,000,000; 0 reads in one piece) with bounded memory (docs/scale.md); ``progress``
    is called with (bytes read, total bytes) of the predictions file after each chunk.
    ``per_sample_path`` writes one CSV line per row as the rows are read;
    ``per_sample`` instead keeps the per-row values in :attr:`Report.per_sample` (and
    reads the input in one piece, as do the arrays of :attr:`Report.dataset`).
    ``engine="dask"`` evaluates a glob or directory of partitions on a Dask cluster
    (``scheduler`` address, or a local cluster when None; :mod:`losscli.engines`).

    Example::

        >>> import losscli
        >>> r = losscli.evaluate("sample_data/regression_preds.csv",
        ...                      "sample_data/regression_targets.csv")
        >>> r.values["mse"]  # doctest: +SKIP
    """
    from losscli.engines import engine_source

    open_source = engine_source(engine, scheduler)  # before any input is read
    st = resolve_settings(
        config,
        task=task,
        logits=logits,
        losses=losses,
        params=params,
        gates=gates,
        reduction=reduction,
        per_class=per_class,
        drop_invalid=drop_invalid,
        chunk_size=chunk_size,
    )
    cfg = st.cfg
    task, logits, losses, reduction = st.task, st.logits, st.losses, st.reduction
    all_params, all_gates = st.params, st.gates
    per_class, drop_invalid, chunk_size = st.per_class, st.drop_invalid, st.chunk_size
    worst = worst if worst is not None else cfg.get("worst")
    from losscli.regularized import regularization

    reg = cfg.get("regularization", {})
    penalty = regularization(
        model_weights if model_weights is not None else reg.get("model_weights"),
        l1=l1 if l1 is not None else reg.get("l1"),
        l2=l2 if l2 is not None else reg.get("l2"),
    )
    if per_sample_path is not None:
        from losscli.files import check_writable

        check_writable(per_sample_path)  # before any input is read

    source = open_source(
        predictions,
        targets,
        task=task,
        pred_cols=st.column("pred", pred_cols),
        target_cols=st.column("target", target_cols),
        id_col=st.column("id", id_col),
        group_col=st.column("group", group_col),
        weight_col=st.column("weight", weight_col),
        logits=logits,
        drop_invalid=drop_invalid,
        chunk_rows=chunk_size,
        keep_whole="per-row values were asked for (per_sample)" if per_sample else None,
        progress=progress,
    )
    try:
        first = source.first
        specs, explicit = select_specs(first.task, losses)
        # a gate on a loss that is not computed adds that loss to the run
        for loss in all_gates:
            if all(s.name != loss for s in specs):
                with contextlib.suppress(UsageError):  # reported by _check_unused below
                    specs.append(get_spec(loss, first.task))
        _check_unused(all_params, all_gates, specs, first.task)
        writer = None
        if per_sample_path is not None:
            from losscli.accumulate import PerSampleWriter

            writer = PerSampleWriter(per_sample_path)
        run = new_evaluation(
            first,
            specs,
            explicit=explicit,
            params=all_params,
            reduction=reduction,
            worst=worst,
            per_class=per_class,
            keep_per_row=per_sample,
            per_sample=writer,
        )
        try:
            # overflow/invalid in a kernel shows as a non-finite value with its status
            with quiet_floats():
                if run.needs_class_counts:
                    c = int(first.pred.shape[1]) if first.pred.ndim > 1 else 1
                    run.set_class_counts(source.class_counts(c, run.count_ignore_index()))
                if hasattr(source, "fold"):  # partitions reduced on a cluster
                    source.fold(run)
                else:
                    for chunk in source.chunks():
                        run.update(chunk)
                outcome = run.finalize()
        except BaseException as exc:
            run.abort()
            if isinstance(exc, OSError) and _is_about(exc, per_sample_path):
                from losscli.files import output_error

                raise output_error(per_sample_path or "", exc) from None
            raise
        dataset = source.summary()
    finally:
        source.close()
    results = outcome.results

    items = []
    per_rows: dict[str, Any] = {}
    row_weights: dict[str, Any] = {}
    notes: list[str] = list(dataset.warnings)
    for spec, res in zip(specs, results):
        item = res.to_dict()
        item["summary"] = spec.summary
        pc = outcome.per_class.get(spec.name)
        if per_class and res.per_class is None and pc is not None:
            item["per_class"] = {k: (v if math.isfinite(v) else None) for k, v in pc.items()}
        for n in res.notes:
            notes.append(n if n.startswith(f"{spec.name}:") else f"{spec.name}: {n}")
        items.append(item)
        # a finalized loss (rmse = sqrt of a mean) has no per-row value of its own: its
        # per-row terms are another loss's (squared errors), so they are not listed under it
        if res.per_row is not None and spec.finalize is None:
            per_rows[spec.name] = res.per_row
            if res.per_row_weight is not None:
                row_weights[spec.name] = res.per_row_weight
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
        "read": source.info.to_dict(),
    }
    if dataset.input_kind is not None:
        doc["task"]["input"] = dataset.input_kind
        doc["task"]["input_inferred"] = dataset.input_kind_inferred
    if worst:
        rankable = outcome.worst
        target_loss = next(
            (g for g in all_gates if g in rankable),
            next(
                (s.name for s, r in zip(specs, results) if r.status == "ok" and s.name in rankable),
                None,
            ),
        )
        if target_loss is not None:
            doc["worst_loss"] = target_loss
            doc["worst"] = rankable[target_loss]
    if penalty is not None:
        from losscli.regularized import apply

        apply(doc, penalty)
    return Report(
        doc,
        per_sample=per_rows if per_sample else {},
        dataset=dataset if source.info.mode == "memory" else None,
        per_sample_weight=row_weights if per_sample else {},
    )


@contextlib.contextmanager
def quiet_floats() -> Iterator[None]:
    """No NumPy floating-point warnings inside the block: a kernel's overflow or invalid
    operation already shows as a non-finite value with status ``non_finite``."""
    import numpy as np

    with np.errstate(all="ignore"):
        yield


def _is_about(exc: OSError, path: str | None) -> bool:
    """Whether ``exc`` is an OSError on ``path``, a file beside it (its temporary file)
    or one of its parent directories."""
    if path is None:
        return False
    from pathlib import Path

    target = Path(path)
    for name in (exc.filename, exc.filename2):
        if name is None:
            continue
        p = Path(str(name))
        if p == target or p.parent == target.parent or p in target.parents:
            return True
    return False


def known_losses() -> list[str]:
    return loss_names()
