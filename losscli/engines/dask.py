"""``--engine dask``: evaluate a partitioned dataset on a Dask cluster.

The input is a glob or directory of Parquet/CSV partitions (one file = one partition)
that hold prediction and target columns, read with the same data layer as every other
input (:mod:`losscli.data`), and reduced with the same mergeable partial results as a
local run (:class:`losscli.accumulate.Evaluation`, compute's
:class:`~losscli.losses._reduce.Partial`)::

    driver: list the partitions (sorted, as a local read of the glob)
            first rows of the first partition (PLAN_ROWS) → column plan, task and
            input-kind inference (data layer)
            the run's Evaluation (specs, params, class weights), pickled once and sent
            to every worker once, with the plan (a few KB)
    worker: each partition, in chunks → read with the plan → cells checked → values
            checked against the first rows' decisions → Dataset → Evaluation.update
    cluster: tree reduce (FAN_IN partials per task, in partition order) → one Evaluation
    driver: merge into the run → finalize → the same JSON as the local engine

Losses whose kernel needs every row at once (embedding losses) are listed as
``not_applicable`` (an error when asked for with ``--loss``). ``cross_entropy`` with
``weight=balanced`` gets a first map-reduce that counts the classes, then the loss pass
uses the resolved weights. Without ``--scheduler`` a ``LocalCluster`` of one worker
thread per core runs in this process for the duration of the run (starting it takes a
fraction of a second; worker processes would take seconds and import losscli again).

Every worker must see the partitions at the same path (a shared file system), and have
losscli installed.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import os
import pickle
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losscli.compute import LossResult, class_counts, rowwise
from losscli.data import Dataset
from losscli.data.dataset import plan_tables
from losscli.data.pipeline import (
    ChunkArrays,
    ChunkStep,
    Pieces,
    Totals,
    chunk_step,
    column_selectors,
    finish_input,
    named_binary,
    summarize,
)
from losscli.data.readers import (
    STDIN,
    TEXT_EXTENSIONS,
    Table,
    column_difference,
    list_data_files,
    read_table,
    split_ext,
)
from losscli.data.stream import Source, open_chunks
from losscli.errors import DataError, LossCliError, UsageError
from losscli.options import ReadOptions

#: How to ask for inference over every row, in the hints and notes of a Dask run.
EVERY_ROW_DASK = "--engine local"
#: Partial results merged by one reduce task (the tree's fan-in).
FAN_IN = 4
#: Workers and threads of the cluster started when no ``--scheduler`` is given: one
#: single-thread worker per core (at least 2), as threads of this process — no worker
#: process to start, no module to import again, nothing to serialize; pyarrow and NumPy
#: release the GIL while they read and compute.
LOCAL_WORKERS = max(2, os.cpu_count() or 1)
LOCAL_THREADS = 1
#: Rows of the first partition read on the driver to plan the columns and infer the
#: task (the rest of it is read on a worker, as every other partition).
PLAN_ROWS = 1_000_000
#: Rows a worker reads at a time from its partition (memory per worker stays bounded).
WORKER_CHUNK_ROWS = 1_000_000
#: Seconds to wait for a scheduler to answer, and for it to have a worker.
CONNECT_TIMEOUT = 10
WORKER_TIMEOUT = 30
#: At most this many distinct warnings are gathered from the partitions.
MAX_WARNINGS = 50
_PARQUET = (".parquet", ".pq")

Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- partitions


def list_partitions(path: str) -> list[str]:
    """Absolute paths of the partitions of ``path`` (a glob, a directory or one file), in
    the natural order (part9 before part10) a local read of the same glob uses."""
    if path == STDIN:
        raise UsageError(
            "--engine dask cannot read standard input",
            hint="write the partitions to files that every worker can read",
        )
    files = list_data_files(
        path, hint="expected Parquet or CSV partitions (.parquet, .pq, .csv, .tsv, .txt)"
    )
    if files is None:
        if not os.path.isfile(path):
            raise DataError(f"{path}: no such file", hint="check the path")
        files = [path]
    for f in files:
        ext, comp = split_ext(f)
        if not (ext in TEXT_EXTENSIONS or (comp is None and ext in _PARQUET)):
            raise UsageError(
                f"--engine dask reads Parquet or CSV partitions; {f} is not one",
                hint="convert the partitions to Parquet, or use --engine local",
            )
    return [os.path.abspath(f) for f in files]


# --------------------------------------------------------------------------- one partition


@dataclass
class _Job:
    """What every partition task needs: how to read it and what to compute."""

    step: ChunkStep
    opts: ReadOptions
    columns: list[str]
    first_path: str
    #: The pickled run template (an empty Evaluation); None for the class-count pass.
    template: bytes | None = None
    chunk_rows: int = WORKER_CHUNK_ROWS
    #: Classes to count (the class-count pass) and the label left out of the counts.
    n_classes: int | None = None
    ignore_index: Any = None


@dataclass
class _Part:
    """What partitions give back, merged in partition order."""

    totals: Totals = field(default_factory=Totals)
    run: Any = None  # an Evaluation over these rows
    counts: np.ndarray | None = None
    error: LossCliError | None = None


def _read(path: str, job: _Job) -> Table:
    if not os.path.isfile(path):
        raise DataError(
            f"{path}: no such file on the Dask worker{_worker_address()}",
            hint="every worker must see the partitions at the same path (a shared file system)",
        )
    return _read_partition(path, job.opts)


def _read_partition(path: str, opts: ReadOptions) -> Table:
    select, _ = column_selectors(opts, True)
    return read_table(
        path, select=select, role="predictions", header=opts.header, decimal=opts.decimal
    )


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return f" {get_worker().address}"
    except (ImportError, ValueError):
        return ""


def _same_columns(ptab: Table, columns: Sequence[str], first_path: str) -> None:
    if set(ptab.all_columns) == set(columns):
        return
    raise DataError(
        f"{ptab.name} has different columns from {first_path} "
        f"({column_difference(columns, ptab.all_columns)})",
        hint="every partition must have the same columns",
    )


def _partition_dataset(ptab: Table, job: _Job, part: _Part) -> Dataset | None:
    """One partition's table → Dataset through the chunk step, with the first
    partition's plan and decisions (None when --drop-invalid left no row)."""
    _same_columns(ptab, job.columns, job.first_path)
    part.totals.add_warnings(part.totals.file_warnings, ptab.warnings)
    return job.step.run(ptab, None, part.totals)


