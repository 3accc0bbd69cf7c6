"""``-o report.html``: one self-contained page per evaluate / compare run.

Every task's sample data is rendered through the CLI and the page is checked as HTML
(balanced tags, unique ids), for its content (every loss, gate, note and piece of
evidence of the JSON result), for every expected chart as an inline ``<svg>``, and for
self-containment: no URL anywhere except the SVG namespace, no ``src``, no external
``href``, no ``<link>`` or ``<script>``. The picture data the charts draw is checked
against hand computations and against compare's own numbers.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from losscli import analysis as an
from losscli.report import fmt_number

SVG_NS = "http://www.w3.org/2000/svg"
VOID = {"meta", "br", "img", "input", "link", "hr", "area", "base", "col", "source", "wbr"}

#: (case id, CLI arguments after the command, expected chart ids)
CLASSIFICATION = ["chart-reliability", "chart-pt-hist", "chart-class-loss"]
GENERIC = ["chart-row-loss", "chart-worst-share"]
EVALUATE_CASES = [
    (
        "regression",
        ["regression_preds.csv", "regression_targets.csv"],
        ["chart-residuals", "chart-loss-curves", "chart-worst-share"],
    ),
    ("binary", ["binary_probs.csv", "binary_targets.csv"], CLASSIFICATION),
    ("binary-logits", ["binary_logits.csv", "binary_targets.csv"], CLASSIFICATION),
    ("multiclass", ["multiclass_probs.csv", "multiclass_targets.csv"], CLASSIFICATION),
    ("multilabel", ["multilabel_preds.csv", "multilabel_targets.csv"], CLASSIFICATION),
    (
        "segmentation",
        ["segmentation_preds.npy", "segmentation_masks.npy"],
        ["chart-image-overlap"],
    ),
    ("embedding", ["embeddings.csv", "embedding_labels.csv"], ["chart-distances"]),
    ("detection", ["detection_preds.csv", "detection_targets.csv"], GENERIC),
    ("distribution", ["distribution_preds.csv", "distribution_targets.csv"], GENERIC),
    ("vae", ["vae_outputs.csv", "vae_inputs.csv"], GENERIC),
    ("gan", ["gan_scores.csv"], GENERIC),
]


# --------------------------------------------------------------------------- HTML checks


class Page(HTMLParser):
    """Collects what the checks need and fails on unbalanced tags."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.tags: dict[str, int] = {}
        self.attrs: list[tuple[str, str, str | None]] = []
        self.svg_xmlns = 0
        self.doctype: str | None = None
        self.figures: dict[str, dict[str, Any]] = {}
        self._figure: str | None = None
        self.text: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] = self.tags.get(tag, 0) + 1
        a = dict(attrs)
        for k, v in attrs:
            self.attrs.append((tag, k, v))
        if "id" in a and a["id"] is not None:
            self.ids.append(a["id"])
        if tag == "svg" and a.get("xmlns") == SVG_NS:
            self.svg_xmlns += 1
        if tag == "figure":
            self._figure = a.get("id")
            self.figures[str(self._figure)] = {"svg": 0, "aria": None, "missing": False}
        if self._figure is not None and tag == "svg":
            self.figures[self._figure]["svg"] += 1
            self.figures[self._figure]["aria"] = a.get("aria-label")
            self.figures[self._figure]["role"] = a.get("role")
        if self._figure is not None and tag == "div" and a.get("class") == "missing":
            self.figures[self._figure]["missing"] = True
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # SVG's self-closing elements (<path/>, <use/>)
        self.tags[tag] = self.tags.get(tag, 0) + 1
        for k, v in attrs:
            self.attrs.append((tag, k, v))
            if k == "id" and v is not None:
                self.ids.append(v)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        self.stack.pop()
        if tag == "figure":
            self._figure = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    assert page.errors == [], page.errors[:5]
    assert page.stack == [], f"unclosed tags: {page.stack}"
    assert page.doctype is not None and page.doctype.lower() == "doctype html"
    for tag in ("html", "head", "body", "title", "main"):
        assert page.tags.get(tag) == 1, tag
    return page


