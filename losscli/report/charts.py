"""Charts of an evaluate or compare result as inline SVG (matplotlib).

matplotlib is the optional extra ``losscli[report]``; this module imports it only inside
the functions that draw, and :func:`require_matplotlib` turns its absence into a usage
error before any file is written. Every chart is drawn on a bare
:class:`matplotlib.figure.Figure` (no pyplot, no global backend), saved as SVG with text
kept as text, and cleaned for inlining in one HTML page: no XML prolog or DOCTYPE, no
xlink namespace, ids prefixed with the chart's id so several charts never clash.

The numbers come from :mod:`losscli.analysis`, which the terminal plots share.
"""

from __future__ import annotations

import contextlib
import functools
import io
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from losscli import analysis as an
from losscli.errors import UsageError
from losscli.report import fmt_number

#: What to run when matplotlib is missing.
INSTALL_HINT = 'pip install "losscli[report]"'

#: Okabe–Ito colours (distinguishable with colour-blindness); line styles and markers
#: repeat the distinction so no chart relies on colour alone.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
LINESTYLES: tuple[Any, ...] = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1)), (0, (1, 2)))
MARKERS = ("o", "s", "^", "D", "v", "P", "X")

#: Residuals further than this many robust standard deviations (1.4826·MAD) from the
#: median are left out of the zoomed residual histogram.
ROBUST_Z = an.ROBUST_Z  # re-exported: captions quote it
#: Up to this many images the per-image view draws one mark per image, not a histogram.
STRIP_MAX = 40

_RC: dict[str, Any] = {
    "svg.fonttype": "none",  # text stays text: selectable, searchable, small
    "svg.hashsalt": "losscli",  # deterministic ids
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.titleweight": "bold",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.dpi": 72,
    "axes.axisbelow": True,
    # Labels are plain text: a class or model name with "$" is not parsed as mathtext
    # (nor LaTeX), so it shows as written and cannot fail the page.
    "text.parse_math": False,
    "text.usetex": False,
}


@dataclass(frozen=True)
class Chart:
    """One figure of the report. ``svg`` is None when the chart cannot be drawn for this
    input; ``caption`` then says why."""

    id: str
    title: str
    caption: str
    svg: str | None


