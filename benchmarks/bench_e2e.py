"""End to end: ``losscli evaluate`` against the fastest plain reader, whole process.

For each size (1M / 10M rows, 40M with ``--large``) a pair of one-column CSV files is
generated once (``%.6f``, a header row) into ``--cache`` and then, alternating A B A B:

* A: ``python -m losscli evaluate P T --json -q`` — every regression loss, streamed;
* B: ``pandas.read_csv`` (C engine) loading both files into float64 NumPy arrays.

Each run is a fresh process; its wall time comes from the parent's clock and its peak
resident memory from ``os.wait4`` (``ru_maxrss`` of that child alone). The table shows
medians (5 runs at 1M/10M, 3 at 40M by default) and the ratios A/B.

    python benchmarks/bench_e2e.py [--runs 5] [--large] [--cache DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SIZES = {"1M": 1_000_000, "10M": 10_000_000, "40M": 40_000_000}
READER = (
    "import sys, numpy as np, pandas as pd\n"
    "p = pd.read_csv(sys.argv[1]).iloc[:, 0].to_numpy(np.float64)\n"
    "t = pd.read_csv(sys.argv[2]).iloc[:, 0].to_numpy(np.float64)\n"
    "assert p.shape == t.shape\n"
)


def generate(path_p: Path, path_t: Path, n: int) -> None:
    """Targets N(0,1), predictions = targets + N(0, 0.5²), 6 decimals, 1M rows at a time."""
    import numpy as np

    rng = np.random.default_rng(0)
    tmp_p, tmp_t = path_p.with_suffix(".part"), path_t.with_suffix(".part")
    with open(tmp_p, "w") as fp, open(tmp_t, "w") as ft:
        fp.write("pred\n")
        ft.write("target\n")
        for start in range(0, n, 1_000_000):
            m = min(1_000_000, n - start)
            t = rng.normal(size=m)
            p = t + rng.normal(scale=0.5, size=m)
            fp.write("\n".join(f"{x:.6f}" for x in p.tolist()) + "\n")
            ft.write("\n".join(f"{x:.6f}" for x in t.tolist()) + "\n")
    tmp_p.replace(path_p)
    tmp_t.replace(path_t)


def run_once(cmd: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MiB) of one child process."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024.0  # Linux: KiB


def bench(label: str, p: Path, t: Path, runs: int) -> dict[str, float]:
    ours = [sys.executable, "-m", "losscli", "evaluate", str(p), str(t), "--json", "-q"]
    reader = [sys.executable, "-c", READER, str(p), str(t)]
    run_once(ours)  # warm-up: page cache, .pyc files
    run_once(reader)
    a_wall, a_rss, b_wall, b_rss, ratios = [], [], [], [], []
    for _ in range(runs):
        wa, ra = run_once(ours)
        wb, rb = run_once(reader)
        a_wall.append(wa)
        a_rss.append(ra)
        b_wall.append(wb)
        b_rss.append(rb)
        ratios.append(wa / wb)
    med = statistics.median
    row = {
        "evaluate_s": med(a_wall),
        "reader_s": med(b_wall),
        "ratio": med(ratios),
        "evaluate_mib": med(a_rss),
        "reader_mib": med(b_rss),
        "evaluate_max_mib": max(a_rss),
    }
    print(
        f"| {label} | {row['evaluate_s']:.2f} | {row['reader_s']:.2f} | {row['ratio']:.2f} | "
        f"{row['evaluate_mib']:.0f} (max {row['evaluate_max_mib']:.0f}) | "
        f"{row['reader_mib']:.0f} |",
        flush=True,
    )
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="runs per size at 1M/10M (≥ 3)")
    ap.add_argument("--large", action="store_true", help="also 40M rows (≈ 1.5 GB of CSV)")
    ap.add_argument("--large-runs", type=int, default=3)
    ap.add_argument(
        "--cache", default=os.path.join(tempfile.gettempdir(), "losscli-bench"), help="data dir"
    )
    ap.add_argument("--sizes", default="1M,10M", help="comma-separated: 1M,10M,40M")
    args = ap.parse_args()
    sizes = [s for s in args.sizes.split(",") if s]
    if args.large and "40M" not in sizes:
        sizes.append("40M")
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    print("| rows | evaluate s | pandas.read_csv s | ratio | evaluate peak MiB | reader peak MiB |")
    print("|---|---|---|---|---|---|")
    for label in sizes:
        n = SIZES[label]
        p, t = cache / f"p{label}.csv", cache / f"t{label}.csv"
        if not (p.exists() and t.exists()):
            print(f"(generating {label} rows in {cache} …)", file=sys.stderr, flush=True)
            generate(p, t, n)
        runs = args.large_runs if label == "40M" else max(3, args.runs)
        bench(label, p, t, runs)


if __name__ == "__main__":
    main()
