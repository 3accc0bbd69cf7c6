"""End to end: ``losscli evaluate`` against the fastest plain reader of the same files.

For each size (``--sizes``, default 5M rows) a pair of one-column CSV files is generated
once (``%.6f``, a header row) into ``--cache``, and the same rows as a directory of 16
Parquet parts holding both columns. Then, in rounds (every command once per round, in
turn, so that a busy neighbour slows all alike):

* ``evaluate``: ``python -m losscli evaluate P T --json -q`` — every regression loss,
  streamed (the default);
* ``before`` (with ``--before DIR``): the same command run from another checkout;
* ``pandas``: ``pandas.read_csv`` (C engine) of both files into float64 NumPy arrays;
* ``pyarrow``: ``pyarrow.csv.read_csv`` (multi-threaded) of both files into NumPy;
* ``polars``: ``polars.read_csv`` of both files into NumPy (only when installed);
* ``parquet-dir``: ``losscli evaluate PARTS/ --json -q`` (Parquet streamed by row group,
  file by file).

Each run is a fresh process: wall time from the parent's clock, peak resident memory
from ``os.wait4`` (``ru_maxrss`` of that child alone). The table shows medians over the
rounds, and ``ratio``: the median over rounds of evaluate's time divided by the fastest
plain reader's time in the same round.

    python benchmarks/bench_e2e.py [--sizes 5M,40M] [--runs 5] [--before /path/to/checkout]
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SIZES = {"1M": 1_000_000, "5M": 5_000_000, "10M": 10_000_000, "40M": 40_000_000}
PARTS = 16
READERS = {
    "pandas": (
        "import sys, numpy as np, pandas as pd\n"
        "p = pd.read_csv(sys.argv[1]).iloc[:, 0].to_numpy(np.float64)\n"
        "t = pd.read_csv(sys.argv[2]).iloc[:, 0].to_numpy(np.float64)\n"
        "assert p.shape == t.shape\n"
    ),
    "pyarrow": (
        "import sys, numpy as np, pyarrow.csv as c\n"
        "p = c.read_csv(sys.argv[1]).column(0).to_numpy()\n"
        "t = c.read_csv(sys.argv[2]).column(0).to_numpy()\n"
        "assert p.shape == t.shape and p.dtype == np.float64\n"
    ),
    "polars": (
        "import sys, numpy as np, polars as pl\n"
        "p = pl.read_csv(sys.argv[1]).to_series(0).to_numpy()\n"
        "t = pl.read_csv(sys.argv[2]).to_series(0).to_numpy()\n"
        "assert p.shape == t.shape\n"
    ),
}


def generate(path_p: Path, path_t: Path, parts: Path, n: int) -> None:
    """Targets N(0,1), predictions = targets + N(0, 0.5²), 6 decimals, 1M rows at a time;
    the same values (as parsed) in ``PARTS`` Parquet files of ``pred`` and ``target``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    tmp_p, tmp_t = path_p.with_suffix(".part"), path_t.with_suffix(".part")
    parts.mkdir(parents=True, exist_ok=True)
    size = -(-n // PARTS)
    buf_p: list[np.ndarray] = []
    buf_t: list[np.ndarray] = []
    written = 0
    with open(tmp_p, "w") as fp, open(tmp_t, "w") as ft:
        fp.write("pred\n")
        ft.write("target\n")
        for start in range(0, n, 1_000_000):
            m = min(1_000_000, n - start)
            t = np.round(rng.normal(size=m), 6)
            p = np.round(t + rng.normal(scale=0.5, size=m), 6)
            fp.write("\n".join(f"{x:.6f}" for x in p.tolist()) + "\n")
            ft.write("\n".join(f"{x:.6f}" for x in t.tolist()) + "\n")
            buf_p.append(p)
            buf_t.append(t)
            while sum(len(b) for b in buf_p) >= size or (
                start + m == n and buf_p and sum(len(b) for b in buf_p)
            ):
                allp, allt = np.concatenate(buf_p), np.concatenate(buf_t)
                k = min(size, len(allp))
                pq.write_table(
                    pa.table({"pred": allp[:k], "target": allt[:k]}),
                    parts / f"part-{written:03d}.parquet",
                )
                written += 1
                buf_p, buf_t = [allp[k:]], [allt[k:]]
    tmp_p.replace(path_p)
    tmp_t.replace(path_t)


def run_once(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024.0  # Linux: KiB


def commands(p: Path, t: Path, parts: Path, before: str | None) -> dict[str, tuple[list[str], Any]]:
    py = sys.executable
    out: dict[str, tuple[list[str], Any]] = {
        "evaluate": ([py, "-m", "losscli", "evaluate", str(p), str(t), "--json", "-q"], None)
    }
    if before:
        # the other checkout first on sys.path (``-m`` would put the working directory,
        # this checkout, ahead of PYTHONPATH)
        boot = (
            f"import runpy, sys; sys.path.insert(0, {before!r}); "
            "runpy.run_module('losscli', run_name='__main__', alter_sys=True)"
        )
        out["before"] = ([py, "-c", boot, *out["evaluate"][0][3:]], None)
    for name, code in READERS.items():
        if name == "polars" and importlib.util.find_spec("polars") is None:
            continue
        out[name] = ([py, "-c", code, str(p), str(t)], None)
    out["parquet-dir"] = ([py, "-m", "losscli", "evaluate", str(parts), "--json", "-q"], None)
    return out


def bench(label: str, cmds: dict[str, tuple[list[str], Any]], runs: int) -> None:
    for cmd, env in cmds.values():  # warm-up: page cache, .pyc files
        run_once(cmd, env)
    walls: dict[str, list[float]] = {k: [] for k in cmds}
    rss: dict[str, list[float]] = {k: [] for k in cmds}
    ratios, rss_ratios = [], []
    readers = [k for k in cmds if k in READERS]
    for _ in range(runs):
        for name, (cmd, env) in cmds.items():
            w, r = run_once(cmd, env)
            walls[name].append(w)
            rss[name].append(r)
        fastest = min(readers, key=lambda k: walls[k][-1])
        ratios.append(walls["evaluate"][-1] / walls[fastest][-1])
        rss_ratios.append(rss["parquet-dir"][-1] / rss["evaluate"][-1])
    med = statistics.median
    fastest = min(readers, key=lambda k: med(walls[k]))
    print(f"\n{label} rows, median of {runs} rounds\n")
    print("| run | wall s | peak MiB | wall / fastest reader |")
    print("|---|---|---|---|")
    for name in cmds:
        print(
            f"| {name} | {med(walls[name]):.2f} | {med(rss[name]):.0f} | "
            f"{med(walls[name]) / med(walls[fastest]):.2f} |"
        )
    print(
        f"\nevaluate / fastest reader in the same round: {med(ratios):.2f} "
        f"(fastest by median: {fastest}); parquet-dir peak / evaluate peak: "
        f"{med(rss_ratios):.2f}",
        flush=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="rounds per size (≥ 3)")
    ap.add_argument("--sizes", default="5M", help="comma-separated: 1M,5M,10M,40M")
    ap.add_argument("--before", default=None, help="a checkout to run as 'before'")
    ap.add_argument(
        "--cache", default=os.path.join(tempfile.gettempdir(), "losscli-bench"), help="data dir"
    )
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} cores; Python {sys.version.split()[0]}")
    # byte-compiled as an installed wheel is: with PYTHONDONTWRITEBYTECODE set, an
    # editable checkout would otherwise compile its modules in every run
    for root in [
        Path(__file__).resolve().parent.parent,
        *([Path(args.before)] if args.before else []),
    ]:
        compileall.compile_dir(str(root / "losscli"), quiet=1)
    for label in [s for s in args.sizes.split(",") if s]:
        n = SIZES[label]
        p, t, parts = cache / f"p{label}.csv", cache / f"t{label}.csv", cache / f"parts{label}"
        if not (p.exists() and t.exists() and parts.is_dir()):
            print(f"(generating {label} rows in {cache} …)", file=sys.stderr, flush=True)
            # in a child: a child's peak RSS starts from its parent's size at the fork,
            # so this process stays small
            code = "import sys; from bench_e2e import generate; from pathlib import Path; "
            code += f"generate(Path({str(p)!r}), Path({str(t)!r}), Path({str(parts)!r}), {n})"
            here = str(Path(__file__).resolve().parent)
            subprocess.run([sys.executable, "-c", code], check=True, cwd=here)
        bench(label, commands(p, t, parts, args.before), max(3, args.runs))


if __name__ == "__main__":
    main()
