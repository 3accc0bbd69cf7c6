"""``--plugin``, the ``losscli.losses`` entry points and ``--combine`` composites: they get
gates, worst rows, per-sample columns, bootstrap and reports like built-in losses."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, SAMPLES

EXAMPLE = ROOT / "examples" / "losscli-plugin-example"
TARGET = "losscli_plugin_example:asymmetric_mse"
REG = [SAMPLES / "regression_preds.csv", SAMPLES / "regression_targets.csv"]


def _expected_asymmetric() -> np.ndarray:
    p = pd.read_csv(REG[0]).set_index("id")["prediction"]
    y = pd.read_csv(REG[1]).set_index("id")["price"].loc[p.index]
    e = p.to_numpy() - y.to_numpy()
    return np.where(e < 0, 3 * e * e, e * e)


@pytest.fixture
def example_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE / "src"))
    yield
    sys.modules.pop("losscli_plugin_example", None)


@pytest.fixture
def installed(tmp_path, monkeypatch, example_on_path):
    """The example's entry point as an installed distribution would declare it."""
    info = tmp_path / "losscli_plugin_example-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: losscli-plugin-example\nVersion: 0.1.0\n"
    )
    (info / "entry_points.txt").write_text(f"[losscli.losses]\nasymmetric_mse = {TARGET}\n")
    monkeypatch.syspath_prepend(str(tmp_path))


def test_plugin_gets_the_machinery(cli, tmp_path, example_on_path):
    out = tmp_path / "rows.csv"
    doc = cli(
        "evaluate",
        *REG,
        "--plugin",
        TARGET,
        "--worst",
        "3",
        "--max",
        "asymmetric_mse=1",
        "--per-sample",
        out,
        "--json",
    ).json()
    item = next(it for it in doc["losses"] if it["name"] == "asymmetric_mse")
    want = _expected_asymmetric()
    assert item["value"] == pytest.approx(want.mean(), rel=1e-12)
    assert doc["ok"] is False and doc["gates"][0]["loss"] == "asymmetric_mse"
    assert doc["worst_loss"] == "asymmetric_mse"
    assert doc["worst"][0]["loss"] == pytest.approx(want.max())
    col = [float(r["asymmetric_mse"]) for r in csv.DictReader(out.open())]
    assert sorted(col) == pytest.approx(sorted(want))


def test_plugin_named_and_in_compare_bootstrap(cli, example_on_path):
    doc = cli(
        "compare",
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_preds_b.csv",
        SAMPLES / "regression_targets.csv",
        "--plugin",
        f"asym={TARGET}",
        "--combine",
        "blend=mse:1,asym:0.25",
        "--bootstrap",
        "200",
        "--json",
    ).json()
    names = [e["name"] for e in doc["losses"]]
    assert "asym" in names and "blend" in names
    blend = next(e for e in doc["losses"] if e["name"] == "blend")
    mse = next(e for e in doc["losses"] if e["name"] == "mse")
    asym = next(e for e in doc["losses"] if e["name"] == "asym")
    for m in doc["models"]:
        assert blend["values"][m] == pytest.approx(mse["values"][m] + 0.25 * asym["values"][m])
        lo, hi = blend["ci"][m]
        assert lo <= blend["values"][m] <= hi


def test_entry_point_listed_without_import_and_used_by_name(cli, installed):
    listing = cli("losses", "--json").json()
    entry = next(e for e in listing["losses"] if e["name"] == "asymmetric_mse")
    assert entry["plugin"] == TARGET
    assert "losscli_plugin_example" not in sys.modules  # listed, never imported
    doc = cli("evaluate", *REG, "--loss", "asymmetric_mse", "--json").json()
    assert doc["losses"][0]["value"] == pytest.approx(_expected_asymmetric().mean(), rel=1e-12)


def _write_module(tmp_path: Path, body: str) -> None:
    (tmp_path / "badplug.py").write_text(textwrap.dedent(body))