def assert_self_contained(text: str, page: Page) -> None:
    """No URL but the SVG namespace; nothing that would fetch a resource."""
    urls = re.findall(r"https?://", text, flags=re.IGNORECASE)
    assert len(urls) == page.svg_xmlns, (
        f"{len(urls)} URLs in the page but only {page.svg_xmlns} are <svg xmlns=…>"
    )
    assert text.count(f'xmlns="{SVG_NS}"') == page.svg_xmlns  # each sits on an <svg> tag
    assert page.tags.get("script", 0) == 0
    assert page.tags.get("link", 0) == 0
    assert page.tags.get("img", 0) == 0
    assert page.tags.get("iframe", 0) == 0
    for tag, key, value in page.attrs:
        assert key != "src", (tag, value)
        if key in ("href", "xlink:href"):
            assert value is not None and value.startswith("#"), (tag, key, value)
    for ref in re.findall(r"url\(([^)]*)\)", text):
        assert ref.startswith("#"), ref
    assert "@import" not in text
    assert "xlink" not in text  # no namespace left to resolve


def assert_charts(page: Page, expected: list[str]) -> None:
    for cid in expected:
        assert cid in page.figures, f"missing {cid}; have {sorted(page.figures)}"
        fig = page.figures[cid]
        assert not fig["missing"], f"{cid} was not drawn"
        assert fig["svg"] == 1, cid
        assert fig["role"] == "img"
        assert fig["aria"] and len(fig["aria"]) > 20, cid
    assert len(page.ids) == len(set(page.ids)), "duplicate ids"


def run_html(cli: Any, tmp_path: Path, samples: Path, command: str, args: list[str], *extra: str):
    out = tmp_path / "report.html"
    files = [str(samples / a) for a in args]
    r = cli(command, *files, "-o", str(out), "-o", str(tmp_path / "r.json"), "-q", *extra)
    assert r.exit_code in (0, 1), r.stderr
    text = out.read_text(encoding="utf-8")
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    return r, text, doc


# --------------------------------------------------------------------------- evaluate pages


@pytest.mark.parametrize(
    ("case", "args", "charts"),
    # every task's page in the slow stage; two in the quick suite
    [
        c if c[0] in ("binary", "multiclass") else pytest.param(*c, marks=pytest.mark.slow)
        for c in EVALUATE_CASES
    ],
    ids=[c[0] for c in EVALUATE_CASES],
)
def test_evaluate_page(cli, samples, tmp_path, case, args, charts):
    _r, text, doc = run_html(cli, tmp_path, samples, "evaluate", args)
    page = parse(text)
    assert_self_contained(text, page)
    assert_charts(page, charts)
    body = " ".join(page.text)
    # the summary table: every loss with its value or status, as the table view shows it
    for it in doc["losses"]:
        assert it["name"] in body
        shown = fmt_number(it["value"]) if it["status"] == "ok" else it["status"].replace("_", " ")
        assert shown in body, (it["name"], shown)
    for line in doc["warnings"] + doc["evidence"]:
        assert line in body
    assert doc["task"]["name"] in body
    assert doc["inputs"]["predictions"]["path"] in body
    assert f"{doc['n_samples']} samples" in body


def test_gates_notes_and_worst_rows_on_the_page(cli, samples, tmp_path):
    _r, text, doc = run_html(
        cli,
        tmp_path,
        samples,
        "evaluate",
        ["binary_probs.csv", "binary_targets.csv"],
        "--max",
        "bce=0.1",
        "--max",
        "brier=0.5",
        "--worst",
        "3",
    )
    body = " ".join(parse(text).text)
    assert "FAIL: 1 of 2 gates failed" in body
    assert "FAIL" in body and "pass" in body  # written out, not colour only
    assert "Worst rows by" in body
    assert doc["warnings"]  # hinge's label mapping note
    for w in doc["warnings"]:
        assert w in body


def test_gate_failure_still_writes_the_page_and_exits_1(cli, samples, tmp_path):
    out = tmp_path / "r.html"
    r = cli(
        "evaluate",
        samples / "regression_preds.csv",
        samples / "regression_targets.csv",
        "--max",
        "mse=1",
        "-o",
        out,
        "-q",
    )
    assert r.exit_code == 1
    assert "chart-residuals" in out.read_text(encoding="utf-8")


def test_segmentation_names_the_worst_images(cli, samples, tmp_path):
    _r, text, _doc = run_html(
        cli, tmp_path, samples, "evaluate", ["segmentation_preds.npy", "segmentation_masks.npy"]
    )
    # image 6 has an empty mask and the worst dice (sample_data/README.md)
    caption = re.search(r'<figure id="chart-image-overlap".*?</figure>', text, flags=re.S)
    assert caption is not None
    assert "Worst by dice: image 6" in caption.group(0)


