"""Files → column arrays.

One entry point, :func:`read_table`, reads any supported input into a :class:`Table`:
named 1-D columns (``float64``/``int64`` for numbers, ``object`` for text), the
1-based source row number of every row, and — for N-d arrays — a tensor.

Formats by extension (SPEC §5):

* ``.csv`` ``.tsv`` ``.txt`` (delimiter sniffed: tab, semicolon, comma, whitespace),
  each optionally ``.gz`` ``.bz2`` ``.zip`` ``.xz``; unknown extensions are read as
  delimited text too. Parsed by pyarrow's multi-threaded CSV reader (:class:`ArrowText`:
  every core, and the GIL released, so that two files parse at once), with pandas'
  NA strings and row numbers; pandas' C engine only for what pyarrow cannot read the
  same way (whitespace-separated columns, settings only pandas has). A line longer than
  :data:`MAX_LINE_BYTES` is a data error naming it. Neither path imports pandas unless
  pandas parses: pyarrow results become NumPy through compute kernels and buffer views
  (``Array.to_numpy`` and Python scalars would import it).
* ``.parquet`` through ``pyarrow.parquet.ParquetFile(...).read()`` and a buffer view,
  which does not import pandas (``pq.read_table`` and ``Array.to_numpy`` do).
* ``.npy`` memory-mapped (1-D → one column, 2-D → one column per position, structured
  → one column per field, ndim ≥ 3 → tensor); ``.npz`` (``pred``/``predictions`` and
  ``target``/``targets`` arrays, or every array as a column).
* ``-``: CSV (or gzip/npy/Parquet, recognised by their magic bytes) on stdin.
* A quoted glob or a directory: every matching file in natural order (digit runs compare
  as numbers: ``9.csv`` before ``10.csv``), one dataset.

Header detection (SPEC §5, ``--header auto|yes|no``, :func:`losscli.data.sniff.decide_header`):
a first line with any text cell is a header; the integers 0, 1, …, k−1 (pandas' names for
an unnamed frame) are a header when the rows below are not integer-only; any other
numeric first line is data, and the columns are named ``"0"``, ``"1"``, … by position.
Row numbers are the ones a spreadsheet shows (the header is row 1).

Bounds (docs/security.md): a text line longer than :data:`MAX_LINE_BYTES` (environment
variable ``LOSSCLI_MAX_LINE_BYTES`` raises it) is a data error naming the line, found
while peeking at the first lines and while decompressing standard input; compressed
inputs are streamed, never decompressed whole; an ``.npy`` header is checked against the
bytes that follow it before anything is allocated.
"""

from __future__ import annotations

import atexit
import bz2
import contextlib
import csv
import fnmatch
import glob
import gzip
import io
import lzma
import os
import re
import sys
import tempfile
import warnings
import weakref
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np

from losscli.data.sniff import (
    decide_header,
    decimal_comma_problem,
    is_number,
    not_text_problem,
)
from losscli.errors import DataError

#: Extensions read as delimited text (before an optional compression suffix).
TEXT_EXTENSIONS = (".csv", ".tsv", ".txt")
#: Compression suffixes and the pandas name of each.
COMPRESSIONS = {".gz": "gzip", ".bz2": "bz2", ".zip": "zip", ".xz": "xz"}
#: Every extension a directory scan picks up.
DATA_EXTENSIONS = (*TEXT_EXTENSIONS, ".parquet", ".pq", ".npy", ".npz")
#: Array names of an ``.npz`` that hold predictions / targets.
PRED_KEYS = ("pred", "preds", "prediction", "predictions")
TARGET_KEYS = ("target", "targets")

STDIN = "-"
STDIN_NAME = "<stdin>"
_PEEK_BYTES = 1 << 16
#: Longest line of a text input, in bytes (1 MiB: a row of 50,000 numbers). A longer
#: line is a data error naming it; the environment variable ``LOSSCLI_MAX_LINE_BYTES``
#: raises the limit. pyarrow parses text in blocks, and a row must fit in one.
MAX_LINE_BYTES = 1 << 20
MAX_LINE_ENV = "LOSSCLI_MAX_LINE_BYTES"
#: Lines looked at to decide the header (SPEC §5: "the rest of the file").
_HEADER_LINES = 1000
_SNIFF_LINES = 50
_UTF8_HINT = (
    "re-encode it as UTF-8, e.g. `iconv -f latin1 -t utf-8 FILE > FILE.utf8.csv` "
    "(or File › Save As › CSV UTF-8 in a spreadsheet)"
)

#: A column selector: all column names of a file → the names to read (file order).
Selector = Callable[[Sequence[str]], list[str]]


@dataclass
class Table:
    """Columns read from one input (a file, stdin, or several same-schema files).

    ``columns`` maps names to 1-D arrays: ``float64``/``int64`` for numbers, ``object``
    (str, or None for a missing cell) for text. ``text`` names the columns whose every
    non-missing cell is text (class names, ids); ``mixed`` the columns where numbers
    and text meet (an error wherever a number is needed). ``row_numbers`` are 1-based
    source rows as a spreadsheet shows them; ``file_index`` says which of ``files`` a
    row came from when there are several. ``tensor`` holds an N-d array instead of
    columns (segmentation masks).
    """

    path: str
    files: list[str]
    columns: dict[str, np.ndarray] = field(default_factory=dict)
    all_columns: list[str] = field(default_factory=list)
    text: set[str] = field(default_factory=set)
    mixed: set[str] = field(default_factory=set)
    row_numbers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    file_index: np.ndarray | None = None
    binary: bool = False
    header: bool = True
    #: What to say about the first row when two files' row counts differ by one (it
    #: was read as data but could be a header, or the other way round); None: no doubt.
    header_doubt: str | None = None
    tensor: np.ndarray | None = None
    companion: Table | None = None
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: A 2-D float64 array whose columns are ``block_columns`` (npy input), so that
    #: asking for exactly those columns needs no copy.
    block: np.ndarray | None = None
    block_columns: list[str] = field(default_factory=list)
    #: Columns the writer stored as the frame's index (a Parquet file's pandas metadata).
    index_columns: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        if self.tensor is not None:
            return int(self.tensor.shape[0])
        return int(self.row_numbers.shape[0])

    @property
    def name(self) -> str:
        """Display name: the path as given."""
        return self.path

    def kind(self, col: str) -> str:
        """``"numeric"``, ``"text"`` or ``"mixed"``."""
        if col in self.text:
            return "text"
        if col in self.mixed:
            return "mixed"
        return "numeric"

    # ------------------------------------------------------------------ rows

    def where(self, positions: np.ndarray | Sequence[int]) -> list[tuple[str, int]]:
        """(file, 1-based row) of each row position."""
        pos = np.asarray(positions, dtype=np.int64)
        rows = self.row_numbers[pos] if self.row_numbers.size else pos + 1
        if self.file_index is None:
            return [(self.files[0], int(r)) for r in rows]
        return [
            (self.files[int(f)], int(r)) for f, r in zip(self.file_index[pos], rows, strict=True)
        ]

    def rows_phrase(
        self,
        positions: np.ndarray | Sequence[int],
        *,
        total: int | None = None,
        noun: str = "row",
    ) -> str:
        """``"rows 5, 9, 12"`` (with file names when the table spans several files)."""
        pos = list(np.asarray(positions, dtype=np.int64))
        return places_phrase(
            self.where(pos),
            binary=self.binary,
            several_files=len(self.files) > 1,
            total=total,
            noun=noun,
        )

    # ------------------------------------------------------------------ columns

    def numeric(self, col: str, *, role: str = "a numeric") -> np.ndarray:
        """Column ``col`` as float64; text cells raise a DataError naming row and value."""
        arr = self.columns[col]
        if arr.dtype != object:
            return arr if arr.dtype == np.float64 else arr.astype(np.float64)
        out, bad = _floats(arr)
        if not bad:
            return out
        values = [str(arr[i]) for i in bad[:5]]
        raise non_numeric_error(self, col, bad, values, role=role)

    def matrix(self, cols: Sequence[str], *, role: str = "a numeric") -> np.ndarray:
        """Columns ``cols`` as one float64 array of shape (n, len(cols)), C-contiguous;
        one column is a read-only view of it instead of a copy (strided when the table
        is a column of a 2-D array)."""
        cols = list(cols)
        if self.block is not None and cols == self.block_columns:
            return self.block
        n = self.n_rows
        if len(cols) == 1:
            view = self.numeric(cols[0], role=role).reshape(n, 1)
            view.flags.writeable = False
            return view
        out = np.empty((n, len(cols)), dtype=np.float64)
        for j, c in enumerate(cols):
            out[:, j] = self.numeric(c, role=role)
        return out


def places_phrase(
    places: Sequence[tuple[str, int]],
    *,
    binary: bool,
    several_files: bool,
    total: int | None = None,
    noun: str = "row",
) -> str:
    """``"rows 5, 9, 12"`` from (file, 1-based row) pairs, with file names when the rows
    come from several files and the total when more rows than those listed are meant."""
    total = len(places) if total is None else total
    groups: dict[str, list[int]] = {}
    for f, r in places:
        groups.setdefault(f, []).append(r)
    parts = []
    for f, rows in groups.items():
        text = _rows_text(rows, binary=binary, noun=noun)
        parts.append(f"{text} of {f}" if several_files else text)
    phrase = "; ".join(parts)
    if total > len(places):
        phrase += f" ({total} {noun}s in all)"
    return phrase


def _rows_text(rows: list[int], *, binary: bool, noun: str = "row") -> str:
    word = noun if len(rows) == 1 else noun + "s"
    text = f"{word} " + ", ".join(str(r) for r in rows)
    if binary:
        idx = ", ".join(str(r - 1) for r in rows)
        text += f" (index {idx})" if len(rows) == 1 else f" (indices {idx})"
    return text


def non_numeric_error(
    table: Table, col: str, bad: Sequence[int], values: Sequence[str], *, role: str
) -> DataError:
    """DataError for text cells in a column used as numbers."""
    first = list(bad[:5])
    shown = ", ".join(repr(v) for v in values[: len(first)])
    if len(first) == 1:
        msg = f"{table.name}: column '{col}', {table.rows_phrase(first)}: {shown} is not a number"
    else:
        msg = (
            f"{table.name}: column '{col}' holds text where numbers are needed, at "
            f"{table.rows_phrase(first, total=len(bad))}: {shown}"
        )
    hint = f"'{col}' is used as {role} column and may hold numbers only"
    if any(re.fullmatch(r"\s*-?\d+,\d+\s*", v) for v in values):
        hint += "; for decimal commas (European exports) pass --decimal ,"
    elif col in table.text:
        hint = f"every cell of '{col}' is text; choose numeric columns with --pred-col/--target-col"
    else:
        hint += "; empty cells, NA and NaN count as missing — fix or remove those cells"
    return DataError(msg, hint=hint)


