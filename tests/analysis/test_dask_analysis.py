"""``--grad``, ``--dtype`` and ``--combine`` on ``--engine dask``: the statistics merge
across partitions to the local engine's."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not all(importlib.util.find_spec(m) for m in ("dask", "distributed")),
        reason="dask/distributed are not installed",
    ),
]


def test_dask_matches_local(cli, tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    y = rng.integers(0, 2, n)
    p = np.clip(0.5 * y + 0.25 + rng.normal(0, 0.2, n), 0.001, 0.999)
    df = pd.DataFrame({"prob": p, "label": y})
    parts = tmp_path / "parts"
    parts.mkdir()
    for i, idx in enumerate(np.array_split(np.arange(n), 4)):
        df.iloc[idx].to_parquet(parts / f"part-{i}.parquet", index=False)
    whole = tmp_path / "all.csv"
    df.to_csv(whole, index=False)
    args = ["--pred-col", "prob", "--target-col", "label", "--grad", "--dtype", "float16"]
    args += ["--combine", "mix=bce:1,brier:2", "--json"]
    local = cli("evaluate", whole, *args).json()
    r = cli("evaluate", str(parts / "part-*.parquet"), *args, "--engine", "dask")
    assert r.exit_code == 0, r.stderr
    got = r.json()
    for a, b in zip(got["losses"], local["losses"]):
        assert a["name"] == b["name"]
        if b["grad"] is None:  # ece, mce: binned, no gradient
            assert a["grad"] is None and a["grad_reason"] == b["grad_reason"]
            continue
        for k in ("mean_abs", "max_abs", "top1pct_share", "saturated_share"):
            assert a["grad"][k] == pytest.approx(b["grad"][k], rel=1e-12), (a["name"], k)
        assert a["precision"]["value"] == pytest.approx(b["precision"]["value"], rel=1e-3)
    mix = next(it for it in got["losses"] if it["name"] == "mix")
    assert sum(t["share"] for t in mix["terms"]) == pytest.approx(1.0)