@pytest.mark.parametrize(
    ("spec", "code", "words"),
    [
        ("nosuchmodule_xyz:f", 2, ["nosuchmodule_xyz:f", "cannot load"]),
        ("badplug:missing", 2, ["missing (badplug:missing)"]),
        ("boom=badplug:raises", 3, ["boom (badplug:raises)", "ZeroDivisionError"]),
        ("badplug:shape", 3, ["shape (badplug:shape)", "expected (200,)"]),
    ],
)
def test_plugin_failures_name_the_plugin(cli, tmp_path, monkeypatch, spec, code, words):
    _write_module(
        tmp_path,
        """
        import numpy as np
        def raises(pred, target):
            return 1 / 0
        def shape(pred, target):
            return np.zeros((len(pred), 2))
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    r = cli("evaluate", *REG, "--plugin", spec)
    sys.modules.pop("badplug", None)
    assert r.exit_code == code, r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert w in r.stderr


def test_combine_value_shares_gate_and_grad(cli):
    doc = cli(
        "evaluate",
        SAMPLES / "binary_probs.csv",
        SAMPLES / "binary_targets.csv",
        "--combine",
        "mix=bce:1,brier:2",
        "--grad",
        "--max",
        "mix=0.1",
        "--worst",
        "2",
        "--json",
    ).json()
    items = {it["name"]: it for it in doc["losses"]}
    mix = items["mix"]
    assert mix["value"] == pytest.approx(items["bce"]["value"] + 2 * items["brier"]["value"])
    shares = [t["share"] for t in mix["terms"]]
    assert sum(shares) == pytest.approx(1.0)
    gshares = [t["grad_share"] for t in mix["terms"]]
    assert sum(gshares) == pytest.approx(1.0)
    b, r = items["bce"]["grad"]["mean_abs"], items["brier"]["grad"]["mean_abs"]
    assert gshares[0] == pytest.approx(b / (b + 2 * r))
    assert doc["ok"] is False and doc["worst_loss"] == "mix"
    # the composite's gradient is the weighted sum of the terms' (same signs here)
    assert mix["grad"]["mean_abs"] == pytest.approx(b + 2 * r, rel=1e-9)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("mix", "cannot read --combine"),
        ("mix=bce:x", "not a number"),
        ("bce=bce:1,brier:1", "already a loss"),
        ("mix=bce:1,nosuch:1", "nosuch"),
    ],
)
def test_combine_usage_errors(cli, value, words):
    r = cli(
        "evaluate", SAMPLES / "binary_probs.csv", SAMPLES / "binary_targets.csv", "--combine", value
    )
    assert r.exit_code == 2 and words in r.stderr


def test_combine_refuses_rmse_and_class_weights(cli):
    r = cli("evaluate", *REG, "--combine", "c=rmse:1,mae:1")
    assert r.exit_code == 2 and "combine mse instead" in r.stderr
    r = cli(
        "evaluate",
        SAMPLES / "multiclass_probs.csv",
        SAMPLES / "multiclass_targets.csv",
        "--combine",
        "c=cross_entropy:1,brier:1",
        "--param",
        "cross_entropy.weight=1,2,3",
    )
    assert r.exit_code == 2 and "weighs rows" in r.stderr


@pytest.mark.slow
def test_pip_install_example(tmp_path):
    """The example package pip-installed (into a target directory on PYTHONPATH): its
    entry point is found by name."""
    site, src = tmp_path / "site", tmp_path / "example"
    shutil.copytree(EXAMPLE, src)  # pip builds in the source tree
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", site, src],
        check=True,
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-m", "losscli", "evaluate", *REG, "--loss", "asymmetric_mse", "--json"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
    ).stdout
    assert '"asymmetric_mse"' in out


def test_compare_composite_terms_by_model(cli):
    args = [
        SAMPLES / "regression_preds.csv",
        SAMPLES / "regression_preds_b.csv",
        SAMPLES / "regression_targets.csv",
        "--loss",
        "mae",
        "--combine",
        "c=mse:1,mae:10",
        "--grad",
    ]
    doc = cli("compare", *args, "--json").json()
    c = next(e for e in doc["losses"] if e["name"] == "c")
    for m in doc["models"]:
        assert sum(t["share"][m] for t in c["terms"]) == pytest.approx(1.0)
        assert sum(t["grad_share"][m] for t in c["terms"]) == pytest.approx(1.0)
    md = cli("compare", *args, "-f", "markdown").stdout
    assert "| `c` | mae | regression_preds_b | 10 |" in md


def test_losses_list_subcommand_lists_plugins(cli, installed):
    out = cli("losses", "list", "--json").json()
    assert any(e["name"] == "asymmetric_mse" for e in out["losses"])


def test_a_plugin_changing_its_input_in_place_fails_by_name(cli, tmp_path, monkeypatch):
    """The arrays every loss reads are read-only to a plugin: an in-place change would
    have changed the other losses' values (exit 3, the plugin named, nothing else run)."""
    (tmp_path / "inplace_plugin.py").write_text(
        "def sq(pred, target):\n    pred -= target\n    return (pred ** 2).ravel()\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    r = cli("evaluate", *REG, "--plugin", "inplace_plugin:sq", "--loss", "sq")
    sys.modules.pop("inplace_plugin", None)
    assert r.exit_code == 3
    assert "inplace_plugin:sq" in r.stderr and "read-only" in r.stderr