# --------------------------------------------------------------------------- entry point


@dataclass(frozen=True)
class TextOptions:
    """How text inputs are read: ``--header`` (auto, yes, no) and ``--decimal`` ("." or
    ","; None: "." unless the file reads as decimal commas, then refused)."""

    header: str = "auto"
    decimal: str | None = None


def read_table(
    path: str,
    *,
    select: Selector | None = None,
    role: str = "predictions",
    header: str = "auto",
    decimal: str | None = None,
) -> Table:
    """Read ``path`` (file, ``-``, glob or directory) into a :class:`Table`.

    ``select`` picks the columns to read from the full list of a file's columns
    (``None`` reads every column). ``role`` (``"predictions"`` or ``"targets"``) picks
    the array of an ``.npz`` that holds both. ``header`` and ``decimal`` are
    ``--header`` and ``--decimal`` (text inputs only).
    """
    text = TextOptions(header, decimal)
    if path == STDIN:
        return _read_stdin(select, role, text)
    files = list_data_files(path, hint="expected files ending in " + ", ".join(DATA_EXTENSIONS))
    if files is not None:
        return _read_many(path, files, select, role, text)
    return _read_file(path, select, role, text)


def list_data_files(path: str, *, hint: str) -> list[str] | None:
    """The data files of a directory or glob ``path``, in natural order (None when
    ``path`` is neither: one file to read as it is). ``hint`` says what was expected
    when there is none."""
    p = Path(path)
    if p.is_dir():
        files = sorted(
            (
                str(f)
                for f in p.iterdir()
                if f.is_file() and not f.name.startswith((".", "_")) and is_data_file(f.name)
            ),
            key=natural_key,
        )
        if not files:
            raise DataError(f"{path}: directory holds no data files", hint=hint)
        return files
    if not p.exists() and any(ch in path for ch in "*?["):
        files = sorted((f for f in glob.glob(path) if os.path.isfile(f)), key=natural_key)
        if not files:
            raise DataError(
                f"{path}: no file matches this pattern",
                hint="check the pattern; quote it so that the shell does not expand it",
            )
        return files
    return None


_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int, str], ...]:
    """Sort key comparing digit runs as numbers: ``part9.csv`` before ``part10.csv``.

    Each piece is ``(0, number, text)`` for a digit run and ``(1, 0, text)`` otherwise,
    so pieces always compare with pieces of the same kind; ``text`` breaks ties
    (``07`` vs ``7``).
    """
    return tuple(
        (0, int(piece), piece) if piece.isdecimal() else (1, 0, piece)
        for piece in _DIGITS.split(name)
        if piece
    )


def files_phrase(files: Sequence[str], n: int = 3) -> str:
    """``a1.csv, a2.csv, …, a10.csv`` (base names, first ``n`` and the last)."""
    names = [os.path.basename(f) or f for f in files]
    if len(names) <= n + 1:
        return ", ".join(names)
    return ", ".join(names[:n]) + ", …, " + names[-1]


def is_data_file(name: str) -> bool:
    low = name.lower()
    for comp in COMPRESSIONS:
        if low.endswith(comp):
            low = low[: -len(comp)]
            break
    return low.endswith(DATA_EXTENSIONS)


def split_ext(path: str) -> tuple[str, str | None]:
    """(base extension, compression) of a file name."""
    low = os.path.basename(path).lower()
    comp = None
    for suffix, name in COMPRESSIONS.items():
        if low.endswith(suffix):
            comp = name
            low = low[: -len(suffix)]
            break
    return os.path.splitext(low)[1], comp


def _read_file(
    path: str, select: Selector | None, role: str, text: TextOptions = TextOptions()
) -> Table:
    p = Path(path)
    if not p.exists():
        parent = p.parent if str(p.parent) else Path(".")
        hint = "check the path"
        if parent.is_dir():
            near = _near_names(p.name, [f.name for f in parent.iterdir()])
            if near:
                hint = f"did you mean {near}?"
        raise DataError(f"{path}: no such file", hint=hint)
    if p.is_dir():
        raise DataError(f"{path}: is a directory with no readable files")
    if not os.access(path, os.R_OK):
        raise DataError(f"{path}: permission denied", hint="check the file's permissions")
    ext, comp = split_ext(path)
    if comp is None:
        if ext == ".npy":
            return _read_npy(path, load_npy_mapped(path), select)
        if ext == ".npz":
            return _read_npz(path, select, role)
        if ext in (".parquet", ".pq"):
            return _read_parquet(path, path, select)
    try:
        size = p.stat().st_size
    except OSError as exc:
        raise DataError(f"{path}: cannot read ({exc.strerror})") from None
    if size == 0:
        raise DataError(f"{path}: file is empty", hint="expected a header row and data rows")
    return _read_text(path, path, comp, ext, select, text)


def _near_names(word: str, names: list[str]) -> str | None:
    import difflib

    found = difflib.get_close_matches(word, names, n=3, cutoff=0.6)
    return " or ".join(f"'{f}'" for f in found) if found else None


# --------------------------------------------------------------------------- text


def _open_binary(source: str | bytes, comp: str | None) -> IO[bytes]:
    """Decompressed binary stream of a file (or of stdin bytes)."""
    if isinstance(source, bytes):
        return io.BytesIO(source)
    if comp == "gzip":
        return gzip.open(source, "rb")
    if comp == "bz2":
        return bz2.open(source, "rb")
    if comp == "xz":
        return lzma.open(source, "rb")
    if comp == "zip":
        zf = zipfile.ZipFile(source)
        members = [
            i for i in zf.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")
        ]
        if len(members) != 1:
            raise DataError(
                f"{source}: zip archive holds {len(members)} files, expected exactly one",
                hint="put one CSV in the archive, or unzip it and pass a directory",
            )
        return zf.open(members[0])
    return open(source, "rb")


