"""``--dtype``: losses recomputed in float16 / bfloat16 / float32 as torch on CPU does."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from losscli.compute import compute
from losscli.precision import PrecisionAccumulator
from losscli.registry import get_spec
from tests.conftest import SAMPLES, write_csv

N = 400


def _inputs():
    rng = np.random.default_rng(0)
    x = rng.normal(0, 2, N)
    y = (rng.uniform(size=N) < 1 / (1 + np.exp(-x))).astype(float)
    r = rng.normal(0, 3, N)
    t = r + rng.normal(0, 1, N)
    z = rng.normal(0, 2, (N, 4))
    yc = rng.integers(0, 4, N)
    return [
        ("mse", "regression", r, t, None),
        ("mae", "regression", r, t, None),
        ("huber", "regression", r, t, None),
        ("bce", "binary", 1 / (1 + np.exp(-x)), y, False),
        ("bce", "binary", x, y, True),
        ("cross_entropy", "multiclass", z, yc, True),
    ]


def ours(loss, task, pred, target, logits, dtype):
    spec = get_spec(loss, task)
    ctx = {} if logits is None else {"from_logits": logits}
    acc = PrecisionAccumulator(spec, dtype)
    ds = SimpleNamespace(
        pred=pred, target=target, context=ctx, sample_weight=None, row_numbers=np.arange(N)
    )
    acc.update(ds, spec.defaults())
    return acc.finalize(compute(spec, pred, target, context=ctx).value, "mean")


#: torch 2.13 CPU on these inputs (``test_live_torch`` recomputes them).
TORCH = {
    ("mse", None, "float16"): 1.0224609375,
    ("mae", None, "float16"): 0.8173828125,
    ("huber", None, "float16"): 0.440185546875,
    ("bce", False, "float16"): 0.45703125,
    ("bce", True, "float16"): 0.45703125,
    ("cross_entropy", True, "float16"): 2.525390625,
    ("mse", None, "bfloat16"): 1.0234375,
    ("mae", None, "bfloat16"): 0.81640625,
    ("huber", None, "bfloat16"): 0.439453125,
    ("bce", False, "bfloat16"): 0.45703125,
    ("bce", True, "bfloat16"): 0.45703125,
    ("cross_entropy", True, "bfloat16"): 2.515625,
}
#: The dtypes' resolution (machine epsilon).
EPS = {"float16": 2.0**-10, "bfloat16": 2.0**-7}


@pytest.mark.parametrize(
    "dtype",
    # importing ml_dtypes costs ~2 s (its extension registers its types): bfloat16 is slow
    ["float16", pytest.param("bfloat16", marks=pytest.mark.slow)],
)
def test_matches_torch_fixture(dtype):
    """Equal to torch to the dtype's resolution; the elementwise losses exactly (torch's
    log_softmax rounds once internally, NumPy after each operation: cross_entropy in
    bfloat16 is 2 ulp away)."""
    for loss, task, p, t, lg in _inputs():
        got = ours(loss, task, p, t, lg, dtype)
        want = TORCH[(loss, lg, dtype)]
        if loss != "cross_entropy":
            assert got["value"] == want, (loss, lg)
        assert got["value"] == pytest.approx(want, rel=4 * EPS[dtype]), (loss, lg)
        assert got["rel_error"] > 0 and got["non_finite_rows"] == 0 and "note" not in got


@pytest.mark.oracle
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32"])
def test_live_torch(dtype):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    fns = {
        "mse": F.mse_loss,
        "mae": F.l1_loss,
        "huber": F.huber_loss,
        ("bce", False): F.binary_cross_entropy,
        ("bce", True): F.binary_cross_entropy_with_logits,
        "cross_entropy": F.cross_entropy,
    }
    tdt = getattr(torch, dtype)
    res = float(np.finfo(np.float32).eps) if dtype == "float32" else None
    for loss, task, p, t, lg in _inputs():
        fn = fns.get((loss, lg), fns.get(loss))
        tt = torch.tensor(t) if task == "multiclass" else torch.tensor(t).to(tdt)
        want = float(fn(torch.tensor(p).to(tdt), tt))
        got = ours(loss, task, p, t, lg, dtype)["value"]
        tol = res if res is not None else float(torch.finfo(tdt).eps)
        assert got == pytest.approx(want, rel=4 * tol), (loss, lg)


def test_overflow_underflow_and_first_rows(cli, tmp_path):
    rows = [[0.5, 0.4], [1e-9, 0.0], [300.0, 0.0], [2.0, 1.0], [70000.0, 0.0]]
    preds = write_csv(tmp_path / "p.csv", ["p"], [[r[0]] for r in rows])
    targets = write_csv(tmp_path / "y.csv", ["y"], [[r[1]] for r in rows])
    doc = cli("evaluate", preds, targets, "--loss", "mse", "--dtype", "float16", "--json").json()
    prec = doc["losses"][0]["precision"]
    assert prec["dtype"] == "float16"
    assert prec["underflow_rows"] == 1  # 1e-9 is 0 in float16
    assert prec["non_finite_rows"] == 2  # 300² and 70000 (inf in float16) overflow
    assert prec["first_rows"] == [4, 6]  # row numbers as --worst names them (file lines)
    assert prec["value"] is None and prec["rel_error"] is None


@pytest.mark.slow
def test_bfloat16_in_compare(cli):
    doc = cli(
        "compare",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_preds_b.csv",
        SAMPLES / "regression_targets.csv",
        "--dtype",
        "bfloat16",
        "--json",
    ).json()
    mse = next(e for e in doc["losses"] if e["name"] == "mse")
    assert set(mse["precision"]) == set(doc["models"])
    for p in mse["precision"].values():
        assert p["dtype"] == "bfloat16" and 0 <= p["rel_error"] < 0.02


def test_losses_that_are_not_means_are_not_recomputed(cli):
    doc = cli(
        "evaluate",
        SAMPLES / "binary_probs.csv",
        SAMPLES / "binary_targets.csv",
        "--dtype",
        "float16",
        "--json",
    ).json()
    items = {it["name"]: it for it in doc["losses"]}
    for name in ("ece", "mce"):
        assert items[name]["precision"] is None and "not a mean" in items[name]["precision_reason"]
    assert items["bce"]["precision"]["value"] == pytest.approx(items["bce"]["value"], rel=1e-3)
