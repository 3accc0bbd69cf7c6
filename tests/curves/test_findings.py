"""Each finding rule fires on the curve it describes and stays quiet on a healthy one."""

from __future__ import annotations

import math

import numpy as np

from losscli.curves.findings import find_all

HEALTHY = [2.0, 1.5, 1.2, 1.0, 0.9, 0.82, 0.76, 0.72, 0.69, 0.67, 0.655, 0.64]


def kinds(vals, **kw) -> dict[str, tuple[float, float]]:
    got = find_all("val_loss", range(len(vals)), vals, **kw)
    return {f.kind: (f.from_step, f.to_step) for f in got}


def test_a_healthy_curve_has_no_findings() -> None:
    train = [v * 0.9 for v in HEALTHY]
    assert kinds(HEALTHY, train="loss", tpos=range(12), tval=train) == {}


def test_nan_runs() -> None:
    vals = [1.0, 0.9, math.nan, math.nan, 0.8, math.inf]
    got = [f for f in find_all("v", range(6), vals) if f.kind == "nan"]
    assert [(f.from_step, f.to_step) for f in got] == [(2, 3), (5, 5)]


def test_divergence_from_the_minimum() -> None:
    vals = [1.0, 0.6, 0.4, 0.5, 0.9, 1.4, 2.0, 3.0]
    assert kinds(vals)["divergence"] == (2, 7)
    # rising a little after the minimum is not a divergence
    assert "divergence" not in kinds([1.0, 0.6, 0.4, 0.42, 0.45, 0.47])


def test_spike_is_a_local_peak() -> None:
    vals = list(HEALTHY)
    vals[6] = 3.0
    assert kinds(vals)["spike"] == (6, 6)
    # a high first point is the start of training, not a spike
    assert "spike" not in kinds([9.0, *HEALTHY[1:]])


def test_overfit_onset_needs_training_to_fall() -> None:
    val = [2.0, 1.5, 1.2, 1.1, 1.15, 1.25, 1.4, 1.5]
    falling = [2.0, 1.4, 1.0, 0.8, 0.6, 0.5, 0.4, 0.3]
    assert kinds(val, train="loss", tpos=range(8), tval=falling)["overfit"] == (3, 7)
    rising = [2.0, 1.4, 1.0, 0.8, 0.9, 1.0, 1.1, 1.2]
    assert "overfit" not in kinds(val, train="loss", tpos=range(8), tval=rising)


def test_plateau_after_the_last_real_gain() -> None:
    vals = [2.0, 1.0, 0.8, 0.7, 0.699, 0.6985, 0.698, 0.6982, 0.6979, 0.698, 0.6981]
    assert kinds(vals)["plateau"] == (3, 10)


def test_oscillation() -> None:
    vals = [1.0, 1.3, 0.95, 1.25, 0.97, 1.28, 0.96, 1.3, 0.98, 1.27]
    assert kinds(vals)["oscillation"] == (0, 9)
    assert "oscillation" not in kinds(HEALTHY)


def test_max_mode_reads_the_metric_upside_down() -> None:
    acc = 1 - np.array(HEALTHY) / 3
    assert kinds(acc.tolist(), mode="max") == {}
    assert "divergence" in kinds(
        (1 - np.array([1.0, 0.6, 0.4, 0.5, 0.9, 1.4, 2.0, 3.0]) / 4).tolist(), mode="max"
    )
