"""Readers: every lossless variant of the same data gives identical arrays; every read
error is a DataError (exit 3) that names the file and, where there is one, the row."""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from losscli.data import load_dataset
from losscli.data.readers import read_table, sniff_delimiter
from losscli.errors import DataError, ExitCode, UsageError

# Short decimals: every writer below prints them exactly, so every reader must give
# bit-identical float64 values.
PRED = np.array([0.125, 0.75, 0.5, 0.0625, 0.875, 0.25, 0.375, 1.0, 0.0, 0.625])
TARGET = np.array([0, 1, 1, 0, 1, 0, 0, 1, 0, 1])


def csv_text(sep: str = ",", header: bool = True, eol: str = "\n", quote: bool = False) -> str:
    rows = [f"p{sep}y"] if header else []
    for p, y in zip(PRED, TARGET):
        cell = f'"{float(p)!r}"' if quote else repr(float(p))
        rows.append(f"{cell}{sep}{y}")
    return eol.join(rows) + eol


def assert_same(ds) -> None:
    assert ds.task == "binary"
    assert ds.pred.dtype == np.float64 and ds.pred.flags.c_contiguous
    np.testing.assert_array_equal(ds.pred, PRED)
    np.testing.assert_array_equal(ds.target, TARGET.astype(np.float64))


# --------------------------------------------------------------------------- lossless


def test_plain_csv_one_file_and_row_numbers(write):
    ds = load_dataset(write("d.csv", csv_text()))
    assert_same(ds)
    # header is row 1, so the first data row is row 2
    np.testing.assert_array_equal(ds.row_numbers, np.arange(2, 12))
    assert ds.inputs["predictions"] == {
        "path": ds.inputs["predictions"]["path"],
        "columns": ["p"],
        "rows": 10,
    }
    assert ds.inputs["targets"]["columns"] == ["y"]


def test_headerless_first_row_is_data(write):
    p = write("p.csv", "".join(f"{v!r}\n" for v in PRED.tolist()))
    y = write("y.csv", "".join(f"{v}\n" for v in TARGET.tolist()))
    ds = load_dataset(p, y)
    assert_same(ds)  # no row lost to a "header"
    assert ds.pred_columns == ["0"] and ds.target_columns == ["0"]
    np.testing.assert_array_equal(ds.row_numbers, np.arange(1, 11))
    assert any("no header row" in e for e in ds.evidence)


def test_headerless_with_empty_cell_in_first_row_is_still_data(write):
    table = read_table(write("h.csv", "0.5,,1\n0.25,2,3\n"))
    assert table.header is False
    assert table.n_rows == 2
    assert np.isnan(table.columns["1"][0])


@pytest.mark.parametrize(
    "name, content",
    [
        ("bom_crlf.csv", "\ufeff" + csv_text(eol="\r\n")),
        ("quoted.csv", csv_text(quote=True)),
        ("tabs.tsv", csv_text(sep="\t")),
        ("tabs_in.csv", csv_text(sep="\t")),
        ("semicolon.csv", csv_text(sep=";")),
        ("spaces.txt", csv_text(sep="   ")),
    ],
)
def test_text_dialects(write, name, content):
    ds = load_dataset(write(name, content))
    assert_same(ds)
    np.testing.assert_array_equal(ds.row_numbers, np.arange(2, 12))


@pytest.mark.parametrize(
    "suffix, pack",
    [
        (".gz", gzip.compress),
        (".bz2", bz2.compress),
        (".xz", lzma.compress),
    ],
)
def test_compressed(write, suffix, pack):
    ds = load_dataset(write("d.csv" + suffix, pack(csv_text().encode())))
    assert_same(ds)


def test_zip(tmp_path):
    path = tmp_path / "d.csv.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("d.csv", csv_text())
    assert_same(load_dataset(str(path)))


def test_compressed_tsv_with_crlf(write):
    data = gzip.compress(("\ufeff" + csv_text(sep="\t", eol="\r\n")).encode())
    assert_same(load_dataset(write("d.tsv.gz", data)))


def test_parquet(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"p": PRED, "y": TARGET}), path)
    ds = load_dataset(str(path))
    assert_same(ds)
    np.testing.assert_array_equal(ds.row_numbers, np.arange(1, 11))


def test_parquet_null_is_missing(tmp_path):
    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"p": pa.array([0.5, None, 0.25]), "y": [1, 0, 1]}), path)
    with pytest.raises(DataError, match=r"column 'p' has a missing value .* row 2 \(index 1\)"):
        load_dataset(str(path))


