"""``--convention`` end to end: the flag, ``--config``, JSON, the table header, ``losses
show`` (SPEC §10), on files saved with pandas the way users save model outputs (the live
scikit-learn comparison is in tests/oracle/test_conventions_oracle.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import SAMPLES, write_csv

EPS64 = float(np.finfo(np.float64).eps)


def log_loss(y, proba, labels=None):
    """scikit-learn 1.9's log_loss: probabilities clipped to [eps, 1 − eps], float64 eps."""
    p = np.clip(np.asarray(proba, dtype=float), EPS64, 1 - EPS64)
    if p.ndim == 1:
        p = np.stack([1 - p, p], axis=1)
    return float(-np.mean(np.log(p[np.arange(len(y)), np.asarray(y)])))


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    # A saturated classifier's predict_proba[:, 1]: exact 0s and 1s, where the clip matters.
    rng = np.random.default_rng(11)
    y = (rng.uniform(size=300) < 0.4).astype(int)
    logit = 8.0 * (y - 0.5) + rng.normal(0.0, 6.0, 300)
    proba = 1.0 / (1.0 + np.exp(-logit))
    proba[:4] = [1.0, 0.0, 1e-300, 1.0 - 1e-17]
    d = tmp_path_factory.mktemp("cancer")
    pd.DataFrame({"p": proba}).to_csv(d / "p.csv", index=False)
    pd.DataFrame({"y": y}).to_csv(d / "y.csv", index=False)
    return d, pd.read_csv(d / "p.csv")["p"].to_numpy(), y


@pytest.fixture(scope="module")
def iris(tmp_path_factory):
    rng = np.random.default_rng(12)
    y = rng.integers(0, 3, 150)
    z = rng.normal(0.0, 3.0, (150, 3)) + 6.0 * np.eye(3)[y]
    proba = np.exp(z - z.max(axis=1, keepdims=True))
    proba /= proba.sum(axis=1, keepdims=True)
    d = tmp_path_factory.mktemp("iris")
    pd.DataFrame(proba, columns=["a", "b", "c"]).to_csv(d / "p.csv", index=False)
    pd.DataFrame({"y": y}).to_csv(d / "y.csv", index=False)
    return d, pd.read_csv(d / "p.csv").to_numpy(), y


def _value(doc, name):
    return next(it for it in doc["losses"] if it["name"] == name)


