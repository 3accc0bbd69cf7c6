"""Prediction and target files read in chunks of rows, with bounded memory.

:func:`open_source` returns a :class:`Source`: an iterator of
:class:`~losscli.data.Dataset` chunks that share task, columns and input kind, plus what
a report says about the whole input (rows, warnings, evidence). Two kinds:

* :class:`StreamSource` — delimited text (csv/tsv/txt, compressed too) aligned by row
  order. pandas' C parser reads every file ``chunk_rows`` rows at a time, in lockstep;
  every chunk goes through the one chunk step (:class:`~losscli.data.pipeline.ChunkStep`)
  as a file read in one piece does: the first plans the columns and infers task and
  input kind, and every later chunk is read with the same plan and decisions: its cells
  are checked with their source row numbers, and values that contradict what the first
  chunk implied (probabilities leaving [0, 1], binary targets leaving {0, 1}) are a data
  error with a hint to state ``--logits``/``--task``. A row-count mismatch shows when one
  file ends before the other and names both counts.
* :class:`MemorySource` — one :class:`Dataset` read in one piece
  (:func:`~losscli.data.pipeline.read_whole`): Parquet/npy/npz
  (already fast), stdin, globs and directories, id joins, segmentation and embedding,
  and anything asked to be kept whole. When such an input is larger than one chunk, the
  report says so in its warnings ("read in memory: <reason>").

A file of at most ``chunk_rows`` rows is read in one chunk: the first chunk is then the
whole dataset, and the result is the in-memory one.
"""

from __future__ import annotations

import abc
import contextlib
import os
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli.data.align import row_count_error
from losscli.data.dataset import ChunkArrays, Dataset, TablePlan, plan_tables
from losscli.data.pipeline import (
    EVERY_ROW_LOCAL,
    ChunkStep,
    Pieces,
    Totals,
    chunk_step,
    column_selectors,
    finish_input,
    named_binary,
    read_whole,
    summarize,
    weight_table,
)
from losscli.data.readers import (
    COMPRESSIONS,
    STDIN,
    Selector,
    Table,
    TextFormat,
    choose_text_columns,
    empty_lines_note,
    frame_table,
    no_rows_error,
    parse_errors,
    split_ext,
    text_format,
    trailing_blank_lines,
    trailing_empty_rows,
)
from losscli.errors import DataError, UsageError
from losscli.options import ReadOptions

#: Rows per chunk by default: 1e6 rows parse as fast as one piece with pandas' C engine
#: and keep the peak near 170 MiB for two float columns (docs/scale.md).
DEFAULT_CHUNK_ROWS = 1_000_000
#: Tasks whose rows are independent once the task is known (segmentation groups pixel
#: rows into images; embedding losses compare rows with each other).
STREAM_TASKS = ("regression", "binary", "multiclass", "multilabel", "distribution", "detection")
#: Extensions read in one piece (binary formats load at memory speed).
_BINARY_EXTENSIONS = (".npy", ".npz", ".parquet", ".pq")

#: ``progress(bytes_read, total_bytes)`` of the predictions file.
Progress = Callable[[int, int], None]


# --------------------------------------------------------------------------- sources


@dataclass
class ReadInfo:
    """How the input was read: ``"stream"`` (in chunks) or ``"memory"`` (in one piece)."""

    mode: str
    chunk_rows: int
    chunks: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"mode": self.mode, "chunk_size": self.chunk_rows}
        if self.mode == "stream":
            d["chunks"] = self.chunks
        if self.reason:
            d["reason"] = self.reason
        return d