def require_matplotlib() -> None:
    """Raise a usage error (exit 2) naming the extra to install when matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError(
            f"an HTML report needs matplotlib, which is not installed: {INSTALL_HINT}",
            hint=f"run {INSTALL_HINT}, or write another format (.json .csv .md .txt)",
        ) from None


# --------------------------------------------------------------------------- plumbing


@contextlib.contextmanager
def _style() -> Iterator[None]:
    import matplotlib

    with matplotlib.rc_context(_RC):
        yield


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


_ID = re.compile(r'\bid="([^"]+)"')
_URL_REF = re.compile(r"url\(#([^)]+)\)")
_HREF = re.compile(r'\b(?:xlink:)?href="#([^"]+)"')


def to_svg(fig: Any, chart_id: str, label: str) -> str:
    """``fig`` as an ``<svg>`` element ready to inline in HTML."""
    buf = io.StringIO()
    fig.savefig(
        buf,
        format="svg",
        metadata={"Date": None, "Creator": None, "Format": None, "Type": None},
    )
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = text.replace(' xmlns:xlink="http://www.w3.org/1999/xlink"', "")
    # matplotlib's global rule (round joins) moves to the page's CSS; a <style> inside
    # inline SVG would apply to the whole page
    text = re.sub(r"<defs>\s*<style[^>]*>.*?</style>\s*</defs>", "", text, flags=re.S)
    text = _ID.sub(lambda m: f'id="{chart_id}-{m.group(1)}"', text)
    text = _URL_REF.sub(lambda m: f"url(#{chart_id}-{m.group(1)})", text)
    text = _HREF.sub(lambda m: f'href="#{chart_id}-{m.group(1)}"', text)
    text = re.sub(r'<svg width="[^"]*" height="[^"]*"', "<svg", text, count=1)
    safe = _attr(label)
    text = text.replace("<svg ", f'<svg role="img" aria-label="{safe}" ', 1)
    return text.strip() + "\n"


def _attr(s: str) -> str:
    import html

    return html.escape(s, quote=True)


def _draw(chart_id: str, title: str, caption: str, build: Any, *size: float) -> Chart:
    with _style():
        fig = _figure(*size)
        build(fig)
        svg = to_svg(fig, chart_id, f"{title}. {caption}")
    return Chart(chart_id, title, caption, svg)


def _missing(chart_id: str, title: str, why: str) -> Chart:
    return Chart(chart_id, title, why, None)


def _grid(n: int, cols: int) -> tuple[int, int]:
    cols = max(1, min(cols, n))
    return math.ceil(n / cols), cols


def _pct(x: float) -> str:
    return f"{x:.0%}" if x >= 0.01 or x == 0 else f"{x:.1%}"


# --------------------------------------------------------------------------- evaluate


#: Why a chart is not drawn.
NO_ROWS = "not drawn: the report holds no per-row values (evaluate with per_sample=True)"
NO_DATA = "not drawn: the report holds no input arrays"


class _Evaluate:
    """What the charts of one evaluate report are drawn from."""

    def __init__(self, report: Any, precision: int) -> None:
        self.report = report
        self.doc = report.data
        self.ds = getattr(report, "dataset", None)
        self.rows = getattr(report, "per_sample", None) or {}
        self.precision = precision

    @functools.cached_property
    def errors(self) -> np.ndarray | None:
        e = an.residuals(self.ds)
        return None if e is None or e.size == 0 else e

    def residuals(self) -> Chart:
        if self.errors is None:
            return _missing("chart-residuals", "Residuals", NO_DATA)
        return _residuals(self.errors, self.precision)

    def loss_curves(self) -> Chart:
        if self.errors is None:
            return _missing("chart-loss-curves", "Losses as functions of the error", NO_DATA)
        return _loss_curves(self.doc, self.errors, self.precision)

    def worst_share(self) -> Chart:
        if not self.rows:
            title = "Share of each loss carried by the worst rows"
            return _missing("chart-worst-share", title, NO_ROWS)
        return _worst_share(self.report)

    def reliability(self) -> Chart:
        if self.ds is None:
            return _missing("chart-reliability", "Reliability", NO_DATA)
        return _reliability(self.ds)

    def pt_hist(self) -> Chart:
        if self.ds is None:
            return _missing("chart-pt-hist", "p_t per class", NO_DATA)
        return _pt_hist(self.ds)

    def class_loss(self) -> Chart:
        if self.ds is None:
            return _missing("chart-class-loss", "Loss per class", NO_DATA)
        return _class_loss(self.report, self.precision)

    def image_overlap(self) -> Chart:
        scores = an.image_overlap(self.report) if self.rows else None
        if scores is None:
            return _missing("chart-image-overlap", "Overlap per image", NO_ROWS)
        return _image_overlap(scores, self.precision)

    def distances(self) -> Chart:
        dist = an.embedding_distances(self.report)
        if dist is None:
            return _missing("chart-distances", "Pair distances", NO_DATA)
        return _distances(dist, self.precision)

    def row_loss(self) -> Chart:
        if not self.rows:
            return _missing("chart-row-loss", "Per-row losses", NO_ROWS)
        return _row_loss(self.report)


#: The HTML drawing of each chart id of :func:`losscli.analysis.charts_for` (every id).
DRAWINGS: dict[str, Callable[[_Evaluate], Chart]] = {
    "residuals": _Evaluate.residuals,
    "loss-curves": _Evaluate.loss_curves,
    "worst-share": _Evaluate.worst_share,
    "reliability": _Evaluate.reliability,
    "pt-hist": _Evaluate.pt_hist,
    "class-loss": _Evaluate.class_loss,
    "image-overlap": _Evaluate.image_overlap,
    "distances": _Evaluate.distances,
    "row-loss": _Evaluate.row_loss,
}


def evaluate_charts(report: Any, precision: int = 4) -> list[Chart]:
    """The charts of an evaluate report, chosen by task (:func:`losscli.analysis.charts_for`)."""
    ctx = _Evaluate(report, precision)
    return [DRAWINGS[cid](ctx) for cid in an.charts_for(ctx.doc["task"]["name"]) if cid in DRAWINGS]


def _residuals(e: np.ndarray, precision: int) -> Chart:
    keep = an.robust_inliers(e)
    inside = e[keep if keep is not None else an.quantile_inliers(e)]
    outside = int(e.size - inside.size)
    qs = an.abs_quantiles(e)

    def build(fig: Any) -> None:
        ax1, ax2 = fig.subplots(1, 2)
        bins = np.histogram_bin_edges(e, bins=min(60, max(10, int(np.sqrt(e.size)))))
        ax1.hist(e, bins=bins, color=COLORS[0], edgecolor="white", linewidth=0.4)
        ax1.set_yscale("log")
        _count_axis(ax1, np.array([1.0, 1e6]))
        ax1.set_title(f"All {e.size} residuals (count on a log scale)")
        ax1.set_xlabel("residual e = prediction − target")
        ax1.set_ylabel("rows")
        ax1.axvline(0, color="#444444", linewidth=0.8)
        ax2.hist(inside, bins=30, color=COLORS[2], edgecolor="white", linewidth=0.4)
        _count_axis(ax2, np.array([1.0]))
        ax2.set_title(f"Without the {outside} rows beyond {ROBUST_Z:g} robust SDs")
        ax2.set_xlabel("residual e = prediction − target")
        ax2.axvline(0, color="#444444", linewidth=0.8)
        for ax in (ax1, ax2):
            for sign in (-1, 1):
                q = sign * qs[1][1]
                if ax.get_xlim()[0] <= q <= ax.get_xlim()[1]:
                    ax.axvline(q, color="#777777", linestyle=":", linewidth=1)
        ax2.text(
            0.99,
            0.97,
            f"dotted: ±90% |e| = {fmt_number(qs[1][1], 3)}",
            transform=ax2.transAxes,
            ha="right",
            va="top",
            fontsize=8,
        )

    caption = (
        f"Median |e| {fmt_number(qs[0][1], precision)}, 99th percentile "
        f"{fmt_number(qs[2][1], precision)}, largest {fmt_number(qs[3][1], precision)}. "
        f"The right panel leaves out the {outside} rows whose robust z-score "
        f"|e − median| / (1.4826·MAD) exceeds {ROBUST_Z:g}. A long tail on the left panel is what "
        "makes squared losses much larger than absolute ones."
    )
    return _draw("chart-residuals", "Residuals", caption, build, 9.5, 3.6)


def _loss_curves(doc: dict[str, Any], e: np.ndarray, precision: int) -> Chart:
    losses = an.regression_error_losses(doc)
    far = an.regression_error_curves(doc, e)
    scale = an.error_scale(losses)
    x = np.linspace(-3 * scale, 3 * scale, 301)
    near = an.merge_identical(an.error_curves(x, losses))
    far_ys = an.merge_identical(far.ys)
    marks = an.group_marks(far.marks, log=True)

    def build(fig: Any) -> None:
        ax1, ax2 = fig.subplots(1, 2)
        for i, (name, y) in enumerate(near.items()):
            ax1.plot(x, y, color=COLORS[i % 7], linestyle=LINESTYLES[i % 7], label=name)
        ax1.set_ylim(0, float(max(np.max(y) for k, y in near.items() if k != "mse")) * 1.6)
        ax1.set_xlim(float(x[0]), float(x[-1]))
        ax1.set_title("Near zero (linear scales)")
        ax1.set_xlabel("error e")
        ax1.set_ylabel("loss of one row")
        ax1.legend(loc="upper center")
        for i, (name, y) in enumerate(far_ys.items()):
            ax2.plot(far.x, y, color=COLORS[i % 7], linestyle=LINESTYLES[i % 7], label=name)
        ax2.set_xscale("log")
        ax2.set_yscale("log")
        lo = max(float(min(np.min(y[y > 0]) for y in far_ys.values() if np.any(y > 0))), 1e-12)
        ax2.set_ylim(bottom=lo)
        top = ax2.get_ylim()[1]
        for j, (name, q) in enumerate(marks):
            ax2.axvline(q, color="#666666", linestyle=":", linewidth=1)
            ax2.text(
                q,
                top,
                f" {name}",
                rotation=90,
                va="top",
                ha="right" if j % 2 else "left",
                fontsize=8,
                color="#333333",
            )
        ax2.set_title("At the data's scale (log–log), with its |e| quantiles")
        ax2.set_xlabel("|error| (log scale)")

    at_max = far.at(far.marks[-1][1]) if far.marks else {}
    parts = ", ".join(f"{k.split(' (')[0]} {fmt_number(v, 3)}" for k, v in at_max.items())
    caption = (
        "Each loss as a function of one row's error, computed by the same kernels as the "
        "table. Left: the shape near zero (huber is quadratic inside delta, linear outside). "
        "Right: log–log, where a squared loss has slope 2 and an absolute loss slope 1; the "
        "dotted lines are the data's median, 90%, 99% and largest |e|"
        + (f" — at the largest error: {parts}." if parts else ".")
    )
    return _draw("chart-loss-curves", "Losses as functions of the error", caption, build, 9.5, 4)


def _worst_share(report: Any) -> Chart:
    ss = an.shares(report)
    title = "Share of each loss carried by the worst rows"
    if not ss:
        return _missing("chart-worst-share", title, "not drawn: no loss has non-negative rows")

    curves = _share_curves(ss)

    def build(fig: Any) -> None:
        ax = fig.subplots()
        n = ss[0].n
        f = np.geomspace(1.0 / n, 1.0, 200)
        ax.plot(f, f, color="#999999", linewidth=1, label="every row weighs the same")
        for i, (name, (fx, sy, top1)) in enumerate(curves.items()):
            ax.plot(
                fx,
                sy,
                color=COLORS[i % 7],
                linestyle=LINESTYLES[i % 7],
                linewidth=1.6,
                label=f"{name}: worst 1% carry {_pct(top1)}",
            )
        ax.set_xscale("log")
        ax.set_xlim(1.0 / n, 1.0)
        ax.set_ylim(0, 1.02)
        for p in (0.01, 0.05):
            if p >= 1.0 / n:
                ax.axvline(p, color="#666666", linestyle=":", linewidth=1)
        ax.xaxis.set_major_formatter(_percent_formatter())
        ax.yaxis.set_major_formatter(_percent_formatter())
        ax.set_xlabel("worst rows, as a share of all rows (log scale)")
        ax.set_ylabel("share of the loss they carry")
        ax.legend(loc="lower right")

    caption = (
        an.share_sentence(ss)
        + " A curve far above the grey line means a few rows decide the loss (outlier "
        "sensitivity); the dotted lines mark the worst 1% and 5%."
    )
    return _draw("chart-worst-share", title, caption, build, 9.5, 4.6)


def _share_curves(ss: Sequence[an.Share]) -> dict[str, tuple[np.ndarray, np.ndarray, float]]:
    """At most seven distinct share curves (coinciding ones merged), regression's four
    error losses first."""
    order = sorted(
        ss, key=lambda s: an.ERROR_LOSSES.index(s.loss) if s.loss in an.ERROR_LOSSES else 99
    )
    full = an.merge_identical({s.loss: s.cumulative for s in order})
    out = {}
    for name, cum in list(full.items())[: len(COLORS)]:
        share = an.Share(name, cum)
        fx, sy = share.curve()
        out[name] = (fx, sy, share.at(0.01))
    return out


def _count_axis(ax: Any, values: np.ndarray, axis: str = "y") -> None:
    """Counts on a log scale when they span more than 20×, else linear; integer ticks,
    plain numbers (no 10^x) either way."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator, NullFormatter

    target = ax.yaxis if axis == "y" else ax.xaxis
    pos = values[values > 0]
    if pos.size and pos.max() > 20 * pos.min():
        (ax.set_yscale if axis == "y" else ax.set_xscale)("log")
        target.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
        target.set_minor_formatter(NullFormatter())
        (ax.set_ylim if axis == "y" else ax.set_xlim)(0.7, None)
    else:
        target.set_major_locator(MaxNLocator(integer=True))