# --------------------------------------------------------------------------- compare pages


def test_compare_page_with_bootstrap(cli, samples, tmp_path):
    _r, text, doc = run_html(
        cli,
        tmp_path,
        samples,
        "compare",
        ["regression_preds.csv", "regression_preds_b.csv", "regression_targets.csv"],
        "--names",
        "model_a,model_b",
        "--bootstrap",
        "200",
        "--seed",
        "1",
    )
    page = parse(text)
    assert_self_contained(text, page)
    assert_charts(page, ["chart-compare"])
    body = " ".join(page.text)
    for e in doc["losses"]:
        lo, hi = e["ci"]["model_a"]
        assert f"[{fmt_number(lo, 3)}, {fmt_number(hi, 3)}]" in body
    for line in doc["summary"]:
        assert line in body
    assert "Whiskers are 95% paired-bootstrap intervals (200 replicates)" in text
    # one whisker (errorbar) per model and loss: matplotlib draws each as its own line group
    assert "(best)" in body


def test_compare_page_one_model_shows_sensitivity(cli, samples, tmp_path):
    _r, text, doc = run_html(
        cli, tmp_path, samples, "compare", ["regression_preds.csv", "regression_targets.csv"]
    )
    page = parse(text)
    assert_self_contained(text, page)
    assert_charts(page, ["chart-compare", "chart-sensitivity"])
    mse = next(s for s in doc["sensitivity"] if s["loss"] == "mse")
    assert f"{mse['top_1pct_share']:.1%}" in " ".join(page.text)


# --------------------------------------------------------------------------- failure paths