class Source(abc.ABC):
    """Chunks of one evaluation's rows, and the facts about the whole input."""

    #: The first chunk (or the whole dataset): task, input kind, columns, class names.
    first: Dataset
    info: ReadInfo

    @abc.abstractmethod
    def chunks(self) -> Iterator[Dataset]:
        """The chunks, first included (a second call reads the input again)."""

    _summary: Dataset | None = None

    def summary(self) -> Dataset:
        """After the chunks were consumed: ``first`` with the totals of the whole input
        (``n_samples`` through its rows, ``inputs``, ``warnings``, ``evidence``); its
        arrays are those of the first chunk only when streamed. Built once."""
        if self._summary is None:
            self._summary = self._summarize()
        return self._summary

    @abc.abstractmethod
    def _summarize(self) -> Dataset:
        """The summary of :meth:`summary` (called once)."""

    def _counting_pass(self) -> Iterator[Dataset]:
        """The chunks :meth:`class_counts` reads."""
        return self.chunks()

    def class_counts(self, n_classes: int, ignore_index: Any = None) -> np.ndarray:
        """Rows per class over the whole input (a pass of its own when streamed)."""
        from losscli.compute import class_counts

        total = np.zeros(n_classes, dtype=np.int64)
        for ds in self._counting_pass():
            if ds.target is not None:
                total += class_counts(ds.target, n_classes, ignore_index)
        return total

    def close(self) -> None:  # noqa: B027 - a source without open files has nothing to do
        """Release open files (idempotent)."""


class MemorySource(Source):
    """The whole dataset in one chunk."""

    def __init__(self, ds: Dataset, info: ReadInfo) -> None:
        self.first = ds
        self.info = info
        if info.reason and ds.n_samples > info.chunk_rows > 0:
            ds.warnings.append(f"read in memory: {info.reason}")

    def chunks(self) -> Iterator[Dataset]:
        yield self.first

    def _summarize(self) -> Dataset:
        return self.first

    @property
    def n_samples(self) -> int:
        return self.first.n_samples


# --------------------------------------------------------------------------- entry point


def open_source(
    preds: str,
    targets: str | None = None,
    opts: ReadOptions | None = None,
    *,
    chunk_rows: int | None = None,
    keep_whole: str | None = None,
    progress: Progress | None = None,
) -> Source:
    """Open the inputs of one evaluation as chunks (see the module docstring), read with
    the data flags ``opts`` (default: every column, task inferred).

    ``chunk_rows`` None means :data:`DEFAULT_CHUNK_ROWS`; 0 reads in one piece.
    ``keep_whole`` names a reason the caller needs every row at once (per-row arrays for
    plots, bootstrap intervals): the input is then read in memory.
    """
    opts = opts if opts is not None else ReadOptions()
    chunk = DEFAULT_CHUNK_ROWS if chunk_rows is None else int(chunk_rows)
    if chunk < 0:
        raise UsageError(f"--chunk-size must be ≥ 0, got {chunk}", hint="0 reads in one piece")
    reason = keep_whole or _memory_reason(preds, targets, chunk, opts)
    if reason is not None:
        return MemorySource(read_whole(preds, targets, opts), ReadInfo("memory", chunk, 1, reason))
    src = StreamSource(preds, targets, opts, chunk_rows=chunk, progress=progress)
    try:
        src.start()
    except _NotStreamable as exc:
        src.close()
        return MemorySource(
            read_whole(preds, targets, opts), ReadInfo("memory", chunk, 1, exc.reason)
        )
    except BaseException:
        src.close()
        raise
    return src


def _memory_reason(preds: str, targets: str | None, chunk: int, opts: ReadOptions) -> str | None:
    """Why these inputs are read in one piece, decided before reading (None: stream)."""
    if chunk == 0:
        return EVERY_ROW_LOCAL
    for path in (preds, targets):
        if path is None:
            continue
        if path == STDIN:
            return "standard input"
        if not os.path.isfile(path):
            return (
                "a directory or glob of files"
                if os.path.exists(path) or any(ch in path for ch in "*?[")
                else "no such file"
            )
        ext, comp = split_ext(path)
        if comp is None and ext in _BINARY_EXTENSIONS:
            return f"{ext} input (binary formats load in one piece at memory speed)"
        if comp is not None and comp not in COMPRESSIONS.values():  # pragma: no cover
            return f"{comp} compression"
    if opts.id_col:
        return "rows are joined on an id column (--id-col)"
    if opts.group_col:
        return "long-form segmentation groups pixel rows into images (--group-col)"
    if opts.task not in ("auto", *STREAM_TASKS):
        return _needs_every_row(opts.task)
    return None