def _percent_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _pos: f"{v * 100:g}%")


def _reliability(ds: Any) -> Chart:
    rel = an.reliability(ds)
    title = "Reliability (calibration) diagram"
    if rel is None:
        return _missing("chart-reliability", title, "not drawn: no targets")

    def build(fig: Any) -> None:
        ax, axc = fig.subplots(1, 2, width_ratios=(1.25, 1))
        ax.plot([0, 1], [0, 1], color="#999999", linewidth=1, label="perfectly calibrated")
        ok = rel.counts > 0
        ax.plot(rel.predicted[ok], rel.observed[ok], color=COLORS[0], marker="o", label=rel.what)
        for px, oy, c in zip(rel.predicted[ok], rel.observed[ok], rel.counts[ok]):
            ax.annotate(f"n={c}", (px, oy), textcoords="offset points", xytext=(5, -12), fontsize=8)
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.03, 1.05)
        ax.set_aspect("equal")
        ax.set_xlabel("mean predicted probability")
        ax.set_ylabel(rel.what)
        ax.set_title(f"ECE {rel.ece:.3f} over {rel.n} predictions")
        ax.legend(loc="upper left")
        width = rel.edges[1] - rel.edges[0]
        axc.bar(
            rel.edges[:-1],
            rel.counts,
            width=width,
            align="edge",
            color=COLORS[2],
            edgecolor="white",
        )
        _count_axis(axc, rel.counts)
        axc.set_xlim(0, 1)
        axc.set_title("Predictions per bin")
        axc.set_ylabel("count")
        axc.set_xlabel("predicted probability (bin)")

    caption = (
        f"Predictions grouped in {len(rel.counts)} probability bins: each point is a bin's "
        f"mean predicted probability against its {rel.what}, labelled with its count (also "
        "on the right). Points below the diagonal are overconfident, above it "
        "underconfident; ECE is the count-weighted mean gap. Log-losses (bce, "
        "cross_entropy) punish confident mistakes most."
    )
    return _draw("chart-reliability", title, caption, build, 9.5, 4.6)


