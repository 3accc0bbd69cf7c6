"""``--grad``: every closed-form gradient against torch's ``pred.grad`` (committed
fixture), and the gradient statistics, per-sample columns and streaming through the CLI."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from losscli.gradients import GradAccumulator, gradient
from losscli.registry import get_spec
from tests.conftest import SAMPLES, write_csv

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "oracle_analysis.json"
CASES = json.loads(FIXTURE.read_text())["cases"]


def _arr(x):
    if x and not isinstance(x[0], list):
        return np.array([math.nan if v is None else v for v in x], dtype=float)
    if x and isinstance(x[0][0], list):
        return np.array([_arr(r) for r in x])
    return np.array(
        [
            [math.nan if v is None else v for v in r]
            if isinstance(r, list)
            else (math.nan if r is None else r)
            for r in x
        ],
        dtype=float,
    )


def check_against_torch(case, value, grad):
    """Value and gradient to 1e-9 of torch's; where torch's gradient is NaN (0·(1/0) of a
    log(0) behind a clamp, or of xlogy's 0·log 0) ours is finite: 0 behind a clamp, the
    analytic limit for js_div."""
    assert value == pytest.approx(case["value"], rel=1e-9, abs=1e-300)
    want = _arr(case["grad"])
    finite = np.isfinite(want)
    scale = np.max(np.abs(want[finite])) if finite.any() else 1.0
    np.testing.assert_allclose(grad[finite], want[finite], rtol=1e-9, atol=1e-9 * scale)
    assert np.all(np.isfinite(grad[~finite]))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_gradient_matches_torch(case):
    spec = get_spec(case["loss"], case["task"])
    ctx = {} if case["logits"] is None else {"from_logits": case["logits"]}
    if case["layout"]:
        ctx = {"layout": case["layout"]}
    ctx |= {k: _arr(v) for k, v in case["context"].items()}
    target = None if case["target"] is None else np.asarray(case["target"])
    w = None if case["weight"] is None else np.asarray(case["weight"])
    value, grad = gradient(
        spec,
        _arr(case["pred"]),
        target,
        params=case["params"],
        context=ctx,
        sample_weight=w,
        reduction=case.get("reduction", "mean"),
    )
    check_against_torch(case, value, grad)


def test_statistics_are_the_definitions():
    rng = np.random.default_rng(3)
    spec = get_spec("mse", "regression")
    pred, target = rng.normal(size=1000), rng.normal(size=1000)
    pred[:50] = target[:50]  # zero gradient: saturated rows
    acc = GradAccumulator(spec)
    d = acc.update(pred, target, {})
    stats, notes = acc.finalize(scale=1 / 1000, columns=None)
    g = np.abs(d / 1000)
    top = np.sort(g)[-10:].sum() / g.sum()
    assert stats["mean_abs"] == pytest.approx(g.mean(), rel=1e-12)
    assert stats["max_abs"] == pytest.approx(g.max(), rel=1e-12)
    assert stats["top1pct_share"] == pytest.approx(top, rel=1e-12)
    assert stats["saturated_share"] == pytest.approx(np.mean(g < 1e-6 * g.max()))
    assert stats["saturated_share"] >= 0.05
    assert stats["per_class"] is None and notes == []


def test_histogram_mode_close_to_exact(monkeypatch):
    """Beyond the exact-row limit the shares come from the histogram, within a bin."""
    import losscli.gradients as G

    rng = np.random.default_rng(5)
    spec = get_spec("mae", "regression")
    pred, target = rng.standard_cauchy(5000), np.zeros(5000)
    exact = G.GradAccumulator(spec)
    exact.update(pred, target, {})
    monkeypatch.setattr(G, "EXACT_ROWS", 100)
    hist = G.GradAccumulator(spec)
    for part in np.array_split(np.arange(5000), 7):
        hist.update(pred[part] * np.linspace(1, 3, part.size), target[part], {})
    exact = G.GradAccumulator(spec)
    monkeypatch.setattr(G, "EXACT_ROWS", 10**9)
    for part in np.array_split(np.arange(5000), 7):
        exact.update(pred[part] * np.linspace(1, 3, part.size), target[part], {})
    a, _ = exact.finalize(scale=1.0, columns=None)
    b, notes = hist.finalize(scale=1.0, columns=None)
    assert b["mean_abs"] == pytest.approx(a["mean_abs"], rel=1e-12)
    assert b["top1pct_share"] == pytest.approx(a["top1pct_share"], rel=0.02)
    assert notes == [G.HIST_NOTE]


def test_cli_grad_json_table_markdown(cli, tmp_path):
    args = [SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv", "--grad"]
    doc = cli("evaluate", *args, "--json").json()
    ce = next(it for it in doc["losses"] if it["name"] == "cross_entropy")
    g = ce["grad"]
    assert set(g) >= {"mean_abs", "max_abs", "top1pct_share", "saturated_share", "per_class"}
    assert 0 < g["mean_abs"] <= g["max_abs"]
    assert set(g["per_class"]) == set(doc["inputs"]["predictions"]["columns"])
    # per-class means add up to the mean row norm (L1 over the columns)
    assert sum(g["per_class"].values()) == pytest.approx(g["mean_abs"], rel=1e-12)
    table = cli("evaluate", *args).stdout
    assert "gradient" in table and "cross_entropy" in table
    md = cli("evaluate", *args, "--format", "markdown").stdout
    assert "mean \\|g\\|" in md or "mean |g|" in md
    assert "ece: no gradient (a calibration error is built on bins" in md


def test_per_sample_grad_columns_streamed_equal_in_memory(cli, tmp_path):
    rng = np.random.default_rng(11)
    n = 500
    y = rng.integers(0, 3, n)
    z = rng.normal(size=(n, 3)) + np.eye(3)[y] * 2
    preds = write_csv(tmp_path / "p.csv", ["a", "b", "c"], z.tolist())
    targets = write_csv(tmp_path / "y.csv", ["y"], [[int(v)] for v in y])
    out1, out2 = tmp_path / "one.csv", tmp_path / "chunks.csv"
    base = [preds, targets, "--loss", "cross_entropy", "--logits", "--grad", "--json"]
    d1 = cli("evaluate", *base, "--per-sample", out1, "--chunk-size", "0").json()
    d2 = cli("evaluate", *base, "--per-sample", out2, "--chunk-size", "64").json()
    assert d2["read"]["mode"] != "memory" or d2["read"] != d1["read"]
    g1, g2 = d1["losses"][0]["grad"], d2["losses"][0]["grad"]
    for k in ("mean_abs", "max_abs", "top1pct_share", "saturated_share"):
        assert g2[k] == pytest.approx(g1[k], rel=1e-12)
    rows1 = list(csv.DictReader(out1.open()))
    rows2 = list(csv.DictReader(out2.open()))
    cols = [f"grad_cross_entropy[{c}]" for c in "abc"]
    assert list(rows1[0]) == ["row", "cross_entropy", *cols]
    got = np.array([[float(r[c]) for c in cols] for r in rows2])
    _, want = gradient(get_spec("cross_entropy", "multiclass"), z, y, context={"from_logits": True})
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-18)
    assert np.array([[float(r[c]) for c in cols] for r in rows1]) == pytest.approx(got)


def test_loss_without_gradient_is_null_with_reason(cli):
    doc = cli(
        "evaluate",
        SAMPLES / "embeddings.csv",
        SAMPLES / "embedding_labels.csv",
        "--grad",
        "--param",
        "triplet.mining=all",
        "--json",
    ).json()
    items = {it["name"]: it for it in doc["losses"]}
    assert items["triplet"]["grad"] is None
    assert "mining=all" in items["triplet"]["grad_reason"]
    assert items["contrastive"]["grad"]["mean_abs"] > 0


def test_rmse_gradient_is_chain_rule_of_mse():
    rng = np.random.default_rng(2)
    p, y = rng.normal(size=50), rng.normal(size=50)
    v_mse, g_mse = gradient(get_spec("mse", "regression"), p, y)
    v, g = gradient(get_spec("rmse", "regression"), p, y)
    assert v == pytest.approx(math.sqrt(v_mse))
    np.testing.assert_allclose(g, g_mse / (2 * v), rtol=1e-14)


def test_reduction_sum_and_api_keyword(tmp_path):
    import losscli

    rng = np.random.default_rng(9)
    p, y = rng.normal(size=40), rng.normal(size=40)
    pf = write_csv(tmp_path / "p.csv", ["p"], [[v] for v in p])
    yf = write_csv(tmp_path / "y.csv", ["y"], [[v] for v in y])
    r = losscli.evaluate(str(pf), str(yf), losses=["mse"], reduction="sum", grad=True)
    g = r.data["losses"][0]["grad"]
    assert g["mean_abs"] == pytest.approx(np.mean(np.abs(2 * (p - y))), rel=1e-12)
    assert g["max_abs"] == pytest.approx(np.max(np.abs(2 * (p - y))), rel=1e-12)


def test_grad_from_config_file(cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("analysis:\n  grad: true\n  combine: ['both=mse:1,mae:1']\n")
    doc = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--config",
        cfg,
        "--json",
    ).json()
    names = [it["name"] for it in doc["losses"]]
    assert "both" in names and all("grad" in it for it in doc["losses"])


def test_per_sample_segmentation_has_one_norm_column_per_loss(cli, tmp_path):
    out = tmp_path / "rows.csv"
    r = cli(
        "evaluate",
        SAMPLES / "segmentation_preds.npy",
        SAMPLES / "segmentation_masks.npy",
        "--loss",
        "dice",
        "--grad",
        "--per-sample",
        out,
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    rows = list(csv.DictReader(out.open()))
    assert list(rows[0]) == ["row", "dice", "grad_dice[l1]"]
    g = r.json()["losses"][0]["grad"]
    norms = [float(x["grad_dice[l1]"]) for x in rows]
    assert np.mean(norms) == pytest.approx(g["mean_abs"], rel=1e-12)
    assert max(norms) == pytest.approx(g["max_abs"], rel=1e-12)


def test_merge_in_and_across_histogram_mode(monkeypatch):
    """Partitions merged (exact + histogram, histogram + histogram) equal one pass."""
    import losscli.gradients as G

    monkeypatch.setattr(G, "EXACT_ROWS", 300)
    rng = np.random.default_rng(8)
    spec = get_spec("mse", "regression")
    p, y = rng.standard_cauchy(1000), np.zeros(1000)
    one = G.GradAccumulator(spec)
    one.update(p, y, {})
    parts = [G.GradAccumulator(spec) for _ in range(3)]
    for acc, idx in zip(parts, np.array_split(np.arange(1000), [200, 700])):
        acc.update(p[idx], y[idx], {})  # 200 rows exact, 500 and 300 past the limit
    merged = parts[0].merge(parts[1]).merge(parts[2])
    a, _ = one.finalize(scale=1.0, columns=None)
    b, notes = merged.finalize(scale=1.0, columns=None)
    assert notes == [G.HIST_NOTE]
    for k in a:
        if a[k] is not None:
            assert b[k] == pytest.approx(a[k], rel=1e-12), k


@pytest.mark.parametrize(
    ("loss", "task", "pred", "target", "params", "ctx", "why"),
    [
        (
            "triplet",
            "embedding",
            np.eye(4),
            np.array([0, 0, 1, 1]),
            {"mining": "all"},
            {"layout": "labels"},
            "mining=all",
        ),
        (
            "generalized_dice",
            "segmentation",
            np.full((2, 2, 3, 3), 0.5),
            np.ones((2, 2, 3, 3)),
            {"soft_label": True},
            {"from_logits": False},
            "soft_label=true",
        ),
    ],
)
def test_settings_without_a_gradient_say_why(loss, task, pred, target, params, ctx, why):
    spec = get_spec(loss, task)
    with pytest.raises(ValueError, match=why):
        gradient(spec, pred, target, params=params, context=ctx)
