"""Prediction and target files read in chunks of rows, with bounded memory.

:func:`open_source` returns a :class:`Source`: an iterator of
:class:`~losscli.data.Dataset` chunks that share task, columns and input kind, plus what
a report says about the whole input (rows, warnings, evidence). Two kinds:

* :class:`StreamSource` — every layout that streams, aligned by row order: delimited
  text (csv/tsv/txt, compressed too; pyarrow's multi-threaded reader on whole-line
  pieces, each file on a thread of its own, one chunk ahead), Parquet (by row group),
  ``.npy`` (memory-mapped, sliced) and globs or directories of those (file by file).
  Every file is read ``chunk_rows`` rows at a time, in lockstep;
  every chunk goes through the one chunk step (:class:`~losscli.data.pipeline.ChunkStep`)
  as a file read in one piece does: the first plans the columns and infers task and
  input kind, and every later chunk is read with the same plan and decisions: its cells
  are checked with their source row numbers, and values that contradict what the first
  chunk implied (probabilities leaving [0, 1], binary targets leaving {0, 1}) are a data
  error with a hint to state ``--logits``/``--task``. A row-count mismatch shows when one
  file ends before the other and names both counts.
* :class:`MemorySource` — one :class:`Dataset` read in one piece
  (:func:`~losscli.data.pipeline.read_whole`): stdin, ``.npz``, N-d arrays, id joins,
  segmentation and embedding, and anything asked to be kept whole. When such an input
  is larger than one chunk, the report says so in its warnings ("read in memory:
  <reason>").

A file of at most ``chunk_rows`` rows is read in one chunk: the first chunk is then the
whole dataset, and the result is the in-memory one.
"""

from __future__ import annotations

import abc
import contextlib
import mmap
import os
import queue
import threading
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
    DATA_EXTENSIONS,
    STDIN,
    STDIN_NAME,
    ArrowText,
    Selector,
    Table,
    TextFormat,
    array_table,
    arrow_path,
    arrow_rows_table,
    arrow_text_ok,
    check_same_columns,
    choose_columns,
    choose_text_columns,
    concat_rows,
    empty_lines_note,
    files_phrase,
    frame_table,
    list_data_files,
    load_npy_mapped,
    no_rows_error,
    parquet_error,
    parquet_index_columns,
    parse_errors,
    slice_rows,
    split_ext,
    stdin_spool,
    text_format,
    text_positions,
    trailing_blank_lines,
    trailing_missing_rows,
)
from losscli.errors import DataError, UsageError
from losscli.options import ReadOptions

#: Rows per chunk by default: 1e6 rows parse as fast as one piece and keep the peak
#: near that of the reader's buffers for two float columns (docs/scale.md).
DEFAULT_CHUNK_ROWS = 1_000_000
#: Tasks whose rows are independent once the task is known (segmentation groups pixel
#: rows into images; embedding losses compare rows with each other).
STREAM_TASKS = ("regression", "binary", "multiclass", "multilabel", "distribution", "detection")

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
            if not stdin_spool().text:
                return "standard input holding an array file (.npy, Parquet or .npz)"
            continue
        try:
            files = list_data_files(path, hint="")
        except DataError:
            return "no such file"  # the one-piece read reports it
        for f in files if files is not None else [path]:
            reason = _file_memory_reason(f)
            if reason is not None:
                return reason
    if opts.id_col:
        return "rows are joined on an id column (--id-col)"
    if opts.group_col:
        return "long-form segmentation groups pixel rows into images (--group-col)"
    if opts.task not in ("auto", *STREAM_TASKS):
        return _needs_every_row(opts.task)
    return None