def _pt_hist(ds: Any) -> Chart:
    pts = an.true_class_probability(ds)
    title = "p_t (probability of the true class) per class"
    if not pts:
        return _missing("chart-pt-hist", title, "not drawn: no targets")
    shown = list(pts.items())[:12]

    def build(fig: Any) -> None:
        rows, cols = _grid(len(shown), 4)
        axes = np.atleast_1d(fig.subplots(rows, cols, sharex=True, squeeze=False)).ravel()
        bins = np.linspace(0, 1, 21)
        for i, (name, v) in enumerate(shown):
            ax = axes[i]
            counts, _, _ = ax.hist(
                v, bins=bins, color=COLORS[i % 7], edgecolor="white", linewidth=0.4
            )
            _count_axis(ax, np.asarray(counts))
            ax.axvline(0.5, color="#666666", linestyle=":", linewidth=1)
            low = an.share_below(v, 0.5)
            ax.set_title(f"{name} (n={v.size})", fontsize=10)
            ax.text(
                0.02,
                0.97,
                f"{_pct(low)} below 0.5",
                transform=ax.transAxes,
                va="top",
                fontsize=8,
            )
            ax.set_xlim(0, 1)
            ax.set_xlabel("p_t")
        for ax in axes[len(shown) :]:
            ax.set_visible(False)
        axes[0].set_ylabel("count")

    more = f" The first 12 of {len(pts)} classes are shown." if len(pts) > 12 else ""
    caption = (
        "How much probability the model gives the true class, per class. Mass near 1 is "
        "easy examples (focal loss down-weights them); mass below 0.5 (dotted line) is "
        "mistakes, which log-losses punish most." + more
    )
    rows, _ = _grid(len(shown), 4)
    return _draw("chart-pt-hist", title, caption, build, 9.5, 2.4 * rows + 0.4)


