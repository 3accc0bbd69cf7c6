"""Column roles, row alignment and label encoding.

* Roles: which columns are predictions, targets, ids, sample weights and image groups.
  By default every numeric column other than the id/group/weight columns (SPEC §5).
* Alignment: rows join on an id column (``--id-col``, or an ``id`` column present in
  both files) or align by order, in which case the row counts must match exactly.
  Nothing is ever dropped or reordered silently: missing and duplicate ids are errors.
* Label encoding: class indices, class names matching the prediction columns, one-hot
  target columns → int64 class indices; long-form segmentation rows → images.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat

import numpy as np

from losscli.data.readers import Table, match_columns
from losscli.data.sniff import header_hint
from losscli.errors import DataError, did_you_mean

#: Column names that hold the targets when one file holds both (case-insensitive).
TARGET_NAMES = ("target", "targets", "y", "y_true", "label", "labels")
#: Column name joined on automatically when both files have it (case-insensitive).
ID_NAME = "id"
#: Names of the index column ``DataFrame.to_csv`` writes by default: an empty header cell,
#: which pandas reads back as ``Unnamed: 0`` and pyarrow as ``""`` (SPEC §5 Index columns).
CSV_INDEX_NAMES = ("", "Unnamed: 0")
#: The column ``DataFrame.to_parquet`` stores an unnamed non-range index in.
PARQUET_INDEX_NAME = "__index_level_0__"


@dataclass
class RowRef:
    """Maps positions of aligned arrays back to the source rows of one table."""

    table: Table
    pos: np.ndarray | None = None

    @property
    def name(self) -> str:
        return self.table.name

    def source(self, idx: np.ndarray | Sequence[int]) -> np.ndarray:
        idx = np.asarray(idx, dtype=np.int64)
        return idx if self.pos is None else self.pos[idx]

    def phrase(
        self, idx: np.ndarray | Sequence[int], *, total: int | None = None, noun: str = "row"
    ) -> str:
        return self.table.rows_phrase(self.source(idx), total=total, noun=noun)

    def rows(self, n: int) -> np.ndarray:
        """1-based source row numbers of the n aligned rows."""
        if self.pos is None:
            return self.table.row_numbers[:n]
        return self.table.row_numbers[self.pos]

    def take(self, arr: np.ndarray) -> np.ndarray:
        """``arr`` (one entry per table row) in aligned order."""
        return arr if self.pos is None else arr[self.pos]

    def keep(self, mask: np.ndarray) -> RowRef:
        """The same reference restricted to the aligned rows where ``mask`` holds."""
        base = np.arange(self.table.n_rows) if self.pos is None else self.pos
        return RowRef(self.table, base[mask])


# --------------------------------------------------------------------------- columns


def find_column(table: Table, name: str) -> str | None:
    """``name`` in ``table``: exact, else case-insensitive; None when absent. The empty
    name and ``Unnamed: 0`` both name a CSV index column, whichever a reader called it."""
    if name.strip().lower() in ("", "unnamed: 0"):
        hit = _csv_index_name(table)
        if hit is not None:
            return hit
    if name in table.all_columns:
        return name
    low = name.lower()
    hits = [c for c in table.all_columns if c.lower() == low]
    return hits[0] if len(hits) == 1 else None


#: What a column-naming flag names, and its key under ``columns`` in a config file. The
#: same names arrive from the flags and from ``--config``, so messages name the role.
COLUMN_ROLES = {
    "--pred-col": ("prediction column", "pred"),
    "--target-col": ("target column", "target"),
    "--id-col": ("id column", "id"),
    "--weight-col": ("sample-weight column", "weight"),
    "--group-col": ("group column", "group"),
}


def _csv_index_name(table: Table) -> str | None:
    """The key of a first column named ``""`` or ``Unnamed: 0`` (pandas' default index)."""
    if not table.header or not table.all_columns:
        return None
    first = table.all_columns[0]
    if first.strip() not in CSV_INDEX_NAMES and first.strip().lower() != "unnamed: 0":
        return None
    for key in (first, *CSV_INDEX_NAMES):
        if key in table.columns:
            return key
    return None


def index_column(table: Table) -> str | None:
    """The column holding the file's index, never data (SPEC §5): a first CSV column with
    an empty name or ``Unnamed: 0`` (``DataFrame.to_csv`` by default), or a Parquet
    file's pandas index (``__index_level_0__``, or the pandas metadata's index column)."""
    if table.tensor is not None:
        return None
    for col in table.index_columns:
        if col in table.columns:
            return col
    if PARQUET_INDEX_NAME in table.columns:
        return PARQUET_INDEX_NAME
    return _csv_index_name(table)


def _index_label(col: str) -> str:
    return "'Unnamed: 0' (an empty header cell)" if col.strip() in CSV_INDEX_NAMES else f"'{col}'"


def _role(flag: str) -> tuple[str, str]:
    return COLUMN_ROLES.get(flag, ("column", flag.lstrip("-")))


def unknown_column(name: str, tables: Sequence[Table], flag: str) -> DataError:
    """DataError (SPEC §2: a missing column is an input data error) for a column that
    ``flag`` — or the config key of the same role — names but no file has."""
    names: list[str] = []
    for t in tables:
        names.extend(c for c in t.all_columns if c not in names)
    hint = did_you_mean(name, names)
    shown = ", ".join(names[:15]) + (", …" if len(names) > 15 else "")
    where = " or ".join(t.name for t in tables)
    role, key = _role(flag)
    return DataError(
        f"column '{name}' ({role}) is not in {where}",
        hint=(hint + " — " if hint else "")
        + f"columns: {shown} (the name comes from {flag} or columns.{key} in --config)",
    )


def resolve_columns(requested: Sequence[str], table: Table, flag: str) -> list[str]:
    """Expand names and globs (``p_*``) against ``table``; unknown names are data errors."""
    out: list[str] = []
    for req in requested:
        for part in (p.strip() for p in req.split(",")):
            if not part:
                continue
            if any(ch in part for ch in "*?["):
                hits = match_columns([part], table.all_columns)
                if not hits:
                    raise DataError(
                        f"column pattern '{part}' ({_role(flag)[0]}) matches no column of "
                        f"{table.name}",
                        hint="columns: " + ", ".join(table.all_columns[:15]),
                    )
            else:
                col = find_column(table, part)
                if col is None:
                    raise unknown_column(part, [table], flag)
                hits = [col]
            out.extend(h for h in hits if h not in out)
    return out


def default_columns(table: Table, exclude: set[str], *, allow_text: bool) -> list[str]:
    """Every numeric (or numeric-with-bad-cells) column not in ``exclude``.

    With ``allow_text`` and no numeric column left, the text columns instead (class names).
    """
    cols = [c for c in table.columns if c not in exclude]
    numeric = [c for c in cols if c not in table.text]
    if numeric or not allow_text:
        return numeric
    return [c for c in cols if c in table.text]


@dataclass
class Roles:
    """Columns with a fixed role, located in the predictions (``"pred"``) or targets table."""

    id_pred: str | None = None
    id_target: str | None = None
    weight: tuple[str, str] | None = None  # (which table, column)
    group: tuple[str, str] | None = None
    #: The weight or group column's namesake in the other file ((which table, column)):
    #: not a prediction or target column either.
    mirrors: list[tuple[str, str]] = field(default_factory=list)
    #: Index columns (``Unnamed: 0``, ``__index_level_0__``) left out of the data.
    index_cols: list[tuple[str, str]] = field(default_factory=list)
    #: The rows are joined on both files' indexes.
    index_join: bool = False
    evidence: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def excluded(self, which: str) -> set[str]:
        """Role columns of one table, never used as predictions or targets by default."""
        out = set()
        if which == "pred" and self.id_pred:
            out.add(self.id_pred)
        if which == "target" and self.id_target:
            out.add(self.id_target)
        for role in (self.weight, self.group, *self.mirrors, *self.index_cols):
            if role is not None and role[0] == which:
                out.add(role[1])
        return out

    @property
    def joined(self) -> bool:
        return self.id_pred is not None and self.id_target is not None


def _locate(name: str, ptab: Table, ttab: Table | None, flag: str) -> tuple[str, str]:
    col = find_column(ptab, name)
    if col is not None:
        return "pred", col
    if ttab is not None and ttab is not ptab:
        col = find_column(ttab, name)
        if col is not None:
            return "target", col
    raise unknown_column(
        name, [ptab] + ([ttab] if ttab is not None and ttab is not ptab else []), flag
    )


def resolve_roles(
    ptab: Table,
    ttab: Table | None,
    *,
    id_col: str | None,
    weight_col: str | None,
    group_col: str | None,
) -> Roles:
    """Locate the id, weight and group columns (``ttab is ptab`` in one-file mode)."""
    roles = Roles()
    other = ttab if ttab is not None and ttab is not ptab else None
    if id_col is not None:
        _given_id(roles, id_col, ptab, other)
    else:
        _found_ids(roles, ptab, other)
        _named_index_roles(roles, ptab, other)
    _index_roles(roles, ptab, other)
    if weight_col is not None:
        roles.weight = _locate(weight_col, ptab, ttab, "--weight-col")
    if group_col is not None:
        roles.group = _locate(group_col, ptab, ttab, "--group-col")
    if other is not None:
        for role in (roles.weight, roles.group):
            if role is not None and role[0] == "pred":
                mirror = find_column(other, role[1])
                if mirror is not None:
                    roles.mirrors.append(("target", mirror))
    return roles


def _given_id(roles: Roles, id_col: str, ptab: Table, ttab: Table | None) -> None:
    """--id-col: in the predictions, and in the targets when they are another file."""
    pc = find_column(ptab, id_col)
    if pc is None:
        raise unknown_column(id_col, [ptab], "--id-col")
    roles.id_pred = pc
    if ttab is None:
        return
    tc = find_column(ttab, id_col)
    if tc is None:
        raise unknown_column(id_col, [ttab], "--id-col")
    roles.id_target = tc
    roles.evidence.append(f"rows are joined on the id column '{pc}' (--id-col)")


def _index_roles(roles: Roles, ptab: Table, ttab: Table | None) -> None:
    """Index columns are never data: the join key when both files have one (and no id
    column is joined on), else left out with a note."""
    pidx = index_column(ptab)
    tidx = index_column(ttab) if ttab is not None else None
    if pidx is not None and tidx is not None and roles.id_pred is None and roles.id_target is None:
        roles.id_pred, roles.id_target, roles.index_join = pidx, tidx, True
        roles.evidence.append(
            f"both files have an index column ({_index_label(pidx)} in {ptab.name}, "
            f"{_index_label(tidx)} in {ttab.name if ttab else ''}) → rows are joined on it"
        )
        return
    for which, table, col, used in (
        ("pred", ptab, pidx, roles.id_pred),
        ("target", ttab, tidx, roles.id_target),
    ):
        if col is None or table is None or col == used:
            continue
        roles.index_cols.append((which, col))
        why = "" if ttab is None else " (the other file has none, so rows align by order)"
        roles.evidence.append(
            f"{table.name}: column {_index_label(col)} is the file's index, not data — "
            f"left out{why}"
        )


def _unique_whole_numbers(table: Table, col: str) -> bool:
    v = table.columns.get(col)
    if v is None or v.dtype.kind not in "iuf" or v.size == 0:
        return False
    if v.dtype.kind == "f" and not bool(np.all(np.isfinite(v) & (v == np.round(v)))):
        return False
    return bool(np.unique(v).size == v.size)


def _named_index_roles(roles: Roles, ptab: Table, ttab: Table | None) -> None:
    """A named pandas index written by ``to_csv`` (``Index(..., name="row")``): both
    files start with a column of the same name holding unique whole numbers, next to
    other columns. As data it would be one more output (halving an MSE), so it is the
    join key, as an index column is (SPEC §5); ``--id-col`` chooses another."""
    if ttab is None or roles.id_pred is not None or roles.id_target is not None:
        return
    if index_column(ptab) is not None or index_column(ttab) is not None:
        return
    if not (ptab.header and ttab.header) or ptab.tensor is not None or ttab.tensor is not None:
        return
    if len(ptab.all_columns) < 2 or len(ttab.all_columns) < 2:
        return
    pc, tc = ptab.all_columns[0], ttab.all_columns[0]
    if pc.strip() != tc.strip() or pc in ptab.text or tc in ttab.text:
        return
    if not (_unique_whole_numbers(ptab, pc) and _unique_whole_numbers(ttab, tc)):
        return
    roles.id_pred, roles.id_target, roles.index_join = pc, tc, True
    roles.evidence.append(
        f"both files start with a column '{pc}' of unique whole numbers (a named index, "
        "as pandas' to_csv writes it) → it is not data; rows are joined on it "
        "(pass --id-col to join on another column)"
    )


def _found_ids(roles: Roles, ptab: Table, ttab: Table | None) -> None:
    """Columns named id: joined on when both files have one, else a warning."""
    pc = find_column(ptab, ID_NAME)
    tc = find_column(ttab, ID_NAME) if ttab is not None else None
    if pc is not None and tc is not None:
        roles.id_pred, roles.id_target = pc, tc
        roles.evidence.append(
            f"both files have an '{pc}' column, so rows are joined on it instead of by order"
        )
    elif pc is not None:
        roles.id_pred = pc
        if ttab is not None:
            roles.warnings.append(
                f"{ptab.name} has an '{pc}' column but {ttab.name} has none: rows align by order"
            )
    elif tc is not None and ttab is not None:
        roles.id_target = tc
        roles.warnings.append(
            f"{ttab.name} has an '{tc}' column but {ptab.name} has none: rows align by order"
        )


#: Column names taken for the image id of long-form segmentation pixel rows when both
#: files hold the same values in them (and no --group-col is given).
GROUP_NAMES = ("image", "image_id", "group")


def infer_group(ptab: Table, ttab: Table, roles: Roles) -> tuple[str, str, str] | None:
    """A group column both files share: (predictions column, targets column, evidence).

    Long-form segmentation without ``--group-col``: a column named image, image_id or
    group, with identical values (whole numbers or text) in both files, in contiguous
    runs of one value each, all of one length ≥ 2 (the last may be shorter: the first
    chunk of a streamed read ends inside an image), where every other target value is a
    class label (a whole number in 0..max(1, C-1)). Without all of this, None.
    """
    if ptab.n_rows != ttab.n_rows or ptab.n_rows < 2:
        return None
    for name in GROUP_NAMES:
        pc, tc = find_column(ptab, name), find_column(ttab, name)
        if pc is None or tc is None or pc == roles.id_pred or tc == roles.id_target:
            continue
        run = _image_run(ptab.columns.get(pc), ttab.columns.get(tc))
        if run is None or not _pixel_labels(ptab, ttab, roles, pc, tc):
            continue
        ev = (
            f"both files have the same '{pc}' column, in runs of {run} rows "
            f"→ it names the image of long-form segmentation pixel rows (--group-col {pc}); "
            "pass --task regression or binary to read every row as a sample instead"
        )
        return pc, tc, ev
    return None


def _image_run(pv: np.ndarray | None, tv: np.ndarray | None) -> int | None:
    """Rows per image when both columns hold the same ids in runs of one length ≥ 2
    (the last may be shorter); else None."""
    if pv is None or tv is None or not _same_labels(pv, tv):
        return None
    runs = _run_lengths(pv)
    if runs is None or runs.size < 2 or runs[0] < 2:
        return None
    if np.any(runs[:-1] != runs[0]) or runs[-1] > runs[0]:
        return None
    return int(runs[0])


def _pixel_labels(ptab: Table, ttab: Table, roles: Roles, pc: str, tc: str) -> bool:
    """Every other target column holds class labels of the prediction columns."""
    pex, tex = roles.excluded("pred") | {pc}, roles.excluded("target") | {tc}
    k = len(default_columns(ptab, pex, allow_text=False))
    tcols = default_columns(ttab, tex, allow_text=False)
    return k > 0 and bool(tcols) and all(_class_like(ttab.columns[c], k) for c in tcols)


def _same_labels(a: np.ndarray, b: np.ndarray) -> bool:
    if a.dtype == object or b.dtype == object:
        return a.dtype == object and b.dtype == object and bool(np.all(a == b))
    if not (np.all(np.isfinite(a)) and np.all(a == np.round(a))):
        return False
    return bool(np.array_equal(a, b))


def _run_lengths(v: np.ndarray) -> np.ndarray | None:
    """Lengths of the runs of equal values, None when a value comes back after its run."""
    change = np.flatnonzero(v[1:] != v[:-1]) + 1
    starts = np.concatenate(([0], change))
    firsts = v[starts]
    if np.unique(firsts.astype(str) if v.dtype == object else firsts).size != starts.size:
        return None
    return np.diff(np.concatenate((starts, [v.shape[0]])))


def _class_like(col: np.ndarray, k: int) -> bool:
    if col.dtype == object:
        return False
    v = col[np.isfinite(col)] if col.dtype.kind == "f" else col
    return bool(v.size and np.all(v == np.round(v)) and v.min() >= 0 and v.max() <= max(1, k - 1))


def one_file_targets(table: Table, exclude: set[str]) -> list[str]:
    """Target columns of a file that also holds the predictions: one named target/y/label."""
    hits = []
    for name in TARGET_NAMES:
        col = find_column(table, name)
        if col is not None and col not in exclude and col not in hits:
            hits.append(col)
    return hits[:1]


# --------------------------------------------------------------------------- rows


@dataclass
class Alignment:
    """Positions in each table of the aligned rows (None = identity), and the ids used."""

    pred: RowRef
    target: RowRef | None
    row_ids: np.ndarray | None = None


def align_rows(ptab: Table, ttab: Table | None, roles: Roles) -> Alignment:
    """Join on ids when both tables have one, else align by order (equal row counts)."""
    if ttab is None or ttab is ptab:
        ids = id_values(ptab, roles.id_pred) if roles.id_pred else None
        if ids is not None:
            _check_missing_ids(ptab, roles.id_pred or "", ids)
        return Alignment(RowRef(ptab), RowRef(ptab) if ttab is not None else None, ids)
    if roles.joined:
        assert roles.id_pred is not None and roles.id_target is not None
        try:
            return join_on_ids(ptab, ttab, roles.id_pred, roles.id_target)
        except DataError as exc:
            if not roles.index_join:
                raise
            raise DataError(
                f"the files' indexes do not match: {exc.message}",
                hint="the files hold different indexes (e.g. a test split's row labels and "
                "0…n−1): save both with index=False (or reset_index(drop=True) first) to "
                "align rows by order, or save both with the same index",
            ) from None
    if ptab.n_rows != ttab.n_rows:
        raise row_count_error(
            ptab.name,
            ptab.n_rows,
            ttab.name,
            ttab.n_rows,
            doubts=(ptab.header_doubt, ttab.header_doubt),
        )
    ids = id_values(ptab, roles.id_pred) if roles.id_pred else None
    return Alignment(RowRef(ptab), RowRef(ttab), ids)


def row_count_error(
    pred_name: str,
    pred_rows: int,
    target_name: str,
    target_rows: int,
    *,
    doubts: Sequence[str | None] = (),
) -> DataError:
    """Files aligned by row order hold different numbers of rows. When they differ by
    one and a file's first row could be a header (or was read as one), the error says
    so and names ``--header`` (SPEC §9); ``doubts`` are the tables' header doubts."""
    question = header_hint(doubts) if abs(pred_rows - target_rows) == 1 else None
    if question is not None:
        return DataError(
            f"row counts differ by one: {pred_name} has {pred_rows} rows, {target_name} has "
            f"{target_rows}; a first row may be a header read as data, or data read as a "
            "header",
            hint=question,
        )
    return DataError(
        f"row counts differ: {pred_name} has {pred_rows} rows, {target_name} has {target_rows}",
        hint="rows align by order; add an id column to both files (or pass --id-col) to join on it",
    )


def id_values(table: Table, col: str | None) -> np.ndarray | None:
    """Id column values: int64 for integral numbers, float64 for other numbers, else str."""
    if col is None:
        return None
    arr = table.columns[col]
    if arr.dtype == np.float64:
        finite = arr[np.isfinite(arr)]
        if (
            finite.size == arr.size
            and np.all(finite == np.round(finite))
            and (finite.size == 0 or np.abs(finite).max() < 2**53)
        ):
            return arr.astype(np.int64)
        return arr
    if arr.dtype == object:
        out = np.empty(arr.shape[0], dtype=object)
        for i, v in enumerate(arr):
            out[i] = None if v is None else str(v).strip()
        return out
    return arr


def _missing_mask(ids: np.ndarray) -> np.ndarray:
    if ids.dtype == object:
        return np.fromiter(map(_missing_value, ids), dtype=bool, count=ids.shape[0])
    if ids.dtype.kind == "f":
        return ~np.isfinite(ids)
    return np.zeros(ids.shape[0], dtype=bool)


def _check_missing_ids(table: Table, col: str, ids: np.ndarray) -> None:
    miss = np.flatnonzero(_missing_mask(ids))
    if miss.size:
        raise DataError(
            f"{table.name}: id column '{col}' is empty at {table.rows_phrase(miss[:5], total=miss.size)}",
            hint="every row needs an id to be joined; fill in the ids or remove those rows",
        )


def _comparable(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Ids of both files in one type (numbers compare as numbers, else as text)."""
    if a.dtype != object and b.dtype != object:
        if a.dtype.kind == "f" or b.dtype.kind == "f":
            return a.astype(np.float64), b.astype(np.float64)
        return a, b

    def as_text(x: np.ndarray) -> np.ndarray:
        if x.dtype == object:
            return x
        return np.array([str(v) for v in x.tolist()], dtype=object)

    return as_text(a), as_text(b)


def _fmt_ids(values: Sequence[object]) -> str:
    return ", ".join(repr(v) if isinstance(v, str) else str(v) for v in values)


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(codes, uniques)``: each value's int64 code, numbered in order of first
    appearance (``uniques[codes] == values``), -1 for a missing value (None, NaN, and the
    empty string in text). Numbers through a sort, text through a dict; no pandas (its
    import alone costs more than factorizing a million ids)."""
    n = values.shape[0]
    if values.dtype == object:
        items = values.tolist()
        present = [v for v in dict.fromkeys(items) if not _missing_value(v)]  # first seen
        code_of = {v: i for i, v in enumerate(present)}
        codes = np.fromiter(map(code_of.get, items, repeat(-1)), dtype=np.int64, count=n)
        uniques = np.empty(len(present), dtype=object)
        uniques[:] = present
        return codes, uniques
    codes = np.full(n, -1, dtype=np.int64)
    present = ~np.isnan(values) if values.dtype.kind == "f" else np.ones(n, dtype=bool)
    vals, first, inverse = np.unique(values[present], return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # sorted values → order of first appearance
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    codes[present] = rank[inverse.reshape(-1)]
    return codes, vals[order]


def id_positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Position in ``ids`` (unique) of each id of ``wanted``; -1 where it is missing."""
    if not ids.shape[0]:
        return np.full(wanted.shape[0], -1, dtype=np.int64)
    if ids.dtype != object and wanted.dtype != object:  # numbers: a binary search
        order = np.argsort(ids, kind="stable")
        ordered = ids[order]
        at = np.minimum(np.searchsorted(ordered, wanted), ids.shape[0] - 1)
        return np.where(ordered[at] == wanted, order[at], -1).astype(np.int64)
    where = {v: i for i, v in enumerate(ids.tolist())}  # text: a dict
    items = wanted.tolist()
    return np.fromiter(map(where.get, items, repeat(-1)), dtype=np.int64, count=len(items))


def _missing_value(v: object) -> bool:
    return v is None or v == "" or (isinstance(v, float) and v != v)


def _repeated(ids: np.ndarray) -> np.ndarray:
    """The ids that occur more than once, in order of first appearance."""
    if ids.dtype != object:
        ordered = np.sort(ids)
        if not (ordered[1:] == ordered[:-1]).any():
            return ids[:0]  # the common case, one sort
    elif len(set(ids.tolist())) == ids.shape[0]:
        return ids[:0]  # the common case, one set
    codes, uniques = factorize(ids)
    counts = np.bincount(codes[codes >= 0], minlength=uniques.shape[0])
    return uniques[counts > 1]


def match_ids(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray | None:
    """The order that puts ``ids`` in the order of ``wanted`` (``ids[pos] == wanted``),
    when both hold the same unique ids; None otherwise."""
    if ids.shape != wanted.shape or _repeated(ids).size:
        return None
    pos = id_positions(ids, wanted)
    return None if (pos < 0).any() else pos


def join_on_ids(ptab: Table, ttab: Table, pcol: str, tcol: str) -> Alignment:
    """Targets reordered to the prediction rows by id; every id must match exactly once."""
    pid_raw = id_values(ptab, pcol)
    tid_raw = id_values(ttab, tcol)
    assert pid_raw is not None and tid_raw is not None
    _check_missing_ids(ptab, pcol, pid_raw)
    _check_missing_ids(ttab, tcol, tid_raw)
    pid, tid = _comparable(pid_raw, tid_raw)
    for table, col, ids in ((ptab, pcol, pid), (ttab, tcol, tid)):
        repeated = _repeated(ids)
        if repeated.size:
            parts = []
            for d in repeated[:3]:
                rows = np.flatnonzero(ids == d)
                parts.append(f"{_fmt_ids([d])} at {table.rows_phrase(rows[:4], total=rows.size)}")
            n_dup = int(repeated.size)
            raise DataError(
                f"{table.name}: {n_dup} duplicate id{'s' if n_dup > 1 else ''} in column "
                f"'{col}': " + "; ".join(parts),
                hint="ids must be unique to join the files; remove the repeated rows",
            )
    target_pos = id_positions(tid, pid)
    lost = np.flatnonzero(target_pos < 0)
    extra = np.flatnonzero(id_positions(pid, tid) < 0)
    if lost.size or extra.size:
        parts = []
        if lost.size:
            parts.append(
                f"{lost.size} id{'s' if lost.size > 1 else ''} of {ptab.name} "
                f"{'are' if lost.size > 1 else 'is'} missing from {ttab.name} "
                f"(e.g. {_fmt_ids(pid_raw[lost[:5]].tolist())})"
            )
        if extra.size:
            parts.append(
                f"{extra.size} id{'s' if extra.size > 1 else ''} of {ttab.name} "
                f"{'are' if extra.size > 1 else 'is'} missing from {ptab.name} "
                f"(e.g. {_fmt_ids(tid_raw[extra[:5]].tolist())})"
            )
        raise DataError(
            "ids do not match: " + "; ".join(parts),
            hint="both files must hold the same ids; check that they come from the same split",
        )
    same_order = bool(np.array_equal(target_pos, np.arange(target_pos.size)))
    return Alignment(
        RowRef(ptab),
        RowRef(ttab, None if same_order else target_pos.astype(np.int64)),
        pid_raw,
    )


# --------------------------------------------------------------------------- labels


def class_indices(
    labels: np.ndarray, class_names: Sequence[str], ref: RowRef, column: str
) -> tuple[np.ndarray, str]:
    """Target labels → int64 class indices in ``0..C-1``, and how they were read.

    ``labels`` holds numbers (class indices, or integer class names when every
    prediction column is named by an integer) or text (class names, which must match
    the prediction column names).
    """
    names = [str(c) for c in class_names]
    k = len(names)
    if labels.dtype == object:
        return _named_classes(labels, names, ref, column)
    vals = labels.astype(np.float64, copy=False)
    integral = vals == np.round(vals)
    bad_idx = np.flatnonzero(~integral)
    if bad_idx.size:
        raise DataError(
            f"{ref.name}: column '{column}': label {vals[bad_idx[0]]:g} at "
            f"{ref.phrase(bad_idx[:5], total=bad_idx.size)} is not a whole number",
            hint=f"multiclass targets are class indices 0..{k - 1}, class names, or one-hot columns",
        )
    if all(_is_int_text(n) for n in names) and [int(n) for n in names] != list(range(k)):
        return _integer_named_classes(vals.astype(np.int64), names, ref, column)
    suffixes = class_suffixes(names)
    if (
        suffixes is not None
        and all(_is_int_text(n) for n in suffixes)
        and [int(n) for n in suffixes] != list(range(k))
    ):  # proba_2, proba_0, proba_1: the columns name the classes
        return _integer_named_classes(vals.astype(np.int64), suffixes, ref, column)
    ints = vals.astype(np.int64)
    bad_idx = np.flatnonzero((ints < 0) | (ints >= k))
    if bad_idx.size:
        raise DataError(
            f"{ref.name}: column '{column}': class index {ints[bad_idx[0]]} at "
            f"{ref.phrase(bad_idx[:5], total=bad_idx.size)} is outside 0..{k - 1} "
            f"({k} prediction columns)",
            hint="class indices count from 0 and there must be one prediction column per class"
            + (
                "; for -1/+1 labels with predict_proba, name the columns after classes_ "
                "(-1, 1) or pass --task binary"
                if k == 2 and bool(np.all(np.abs(ints) == 1))
                else ""
            ),
        )
    return ints, "class indices"


_NUMBERED = re.compile(r"(.*?)(\d+)")


def class_suffixes(names: Sequence[str]) -> list[str] | None:
    """The class part of prediction columns named with one common prefix
    (``proba_setosa``, ``p_0``, ``class2``), or None when they have none."""
    if len(names) < 2:
        return None
    numbered = [_NUMBERED.fullmatch(n.strip()) for n in names]
    if all(numbered) and len({m.group(1) for m in numbered if m}) == 1:
        out = [m.group(2) for m in numbered if m]
        return out if out[0] != names[0].strip() else None
    stripped = [n.strip() for n in names]
    prefix = stripped[0]
    for n in stripped[1:]:
        while not n.startswith(prefix):
            prefix = prefix[:-1]
    cut = max(prefix.rfind(c) for c in "_-.: ") + 1
    if cut <= 0:
        return None
    out = [n.strip()[cut:] for n in names]
    return out if all(out) and len(set(out)) == len(out) else None


def _named_classes(
    labels: np.ndarray, names: list[str], ref: RowRef, column: str
) -> tuple[np.ndarray, str]:
    """Text labels → indices of the prediction columns they name (case-insensitive)."""
    lookup = {n: i for i, n in enumerate(names)}
    lookup_ci = {n.lower(): i for i, n in enumerate(names)}
    suffixes = class_suffixes(names) or []
    for i, suffix in enumerate(suffixes):  # proba_setosa names setosa
        lookup_ci.setdefault(suffix.lower(), i)
    out = np.empty(labels.shape[0], dtype=np.int64)
    bad: list[int] = []
    for i, v in enumerate(labels):
        key = "" if v is None else str(v).strip()
        j = lookup.get(key)
        if j is None:
            j = lookup_ci.get(key.lower())
        if j is None:
            j = _integer_name(key, lookup)
        if j is None:
            bad.append(i)
        out[i] = -1 if j is None else j
    if bad:
        first = str(labels[bad[0]])
        unknown = list(dict.fromkeys(str(labels[b]) for b in bad))
        hint = did_you_mean(first, names)
        raise DataError(
            f"{ref.name}: column '{column}': unknown class name"
            f"{'s' if len(unknown) > 1 else ''} {_fmt_ids(unknown[:5])} at "
            f"{ref.phrase(bad[:5], total=len(bad))}",
            hint=(hint + " " if hint else "")
            + "class names must match the prediction columns: "
            + ", ".join(names[:20]),
        )
    return out, "class names matching the prediction columns"


def _integer_named_classes(
    ints: np.ndarray, names: list[str], ref: RowRef, column: str
) -> tuple[np.ndarray, str]:
    """Integer labels → indices of the prediction columns named by those integers."""
    lookup = {int(n): i for i, n in enumerate(names)}
    out = np.fromiter((lookup.get(int(v), -1) for v in ints), dtype=np.int64, count=ints.size)
    bad_idx = np.flatnonzero(out < 0)
    if bad_idx.size:
        raise DataError(
            f"{ref.name}: column '{column}': label {ints[bad_idx[0]]} at "
            f"{ref.phrase(bad_idx[:5], total=bad_idx.size)} is not one of the classes",
            hint="the prediction columns name the classes: " + ", ".join(names[:20]),
        )
    return out, "integer labels matching the prediction column names"


def _is_int_text(s: str) -> bool:
    try:
        int(s)
    except ValueError:
        return False
    return True


def _integer_name(key: str, lookup: dict[str, int]) -> int | None:
    """'1.0' matches a class column named '1'."""
    try:
        f = float(key)
    except ValueError:
        return None
    if f.is_integer():
        return lookup.get(str(int(f)))
    return None


def one_hot_indices(target: np.ndarray, ref: RowRef, columns: Sequence[str]) -> np.ndarray:
    """One-hot target rows (exactly one 1 per row) → int64 class indices."""
    ones = target == 1.0
    zeros = target == 0.0
    ok = (ones | zeros).all(axis=1) & (ones.sum(axis=1) == 1)
    bad = np.flatnonzero(~ok)
    if bad.size:
        row = target[bad[0]]
        raise DataError(
            f"{ref.name}: one-hot target columns ({', '.join(columns[:8])}) need exactly one 1 "
            f"per row; {ref.phrase(bad[:5], total=bad.size)} "
            f"{'does' if bad.size == 1 else 'do'} not (first: {_fmt_row(row)})",
            hint="use one column of class indices or names instead, or --task multilabel",
        )
    return np.argmax(target, axis=1).astype(np.int64)


def _fmt_row(row: np.ndarray) -> str:
    return "[" + ", ".join(f"{v:g}" for v in row[:8]) + (", …]" if row.size > 8 else "]")


def encode_names(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """Text labels → int64 codes in order of first appearance, and the names."""
    seen: dict[str, int] = {}
    out = np.empty(labels.shape[0], dtype=np.int64)
    for i, v in enumerate(labels):
        out[i] = seen.setdefault(str(v), len(seen))
    return out, list(seen)


# --------------------------------------------------------------------------- images


@dataclass
class Groups:
    """Long-form segmentation: row order that puts each image's pixels together."""

    order: np.ndarray  # row positions, image by image, pixels in file order
    n_images: int
    pixels: int
    first: np.ndarray  # aligned position of each image's first pixel row
    ids: np.ndarray  # group value of each image


def group_rows(groups: np.ndarray, ref: RowRef, column: str) -> Groups:
    """Images in order of first appearance; every image must have the same pixel count."""
    codes, uniques = factorize(groups)
    if (codes < 0).any():
        bad = np.flatnonzero(codes < 0)
        raise DataError(
            f"{ref.name}: group column '{column}' is empty at {ref.phrase(bad[:5], total=bad.size)}",
            hint="every pixel row needs the id of its image",
        )
    counts = np.bincount(codes)
    if counts.min() != counts.max():
        common = int(np.bincount(counts).argmax())
        odd = np.flatnonzero(counts != common)[:4]
        detail = ", ".join(f"{_fmt_ids([uniques[i]])} has {counts[i]}" for i in odd)
        raise DataError(
            f"images differ in pixel count (group column '{column}'): most have {common} "
            f"rows, but {detail}",
            hint="long-form segmentation needs one row per pixel and the same image size "
            "for every image",
        )
    order = np.argsort(codes, kind="stable")
    firsts = order[:: int(counts[0])]
    return Groups(order, int(counts.size), int(counts[0]), firsts, np.asarray(uniques))