def test_sklearn_convention_matches_log_loss(cli, cancer):
    d, proba, y = cancer
    r = cli("evaluate", d / "p.csv", d / "y.csv", "--convention", "sklearn", "--json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert doc["convention"] == "sklearn"
    bce = _value(doc, "bce")
    assert bce["params"]["eps"] == float(np.finfo(np.float64).eps)
    assert bce["value"] == pytest.approx(log_loss(y, proba), rel=1e-12)


def test_default_convention_is_torch_and_recorded(cli, cancer):
    d, _, _ = cancer
    doc = cli("evaluate", d / "p.csv", d / "y.csv", "--json").json()
    assert doc["convention"] == "torch"
    assert _value(doc, "focal")["params"]["alpha"] == 0.25


def test_keras_convention_and_explicit_param_wins(cli, cancer):
    d, _, _ = cancer
    args = ("evaluate", d / "p.csv", d / "y.csv", "--convention", "keras", "--json")
    doc = cli(*args).json()
    assert _value(doc, "bce")["params"]["eps"] == 1e-7
    assert _value(doc, "focal")["params"]["alpha"] == -1.0
    doc = cli(*args, "--param", "focal.alpha=0.25").json()
    assert _value(doc, "focal")["params"]["alpha"] == 0.25


def test_convention_from_config_and_env(cli, cancer, tmp_path):
    d, _, _ = cancer
    cfg = tmp_path / "c.yaml"
    cfg.write_text("convention: keras\n")
    doc = cli("evaluate", d / "p.csv", d / "y.csv", "--config", cfg, "--json").json()
    assert doc["convention"] == "keras"
    doc = cli(
        "evaluate", d / "p.csv", d / "y.csv", "--config", cfg, "--convention", "torch", "--json"
    ).json()
    assert doc["convention"] == "torch"
    env = {"LOSSCLI_CONVENTION": "sklearn"}
    doc = cli("evaluate", d / "p.csv", d / "y.csv", "--config", cfg, "--json", env=env).json()
    assert doc["convention"] == "sklearn"  # environment over --config


def test_unknown_convention_is_a_usage_error(cli, cancer):
    d, _, _ = cancer
    r = cli("evaluate", d / "p.csv", d / "y.csv", "--convention", "pytorch")
    assert r.exit_code == 2
    assert "torch" in r.stderr


def test_multiclass_sklearn_and_keras(cli, iris):
    d, proba, y = iris
    doc = cli("evaluate", d / "p.csv", d / "y.csv", "--convention", "sklearn", "--json").json()
    ce = _value(doc, "cross_entropy")
    assert ce["value"] == pytest.approx(log_loss(y, proba, labels=[0, 1, 2]), rel=1e-9)
    r = cli("evaluate", d / "p.csv", d / "y.csv", "--convention", "keras", "--json")
    assert _value(r.json(), "cross_entropy")["params"]["normalize"] is True


def test_table_header_names_the_convention(cli):
    r = cli(
        "evaluate",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_targets.csv",
        "--convention",
        "keras",
    )
    assert r.exit_code == 0, r.stderr
    assert "convention keras" in r.stdout
    r = cli(
        "compare",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_preds_b.csv",
        SAMPLES / "regression_targets.csv",
        "--convention",
        "keras",
    )
    assert r.exit_code == 0, r.stderr
    assert "convention keras" in r.stdout


def test_losses_show_lists_conventions_and_keeps_brackets(cli):
    r = cli("losses", "show", "bce")
    assert r.exit_code == 0
    assert "keras.losses.BinaryCrossentropy" in r.stdout
    assert "sklearn.metrics.log_loss" in r.stdout
    assert "[eps, 1−eps]" in r.stdout  # Rich markup must not eat it
    doc = cli("losses", "show", "mape", "--json").json()
    conv = {c["name"]: c for c in doc["variants"][0]["conventions"]}
    assert conv["keras"]["params"]["percent"] is True
    assert conv["sklearn"]["params"]["percent"] is False
    assert conv["keras"]["api"] == "keras.losses.MeanAbsolutePercentageError"


def test_multi_margin_and_generalized_dice_on_request(cli):
    r = cli(
        "evaluate",
        SAMPLES / "multiclass_probs.csv",
        SAMPLES / "multiclass_targets.csv",
        "--loss",
        "multi_margin",
        "--param",
        "multi_margin.p=2",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    assert r.json()["losses"][0]["params"]["p"] == 2
    r = cli(
        "evaluate",
        SAMPLES / "segmentation_preds.npy",
        SAMPLES / "segmentation_masks.npy",
        "--loss",
        "generalized_dice",
        "--convention",
        "monai",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    assert r.json()["losses"][0]["status"] == "ok"


def test_ignore_index_outside_the_classes_end_to_end(cli, tmp_path):
    # SPEC §9: cross_entropy.ignore_index may be −100 (torch), −1 (Keras) or 255 (masks).
    rng = np.random.default_rng(3)
    z = rng.normal(size=(12, 3))
    y = rng.integers(0, 3, 12)
    y[[2, 7]] = -100
    pd.DataFrame(z, columns=["a", "b", "c"]).to_csv(tmp_path / "z.csv", index=False)
    pd.DataFrame({"y": y}).to_csv(tmp_path / "y.csv", index=False)
    r = cli(
        "evaluate",
        tmp_path / "z.csv",
        tmp_path / "y.csv",
        "--task",
        "multiclass",
        "--logits",
        "--loss",
        "cross_entropy",
        "--param",
        "cross_entropy.ignore_index=-100",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    keep = y != -100
    ls = z[keep] - np.log(np.exp(z[keep]).sum(axis=1, keepdims=True))
    want = -ls[np.arange(keep.sum()), y[keep]].mean()
    assert r.json()["losses"][0]["value"] == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(
    ("files", "flags"),
    [
        (("multilabel_preds.csv", "multilabel_targets.csv"), ("--reduction", "sum")),
        (("regression_preds.csv", "regression_targets.csv"), ("--convention", "keras")),
    ],
)
def test_bootstrap_interval_brackets_the_reported_value(cli, files, flags):
    # The interval is of the value as reported: torch's element sum, Keras' mean.
    preds, targets = files
    r = cli(
        "compare",
        SAMPLES / preds,
        SAMPLES / preds,
        SAMPLES / targets,
        "--names",
        "a,b",
        "--bootstrap",
        "200",
        *flags,
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    for entry in r.json()["losses"]:
        if entry["values"]["a"] is None or "ci" not in entry:
            continue
        lo, hi = entry["ci"]["a"]
        v = entry["values"]["a"]
        assert lo <= v * (1 + 1e-9) and v <= hi * (1 + 1e-9) + 1e-12, entry["name"]


def test_grad_under_keras_with_sample_weights(cli, tmp_path):
    # mape under Keras (eps 1e-7, percent, ÷N with sample weights): the gradient of the
    # value as reported, ∂(Σ w·l / N)/∂ŷ = w·100·sign(e)/max(|y|, eps)/N
    rng = np.random.default_rng(5)
    pred, target, w = rng.normal(3, 1, 30), rng.normal(3, 1, 30), rng.uniform(0.2, 3, 30)
    target[0] = 0.0
    write_csv(
        tmp_path / "p.csv",
        ["pred", "w"],
        [[repr(float(a)), repr(float(b))] for a, b in zip(pred, w)],
    )
    write_csv(tmp_path / "y.csv", ["y"], [[repr(float(v))] for v in target])
    r = cli(
        "evaluate",
        tmp_path / "p.csv",
        tmp_path / "y.csv",
        "--weight-col",
        "w",
        "--loss",
        "mape",
        "--convention",
        "keras",
        "--grad",
        "--json",
    )
    assert r.exit_code == 0, r.stderr
    grad = r.json()["losses"][0]["grad"]
    g = np.abs(w * 100.0 * np.sign(pred - target) / np.maximum(np.abs(target), 1e-7) / 30)
    assert grad["max_abs"] == pytest.approx(g.max(), rel=1e-12)
    assert grad["mean_abs"] == pytest.approx(g.mean(), rel=1e-12)
