"""No-skill baselines (losscli.noskill): the loss of the best constant prediction.

Closed forms are checked against their formulas (variance, mean absolute deviation from
the median, the prior's entropy), numeric ones against a dense scan of constants, and
the ``oracle`` test against scikit-learn's DummyRegressor / DummyClassifier, the peer
library's own "no skill" models.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from losscli import evaluate
from losscli.accumulate import Evaluation
from losscli.compute import compute
from losscli.registry import get_spec
from tests.conftest import SAMPLES, write_csv


def _run(task: str, names: list[str], pred, target, *, weight=None, chunks: int = 1, ctx=None):
    specs = [get_spec(n, task) for n in names]
    run = Evaluation(specs, explicit=True, params={}, input_kind=None, class_names=None, task=task)
    pred, target = np.asarray(pred, dtype=float), np.asarray(target)
    for idx in np.array_split(np.arange(len(pred)), chunks):
        ds = _Chunk(task, pred[idx], target[idx], None if weight is None else weight[idx], ctx)
        run.update(ds)
    return {r.name: r for r in run.finalize().results}


class _Chunk:
    def __init__(self, task, pred, target, weight, ctx) -> None:
        self.task, self.pred, self.target, self.sample_weight = task, pred, target, weight
        self.context = dict(ctx or {})
        self.n_samples = len(pred)
        self.row_numbers = np.arange(len(pred)) + 2
        self.row_ids = None
        self.class_names = None
        self.inputs: dict = {}
        self.pred_columns, self.target_columns = ["p"], ["y"]


def test_regression_closed_forms() -> None:
    rng = np.random.default_rng(3)
    y = rng.gamma(2.0, 3.0, 501)
    p = y + rng.normal(size=501)
    got = _run("regression", ["mse", "rmse", "mae", "pinball", "msle"], p, y, chunks=4)
    assert got["mse"].no_skill == pytest.approx(np.var(y), rel=1e-12)
    assert got["rmse"].no_skill == pytest.approx(np.std(y), rel=1e-12)
    assert got["mae"].no_skill == pytest.approx(np.mean(np.abs(y - np.median(y))), rel=1e-12)
    assert got["pinball"].no_skill == pytest.approx(got["mae"].no_skill / 2, rel=1e-12)
    ly = np.log1p(y)
    assert got["msle"].no_skill == pytest.approx(np.var(ly), rel=1e-10)
    assert got["mse"].skill == pytest.approx(1 - got["mse"].value / np.var(y), rel=1e-12)


def test_sample_weights_move_the_constant() -> None:
    y = np.array([0.0, 1.0, 2.0, 10.0])
    w = np.array([1.0, 1.0, 1.0, 3.0])
    got = _run("regression", ["mse", "mae"], y + 1, y, weight=w)
    mean = np.average(y, weights=w)
    assert got["mse"].no_skill == pytest.approx(np.average((y - mean) ** 2, weights=w))
    # weighted median: cumulative weights 1, 2, 3, 6 reach half of 6 at y = 2
    assert got["mae"].no_skill == pytest.approx(np.average(np.abs(y - 2.0), weights=w))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 2**31 - 1), st.sampled_from(["huber", "log_cosh", "smooth_l1"]))
def test_numeric_constants_are_the_minimum(seed: int, name: str) -> None:
    rng = np.random.default_rng(seed)
    y = rng.standard_t(3, 300) * rng.uniform(0.1, 5)
    got = _run("regression", [name], y, y)[name].no_skill
    spec = get_spec(name, "regression")
    grid = np.linspace(y.min(), y.max(), 4001)
    scan = [compute(spec, np.full(y.size, c), y).value for c in grid]
    best = int(np.argmin(scan))
    fine = np.linspace(grid[max(best - 1, 0)], grid[min(best + 1, grid.size - 1)], 2001)
    low = min(compute(spec, np.full(y.size, c), y).value for c in fine)
    assert got <= low * (1 + 1e-12)
    assert got >= low - 1e-9 * abs(low)


def test_binary_prior_entropy_and_brier() -> None:
    y = np.array([1, 0, 0, 1, 1, 1, 0, 1, 1, 1], dtype=float)
    pi = y.mean()
    p = np.clip(y * 0.8 + 0.1, 0, 1)
    got = _run("binary", ["bce", "brier"], p, y, ctx={"from_logits": False}, chunks=3)
    assert got["bce"].no_skill == pytest.approx(-(pi * math.log(pi) + (1 - pi) * math.log(1 - pi)))
    assert got["brier"].no_skill == pytest.approx(pi * (1 - pi), rel=1e-12)
    logits = _run("binary", ["bce"], np.log(p / (1 - p)), y, ctx={"from_logits": True})
    assert logits["bce"].no_skill == pytest.approx(got["bce"].no_skill, rel=1e-12)


def test_multiclass_prior_through_the_cli() -> None:
    doc = evaluate(
        SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv", chunk_size=7
    ).data
    whole = evaluate(
        SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv", chunk_size=0
    ).data
    items = {it["name"]: it for it in doc["losses"]}
    ce = items["cross_entropy"]
    counts = np.bincount(_class_ids(), minlength=3)
    prior = counts / counts.sum()
    assert ce["no_skill"] == pytest.approx(-np.sum(prior * np.log(prior)), rel=1e-12)
    assert ce["skill"] == pytest.approx(1 - ce["value"] / ce["no_skill"], rel=1e-12)
    assert items["brier"]["no_skill"] == pytest.approx(1 - np.sum(prior**2), rel=1e-12)
    assert items["ece"]["no_skill"] is None and items["ece"]["no_skill_reason"]
    for a, b in zip(doc["losses"], whole["losses"]):
        assert (a["no_skill"] is None) == (b["no_skill"] is None)
        if b["no_skill"] is not None:
            assert a["no_skill"] == pytest.approx(b["no_skill"], rel=1e-9, abs=1e-12)


def _class_ids() -> np.ndarray:
    import csv

    with open(SAMPLES / "multiclass_probs.csv") as f:
        names = next(csv.reader(f))
    names = [n for n in names if n != "id"]
    with open(SAMPLES / "multiclass_targets.csv") as f:
        rows = list(csv.DictReader(f))
    col = next(c for c in rows[0] if c != "id")
    return np.array([names.index(r[col]) if r[col] in names else int(r[col]) for r in rows])


def test_no_baseline_for_segmentation_and_negative_nll(tmp_path) -> None:
    doc = evaluate(SAMPLES / "segmentation_preds.npy", SAMPLES / "segmentation_masks.npy").data
    for it in doc["losses"]:
        assert it["no_skill"] is None and it["skill"] is None
        assert "segmentation" in it["no_skill_reason"] or it["status"] != "ok"
    # poisson_nll without its constant term is negative here: no skill ratio
    p = write_csv(tmp_path / "p.csv", ["p"], [[v] for v in (40.0, 60.0, 55.0, 70.0)])
    t = write_csv(tmp_path / "t.csv", ["y"], [[v] for v in (42.0, 58.0, 50.0, 75.0)])
    item = evaluate(p, t, losses=["poisson_nll"]).data["losses"][0]
    assert item["no_skill"] < 0 and item["skill"] is None


@pytest.mark.oracle
def test_against_scikit_learn_dummy_models() -> None:
    dummy = pytest.importorskip("sklearn.dummy")
    metrics = pytest.importorskip("sklearn.metrics")
    datasets = pytest.importorskip("sklearn.datasets")
    X, y = datasets.load_diabetes(return_X_y=True)
    for strategy, name, kw in (
        ("mean", "mse", {}),
        ("median", "mae", {}),
        ("quantile", "pinball", {"quantile": 0.8}),
    ):
        model = dummy.DummyRegressor(strategy=strategy, **kw).fit(X, y)
        base = model.predict(X)
        ref = {
            "mse": metrics.mean_squared_error,
            "mae": metrics.mean_absolute_error,
            "pinball": lambda a, b: metrics.mean_pinball_loss(a, b, alpha=0.8),
        }[name](y, base)
        spec = get_spec(name, "regression")
        run = Evaluation(
            [spec],
            explicit=True,
            params={name: kw},
            input_kind=None,
            class_names=None,
            task="regression",
        )
        run.update(_Chunk("regression", y + 1.0, y, None, {}))
        assert run.finalize().results[0].no_skill == pytest.approx(ref, rel=1e-9)
    Xc, yc = datasets.load_wine(return_X_y=True)
    proba = dummy.DummyClassifier(strategy="prior").fit(Xc, yc).predict_proba(Xc)
    got = _run("multiclass", ["cross_entropy"], proba, yc, ctx={"from_logits": False})
    assert got["cross_entropy"].no_skill == pytest.approx(metrics.log_loss(yc, proba), rel=1e-9)


def test_regression_targets_beyond_the_limit_are_not_kept(monkeypatch) -> None:
    monkeypatch.setenv("LOSSCLI_NO_SKILL_MAX_VALUES", "100")
    y = np.linspace(0.0, 1.0, 101)
    got = _run("regression", ["mse"], y + 0.1, y, chunks=3)["mse"]
    assert got.no_skill is None and "LOSSCLI_NO_SKILL_MAX_VALUES" in got.no_skill_reason
    monkeypatch.setenv("LOSSCLI_NO_SKILL_MAX_VALUES", "101")
    assert _run("regression", ["mse"], y + 0.1, y)["mse"].no_skill == pytest.approx(np.var(y))
    # classification keeps class counts whatever the size
    yb = (y > 0.5).astype(float)
    assert _run("binary", ["brier"], np.full(101, 0.5), yb, ctx={"from_logits": False})[
        "brier"
    ].no_skill == pytest.approx(yb.mean() * (1 - yb.mean()))


def test_merged_samples_keep_the_limit(monkeypatch):
    """Partitions each under the limit (the Dask engine's partial results) can sum to far
    more: the merged sample overflows as one sample read in one piece would."""
    from losscli.noskill import TargetSample

    monkeypatch.setenv("LOSSCLI_NO_SKILL_MAX_VALUES", "100")
    parts = []
    for k in range(3):
        s = TargetSample("regression")
        s.add(np.arange(40.0) + k, None)
        parts.append(s)
    merged = parts[0].merge(parts[1])
    assert not merged.overflow and merged.arrays()[0].size == 80
    merged = merged.merge(parts[2])
    assert merged.overflow and merged.arrays() is None