def test_npy_pair(tmp_path):
    np.save(tmp_path / "p.npy", PRED)
    np.save(tmp_path / "y.npy", TARGET)
    assert_same(load_dataset(str(tmp_path / "p.npy"), str(tmp_path / "y.npy")))


def test_npz_with_pred_and_target_as_one_input(tmp_path):
    np.savez(tmp_path / "d.npz", predictions=PRED, targets=TARGET)
    ds = load_dataset(str(tmp_path / "d.npz"))
    assert_same(ds)
    assert ds.inputs["targets"]["path"].endswith("d.npz[targets]")


def test_npz_arrays_as_columns(tmp_path):
    np.savez(tmp_path / "d.npz", p=PRED, label=TARGET)
    assert_same(load_dataset(str(tmp_path / "d.npz")))


def test_structured_npy_fields_are_columns(tmp_path):
    arr = np.zeros(10, dtype=[("p", "f8"), ("y", "i8")])
    arr["p"], arr["y"] = PRED, TARGET
    np.save(tmp_path / "d.npy", arr)
    assert_same(load_dataset(str(tmp_path / "d.npy")))


class _Stdin:
    """Stands in for sys.stdin: a text stream whose .buffer is a BytesIO."""

    def __init__(self, data: bytes) -> None:
        self.buffer = io.BytesIO(data)


def test_stdin_csv(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin(csv_text().encode()))
    ds = load_dataset("-")
    assert_same(ds)
    assert ds.inputs["predictions"]["path"] == "<stdin>"


def test_stdin_predictions_with_target_file(monkeypatch, write):
    y = write("y.csv", "y\n" + "".join(f"{v}\n" for v in TARGET.tolist()))
    body = "p\n" + "".join(f"{v!r}\n" for v in PRED.tolist())
    monkeypatch.setattr(sys, "stdin", _Stdin(gzip.compress(body.encode())))
    assert_same(load_dataset("-", y))


def test_stdin_twice_is_a_usage_error():
    with pytest.raises(UsageError, match="at most one input"):
        load_dataset("-", "-")


def test_empty_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Stdin(b""))
    with pytest.raises(DataError, match="standard input is empty"):
        load_dataset("-")


def _split_parts(write) -> None:
    lines = csv_text().splitlines(keepends=True)
    write("parts/part-000.csv", lines[0] + "".join(lines[1:4]))
    write("parts/part-001.csv", lines[0] + "".join(lines[4:8]))
    write("parts/part-002.csv", lines[0] + "".join(lines[8:]))


def test_directory_is_one_dataset_in_sorted_order(write, tmp_path):
    _split_parts(write)
    write("parts/_SUCCESS", "")
    ds = load_dataset(str(tmp_path / "parts"))
    assert_same(ds)
    # row numbers restart in each file
    np.testing.assert_array_equal(ds.row_numbers, [2, 3, 4, 2, 3, 4, 5, 2, 3, 4])


def test_quoted_glob(write, tmp_path):
    _split_parts(write)
    assert_same(load_dataset(str(tmp_path / "parts" / "part-*.csv")))


def test_directory_error_names_file_and_row(write, tmp_path):
    _split_parts(write)
    write("parts/part-003.csv", "p,y\n0.5,1\n0.25,\n")
    with pytest.raises(DataError) as exc:
        load_dataset(str(tmp_path / "parts"))
    assert "row 3 of" in str(exc.value) and "part-003.csv" in str(exc.value)


def test_directory_with_differing_columns(write, tmp_path):
    _split_parts(write)
    write("parts/part-003.csv", "p,label\n0.5,1\n")
    with pytest.raises(
        DataError, match=r"part-003.csv has different columns .*lacks y.*extra label"
    ):
        load_dataset(str(tmp_path / "parts"))


def test_trailing_empty_lines_are_not_rows(write):
    ds = load_dataset(write("d.csv", csv_text() + "\n\n"))
    assert_same(ds)
    assert any("ignored 2 empty lines" in w for w in ds.warnings)


def test_trailing_empty_lines_in_compressed_file(write):
    ds = load_dataset(write("d.csv.gz", gzip.compress((csv_text() + "\r\n").encode())))
    assert_same(ds)
    assert any("ignored 1 empty line" in w for w in ds.warnings)


def test_trailing_row_of_empty_cells_is_a_row(write):
    with pytest.raises(DataError, match=r"missing value .* at row 12"):
        load_dataset(write("d.csv", csv_text() + ",\n"))


def test_interior_empty_line_is_a_row_with_missing_values(write):
    lines = csv_text().splitlines(keepends=True)
    text = "".join(lines[:4]) + "\n" + "".join(lines[4:])
    with pytest.raises(DataError, match=r"missing value .* at row 5"):
        load_dataset(write("d.csv", text))


