"""The run loop: a source's chunks → one :class:`~losscli.accumulate.Evaluation` →
results. Every command that measures losses (evaluate, compare) goes through
:func:`run_source`, whether the rows arrive in one piece, in chunks or from a cluster.

A :class:`Source` is what :mod:`losscli.data.stream` and :mod:`losscli.engines` return:
the first chunk, the chunks, class counts, a summary and ``close``; engines that reduce
on a cluster also have ``fold(evaluation)``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from losscli.accumulate import Evaluation, Outcome
from losscli.allocator import tune_allocator
from losscli.compute import input_kind, n_columns
from losscli.per_sample import PerSampleWriter
from losscli.registry import LossSpec


class Chunk(Protocol):
    """What the run reads of a chunk of rows (a :class:`losscli.data.dataset.Dataset`)."""

    @property
    def task(self) -> str: ...

    @property
    def pred(self) -> np.ndarray: ...

    @property
    def context(self) -> Mapping[str, Any]: ...

    @property
    def class_names(self) -> Sequence[str] | None: ...


class ReadReport(Protocol):
    """How a source read its input (``read`` in the evaluate document)."""

    @property
    def mode(self) -> str: ...

    def to_dict(self) -> dict[str, Any]: ...


@runtime_checkable
class Source(Protocol):
    """Where the rows of one evaluation come from: :class:`losscli.data.stream.Source`
    (in memory or streamed) or :class:`losscli.engines.dask.DaskSource`. An engine that
    reduces on a cluster also has ``fold(evaluation)``, which :func:`run_source` calls
    instead of iterating :meth:`chunks`."""

    @property
    def first(self) -> Chunk:
        """The first chunk: its decisions (task, input kind, classes) bind the others."""
        ...

    @property
    def info(self) -> ReadReport: ...

    def chunks(self) -> Iterator[Chunk]:
        """Every chunk of rows, the first included."""
        ...

    def class_counts(self, n_classes: int, ignore_index: Any = None) -> np.ndarray:
        """Rows per true class over the whole input (for losses weighted by them)."""
        ...

    def summary(self) -> Any:
        """The whole input's Dataset summary (inputs, warnings, evidence, counts)."""
        ...

    def close(self) -> None:
        """Release open files or the cluster connection."""
        ...


@dataclass(frozen=True)
class Plan:
    """What to compute over a source: the losses and the row diagnostics."""

    specs: Sequence[LossSpec]
    #: The losses were asked for: a domain miss is an error, not "not applicable".
    explicit: bool
    params: Mapping[str, Mapping[str, Any]]
    reduction: str = "mean"
    worst: int | None = None
    per_class: bool = False
    keep_per_row: bool = False
    #: ``--grad``: gradient statistics of every loss (SPEC §13).
    grad: bool = False
    #: ``--dtype``: every loss recomputed in this precision too (SPEC §13).
    dtype: str | None = None


@contextlib.contextmanager
def quiet_floats() -> Iterator[None]:
    """No NumPy floating-point warnings inside the block: a kernel's overflow or invalid
    operation already shows as a non-finite value with status ``non_finite``."""
    with np.errstate(all="ignore"):
        yield


def new_evaluation(
    first: Chunk, plan: Plan, per_sample: PerSampleWriter | None = None
) -> Evaluation:
    """An empty :class:`Evaluation` of ``plan`` for chunks like ``first`` (same task,
    input kind and classes)."""
    return Evaluation(
        plan.specs,
        explicit=plan.explicit,
        params=plan.params,
        input_kind=input_kind(first.context),
        class_names=first.class_names,
        task=first.task,
        reduction=plan.reduction,  # type: ignore[arg-type]
        worst=plan.worst,
        per_class=plan.per_class,
        keep_per_row=plan.keep_per_row,
        per_sample=per_sample,
        grad=plan.grad,
        dtype=plan.dtype,
    )


def run_source(source: Source, plan: Plan, *, per_sample: PerSampleWriter | None = None) -> Outcome:
    """Evaluate ``plan`` over every row of ``source``: class counts first when a loss
    weighs classes by them, then each chunk (or the cluster's fold), then finalize.
    A failure discards the partial ``per_sample`` file."""
    tune_allocator()  # once per process; after the inputs opened (see losscli.allocator)
    first = source.first
    run = new_evaluation(first, plan, per_sample)
    try:
        with quiet_floats():
            if run.needs_class_counts:
                n = n_columns(first.pred)
                run.set_class_counts(source.class_counts(n, run.count_ignore_index()))
            fold = getattr(source, "fold", None)
            if fold is not None:  # partitions reduced on a cluster
                fold(run)
            else:
                for chunk in source.chunks():
                    run.update(chunk)
                    del chunk  # freed before the next chunk is read
            return run.finalize()
    except BaseException:
        run.abort()
        raise