def _class_loss(report: Any, precision: int) -> Chart:
    per = an.class_losses(report)
    counts = an.class_counts(report.dataset)
    title = "Mean loss per class"
    if not per:
        return _missing("chart-class-loss", title, "not drawn: no per-row or per-class values")
    items = list(per.items())[:8]
    ncls = max(len(v) for _, v in items)

    def build(fig: Any) -> None:
        rows, cols = _grid(len(items), 3)
        axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
        for i, (loss, vals) in enumerate(items):
            ax = axes[i]
            names = list(vals)
            v = np.array([vals[n] for n in names], dtype=np.float64)
            y = np.arange(len(names))
            ax.barh(y, np.nan_to_num(v), color=COLORS[i % 7])
            ax.set_yticks(y, [f"{n} ({counts.get(n, '?')})" for n in names], fontsize=8)
            ax.invert_yaxis()
            ax.set_title(loss, fontsize=10)
            ax.grid(axis="y", visible=False)
            vmax = float(np.nanmax(v)) if np.isfinite(v).any() else 1.0
            for yy, vv in zip(y, v):
                ax.text(
                    (vv if np.isfinite(vv) else 0) + vmax * 0.02,
                    yy,
                    fmt_number(float(vv), precision),
                    va="center",
                    fontsize=8,
                )
            ax.set_xlim(0, vmax * 1.35 if vmax > 0 else 1)
        for ax in axes[len(items) :]:
            ax.set_visible(False)

    what = (
        "label column (positives per label in brackets; the report's per-class values)"
        if report.data["task"]["name"] == "multilabel"
        else "true class (rows per class in brackets)"
    )
    caption = (
        f"Each loss averaged per {what}. A class far above the others is where the loss "
        "comes from; with imbalanced classes a small class can carry most of it."
    )
    rows, _ = _grid(len(items), 3)
    return _draw("chart-class-loss", title, caption, build, 9.5, rows * (0.45 * ncls + 1.0) + 0.3)