def test_missing_matplotlib_is_a_usage_error_and_writes_nothing(
    cli, samples, tmp_path, monkeypatch
):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` raises
    old = tmp_path / "report.html"
    old.write_text("previous report", encoding="utf-8")
    r = cli(
        "evaluate",
        samples / "regression_preds.csv",
        samples / "regression_targets.csv",
        "-o",
        tmp_path / "r.json",
        "-o",
        old,
        "--per-sample",
        tmp_path / "rows.csv",
    )
    assert r.exit_code == 2, r.stderr
    assert 'pip install "losscli[report]"' in r.stderr
    assert "Traceback" not in r.stderr
    assert r.stdout == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
    assert old.read_text(encoding="utf-8") == "previous report"


def test_missing_matplotlib_compare(cli, samples, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    r = cli(
        "compare",
        samples / "regression_preds.csv",
        samples / "regression_preds_b.csv",
        samples / "regression_targets.csv",
        "-o",
        tmp_path / "c.html",
    )
    assert r.exit_code == 2
    assert 'pip install "losscli[report]"' in r.stderr
    assert list(tmp_path.iterdir()) == []


def test_other_outputs_do_not_need_matplotlib(cli, samples, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    r = cli(
        "evaluate",
        samples / "binary_probs.csv",
        samples / "binary_targets.csv",
        "-o",
        tmp_path / "r.md",
        "--plot",
        "--json",
        "-q",
    )
    assert r.exit_code == 0, r.stderr
    assert (tmp_path / "r.md").exists()


def test_matplotlib_is_not_imported_at_start_up():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from losscli.cli import app\n"
        "r = CliRunner().invoke(app, ['evaluate', 'sample_data/binary_probs.csv',"
        " 'sample_data/binary_targets.csv', '--json', '--plot', '-q'])\n"
        "assert r.exit_code == 0, r.output\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib imported'\n"
    )
    root = Path(__file__).resolve().parents[1]
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert res.returncode == 0, res.stderr


def test_render_is_deterministic_and_works_from_a_bare_document(samples):
    from losscli.api import evaluate
    from losscli.report.html import render

    r = evaluate(
        str(samples / "binary_probs.csv"), str(samples / "binary_targets.csv"), per_sample=True
    )
    assert render(r) == render(r)
    bare = render(r.data)  # no arrays: each chart says why it is missing
    page = parse(bare)
    assert_self_contained(bare, page)
    assert page.figures and all(f["missing"] for f in page.figures.values())
    assert "not drawn" in bare


def test_losses_and_recommend_keep_their_html_view(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # they need no charts
    r = cli("recommend", "--task", "regression", "-o", tmp_path / "rec.html")
    assert r.exit_code == 0, r.stderr
    assert "<html" in (tmp_path / "rec.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- picture data


def test_worst_share_known_values():
    # contributions 7, 1, 1, 1 (total 10): the worst row carries 7/10, the worst two 8/10
    s = an.worst_share(np.array([1.0, 7.0, 1.0, 1.0]), None, "x")
    assert s is not None
    assert s.at(0.25) == pytest.approx(0.7)
    assert s.at(0.5) == pytest.approx(0.8)
    assert s.at(0.01) == pytest.approx(0.7)  # at least one row
    # weights multiply: w·l = 2, 7, 1, 0 (total 10)
    w = an.worst_share(np.array([1.0, 7.0, 1.0, 1.0]), np.array([2.0, 1.0, 1.0, 0.0]), "x")
    assert w is not None and w.at(0.25) == pytest.approx(0.7) and w.at(0.5) == pytest.approx(0.9)
    assert an.worst_share(np.array([1.0, -2.0]), None, "wgan") is None


def test_worst_share_matches_compare_sensitivity(samples):
    from losscli.api import evaluate
    from losscli.comparison import compare

    preds, targets = str(samples / "regression_preds.csv"), str(samples / "regression_targets.csv")
    sens = {s["loss"]: s for s in compare([preds], targets).data["sensitivity"]}
    shares = {s.loss: s for s in an.shares(evaluate(preds, targets, per_sample=True))}
    for loss in ("mse", "mae", "huber", "log_cosh"):
        assert shares[loss].at(0.01) == pytest.approx(sens[loss]["top_1pct_share"], rel=1e-12)
        assert shares[loss].at(0.05) == pytest.approx(sens[loss]["top_5pct_share"], rel=1e-12)


def test_error_curves_come_from_the_kernels():
    x = np.array([-3.0, -0.5, 0.0, 2.0])
    ys = an.error_curves(x, [("mse", {}), ("mae", {}), ("huber", {"delta": 1.0})])
    # hand: mse e², mae |e|, huber 0.5e² for |e| ≤ 1 else |e| − 0.5
    np.testing.assert_allclose(ys["mse"], [9.0, 0.25, 0.0, 4.0])
    np.testing.assert_allclose(ys["mae"], [3.0, 0.5, 0.0, 2.0])
    np.testing.assert_allclose(ys["huber (delta=1)"], [2.5, 0.125, 0.0, 1.5])


def test_pt_curves_bce_and_focal():
    pt = np.array([0.1, 0.5, 0.9])
    ys = an.pt_curves(pt, [("bce", {}), ("focal", {"alpha": 0.25, "gamma": 2.0})], multiclass=False)
    # hand: bce = −log p_t; focal at y = 1: 0.25·(1 − p_t)²·(−log p_t)
    np.testing.assert_allclose(ys["bce"], -np.log(pt), rtol=1e-12)
    np.testing.assert_allclose(
        ys["focal (alpha=0.25, gamma=2)"], 0.25 * (1 - pt) ** 2 * -np.log(pt), rtol=1e-12
    )
    mc = an.pt_curves(pt, [("cross_entropy", {})], multiclass=True)
    np.testing.assert_allclose(mc["cross_entropy"], -np.log(pt), rtol=1e-12)


def test_reliability_hand_computed():
    from types import SimpleNamespace

    # probabilities 0.05, 0.15, 0.15, 0.95 with labels 0, 1, 0, 1 (10 bins):
    # bin 0: pred 0.05, obs 0; bin 1: pred 0.15, obs 0.5; bin 9: pred 0.95, obs 1
    # ECE = (1·0.05 + 2·0.35 + 1·0.05) / 4 = 0.2
    ds = SimpleNamespace(
        task="binary",
        pred=np.array([0.05, 0.15, 0.15, 0.95]),
        target=np.array([0.0, 1.0, 0.0, 1.0]),
        context={"from_logits": False},
    )
    rel = an.reliability(ds)
    assert rel is not None
    assert rel.counts.tolist() == [1, 2, 0, 0, 0, 0, 0, 0, 0, 1]
    assert rel.observed[1] == pytest.approx(0.5)
    assert rel.ece == pytest.approx(0.2)


def test_merge_identical_and_group_marks():
    a = np.array([1.0, 2.0])
    merged = an.merge_identical({"huber": a, "mse": a * 2, "smooth_l1": a.copy()})
    assert list(merged) == ["huber = smooth_l1", "mse"]
    marks = an.group_marks([("q99", 266.5), ("max", 288.6), ("median", 8.1)], log=True)
    assert ("q99, max", 266.5) in marks and ("median", 8.1) in marks
