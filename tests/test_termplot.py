"""``--plot``: text charts in the terminal, pinned by golden files.

Each case runs the CLI at ``COLUMNS=80`` with ``NO_COLOR`` and ``--json -q --plot``, so
the chart is the only thing on stderr, and compares it with ``tests/golden/<case>.txt``.
Regenerate the files after an intended change with::

    LOSSCLI_UPDATE_GOLDEN=1 python -m pytest tests/test_termplot.py

and review the diff. Without the variable a missing or different file fails the test.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

from losscli import analysis as an
from losscli.report.termplot import bar, histogram_lines, line_chart, rbar

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("LOSSCLI_UPDATE_GOLDEN") == "1"
ENV = {"COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}

CASES: list[tuple[str, list[str]]] = [
    ("evaluate_regression", ["evaluate", "regression_preds.csv", "regression_targets.csv"]),
    ("evaluate_binary", ["evaluate", "binary_probs.csv", "binary_targets.csv"]),
    ("evaluate_binary_logits", ["evaluate", "binary_logits.csv", "binary_targets.csv"]),
    ("evaluate_multiclass", ["evaluate", "multiclass_probs.csv", "multiclass_targets.csv"]),
    ("evaluate_multilabel", ["evaluate", "multilabel_preds.csv", "multilabel_targets.csv"]),
    (
        "evaluate_segmentation",
        ["evaluate", "segmentation_preds.npy", "segmentation_masks.npy"],
    ),
    ("evaluate_embedding", ["evaluate", "embeddings.csv", "embedding_labels.csv"]),
    ("evaluate_detection", ["evaluate", "detection_preds.csv", "detection_targets.csv"]),
    ("evaluate_gan", ["evaluate", "gan_scores.csv"]),
    (
        "compare_bootstrap",
        [
            "compare",
            "regression_preds.csv",
            "regression_preds_b.csv",
            "regression_targets.csv",
            "--names",
            "model_a,model_b",
            "--loss",
            "mse",
            "--loss",
            "mae",
            "--loss",
            "huber",
            "--bootstrap",
            "200",
            "--seed",
            "1",
        ],
    ),
    ("compare_one_model", ["compare", "regression_preds.csv", "regression_targets.csv"]),
    ("recommend_regression_outliers", ["recommend", "--task", "regression", "--outliers"]),
    ("recommend_binary_imbalanced", ["recommend", "--task", "binary", "--imbalanced"]),
    ("recommend_binary_overconfident", ["recommend", "--task", "binary", "--overconfident"]),
    ("recommend_multiclass", ["recommend", "--task", "multiclass"]),
    ("recommend_segmentation", ["recommend", "--task", "segmentation", "--imbalanced"]),
    ("recommend_embedding", ["recommend", "--task", "embedding"]),
    ("recommend_detection", ["recommend", "--task", "detection"]),
    ("recommend_gan", ["recommend", "--task", "gan"]),
]


def _args(samples: Path, args: list[str]) -> list[str]:
    return [str(samples / a) if a.endswith((".csv", ".npy")) else a for a in args]


def _plot(cli, samples: Path, args: list[str]) -> str:
    quiet = [] if args[0] == "recommend" else ["-q"]
    r = cli(*_args(samples, args), "--json", "--plot", *quiet, env=ENV)
    assert r.exit_code == 0, r.stderr
    json.loads(r.stdout)  # stdout stays machine-readable
    return r.stderr


@pytest.mark.parametrize(("case", "args"), CASES, ids=[c[0] for c in CASES])
def test_golden(cli, samples, case, args):
    text = _plot(cli, samples, args)
    assert "\x1b[" not in text  # NO_COLOR: no escape sequences
    for line in text.splitlines():
        assert len(line) <= 80, f"line wider than 80 columns: {line!r}"
    path = GOLDEN / f"{case}.txt"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path}; run with LOSSCLI_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


def test_plot_goes_to_stdout_after_the_table(cli, samples):
    r = cli(
        "evaluate",
        samples / "binary_probs.csv",
        samples / "binary_targets.csv",
        "--plot",
        "-q",
        env=ENV,
    )
    assert r.exit_code == 0
    table_at = r.stdout.index("brier")
    plot_at = r.stdout.index("Calibration:")
    assert table_at < plot_at
    assert "Calibration:" not in r.stderr


def test_plot_with_other_formats_goes_to_stderr(cli, samples):
    for fmt in ("csv", "markdown"):
        r = cli(
            "evaluate",
            samples / "regression_preds.csv",
            samples / "regression_targets.csv",
            "--plot",
            "--format",
            fmt,
            "-q",
            env=ENV,
        )
        assert r.exit_code == 0
        assert "Share of each loss carried by the worst rows" in r.stderr
        assert "█" not in r.stdout


def test_recommend_plot_on_stdout_with_table(cli):
    r = cli("recommend", "--task", "binary", "--imbalanced", "--plot", env=ENV)
    assert r.exit_code == 0
    assert r.stdout.index("Recommended") < r.stdout.index("Losses as functions of p_t")


def test_regression_plot_numbers_match_the_json(cli, samples):
    r = cli(
        "compare",
        samples / "regression_preds.csv",
        samples / "regression_targets.csv",
        "--json",
        "--plot",
        "-q",
        env=ENV,
    )
    sens = {s["loss"]: s for s in json.loads(r.stdout)["sensitivity"]}
    line = next(ln for ln in r.stderr.splitlines() if ln.startswith("mse "))
    assert f"1%: {sens['mse']['top_1pct_share']:.0%}" in line


def test_recommend_table_values_come_from_the_kernels(cli):
    r = cli("recommend", "--task", "regression", "--outliers", "--json", "--plot", env=ENV)
    rows = {
        ln.split()[1]: ln.split()[-4:]
        for ln in r.stderr.splitlines()
        if ln[:2] in ("* ", "o ", "+ ")
    }
    # hand: at e = 0.5, 1, 2, 4: mse e², huber(δ=1) 0.5e² / |e| − 0.5, mae |e|
    assert [float(v) for v in rows["mse"]] == [0.25, 1, 4, 16]
    assert [float(v) for v in rows["huber"]] == [0.125, 0.5, 1.5, 3.5]
    assert [float(v) for v in rows["mae"]] == [0.5, 1, 2, 4]


# --------------------------------------------------------------------------- building blocks


def test_bar_resolution():
    assert bar(0.0, 10) == ""
    assert bar(1.0, 10) == "█" * 10
    assert bar(0.5, 10) == "█" * 5
    assert bar(0.05, 10) == "▌"  # half a cell: four eighths
    assert bar(2.0, 4) == "████"  # clipped
    assert bar(float("nan"), 4) == ""
    assert rbar(0.5, 4) == "  ██"
    assert rbar(0.0, 3) == "   "


def test_histogram_counts_every_value():
    v = np.array([0.0, 0.1, 0.2, 0.9, 1.0, np.inf])
    lines = histogram_lines(v, 60, bins=5)
    assert len(lines) == 5
    counts = [int(re.findall(r"(\d+)$", ln)[0]) for ln in lines]
    assert counts == [2, 1, 0, 0, 2]  # inf is left out; the last bin holds its right edge


def test_line_chart_shape_and_cut_marker():
    c = an.Curves(
        "error",
        np.linspace(-4, 4, 81),
        an.error_curves(np.linspace(-4, 4, 81), [("mse", {}), ("mae", {})]),
        "error",
        "loss",
        "t",
    )
    lines = line_chart(c, 60, rows=10)
    assert all(len(ln) <= 60 for ln in lines)
    assert any("mse (cut at the top)" in ln for ln in lines)  # 16 dwarfs mae's 4
    grid = lines[:10]
    assert sum(ln.count("o") for ln in grid) > 0 and sum(ln.count("*") for ln in grid) > 0


def test_html_and_terminal_charts_come_from_one_choice_per_task():
    from losscli import analysis as an
    from losscli.report import charts, termplot

    for task in ("regression", "binary", "multiclass", "segmentation", "embedding", "detection"):
        assert set(an.charts_for(task)) <= set(charts.DRAWINGS)
    assert an.charts_for("regression") == ["residuals", "loss-curves", "worst-share"]
    assert an.charts_for("detection") == ["row-loss", "worst-share"]
    # the terminal has no loss curves and no p_t histogram
    assert set(charts.DRAWINGS) - set(termplot.DRAWINGS) == {"loss-curves", "pt-hist"}
