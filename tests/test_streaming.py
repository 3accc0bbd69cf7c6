"""Streamed evaluation (files read in chunks) against the same files read in one piece.

The in-memory run (``--chunk-size 0``) is the reference: every value, worst row and
per-sample line of a streamed run must match it to summation order (rtol 1e-12). Files
are written here with the ``csv`` module, 1000 rows read in chunks of 97.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.conftest import write_csv

N = 1000
CHUNK = "97"


def run(cli: Any, *args: Any, code: int = 0) -> dict[str, Any]:
    r = cli("evaluate", *args, "--json")
    assert r.exit_code == code, (r.exit_code, r.stderr)
    return json.loads(r.stdout) if code in (0, 1) else {"stderr": r.stderr}


def both(cli: Any, *args: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(streamed, in-memory) documents of the same evaluate call."""
    streamed = run(cli, *args, "--chunk-size", CHUNK)
    memory = run(cli, *args, "--chunk-size", "0")
    assert streamed["read"]["mode"] == "stream" and streamed["read"]["chunks"] > 1
    assert memory["read"]["mode"] == "memory"
    return streamed, memory


def assert_same_losses(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert [x["name"] for x in a["losses"]] == [x["name"] for x in b["losses"]]
    for x, y in zip(a["losses"], b["losses"]):
        assert x["status"] == y["status"], x["name"]
        assert x.get("reason") == y.get("reason"), x["name"]
        if x["value"] is None:
            assert y["value"] is None
        else:
            np.testing.assert_allclose(x["value"], y["value"], rtol=1e-12, err_msg=x["name"])
    assert a["n_samples"] == b["n_samples"]
    assert a["task"] == b["task"]


@pytest.fixture
def regression(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(1)
    t = rng.normal(size=N) * 3
    p = t + rng.standard_t(3, size=N)
    return (
        write_csv(tmp_path / "p.csv", ["pred"], [[f"{v:.6f}"] for v in p]),
        write_csv(tmp_path / "t.csv", ["target"], [[f"{v:.6f}"] for v in t]),
    )


@pytest.fixture
def binary(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, size=N)
    p = np.clip(0.5 + (y - 0.5) * rng.uniform(0, 1, size=N), 0, 1)
    return (
        write_csv(tmp_path / "bp.csv", ["p"], [[f"{v:.6f}"] for v in p]),
        write_csv(tmp_path / "by.csv", ["y"], [[int(v)] for v in y]),
    )


@pytest.fixture
def multiclass(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(3)
    z = rng.normal(size=(N, 4))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    y = rng.integers(0, 4, size=N)
    names = ["cat", "dog", "owl", "fox"]
    return (
        write_csv(tmp_path / "mp.csv", names, [[repr(float(v)) for v in row] for row in p]),
        write_csv(tmp_path / "my.csv", ["label"], [[names[int(v)]] for v in y]),
    )


# --------------------------------------------------------------------------- same values


def test_regression_streamed_equals_in_memory(cli, regression):
    s, m = both(cli, *regression, "--worst", "7")
    assert_same_losses(s, m)
    assert s["task"]["name"] == "regression"
    assert s["worst"] == m["worst"] and len(s["worst"]) == 7
    assert s["inputs"] == m["inputs"]


def test_binary_streamed_equals_in_memory(cli, binary):
    s, m = both(cli, *binary, "--worst", "5")
    assert_same_losses(s, m)
    assert s["task"]["input"] == "probabilities"
    assert s["worst"] == m["worst"]


def test_multiclass_streamed_equals_in_memory_with_balanced_weights(cli, multiclass):
    args = (*multiclass, "--param", "cross_entropy.weight=balanced", "--worst", "4")
    s, m = both(cli, *args, "--per-class")
    assert_same_losses(s, m)
    assert s["task"]["name"] == "multiclass"
    assert s["worst"] == m["worst"]
    for x, y in zip(s["losses"], m["losses"]):
        assert x.get("per_class", {}).keys() == y.get("per_class", {}).keys()
        for k, v in x.get("per_class", {}).items():
            np.testing.assert_allclose(v, y["per_class"][k], rtol=1e-12)
    ce = next(x for x in s["losses"] if x["name"] == "cross_entropy")
    assert ce["params"]["weight"] == "balanced"


def test_balanced_cross_entropy_matches_torch_convention(cli, multiclass):
    """w_c = n/(C·count_c); mean Σ w_y·(−log p_y) / Σ w_y (torch F.cross_entropy with
    weight), computed here by hand from the files."""
    p = np.loadtxt(multiclass[0], delimiter=",", skiprows=1)
    names = ["cat", "dog", "owl", "fox"]
    with open(multiclass[1]) as fh:
        y = np.array([names.index(r[0]) for r in list(csv.reader(fh))[1:]])
    w = N / (4 * np.bincount(y, minlength=4))
    ref = np.sum(w[y] * -np.log(p[np.arange(N), y])) / np.sum(w[y])
    s = run(cli, *multiclass, "--loss", "cross_entropy", "--param", "ce.weight=balanced",
            "--chunk-size", CHUNK)  # fmt: skip
    np.testing.assert_allclose(s["losses"][0]["value"], ref, rtol=1e-12)


def test_per_sample_file_is_identical(cli, regression, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    run(cli, *regression, "--per-sample", a, "--chunk-size", CHUNK)
    run(cli, *regression, "--per-sample", b, "--chunk-size", "0")
    ra = list(csv.reader(a.open()))
    rb = list(csv.reader(b.open()))
    assert len(ra) == N + 1 and ra[0] == rb[0]
    assert [r[0] for r in ra] == [r[0] for r in rb]
    np.testing.assert_allclose(
        np.array(ra[1:], dtype=float), np.array(rb[1:], dtype=float), rtol=1e-12
    )


def test_loss_leaving_its_domain_in_a_late_chunk_is_not_applicable(cli, tmp_path):
    # msle needs values > -1; only row 900 (file row 901) leaves it
    t = np.linspace(0, 5, N)
    p = t + 0.1
    p[899] = -3.0
    pp = write_csv(tmp_path / "p.csv", ["pred"], [[repr(float(v))] for v in p])
    tt = write_csv(tmp_path / "t.csv", ["target"], [[repr(float(v))] for v in t])
    s, m = both(cli, pp, tt)
    assert_same_losses(s, m)
    msle = next(x for x in s["losses"] if x["name"] == "msle")
    assert msle["status"] == "not_applicable" and "found -3" in msle["reason"]


def test_drop_invalid_on_streams(cli, regression, tmp_path):
    lines = regression[0].read_text().splitlines()
    for i in (5, 400, 950):  # file rows 6, 401, 951 (header is row 1)
        lines[i] = ""
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    s, m = both(cli, bad, regression[1], "--drop-invalid")
    assert_same_losses(s, m)
    assert s["n_samples"] == N - 3
    dropped = [w for w in s["warnings"] if w.startswith("dropped")]
    assert dropped == [w for w in m["warnings"] if w.startswith("dropped")]
    assert "rows 6, 401, 951" in dropped[0]


# --------------------------------------------------------------------------- errors


def test_missing_value_in_a_late_chunk_names_its_row(cli, regression, tmp_path):
    lines = regression[0].read_text().splitlines()
    lines[871] = "nan"  # file row 872
    bad = tmp_path / "late.csv"
    bad.write_text("\n".join(lines) + "\n")
    r = cli("evaluate", bad, regression[1], "--chunk-size", CHUNK)
    assert r.exit_code == 3
    assert "row 872" in r.stderr and "column 'pred'" in r.stderr and "late.csv" in r.stderr


def test_text_cell_in_a_late_chunk_names_its_row(cli, regression, tmp_path):
    lines = regression[1].read_text().splitlines()
    lines[640] = "oops"  # file row 641
    bad = tmp_path / "t_bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    r = cli("evaluate", regression[0], bad, "--chunk-size", CHUNK)
    assert r.exit_code == 3, r.stderr
    assert "row 641" in r.stderr and "'oops'" in r.stderr


def test_probabilities_leaving_unit_interval_late_ask_for_logits(cli, binary, tmp_path):
    lines = binary[0].read_text().splitlines()
    lines[500] = "1.7"  # file row 501
    bad = tmp_path / "bp_bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    r = cli("evaluate", bad, binary[1], "--chunk-size", CHUNK)
    assert r.exit_code == 3, r.stderr
    assert "row 501" in r.stderr and "probabilities" in r.stderr and "--logits" in r.stderr
    # read in one piece, the same file is logits
    doc = run(cli, bad, binary[1], "--chunk-size", "0")
    assert doc["task"]["input"] == "logits"


def test_binary_targets_leaving_zero_one_late_ask_for_task(cli, binary, tmp_path):
    lines = binary[1].read_text().splitlines()
    lines[700] = "0.5"  # file row 701
    bad = tmp_path / "by_bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    r = cli("evaluate", binary[0], bad, "--chunk-size", CHUNK)
    assert r.exit_code == 3, r.stderr
    assert "row 701" in r.stderr and "--task regression" in r.stderr


def test_unknown_class_name_in_a_late_chunk(cli, multiclass, tmp_path):
    lines = multiclass[1].read_text().splitlines()
    lines[333] = "emu"  # file row 334
    bad = tmp_path / "my_bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    r = cli("evaluate", multiclass[0], bad, "--chunk-size", CHUNK)
    assert r.exit_code == 3, r.stderr
    assert "'emu'" in r.stderr and "row 334" in r.stderr


@pytest.mark.parametrize("short", ["pred", "target"])
def test_length_mismatch_found_at_the_end_names_both_counts(cli, regression, tmp_path, short):
    which = 0 if short == "pred" else 1
    lines = regression[which].read_text().splitlines()[:-13]
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join(lines) + "\n")
    files = list(regression)
    files[which] = cut
    r = cli("evaluate", *files, "--chunk-size", CHUNK)
    assert r.exit_code == 3, r.stderr
    counts = [N - 13, N] if which == 0 else [N, N - 13]
    assert f"has {counts[0]} rows" in r.stderr and f"has {counts[1]}\n" in r.stderr


# --------------------------------------------------------------------------- fallbacks


def test_parquet_streams_by_row_group(cli, tmp_path):
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(4)
    pd.DataFrame({"pred": rng.normal(size=300)}).to_parquet(tmp_path / "p.parquet")
    pd.DataFrame({"target": rng.normal(size=300)}).to_parquet(tmp_path / "t.parquet")
    s, m = both(cli, tmp_path / "p.parquet", tmp_path / "t.parquet")
    assert_same_losses(s, m)
    assert not any(w.startswith("read in memory") for w in s["warnings"])


def test_id_join_is_read_in_memory_with_a_note(cli, tmp_path):
    ids = np.arange(N)
    p = write_csv(tmp_path / "p.csv", ["id", "pred"], [[i, i * 0.5] for i in ids])
    t = write_csv(tmp_path / "t.csv", ["id", "target"], [[i, i * 0.4] for i in ids[::-1]])
    doc = run(cli, p, t, "--chunk-size", CHUNK)
    assert doc["read"]["mode"] == "memory"
    assert any("read in memory: rows are joined on the id column" in w for w in doc["warnings"])
    np.testing.assert_allclose(
        next(x["value"] for x in doc["losses"] if x["name"] == "mae"),
        np.mean(np.abs(ids * 0.1)),
        rtol=1e-12,
    )


def test_small_files_are_one_chunk_without_note(cli, regression):
    doc = run(cli, *regression)  # 1000 rows < default chunk size
    assert doc["read"]["mode"] == "memory"
    assert not any(w.startswith("read in") for w in doc["warnings"])


def test_streamed_inference_note_names_chunks_and_how_to_read_every_row(cli, binary):
    doc = run(cli, *binary, "--chunk-size", CHUNK)
    n = doc["read"]["chunks"]
    assert (
        f"read in {n} chunks of up to {CHUNK} rows: what was inferred from the first "
        f"{CHUNK} rows was checked on every later row (--chunk-size 0 infers from every row)"
    )
    assert doc["inputs"]["predictions"]["rows"] == doc["inputs"]["targets"]["rows"] == N


def test_compare_streams_each_model(cli, regression, tmp_path):
    p2 = tmp_path / "p2.csv"
    rows = regression[0].read_text().splitlines()
    p2.write_text("\n".join([rows[0]] + [f"{float(v) * 0.9:.6f}" for v in rows[1:]]) + "\n")
    out = []
    for chunk in (CHUNK, "0"):
        r = cli("compare", regression[0], p2, regression[1], "--json", "--chunk-size", chunk)
        assert r.exit_code == 0, r.stderr
        out.append(json.loads(r.stdout))
    for x, y in zip(out[0]["losses"], out[1]["losses"]):
        assert x["best"] == y["best"]
        for k, v in x["values"].items():
            if v is not None:
                np.testing.assert_allclose(v, y["values"][k], rtol=1e-12)


# --------------------------------------------------------------------------- memory


@pytest.mark.slow
def test_peak_memory_of_a_streamed_evaluate_stays_flat_with_input_size(tmp_path):
    """Chunks of 250k rows: 4M rows peak about as high as 2M rows, while the one-piece
    read of the 4M rows holds both parsed files (2 × 4M × 8 B of values at least) and
    peaks far higher. (Below ~2M rows the peak still rises: the C heap keeps up to
    64 MiB of freed memory, losscli.allocator, until the allocation pattern settles.)"""
    rng = np.random.default_rng(5)
    for n in (2_000_000, 4_000_000):
        t = rng.normal(size=n)
        for name, col, v in (("p", "pred", t + rng.normal(size=n)), ("t", "target", t)):
            with open(tmp_path / f"{name}{n}.csv", "w") as fh:
                fh.write(col + "\n")
                fh.write("\n".join(f"{x:.6f}" for x in v.tolist()))
                fh.write("\n")
    # each run's own peak (os.wait4), from a parent that loads no data itself; the data
    # path alone: the no-skill baselines' kept targets are a separate, capped cost
    # (tests/test_noskill.py), and the system allocator keeps no retained memory that
    # would blur the difference
    script = textwrap.dedent(
        f"""
        import os, subprocess, sys
        env = dict(os.environ, LOSSCLI_NO_SKILL_MAX_VALUES="0",
                   ARROW_DEFAULT_MEMORY_POOL="system")
        def peak(n, chunk):
            args = [sys.executable, "-m", "losscli", "evaluate",
                    os.path.join({str(tmp_path)!r}, f"p{{n}}.csv"),
                    os.path.join({str(tmp_path)!r}, f"t{{n}}.csv"),
                    "--json", "-q", "--chunk-size", chunk]
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            return usage.ru_maxrss
        print(peak(2000000, "250000"), peak(4000000, "250000"), peak(4000000, "0"))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout.split()
    small, large, whole = (int(x) for x in out)  # KiB
    # 95–130 MB is the interpreter with numpy/pyarrow loaded (it varies by environment)
    assert large < 250 * 1024, large
    assert large < small + 24 * 1024, (small, large)  # measured: +5 MiB
    assert whole > large + 48 * 1024, (large, whole)  # measured: +130 MiB


@pytest.mark.slow
def test_peak_memory_of_memory_mapped_npy_stays_flat(tmp_path):
    """Rows of a memory-mapped .npy leave the process's resident memory once their chunk
    is done: 8M rows peak about as high as 1M (the mapped pages alone would add 2 × 64 MB)."""
    rng = np.random.default_rng(3)
    for n in (1_000_000, 8_000_000):
        t = rng.normal(size=n)
        np.save(tmp_path / f"t{n}.npy", t)
        np.save(tmp_path / f"p{n}.npy", t + rng.normal(size=n))
    script = textwrap.dedent(
        f"""
        import os, subprocess, sys
        env = dict(os.environ, LOSSCLI_NO_SKILL_MAX_VALUES="0")
        def peak(n):
            args = [sys.executable, "-m", "losscli", "evaluate",
                    os.path.join({str(tmp_path)!r}, f"p{{n}}.npy"),
                    os.path.join({str(tmp_path)!r}, f"t{{n}}.npy"), "--json", "-q"]
            proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, env=env)
            _, status, usage = os.wait4(proc.pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            return usage.ru_maxrss
        print(peak(1000000), peak(8000000))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout.split()
    small, large = (int(x) for x in out)  # KiB
    assert large < small + 24 * 1024, (small, large)
