"""What the first bytes and lines of a text input say about it.

Used by :func:`losscli.data.readers.text_format`, the one place where a text input's
delimiter, header and column names are decided:

* :func:`decide_header`: SPEC §5 header detection (``--header auto|yes|no``) and the
  evidence printed with the decision;
* :func:`decimal_comma_problem`: a headerless one-column export with decimal commas
  (``0,05``) looks like two integer columns to a comma-delimited reader;
* :func:`not_text_problem`: a file that is not text at all (an Excel workbook, Parquet,
  NumPy, a compressed file with a plain extension, UTF-16 text) named like a CSV.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from losscli.errors import DataError

_INTEGER = re.compile(r"[+-]?\d+")
#: Longest excerpt of a row shown in a message.
_SHOWN = 40


def is_number(text: str, decimal: str = ".") -> bool:
    """Whether ``text`` is a number (with ``decimal`` as the decimal mark)."""
    s = text.strip()
    if not s or "_" in s:
        return False
    if decimal == ",":
        if "." in s:
            return False
        s = s.replace(",", ".")
    try:
        float(s)
    except ValueError:
        return False
    return True


def row_text(fields: Sequence[str], sep: str) -> str:
    """A row as the file shows it, cut to a readable length."""
    joiner = " " if sep == r"\s+" else sep
    text = joiner.join(f.strip() for f in fields)
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


@dataclass(frozen=True)
class HeaderDecision:
    """Whether the first row is a header, the note saying why (None when a text cell
    makes it plain), and what to say when the row counts of two files then differ by
    one (None: the first row could not be the other thing)."""

    header: bool
    note: str | None = None
    doubt: str | None = None


def decide_header(
    name: str,
    first: Sequence[str],
    rest: Sequence[Sequence[str]],
    *,
    mode: str = "auto",
    sep: str = ",",
    decimal: str = ".",
) -> HeaderDecision:
    """SPEC §5: is the first row (``first``, its fields) of ``name`` a header?

    ``rest`` holds the fields of the sampled rows below it. ``mode`` is ``--header``:
    ``yes``/``no`` decide; ``auto`` reads a row with any text cell as a header, the
    integers 0, 1, …, k−1 (pandas' names for an unnamed frame) as a header when the
    rows below are not integer-only, an empty cell followed by 0, 1, … (the same names
    written with the index) as a header, and any other all-numeric row as data.
    """
    shown = row_text(first, sep)
    positional = _positional_note(name, len(first))
    if mode == "yes":
        return HeaderDecision(True)
    if mode == "no":
        return HeaderDecision(False, f"{name}: first row read as data (--header no); {positional}")
    nonempty = [f for f in first if f.strip()]
    if not nonempty or not all(is_number(f, decimal) for f in nonempty):
        return HeaderDecision(True)
    if _pandas_index_header(first, rest):
        return HeaderDecision(
            True,
            f"{name}: first row '{shown}' read as a header: an empty cell above the index "
            "and 0, 1, … are what pandas' to_csv() writes for an unnamed frame with its "
            "index; pass --header no if it is data",
        )
    pandas_names = [f.strip() for f in first] == [str(j) for j in range(len(first))]
    cells = [c.strip() for row in rest for c in row if c.strip()]
    integer_rows = bool(cells) and all(_INTEGER.fullmatch(c) for c in cells)
    if pandas_names and cells and not integer_rows:
        return HeaderDecision(
            True,
            f"{name}: first row '{shown}' read as a header: it is the column names pandas "
            "writes for an unnamed frame (0, 1, …) and the rows below are not integers; "
            "pass --header no if it is data",
            f"{name}'s first row '{shown}' was read as a header (pandas' names 0, 1, …)",
        )
    why = "its first row is numeric"
    if pandas_names and integer_rows:
        why += f" ('{shown}' above integer rows: read as data, not as pandas' column names)"
    return HeaderDecision(
        False,
        f"{name} has no header row ({why}), so its {positional[len('its ') :]}",
        f"{name}'s first row '{shown}' was read as data, but could be a header"
        + (" (pandas names an unnamed column 0)" if pandas_names else ""),
    )


def _pandas_index_header(first: Sequence[str], rest: Sequence[Sequence[str]]) -> bool:
    """``,0,1,…``: the header ``DataFrame.to_csv(path)`` / ``Series.to_csv(path)`` write
    for columns without names (an empty cell above the index, then 0, 1, …), with an
    index below (a first cell in every sampled row, none of them a fraction). As data,
    the empty cell would be a missing value."""
    cells = [f.strip() for f in first]
    return (
        len(cells) >= 2
        and not cells[0]
        and cells[1:] == [str(j) for j in range(len(cells) - 1)]
        and all(row and row[0].strip() for row in rest)
        # an index holds labels (0, 1, … or ids), not measured values like 0.37
        and not any(is_number(row[0]) and not _INTEGER.fullmatch(row[0].strip()) for row in rest)
    )


def _positional_note(name: str, k: int) -> str:
    names = [str(j) for j in range(k)]
    shown = ", ".join(names[:6]) + (", …" if k > 6 else "")
    return f"its columns are named by position: {shown}"


def header_hint(doubts: Sequence[str | None]) -> str | None:
    """The question a row-count mismatch of one asks when a first row is in doubt."""
    said = [d for d in doubts if d]
    if not said:
        return None
    return (
        "; ".join(said)
        + ". Pass --header yes if every file's first row is a header, --header no if it "
        "is data"
    )


# --------------------------------------------------------------------------- decimals

_DECIMAL_COMMA = re.compile(r"\s*-?\d+,\d+\s*")
_WHOLE = re.compile(r"\s*-?\d+\s*")


def decimal_comma_problem(
    name: str, lines: Sequence[str], *, header_fields: int | None, leading: int
) -> DataError | None:
    """A DataError when the sampled lines of a comma-read input are ``digits,digits``
    (and perhaps plain ``digits``) — one column of decimal-comma numbers (``0,05``) or
    two integer columns; the numbers differ, so ``--decimal`` decides.
    ``header_fields`` is the field count of a header line (None: the first line is
    data and is in ``lines``)."""
    data = [ln for ln in lines if ln.strip()]
    if header_fields is not None:
        data = data[1:]
        if header_fields != 1:
            return None
    commas = [ln for ln in data if _DECIMAL_COMMA.fullmatch(ln)]
    if not commas or not all(_DECIMAL_COMMA.fullmatch(ln) or _WHOLE.fullmatch(ln) for ln in data):
        return None
    example = commas[0].strip()
    line = leading + 1 + lines.index(commas[0]) if commas[0] in lines else leading + 1
    reading = "with a decimal comma, or as two integer columns"
    if len(commas) < len(data) or header_fields is not None:
        reading = "with a decimal comma (a comma cannot separate columns here)"
    return DataError(
        f"{name}: line {line} '{example}' reads as {example.replace(',', '.')} {reading}",
        hint="pass --decimal , for decimal commas (European exports)"
        + (", or --decimal . if the comma separates two columns" if "integer" in reading else ""),
    )


# --------------------------------------------------------------------------- not text

#: Magic bytes of formats that are not delimited text, and what to do with such a file.
_MAGIC: tuple[tuple[bytes, str, str], ...] = (
    (b"PAR1", "a Parquet file", "name it .parquet (losscli reads Parquet directly)"),
    (b"\x93NUMPY", "a NumPy .npy array", "name it .npy (losscli reads .npy directly)"),
    (b"\x1f\x8b", "gzip-compressed", "name it .csv.gz so that it is decompressed"),
    (b"BZh", "bzip2-compressed", "name it .csv.bz2 so that it is decompressed"),
    (b"\xfd7zXZ\x00", "xz-compressed", "name it .csv.xz so that it is decompressed"),
    (b"\xd0\xcf\x11\xe0", "an old Excel workbook (.xls)", "save the sheet as CSV UTF-8"),
)
_UTF16_HINT = (
    "re-encode it as UTF-8, e.g. `iconv -f utf-16 -t utf-8 FILE > FILE.utf8.csv` "
    "(pandas: df.to_csv(path) writes UTF-8 by default)"
)


def not_text_problem(name: str, head: bytes, *, zip_names: Sequence[str] = ()) -> DataError | None:
    """A DataError when the first bytes of a text input show it is something else.

    ``zip_names`` are the member names when ``head`` starts a zip archive (an ``.xlsx``
    workbook is a zip holding ``xl/``).
    """
    for magic, what, hint in _MAGIC:
        if head.startswith(magic):
            return DataError(f"{name}: is {what}, not delimited text", hint=hint)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        if any(n.startswith("xl/") for n in zip_names):
            return DataError(
                f"{name}: is an Excel workbook (.xlsx), not delimited text",
                hint="save the sheet as CSV UTF-8 (File › Save As), or "
                "pd.read_excel(path).to_csv(out, index=False)",
            )
        if any(n.endswith(".npy") for n in zip_names):
            return DataError(
                f"{name}: is a NumPy .npz archive, not delimited text",
                hint="name it .npz (losscli reads .npz directly)",
            )
        return DataError(
            f"{name}: is a zip archive, not delimited text",
            hint="name it .csv.zip so that it is decompressed, or unzip it",
        )
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return DataError(
            f"{name}: is UTF-16 text (byte-order mark {head[:2].hex()})", hint=_UTF16_HINT
        )
    if b"\x00" in head:
        sample = head[:4096]
        zeros_odd = sample[1::2].count(0)
        zeros_even = sample[0::2].count(0)
        half = len(sample) // 2
        if half and max(zeros_odd, zeros_even) > half * 0.6:
            order = "little-endian" if zeros_odd > zeros_even else "big-endian"
            return DataError(
                f"{name}: looks like UTF-16 text without a byte-order mark ({order}: a NUL "
                "byte beside every character)",
                hint=_UTF16_HINT.replace("utf-16", "utf-16le" if order[0] == "l" else "utf-16be"),
            )
        at = head.index(b"\x00")
        line = head[:at].count(b"\n") + 1
        return DataError(
            f"{name}: holds NUL bytes (line {line}): binary data, not delimited text",
            hint="check that the file is a CSV export and that its extension matches its format",
        )
    return None