def test_text_column_kept_as_strings(write):
    table = read_table(write("t.csv", "name,score\n cat ,1\ndog,2\n,3\n"))
    assert table.kind("name") == "text"
    assert table.columns["name"].tolist() == ["cat", "dog", None]
    assert table.columns["score"].dtype == np.int64


def test_usecols_reads_only_named_columns(write):
    path = write("wide.csv", "id,p,junk,y\n1,0.5,x,1\n2,0.25,y,0\n")
    table = read_table(path, select=lambda names: [n for n in names if n in ("p", "y")])
    assert list(table.columns) == ["p", "y"]
    assert table.all_columns == ["id", "p", "junk", "y"]


@pytest.mark.parametrize(
    "lines, expected",
    [
        (["a,b", "1,2"], ","),
        (["a;b", "1,5;2,5"], ";"),
        (["a\tb", "1\t2"], "\t"),
        (["a  b", " 1 2"], r"\s+"),
        (["only", "1"], ","),
        (['"x,y",b', '"1,2",3'], ","),
    ],
)
def test_sniff_delimiter(lines, expected):
    assert sniff_delimiter(lines) == expected


# --------------------------------------------------------------------------- errors


def test_missing_file_suggests_a_close_name(write, tmp_path):
    write("preds.csv", "p\n0.5\n")
    with pytest.raises(DataError) as exc:
        load_dataset(str(tmp_path / "pred.csv"))
    assert exc.value.exit_code == ExitCode.DATA_ERROR
    assert "no such file" in str(exc.value)
    assert "preds.csv" in (exc.value.hint or "")


def test_empty_directory(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="directory holds no data files"):
        load_dataset(str(tmp_path / "empty"))


def test_glob_without_match(tmp_path):
    with pytest.raises(DataError, match="no file matches"):
        load_dataset(str(tmp_path / "nothing-*.csv"))


def test_bad_encoding_names_line_and_suggests_utf8(write):
    path = write("latin.csv", b"p,y\n0.5,1\n0.25,0\n0.125,caf\xe9\n")
    with pytest.raises(DataError) as exc:
        load_dataset(path)
    assert "latin.csv: line 4 is not valid UTF-8 (byte 0xe9" in str(exc.value)
    assert "UTF-8" in (exc.value.hint or "")


def test_bad_encoding_in_compressed_file(write):
    path = write("latin.csv.gz", gzip.compress(b"p,na\xefve\n0.5,1\n"))
    with pytest.raises(DataError, match="line 1 is not valid UTF-8"):
        load_dataset(path)


def test_empty_file(write):
    with pytest.raises(DataError, match="file is empty"):
        load_dataset(write("e.csv", ""))


def test_header_only(write):
    with pytest.raises(DataError, match=r"no data rows \(only a header row\)"):
        load_dataset(write("h.csv", "p,y\n"))


def test_non_numeric_cell_names_row_column_and_value(write):
    p = write("p.csv", "p\n0.1\n0.9\nabc\n0.3\n")
    y = write("y.csv", "y\n0\n1\n1\n0\n")
    with pytest.raises(DataError) as exc:
        load_dataset(p, y)
    assert str(exc.value) == f"{p}: column 'p', row 4: 'abc' is not a number"


def test_non_numeric_cells_several_rows(write):
    p = write("p.csv", "p\n0.1\n?\n0.2\nn/a!\nx\n")
    y = write("y.csv", "y\n0\n1\n1\n0\n1\n")
    with pytest.raises(DataError) as exc:
        load_dataset(p, y)
    assert str(exc.value) == (
        f"{p}: column 'p' holds text where numbers are needed, at rows 3, 5, 6: '?', 'n/a!', 'x'"
    )


def test_decimal_comma_hint(write):
    p = write("p.csv", "p;q\n0,5;1\n0,25;2\n")
    y = write("y.csv", "y\n1\n0\n")
    with pytest.raises(DataError) as exc:
        load_dataset(p, y, pred_cols=["p"])
    assert "decimal comma" in (exc.value.hint or "")


def test_wrong_field_count_names_line(write):
    with pytest.raises(DataError, match="line 4 has 3 fields, the header has 2"):
        load_dataset(write("d.csv", "p,y\n0.5,1\n0.25,0\n0.125,1,7\n"))


def test_zip_with_two_members(tmp_path):
    path = tmp_path / "d.csv.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.csv", "p,y\n0.5,1\n")
        z.writestr("b.csv", "p,y\n0.5,1\n")
    with pytest.raises(DataError, match="holds 2 files, expected exactly one"):
        load_dataset(str(path))


