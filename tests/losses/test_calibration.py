"""ECE and MCE (losscli.losses.calibration): torchmetrics' definitions, chunk-mergeable.

Known values come from torchmetrics' own docstring examples
(Lightning-AI/torchmetrics, src/torchmetrics/functional/classification/
calibration_error.py, ``binary_calibration_error`` and ``multiclass_calibration_error``),
worked by hand in the comments; the ``oracle`` test recomputes random cases live.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from losscli.compute import LossAccumulator, compute
from losscli.losses.calibration import bin_edges
from losscli.registry import all_specs
from tests.conftest import write_csv

SPECS = {s.name: s for s in all_specs() if s.name in ("ece", "mce")}


def value(name: str, pred, target, bins: int = 15, logits: bool = False) -> float:
    return compute(
        SPECS[name],
        np.asarray(pred, dtype=float),
        np.asarray(target),
        params={"bins": bins},
        context={"from_logits": logits},
    ).value


def test_binary_docstring_example() -> None:
    # bins [0, .5) and [.5, 1): (2·|0 − .25| + 3·|1 − 0.68333|) / 5 = 0.29; max gap 19/60
    p, y = [0.25, 0.25, 0.55, 0.75, 0.75], [0, 0, 1, 1, 1]
    assert value("ece", p, y, bins=2) == pytest.approx(0.29, abs=1e-15)
    assert value("mce", p, y, bins=2) == pytest.approx(19 / 60, abs=1e-15)


def test_multiclass_docstring_example() -> None:
    # top confidences .55 (wrong) .55 (wrong) .60 (right) .90 (right); 3 bins:
    # [1/3, 2/3): gap |1/3 − 0.5667| = 7/30 over 3 rows; [2/3, 1): |1 − .9| over 1 row
    p = [[0.25, 0.20, 0.55], [0.55, 0.05, 0.40], [0.10, 0.30, 0.60], [0.90, 0.05, 0.05]]
    y = [0, 1, 2, 0]
    assert value("ece", p, y, bins=3) == pytest.approx(0.2, abs=1e-15)
    assert value("mce", p, y, bins=3) == pytest.approx(7 / 30, abs=1e-15)


def test_confidence_one_has_its_own_bin() -> None:
    # torch.bucketize(1.0, edges, right=True) − 1 = bins: a bin of its own
    assert value("ece", [1.0, 1.0], [1, 1], bins=4) == 0.0
    assert value("mce", [1.0, 0.9], [1, 0], bins=1) == pytest.approx(0.9)


def test_edges_match_torch_linspace() -> None:
    # torch.linspace(0, 1, 31, dtype=torch.float64)[23] is 0.7666666666666667 (torch 2.13
    # CPU: the second half is 1 − step·k with one rounding), where 23/30 and 1 − 7·(1/30)
    # both round to 0.7666666666666666
    e = bin_edges(30)
    assert e[0] == 0.0 and e[-1] == 1.0 and len(e) == 31 and (np.diff(e) > 0).all()
    assert e[23] == 0.7666666666666667
    assert bin_edges(15)[10] == 0.6666666666666666


def test_logits_go_through_sigmoid_and_softmax() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=200)
    y = rng.integers(0, 2, 200)
    assert value("ece", z, y, logits=True) == value("ece", 1 / (1 + np.exp(-z)), y)
    zc = rng.normal(size=(200, 4))
    pc = np.exp(zc) / np.exp(zc).sum(1, keepdims=True)
    yc = rng.integers(0, 4, 200)
    assert value("mce", zc, yc, logits=True) == pytest.approx(value("mce", pc, yc), abs=1e-15)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(2, 60),
    st.integers(1, 20),
    st.integers(1, 59),
    st.integers(0, 2**31 - 1),
)
def test_chunks_merge_to_the_whole(n: int, bins: int, cut: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = rng.random(n)
    y = (rng.random(n) < p).astype(float)
    w = rng.random(n)
    cut = min(cut, n - 1)
    for name in ("ece", "mce"):
        whole = LossAccumulator(SPECS[name], {"bins": bins}, input_kind="probabilities")
        whole.update(p, y, context={"from_logits": False}, sample_weight=w)
        parts = LossAccumulator(SPECS[name], {"bins": bins}, input_kind="probabilities")
        parts.update(p[:cut], y[:cut], context={"from_logits": False}, sample_weight=w[:cut])
        parts.update(p[cut:], y[cut:], context={"from_logits": False}, sample_weight=w[cut:])
        a, b = whole.finalize().value, parts.finalize().value
        assert a == pytest.approx(b, abs=1e-12)
        assert 0.0 <= a <= 1.0
    assert value("ece", p, y, bins) <= value("mce", p, y, bins) + 1e-15


def test_gate_on_ece_through_the_cli(cli, tmp_path) -> None:
    p = write_csv(tmp_path / "p.csv", ["p"], [[0.25], [0.25], [0.55], [0.75], [0.75]])
    t = write_csv(tmp_path / "t.csv", ["y"], [[0], [0], [1], [1], [1]])
    ok = cli("evaluate", str(p), str(t), "--loss", "ece", "--param", "ece.bins=2", "--json")
    assert ok.exit_code == 0, ok.output
    bad = cli(
        "evaluate", str(p), str(t), "--loss", "ece", "--param", "ece.bins=2", "--max", "ece=0.2"
    )
    assert bad.exit_code == 1


@pytest.mark.oracle
def test_against_torchmetrics() -> None:
    torch = pytest.importorskip("torch")
    cal = pytest.importorskip("torchmetrics.functional.classification.calibration_error")
    for bins in range(1, 200):
        edges = torch.linspace(0, 1, bins + 1, dtype=torch.float64).numpy()
        assert (bin_edges(bins) == edges).all(), bins
    rng = np.random.default_rng(7)
    for n, bins in [(500, 15), (2000, 7), (300, 5), (41, 1)]:
        p = rng.random(n)
        p[:4] = [0.0, 1.0, 0.2, 1 / 3]
        if bins == 5:
            p = np.round(p * 5) / 5  # confidences on the bin edges
        y = (rng.random(n) < p).astype(np.int64)
        for norm, name in (("l1", "ece"), ("max", "mce")):
            ref = cal.binary_calibration_error(
                torch.tensor(p), torch.tensor(y), n_bins=bins, norm=norm
            ).item()
            assert value(name, p, y, bins) == pytest.approx(ref, rel=1e-9, abs=1e-12)
    for n, c, bins in [(1000, 5, 10), (37, 3, 1), (800, 10, 15)]:
        z = rng.normal(size=(n, c))
        prob = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        y = rng.integers(0, c, n)
        # the public function casts confidences to float32; its float64 core is the definition
        conf = torch.tensor(prob.max(1))
        acc = torch.tensor((prob.argmax(1) == y).astype(np.float64))
        for norm, name in (("l1", "ece"), ("max", "mce")):
            ref = cal._ce_compute(conf, acc, bins, norm).item()
            assert value(name, prob, y, bins) == pytest.approx(ref, rel=1e-9, abs=1e-12)
            assert value(name, z, y, bins, logits=True) == pytest.approx(ref, rel=1e-9, abs=1e-12)
            public = cal.multiclass_calibration_error(
                torch.tensor(prob), torch.tensor(y), num_classes=c, n_bins=bins, norm=norm
            ).item()
            assert value(name, prob, y, bins) == pytest.approx(public, abs=1e-6)


FIXTURE = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures" / "oracle_calibration.json").read_text()
)


@pytest.mark.parametrize("case", FIXTURE["cases"], ids=[c["id"] for c in FIXTURE["cases"]])
def test_committed_torchmetrics_values(case) -> None:
    got = value(
        case["loss"], case["pred"], case["target"], case["params"]["bins"], case["from_logits"]
    )
    assert got == pytest.approx(case["expected"], rel=1e-9, abs=1e-12)