def _image_overlap(scores: an.ImageScores, precision: int) -> Chart:
    n = len(scores.names)
    k = min(12, n)
    first = scores.losses[0]

    def build(fig: Any) -> None:
        ax1, ax2 = fig.subplots(1, 2, width_ratios=(1, 1.2))
        if n <= STRIP_MAX:
            for i, loss in enumerate(scores.losses):
                v = scores.values[loss]
                ax1.scatter(
                    v, np.full(v.size, i), marker=MARKERS[i], s=40, color=COLORS[i], alpha=0.75
                )
            ax1.set_yticks(range(len(scores.losses)), scores.losses)
            ax1.set_ylim(len(scores.losses) - 0.5, -0.5)
            ax1.grid(axis="y", visible=False)
            ax1.set_title(f"Per-image loss, {n} images (one mark per image)")
        else:
            bins = np.linspace(0, 1, 21)
            for i, loss in enumerate(scores.losses):
                ax1.hist(
                    scores.values[loss],
                    bins=bins,
                    histtype="step",
                    linewidth=1.8,
                    linestyle=LINESTYLES[i],
                    color=COLORS[i],
                    label=loss,
                )
            _count_axis(ax1, np.array([1.0]))
            ax1.set_ylabel("images")
            ax1.legend()
            ax1.set_title(f"Per-image loss, {n} images")
        ax1.set_xlim(0, 1)
        ax1.set_xlabel("loss of one image (0 = perfect overlap)")
        y = np.arange(k)
        h = 0.8 / len(scores.losses)
        for i, loss in enumerate(scores.losses):
            v = scores.values[loss][:k]
            ax2.barh(
                y + i * h - 0.4 + h / 2,
                v,
                height=h,
                color=COLORS[i],
                hatch="//" if i else None,
                edgecolor="white",
                label=loss,
            )
            for yy, vv in zip(y, v):
                ax2.text(
                    vv + 0.01,
                    yy + i * h - 0.4 + h / 2,
                    fmt_number(float(vv), 3),
                    va="center",
                    fontsize=7,
                )
        ax2.set_yticks(y, scores.names[:k], fontsize=8)
        ax2.invert_yaxis()
        ax2.set_xlim(0, 1.15)
        ax2.grid(axis="y", visible=False)
        ax2.set_title(f"Worst {k} images by {first}")
        ax2.set_xlabel("loss")
        ax2.legend(loc="lower right")

    worst = ", ".join(
        f"{nm} ({fmt_number(float(scores.values[first][i]), precision)})"
        for i, nm in enumerate(scores.names[:3])
    )
    caption = (
        f"{' and '.join(scores.losses)} per image (the per-image values the mean is made of). "
        f"Worst by {first}: {worst}. An image near 1 has almost no overlap with its mask; "
        "an empty mask with an empty prediction scores 0."
    )
    return _draw(
        "chart-image-overlap", "Overlap per image", caption, build, 9.5, max(3.4, 0.35 * k + 1.4)
    )