def max_line_bytes() -> int:
    """:data:`MAX_LINE_BYTES`, or the positive integer in ``LOSSCLI_MAX_LINE_BYTES``."""
    raw = os.environ.get(MAX_LINE_ENV, "").strip()
    if not raw:
        return MAX_LINE_BYTES
    try:
        value = int(raw.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise DataError(
            f"LOSSCLI_MAX_LINE_BYTES must be a positive integer, got {raw[:40]!r}",
            hint=f"unset it to use the default ({MAX_LINE_BYTES})",
        )
    return value


def long_line_error(name: str, line: int | None, limit: int) -> DataError:
    """DataError for a text line longer than the line limit (``line`` None: not found
    again, e.g. a stream that cannot be re-read)."""
    where = f"line {line}" if line is not None else "a line"
    return DataError(
        f"{name}: {where} is longer than {limit:,} bytes (the longest line losscli reads)",
        hint="check that the file is delimited text with one row per line (an unclosed "
        f"quote?); to read longer lines, raise the limit, e.g. {MAX_LINE_ENV}={4 * limit} "
        "losscli …",
    )


def _read_error(name: str, comp: str | None, exc: BaseException) -> DataError:
    return DataError(
        f"{name}: cannot read as {comp or 'text'} ({exc})",
        hint="check that the file is complete and that its extension matches its format",
    )


def _zip_names(source: str | bytes) -> list[str]:
    """Member names of a zip archive (empty when it cannot be read as one)."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            return zf.namelist()[:1000]
    except (OSError, zipfile.BadZipFile, ValueError):
        return []


def _peek(name: str, source: str | bytes, comp: str | None) -> tuple[list[str], bool]:
    """The first lines of a text input, decoded (BOM stripped, line ends removed), and
    whether it starts with a UTF-8 byte-order mark.

    Reads :data:`_PEEK_BYTES`, or up to the end of the first line when it is longer;
    a first line longer than :func:`max_line_bytes` is a DataError naming it. Bytes that
    show another format (Excel, Parquet, NumPy, compressed, UTF-16) are a DataError
    saying what the file is.
    """
    limit = max_line_bytes()
    try:
        with _open_binary(source, comp) as fh:
            head = fh.read(_PEEK_BYTES)
            eof = len(head) < _PEEK_BYTES
            while not eof and b"\n" not in head and len(head) <= limit:
                more = fh.read(_PEEK_BYTES)
                eof = not more
                head += more
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise _read_error(name, comp, exc) from None
    zip_names = _zip_names(source) if head.startswith(b"PK") else []
    problem = not_text_problem(name, head, zip_names=zip_names)
    if problem is not None:
        raise problem
    first_end = head.find(b"\n")
    if (first_end < 0 and not eof) or first_end > limit or (first_end < 0 and len(head) > limit):
        raise long_line_error(name, 1, limit)
    if not eof and b"\n" in head:
        head = head[: head.rindex(b"\n")]
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _decode_error(name, source, comp) from None
    bom = head.startswith(b"\xef\xbb\xbf")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), bom


def _decode_error(name: str, source: str | bytes, comp: str | None) -> DataError:
    """Find the first line that is not valid UTF-8 and say so (reads in blocks, so a
    file of one huge line needs no more memory than a block)."""
    block = 1 << 20
    try:
        with _open_binary(source, comp) as fh:
            carry = b""
            lineno = 1
            col = 0  # bytes of the current line before ``buf``
            first = True
            while True:
                chunk = fh.read(block)
                buf = carry + chunk
                if first and buf.startswith(b"\xef\xbb\xbf"):
                    buf = buf[3:]
                first = False
                if not buf:
                    break
                try:
                    buf.decode("utf-8")
                    pos = -1
                except UnicodeDecodeError as exc:
                    pos = exc.start
                    # a character cut by the block end: decode it with the next block
                    if chunk and exc.reason == "unexpected end of data":
                        good, carry = buf[:pos], buf[pos:]
                        lineno, col = _advance(good, lineno, col)
                        continue
                if pos >= 0:
                    before = buf[:pos]
                    lineno, col = _advance(before, lineno, col)
                    byte = buf[pos : pos + 1].hex()
                    return DataError(
                        f"{name}: line {lineno} is not valid UTF-8 "
                        f"(byte 0x{byte} at position {col + 1} of the line)",
                        hint=_UTF8_HINT,
                    )
                lineno, col = _advance(buf, lineno, col)
                carry = b""
                if not chunk:
                    break
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError):
        pass
    return DataError(f"{name}: the file is not valid UTF-8 text", hint=_UTF8_HINT)


def _advance(data: bytes, lineno: int, col: int) -> tuple[int, int]:
    """(line, column) after ``data``, from (line, column) before it."""
    newlines = data.count(b"\n")
    if newlines:
        return lineno + newlines, len(data) - data.rindex(b"\n") - 1
    return lineno, col + len(data)


def _is_number(field_text: str) -> bool:
    return is_number(field_text)


def _split_line(line: str, sep: str) -> list[str]:
    if sep == r"\s+":
        return line.split()
    try:
        return next(csv.reader([line], delimiter=sep), [])
    except csv.Error:  # malformed quoting: split plainly, the parser will say more
        return line.split(sep)


@contextlib.contextmanager
def _csv_field_limit() -> Iterator[None]:
    """csv's field size limit (128 KiB by default) raised to the line limit while
    sniffing: a line that :func:`_peek` let through never fails on a long field."""
    old = csv.field_size_limit()
    csv.field_size_limit(max(old, max_line_bytes()))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def sniff_delimiter(lines: Sequence[str], ext: str = "", decimal: str | None = None) -> str:
    """The field delimiter of ``lines``: tab, semicolon, comma or whitespace.

    The first candidate that splits every sampled line into the same number (> 1) of
    fields wins; a ``.tsv`` file is tab-separated. With a single column, comma (with
    ``decimal`` ",", where a comma cannot be the delimiter: semicolon).
    """
    if ext == ".tsv":
        return "\t"
    single = ";" if decimal == "," else ","
    sample = [ln for ln in lines if ln.strip()][:_SNIFF_LINES]
    if not sample:
        return single
    with _csv_field_limit():
        for sep in ("\t", ";") if decimal == "," else ("\t", ";", ","):
            counts = {len(_split_line(ln, sep)) for ln in sample}
            if len(counts) == 1 and counts.pop() > 1:
                return sep
    counts = {len(ln.split()) for ln in sample}
    if len(counts) == 1 and counts.pop() > 1:
        return r"\s+"
    return single


@dataclass
class TextFormat:
    """How a delimited text input is laid out, found from its first lines.

    ``names`` are the column names (stripped header fields, or ``"0"``, ``"1"``, … by
    position when the first line is data); ``leading`` counts the empty lines before
    the header (or first row). Shared by the one-piece read and the chunked reader
    (:mod:`losscli.data.stream`), so both see the same columns, rows and row numbers.
    """

    name: str
    source: str | bytes
    comp: str | None
    sep: str
    header: bool
    names: list[str]
    leading: int
    #: The input starts with a UTF-8 byte-order mark (decoded with ``utf-8-sig``).
    bom: bool = True
    #: Some sampled field starts with a space after the delimiter (``a, b``).
    spaced: bool = True
    #: The decimal mark ("." or ",").
    decimal: str = "."
    #: What was decided about the first row and why (a note; None when plain).
    header_note: str | None = None
    #: See :attr:`Table.header_doubt`.
    header_doubt: str | None = None

    @property
    def first_row(self) -> int:
        """1-based source row number of the first data row (the header is row 1)."""
        return self.leading + (2 if self.header else 1)

    def usecols(self, chosen: Sequence[str]) -> list[Any]:
        """``usecols`` for pandas: names with a header, positions without."""
        if self.header and all(str(c).strip() for c in chosen):
            return list(chosen)
        # an empty header cell (pandas' index) cannot be selected by name: positions
        return [self.names.index(c) for c in chosen]

    def buffer(self) -> Any:
        """What pandas reads: the path, or the stdin bytes."""
        return io.BytesIO(self.source) if isinstance(self.source, bytes) else self.source

    def read_kwargs(self, usecols: list[Any] | None) -> dict[str, Any]:
        kwargs = {
            "sep": self.sep,
            "header": 0 if self.header else None,
            "usecols": usecols,
            "engine": "c",
            # plain UTF-8 lets the C parser read bytes directly (about 5% faster)
            "encoding": "utf-8-sig" if self.bom else "utf-8",
            "compression": None if isinstance(self.source, bytes) else self.comp,
            "skip_blank_lines": False,
            "skiprows": self.leading or None,
            # skipping spaces after each delimiter costs about 10% of the parse: only when
            # the sampled lines have them
            "skipinitialspace": self.spaced,
        }
        if self.decimal != ".":
            kwargs["decimal"] = self.decimal
        return kwargs

    def column_names(self, df: Any) -> list[str]:
        if not self.header:
            return [str(c) for c in df.columns]
        return [str(c).strip() for c in df.columns]


def text_format(
    name: str,
    source: str | bytes,
    comp: str | None,
    ext: str,
    *,
    header: str = "auto",
    decimal: str | None = None,
) -> TextFormat:
    """Delimiter, header and column names of a text input from its first lines.

    ``header`` is ``--header`` (auto, yes, no: SPEC §5); ``decimal`` is ``--decimal``
    ("." or ","; None: "." but a file that reads as decimal commas is refused).
    """
    lines, bom = _peek(name, source, comp)
    leading = 0
    while leading < len(lines) and not lines[leading].strip():
        leading += 1
    if leading >= len(lines):
        raise DataError(f"{name}: file has no data (only empty lines)")
    body = lines[leading:]
    mark = decimal or "."
    sep = sniff_delimiter(body, ext, mark)
    with _csv_field_limit():
        first = _split_line(body[0], sep)
        rest = [_split_line(ln, sep) for ln in body[1:_HEADER_LINES] if ln.strip()]
    decision = decide_header(name, first, rest, mode=header, sep=sep, decimal=mark)
    if decimal is None and sep == ",":
        problem = decimal_comma_problem(
            name,
            body[:_SNIFF_LINES],
            header_fields=len(first) if decision.header else None,
            leading=leading,
        )
        if problem is not None:
            raise problem
    names = (
        # an empty header cell is named as pandas names it (``df.to_csv`` writes one above
        # the index): ``Unnamed: 0``, so --id-col and messages read the same whoever parses
        [f.strip() or f"Unnamed: {j}" for j, f in enumerate(first)]
        if decision.header
        else [str(j) for j in range(len(first))]
    )
    if decision.header:
        _check_duplicate_names(name, names)
    spaced = sep == r"\s+" or any(
        (sep + " ") in ln or (sep + "\t") in ln or ln[:1].isspace() for ln in body
    )
    with _csv_field_limit():
        _check_field_counts(name, body, sep, len(first), header=decision.header, leading=leading)
    return TextFormat(
        name,
        source,
        comp,
        sep,
        decision.header,
        names,
        leading,
        bom,
        spaced,
        mark,
        decision.note,
        decision.doubt,
    )


def _check_duplicate_names(name: str, names: Sequence[str]) -> None:
    """Two columns with one name: the reader would rename the second (``pred.1``) and a
    ``--pred-col pred`` would silently take the first."""
    seen: dict[str, list[int]] = {}
    for j, n in enumerate(names):
        if n:
            seen.setdefault(n, []).append(j + 1)
    dups = {n: cols for n, cols in seen.items() if len(cols) > 1}
    if not dups:
        return
    shown = "; ".join(
        f"'{n}' (columns {', '.join(str(c) for c in cols)})" for n, cols in list(dups.items())[:5]
    )
    raise DataError(
        f"{name}: duplicate column names in the header: {shown}",
        hint="give every column its own name (pandas: df.columns = [...] before to_csv); "
        "which column a name means cannot be told",
    )


def _check_field_counts(
    name: str, lines: Sequence[str], sep: str, want: int, *, header: bool, leading: int
) -> None:
    """Every sampled line has as many fields as the first (header) line.

    pandas reads a first data row with one field more than the header as an index and
    shifts every column, and with ``usecols`` it drops or fills ragged fields silently;
    so a ragged line among the first lines is a DataError naming it.
    """
    if sep == r"\s+":
        records: Iterator[tuple[int, int]] = (
            (i + 1, len(ln.split())) for i, ln in enumerate(lines) if ln.strip()
        )
    else:
        records = _csv_records(lines, sep)
    for lineno, count in records:
        if lineno > 1 and count != want:
            raise ragged_line_error(name, lineno + leading, count, want, header=header)


def _csv_records(lines: Sequence[str], sep: str) -> Iterator[tuple[int, int]]:
    """(1-based first line, field count) of every non-empty record of ``lines``.

    The sample may end inside a quoted field that spans lines: a last record holding a
    quote is left out.
    """
    reader = csv.reader(lines, delimiter=sep)
    start = 1
    try:
        for row in reader:
            last = reader.line_num >= len(lines)
            if last and any('"' in ln for ln in lines[start - 1 :]):
                return
            if len(row) > 1 or (row and row[0].strip()):
                yield start, len(row)
            start = reader.line_num + 1
    except csv.Error:  # malformed quoting: left to the parser
        return


def ragged_line_error(name: str, line: int, saw: int, want: int, *, header: bool) -> DataError:
    """DataError for a line whose field count differs from the header's."""
    first = "the header has" if header else "the first line has"
    return DataError(
        f"{name}: line {line} has {saw} field{'s' if saw != 1 else ''}, {first} {want}",
        hint="check for an unquoted delimiter inside a value, a trailing delimiter, or a "
        "truncated line",
    )


@contextlib.contextmanager
def parse_errors(fmt: TextFormat) -> Iterator[None]:
    """Turn pandas' and the decompressors' exceptions into DataErrors naming the file."""
    import pandas as pd

    name, source, comp = fmt.name, fmt.source, fmt.comp
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    except UnicodeDecodeError:
        raise _decode_error(name, source, comp) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            f"{name}: file is empty", hint="expected a header row and data rows"
        ) from None
    except pd.errors.ParserError as exc:
        raise _parser_error(name, str(exc), fmt.leading, header=fmt.header) from None
    except ValueError as exc:  # e.g. usecols not found after a racing edit
        raise DataError(f"{name}: cannot parse ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError) as exc:
        raise DataError(f"{name}: cannot read ({exc})") from None


def empty_lines_note(name: str, k: int) -> str:
    word = "line" if k == 1 else "lines"
    return f"{name}: ignored {k} empty {word} at the end of the file"


def no_rows_error(fmt: TextFormat) -> DataError:
    return DataError(
        f"{fmt.name}: no data rows" + (" (only a header row)" if fmt.header else ""),
        hint="the file must hold at least one row of values",
    )


def frame_table(
    fmt: TextFormat, df: Any, start: int = 0, warnings_out: Sequence[str] = ()
) -> Table:
    """A DataFrame parsed by pandas (columns already named) → :class:`Table`.

    ``start`` is the 0-based index of ``df``'s first data row in the file, so that row
    numbers stay those of the source when the file is read in chunks.
    """
    table = text_table(fmt, len(df), start, warnings_out)
    for col in df.columns:
        _add_pandas_column(table, col, df[col])
    return table


def choose_text_columns(fmt: TextFormat, select: Selector | None) -> list[Any] | None:
    """``usecols`` for a selector (None: every column)."""
    if select is None:
        return None
    chosen = select(fmt.names) or fmt.names  # nothing named here: read all, let roles decide
    return fmt.usecols(chosen)


def text_positions(fmt: TextFormat, select: Selector | None) -> list[int]:
    """Positions of the columns a selector picks (every column for None)."""
    if select is None:
        return list(range(len(fmt.names)))
    chosen = select(fmt.names) or fmt.names  # nothing named here: read all, let roles decide
    return [fmt.names.index(c) for c in chosen]


def _read_text(
    name: str,
    source: str | bytes,
    comp: str | None,
    ext: str,
    select: Selector | None,
    text: TextOptions = TextOptions(),
) -> Table:
    fmt = text_format(name, source, comp, ext, header=text.header, decimal=text.decimal)
    if arrow_text_ok(fmt):
        reader = ArrowText(fmt, text_positions(fmt, select))
        table = arrow_frame_table(fmt, reader, reader.read_all())
    else:
        import pandas as pd

        with parse_errors(fmt):
            df = pd.read_csv(fmt.buffer(), **fmt.read_kwargs(choose_text_columns(fmt, select)))
        df.columns = fmt.column_names(df)
        table = frame_table(fmt, df)
    # Trailing empty lines are not rows; interior ones are, and show up as missing values.
    n = table.n_rows
    k = trailing_missing_rows(table)
    if k:
        k = min(k, trailing_blank_lines(source, comp))
    if k:
        table = slice_rows(table, 0, n - k)
        table.warnings.append(empty_lines_note(name, k))
        n -= k
    if n == 0:
        raise no_rows_error(fmt)
    return table


def trailing_blank_lines(source: str | bytes, comp: str | None) -> int:
    """Number of empty (whitespace-only) lines at the end of a text input."""
    if isinstance(source, bytes):
        tail = source[-_PEEK_BYTES:]
    elif comp is None:
        with open(source, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - _PEEK_BYTES))
            tail = fh.read()
    else:
        tail = b""
        with _open_binary(source, comp) as fh:
            while chunk := fh.read(1 << 20):
                tail = (tail + chunk)[-_PEEK_BYTES:]
    lines = tail.replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the final line end does not start another line
    k = 0
    while k < len(lines) - 1 and not lines[-1 - k].strip():
        k += 1
    return k