def _file_memory_reason(path: str) -> str | None:
    """Why one file is read in one piece (None: it streams)."""
    if not os.path.isfile(path):
        return "no such file"
    ext, comp = split_ext(path)
    if comp is None and ext == ".npz":
        return ".npz input (an archive's arrays load in one piece)"
    if comp is None and ext == ".npy":
        try:
            arr = load_npy_mapped(path)
        except DataError:
            return "no such file"  # the one-piece read reports it
        if arr.ndim >= 3:
            return "N-d arrays (masks) are read whole"
    if comp is not None and comp not in COMPRESSIONS.values():  # pragma: no cover
        return f"{comp} compression"
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
    """One delimited text file as :class:`Table` chunks of at most ``chunk_rows`` rows.

    Parsed by pyarrow's multi-threaded reader (pandas' C parser for layouts only it reads,
    e.g. whitespace-separated columns) on a thread of its own, one chunk ahead: the files
    of a pair are parsed at the same time, and while the losses of a chunk are computed;
    each chunk becomes a :class:`Table` on the reading side.
    Yields ``(start, table)``: ``start`` is the 0-based index of the table's first data
    row. Empty lines at the end of a chunk are held back until a later row shows they
    are interior (then they are rows with missing values, as in a one-piece read); at
    the end of the file they are dropped with the same note.
    """

    def __init__(
        self,
        path: str,
        select: Selector | None,
        chunk_rows: int,
        opts: ReadOptions | None = None,
        *,
        name: str | None = None,
    ) -> None:
        ext, comp = split_ext(path)
        self.path = path
        opts = opts if opts is not None else ReadOptions()
        self.fmt: TextFormat = text_format(
            name or path, path, comp, ext, header=opts.header, decimal=opts.decimal
        )
        self.name = self.fmt.name
        self.chunk_rows = chunk_rows
        self.warnings: list[str] = []
        self.rows = 0  # data rows yielded so far
        self.size = os.path.getsize(path)
        self._arrow: ArrowText | None = None
        self._pandas: Any = None
        if arrow_text_ok(self.fmt):
            self._arrow = ArrowText(self.fmt, text_positions(self.fmt, select))
            raw: Iterator[tuple[int, Any]] = self._arrow.chunks(chunk_rows)
        else:
            raw = self._pandas_chunks(select)
        self._ahead = _Ahead(raw)

    def _pandas_chunks(self, select: Selector | None) -> Iterator[tuple[int, Any]]:
        import pandas as pd

        fmt = self.fmt
        kwargs = fmt.read_kwargs(choose_text_columns(fmt, select))
        # the file is opened here so that its position shows the progress
        self._pandas = open(self.path, "rb")  # noqa: SIM115 - closed by close()
        with parse_errors(fmt):
            reader = pd.read_csv(self._pandas, chunksize=self.chunk_rows, **kwargs)
        start = 0
        with contextlib.closing(reader):
            while True:
                with parse_errors(fmt):
                    df = next(reader, None)
                if df is None:
                    return
                df.columns = fmt.column_names(df)
                yield start, df
                start += len(df)

    def position(self) -> int:
        """Bytes of the file read so far (compressed bytes for compressed files)."""
        if self._arrow is not None:
            return self._arrow.position()
        try:
            return int(self._pandas.tell()) if self._pandas is not None else 0
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[tuple[int, Table]]:
        fmt = self.fmt
        carry: Table | None = None
        start = 0
        for at, rows in self._ahead:
            # made a Table here: arrays allocated on this thread's heap are reused by the
            # losses, rather than kept free in the reading thread's arena
            if self._arrow is not None:
                tab = self._arrow.table(at, rows)
            else:
                tab = frame_table(fmt, rows, at)
            del rows  # the parsed chunk is freed while its table is used
            if carry is not None:
                tab = concat_rows([carry, tab])
                carry = None
            n = tab.n_rows
            k = trailing_missing_rows(tab)
            if k:
                carry, tab = slice_rows(tab, n - k, n), slice_rows(tab, 0, n - k)
            if tab.n_rows:
                self.rows = start + tab.n_rows
                yield start, tab
                start += tab.n_rows
            del tab  # freed before the next chunk becomes a table
        if carry is not None:
            k = min(carry.n_rows, trailing_blank_lines(fmt.source, fmt.comp))
            if k:
                self.warnings.append(empty_lines_note(fmt.name, k))
            rest = slice_rows(carry, 0, carry.n_rows - k)
            if rest.n_rows:
                self.rows = start + rest.n_rows
                yield start, rest
                start += rest.n_rows
        if start == 0:
            raise no_rows_error(fmt)

    def close(self) -> None:
        self._ahead.close()
        if self._pandas is not None:
            with contextlib.suppress(Exception):
                self._pandas.close()
            self._pandas = None