def _distances(dist: an.Distances, precision: int) -> Chart:
    def build(fig: Any) -> None:
        ax = fig.subplots()
        allv = np.concatenate([dist.positive, dist.negative])
        top = float(allv.max()) if allv.size else 1.0
        if dist.margin is not None:
            top = max(top, dist.margin * 1.1)
        bins = np.linspace(0, top if top > 0 else 1.0, 41)
        for i, (v, what) in enumerate(
            ((dist.positive, "similar pairs (same label)"), (dist.negative, "dissimilar pairs"))
        ):
            if v.size == 0:
                continue
            w = np.full(v.size, 1.0 / v.size)
            ax.hist(
                v,
                bins=bins,
                weights=w,
                histtype="stepfilled" if i == 0 else "step",
                alpha=0.45 if i == 0 else 1.0,
                hatch=None if i == 0 else "",
                linewidth=2,
                color=COLORS[i],
                label=f"{what}: {v.size}",
            )
        if dist.margin is not None:
            ax.axvline(dist.margin, color="#000000", linestyle="--", linewidth=1.2)
            ax.text(
                dist.margin,
                ax.get_ylim()[1] * 0.5,
                f"{dist.margin_loss} margin m = {dist.margin:g} ",
                rotation=90,
                va="center",
                ha="right",
                fontsize=9,
            )
        ax.yaxis.set_major_formatter(_percent_formatter())
        ax.set_xlabel("Euclidean distance")
        ax.set_ylabel("share of the pairs of its kind")
        ax.set_title("Distances of similar and dissimilar pairs")
        ax.legend(loc="upper right")

    parts = []
    inside = an.inside_margin(dist)
    if inside is not None:
        parts.append(
            f"{_pct(inside)} of dissimilar pairs are closer than the margin "
            f"m = {dist.margin:g}: those carry {dist.margin_loss} loss."
        )
    medians = an.median_distances(dist)
    if medians is not None:
        parts.append(
            f"Median distance: similar {fmt_number(medians[0], precision)}, "
            f"dissimilar {fmt_number(medians[1], precision)}."
        )
    if dist.sampled:
        parts.append(f"Pairs among {dist.sampled} rows drawn at random (seed 0).")
    caption = (
        "Each histogram is normalised within its kind (there are many more dissimilar "
        "pairs). Well-separated embeddings put the similar pairs left of the margin and the "
        "dissimilar ones right of it. " + " ".join(parts)
    )
    return _draw("chart-distances", "Pair distances", caption, build, 9, 4.2)


def _row_loss(report: Any) -> Chart:
    rows = an.row_losses(report)
    title = "Per-row losses"
    items = [(k, v) for k, v in rows.items() if v.size][:8]
    if not items:
        return _missing("chart-row-loss", title, "not drawn: no per-row values")

    def build(fig: Any) -> None:
        r, c = _grid(len(items), 4)
        axes = np.atleast_1d(fig.subplots(r, c, squeeze=False)).ravel()
        for i, (name, v) in enumerate(items):
            ax = axes[i]
            counts, _, _ = ax.hist(
                v, bins=30, color=COLORS[i % 7], edgecolor="white", linewidth=0.3
            )
            ax.set_title(name, fontsize=10)
            _count_axis(ax, np.asarray(counts))
        for ax in axes[len(items) :]:
            ax.set_visible(False)
        axes[0].set_ylabel("rows")

    caption = (
        "The distribution of each loss over rows: the reported value is their (weighted) "
        "mean, so a long right tail means a few rows drive it."
    )
    r, _ = _grid(len(items), 4)
    return _draw("chart-row-loss", title, caption, build, 9.5, 2.3 * r + 0.4)


# --------------------------------------------------------------------------- compare


def compare_charts(report: Any, precision: int = 4) -> list[Chart]:
    """The models × losses chart, and for one model the worst-rows shares."""
    doc = report.data if hasattr(report, "data") else report
    out = [_models_losses(doc, precision)]
    if doc.get("sensitivity"):
        out.append(_sensitivity(doc["sensitivity"]))
    return out


