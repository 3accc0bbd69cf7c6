"""``--engine dask`` on real clusters against the local engine on the same rows.

Each dataset is written as 5 partitions (csv and parquet) and as one concatenated csv.
The local engine on the concatenated file is the reference: every value of a dask run
must match it to summation order (rtol 1e-12), with the same JSON shape (only ``read``
and the notes about partitions differ). Clusters run on loopback with worker
processes: a LocalCluster started here and passed with ``--scheduler``, and the
engine's own LocalCluster when no scheduler is given.
"""

from __future__ import annotations

import importlib.util
import json
import multiprocessing
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow

HAVE_DASK = all(importlib.util.find_spec(m) is not None for m in ("dask", "distributed"))
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason="dask/distributed are not installed")

N = 2000
PARTS = 5


# --------------------------------------------------------------------------- data


def frame(task: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    if task == "regression":
        y = rng.normal(size=N)
        return pd.DataFrame({"pred": y + rng.normal(scale=0.5, size=N), "target": y})
    if task == "binary":
        y = rng.integers(0, 2, N)
        p = np.clip(0.5 * y + 0.25 + rng.normal(0, 0.15, N), 0.001, 0.999)
        return pd.DataFrame({"prob": p, "label": y})
    z = rng.normal(size=(N, 3))
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    df = pd.DataFrame(probs, columns=["cat", "dog", "bird"])
    df["target"] = np.array(["cat", "dog", "bird"])[rng.integers(0, 3, N)]
    return df


def write_parts(df: pd.DataFrame, root: Path, fmt: str) -> tuple[str, Path]:
    """(glob of the partitions, the concatenated csv)."""
    part_dir = root / fmt
    part_dir.mkdir(parents=True, exist_ok=True)
    for i, idx in enumerate(np.array_split(np.arange(len(df)), PARTS)):
        chunk = df.iloc[idx]
        if fmt == "csv":
            chunk.to_csv(part_dir / f"part-{i}.csv", index=False)
        else:
            chunk.to_parquet(part_dir / f"part-{i}.parquet", index=False)
    whole = root / "all.csv"
    df.to_csv(whole, index=False)
    return str(part_dir / f"part-*.{fmt}"), whole


def run(cli: Any, *args: Any, code: int = 0) -> dict[str, Any]:
    r = cli("evaluate", *args, "--json")
    assert r.exit_code == code, (r.exit_code, r.stderr)
    return json.loads(r.stdout) if code in (0, 1) else {"stderr": r.stderr}


def assert_same(dask_doc: dict[str, Any], local: dict[str, Any]) -> None:
    """Same JSON shape and values as the local engine."""
    assert set(dask_doc) == set(local)
    assert dask_doc["task"] == local["task"]
    assert dask_doc["n_samples"] == local["n_samples"]
    assert len(dask_doc["gates"]) == len(local["gates"])
    for g, h in zip(dask_doc["gates"], local["gates"]):
        assert (g["loss"], g["limit"], g["passed"]) == (h["loss"], h["limit"], h["passed"])
        np.testing.assert_allclose(g["value"], h["value"], rtol=1e-12)
    assert dask_doc["ok"] == local["ok"]
    for side in local["inputs"]:
        a, b = dask_doc["inputs"][side], local["inputs"][side]
        assert set(a) == set(b)
        assert (a["columns"], a["rows"]) == (b["columns"], b["rows"])
    assert [x["name"] for x in dask_doc["losses"]] == [x["name"] for x in local["losses"]]
    for x, y in zip(dask_doc["losses"], local["losses"]):
        assert set(x) == set(y), x["name"]
        assert (x["status"], x["params"], x.get("reason")) == (
            y["status"],
            y["params"],
            y.get("reason"),
        ), x["name"]
        if y["value"] is None:
            assert x["value"] is None
        else:
            np.testing.assert_allclose(x["value"], y["value"], rtol=1e-12, err_msg=x["name"])
        for cls, v in (y.get("per_class") or {}).items():
            np.testing.assert_allclose(x["per_class"][cls], v, rtol=1e-12, err_msg=x["name"])


# --------------------------------------------------------------------------- cluster


@pytest.fixture(scope="module")
def scheduler() -> Iterator[str]:
    """A LocalCluster on loopback with two worker processes; its scheduler address."""
    if not HAVE_DASK:
        pytest.skip("dask/distributed are not installed")
    import logging

    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as cluster:
        yield cluster.scheduler_address


@needs_dask
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
@pytest.mark.parametrize("task", ["regression", "binary", "multiclass"])
def test_scheduler_address_matches_local_engine(
    cli: Any, tmp_path: Path, scheduler: str, task: str, fmt: str
) -> None:
    pattern, whole = write_parts(frame(task), tmp_path, fmt)
    local = run(cli, whole)
    got = run(cli, pattern, "--engine", "dask", "--scheduler", scheduler)
    assert got["read"] == {
        "engine": "dask",
        "partitions": PARTS,
        "scheduler": scheduler,
        "workers": 2,
    }
    assert got["inputs"]["predictions"]["path"] == pattern
    assert_same(got, local)
    assert any(f"{PARTS} partitions evaluated on a Dask cluster" in e for e in got["evidence"])
    # the task was inferred from the first partition: the warnings say how to avoid that
    note = next(w for w in got["warnings"] if w.startswith(f"evaluated in {PARTS} partitions"))
    assert note.startswith(
        f"evaluated in {PARTS} partitions: what was inferred from the first partition ("
    )
    assert note.endswith("was checked on every other row (--engine local infers from every row)")


@needs_dask
@pytest.mark.parametrize(("task", "fmt"), [("regression", "csv"), ("multiclass", "parquet")])
def test_own_local_cluster_matches_local_engine(
    cli: Any, tmp_path: Path, task: str, fmt: str
) -> None:
    pattern, whole = write_parts(frame(task, seed=3), tmp_path, fmt)
    before = set(multiprocessing.active_children())
    got = run(cli, pattern, "--engine", "dask")
    from losscli.engines.dask import LOCAL_WORKERS

    assert got["read"]["scheduler"] == "local" and got["read"]["workers"] == LOCAL_WORKERS
    assert_same(got, run(cli, whole))
    # the cluster's worker processes are gone once the run is over
    assert set(multiprocessing.active_children()) <= before


@needs_dask
def test_directory_worst_per_class_and_balanced_weights(
    cli: Any, tmp_path: Path, scheduler: str
) -> None:
    """Worst rows, per-class sums and cross_entropy weight=balanced (a class-count pass
    on the cluster first) against the local engine on the same directory."""
    write_parts(frame("multiclass", seed=5), tmp_path, "parquet")
    args = (
        tmp_path / "parquet",
        "--worst",
        "7",
        "--per-class",
        "--param",
        "cross_entropy.weight=balanced",
    )
    local = run(cli, *args)
    got = run(cli, *args, "--engine", "dask", "--scheduler", scheduler)
    assert_same(got, local)
    assert got["worst_loss"] == local["worst_loss"]
    assert len(got["worst"]) == 7
    for a, b in zip(got["worst"], local["worst"]):
        assert (a["row"], a["target"], a["prediction"]) == (b["row"], b["target"], b["prediction"])
        np.testing.assert_allclose(a["loss"], b["loss"], rtol=1e-12)
    ce = next(x for x in got["losses"] if x["name"] == "cross_entropy")
    assert ce["params"]["weight"] == "balanced" and ce["status"] == "ok"


@needs_dask
def test_weights_and_gates(cli: Any, tmp_path: Path, scheduler: str) -> None:
    df = frame("regression", seed=7)
    df["w"] = np.random.default_rng(8).uniform(0, 3, N)
    pattern, whole = write_parts(df, tmp_path, "csv")
    args = ("--weight-col", "w", "--max", "mse=0.2", "--loss", "mse", "--loss", "mae")
    local = run(cli, whole, *args, code=1)
    got = run(cli, pattern, *args, "--engine", "dask", "--scheduler", scheduler, code=1)
    assert_same(got, local)
    assert got["gates"][0]["passed"] is False


@needs_dask
def test_bad_cell_in_a_later_partition_names_file_and_row(
    cli: Any, tmp_path: Path, scheduler: str
) -> None:
    pattern, _ = write_parts(frame("regression"), tmp_path, "csv")
    bad = tmp_path / "csv" / "part-3.csv"
    lines = bad.read_text().splitlines()
    lines[5] = "oops," + lines[5].split(",")[1]
    bad.write_text("\n".join(lines) + "\n")
    r = run(cli, pattern, "--engine", "dask", "--scheduler", scheduler, code=3)
    assert "part-3.csv" in r["stderr"] and "row 6" in r["stderr"] and "oops" in r["stderr"]


@needs_dask
def test_drop_invalid_counts_rows_of_every_partition(
    cli: Any, tmp_path: Path, scheduler: str
) -> None:
    df = frame("regression", seed=9)
    df.loc[[3, 1500, 1999], "pred"] = np.nan
    pattern, whole = write_parts(df, tmp_path, "parquet")
    local = run(cli, whole, "--drop-invalid")
    got = run(cli, pattern, "--drop-invalid", "--engine", "dask", "--scheduler", scheduler)
    assert got["n_samples"] == N - 3
    assert_same(got, local)
    assert any(w.startswith("dropped 3 of 2000 rows") for w in got["warnings"])


@needs_dask
def test_probabilities_leaving_unit_interval_later_is_a_data_error(
    cli: Any, tmp_path: Path, scheduler: str
) -> None:
    df = frame("binary")
    df.loc[1900, "prob"] = 1.7
    pattern, _ = write_parts(df, tmp_path, "csv")
    r = run(cli, pattern, "--engine", "dask", "--scheduler", scheduler, code=3)
    assert "part-4.csv" in r["stderr"] and "--engine local" in r["stderr"]


@needs_dask
def test_whole_row_losses_are_not_applicable(cli: Any, tmp_path: Path, scheduler: str) -> None:
    """Embedding losses compare rows with each other: not computable per partition."""
    rng = np.random.default_rng(11)
    df = pd.DataFrame(rng.normal(size=(400, 4)), columns=["e0", "e1", "e2", "e3"])
    df["label"] = rng.integers(0, 4, 400)
    pattern, _ = write_parts(df, tmp_path, "csv")
    common = ("--task", "embedding", "--target-col", "label")
    got = run(cli, pattern, *common, "--engine", "dask", "--scheduler", scheduler)
    assert got["losses"] and all(x["status"] == "not_applicable" for x in got["losses"])
    assert all("--engine dask" in x["reason"] for x in got["losses"])
    name = got["losses"][0]["name"]
    r = run(
        cli, pattern, *common, "--loss", name, "--engine", "dask", "--scheduler", scheduler, code=2
    )
    assert "--engine local" in r["stderr"]


# --------------------------------------------------------------------------- usage


def test_missing_extra_is_a_usage_error_before_reading(
    cli: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "distributed", None)
    r = cli("evaluate", "no/such/partitions-*.parquet", "--engine", "dask", "--json")
    assert r.exit_code == 2, r.stderr
    assert 'pip install "losscli[dask]"' in r.stderr
    assert "no such" not in r.stderr and "no file matches" not in r.stderr


@needs_dask
@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (("targets.csv",), "TARGETS"),
        (("--chunk-size", "100"), "--chunk-size"),
        (("--group-col", "g"), "--group-col"),
        (("--plot",), "per-row values"),
    ],
)
def test_flags_that_do_not_apply(
    cli: Any, tmp_path: Path, extra: tuple[str, ...], words: str
) -> None:
    pattern, whole = write_parts(frame("regression"), tmp_path, "csv")
    args = [pattern, whole] if extra == ("targets.csv",) else [pattern, *extra]
    r = cli("evaluate", *args, "--engine", "dask", "--json")
    assert r.exit_code == 2, r.stderr
    assert words in r.stderr