class _Ahead:
    """An iterator run on a thread of its own, one item ahead of its reader.

    pyarrow and pandas release the GIL while they parse, so the files of a pair are
    parsed at the same time, and the next chunk while the current one is computed.
    Errors are raised to the reader, in order.
    """

    def __init__(self, items: Iterator[Any], depth: int = 1) -> None:
        self._q: queue.Queue[tuple[str, Any]] = queue.Queue()
        # a slot per item made ahead: the next item is made only once the reader took
        # the previous one (at most ``depth`` items exist beyond the reader's)
        self._slots = threading.Semaphore(depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._run, args=(items,), daemon=True)
        self._thread.start()

    def _run(self, items: Iterator[Any]) -> None:
        it = iter(items)
        try:
            while self._slot():
                try:
                    item = next(it)
                except StopIteration:
                    self._q.put(("end", None))
                    return
                self._q.put(("item", item))
        except BaseException as exc:  # handed to the reader
            self._q.put(("error", exc))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    close()

    def _slot(self) -> bool:
        while not self._stop.is_set():
            if self._slots.acquire(timeout=0.05):
                return not self._stop.is_set()
        return False

    def __iter__(self) -> Iterator[Any]:
        return self

    def __next__(self) -> Any:
        if self._done:
            raise StopIteration
        kind, value = self._q.get()
        if kind == "item":
            self._slots.release()
            return value
        self._done = True
        if kind == "error":
            raise value
        raise StopIteration

    def close(self) -> None:
        self._stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                self._q.get_nowait()
        self._thread.join(timeout=5)


class _ParquetChunks:
    """A Parquet file read a batch of row groups at a time (``ParquetFile.iter_batches``):
    the same columns, kinds and row numbers as a one-piece read."""

    def __init__(self, path: str, select: Selector | None, chunk_rows: int) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = self.name = path
        self.warnings: list[str] = []
        self.rows = 0
        self.size = os.path.getsize(path)
        try:
            self._pf = pq.ParquetFile(arrow_path(path))
        except (pa.ArrowException, OSError) as exc:
            raise parquet_error(path, exc) from None
        self.names = list(self._pf.schema_arrow.names)
        self.index = parquet_index_columns(self._pf)
        self.chosen = choose_columns(select, self.names)
        self.total = self._pf.metadata.num_rows
        self.chunk_rows = chunk_rows
        self._ahead = _Ahead(self._batches())

    def _batches(self) -> Iterator[tuple[int, Any]]:
        import pyarrow as pa

        start = 0
        it = self._pf.iter_batches(batch_size=self.chunk_rows, columns=self.chosen)
        while True:
            try:
                batch = next(it, None)
            except (pa.ArrowException, OSError) as exc:
                raise parquet_error(self.path, exc) from None
            if batch is None:
                return
            if batch.num_rows:
                yield start, batch
                start += batch.num_rows

    def position(self) -> int:
        return int(self.size * self.rows / self.total) if self.total else 0

    def __iter__(self) -> Iterator[tuple[int, Table]]:
        for start, batch in self._ahead:
            tab = arrow_rows_table(
                self.path, self.names, self.chosen, batch, start, index_columns=self.index
            )
            self.rows = start + tab.n_rows
            yield start, tab
        if self.rows == 0:
            raise DataError(f"{self.path}: no data rows")

    def close(self) -> None:
        self._ahead.close()
        with contextlib.suppress(Exception):
            self._pf.close()


