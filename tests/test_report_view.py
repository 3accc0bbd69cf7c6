"""One view model (``losscli.report.view``) rendered by every human format, the format
dispatch (``losscli.report.render``) and the chart numbers of ``losscli.analysis``."""

from __future__ import annotations

import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from losscli import analysis as an
from losscli.compute import per_class_means, per_class_sums
from losscli.report import render
from losscli.report.view import FAIL, NAME, build

REG = ["regression_preds.csv", "regression_preds_b.csv", "regression_targets.csv"]


def _doc(cli, samples, *args: str) -> dict:
    r = cli(*args, "--json")
    return json.loads(r.stdout)


# --------------------------------------------------------------------------- gates


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_compare_gates_show_in_table_and_markdown(cli, samples, fmt):
    r = cli("compare", *(samples / f for f in REG), "--max", "mse=0.1", "-f", fmt)
    assert r.exit_code == 1
    out = r.stdout
    assert ("### Gates" if fmt == "markdown" else "gates") in out
    assert out.count("FAIL") == 2  # one row per model
    assert "regression_preds_b" in out.split("ates", 1)[1]


def test_compare_gates_on_the_html_page(cli, samples, tmp_path):
    page = tmp_path / "r.html"
    r = cli("compare", *(samples / f for f in REG), "--max", "mse=1e9", "-o", page)
    assert r.exit_code == 0, r.stderr
    body = page.read_text()
    assert "<h3>Gates</h3>" in body and "pass: all 2 gates passed" in body


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_evaluate_gates_show_in_table_and_markdown(cli, samples, fmt):
    args = [samples / "binary_probs.csv", samples / "binary_targets.csv"]
    r = cli("evaluate", *args, "--max", "bce=0.1", "--max", "brier=0.5", "-f", fmt)
    assert r.exit_code == 1
    assert "FAIL" in r.stdout and "pass" in r.stdout


# --------------------------------------------------------------------------- view model


def test_one_view_feeds_every_format(cli, samples):
    doc = _doc(
        cli, samples, "evaluate", samples / "binary_probs.csv", samples / "binary_targets.csv"
    )
    doc["gates"] = [{"loss": "bce", "op": "<=", "limit": 0.1, "value": 0.2, "passed": False}]
    v = build(doc)
    assert [s.key for s in v.sections] == ["losses", "per_class", "gates", "worst", "inputs"]
    assert v.verdict == "FAIL: 1 of 1 gates failed" and v.failed
    gates = next(s for s in v.sections if s.key == "gates")
    assert gates.rows[0][0].kind == NAME and gates.rows[0][-1].kind == FAIL
    md = render(doc, "markdown")
    text = render(doc, "text")
    page = render(doc, "html")
    for out in (md, text, page):
        assert "bce" in out and "FAIL" in out and "what it measures" in out


def test_a_loss_that_was_not_computed_says_so_in_every_format(cli, samples):
    doc = _doc(
        cli, samples, "evaluate", samples / "binary_probs.csv", samples / "binary_targets.csv"
    )
    doc["losses"][0].update(status="not_applicable", value=None, reason="needs logits")
    for fmt in ("markdown", "text", "html"):
        out = render(doc, fmt)
        assert "not applicable" in out and "needs logits" in out


def _negative(tmp_path):
    """Two models and targets where msle and poisson_nll are not applicable."""
    paths = []
    for name, rows in (("a", ["1", "-2", "3"]), ("b", ["1", "2", "3"]), ("t", ["1.5", "-1", "2"])):
        path = tmp_path / f"{name}.csv"
        path.write_text("\n".join(["v", *rows]) + "\n")
        paths.append(path)
    return paths


@pytest.mark.parametrize("fmt", ["markdown", "table"])
def test_compare_says_why_a_loss_is_not_applicable_and_bolds_only_the_best(cli, tmp_path, fmt):
    r = cli("compare", *_negative(tmp_path), "-f", fmt)
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())
    assert "msle is not applicable for a: msle needs predictions in (-1, inf)" in out
    assert "msle is not applicable for b: msle needs targets in (-1, inf)" in out
    if fmt == "markdown":
        assert "**not applicable**" not in out
        assert "| `msle` | *not applicable* | *not applicable* | — |" in out
        assert "| `mse` | **0.75** | 3.417 | a |" in out