def evaluate_partition(path: str, job: _Job) -> _Part:
    """The task run on a worker: read one partition in chunks, count its classes or fold
    it into a fresh copy of the run. Errors of the input come back as values, so that the
    first one in partition order is the one reported."""
    part = _Part()
    try:
        if not os.path.isfile(path):
            _read(path, job)  # the error naming the worker
        select, _ = column_selectors(job.opts, True)
        reader = open_chunks(path, select, job.chunk_rows, many=False)
        run = pickle.loads(job.template) if job.template is not None else None
        try:
            for _, tab in reader:
                ds = _partition_dataset(tab, job, part)
                if ds is None:
                    continue
                if job.n_classes is not None and ds.target is not None:
                    counts = class_counts(ds.target, job.n_classes, job.ignore_index)
                    part.counts = counts if part.counts is None else part.counts + counts
                if run is not None:
                    run.update(ds)
                    part.run = run
            part.totals.add_warnings(part.totals.file_warnings, reader.warnings)
        finally:
            reader.close()
    except LossCliError as exc:
        part.error = exc
    return part


def merge_parts(*parts: _Part) -> _Part:
    """Merge the results of consecutive partitions, in order (a reduce task). The inputs
    are left as they are, so that a task run again gives the same result."""
    out = copy.deepcopy(parts[0])
    for p in parts[1:]:
        if out.error is not None:
            break
        if p.error is not None:
            out.error = p.error
            break
        p = copy.deepcopy(p)
        out.totals.merge(p.totals)
        if p.run is not None:
            out.run = p.run if out.run is None else out.run.merge(p.run)
        if p.counts is not None:
            out.counts = p.counts if out.counts is None else out.counts + p.counts
    return out


# --------------------------------------------------------------------------- source