def _models_losses(doc: dict[str, Any], precision: int) -> Chart:
    models: list[str] = list(doc["models"])
    entries = [e for e in doc["losses"] if any(v is not None for v in e["values"].values())]
    title = "Models × losses"
    if not entries:
        return _missing("chart-compare", title, "not drawn: no loss has a value")
    has_ci = any(e.get("ci") for e in entries)
    style = {
        m: (COLORS[i % 7], ("", "//", "..", "xx", "\\\\", "--", "++")[i % 7])
        for i, m in enumerate(models)
    }

    def build(fig: Any) -> None:
        from matplotlib.patches import Patch

        r, c = _grid(len(entries), 3)
        axes = np.atleast_1d(fig.subplots(r, c, squeeze=False)).ravel()
        for i, e in enumerate(entries):
            ax = axes[i]
            vals = np.array(
                [np.nan if e["values"][m] is None else e["values"][m] for m in models], float
            )
            ci = e.get("ci") or {}
            lows = np.array(
                [ci[m][0] if m in ci and ci[m][0] is not None else v for m, v in zip(models, vals)],
                float,
            )
            highs = np.array(
                [ci[m][1] if m in ci and ci[m][1] is not None else v for m, v in zip(models, vals)],
                float,
            )
            for j, m in enumerate(models):
                color, hatch = style[m]
                ax.barh(j, np.nan_to_num(vals[j]), color=color, hatch=hatch, edgecolor="white")
                if m in ci and ci[m][0] is not None:
                    ax.errorbar(
                        vals[j],
                        j,
                        xerr=[[max(vals[j] - lows[j], 0)], [max(highs[j] - vals[j], 0)]],
                        color="#000000",
                        capsize=3,
                        linewidth=1,
                    )
            finite = np.concatenate([lows[np.isfinite(lows)], highs[np.isfinite(highs)], [0.0]])
            lo, hi = float(finite.min()), float(finite.max())
            span = (hi - lo) or 1.0
            ax.set_xlim(lo - 0.05 * span if lo < 0 else 0, hi + 0.55 * span)
            for j, m in enumerate(models):
                if not np.isfinite(vals[j]):
                    ax.text(0, j, " no value", va="center", fontsize=8)
                    continue
                best = " ★ best" if m == e.get("best") and len(models) > 1 else ""
                ax.text(
                    max(highs[j], vals[j], 0) + 0.03 * span,
                    j,
                    fmt_number(float(vals[j]), min(precision, 4)) + best,
                    va="center",
                    fontsize=8,
                    fontweight="bold" if best else "normal",
                )
            ax.set_yticks([])
            ax.invert_yaxis()
            ax.grid(axis="y", visible=False)
            ax.axvline(0, color="#444444", linewidth=0.8)
            ax.set_title(e["name"], fontsize=10)
        for ax in axes[len(entries) :]:
            ax.set_visible(False)
        handles = [
            Patch(facecolor=style[m][0], hatch=style[m][1], edgecolor="white", label=m)
            for m in models
        ]
        fig.legend(
            handles=handles,
            loc="outside upper center",
            ncols=min(len(models), 4),
            title="models, top to bottom in each panel",
        )

    ci_text = (
        " Whiskers are 95% paired-bootstrap intervals"
        f" ({doc.get('bootstrap', {}).get('replicates', '?')} replicates)."
        if has_ci
        else " Run with --bootstrap N to add 95% intervals."
    )
    caption = (
        "One panel per loss, each on its own scale (lower is better); ★ marks the best "
        "model under that loss. Models are in the same order in every panel." + ci_text
    )
    r, _ = _grid(len(entries), 3)
    h = r * (0.32 * len(models) + 0.9) + 1.0
    return _draw("chart-compare", title, caption, build, 9.5, h)


def _sensitivity(sens: Sequence[dict[str, Any]]) -> Chart:
    items = [s for s in sens if s.get("top_1pct_share") is not None]
    title = "Outlier sensitivity of each loss"
    if not items:
        return _missing("chart-sensitivity", title, "not drawn: no loss has per-row terms")

    def build(fig: Any) -> None:
        ax = fig.subplots()
        y = np.arange(len(items))
        one = [s["top_1pct_share"] for s in items]
        five = [s.get("top_5pct_share") or 0.0 for s in items]
        ax.barh(y - 0.2, one, height=0.4, color=COLORS[1], label="worst 1% of rows")
        ax.barh(y + 0.2, five, height=0.4, color=COLORS[0], hatch="//", label="worst 5% of rows")
        for yy, a, b in zip(y, one, five):
            ax.text(a + 0.01, yy - 0.2, _pct(a), va="center", fontsize=8)
            ax.text(b + 0.01, yy + 0.2, _pct(b), va="center", fontsize=8)
        ax.set_yticks(y, [s["loss"] for s in items])
        ax.invert_yaxis()
        ax.set_xlim(0, 1.1)
        ax.axvline(0.01, color="#666666", linestyle=":", linewidth=1)
        ax.axvline(0.05, color="#666666", linestyle=":", linewidth=1)
        ax.xaxis.set_major_formatter(_percent_formatter())
        ax.set_xlabel("share of the loss")
        ax.grid(axis="y", visible=False)
        ax.legend(loc="lower right")

    caption = (
        "How much of each loss the worst 1% and 5% of rows carry. If every row weighed the "
        "same they would carry 1% and 5% (dotted lines); a loss far above them is decided "
        "by a few rows."
    )
    return _draw("chart-sensitivity", title, caption, build, 8, 0.45 * len(items) + 1.5)
