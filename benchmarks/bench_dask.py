"""``--engine dask``: how the time of a run falls with workers, and where the fixed cost goes.

A regression dataset (``pred``, ``target`` float64) is written once as ``--parts``
Parquet partitions into ``--cache``. For each worker count (1, 2, 4, … up to the cores;
``--workers`` to choose), a loopback ``LocalCluster`` of that many single-thread worker
processes is started and warmed (workers import losscli once, as a long-running cluster
has), then ``losscli.evaluate(DIR, engine="dask", scheduler=ADDRESS)`` runs ``--runs``
times. Each run reports its phases (medians over the runs):

* plan: the driver reads the first partition's first rows (columns, task, input kind);
* connect: the client connects to the scheduler;
* ship: the run (specs, plan, decisions: one small object) is sent to every worker;
* compute: the partitions are read and folded on the workers (map tasks);
* reduce: the tree of merges after the last map task, and the result back;
* total: the whole ``evaluate`` call, and overhead = total − compute.

On a machine with few cores, ``--parts`` larger than the worker count keeps every worker
busy (the scaling then shows how the fixed cost compares with the work).

    python benchmarks/bench_dask.py [--rows 20000000] [--parts 32] [--workers 1,2] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

PHASES = ("plan", "connect", "ship", "compute", "reduce")


def generate(folder: Path, rows: int, parts: int) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if folder.is_dir() and len(list(folder.glob("*.parquet"))) == parts:
        return
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    size = -(-rows // parts)
    for i in range(parts):
        m = min(size, rows - i * size)
        y = rng.normal(size=m)
        p = y + rng.normal(scale=0.5, size=m)
        pq.write_table(pa.table({"pred": p, "target": y}), folder / f"part-{i:04d}.parquet")


def one_run(folder: Path, address: str) -> dict[str, float]:
    import losscli.engines.dask as engine
    from losscli import evaluate

    seen: list = []
    opened = engine.open_dask_source

    def spy(*a, **kw):  # type: ignore[no-untyped-def]
        src = opened(*a, **kw)
        seen.append(src)
        return src

    engine.open_dask_source = spy
    try:
        t0 = time.perf_counter()
        evaluate(str(folder), engine="dask", scheduler=address)
        total = time.perf_counter() - t0
    finally:
        engine.open_dask_source = opened
    out = {k: seen[0].timings.get(k, 0.0) for k in PHASES}
    out["total"] = total
    out["overhead"] = total - out["compute"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=20_000_000)
    ap.add_argument("--parts", type=int, default=32)
    ap.add_argument("--workers", default=None, help="comma-separated worker counts")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "losscli-bench")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    if args.workers:
        counts = [int(w) for w in args.workers.split(",")]
    else:
        counts, w = [], 1
        while w <= cores:
            counts.append(w)
            w *= 2
    folder = args.cache / f"dask-{args.rows}-{args.parts}"
    generate(folder, args.rows, args.parts)

    import distributed

    rows = []
    for w in counts:
        with (
            distributed.LocalCluster(
                n_workers=w,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=None,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            client.run(__import__, "losscli.engines.dask")  # a warm cluster
            one_run(folder, cluster.scheduler_address)  # warm-up run
            runs = [one_run(folder, cluster.scheduler_address) for _ in range(args.runs)]
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        rows.append((w, med))
        print(f"workers={w}: " + ", ".join(f"{k} {v:.3f}" for k, v in med.items()), file=sys.stderr)

    base = rows[0][1]["total"]
    print(
        f"\n{args.rows:,} rows in {args.parts} Parquet partitions, {cores} cores, "
        f"median of {args.runs}\n"
    )
    print("| workers | total s | speed-up | plan | connect | ship | compute | reduce | overhead |")
    print("|---|---|---|---|---|---|---|---|---|")
    for w, m in rows:
        print(
            f"| {w} | {m['total']:.2f} | {base / m['total']:.2f}× | {m['plan']:.3f} | "
            f"{m['connect']:.3f} | {m['ship']:.3f} | {m['compute']:.2f} | {m['reduce']:.3f} | "
            f"{m['overhead']:.2f} |"
        )


if __name__ == "__main__":
    main()