def _parser_error(name: str, text: str, leading: int, *, header: bool = True) -> DataError:
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if m:
        want, line, saw = m.groups()
        return ragged_line_error(name, int(line) + leading, int(saw), int(want), header=header)
    return DataError(f"{name}: cannot parse as delimited text ({text.strip()})")


def _add_pandas_column(table: Table, col: str, s: Any) -> None:
    import pandas as pd

    kind = s.dtype.kind if isinstance(s.dtype, np.dtype) else None
    if kind == "b":
        table.columns[col] = s.to_numpy(dtype=np.float64)
    elif kind in ("i", "u"):
        if kind == "u" and s.max() > np.iinfo(np.int64).max:
            table.columns[col] = s.to_numpy(dtype=np.float64)
        else:
            table.columns[col] = s.to_numpy(dtype=np.int64)
    elif kind == "f":
        table.columns[col] = s.to_numpy(dtype=np.float64)
    else:
        raw = s.to_numpy(dtype=object, na_value=None)
        num = pd.to_numeric(s, errors="coerce")
        present = s.notna().to_numpy()
        parsed = num.notna().to_numpy()
        if present.any() and not parsed.any():
            table.columns[col] = _strip_text(raw)
            table.text.add(col)
        elif (parsed == present).all():
            table.columns[col] = num.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            table.columns[col] = raw
            table.mixed.add(col)


def _strip_text(raw: np.ndarray) -> np.ndarray:
    out = np.empty(raw.shape[0], dtype=object)
    for i, v in enumerate(raw):
        if v is None:
            out[i] = None
        else:
            t = str(v).strip()
            out[i] = t if t else None
    return out


# --------------------------------------------------------------------------- text via pyarrow

#: Bytes of text read and handed to pyarrow at a time when a file is read in chunks:
#: one parse block per core (at least 4), so that every core has work.
READ_BYTES = max(4, min(os.cpu_count() or 1, 32)) << 20
#: pyarrow's block: the unit of work of one core (a longer line is parsed in one block).
PARSE_BLOCK_BYTES = 1 << 20
#: Cells read as missing: pandas' default list, so that both parsers agree.
NA_VALUES = (
    "",
    "#N/A",
    "#N/A N/A",
    "#NA",
    "-1.#IND",
    "-1.#QNAN",
    "-NaN",
    "-nan",
    "1.#IND",
    "1.#QNAN",
    "<NA>",
    "N/A",
    "NA",
    "NULL",
    "NaN",
    "None",
    "n/a",
    "nan",
    "null",
)
#: The pandas ``read_csv`` settings of :meth:`TextFormat.read_kwargs` that the pyarrow
#: reader reproduces; a format asking for anything else is parsed by pandas.
_ARROW_KWARGS = {
    "sep",
    "header",
    "usecols",
    "engine",
    "encoding",
    "compression",
    "skip_blank_lines",
    "skiprows",
    "skipinitialspace",
}
#: What a cell must look like to be a number (Python's float() grammar without "_").
_NUMBER_RE = r"^\s*[+-]?((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|inf|infinity|nan)\s*$"


#: A cell that is one of :data:`NA_VALUES` (after trimming spaces).
_NA_RE = "^(" + "|".join(re.escape(v) for v in NA_VALUES) + ")$"


def arrow_text_ok(fmt: TextFormat) -> bool:
    """Whether pyarrow's multi-threaded reader parses ``fmt`` as pandas would: a single
    character delimiter and no setting that only pandas has (decimal commas, …); quotes
    after spaces (``a, "b,c"``) need pandas' ``skipinitialspace``."""
    if len(fmt.sep) != 1:
        return False
    kwargs = fmt.read_kwargs(None)
    if not set(kwargs) <= _ARROW_KWARGS or kwargs.get("engine") != "c":
        return False
    return not (fmt.spaced and _quoted(fmt))


def _quoted(fmt: TextFormat) -> bool:
    """Whether the first lines of the input hold a double quote."""
    try:
        with _open_binary(fmt.source, fmt.comp) as fh:
            return b'"' in fh.read(_PEEK_BYTES)
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError):
        return True