class _ArrayChunks:
    """An ``.npy`` file memory-mapped and sliced ``chunk_rows`` rows at a time (1-D,
    2-D and structured arrays; the pages read are the operating system's to drop)."""

    def __init__(self, path: str, select: Selector | None, chunk_rows: int) -> None:
        self.path = self.name = path
        self.warnings: list[str] = []
        self.rows = 0
        self.size = os.path.getsize(path)
        self.select = select
        self.chunk_rows = chunk_rows
        self.arr = load_npy_mapped(path)

    def position(self) -> int:
        n = self.arr.shape[0] if self.arr.ndim else 0
        return int(self.size * self.rows / n) if n else 0

    def __iter__(self) -> Iterator[tuple[int, Table]]:
        arr = self.arr
        if arr.ndim == 0 or arr.shape[0] == 0:
            array_table(self.path, arr, self.select)  # the error of a one-piece read
            return
        for start in range(0, arr.shape[0], self.chunk_rows):
            tab = array_table(self.path, arr[start : start + self.chunk_rows], self.select)
            tab.row_numbers = tab.row_numbers + start
            self.rows = start + tab.n_rows
            yield start, tab
            del tab
            self._drop_pages(start, self.rows)

    def _drop_pages(self, start: int, stop: int) -> None:
        """Rows ``start:stop`` are done: their pages leave this process's resident memory
        (they stay in the page cache, and are read again if a row is used later), so the
        peak does not grow with the file (two 40M-row files: 718 → 107 MiB)."""
        arr = self.arr
        mm = getattr(arr, "_mmap", None)
        if mm is None or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_DONTNEED"):
            return
        if not arr.flags.c_contiguous or arr.ndim == 0:
            return
        offset = int(getattr(arr, "offset", 0))
        base = offset - offset % mmap.ALLOCATIONGRANULARITY  # where numpy's map starts
        row = arr.strides[0]
        lo = offset - base + start * row
        lo -= lo % mmap.PAGESIZE
        hi = offset - base + stop * row
        with contextlib.suppress(OSError, ValueError):
            mm.madvise(mmap.MADV_DONTNEED, lo, hi - lo)

    def close(self) -> None:
        self.arr = None  # type: ignore[assignment]


class _ManyChunks:
    """A glob or directory read file by file, in natural order, as one dataset: row
    numbers are each file's own, ``file_index`` says which file a row is from."""

    def __init__(
        self,
        pattern: str,
        files: list[str],
        select: Selector | None,
        chunk_rows: int,
        opts: ReadOptions | None = None,
    ) -> None:
        self.opts = opts
        self.path = self.name = pattern
        self.files = files
        self.select = select
        self.chunk_rows = chunk_rows
        self.warnings: list[str] = []
        self.rows = 0
        self.sizes = [os.path.getsize(f) for f in files]
        self.size = sum(self.sizes)
        self._done_bytes = 0
        self._current: _Chunks | None = None
        self._columns: list[str] | None = None
        self._first_file = files[0]

    def position(self) -> int:
        cur = self._current.position() if self._current is not None else 0
        return self._done_bytes + cur

    def __iter__(self) -> Iterator[tuple[int, Table]]:
        start = 0
        header_note = None
        for i, f in enumerate(self.files):
            part = open_chunks(f, self.select, self.chunk_rows, many=False, opts=self.opts)
            self._current = part
            try:
                for _, tab in part:
                    if len(self.files) == 1:  # as a one-piece read: the pattern's table
                        tab.path = self.path
                        self.rows = start + tab.n_rows
                        yield start, tab
                        start += tab.n_rows
                        continue
                    self._check_columns(tab)
                    if not tab.header and header_note is None and tab.tensor is None:
                        header_note = tab.notes[0] if tab.notes else "files have no header row"
                    tab.path = self.path
                    tab.files = self.files
                    tab.file_index = np.full(tab.n_rows, i, dtype=np.int32)
                    tab.notes = [
                        *([header_note] if header_note else []),
                        f"{self.path}: read {len(self.files)} files as one dataset, in natural "
                        f"order (numbers in names compared by value): {files_phrase(self.files)}",
                    ]
                    self.rows = start + tab.n_rows
                    yield start, tab
                    start += tab.n_rows
                self.warnings.extend(part.warnings)
            finally:
                part.close()
                self._current = None
            self._done_bytes += self.sizes[i]

    def _check_columns(self, tab: Table) -> None:
        if self._columns is None:
            self._columns = list(tab.all_columns)
            self._first_file = tab.files[0]
            return
        check_same_columns(self.path, self._columns, self._first_file, tab)

    def close(self) -> None:
        if self._current is not None:
            self._current.close()
            self._current = None


_Chunks = _FileChunks | _ParquetChunks | _ArrayChunks | _ManyChunks


