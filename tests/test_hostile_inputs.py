"""Hostile and odd inputs through the CLI: nothing silently misread, everything bounded.

Each case checks the exit code, the message (what was found, the deciding flag) and that
no traceback is printed. Header detection (SPEC §5, §9) is checked on real pandas
exports; the bombs (a gzip of one 4 GiB line, YAML alias expansion) run in a subprocess
whose peak memory is measured.
"""

from __future__ import annotations

import gzip
import io
import itertools
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from losscli.data.readers import _line_lengths, read_table
from losscli.errors import DataError, ExitCode
from tests.conftest import ROOT, write_csv

DATA = int(ExitCode.DATA_ERROR)
USAGE = int(ExitCode.USAGE_ERROR)


def assert_error(r: Any, code: int, *needles: str) -> None:
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    assert r.stdout == ""
    assert r.stderr.startswith("Error: "), r.stderr
    assert "Traceback" not in r.stderr
    for needle in needles:
        assert needle in r.stderr, (needle, r.stderr)


def run_json(cli: Any, *args: Any, **kw: Any) -> dict[str, Any]:
    r = cli("evaluate", *args, "--json", **kw)
    assert r.exit_code == 0, (r.exit_code, r.stderr)
    assert "Traceback" not in r.stderr
    return json.loads(r.stdout)


def value(doc: dict[str, Any], name: str) -> float:
    return next(it["value"] for it in doc["losses"] if it["name"] == name)