def test_evaluate_markdown_gives_the_reason_in_the_row(cli, tmp_path):
    a, _, t = _negative(tmp_path)
    r = cli("evaluate", a, t, "-f", "markdown")
    assert r.exit_code == 0, r.stderr
    row = next(ln for ln in r.stdout.splitlines() if ln.startswith("| `msle`"))
    assert "not applicable" in row and "msle needs predictions in (-1, inf)" in row


def test_page_only_sections_stay_off_the_terminal(cli, samples):
    doc = _doc(cli, samples, "compare", *(samples / f for f in REG[::2]))
    assert doc.get("sensitivity")
    v = build(doc)
    assert {s.key for s in v.shown()} <= {"losses", "per_class", "gates", "worst"}
    assert {"sensitivity", "inputs"} <= {s.key for s in v.shown(page=True)}
    assert "worst 1% carry" not in render(doc, "markdown")


def test_render_dispatch(cli, samples):
    losses = json.loads(cli("losses", "--json").stdout)
    assert render(losses, "json") == json.dumps(losses, indent=2, ensure_ascii=False) + "\n"
    assert render(losses, "csv").startswith("name,tasks,params,aliases,summary")
    assert render(losses, "markdown").startswith("| loss | tasks | params | summary |")
    assert "<html" in render(losses, "html") and "huber" in render(losses, "text")
    with pytest.raises(ValueError, match="no view"):
        build({"command": "nope"})


# --------------------------------------------------------------------------- analysis


def _report(task: str, target, per_sample, weights=None, names=None, columns=("y",)):
    ds = SimpleNamespace(
        task=task,
        target=np.asarray(target),
        pred=np.zeros((len(target), len(names or [0, 1]))),
        class_names=names,
        target_columns=list(columns),
        context={},
    )
    losses = [{"name": n, "status": "ok", "params": {}} for n in per_sample]
    return SimpleNamespace(
        data={"losses": losses, "task": {"name": task}},
        per_sample=per_sample,
        per_sample_weight=weights or {},
        dataset=ds,
    )


def test_class_losses_use_the_one_weighted_per_class_rule():
    y = np.array([0, 1, 2, 1, 0])
    rows = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    w = np.array([1.0, 3.0, 1.0, 1.0, 0.5])
    rep = _report("multiclass", y, {"ce": rows}, {"ce": w}, names=["a", "b", "c"])
    got = an.class_losses(rep)["ce"]
    assert got == per_class_means(*per_class_sums(rows, y, 3, w), ["a", "b", "c"])
    assert got["b"] == pytest.approx((3 * 2 + 4) / 4)


def test_class_losses_binary_by_label():
    rep = _report("binary", [0, 1, 1], {"bce": np.array([1.0, 2.0, 4.0])}, columns=("fraud",))
    assert an.class_losses(rep) == {"bce": {"fraud = 0": 1.0, "fraud = 1": 3.0}}


def test_robust_inliers_and_histogram():
    e = np.array([0.0, 0.1, -0.1, 0.2, -0.2, 50.0])
    keep = an.robust_inliers(e)
    assert keep is not None and keep.tolist() == [True] * 5 + [False]
    assert an.robust_inliers(np.zeros(5)) is None
    edges, counts = an.histogram(np.array([1.0, 1.0, np.nan]), bins=2)
    assert edges.tolist() == [1.0, 1.5, 2.0] and counts.tolist() == [2, 0]


def test_distance_numbers():
    d = an.Distances(np.array([0.1, 0.2]), np.array([0.5, 2.0, 3.0, 4.0]), 1.0, "contrastive")
    assert an.inside_margin(d) == 0.25
    assert an.median_distances(d) == (pytest.approx(0.15), 2.5)
    edges, pos, neg = an.distance_histogram(d, bins=4)
    assert edges[-1] == 4.0 and pos.sum() == 1.0 and neg.sum() == 1.0


def test_analysis_and_views_import_no_api():
    code = (
        "import sys, losscli.analysis, losscli.report.view, losscli.report.markdown;"
        "print(sorted(m for m in sys.modules if m in ('losscli.api', 'pandas', 'matplotlib')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
