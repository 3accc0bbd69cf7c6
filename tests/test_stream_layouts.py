"""Every input layout streams: Parquet by row group, globs and directories file by file,
``.npy`` memory-mapped; CSV parsed by pyarrow in pieces. Each streamed run is compared
with the same input read in one piece (``--chunk-size 0``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from losscli.data.readers import MAX_LINE_ENV, read_table
from losscli.data.stream import open_chunks
from tests.conftest import write_csv
from tests.test_streaming import assert_same_losses, both

N = 1000


@pytest.fixture
def arrays() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    t = rng.normal(size=N) * 2
    return t + rng.standard_t(4, size=N), t


def _parquet(path: Path, name: str, values: np.ndarray, row_group: int = 128) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.table({name: values}), path, row_group_size=row_group)
    return path


def _parts(folder: Path, name: str, values: np.ndarray, k: int, ext: str) -> None:
    folder.mkdir()
    for i, piece in enumerate(np.array_split(values, k)):
        if ext == "csv":
            write_csv(folder / f"part{i}.csv", [name], [[repr(float(v))] for v in piece])
        else:
            _parquet(folder / f"part{i}.parquet", name, piece)


@pytest.mark.parametrize("layout", ["parquet", "npy", "csv-glob", "parquet-dir"])
def test_layout_streams_with_the_values_of_a_one_piece_read(cli, tmp_path, arrays, layout):
    p, t = arrays
    if layout == "parquet":
        inputs = [_parquet(tmp_path / "p.parquet", "pred", p), _parquet(tmp_path / "t.pq", "y", t)]
    elif layout == "npy":
        np.save(tmp_path / "p.npy", p)
        np.save(tmp_path / "t.npy", t)
        inputs = [tmp_path / "p.npy", tmp_path / "t.npy"]
    elif layout == "csv-glob":
        _parts(tmp_path / "p", "pred", p, 7, "csv")
        _parts(tmp_path / "t", "y", t, 3, "csv")  # file boundaries differ between inputs
        inputs = [f"{tmp_path}/p/part*.csv", tmp_path / "t"]
    else:
        _parts(tmp_path / "p", "pred", p, 4, "parquet")
        _parts(tmp_path / "t", "y", t, 5, "parquet")
        inputs = [tmp_path / "p", tmp_path / "t"]
    s, m = both(cli, *inputs, "--worst", "5")
    assert_same_losses(s, m)
    assert s["worst"] == m["worst"]
    assert s["inputs"] == m["inputs"]
    assert not any(w.startswith("read in memory") for w in s["warnings"])
    mae = next(x["value"] for x in s["losses"] if x["name"] == "mae")
    np.testing.assert_allclose(mae, np.mean(np.abs(p - t)), rtol=1e-12)


def test_glob_error_in_a_later_file_names_file_and_row(cli, tmp_path, arrays):
    p, t = arrays
    _parts(tmp_path / "p", "pred", p, 5, "csv")
    bad = tmp_path / "p" / "part3.csv"
    lines = bad.read_text().splitlines()
    lines[17] = "oops"  # row 18 of part3.csv
    bad.write_text("\n".join(lines) + "\n")
    write_csv(tmp_path / "t.csv", ["y"], [[repr(float(v))] for v in t])
    r = cli("evaluate", tmp_path / "p", tmp_path / "t.csv", "--chunk-size", "97")
    assert r.exit_code == 3, r.stderr
    assert "row 18 of" in r.stderr and "part3.csv" in r.stderr and "'oops'" in r.stderr


def test_npy_is_memory_mapped_in_a_one_piece_read(tmp_path):
    np.save(tmp_path / "p.npy", np.arange(10.0))
    col = read_table(str(tmp_path / "p.npy")).columns["0"]
    bases = [col]
    while bases[-1].base is not None and isinstance(bases[-1].base, np.ndarray):
        bases.append(bases[-1].base)
    assert any(isinstance(b, np.memmap) for b in bases)


def test_ints_then_decimals_in_a_later_block_of_a_quoted_file(tmp_path, monkeypatch):
    """pyarrow's streaming reader fixes a column's type on its first block: the reader
    reopens after the rows read and the decimals are read as a one-piece read does."""
    monkeypatch.setenv(MAX_LINE_ENV, "65536")
    n = 30_000
    vals = [str(i % 7) for i in range(n)]
    vals[25_000] = "2.5"
    rows = [[f'"{v}"', v] for v in vals]
    path = tmp_path / "q.csv"
    path.write_text("a,b\n" + "\n".join(",".join(r) for r in rows) + "\n")
    whole = read_table(str(path))
    reader = open_chunks(str(path), None, 4096)
    try:
        tabs = [tab for _, tab in reader]
    finally:
        reader.close()
    assert len(tabs) > 3
    for col in ("a", "b"):
        got = np.concatenate([t.numeric(col) for t in tabs])
        np.testing.assert_array_equal(got, whole.numeric(col))
    assert whole.numeric("a")[25_000] == 2.5
    rows = np.concatenate([t.row_numbers for t in tabs])
    np.testing.assert_array_equal(rows, np.arange(2, n + 2))


@pytest.mark.parametrize("chunk", ["97", "0"])
def test_a_line_longer_than_the_limit_is_a_data_error_naming_it(cli, tmp_path, chunk):
    rows = [[f"{i * 0.5}", "x"] for i in range(400)]
    rows[300][1] = "y" * 70_000  # line 302
    path = write_csv(tmp_path / "p.csv", ["pred", "note"], rows)
    write_csv(tmp_path / "t.csv", ["target"], [[i * 0.5] for i in range(400)])
    r = cli(
        "evaluate",
        path,
        tmp_path / "t.csv",
        "--pred-col",
        "pred",
        "--chunk-size",
        chunk,
        env={MAX_LINE_ENV: "65536"},
    )
    assert r.exit_code == 3, r.stderr
    assert "line 302 is longer than 65,536 bytes" in r.stderr
    assert MAX_LINE_ENV in r.stderr


@pytest.mark.parametrize("chunk", ["97", "0"])
def test_ragged_line_deep_in_the_file_names_it(cli, tmp_path, chunk):
    rows = [[f"{i * 0.5}", f"{i * 0.25}"] for i in range(600)]
    path = write_csv(tmp_path / "p.csv", ["pred", "target"], rows)
    lines = path.read_text().splitlines()
    lines[520] += ",7"  # line 521
    path.write_text("\n".join(lines) + "\n")
    r = cli("evaluate", path, "--chunk-size", chunk)
    assert r.exit_code == 3, r.stderr
    assert "line 521 has 3 fields, the header has 2" in r.stderr


def test_csv_evaluate_imports_neither_pandas(tmp_path):
    p = write_csv(tmp_path / "p.csv", ["pred"], [[i * 0.5] for i in range(50)])
    t = write_csv(tmp_path / "t.csv", ["target"], [[i * 0.4] for i in range(50)])
    code = (
        "import sys\n"
        "from losscli.cli import main\n"
        f"sys.argv = ['losscli', 'evaluate', {str(p)!r}, {str(t)!r}, '--json', '-q']\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert not e.code, e.code\n"
        "assert 'pandas' not in sys.modules, 'pandas imported'\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# --------------------------------------------------------------------------- standard input


def _stdin_run(cli, data: bytes, *args: str) -> dict:
    import json

    r = cli("evaluate", "-", *args, "--json", input=data)
    assert r.exit_code == 0, r.stderr
    return json.loads(r.stdout)


@pytest.mark.parametrize("gz", [False, True])
def test_csv_piped_in_streams_like_the_file(cli, tmp_path, arrays, gz):
    """Standard input is spooled to a temporary file, then read in chunks: the values of
    the file read in one piece, ``<stdin>`` as its name, and no spool left behind."""
    import gzip

    p, t = arrays
    pf, tf = tmp_path / "p.csv", tmp_path / "t.csv"
    write_csv(pf, ["pred"], p[:, None])
    write_csv(tf, ["target"], t[:, None])
    data = gzip.compress(pf.read_bytes()) if gz else pf.read_bytes()
    piped = _stdin_run(cli, data, str(tf), "--chunk-size", "300")
    whole = _stdin_run(cli, data, str(tf), "--chunk-size", "0")
    assert piped["read"]["mode"] == "stream" and piped["read"]["chunks"] == 4
    assert piped["inputs"]["predictions"]["path"] == "<stdin>"
    assert_same_losses(piped, whole)
    r = cli("evaluate", str(pf), str(tf), "--json", "--chunk-size", "0")
    import json

    assert_same_losses(piped, json.loads(r.stdout))


def test_csv_piped_in_names_the_row_of_a_bad_cell_in_a_later_chunk(cli, tmp_path, arrays):
    p, t = arrays
    tf = tmp_path / "t.csv"
    write_csv(tf, ["target"], t[:, None])
    lines = ["pred", *(f"{v:.17g}" for v in p)]
    lines[701] = "oops"  # data row 701: line 702
    r = cli("evaluate", "-", str(tf), "--chunk-size", "300", input="\n".join(lines) + "\n")
    assert r.exit_code == 3, r.stderr
    assert "<stdin>: column 'pred', row 702: 'oops' is not a number" in r.stderr


def test_piped_in_multiclass_with_balanced_weights_reads_the_spool_twice(cli, tmp_path):
    """A class-count pass before the loss pass: the spool is read again."""
    rng = np.random.default_rng(4)
    probs = rng.dirichlet(np.ones(3), size=N)
    labels = rng.integers(0, 3, size=N)
    pf, tf = tmp_path / "p.csv", tmp_path / "t.csv"
    write_csv(pf, ["a", "b", "c"], probs)
    write_csv(tf, ["label"], labels[:, None])
    args = ["--loss", "cross_entropy", "--param", "cross_entropy.weight=balanced"]
    piped = _stdin_run(cli, pf.read_bytes(), str(tf), "--chunk-size", "300", *args)
    import json

    r = cli("evaluate", str(pf), str(tf), "--json", "--chunk-size", "0", *args)
    assert piped["read"]["mode"] == "stream"
    assert_same_losses(piped, json.loads(r.stdout))


def test_spool_of_standard_input_is_removed_when_the_process_ends(tmp_path, arrays):
    p, t = arrays
    pf, tf = tmp_path / "p.csv", tmp_path / "t.csv"
    write_csv(pf, ["pred"], p[:, None])
    write_csv(tf, ["target"], t[:, None])
    spool_dir = tmp_path / "tmp"
    spool_dir.mkdir()
    env = {**__import__("os").environ, "TMPDIR": str(spool_dir)}
    with open(pf, "rb") as fh:
        out = subprocess.run(
            [sys.executable, "-m", "losscli", "evaluate", "-", str(tf), "--json", "-q"],
            stdin=fh,
            capture_output=True,
            env=env,
        )
    assert out.returncode == 0, out.stderr
    assert list(spool_dir.iterdir()) == []


def test_npy_piped_in_is_read_in_one_piece(cli, tmp_path, arrays):
    import io
    import json

    p, t = arrays
    buf = io.BytesIO()
    np.save(buf, p)
    tf = tmp_path / "t.npy"
    np.save(tf, t)
    r = cli("evaluate", "-", str(tf), "--json", input=buf.getvalue())
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["read"]["mode"] == "memory" and "standard input" in doc["read"]["reason"]


def test_closed_standard_input_is_a_data_error(tmp_path, arrays):
    _, t = arrays
    tf = tmp_path / "t.csv"
    write_csv(tf, ["target"], t[:, None])
    out = subprocess.run(
        [sys.executable, "-m", "losscli", "evaluate", "-", str(tf)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 3 and "standard input is empty" in out.stderr, out.stderr
    code = "import sys; sys.stdin.close(); sys.stdin = None; from losscli.entry import main; main()"
    out = subprocess.run(
        [sys.executable, "-c", code, "evaluate", "-", str(tf)], capture_output=True, text=True
    )
    assert out.returncode == 3 and "cannot read standard input" in out.stderr, out.stderr


def test_no_room_for_the_spool_is_a_data_error_naming_tmpdir(cli, tmp_path, arrays, monkeypatch):
    import errno

    import losscli.data.readers as rd

    p, t = arrays
    pf, tf = tmp_path / "p.csv", tmp_path / "t.csv"
    write_csv(pf, ["pred"], p[:, None])
    write_csv(tf, ["target"], t[:, None])

    def full(*args, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(rd.tempfile, "mkstemp", full)
    r = cli("evaluate", "-", str(tf), input=pf.read_bytes())
    assert r.exit_code == 3, r.stderr
    assert "<stdin>: cannot copy standard input to a temporary file" in r.stderr
    assert "TMPDIR" in r.stderr and "Traceback" not in r.stderr