@pytest.fixture
def binary_model() -> tuple[np.ndarray, np.ndarray]:
    """predict_proba-like output (n, 2) of a logistic model and its 0/1 labels."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal(300)
    y = (x + 0.5 * rng.standard_normal(300) > 0).astype(int)
    p1 = 1.0 / (1.0 + np.exp(-2.0 * x))
    return np.column_stack([1.0 - p1, p1]), y


# --------------------------------------------------------------------------- header (SPEC §5)


def test_pandas_unnamed_frame_header_is_detected_and_said(cli, tmp_path, binary_model):
    proba, y = binary_model
    p = tmp_path / "proba.csv"
    pd.DataFrame(proba).to_csv(p, index=False)  # first row: 0,1
    t = tmp_path / "y.csv"
    pd.Series(y, name="y").to_csv(t, index=False)
    doc = run_json(cli, p, t)
    assert doc["n_samples"] == 300
    note = next(e for e in doc["evidence"] if "proba.csv" in e)
    assert "'0,1' read as a header" in note and "--header no" in note
    # two predict_proba columns with 0/1 targets: binary on the positive column (SPEC §9)
    assert doc["task"]["name"] == "binary"
    ce = -np.mean(np.log(proba[np.arange(300), y]))
    assert value(doc, "bce") == pytest.approx(ce, rel=1e-9)


def test_series_export_of_labels_is_a_header_question(cli, tmp_path, binary_model):
    """pd.Series(y).to_csv(index=False) writes '0' above the 0/1 labels (SPEC §9)."""
    proba, y = binary_model
    p = tmp_path / "proba.csv"
    pd.DataFrame(proba).to_csv(p, index=False)
    t = tmp_path / "y.csv"
    pd.Series(y).to_csv(t, index=False)
    r = cli("evaluate", p, t)
    assert_error(r, DATA, "row counts differ by one", "300 rows", "301", "y.csv's first row '0'")
    assert "--header yes" in r.stderr
    doc = run_json(cli, p, t, "--header", "yes")
    assert doc["n_samples"] == 300


def test_header_no_reads_the_first_row_as_data(cli, tmp_path):
    p = tmp_path / "p.csv"
    pd.DataFrame(np.array([[0.5], [0.25], [1.0]])).to_csv(p, index=False, header=False)
    t = tmp_path / "t.csv"
    t.write_text("0\n1.5\n0.5\n2\n")  # "0" above non-integers: a header in auto mode
    doc = run_json(cli, p, t, "--loss", "mse")
    assert value(doc, "mse") == pytest.approx(np.mean([1.0, 0.0625, 1.0]), rel=1e-12)
    assert any("t.csv: first row '0' read as a header" in e for e in doc["evidence"])
    t.write_text("0\n1.5\n0.5\n")
    doc = run_json(cli, p, t, "--header", "no", "--loss", "mse")
    assert value(doc, "mse") == pytest.approx(np.mean([0.25, 1.5625, 0.25]), rel=1e-12)
    assert any("first row read as data (--header no)" in e for e in doc["evidence"])


def test_integer_pandas_names_above_integer_rows_are_data(cli, tmp_path):
    """'0,1' above integer rows is data (both readings are integers: SPEC §5)."""
    p = tmp_path / "p.csv"
    p.write_text("0,1,2\n2,3,9\n4,5,9\n")
    doc = run_json(cli, p, "--target-col", "1", "--pred-col", "0", "--loss", "mae")
    assert doc["n_samples"] == 3
    assert value(doc, "mae") == pytest.approx(1.0)


def test_header_setting_from_config(cli, tmp_path, binary_model):
    proba, y = binary_model
    p = tmp_path / "proba.csv"
    pd.DataFrame(proba).to_csv(p, index=False)
    t = tmp_path / "y.csv"
    pd.Series(y).to_csv(t, index=False)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("header: 'yes'\n")
    assert run_json(cli, p, t, "--config", cfg)["n_samples"] == 300
    cfg.write_text("header: maybe\n")
    assert_error(cli("evaluate", p, t, "--config", cfg), USAGE, "header", "auto, yes, no")


@pytest.mark.oracle
def test_sklearn_predict_proba_exports(cli, tmp_path):
    sklearn = pytest.importorskip("sklearn")
    from sklearn.datasets import load_breast_cancer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    assert sklearn
    x, y = load_breast_cancer(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(x, y)
    proba = model.predict_proba(x)
    p = tmp_path / "proba.csv"
    pd.DataFrame(proba).to_csv(p, index=False)
    t = tmp_path / "y.csv"
    pd.Series(y).to_csv(t, index=False)
    assert_error(cli("evaluate", p, t), DATA, "--header")
    doc = run_json(cli, p, t, "--header", "yes")
    assert doc["n_samples"] == len(y)
    # two predict_proba columns with 0/1 labels: binary on the positive column (SPEC §9)
    assert doc["task"]["name"] == "binary"
    assert value(doc, "bce") == pytest.approx(log_loss(y, proba), rel=1e-9)


# --------------------------------------------------------------------------- decimals


def test_decimal_commas_are_refused_then_read_with_the_flag(cli, tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("0,05\n0,10\n0,02\n")
    t = tmp_path / "t.csv"
    t.write_text("0,08\n0,07\n0,04\n")
    assert_error(cli("evaluate", p, t), DATA, "'0,05'", "0.05", "--decimal ,")
    doc = run_json(cli, p, t, "--decimal", ",", "--loss", "mse")
    want = np.mean((np.array([0.05, 0.10, 0.02]) - np.array([0.08, 0.07, 0.04])) ** 2)
    assert value(doc, "mse") == pytest.approx(want, rel=1e-12)
    p.write_text("0,5\n1\n0,25\n")  # an integer among them: no comma on its line
    assert_error(cli("evaluate", p, t), DATA, "line 1 '0,5'", "a comma cannot separate columns")
    doc = run_json(cli, p, t, "--decimal", ",", "--loss", "mse")
    want = np.mean((np.array([0.5, 1.0, 0.25]) - np.array([0.08, 0.07, 0.04])) ** 2)
    assert value(doc, "mse") == pytest.approx(want, rel=1e-12)


def test_semicolon_export_with_decimal_commas(cli, tmp_path):
    """Excel's European CSV: ';' between fields, ',' as decimal mark, a header."""
    df = pd.DataFrame({"pred": [0.5, 1.25, 2.0], "y": [0.75, 1.0, 2.5]})
    p = tmp_path / "euro.csv"
    df.to_csv(p, sep=";", decimal=",", index=False)
    r = cli("evaluate", p, "--target-col", "y", "--loss", "mae")
    assert_error(r, DATA, "'0,5'", "--decimal ,")
    doc = run_json(cli, p, "--target-col", "y", "--loss", "mae", "--decimal", ",")
    assert value(doc, "mae") == pytest.approx(np.mean(np.abs(df.pred - df.y)), rel=1e-12)