def test_local_engine_and_start_up_never_import_dask(tmp_path: Path) -> None:
    pattern, whole = write_parts(frame("regression"), tmp_path, "csv")
    code = textwrap.dedent(
        f"""
        import sys
        from typer.testing import CliRunner
        from losscli.cli import app
        r = CliRunner().invoke(app, ["evaluate", {str(whole)!r}, "--json"])
        assert r.exit_code == 0, r.output
        r = CliRunner().invoke(app, ["evaluate", {pattern!r}, "--json"])
        assert r.exit_code == 0, r.output
        loaded = [m for m in ("dask", "distributed") if m in sys.modules]
        assert not loaded, loaded
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@needs_dask
def test_driver_plans_on_first_rows_ships_a_small_job_and_times_phases(
    cli: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """The driver reads only PLAN_ROWS rows of the first partition; the rest of it is
    read on a worker, and the values are still those of the local engine. What every
    task receives is one small object, and the run reports its phases."""
    import pickle

    import losscli.engines.dask as engine

    pattern, whole = write_parts(frame("regression", seed=7), tmp_path, "parquet")
    monkeypatch.setattr(engine, "PLAN_ROWS", 100)
    seen: list[Any] = []
    opened = engine.open_dask_source

    def spy(*a: Any, **kw: Any) -> Any:
        src = opened(*a, **kw)
        seen.append(src)
        return src

    monkeypatch.setattr(engine, "open_dask_source", spy)
    got = run(cli, pattern, "--engine", "dask")
    assert_same(got, run(cli, whole))
    src = seen[0]
    assert src.first.n_samples == 100
    assert set(src.timings) == {"plan", "connect", "ship", "compute", "reduce"}
    assert len(pickle.dumps(src._job(template=b""))) < 16 * 1024