def _needs_every_row(what: str | None) -> str:
    """Why inputs of a task (or embedding layout) are read in one piece."""
    return f"{what} losses need every row at once"


class _NotStreamable(Exception):
    """The first chunk showed that this input cannot be streamed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --------------------------------------------------------------------------- one file


class _FileChunks:
    """One delimited text file as DataFrames of at most ``chunk_rows`` rows.

    Yields ``(start, frame)``: ``start`` is the 0-based index of the frame's first data
    row. Empty lines at the end of a frame are held back until a later row shows they
    are interior (then they are rows with missing values, as in a one-piece read); at
    the end of the file they are dropped with the same note.
    """

    def __init__(
        self,
        path: str,
        select: Selector | None,
        chunk_rows: int,
        *,
        with_position: bool,
        opts: ReadOptions | None = None,
    ) -> None:
        import pandas as pd

        ext, comp = split_ext(path)
        self.path = path
        opts = opts if opts is not None else ReadOptions()
        self.fmt: TextFormat = text_format(
            path, path, comp, ext, header=opts.header, decimal=opts.decimal
        )
        self.chunk_rows = chunk_rows
        self.warnings: list[str] = []
        self.rows = 0  # data rows yielded so far
        # the predictions file is opened here so that its position shows the progress
        self._fh: Any = open(path, "rb") if with_position else None  # noqa: SIM115
        self.size = os.path.getsize(path)
        kwargs = self.fmt.read_kwargs(choose_text_columns(self.fmt, select))
        with parse_errors(self.fmt):
            self._reader = pd.read_csv(
                self._fh if self._fh is not None else path, chunksize=chunk_rows, **kwargs
            )

    def position(self) -> int:
        """Bytes of the file read so far (compressed bytes for compressed files)."""
        try:
            return int(self._fh.tell()) if self._fh is not None else 0
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        import pandas as pd

        fmt = self.fmt
        carry = None
        start = 0
        while True:
            with parse_errors(fmt):
                df = next(self._reader, None)
            if df is None:
                break
            df.columns = fmt.column_names(df)
            if carry is not None:
                df = pd.concat([carry, df], ignore_index=True)
                carry = None
            k = trailing_empty_rows(df)
            if k:
                carry, df = df.iloc[len(df) - k :], df.iloc[: len(df) - k]
            if len(df):
                self.rows = start + len(df)
                yield start, df
                start += len(df)
        if carry is not None:
            k = min(len(carry), trailing_blank_lines(fmt.source, fmt.comp))
            if k:
                self.warnings.append(empty_lines_note(fmt.name, k))
            rest = carry.iloc[: len(carry) - k]
            if len(rest):
                self.rows = start + len(rest)
                yield start, rest
                start += len(rest)
        if start == 0:
            raise no_rows_error(fmt)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._reader.close()
        if self._fh is not None:
            with contextlib.suppress(Exception):
                self._fh.close()
            self._fh = None


def _mismatch(files: list[_FileChunks], counts: list[int]) -> None:
    raise row_count_error(
        files[0].fmt.name,
        counts[0],
        files[1].fmt.name,
        counts[1],
        doubts=(files[0].fmt.header_doubt, files[1].fmt.header_doubt),
    )


class _Frames:
    """A file's frames with push-back (alignment splits a frame when files differ)."""

    def __init__(self, file: _FileChunks) -> None:
        self.file = file
        self._it = iter(file)
        self._buf: deque[tuple[int, Any]] = deque()

    def next(self) -> tuple[int, Any] | None:
        return self._buf.popleft() if self._buf else next(self._it, None)

    def push_front(self, frame: tuple[int, Any]) -> None:
        self._buf.appendleft(frame)

    def at_end(self) -> bool:
        if self._buf:
            return False
        nxt = next(self._it, None)
        if nxt is None:
            return True
        self._buf.append(nxt)
        return False

    def count(self, pending: tuple[int, Any] | None) -> int:
        """Rows of the file: read to its end to count them."""
        n = self.file.rows
        if pending is not None:
            n = pending[0] + len(pending[1])
        while (f := self.next()) is not None:
            n = f[0] + len(f[1])
        return n