def test_two_integer_columns_need_the_decimal_flag(cli, tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("3,1\n2,2\n")
    assert_error(cli("evaluate", p), DATA, "two integer columns", "--decimal .")
    doc = run_json(cli, p, "--decimal", ".", "--pred-col", "0", "--target-col", "1")
    assert doc["n_samples"] == 2


# --------------------------------------------------------------------------- names, lines


def test_duplicate_column_names_are_a_data_error(cli, tmp_path):
    p = tmp_path / "dup.csv"
    pd.DataFrame([[0.1, 0.9, 0], [0.8, 0.2, 1]], columns=["pred", "pred", "y"]).to_csv(
        p, index=False
    )
    r = cli("evaluate", p, "--pred-col", "pred", "--target-col", "y")
    assert_error(r, DATA, "duplicate column names", "'pred' (columns 1, 2)")


def test_field_over_128_kib_is_not_an_internal_error(cli, tmp_path):
    p = tmp_path / "wide.csv"
    p.write_text("note,p,y\n" + '"' + "x" * 200_000 + '",0.5,1\nshort,0.25,0\n')
    doc = run_json(cli, p, "--pred-col", "p", "--target-col", "y", "--loss", "bce")
    assert value(doc, "bce") == pytest.approx(-np.mean(np.log([0.5, 0.75])), rel=1e-12)


def test_line_longer_than_the_limit_is_named(cli, tmp_path):
    p = tmp_path / "long.csv"
    p.write_text("p" * 5000 + "\n0.5\n")
    r = cli("evaluate", p, env={"LOSSCLI_MAX_LINE_BYTES": "1000"})
    assert_error(r, DATA, "long.csv: line 1 is longer than 1,000 bytes", "LOSSCLI_MAX_LINE_BYTES")


def test_gzip_on_stdin_is_streamed_with_a_line_limit(cli, tmp_path):
    data = gzip.compress(b"p,y\n" + b"1" * 5000 + b",1\n0.5,0\n")
    r = cli("evaluate", "-", input=data, env={"LOSSCLI_MAX_LINE_BYTES": "1000"})
    assert_error(r, DATA, "<stdin>: line 2 is longer than 1,000 bytes")
    ok = gzip.compress(b"p,y\n0.25,0\n0.5,1\n")
    doc = run_json(cli, "-", "--target-col", "y", "--loss", "bce", input=ok)
    assert value(doc, "bce") == pytest.approx(-np.mean(np.log([0.75, 0.5])), rel=1e-12)


def _peak_of(args: list[str], *, stdin: Path | None = None, env: dict[str, str] | None = None):
    """Exit code, stderr and peak memory (MiB) of ``losscli ARGS`` in a fresh process."""
    probe = textwrap.dedent(
        """
        import json, resource, subprocess, sys
        args, stdin = json.loads(sys.argv[1]), sys.argv[2]
        fh = open(stdin, "rb") if stdin else None
        p = subprocess.run([sys.executable, "-m", "losscli", *args], stdin=fh,
                           capture_output=True, timeout=120)
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(json.dumps([p.returncode, p.stderr.decode(), peak]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(args), str(stdin or "")],
        capture_output=True,
        check=True,
        timeout=180,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
    )
    return json.loads(out.stdout)


def _gzip_of_one_huge_line(path: Path, *, header: bytes = b"", gib: int = 4) -> None:
    """A ~4 MiB .gz holding ``gib`` GiB of one line (concatenated gzip members)."""
    member = gzip.compress(b"1" * (1 << 20), compresslevel=9)
    with open(path, "wb") as fh:
        if header:
            fh.write(gzip.compress(header))
        for _ in range(gib << 10):
            fh.write(member)


@pytest.mark.slow
@pytest.mark.parametrize("where", ["file", "stdin"])
def test_gzip_bomb_of_one_4_gib_line_fails_fast_in_bounded_memory(tmp_path, where):
    bomb = tmp_path / "bomb.csv.gz"
    _gzip_of_one_huge_line(bomb)
    assert bomb.stat().st_size < 6 << 20
    if where == "file":
        code, err, peak = _peak_of(["evaluate", str(bomb)])
        assert "bomb.csv.gz: line 1 is longer than" in err
    else:
        code, err, peak = _peak_of(["evaluate", "-"], stdin=bomb)
        assert "<stdin>: line 1 is longer than" in err
    assert code == DATA and "Traceback" not in err
    assert peak < 400, peak


@pytest.mark.slow
def test_gzip_bomb_on_stdin_after_a_header_fails_in_bounded_memory(tmp_path):
    bomb = tmp_path / "bomb.csv.gz"
    _gzip_of_one_huge_line(bomb, header=b"p,y\n")
    code, err, peak = _peak_of(["evaluate", "-"], stdin=bomb)
    assert code == DATA and "<stdin>: line 2 is longer than" in err
    assert peak < 400, peak


# --------------------------------------------------------------------------- not what it says


def test_npy_header_claiming_more_than_the_file_holds(cli, tmp_path):
    buf = io.BytesIO()
    np.save(buf, np.arange(5.0))
    bomb = tmp_path / "huge.npy"
    bomb.write_bytes(buf.getvalue().replace(b"(5,)", b"(10000000000000,)"))
    ok = tmp_path / "ok.npy"
    np.save(ok, np.arange(5.0))
    r = cli("evaluate", bomb, ok)
    assert_error(r, DATA, "huge.npy", "(10000000000000,)", "80.0 TB", "truncated")
    z = tmp_path / "huge.npz"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("pred.npy", bomb.read_bytes())
        zf.writestr("target.npy", buf.getvalue())
    assert_error(cli("evaluate", z), DATA, "huge.npz[pred]", "80.0 TB")


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be", "utf-16"])
def test_utf16_is_named(cli, tmp_path, encoding):
    p = tmp_path / "u16.csv"
    pd.DataFrame({"p": [0.1, 0.2], "y": [0, 1]}).to_csv(p, index=False, encoding=encoding)
    assert_error(cli("evaluate", p), DATA, "u16.csv", "UTF-16", "iconv -f utf-16")


def _xlsx_bytes() -> bytes:
    """The zip layout of an .xlsx workbook (what Excel and openpyxl write)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", "<worksheet/>")
    return buf.getvalue()


def test_binary_formats_named_csv_say_what_they_are(cli, tmp_path):
    df = pd.DataFrame({"p": [0.1, 0.2], "y": [0, 1]})
    cases = {
        "parquet.csv": ("a Parquet file", ".parquet"),
        "book.csv": ("an Excel workbook (.xlsx)", "CSV UTF-8"),
        "arr.csv": ("a NumPy .npy array", ".npy"),
        "packed.csv": ("gzip-compressed", ".csv.gz"),
    }
    df.to_parquet(tmp_path / "parquet.csv")
    (tmp_path / "book.csv").write_bytes(_xlsx_bytes())
    np.save(tmp_path / "arr.npy", np.arange(3.0))
    (tmp_path / "arr.npy").rename(tmp_path / "arr.csv")
    (tmp_path / "packed.csv").write_bytes(gzip.compress(df.to_csv(index=False).encode()))
    for name, (what, hint) in cases.items():
        r = cli("evaluate", tmp_path / name)
        assert_error(r, DATA, f"{name}: is {what}, not delimited text", hint)
        assert "iconv" not in r.stderr


def test_nul_bytes_in_text_are_named(cli, tmp_path):
    p = tmp_path / "nul.csv"
    p.write_bytes(b"p,y\n0.1,0\n0.2\x00,1\n")
    assert_error(cli("evaluate", p), DATA, "NUL bytes (line 3)")


def test_invalid_utf8_far_into_one_long_line_is_located(cli, tmp_path):
    p = tmp_path / "latin.csv"
    p.write_bytes(b"name,p,y\n" + b"a" * 70_000 + b"\xe9,0.5,1\n")
    assert_error(cli("evaluate", p), DATA, "line 2 is not valid UTF-8", "position 70001")


# --------------------------------------------------------------------------- YAML bounds

_BOMB_LINES = [
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
    *(f"{c}: &{c} [{','.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefgh", "bcdefghi")),
]


def _bomb_under(key: str) -> str:
    """A ~0.7 KB "billion laughs": nine levels of nine aliases under ``key``."""
    return f"{key}:\n" + "\n".join("  " + ln for ln in _BOMB_LINES) + "\n"


@pytest.mark.parametrize("where", ["task", "gates"])
def test_config_alias_bomb_is_refused(cli, tmp_path, where):
    cfg = tmp_path / "bomb.yaml"
    cfg.write_text(_bomb_under(where))
    assert cfg.stat().st_size < 1000
    p = write_csv(tmp_path / "p.csv", ["p", "y"], [[0.1, 0], [0.9, 1]])
    r = cli("evaluate", p, "--config", cfg)
    assert_error(r, USAGE, "bomb.yaml: the document expands to more than 100,000 values")


@pytest.mark.slow
def test_config_alias_bomb_in_bounded_memory(tmp_path):
    cfg = tmp_path / "bomb.yaml"
    cfg.write_text(_bomb_under("task"))
    p = write_csv(tmp_path / "p.csv", ["p", "y"], [[0.1, 0], [0.9, 1]])
    code, err, peak = _peak_of(["evaluate", str(p), "--config", str(cfg)])
    assert code == USAGE and "expands to more than" in err and "Traceback" not in err
    assert peak < 300, peak


def test_deep_nesting_is_a_clear_error(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["p", "y"], [[0.1, 0], [0.9, 1]])
    for depth in (200, 5000):
        cfg = tmp_path / f"deep{depth}.yaml"
        cfg.write_text("task: " + "[" * depth + "]" * depth + "\n")
        r = cli("evaluate", p, "--config", cfg)
        assert_error(r, USAGE, f"deep{depth}.yaml")
        assert "nesting" in r.stderr


def test_config_over_the_size_limit_names_the_variable(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["p", "y"], [[0.1, 0], [0.9, 1]])
    cfg = tmp_path / "big.yaml"
    cfg.write_text("# padding\n" * 120_000 + "task: binary\n")  # 1.2 MB
    r = cli("evaluate", p, "--config", cfg)
    assert_error(r, USAGE, "big.yaml", "1.1 MiB, larger than the 1.0 MiB limit for --config")
    assert "LOSSCLI_MAX_CONFIG_BYTES=" in r.stderr
    doc = run_json(cli, p, "--config", cfg, env={"LOSSCLI_MAX_CONFIG_BYTES": "2000000"})
    assert doc["task"]["name"] == "binary"


def test_huge_config_value_is_not_printed_whole(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["p", "y"], [[0.1, 0], [0.9, 1]])
    cfg = tmp_path / "c.yaml"
    cfg.write_text("task: [" + ", ".join(["x" * 50] * 2000) + "]\nreduction: " + "m" * 200_000)
    r = cli("evaluate", p, "--config", cfg)
    assert_error(r, USAGE, "a list of 2000 items")
    assert len(r.stderr) < 1000
    cfg.write_text("reduction: " + "m" * 200_000 + "\n")
    r = cli("evaluate", p, "--config", cfg)
    assert_error(r, USAGE, "reduction", "(200000 characters)")
    assert len(r.stderr) < 1000


def test_rules_bounds(cli, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text(_bomb_under("rules"))
    r = cli("recommend", "--task", "regression", "--rules", rules)
    assert_error(r, USAGE, "rules.yaml", "expands to more than 1,000,000 values")
    rules.write_text("rules: []\n" + "# pad\n" * 400)
    r = cli("recommend", "--task", "regression", "--rules", rules,
            env={"LOSSCLI_MAX_RULES_BYTES": "1000"})  # fmt: skip
    assert_error(
        r, USAGE, "larger than the 1000 bytes limit for --rules", "LOSSCLI_MAX_RULES_BYTES"
    )


# --------------------------------------------------------------------------- bootstrap


def _three_models(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(3)
    p = rng.random(60)
    y = (rng.random(60) < p).astype(int)
    m1, m2, t = tmp_path / "m1.csv", tmp_path / "m2.csv", tmp_path / "y.csv"
    pd.DataFrame({"p": p}).to_csv(m1, index=False)
    pd.DataFrame({"p": np.clip(p + 0.1, 0, 1)}).to_csv(m2, index=False)
    pd.DataFrame({"y": y}).to_csv(t, index=False)
    return [m1, m2, t]


def test_bootstrap_above_the_limit_is_a_usage_error(cli, tmp_path):
    files = _three_models(tmp_path)
    r = cli("compare", *files, "--bootstrap", "10000000")
    assert_error(
        r, USAGE, "--bootstrap 10,000,000 is above the limit of 100,000", "LOSSCLI_MAX_BOOTSTRAP"
    )
    r = cli("compare", *files, "--bootstrap", "1000", env={"LOSSCLI_MAX_BOOTSTRAP_DRAWS": "6000"})
    assert_error(r, USAGE, "60,000 draws, above the limit of 6,000", "at most 100 here")


def test_negative_seed_is_a_usage_error(cli, tmp_path):
    r = cli("compare", *_three_models(tmp_path), "--bootstrap", "100", "--seed", "-1")
    assert_error(r, USAGE, "--seed must be an integer ≥ 0, got -1")


# --------------------------------------------------------------------------- properties


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    values=st.lists(
        st.lists(
            st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: v + 0.5), min_size=1, max_size=4
        ),
        min_size=1,
        max_size=20,
    ).filter(lambda rows: len({len(r) for r in rows}) == 1),
    named=st.booleans(),
)
def test_pandas_exports_keep_every_row(tmp_path_factory, values, named):
    """Whatever the numbers, an unnamed frame written by pandas reads back with all its
    rows, with its header (0, 1, …) or without one."""
    path = tmp_path_factory.mktemp("p") / "p.csv"
    frame = pd.DataFrame(values)
    frame.to_csv(path, index=False, header=named)
    table = read_table(str(path))
    assert table.header is named
    assert table.n_rows == len(values)
    assert table.all_columns == [str(j) for j in range(frame.shape[1])]
    np.testing.assert_array_equal(table.matrix(table.all_columns), frame.to_numpy())


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(alphabet="ab\n", max_size=300),
    cuts=st.lists(st.integers(0, 300), max_size=6),
    limit=st.integers(1, 40),
)
def test_line_limit_over_chunks_matches_a_plain_scan(text, cuts, limit):
    """The streamed line check finds the first line longer than the limit, wherever the
    block boundaries fall."""
    data = text.encode()
    bounds = sorted({0, len(data), *(c for c in cuts if c < len(data))})
    chunks = [data[a:b] for a, b in itertools.pairwise(bounds)]
    lines = data.split(b"\n")
    want = next((i + 1 for i, ln in enumerate(lines) if len(ln) > limit), None)
    line_len, line = 0, 1
    try:
        for chunk in chunks:
            line_len, line = _line_lengths("s", chunk, line_len, line, limit)
    except DataError as exc:
        assert want is not None and f"line {want} is longer" in exc.message
    else:
        assert want is None


@pytest.mark.slow
def test_gzip_bomb_file_after_a_header_fails_in_bounded_memory(tmp_path):
    """The long line is the second: finding its number reads in blocks, never the line."""
    bomb = tmp_path / "bomb.csv.gz"
    _gzip_of_one_huge_line(bomb, header=b"p,y\n")
    code, err, peak = _peak_of(["evaluate", str(bomb)])
    assert code == DATA and "bomb.csv.gz: line 2 is longer than" in err
    assert peak < 400, peak