@dataclass
class DaskReadInfo:
    """How the input was read: partitions evaluated on a Dask cluster."""

    partitions: int
    scheduler: str
    workers: int = 0
    mode: str = "dask"

    def to_dict(self) -> dict[str, Any]:
        return {
            "engine": "dask",
            "partitions": self.partitions,
            "scheduler": self.scheduler,
            "workers": self.workers,
        }


class DaskSource(Source):
    """A glob or directory of partitions, evaluated on a Dask cluster.

    ``first`` is the first partition with rows, read on this machine through the data
    layer (column plan, task and input-kind inference). :meth:`fold` evaluates every
    partition on the cluster and merges the result into a run; :meth:`class_counts`
    counts classes the same way; :meth:`chunks` reads the partitions here, in order.
    The cluster is started (or connected to) at the first map-reduce and released by
    :meth:`close`.
    """

    def __init__(
        self,
        pattern: str,
        paths: Sequence[str],
        opts: ReadOptions,
        *,
        scheduler: str | None,
        progress: Progress | None = None,
    ) -> None:
        self.pattern = pattern
        self.paths = list(paths)
        self.opts = opts
        self.scheduler = scheduler
        self.progress = progress
        self.info = DaskReadInfo(len(self.paths), scheduler or "local")
        self.step: ChunkStep | None = None
        self._first: Dataset | None = None
        self._first_path = self.paths[0]
        self._first_whole = True
        self._columns: list[str] = []
        self._totals: Totals | None = None
        self._client: Any = None
        self._cluster: Any = None
        #: Seconds spent per phase (plan, connect, ship, compute, reduce), summed over
        #: the passes: what the benchmark reports as the fixed cost of a run.
        self.timings: dict[str, float] = {}

    def _timed(self, phase: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[phase] = self.timings.get(phase, 0.0) + now - since
        return now

    # ------------------------------------------------------------------ first partition

    def start(self) -> None:
        """Read partitions here until one has rows: plan the columns, infer the task."""
        t0 = time.perf_counter()
        try:
            self._start()
        finally:
            self._timed("plan", t0)

    def _start(self) -> None:
        scratch = Totals()
        for path in self.paths:
            ptab = self._first_rows(path)
            if self.step is None:
                self.step = self._plan(ptab)
                self._first_path = path
                self._columns = list(ptab.all_columns)
                notes = list(ptab.notes)
            _same_columns(ptab, self._columns, self._first_path)
            ds = self.step.run(ptab, None, scratch, notes)
            if ds is not None:
                self._first = ds
                return
        raise scratch.nothing_left(self.pattern)

    def _first_rows(self, path: str) -> Table:
        """The first :data:`PLAN_ROWS` rows of a partition (all of a smaller one)."""
        select, _ = column_selectors(self.opts, True)
        reader = open_chunks(path, select, PLAN_ROWS, many=False)
        try:
            _, ptab = next(iter(reader))
        finally:
            reader.close()
        self._first_whole = ptab.n_rows < PLAN_ROWS
        return ptab

    def _plan(self, ptab: Table) -> ChunkStep:
        return chunk_step(
            self.opts, plan_tables(ptab, None, self.opts), every_row=EVERY_ROW_DASK, vet=_vet
        )

    @property
    def first(self) -> Dataset:  # type: ignore[override]
        assert self._first is not None
        return self._first

    def _job(self, **kw: Any) -> _Job:
        assert self.step is not None
        return _Job(
            self.step,
            self.opts,
            self._columns,
            self._first_path,
            **kw,
        )

    # ------------------------------------------------------------------ passes

    def fold(self, run: Any) -> None:
        """Evaluate every partition on the cluster and merge the result into ``run`` (an
        :class:`~losscli.accumulate.Evaluation` whose class counts are set)."""
        if run.per_sample is not None:
            raise UsageError(
                "--per-sample does not apply to --engine dask: per-row values stay on the workers",
                hint="use --engine local to write one line per row",
            )
        set_aside_whole_row_losses(run)
        part = self._map_reduce(self._job(template=pickle.dumps(run)), progress=self.progress)
        self._finish(part)
        if part.run is not None:
            run.merge(part.run)

    def class_counts(self, n_classes: int, ignore_index: Any = None) -> np.ndarray:
        """Rows per class over every partition: a map-reduce of its own."""
        part = self._map_reduce(self._job(n_classes=n_classes, ignore_index=ignore_index))
        if part.counts is None:
            return np.zeros(n_classes, dtype=np.int64)
        return part.counts

    def chunks(self) -> Iterator[Dataset]:
        """The partitions read on this machine, in order (the cluster is not used)."""
        job = self._job()
        parts = []
        for path in self.paths:
            part = _Part()
            ds = _partition_dataset(_read(path, job), job, part)
            parts.append(part)
            if ds is not None:
                yield ds
        self._finish(merge_parts(*parts))

    def _finish(self, part: _Part) -> None:
        """Checks over every row, then keep the totals for :meth:`summary`."""
        assert self.step is not None
        finish_input(part.totals, self.step.plan, self.pattern, self.pattern)
        self._totals = part.totals

    # ------------------------------------------------------------------ cluster

    def _connect(self) -> Any:
        if self._client is not None:
            return self._client
        import distributed

        if self.scheduler is None:
            with warnings.catch_warnings():
                # the scheduler's HTTP routes fall back to a free port when 8787 is taken
                warnings.filterwarnings("ignore", message="Port .* is already in use")
                try:
                    self._cluster = distributed.LocalCluster(
                        n_workers=LOCAL_WORKERS,
                        threads_per_worker=LOCAL_THREADS,
                        processes=False,
                        dashboard_address=None,
                        silence_logs=logging.ERROR,
                    )
                except RuntimeError as exc:
                    raise UsageError(
                        f"could not start a local Dask cluster ({exc})",
                        hint="worker processes import the main module again: in a script, call "
                        "evaluate(engine='dask') under `if __name__ == \"__main__\":`; or "
                        "pass --scheduler ADDRESS",
                    ) from None
            self._client = distributed.Client(self._cluster, set_as_default=False)
        else:
            try:
                self._client = distributed.Client(
                    self.scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False
                )
            except (OSError, TimeoutError, ValueError, TypeError) as exc:
                raise UsageError(
                    f"cannot connect to the Dask scheduler at {self.scheduler} ({exc})",
                    hint="start one with `dask scheduler` and `dask worker ADDRESS`, or leave "
                    "out --scheduler to run a local cluster",
                ) from None
            try:
                self._client.wait_for_workers(1, timeout=WORKER_TIMEOUT)
            except TimeoutError:
                raise UsageError(
                    f"the Dask scheduler at {self.scheduler} has no worker",
                    hint=f"start one with `dask worker {self.scheduler}`",
                ) from None
        self.info.workers = len(self._client.nthreads())
        return self._client

    def _map_reduce(self, job: _Job, *, progress: Progress | None = None) -> _Part:
        """Map :func:`evaluate_partition` over the partitions, tree-reduce the results on
        the cluster with :func:`merge_parts`, and raise the first error."""
        import distributed

        t = time.perf_counter()
        client = self._connect()
        t = self._timed("connect", t)
        [job_future] = client.scatter([job], hash=False, broadcast=True)
        t = self._timed("ship", t)
        maps = [client.submit(evaluate_partition, p, job_future, pure=False) for p in self.paths]
        futures = maps
        while len(futures) > 1:
            groups = [futures[i : i + FAN_IN] for i in range(0, len(futures), FAN_IN)]
            futures = [
                g[0] if len(g) == 1 else client.submit(merge_parts, *g, pure=False) for g in groups
            ]
        if progress is not None:
            self._report(maps, progress, client)
        else:
            for _ in distributed.as_completed(maps, loop=client.loop):
                pass
        t = self._timed("compute", t)
        part: _Part = futures[0].result()
        self._timed("reduce", t)
        if part.error is not None:
            raise part.error
        return part

    def _report(self, futures: list[Any], progress: Progress, client: Any) -> None:
        """Bytes of the partitions evaluated so far, as their tasks finish."""
        from distributed import as_completed

        sizes = {f.key: os.path.getsize(p) for f, p in zip(futures, self.paths)}
        total = sum(sizes.values())
        done = 0
        for f in as_completed(futures, loop=client.loop):
            done += sizes[f.key]
            progress(done, total)

    def close(self) -> None:
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
            self._client = None
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()
            self._cluster = None

    # ------------------------------------------------------------------ report

    @property
    def n_samples(self) -> int:
        return self._totals.kept if self._totals is not None else 0

    def _summarize(self) -> Dataset:
        """The first partition's dataset carrying the totals of every partition."""
        assert self.step is not None
        first, t = self.first, self._totals
        assert t is not None, "summary() before the partitions were evaluated"
        n = len(self.paths)
        pieces = Pieces(
            n,
            how=f"evaluated in {n} partitions",
            first=f"the first partition ({first.n_samples} rows of {self._first_path})"
            if self._first_whole
            else f"the first {first.n_samples} rows of the first partition ({self._first_path})",
            rest="other",
            every_row=EVERY_ROW_DASK,
        )
        evidence = [
            f"{self.pattern}: {n} partition{'s' if n > 1 else ''} evaluated on a Dask cluster "
            "in sorted order as one dataset",
            *first.evidence,
        ]
        return summarize(
            first,
            t,
            self.step.plan.roles.warnings,
            rows={"predictions": t.rows, "targets": t.rows},
            path=self.pattern,
            evidence=evidence,
            pieces=pieces,
        )


def _vet(ds: Dataset, arr: ChunkArrays) -> None:
    """The first partition's decisions must hold for every partition on its own."""
    if named_binary(ds, arr):
        raise UsageError(
            "--engine dask needs binary targets as 0/1: with class names the positive "
            "class is decided over every row",
            hint="map the class names to 0/1 in the partitions, or use --engine local",
        )


def set_aside_whole_row_losses(run: Any) -> None:
    """Losses whose kernel needs every row at once cannot be computed per partition:
    ``not_applicable`` with the reason, or a usage error when asked for by name."""
    for i, (spec, acc) in enumerate(zip(run.specs, run.accs)):
        if i in run.failed or rowwise(spec, acc.kernel_params()):
            continue
        reason = (
            f"{spec.name} compares rows with each other, so it needs every row at once; "
            "--engine dask evaluates partitions separately"
        )
        if run.explicit:
            raise UsageError(reason, hint=f"use --engine local for {spec.name}")
        run.failed[i] = LossResult(spec.name, None, "not_applicable", acc.params, reason=reason)


# --------------------------------------------------------------------------- entry point


def open_dask_source(
    preds: str,
    targets: str | None = None,
    opts: ReadOptions | None = None,
    *,
    scheduler: str | None = None,
    chunk_rows: int | None = None,
    keep_whole: str | None = None,
    progress: Progress | None = None,
) -> DaskSource:
    """Open a partitioned input for ``--engine dask`` (the arguments of
    :func:`losscli.data.stream.open_source`, plus the scheduler address; None starts a
    local cluster). Reads the first partition; the cluster starts at the first pass."""
    opts = opts if opts is not None else ReadOptions()
    if targets is not None:
        raise UsageError(
            "--engine dask reads partitions that hold both prediction and target columns; "
            "a separate TARGETS input is not taken",
            hint="put the targets in the partitions and name the columns with "
            "--pred-col/--target-col",
        )
    if chunk_rows is not None:
        raise UsageError(
            "--chunk-size does not apply to --engine dask",
            hint="each partition is read in one piece on its worker; split the data into "
            "more partitions to use less memory per worker",
        )
    if keep_whole:
        raise UsageError(
            f"--engine dask does not bring per-row values back ({keep_whole})",
            hint="leave out --plot and -o FILE.html, or use --engine local",
        )
    if opts.group_col:
        raise UsageError(
            "--group-col does not apply to --engine dask: an image's pixel rows may span "
            "partitions",
            hint="use --engine local, or one row per image",
        )
    paths = list_partitions(preds)
    src = DaskSource(preds, paths, opts, scheduler=scheduler, progress=progress)
    try:
        src.start()
    except BaseException:
        src.close()
        raise
    return src


__all__ = [
    "FAN_IN",
    "DaskReadInfo",
    "DaskSource",
    "evaluate_partition",
    "list_partitions",
    "merge_parts",
    "open_dask_source",
    "set_aside_whole_row_losses",
]