class ArrowText:
    """A delimited text input read by pyarrow: the options of one read, the stream to
    read from, and the errors mapped to DataErrors naming the line."""

    def __init__(self, fmt: TextFormat, positions: Sequence[int]) -> None:
        self.fmt = fmt
        self.positions = list(positions)
        self.limit = max_line_bytes()
        self.quoted = _quoted(fmt)
        self.bad_rows: list[tuple[int, int, str]] = []  # (expected, actual, text)

    def keys(self) -> list[str]:
        return [f"f{j}" for j in self.positions]

    def open_stream(self) -> Any:
        """The decompressed bytes, as pyarrow reads them (native gzip/bz2 where built)."""
        import pyarrow as pa

        fmt = self.fmt
        if isinstance(fmt.source, bytes):
            return pa.BufferReader(fmt.source)
        if fmt.comp is None or (fmt.comp in ("gzip", "bz2") and pa.Codec.is_available(fmt.comp)):
            src = arrow_path(fmt.source)
            self.raw = pa.OSFile(src) if isinstance(src, str) else pa.PythonFile(src, mode="r")
            if fmt.comp is None:
                return self.raw
            return pa.CompressedInputStream(self.raw, fmt.comp)
        return pa.PythonFile(_open_binary(fmt.source, fmt.comp), mode="r")

    raw: Any = None

    def position(self) -> int:
        """Bytes of the file read so far (compressed bytes of a compressed file)."""
        try:
            return int(self.raw.tell()) if self.raw is not None else 0
        except (OSError, ValueError):
            return 0

    def chunks(self, chunk_rows: int) -> Iterator[tuple[int, Any]]:
        """``(start, rows)`` of ``chunk_rows`` rows each (the last may be shorter), as
        pyarrow tables (:meth:`table` makes each a :class:`Table`); ``start`` is the
        0-based index of the first data row."""
        import pyarrow as pa

        pool = pa.default_memory_pool()
        pending: list[Any] = []
        have = start = 0
        for tbl in self._quoted_batches() if self.quoted else self._blocks():
            if not tbl.num_rows:
                continue
            pending.append(tbl)
            have += tbl.num_rows
            while have >= chunk_rows:
                whole = _concat_arrow(pending)
                yield start, whole.slice(0, chunk_rows)
                pool.release_unused()  # what the parser freed goes back to the system
                start += chunk_rows
                have -= chunk_rows
                pending = [whole.slice(chunk_rows)] if have else []
        if have:
            yield start, _concat_arrow(pending)

    def table(self, start: int, rows: Any) -> Table:
        """A chunk of :meth:`chunks` as a :class:`Table`."""
        return arrow_frame_table(self.fmt, self, rows, start)

    def _blocks(self) -> Iterator[Any]:
        """The input in pieces of about :data:`READ_BYTES` cut after a line end, each
        parsed by pyarrow's multi-threaded reader (inference per piece, as pandas infers
        per chunk). Only for inputs without quoted fields: a quoted field may hold a
        line end, so those go through :meth:`_quoted_batches`. The bytes live in
        pyarrow's memory pool, not on the heap of the reading thread."""
        import pyarrow as pa

        fh = self.open_stream()
        first = True
        carry: Any = None
        try:
            while True:
                with self.errors():
                    data = fh.read_buffer(READ_BYTES)
                if carry is not None and carry.size:
                    joined = pa.allocate_buffer(carry.size + data.size)
                    view = np.frombuffer(joined, dtype=np.uint8)  # writable: a fresh buffer
                    view[: carry.size] = np.frombuffer(carry, dtype=np.uint8)
                    view[carry.size :] = np.frombuffer(data, dtype=np.uint8)
                    buf = joined
                else:
                    buf = data
                if buf.size > self.limit:  # only then can a line be longer than the limit
                    self._check_line_lengths(buf)
                if not data.size:
                    if buf.size and (not first or bytes(buf).strip(b"\r\n")):
                        yield self._parse(buf, first)
                    return
                cut = _last_line_end(buf)
                if cut < 0:
                    carry = buf
                    continue
                carry = buf.slice(cut + 1)
                yield self._parse(buf.slice(0, cut + 1), first)
                first = False
        finally:
            with contextlib.suppress(Exception):
                fh.close()

    def _check_line_lengths(self, buf: Any) -> None:
        """A DataError naming the first line longer than the limit, when ``buf`` holds one
        (its last, unended line too: it is already past the limit)."""
        if _has_long_line(buf.to_pybytes(), self.limit):
            limit = self.limit
            raise self._long_line(_find_long_line(self.fmt, limit))

    def _long_line(self, line: int | None) -> DataError:
        return long_line_error(self.fmt.name, line, self.limit)

    def _parse(self, buf: Any, first: bool) -> Any:
        """One piece of whole lines → a pyarrow Table (the header skipped in the first)."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        reader = pa.BufferReader(buf)
        try:
            with self.errors():
                try:
                    return pacsv.read_csv(reader, **self.options(skip_head=first))
                except pa.ArrowInvalid as exc:
                    if "straddl" not in str(exc) or self.limit <= PARSE_BLOCK_BYTES:
                        raise
            # a line longer than pyarrow's block: blocks as long as the longest line allowed
            reader = pa.BufferReader(buf)
            with self.errors():
                return pacsv.read_csv(
                    reader, **self.options(skip_head=first, block_size=self.limit)
                )
        finally:
            reader.close()

    def _empty(self) -> Any:
        import pyarrow as pa

        return pa.table({k: pa.nulls(0) for k in self.keys()})

    def _quoted_batches(self) -> Iterator[Any]:
        """Record batches of pyarrow's streaming reader (quoted fields may span lines).

        The streaming reader fixes each column's type on its first block; when a later
        block does not fit (integers, then ``2.5``; numbers, then text), the reader opens
        again after the rows already read and infers the rest (as text when the same
        block failed before), so that every cell is read as a one-piece read would.
        """
        import pyarrow as pa

        reader = self.open()
        read = 0
        failed_at = -1
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                if "conversion error" not in str(exc) or self.bad_rows:
                    with self.errors():
                        raise
                types = {k: pa.string() for k in self.keys()} if read == failed_at else None
                failed_at = read
                reader = self.open(skip_after=read, types=types)
                continue
            except (OSError, pa.ArrowException):
                with self.errors():
                    raise
            read += batch.num_rows
            yield pa.Table.from_batches([batch])

    def options(
        self,
        *,
        skip_after: int = 0,
        types: dict[str, Any] | None = None,
        skip_head: bool = True,
        block_size: int | None = None,
    ) -> dict[str, Any]:
        """pyarrow's read, parse and convert options for this input."""
        import pyarrow.csv as pacsv

        fmt = self.fmt
        names = [f"f{j}" for j in range(len(fmt.names))]

        def on_bad_row(row: Any) -> str:
            self.bad_rows.append((row.expected_columns, row.actual_columns, row.text))
            return "error"

        return {
            "read_options": pacsv.ReadOptions(
                use_threads=True,
                block_size=block_size or min(self.limit, PARSE_BLOCK_BYTES),
                skip_rows=fmt.leading + (1 if fmt.header else 0) if skip_head else 0,
                column_names=names,
                skip_rows_after_names=skip_after,
            ),
            "parse_options": pacsv.ParseOptions(
                delimiter=fmt.sep,
                newlines_in_values=self.quoted,
                ignore_empty_lines=False,
                invalid_row_handler=on_bad_row,
            ),
            "convert_options": pacsv.ConvertOptions(
                include_columns=self.keys(),
                null_values=list(NA_VALUES),
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                column_types=types or {},
            ),
        }

    def read_all(self) -> Any:
        """Every row as one pyarrow Table (types inferred over every row: those of the
        pieces unified)."""
        import pyarrow as pa
        import pyarrow.csv as pacsv

        if not self.quoted:
            return _concat_arrow([t for t in self._blocks() if t.num_rows] or [self._empty()])
        with self.errors():
            try:
                return pacsv.read_csv(self.open_stream(), **self.options())
            except pa.ArrowInvalid as exc:
                if "straddl" not in str(exc) or self.limit <= PARSE_BLOCK_BYTES:
                    raise
            # a line longer than pyarrow's block: blocks as long as the longest line allowed
            return pacsv.read_csv(self.open_stream(), **self.options(block_size=self.limit))

    def open(self, *, skip_after: int = 0, types: dict[str, Any] | None = None) -> Any:
        """pyarrow's streaming reader: record batches of one block each."""
        import pyarrow.csv as pacsv

        with self.errors():
            return pacsv.open_csv(
                self.open_stream(),
                **self.options(skip_after=skip_after, types=types, block_size=self.limit),
            )

    @contextlib.contextmanager
    def errors(self, rows_before: int = 0) -> Iterator[None]:
        """pyarrow's exceptions → DataErrors naming the file and, where known, the line."""
        import pyarrow as pa

        fmt = self.fmt
        try:
            yield
        except DataError:
            raise
        except pa.ArrowInvalid as exc:
            raise self._invalid(str(exc)) from None
        except UnicodeDecodeError:
            raise _decode_error(fmt.name, fmt.source, fmt.comp) from None
        except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError, pa.ArrowException) as exc:
            raise DataError(f"{fmt.name}: cannot read ({exc})") from None

    def _invalid(self, text: str) -> DataError:
        fmt = self.fmt
        if self.bad_rows:
            want, saw, row = self.bad_rows[0]
            line = _find_line(fmt, lambda raw: raw == row.encode("utf-8", "replace"))
            if line is not None:
                return ragged_line_error(fmt.name, line, saw, want, header=fmt.header)
            return DataError(
                f"{fmt.name}: a line has {saw} field{'s' if saw != 1 else ''}, "
                f"{'the header has' if fmt.header else 'the first line has'} {want}: {row[:80]!r}",
                hint="check for an unquoted delimiter inside a value, a trailing delimiter, "
                "or a truncated line",
            )
        if "straddl" in text:
            limit = self.limit
            return self._long_line(_find_long_line(fmt, limit))
        if "UTF8" in text or "UTF-8" in text:
            return _decode_error(fmt.name, fmt.source, fmt.comp)
        return DataError(f"{fmt.name}: cannot parse as delimited text ({text.strip()})")


def _last_line_end(buf: Any) -> int:
    """Offset of the last line end of a pyarrow buffer (-1: none), searched from the end
    in small windows; ``\\r`` only when there is no ``\\n`` at all (old Mac line ends),
    so that ``\\r\\n`` is never cut in two."""
    data = np.frombuffer(buf, dtype=np.uint8)
    end = data.shape[0]
    step = 1 << 14
    while end > 0:
        lo = max(0, end - step)
        hits = np.flatnonzero(data[lo:end] == 10)
        if hits.size:
            return lo + int(hits[-1])
        end = lo
        step *= 4
    hits = np.flatnonzero(data == 13)
    return int(hits[-1]) if hits.size else -1


def _has_long_line(data: bytes, limit: int, nl: bytes | None = None) -> bool:
    """Whether ``data`` holds a line of more than ``limit`` bytes (an unended last line
    counts once it is longer). Lines end at ``\\n`` (a ``\\r`` before it ends the line
    too), or at ``\\r`` when ``data`` holds no ``\\n`` at all (old Mac files); ``nl``
    fixes the choice. One backward search per ``limit`` bytes from each line start,
    instead of listing every line end."""
    if nl is None:
        nl = b"\n" if b"\n" in data else b"\r"
    pos, n = 0, len(data)
    while n - pos > limit:
        end = pos + limit + 1  # a line of ``limit`` bytes and its end fit in [pos, end]
        j = data.rfind(nl, pos, end)
        if j < 0:
            if not (nl == b"\n" and end < n and data[end] == 10 and data[end - 1] == 13):
                return True
            j = end  # ``limit`` bytes, then \r\n
        pos = j + 1
    return False


def _concat_arrow(tables: list[Any]) -> Any:
    """pyarrow tables of consecutive rows as one (types unified: numbers, else text)."""
    import pyarrow as pa

    if len(tables) == 1:
        return tables[0]
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        as_text = [t.cast(pa.schema([(f.name, pa.string()) for f in t.schema])) for t in tables]
        return pa.concat_tables(as_text)


#: Bytes read at a time when a line is looked for in an error path.
_SCAN_BLOCK = 1 << 20


def _find_long_line(fmt: TextFormat, limit: int) -> int | None:
    """1-based number of the first physical line longer than ``limit`` bytes (without
    its end and a first line's BOM; line ends as :func:`_has_long_line` reads them);
    None when there is none. Read in blocks, so a line is never held whole (a gzip
    member can expand one line to gigabytes), and a block without a long line is only
    counted. Only when an error is reported."""
    found, saw_lf, saw_cr = _scan_long_lines(fmt, limit, b"\n")
    if saw_lf or not saw_cr:
        return found
    # no \n before the answer, but a \r: old Mac line ends, if no \n comes at all
    mac, saw_lf, _ = _scan_long_lines(fmt, limit, b"\r")
    return found if saw_lf else mac


def _scan_long_lines(fmt: TextFormat, limit: int, nl: bytes) -> tuple[int | None, bool, bool]:
    """The first long line with the line end ``nl``, whether a ``\\n`` was seen, and
    whether a ``\\r`` was seen before any ``\\n``. With ``\\n`` it stops at the first
    long line; with ``\\r`` it reads on, and stops at a ``\\n`` (then it found none)."""
    crlf = nl == b"\n"  # a \r just before \n belongs to the line end
    found: int | None = None
    lineno, first, saw_lf, saw_cr = 1, True, False, False
    length, cr = 0, False  # the line running on into the next block: its bytes, a last \r

    def size(body: bytes) -> int:
        return len(body) - (1 if crlf and body.endswith(b"\r") else 0)

    try:
        with _open_binary(fmt.source, fmt.comp) as fh:
            while block := fh.read(max(_SCAN_BLOCK, 3) if first else _SCAN_BLOCK):
                if first and block.startswith(b"\xef\xbb\xbf"):  # a whole BOM
                    block = block[3:]
                first = False
                if b"\n" in block:
                    saw_lf = True
                    if not crlf:
                        return None, True, saw_cr
                elif crlf and not saw_lf and b"\r" in block:
                    saw_cr = True
                head_end = block.find(nl)
                if head_end < 0:
                    if block:
                        length, cr = length + len(block), crlf and block.endswith(b"\r")
                    if length - cr > limit:
                        found = found or lineno
                else:
                    ends_cr = crlf and (block[head_end - 1] == 13 if head_end else cr)
                    if length + head_end - ends_cr > limit:
                        found = found or lineno
                    lineno += 1
                    last_end = block.rfind(nl)
                    inner = block[head_end + 1 : last_end]  # whole lines between the two
                    if last_end > head_end and not found and _has_long_line(inner, limit, nl):
                        for body in inner.split(nl):
                            if size(body) > limit:
                                found = found or lineno
                            lineno += 1
                    elif last_end > head_end:
                        lineno += inner.count(nl) + 1
                    length = len(block) - last_end - 1
                    cr = crlf and length > 0 and block.endswith(b"\r")
                    if length - cr > limit:
                        found = found or lineno
                if found and crlf:
                    return found, saw_lf, saw_cr
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError, zlib.error):
        return found if crlf else None, saw_lf, saw_cr
    return found, saw_lf, saw_cr