def open_chunks(
    path: str,
    select: Selector | None,
    chunk_rows: int,
    *,
    many: bool = True,
    opts: ReadOptions | None = None,
) -> _Chunks:
    """The chunk reader of one input: a text, Parquet or ``.npy`` file, or (``many``) a
    glob or directory of them; ``opts`` carries the text settings (header, decimal)."""
    if path == STDIN:  # delimited text piped in, read from its spool like a file
        return _FileChunks(stdin_spool().path, select, chunk_rows, opts, name=STDIN_NAME)
    if many:
        files = list_data_files(path, hint="expected files ending in " + ", ".join(DATA_EXTENSIONS))
        if files is not None:
            return _ManyChunks(path, files, select, chunk_rows, opts)
    ext, comp = split_ext(path)
    if comp is None and ext in (".parquet", ".pq"):
        return _ParquetChunks(path, select, chunk_rows)
    if comp is None and ext == ".npy":
        return _ArrayChunks(path, select, chunk_rows)
    return _FileChunks(path, select, chunk_rows, opts)


def _mismatch(files: list[_Chunks], counts: list[int]) -> None:
    doubts = tuple(getattr(getattr(f, "fmt", None), "header_doubt", None) for f in files[:2])
    raise row_count_error(files[0].name, counts[0], files[1].name, counts[1], doubts=doubts)


class _Frames:
    """A file's frames with push-back (alignment splits a frame when files differ)."""

    def __init__(self, file: _Chunks) -> None:
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
            n = pending[0] + pending[1].n_rows
        while (f := self.next()) is not None:
            n = f[0] + f[1].n_rows
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
        self._files: list[_Chunks] = []
        self.step: ChunkStep | None = None
        self.info = ReadInfo("stream", chunk_rows)
        self._first_chunk: Dataset | None = None
        self._rest: Iterator[Dataset] | None = None
        self._totals = Totals()
        self._file_notes: list[str] = []
        self._file_rows: list[int] = []

    # ------------------------------------------------------------------ files

    def _open(self) -> list[_Chunks]:
        sel_p, sel_t = self._sel
        files = [open_chunks(self.preds, sel_p, self.chunk_rows, opts=self.opts)]
        try:
            if self.targets is not None:
                files.append(open_chunks(self.targets, sel_t, self.chunk_rows, opts=self.opts))
        except BaseException:
            files[0].close()
            raise
        return files

    def close(self) -> None:
        for f in self._files:
            f.close()
        self._files = []

    def _aligned(self, files: list[_Chunks]) -> Iterator[list[tuple[int, Any]]]:
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
            del frames

    def _check_whole_counts(
        self, files: list[_Chunks], peeks: list[_Frames], frames: list[Any]
    ) -> None:
        """When the whole input is in the first chunk, compare row counts before any row
        is used, as a one-piece read does."""
        if not all(f is not None and f[1].n_rows < self.chunk_rows for f in frames):
            return
        if not all(p.at_end() for p in peeks):
            return
        sizes = [f[1].n_rows for f in frames if f is not None]
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

    def _chunks_from(self, files: list[_Chunks], *, first_pass: bool) -> Iterator[Dataset]:
        totals = self._totals if first_pass else Totals()
        for frames in self._aligned(files):
            tables = [tab for _, tab in frames]
            step = self._step(tables)
            ttab = tables[1] if len(tables) > 1 else None
            ds = step.run(tables[0], ttab, totals, self._file_notes)
            if self.progress is not None and first_pass:
                self.progress(files[0].position(), files[0].size)
            if ds is not None:
                yield ds
            # this chunk's arrays are freed before the next is made (memory reused)
            del frames, tables, ttab, ds
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
        finish_input(self._totals, self.step.plan, weights.name, self.preds)
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
    n = min(f[1].n_rows for f in frames if f is not None)
    out = []
    for p, f in zip(peeks, frames):
        assert f is not None
        start, tab = f
        if tab.n_rows > n:
            p.push_front((start + n, slice_rows(tab, n, tab.n_rows)))
            tab = slice_rows(tab, 0, n)
        out.append((start, tab))
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