def test_corrupt_gzip(write):
    with pytest.raises(DataError, match="cannot read"):
        load_dataset(write("d.csv.gz", b"\x1f\x8b\x08\x00garbage"))


def test_object_npy(tmp_path):
    np.save(tmp_path / "o.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(DataError, match="Python objects"):
        load_dataset(str(tmp_path / "o.npy"), str(tmp_path / "o.npy"))


def test_not_parquet(write):
    with pytest.raises(DataError, match="cannot read as Parquet"):
        load_dataset(write("d.parquet", "p,y\n0.5,1\n"))


def test_binary_rows_are_reported_with_index(tmp_path):
    np.save(tmp_path / "p.npy", np.array([0.5, np.inf, 0.25]))
    np.save(tmp_path / "y.npy", np.array([1, 0, 1]))
    with pytest.raises(DataError, match=r"row 2 \(index 1\)"):
        load_dataset(str(tmp_path / "p.npy"), str(tmp_path / "y.npy"))


# --------------------------------------------------------------------------- imports


def _run(code: str) -> None:
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def test_registry_import_does_not_load_the_data_layer():
    _run(
        "import sys, losscli.registry\n"
        "assert 'losscli.data' not in sys.modules, 'losscli.data imported'\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
    )


def test_data_layer_imports_pandas_lazily():
    _run("import sys, losscli.data\nassert 'pandas' not in sys.modules\n")


def test_npy_and_parquet_inputs_do_not_need_pandas(tmp_path):
    np.save(tmp_path / "p.npy", PRED)
    pq.write_table(pa.table({"y": TARGET}), tmp_path / "y.parquet")
    _run(
        "import sys\n"
        "from losscli.data import load_dataset\n"
        f"ds = load_dataset({str(tmp_path / 'p.npy')!r}, {str(tmp_path / 'y.parquet')!r})\n"
        "assert ds.task == 'binary'\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
    )


# --------------------------------------------------------------------------- line lengths


def _naive_long_lines(data: bytes, limit: int) -> list[int]:
    """1-based numbers of the lines longer than ``limit``: lines end at ``\\n`` (a
    ``\\r`` just before it is part of the end), or at ``\\r`` when there is no ``\\n``."""
    nl = b"\n" if b"\n" in data else b"\r"
    parts = data.split(nl)
    out = []
    for i, body in enumerate(parts, start=1):
        ended = i < len(parts)
        if nl == b"\n" and ended and body.endswith(b"\r"):
            body = body[:-1]
        if len(body) > limit:
            out.append(i)
    return out


_LINE = st.lists(st.sampled_from([b"x", b"x", b"x", b"\r"]), max_size=30).map(b"".join)


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(_LINE, min_size=1, max_size=25),
    ends=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    unended=st.booleans(),
    limit=st.integers(1, 25),
)
def test_long_line_search_agrees_with_splitting_every_line(lines, ends, unended, limit):
    from losscli.data.readers import _has_long_line

    if ends == b"\r":
        lines = [line.replace(b"\r", b"x") for line in lines]  # old Mac: \r only ends
    data = ends.join(lines) + (b"" if unended else ends)
    assert _has_long_line(data, limit) == bool(_naive_long_lines(data, limit))


@settings(max_examples=400, deadline=None)
@given(
    lines=st.lists(_LINE, min_size=1, max_size=25),
    ends=st.sampled_from([b"\n", b"\r\n", b"\r"]),
    bom=st.booleans(),
    unended=st.booleans(),
    limit=st.integers(1, 25),
    block=st.integers(1, 17),
)
def test_long_line_found_in_blocks_as_line_by_line(
    tmp_path_factory, lines, ends, bom, unended, limit, block
):
    """The line number of the first long line, read in small blocks (a line spans
    several), is the one a line-by-line read finds."""
    import losscli.data.readers as rd

    if ends == b"\r":
        lines = [line.replace(b"\r", b"x") for line in lines]
    data = ends.join(lines) + (b"" if unended else ends)
    path = tmp_path_factory.mktemp("lines") / "f.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    try:
        fmt = rd.text_format(str(path), str(path), None, ".csv")
    except DataError:
        assume(False)  # only empty lines: not a text input at all
    want = _naive_long_lines(data, limit)
    saved = rd._SCAN_BLOCK
    rd._SCAN_BLOCK = block
    try:
        assert rd._find_long_line(fmt, limit) == (want[0] if want else None)
    finally:
        rd._SCAN_BLOCK = saved