def _find_line(fmt: TextFormat, test: Callable[[bytes], bool]) -> int | None:
    """1-based number of the first physical line of the input that passes ``test`` (its
    bytes without the line end); None when there is none. Only when an error is reported."""
    try:
        with _open_binary(fmt.source, fmt.comp) as fh:
            for lineno, raw in enumerate(fh, start=1):
                body = raw.rstrip(b"\r\n")
                if lineno == 1 and body.startswith(b"\xef\xbb\xbf"):
                    body = body[3:]
                if test(body):
                    return lineno
    except (OSError, EOFError, zipfile.BadZipFile, lzma.LZMAError):
        return None
    return None


def text_table(fmt: TextFormat, n: int, start: int = 0, warnings_out: Sequence[str] = ()) -> Table:
    """An empty :class:`Table` for ``n`` rows of ``fmt`` from data row ``start`` (0-based)."""
    first_row = fmt.first_row + start
    table = Table(
        path=fmt.name,
        files=[fmt.name],
        all_columns=list(fmt.names),
        row_numbers=np.arange(first_row, first_row + n, dtype=np.int64),
        header=fmt.header,
        header_doubt=fmt.header_doubt,
        warnings=list(warnings_out),
    )
    if fmt.header_note:
        table.notes.append(fmt.header_note)
    return table


def arrow_frame_table(
    fmt: TextFormat, reader: ArrowText, tbl: Any, start: int = 0, warnings_out: Sequence[str] = ()
) -> Table:
    """Rows parsed by pyarrow → :class:`Table` (without pandas)."""
    table = text_table(fmt, tbl.num_rows, start, warnings_out)
    for j, key in zip(reader.positions, reader.keys()):
        with reader.errors():
            _add_arrow_text_column(table, fmt.names[j], tbl.column(key))
    return table


def _add_arrow_text_column(table: Table, col: str, arr: Any) -> None:
    """One parsed column: numbers as float64/int64; text as str (None for missing),
    ``text`` when no cell is a number and ``mixed`` when numbers and text meet. Only
    compute kernels and buffer views: ``Array.to_numpy`` and Python scalars would import
    pandas. Number columns need no compute kernel (importing them costs 50 ms)."""
    import pyarrow as pa

    t = arr.type
    n = len(arr)
    if pa.types.is_null(t):
        table.columns[col] = np.full(n, np.nan)
        return
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
        table.columns[col] = _arrow_numbers(arr)
        return
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        raise pa.ArrowInvalid("invalid UTF8 data")
    import pyarrow.compute as pc

    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        arr = pc.cast(arr, pa.string())  # dates and times stay the text they were
    s = pc.utf8_trim_whitespace(arr)
    missing = pc.match_substring_regex(s, _NA_RE)
    if pc.any(missing).as_py():
        s = pc.if_else(missing, pa.nulls(n, s.type), s)
    present = n - s.null_count
    hits = pc.sum(pc.cast(pc.match_substring_regex(s, _NUMBER_RE, ignore_case=True), pa.int64()))
    hits_n = int(hits.as_py() or 0)
    if present and hits_n == present:
        table.columns[col] = _arrow_float64(s)
        return
    values = np.empty(n, dtype=object)
    values[:] = s.to_pylist()
    table.columns[col] = values
    if present and hits_n == 0:
        table.text.add(col)
    elif present:
        table.mixed.add(col)


def _arrow_numbers(col: Any) -> np.ndarray:
    """An integer/float/boolean pyarrow column as int64 (integers without a missing
    cell) or float64 (missing → NaN)."""
    import pyarrow as pa

    t = col.type
    if pa.types.is_integer(t) and col.null_count == 0 and not pa.types.is_uint64(t):
        if not pa.types.is_int64(t):
            import pyarrow.compute as pc

            col = pc.cast(col, pa.int64())
        return _arrow_buffer(col, np.int64)
    return _arrow_float64(col)


def _arrow_float64(col: Any) -> np.ndarray:
    """A pyarrow column cast to float64, missing cells NaN (through buffer views)."""
    import pyarrow as pa

    if not pa.types.is_float64(col.type):
        import pyarrow.compute as pc

        col = pc.cast(col, pa.float64())
    chunks = col.chunks if hasattr(col, "chunks") else [col]
    out = np.empty(len(col), dtype=np.float64)
    i = 0
    for c in chunks:
        m = len(c)
        if m:
            view = out[i : i + m]
            view[:] = np.frombuffer(c.buffers()[1], dtype=np.float64, count=m, offset=c.offset * 8)
            if c.null_count:
                bits = np.unpackbits(
                    np.frombuffer(c.buffers()[0], dtype=np.uint8), bitorder="little"
                )
                view[bits[c.offset : c.offset + m] == 0] = np.nan
        i += m
    return out


def slice_rows(table: Table, a: int, b: int) -> Table:
    """Rows ``a:b`` of a table (mixed columns classified again)."""
    out = Table(
        path=table.path,
        files=list(table.files),
        all_columns=list(table.all_columns),
        row_numbers=table.row_numbers[a:b],
        file_index=None if table.file_index is None else table.file_index[a:b],
        binary=table.binary,
        header=table.header,
        notes=list(table.notes),
        warnings=list(table.warnings),
    )
    for c, arr in table.columns.items():
        part = arr[a:b]
        if c in table.mixed:
            _classify_object(out, c, part)
        else:
            out.columns[c] = part
            if c in table.text:
                out.text.add(c)
    return out


def concat_rows(parts: Sequence[Table]) -> Table:
    """Consecutive row ranges of one input as one table."""
    first = parts[0]
    if len(parts) == 1:
        return first
    out = Table(
        path=first.path,
        files=list(first.files),
        all_columns=list(first.all_columns),
        row_numbers=np.concatenate([p.row_numbers for p in parts]),
        file_index=None
        if first.file_index is None
        else np.concatenate([p.file_index for p in parts if p.file_index is not None]),
        binary=first.binary,
        header=first.header,
        notes=list(first.notes),
        warnings=[w for p in parts for w in p.warnings],
    )
    for c in first.columns:
        arrays = [p.columns[c] for p in parts]
        if all(c in p.text for p in parts):
            out.columns[c] = np.concatenate(arrays)
            out.text.add(c)
        elif any(a.dtype == object for a in arrays):
            _classify_object(out, c, np.concatenate([a.astype(object) for a in arrays]))
        elif any(a.dtype == np.float64 for a in arrays):
            out.columns[c] = np.concatenate([a.astype(np.float64, copy=False) for a in arrays])
        else:
            out.columns[c] = np.concatenate(arrays)
    return out


def _classify_object(table: Table, col: str, arr: np.ndarray) -> None:
    """An object column (str/None/numbers): numeric, text or mixed, as a fresh parse."""
    present = sum(1 for v in arr if v is not None and not (isinstance(v, float) and v != v))
    out, bad = _floats(arr)
    if not bad:
        table.columns[col] = out
        return
    table.columns[col] = arr
    if len(bad) >= present:
        table.text.add(col)
    else:
        table.mixed.add(col)


def trailing_missing_rows(table: Table) -> int:
    """Number of rows at the end of ``table`` whose every cell is missing (empty lines)."""
    n = table.n_rows
    k = 0
    cols = list(table.columns.values())
    while k < n:
        i = n - 1 - k
        for a in cols:
            v = a[i]
            if a.dtype == object:
                if v is not None:
                    return k
            elif a.dtype.kind != "f" or not np.isnan(v):
                return k
        k += 1
    return k


# --------------------------------------------------------------------------- stdin


@dataclass(frozen=True)
class StdinSpool:
    """Standard input copied once to a temporary file, so that delimited text piped in
    streams in chunks like a file (and can be read a second time, as a class-count pass
    needs). ``path`` ends in ``.csv`` or ``.csv.gz`` when ``text``; the file is removed
    when the process exits."""

    path: str
    text: bool


#: The spool of each standard-input object (a caller may swap ``sys.stdin``), weakly
#: keyed: a spool file goes when its object does, or at exit.
_SPOOLS: weakref.WeakKeyDictionary[Any, StdinSpool] = weakref.WeakKeyDictionary()
_SPOOL_BLOCK = 1 << 20


def stdin_spool() -> StdinSpool:
    """:class:`StdinSpool` of the current standard input, copied in 1 MiB blocks (memory
    stays flat whatever is piped in) once per standard-input object: every later read
    of ``-`` in the process reads the same bytes. Empty input, and no room for the copy,
    are data errors."""
    stdin = sys.stdin
    stream = getattr(stdin, "buffer", None)
    if stream is None:
        raise DataError("cannot read standard input", hint="pass a file path instead of '-'")
    with contextlib.suppress(TypeError):  # an object without weak references: not kept
        spool = _SPOOLS.get(stdin)
        if spool is not None and os.path.exists(spool.path):
            return spool
    try:
        spool = _spool(stream)
    except OSError as exc:
        raise DataError(
            f"{STDIN_NAME}: cannot copy standard input to a temporary file ({exc})",
            hint="set TMPDIR to a writable directory with room for the input, or pass a "
            "file path instead of '-'",
        ) from None
    with contextlib.suppress(TypeError):
        _SPOOLS[stdin] = spool
        weakref.finalize(stdin, _remove_quietly, spool.path)
    return spool


def _spool(stream: Any) -> StdinSpool:
    fd, tmp = tempfile.mkstemp(prefix="losscli-stdin-", suffix=".part")
    atexit.register(_remove_quietly, tmp)
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            while block := stream.read(_SPOOL_BLOCK):
                out.write(block.encode("utf-8") if isinstance(block, str) else block)
                size += len(block)
    except BaseException:
        _remove_quietly(tmp)
        raise
    if not size:
        _remove_quietly(tmp)
        raise DataError(f"{STDIN_NAME}: standard input is empty", hint="pipe a CSV into losscli")
    with open(tmp, "rb") as fh:
        head = fh.read(8)
    gz = head[:2] == b"\x1f\x8b"
    if gz:
        with contextlib.suppress(OSError, EOFError, zlib.error), gzip.open(tmp, "rb") as fh:
            head = fh.read(8)
    text = not head.startswith((b"\x93NUMPY", b"PAR1", b"PK\x03\x04"))
    path = tmp[: -len(".part")] + (".csv.gz" if gz else ".csv")
    atexit.register(_remove_quietly, path)
    os.replace(tmp, path)
    return StdinSpool(path, text)


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)