# --------------------------------------------------------------------------- streams


class StreamSource(Source):
    """Delimited text files read in lockstep, ``chunk_rows`` rows at a time."""

    def __init__(
        self,
        preds: str,
        targets: str | None,
        opts: ReadOptions,
        *,
        chunk_rows: int,
        progress: Progress | None = None,
    ) -> None:
        self.preds, self.targets = preds, targets
        self.opts = opts
        self.chunk_rows = chunk_rows
        self.progress = progress
        self._sel = column_selectors(opts, targets is None)
        self._files: list[_FileChunks] = []
        self.step: ChunkStep | None = None
        self.info = ReadInfo("stream", chunk_rows)
        self._first_chunk: Dataset | None = None
        self._rest: Iterator[Dataset] | None = None
        self._totals = Totals()
        self._file_notes: list[str] = []
        self._file_rows: list[int] = []

    # ------------------------------------------------------------------ files

    def _open(self) -> list[_FileChunks]:
        sel_p, sel_t = self._sel
        files = [
            _FileChunks(self.preds, sel_p, self.chunk_rows, with_position=True, opts=self.opts)
        ]
        try:
            if self.targets is not None:
                files.append(
                    _FileChunks(
                        self.targets, sel_t, self.chunk_rows, with_position=False, opts=self.opts
                    )
                )
        except BaseException:
            files[0].close()
            raise
        return files

    def close(self) -> None:
        for f in self._files:
            f.close()
        self._files = []

    def _aligned(self, files: list[_FileChunks]) -> Iterator[list[tuple[int, Any]]]:
        """Frames of every file holding the same rows (alignment by row order)."""
        peeks = [_Frames(f) for f in files]
        first = True
        while True:
            frames = [p.next() for p in peeks]
            if all(f is None for f in frames):
                return
            if first and len(files) > 1:
                self._check_whole_counts(files, peeks, frames)
            first = False
            if any(f is None for f in frames):
                _mismatch(files, [p.count(f) for p, f in zip(peeks, frames)])
            yield _same_rows(peeks, frames)

    def _check_whole_counts(
        self, files: list[_FileChunks], peeks: list[_Frames], frames: list[Any]
    ) -> None:
        """When the whole input is in the first chunk, compare row counts before any row
        is used, as a one-piece read does."""
        if not all(f is not None and len(f[1]) < self.chunk_rows for f in frames):
            return
        if not all(p.at_end() for p in peeks):
            return
        sizes = [len(f[1]) for f in frames if f is not None]
        if len(set(sizes)) > 1:
            _mismatch(files, sizes)

    # ------------------------------------------------------------------ chunks

    def start(self) -> None:
        """Read the first chunk: plan the columns, infer task and input kind."""
        self._files = self._open()
        self._rest = self._chunks_from(self._files, first_pass=True)
        first = next(self._rest, None)
        if first is None:  # pragma: no cover - an input without rows raises before
            raise DataError(f"{self.preds}: no data rows")
        self._first_chunk = first

    def _chunks_from(self, files: list[_FileChunks], *, first_pass: bool) -> Iterator[Dataset]:
        totals = self._totals if first_pass else Totals()
        for frames in self._aligned(files):
            tables = [frame_table(f.fmt, df, start) for f, (start, df) in zip(files, frames)]
            step = self._step(tables)
            ttab = tables[1] if len(tables) > 1 else None
            ds = step.run(tables[0], ttab, totals, self._file_notes)
            if self.progress is not None and first_pass:
                self.progress(files[0].position(), files[0].size)
            if ds is not None:
                yield ds
        if first_pass:
            for f in files:
                totals.file_warnings.extend(f.warnings)
            self._file_rows = [f.rows for f in files]
            self._finish_totals()

    def _step(self, tables: list[Table]) -> ChunkStep:
        """The chunk step, planned on the first chunk's tables."""
        if self.step is not None:
            return self.step
        ptab = tables[0]
        ttab = tables[1] if len(tables) > 1 else None
        self._file_notes = [n for t in tables for n in t.notes]
        plan = plan_tables(ptab, ttab, self.opts)
        _check_streamable_plan(plan)
        self.step = chunk_step(self.opts, plan, vet=_vet_first)
        return self.step

    def chunks(self) -> Iterator[Dataset]:
        if self._rest is not None:
            assert self._first_chunk is not None
            rest, self._rest = self._rest, None
            yield self._first_chunk
            yield from rest
            return
        yield from self._reread()

    def _reread(self) -> Iterator[Dataset]:
        """Another pass: the files read again (the totals are those of the first)."""
        files = self._open()
        try:
            yield from self._chunks_from(files, first_pass=False)
        finally:
            for f in files:
                f.close()

    def _counting_pass(self) -> Iterator[Dataset]:
        """A pass of its own over the files, before the losses' pass."""
        return self._reread()

    def _finish_totals(self) -> None:
        assert self.step is not None
        files = self._files
        weights = weight_table(self.step.plan, files[0], files[1] if len(files) > 1 else None)
        finish_input(self._totals, self.step.plan, weights.fmt.name, self.preds)
        self.info.chunks = self._totals.chunks

    @property
    def first(self) -> Dataset:  # type: ignore[override]
        assert self._first_chunk is not None
        return self._first_chunk

    @property
    def n_samples(self) -> int:
        return self._totals.kept

    def _summarize(self) -> Dataset:
        """The first chunk's dataset carrying the totals of the whole input."""
        assert self.step is not None and self.step.decision is not None
        t = self._totals
        if t.chunks <= 1:
            self.info.mode = "memory"
        pieces = Pieces(
            t.chunks,
            how=f"read in {t.chunks} chunks of up to {self.chunk_rows} rows",
            first=f"the first {self.step.decision.rows} rows",
        )
        rows = {"predictions": self._file_rows[0], "targets": self._file_rows[-1]}
        return summarize(self.first, t, self.step.plan.roles.warnings, rows=rows, pieces=pieces)