def _read_stdin(select: Selector | None, role: str, text: TextOptions = TextOptions()) -> Table:
    spool = stdin_spool()
    if spool.text:  # delimited text: read from its spool as a file is, under the stdin name
        ext, comp = split_ext(spool.path)
        return _read_text(STDIN_NAME, spool.path, comp, ext, select, text)
    data = Path(spool.path).read_bytes()  # an array file: its bytes, as one is loaded
    if data[:2] == b"\x1f\x8b":
        data = _gunzip_lines(STDIN_NAME, data)
    if data[:6] == b"\x93NUMPY":
        return _read_npy(STDIN_NAME, _load_npy(STDIN_NAME, io.BytesIO(data)), select)
    if data[:4] == b"PAR1":
        return _read_parquet(STDIN_NAME, io.BytesIO(data), select)
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                if any(n.endswith(".npy") for n in zf.namelist()):
                    return _npz_table(
                        STDIN_NAME, _load_npz(STDIN_NAME, io.BytesIO(data)), select, role
                    )
        except zipfile.BadZipFile:
            pass
    return _read_text(STDIN_NAME, data, None, ".csv", select, text)


def _gunzip_lines(name: str, data: bytes) -> bytes:
    """gzip ``data`` decompressed in blocks (never in one call), failing as soon as a
    text line grows past :func:`max_line_bytes`: a few megabytes of gzip can hold
    gigabytes of one line. Binary payloads (.npy, Parquet) have no line limit."""
    limit = max_line_bytes()
    block = 1 << 20
    parts: list[bytes] = []
    line_len = 0  # bytes since the last line end
    lines = 1
    text: bool | None = None
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            while chunk := fh.read(block):
                if text is None:
                    text = not chunk.startswith((b"\x93NUMPY", b"PAR1", b"PK"))
                if text:
                    line_len, lines = _line_lengths(name, chunk, line_len, lines, limit)
                parts.append(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{name}: cannot decompress gzip data ({exc})") from None
    return b"".join(parts)


# --------------------------------------------------------------------------- numpy


def _load_npy(name: str, source: Any = None) -> np.ndarray:
    return _load_numpy(name, source, ".npy")


def load_npy_mapped(path: str) -> np.ndarray:
    """An ``.npy`` file memory-mapped (read-only): rows are read from disk as they are
    used, so the file never needs to fit in memory."""
    return _load_numpy(path, None, ".npy", mmap=True)


def _load_npz(name: str, source: Any = None) -> dict[str, np.ndarray]:
    return _load_numpy(name, source, ".npz")


#: What an .npy / .npz file of Python objects holds, and how to save it instead.
_OBJECT_ARRAYS = {
    ".npy": ("array holds", "save a numeric array (np.save(path, arr.astype(float)))"),
    ".npz": ("an array holds", "save numeric arrays (np.savez(path, pred=..., target=...))"),
}


def _load_numpy(name: str, source: Any, ext: str, *, mmap: bool = False) -> Any:
    """An .npy array or the arrays of an .npz archive (no pickled objects)."""
    try:
        _check_numpy_headers(name, source if source is not None else name, ext)
        with contextlib.ExitStack() as stack:
            loaded = np.load(
                source if source is not None else name,
                allow_pickle=False,
                mmap_mode="r" if mmap else None,
            )
            if ext == ".npy":
                return loaded
            z = stack.enter_context(loaded)
            return {k: z[k] for k in z.files}
    except ValueError as exc:
        if "pickle" in str(exc):
            what, hint = _OBJECT_ARRAYS[ext]
            raise DataError(f"{name}: {what} Python objects", hint=hint) from None
        raise DataError(f"{name}: not a valid {ext} file ({exc})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{name}: cannot read {ext} file ({exc})") from None
    except MemoryError:
        raise DataError(
            f"{name}: the {ext} array does not fit in memory",
            hint="pass a smaller array, or a .csv/.parquet file that is read in chunks",
        ) from None


def _check_numpy_headers(name: str, source: Any, ext: str) -> None:
    """Each array header's shape × itemsize against the bytes that follow it, before
    NumPy allocates: a header claiming 10¹³ rows is a DataError, not a MemoryError."""
    if ext == ".npy":
        with contextlib.ExitStack() as stack:
            if isinstance(source, (str, os.PathLike)):
                fh = stack.enter_context(open(source, "rb"))
                size = os.fstat(fh.fileno()).st_size
            else:
                fh = source
                start = fh.tell()
                size = fh.seek(0, os.SEEK_END) - start
                fh.seek(start)
                stack.callback(fh.seek, start)
            _check_npy_header(name, fh, size)
        return
    try:
        with contextlib.ExitStack() as stack:
            if not isinstance(source, (str, os.PathLike)):
                start = source.tell()
                stack.callback(source.seek, start)
            zf = stack.enter_context(zipfile.ZipFile(source))
            for info in zf.infolist():
                if info.filename.endswith(".npy"):
                    with zf.open(info) as member:
                        _check_npy_header(f"{name}[{info.filename[:-4]}]", member, info.file_size)
    except (zipfile.BadZipFile, OSError):
        return  # np.load says what is wrong


def _check_npy_header(name: str, fh: Any, size: int) -> None:
    """One .npy header (``fh`` at its start, ``size`` bytes from there to the end)."""
    from numpy.lib import format as npformat

    try:
        version = npformat.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = npformat.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = npformat.read_array_header_2_0(fh)
        else:
            return  # other versions: np.load checks them
    except (ValueError, OSError, EOFError, SyntaxError):
        return  # not a valid header: np.load says so
    if dtype.hasobject:
        return  # refused by allow_pickle=False
    header_len = fh.tell() if hasattr(fh, "tell") else 0
    count = 1
    for dim in shape:
        count *= int(dim)
    need = count * dtype.itemsize
    have = size - header_len
    if need > have:
        raise DataError(
            f"{name}: the .npy header says shape {shape} of {dtype} ({_bytes_text(need)}), "
            f"but the file holds {_bytes_text(max(have, 0))} of data",
            hint="the file is truncated or not what its header says; save it again with np.save",
        )


def _bytes_text(n: int) -> str:
    for unit, size in (("TB", 10**12), ("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def _check_numeric_array(name: str, arr: np.ndarray, what: str = "array") -> None:
    if arr.dtype.kind not in "biuf" and arr.dtype.names is None:
        raise DataError(
            f"{name}: {what} has dtype {arr.dtype}, expected numbers",
            hint="save a numeric array",
        )


def array_table(name: str, arr: np.ndarray, select: Selector | None) -> Table:
    """A table from one array (see :func:`_array_table`)."""
    return _array_table(name, arr, select)


def _array_table(name: str, arr: np.ndarray, select: Selector | None) -> Table:
    """A table from one array: 1-D → column "0", 2-D → "0".."k-1", ndim ≥ 3 → tensor."""
    _check_numeric_array(name, arr)
    table = Table(path=name, files=[name], binary=True, header=False)
    if arr.dtype.names is not None:  # structured array: one column per field
        if arr.ndim != 1:
            raise DataError(f"{name}: structured array must be 1-D, found shape {arr.shape}")
        names = list(arr.dtype.names)
        table.all_columns = names
        for c in _choose(select, names):
            sub = arr[c]
            _check_numeric_array(name, sub, f"field '{c}'")
            table.columns[c] = _as_column(sub)
        table.row_numbers = np.arange(1, arr.shape[0] + 1, dtype=np.int64)
        _check_rows(table)
        return table
    if arr.ndim == 0:
        raise DataError(f"{name}: holds a single number, expected one value per row")
    if arr.ndim >= 3:
        table.tensor = arr
        table.row_numbers = np.arange(1, arr.shape[0] + 1, dtype=np.int64)
        _check_rows(table)
        return table
    mat = arr.reshape(arr.shape[0], -1)
    names = [str(j) for j in range(mat.shape[1])]
    table.all_columns = names
    chosen = _choose(select, names)
    if chosen == names and arr.ndim == 2:
        table.block = np.ascontiguousarray(mat, dtype=np.float64)
        table.block_columns = names
    for c in chosen:
        table.columns[c] = _as_column(mat[:, int(c)])
    table.row_numbers = np.arange(1, mat.shape[0] + 1, dtype=np.int64)
    _check_rows(table)
    return table


def _as_column(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind in "iu" and not (a.dtype.kind == "u" and a.dtype.itemsize == 8):
        return a.astype(np.int64, copy=False)
    return a.astype(np.float64, copy=False)


def _check_rows(table: Table) -> None:
    if table.n_rows == 0:
        raise DataError(f"{table.name}: no data rows (the array is empty)")


def _line_lengths(
    name: str, chunk: bytes, line_len: int, lines: int, limit: int
) -> tuple[int, int]:
    """(bytes of the unfinished last line, its 1-based number) after ``chunk``, from
    those before it; a DataError when a line grows past ``limit`` bytes."""
    ends = np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10)
    if ends.size == 0:
        line_len += len(chunk)
        if line_len > limit:
            raise long_line_error(name, lines, limit)
        return line_len, lines
    if line_len + int(ends[0]) > limit:
        raise long_line_error(name, lines, limit)
    if ends.size > 1:
        over = np.flatnonzero(np.diff(ends) - 1 > limit)
        if over.size:
            raise long_line_error(name, lines + int(over[0]) + 1, limit)
    tail = len(chunk) - int(ends[-1]) - 1
    lines += int(ends.size)
    if tail > limit:
        raise long_line_error(name, lines, limit)
    return tail, lines


def _read_npy(name: str, arr: np.ndarray, select: Selector | None) -> Table:
    return _array_table(name, arr, select)


def _read_npz(path: str, select: Selector | None, role: str) -> Table:
    return _npz_table(path, _load_npz(path), select, role)


def _find_key(arrays: dict[str, np.ndarray], keys: Sequence[str]) -> str | None:
    lower = {k.lower(): k for k in arrays}
    for k in keys:
        if k in lower:
            return lower[k]
    return None


def _npz_table(
    name: str, arrays: dict[str, np.ndarray], select: Selector | None, role: str
) -> Table:
    if not arrays:
        raise DataError(f"{name}: archive holds no arrays")
    pkey = _find_key(arrays, PRED_KEYS)
    tkey = _find_key(arrays, TARGET_KEYS)
    if pkey is not None or tkey is not None:
        return _keyed_npz(name, arrays, select, role, pkey, tkey)
    if len(arrays) == 1:
        key = next(iter(arrays))
        return _array_table(name, arrays[key], select)
    return _columns_npz(name, arrays, select)


def _keyed_npz(
    name: str,
    arrays: dict[str, np.ndarray],
    select: Selector | None,
    role: str,
    pkey: str | None,
    tkey: str | None,
) -> Table:
    """An archive with arrays named pred/target: the one ``role`` asks for (predictions
    carry the targets as their companion when both are there)."""
    if role == "targets":
        key = tkey if tkey is not None else pkey
        assert key is not None
        table = _array_table(f"{name}[{key}]", arrays[key], select)
        table.notes.append(f"{name}: targets are the array '{key}'")
        return table
    key = pkey if pkey is not None else tkey
    assert key is not None
    table = _array_table(f"{name}[{key}]", arrays[key], select)
    if pkey is not None and tkey is not None:
        table.companion = _array_table(f"{name}[{tkey}]", arrays[tkey], None)
        table.notes.append(f"{name} holds both arrays: predictions '{pkey}', targets '{tkey}'")
    return table


def _columns_npz(name: str, arrays: dict[str, np.ndarray], select: Selector | None) -> Table:
    """Every array a column (2-D arrays give key_0 … key_{k-1})."""
    cols: dict[str, np.ndarray] = {}
    n: int | None = None
    for key, arr in arrays.items():
        _check_numeric_array(name, arr, f"array '{key}'")
        if arr.ndim == 0 or arr.ndim > 2:
            raise DataError(
                f"{name}: array '{key}' has shape {arr.shape}; columns must be 1-D or 2-D",
                hint="name N-d arrays 'pred' and 'target' for segmentation masks",
            )
        if n is not None and arr.shape[0] != n:
            raise DataError(
                f"{name}: array '{key}' has {arr.shape[0]} rows, the others {n}",
                hint="every array of the archive must have one entry per row",
            )
        n = arr.shape[0]
        if arr.ndim == 1:
            cols[key] = arr
        else:
            cols.update({f"{key}_{j}": arr[:, j] for j in range(arr.shape[1])})
    names = list(cols)
    table = Table(path=name, files=[name], binary=True, header=True, all_columns=names)
    for c in _choose(select, names):
        table.columns[c] = _as_column(cols[c])
    table.row_numbers = np.arange(1, (n or 0) + 1, dtype=np.int64)
    _check_rows(table)
    return table


# --------------------------------------------------------------------------- parquet


def _read_parquet(name: str, source: Any, select: Selector | None) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(arrow_path(source))
        names = list(pf.schema_arrow.names)
        chosen = _choose(select, names)
        tbl = pf.read(columns=chosen)
    except (pa.ArrowException, OSError) as exc:
        raise parquet_error(name, exc) from None
    if tbl.num_rows == 0:
        raise DataError(f"{name}: no data rows")
    return arrow_rows_table(name, names, chosen, tbl, index_columns=parquet_index_columns(pf))


def _utf8_path(path: Any) -> bool:
    """Whether pyarrow can take ``path`` by name: it encodes names as UTF-8, which a
    file name holding undecodable bytes (``\udcff`` after ``os.fsdecode``) is not."""
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def arrow_path(path: Any) -> Any:
    """``path`` for pyarrow: the name, or an open file when pyarrow cannot encode it."""
    return path if not isinstance(path, str) or _utf8_path(path) else open(path, "rb")


def parquet_index_columns(pf: Any) -> list[str]:
    """The pandas index columns a Parquet file's metadata names (``__index_level_0__``
    or a named index): never data (SPEC §5)."""
    meta = pf.schema_arrow.pandas_metadata or {}
    return [c for c in meta.get("index_columns", []) if isinstance(c, str)]


def parquet_error(name: str, exc: BaseException) -> DataError:
    return DataError(
        f"{name}: cannot read as Parquet ({exc})",
        hint="check that the file is complete and really Parquet",
    )


def arrow_rows_table(
    name: str,
    names: list[str],
    chosen: Sequence[str],
    rows: Any,
    start: int = 0,
    *,
    index_columns: Sequence[str] = (),
) -> Table:
    """Columns ``chosen`` of pyarrow rows (a Table or a RecordBatch of a Parquet file)
    from 0-based row ``start`` → :class:`Table`."""
    table = Table(path=name, files=[name], binary=True, header=True, all_columns=names)
    table.index_columns = list(index_columns)
    n = rows.num_rows
    table.row_numbers = np.arange(start + 1, start + n + 1, dtype=np.int64)
    for c in chosen:
        kind, arr = _arrow_column(rows.column(c))
        table.columns[c] = arr
        if kind == "text":
            table.text.add(c)
    return table


def _arrow_column(col: Any) -> tuple[str, np.ndarray]:
    """A pyarrow ChunkedArray → (kind, numpy array) without importing pandas."""
    import pyarrow as pa

    t = col.type
    if (
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_decimal(t)
    ):
        return "numeric", _arrow_numbers(col) if not pa.types.is_decimal(t) else _arrow_float64(col)
    values = col.to_pylist()
    out = np.empty(len(values), dtype=object)
    for i, v in enumerate(values):
        out[i] = None if v is None else (str(v).strip() or None)
    return "text", out


def _arrow_buffer(col: Any, dtype: Any) -> np.ndarray:
    chunks = col.chunks if hasattr(col, "chunks") else [col]
    out = np.empty(sum(len(c) for c in chunks), dtype=dtype)
    size = out.itemsize
    i = 0
    for c in chunks:
        m = len(c)
        if m:
            out[i : i + m] = np.frombuffer(
                c.buffers()[1], dtype=dtype, count=m, offset=c.offset * size
            )
        i += m
    return out


# --------------------------------------------------------------------------- many files


def _read_many(
    pattern: str, files: list[str], select: Selector | None, role: str, text: TextOptions
) -> Table:
    parts = [_read_file(f, select, role, text) for f in files]
    first = parts[0]
    if len(parts) == 1:
        first.path = pattern
        return first
    if first.tensor is not None:
        table = _stack_tensors(pattern, files, parts)
    else:
        table = _stack_tables(pattern, files, parts)
    table.row_numbers = np.concatenate([p.row_numbers for p in parts])
    table.file_index = np.concatenate(
        [np.full(p.n_rows, i, dtype=np.int32) for i, p in enumerate(parts)]
    )
    for p in parts:
        table.warnings.extend(p.warnings)
    if not first.header and first.tensor is None:
        table.notes.append(first.notes[0] if first.notes else "files have no header row")
    elif first.tensor is None and first.notes and "read as a header" in first.notes[0]:
        table.notes.append(first.notes[0])
    table.notes.append(
        f"{pattern}: read {len(files)} files as one dataset, in natural order (numbers in "
        f"names compared by value): {files_phrase(files)}"
    )
    return table


def _stack_tensors(pattern: str, files: list[str], parts: list[Table]) -> Table:
    """N-d arrays of several files, stacked along the first axis."""
    shapes = {p.tensor.shape[1:] if p.tensor is not None else None for p in parts}
    if len(shapes) != 1:
        raise DataError(
            f"{pattern}: arrays of different shapes: "
            + ", ".join(
                f"{p.files[0]} {p.tensor.shape if p.tensor is not None else 'table'}"
                for p in parts[:4]
            )
        )
    tensor = np.concatenate([p.tensor for p in parts if p.tensor is not None], axis=0)
    return Table(path=pattern, files=files, binary=True, header=False, tensor=tensor)


def column_difference(expected: Sequence[str], found: Sequence[str]) -> str:
    """What ``found`` lacks of ``expected`` and has besides (empty when the sets match)."""
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    detail = []
    if missing:
        detail.append("lacks " + ", ".join(missing[:5]))
    if extra:
        detail.append("has extra " + ", ".join(extra[:5]))
    return "; ".join(detail)


def check_same_columns(pattern: str, columns: Sequence[str], first_file: str, tab: Table) -> None:
    """Every file of a glob or directory has the columns of the first (in any order)."""
    if set(tab.all_columns) != set(columns) or tab.tensor is not None:
        detail = column_difference(list(columns), tab.all_columns)
        raise DataError(
            f"{pattern}: {tab.files[0]} has different columns from {first_file} "
            f"({detail or 'not a table'})",
            hint="every file of a glob or directory must have the same columns",
        )


def _stack_tables(pattern: str, files: list[str], parts: list[Table]) -> Table:
    """Tables of several files with the same columns, one after the other."""
    first = parts[0]
    for p in parts[1:]:
        check_same_columns(pattern, first.all_columns, first.files[0], p)
    table = Table(
        path=pattern,
        files=files,
        all_columns=first.all_columns,
        binary=first.binary,
        header=first.header,
        index_columns=list(first.index_columns),
        header_doubt=first.header_doubt,
    )
    for c in first.columns:
        table.columns[c] = _stack_column(table, c, parts)
    return table


def _stack_column(table: Table, c: str, parts: list[Table]) -> np.ndarray:
    """One column of several files; marks it text or mixed in ``table``."""
    arrays = [p.columns[c] for p in parts]
    if any(a.dtype == object for a in arrays):
        merged = np.concatenate([a.astype(object) for a in arrays])
        if all(c in p.text for p in parts):
            table.text.add(c)
            return merged
        merged = _maybe_numeric(merged)
        if merged.dtype == object:
            table.mixed.add(c)
        return merged
    if any(a.dtype == np.float64 for a in arrays):
        return np.concatenate([a.astype(np.float64, copy=False) for a in arrays])
    return np.concatenate(arrays)


def _floats(arr: np.ndarray, *, stop: bool = False) -> tuple[np.ndarray, list[int]]:
    """Cells of an object column as float64 (None → NaN), and the rows that are not
    numbers (``stop``: only the first)."""
    out = np.empty(arr.shape[0], dtype=np.float64)
    bad: list[int] = []
    for i, cell in enumerate(arr):
        if cell is None:
            out[i] = np.nan
            continue
        try:
            out[i] = float(cell)
        except (TypeError, ValueError):
            bad.append(i)
            if stop:
                break
    return out, bad


def _maybe_numeric(arr: np.ndarray) -> np.ndarray:
    """An object column whose every cell is a number (or missing) → float64."""
    out, bad = _floats(arr, stop=True)
    return arr if bad else out


def choose_columns(select: Selector | None, names: list[str]) -> list[str]:
    """Columns to read: the selector's choice, or every column when it names none."""
    return _choose(select, names)


def _choose(select: Selector | None, names: list[str]) -> list[str]:
    """Columns to read: the selector's choice, or every column when it names none."""
    if select is None:
        return names
    return select(names) or names


def match_columns(patterns: Sequence[str], names: Sequence[str]) -> list[str]:
    """Names (in file order) equal to a pattern or matching it as a glob (``p_*``)."""
    out = []
    for n in names:
        for p in patterns:
            if n == p or (any(ch in p for ch in "*?[") and fnmatch.fnmatchcase(n, p)):
                out.append(n)
                break
    return out