def _same_rows(peeks: list[_Frames], frames: list[Any]) -> list[tuple[int, Any]]:
    """The rows every file's frame has; the rest of longer frames is pushed back."""
    n = min(len(f[1]) for f in frames if f is not None)
    out = []
    for p, f in zip(peeks, frames):
        assert f is not None
        start, df = f
        if len(df) > n:
            p.push_front((start + n, df.iloc[n:]))
            df = df.iloc[:n]
        out.append((start, df))
    return out


def _check_streamable_plan(plan: TablePlan) -> None:
    """Inputs whose columns show that rows are not independent are read in one piece."""
    if plan.roles.joined:
        raise _NotStreamable(f"rows are joined on the id column '{plan.roles.id_pred}'")
    if plan.layout.task not in (None, *STREAM_TASKS) or plan.layout.embedding:
        what = plan.layout.embedding or plan.layout.task
        raise _NotStreamable(_needs_every_row(what))


def _vet_first(ds: Dataset, arr: ChunkArrays) -> None:
    """The first chunk's decisions must be ones that later chunks can follow."""
    if ds.task not in STREAM_TASKS or ds.context.get("layout"):
        raise _NotStreamable(_needs_every_row(ds.task))
    if named_binary(ds, arr):
        raise _NotStreamable("binary targets are class names")


__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "MemorySource",
    "ReadInfo",
    "Source",
    "StreamSource",
    "open_source",
]
