"""``--plot``: the most telling chart of a result, drawn with text in the terminal.

Bars are Unicode block characters and every number is printed beside its bar, so the
charts read the same at 80 columns, with ``NO_COLOR``, in a CI log or pasted in an
issue: nothing depends on colour. The numbers come from
:mod:`losscli.analysis`, which the HTML charts share; loss curves are evaluated
by the registered kernels.

What is drawn:

* evaluate, regression: residual histogram and the share of each loss carried by the
  worst rows; binary / multiclass / multilabel: reliability table and the mean loss per
  class; segmentation: per-image overlap losses, worst first; embedding: distances of
  similar and dissimilar pairs with the margin; other tasks: the per-row distribution
  of the first loss and the worst-row shares.
* compare: each loss as bars per model (with bootstrap intervals); one model: the
  share of each loss carried by the worst 1% and 5% of rows.
* recommend: the candidate losses as functions of the error, of p_t or of a distance.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from losscli import analysis as an
from losscli.report import fmt_number

#: Eighths of a character cell, for bars with sub-cell resolution.
_EIGHTHS = " ▏▎▍▌▋▊▉"
#: Curve markers of the text line chart, in legend order.
MARKERS = "*o+x#%@&"
#: Widest chart drawn, whatever the terminal width.
MAX_WIDTH = 100
#: Rows of the text line chart.
CHART_ROWS = 15


def _width(console: Any) -> int:
    return max(60, min(int(console.width), MAX_WIDTH))


def bar(fraction: float, width: int) -> str:
    """A left-aligned bar of ``fraction`` × ``width`` cells (eighth-cell resolution)."""
    if not math.isfinite(fraction) or fraction <= 0 or width <= 0:
        return ""
    cells = min(fraction, 1.0) * width
    full = int(cells)
    part = round((cells - full) * 8)
    if part == 8:
        full, part = full + 1, 0
    return "█" * full + (_EIGHTHS[part] if part else "")


def rbar(fraction: float, width: int) -> str:
    """A right-aligned bar (for mirrored charts): full cells and a right half cell."""
    if not math.isfinite(fraction) or fraction <= 0 or width <= 0:
        return " " * max(width, 0)
    cells = min(fraction, 1.0) * width
    full = int(cells)
    half = "▐" if cells - full >= 0.5 else ""
    if not full and not half:
        half = "▕"
    return f"{half}{'█' * full}".rjust(width)


def _emit(console: Any, lines: Sequence[str], title: str | None = None) -> None:
    """Print ``title`` (bold) and ``lines``; a line wider than the chart width (prose)
    is wrapped here, so nothing is cut or wrapped mid-bar by the terminal."""
    from rich.text import Text

    from losscli.report.terminal import terminal_text

    title = terminal_text(title) if title else title  # class and model names: shown,
    lines = [terminal_text(line) for line in lines]  # never obeyed by the terminal
    width = _width(console)
    if title:
        for part in _wrap(title, width):
            console.print(Text(part, style="bold"), no_wrap=True, crop=True)
    for line in lines:
        for part in [line] if len(line) <= width else _wrap(line, width):
            console.print(Text(part.rstrip()), no_wrap=True, crop=True, highlight=False)
    console.print()


def _pct(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "—"
    return f"{x:.0%}" if x >= 0.01 or x == 0 else f"{x:.1%}"


# --------------------------------------------------------------------------- building blocks


def histogram_lines(values: np.ndarray, width: int, bins: int = 10) -> list[str]:
    """Horizontal histogram: one line per bin, ``low … high  bar  count``."""
    if not np.isfinite(values).any():
        return ["(no finite values)"]
    edges, counts = an.histogram(values, bins)
    labels = [f"{fmt_number(a, 3)} … {fmt_number(b, 3)}" for a, b in itertools.pairwise(edges)]
    lw = max(len(s) for s in labels)
    cw = max(len(str(int(c))) for c in counts)
    bw = max(10, width - lw - cw - 4)
    top = max(int(counts.max()), 1)
    return [
        f"{lab:>{lw}} │{bar(c / top, bw):<{bw}} {int(c):>{cw}}" for lab, c in zip(labels, counts)
    ]


def bar_rows(rows: Sequence[tuple[str, float, str]], width: int) -> list[str]:
    """``label  bar  text`` lines; bars scale to the largest value (negatives draw empty)."""
    if not rows:
        return []
    lw = min(max(len(r[0]) for r in rows), 28)
    tw = max(len(r[2]) for r in rows)
    bw = max(10, width - lw - tw - 3)
    finite = [r[1] for r in rows if math.isfinite(r[1])]
    top = max([x for x in finite if x > 0], default=1.0)
    out = []
    for name, value, text in rows:
        name = name if len(name) <= lw else name[: lw - 1] + "…"
        frac = value / top if math.isfinite(value) else 0.0
        out.append(f"{name:<{lw}} {bar(frac, bw):<{bw}} {text}")
    return out


def share_lines(shares: Sequence[an.Share], width: int) -> list[str]:
    """Share of each loss carried by the worst 1/5/10/25% of rows, bar at 1%."""
    if not shares:
        return []
    merged = an.merge_identical({s.loss: s.cumulative for s in shares})
    items = [an.Share(name, cum) for name, cum in merged.items()]
    lw = min(max(len(s.loss) for s in items), 24)
    cols = "".join(f"{f'{p:.0%}':>6}" for p in an.SHARE_POINTS)
    bw = max(10, width - lw - len(cols) - 3)
    head = f"{'loss':<{lw}} {'worst 1% of rows carry':<{bw}} {cols}"
    out = [head]
    for s in items:
        name = s.loss if len(s.loss) <= lw else s.loss[: lw - 1] + "…"
        vals = "".join(f"{_pct(s.at(p)):>6}" for p in an.SHARE_POINTS)
        out.append(f"{name:<{lw}} {bar(s.at(0.01), bw):<{bw}} {vals}")
    out.append(
        "(if every row weighed the same, the worst 1% would carry 1%; "
        "columns: worst 1/5/10/25% of rows)"
    )
    return out


def _y_range(curves: an.Curves) -> tuple[float, float]:
    """(ymin, ymax) of a line chart: up to twice the second-highest curve's top when the
    highest dwarfs the others (mse next to mae), from 0 or the lowest value."""
    ordered = sorted((float(np.nanmax(y)) for y in curves.ys.values()), reverse=True)
    ymax = ordered[0]
    if len(ordered) > 1 and ordered[0] > 3 * ordered[1] > 0:
        ymax = 2 * ordered[1]
    ymin = min(0.0, min(float(np.nanmin(y)) for y in curves.ys.values()))
    return ymin, (ymax if ymax > ymin else ymin + 1.0)


class _Grid:
    """A character grid of ``rows`` × ``cols`` cells over the x range [x0, x1] and the
    y range [ymin, ymax]."""

    def __init__(self, rows: int, cols: int, xs: tuple[float, float], ys: tuple[float, float]):
        self.rows, self.cols = rows, cols
        self.x0, self.x1 = xs
        self.ymin, self.ymax = ys
        self.cells = [[" "] * cols for _ in range(rows)]

    def col_of(self, xv: float) -> int:
        return min(
            self.cols - 1, max(0, round((xv - self.x0) / (self.x1 - self.x0) * (self.cols - 1)))
        )

    def row_of(self, yv: float) -> int:
        return self.rows - 1 - round((yv - self.ymin) / (self.ymax - self.ymin) * (self.rows - 1))

    def vline(self, xv: float) -> None:
        """A vertical mark ``┊`` at ``xv``."""
        c = self.col_of(xv)
        for r in range(self.rows):
            self.cells[r][c] = "┊"

    def curve(self, x: np.ndarray, y: np.ndarray, marker: str) -> bool:
        """Draw a curve; True when it was cut at the top."""
        ys = np.interp(np.linspace(self.x0, self.x1, self.cols), x, y)
        cut = False
        for c, yv in enumerate(ys):
            if not math.isfinite(yv):
                continue
            if yv > self.ymax:
                cut = True
                continue
            self.cells[self.row_of(yv)][c] = marker
        return cut


def _plot_lines(grid: _Grid, ylab: Sequence[str], yw: int) -> list[str]:
    """The grid's rows with the y labels at the top, middle and bottom."""
    at = {0: ylab[0], grid.rows // 2: ylab[1], grid.rows - 1: ylab[2]}
    out = []
    for r, row in enumerate(grid.cells):
        lab = at.get(r, "")
        out.append(f"{lab:>{yw}} ┤{''.join(row)}" if lab else f"{'':>{yw}} │{''.join(row)}")
    return out


def _x_axis(grid: _Grid, yw: int, xlabel: str) -> list[str]:
    """The x axis line, its three labels (left, middle, right) and its title."""
    pw = grid.cols
    left, mid, right = (fmt_number(v, 3) for v in (grid.x0, (grid.x0 + grid.x1) / 2, grid.x1))
    axis = [" "] * pw
    for text, c in ((left, 0), (mid, pw // 2 - len(mid) // 2), (right, pw - len(right))):
        for i, ch in enumerate(text):
            if 0 <= c + i < pw:
                axis[c + i] = ch
    return [
        f"{'':>{yw}} └{'─' * pw}",
        f"{'':>{yw}}  {''.join(axis)}",
        f"{'':>{yw}}  {xlabel:^{pw}}".rstrip(),
    ]


def line_chart(curves: an.Curves, width: int, rows: int = CHART_ROWS) -> list[str]:
    """Curves on a character grid, one marker per curve, vertical marks as ``┊``.

    A curve that leaves the top of the chart is cut there (its legend entry says so);
    the y range is set by the other curves when one dwarfs them (mse next to mae)."""
    ymin, ymax = _y_range(curves)
    ylab = [fmt_number(ymax, 3), fmt_number((ymax + ymin) / 2, 3), fmt_number(ymin, 3)]
    yw = max(len(s) for s in ylab)
    grid = _Grid(
        rows, max(20, width - yw - 2), (float(curves.x[0]), float(curves.x[-1])), (ymin, ymax)
    )
    for _name, xv in curves.marks:
        if grid.x0 <= xv <= grid.x1:
            grid.vline(xv)
            if curves.key == "error" and grid.x0 < -xv < grid.x1:
                grid.vline(-xv)  # |e| marks on both sides of 0
    legend = []
    for j, name in enumerate(curves.ys):
        marker = MARKERS[j % len(MARKERS)]
        cut = grid.curve(curves.x, curves.ys[name], marker)
        legend.append(f"{marker} {name}" + (" (cut at the top)" if cut else ""))
    if curves.marks:
        legend.append("┊ " + ", ".join(n for n, _ in curves.marks))
    return [
        *_plot_lines(grid, ylab, yw),
        *_x_axis(grid, yw, curves.xlabel),
        *_wrap_items(legend, width),
    ]


def _wrap_items(items: Sequence[str], width: int, sep: str = "   ") -> list[str]:
    lines: list[str] = []
    cur = ""
    for it in items:
        cand = it if not cur else cur + sep + it
        if len(cand) > width and cur:
            lines.append(cur)
            cur = it
        else:
            cur = cand
    if cur:
        lines.append(cur)
    return lines


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width) or [""]


def value_table(curves: an.Curves, width: int) -> list[str]:
    """The curves' values at a few telling points (``curves.probe``), from the kernels."""
    if not curves.probe:
        return []
    xname = {"error": "e", "pt": "p_t", "distance": "d"}.get(curves.key, "x")
    heads = [f"{xname}={fmt_number(p, 3)}" for p in curves.probe]
    names = list(curves.ys)
    lw = min(max(len(n) for n in names) + 2, max(12, width - 10 * len(heads)))
    out = [f"{'':<{lw}}" + "".join(f"{h:>10}" for h in heads)]
    vals = [curves.at(p) for p in curves.probe]
    for j, n in enumerate(names):
        shown = f"{MARKERS[j % len(MARKERS)]} {n}"
        shown = shown if len(shown) <= lw else shown[: lw - 1] + "…"
        out.append(f"{shown:<{lw}}" + "".join(f"{fmt_number(v[n], 4):>10}" for v in vals))
    return out


# --------------------------------------------------------------------------- evaluate


def plot_result(report: Any, console: Any) -> None:
    """The terminal chart of an evaluate or compare result."""
    doc = report.data
    console.print()
    if doc.get("command") == "compare":
        _compare(doc, console)
        return
    width = _width(console)
    for cid in an.charts_for(doc["task"]["name"]):
        draw = DRAWINGS.get(cid)
        if draw is not None:  # loss curves and p_t histograms are drawn in HTML only
            draw(report, console, width)


def _residuals_plot(report: Any, console: Any, width: int) -> None:
    e = an.residuals(report.dataset)
    if e is not None and e.size:
        _residuals(e, console, width)


def _worst_share(report: Any, console: Any, width: int) -> None:
    _emit(
        console,
        share_lines(an.shares(report), width) or ["(no per-row values)"],
        "Share of each loss carried by the worst rows",
    )


def _row_loss(report: Any, console: Any, width: int) -> None:
    rows = an.row_losses(report)
    if rows:
        name, values = next(iter(rows.items()))
        _emit(console, histogram_lines(values, width), f"Per-row {name} ({values.size} rows)")


def _residuals(e: np.ndarray, console: Any, width: int) -> None:
    keep = an.robust_inliers(e)
    inside = e if keep is None else e[keep]
    out = np.empty(0) if keep is None else e[~keep]
    title = f"Residuals e = prediction − target ({e.size} rows)"
    lines = histogram_lines(inside, width)
    if out.size:
        lines.append(
            f"+ {out.size} rows beyond {an.ROBUST_Z:g} robust SDs of the median, from "
            f"{fmt_number(float(out.min()), 4)} to {fmt_number(float(out.max()), 4)}"
        )
    qs = an.abs_quantiles(e)
    lines.append("   ".join(f"{n} {fmt_number(v, 4)}" for n, v in qs))
    _emit(console, lines, title)


def _reliability(report: Any, console: Any, width: int) -> None:
    rel = an.reliability(report.dataset)
    if rel is None:
        return
    head = f"{'bin':<9} {'rows':>6} {'predicted':>9} {'observed':>9}  "
    tw = max(10, width - len(head) - 2)
    lines = [head + "0" + " " * (tw - 2) + "1"]
    for i in range(len(rel.counts)):
        lo, hi = rel.edges[i], rel.edges[i + 1]
        label = f"{lo:.1f}–{hi:.1f}"
        if rel.counts[i] == 0:
            lines.append(f"{label:<9} {0:>6} {'—':>9} {'—':>9}  ")
            continue
        track = list(bar(float(rel.observed[i]), tw).ljust(tw))
        track[min(tw - 1, round(float(rel.predicted[i]) * (tw - 1)))] = "|"
        lines.append(
            f"{label:<9} {int(rel.counts[i]):>6} {rel.predicted[i]:>9.3f} "
            f"{rel.observed[i]:>9.3f}  {''.join(track)}"
        )
    lines.append(
        f"█ {rel.what}, | mean predicted probability: a bar ending at | is calibrated, "
        "short of it overconfident, past it underconfident."
    )
    _emit(
        console,
        [ln for part in lines for ln in ([part] if len(part) <= width else _wrap(part, width))],
        f"Calibration: {rel.what} by predicted probability (ECE {rel.ece:.3f}, {rel.n} predictions)",
    )


def _class_loss(report: Any, console: Any, width: int) -> None:
    per = an.class_losses(report)
    if not per:
        return
    counts = an.class_counts(report.dataset)
    loss, vals = next(iter(per.items()))
    multilabel = report.data["task"]["name"] == "multilabel"
    rows = [
        (
            f"{k} ({counts.get(k, '?')}{' pos' if multilabel else ''})",
            v,
            fmt_number(v, 4),
        )
        for k, v in vals.items()
    ]
    what = "label" if multilabel else "true class"
    _emit(console, bar_rows(rows, width), f"Mean {loss} by {what} (rows in brackets)")


def _images(report: Any, console: Any, width: int) -> None:
    scores = an.image_overlap(report)
    if scores is None:
        return
    first = scores.losses[0]
    k = min(12, len(scores.names))
    rows = []
    for i in range(k):
        text = "  ".join(f"{n} {fmt_number(float(scores.values[n][i]), 3)}" for n in scores.losses)
        rows.append((scores.names[i], float(scores.values[first][i]), text))
    lines = bar_rows(rows, width)
    if len(scores.names) > k:
        lines.append(f"… and {len(scores.names) - k} more images")
    lines.append("(0 = perfect overlap, 1 = none; bars show " + first + ")")
    _emit(console, lines, f"Per-image {first}, worst first ({len(scores.names)} images)")


def _distances(report: Any, console: Any, width: int) -> None:
    dist = an.embedding_distances(report)
    if dist is None:
        return
    edges, pf, nf = an.distance_histogram(dist)
    labels = [f"{a:.2f}–{b:.2f}" for a, b in itertools.pairwise(edges)]
    lw = max(len(s) for s in labels)
    half = max(8, (width - lw - 14) // 2)
    peak = max(float(pf.max()), float(nf.max()), 1e-12)
    head = f"{'distance':<{lw}} {'similar pairs':>{half + 5}} │ dissimilar pairs"
    lines = [head]
    margin_done = dist.margin is None
    for i, lab in enumerate(labels):
        if not margin_done and edges[i] >= dist.margin:  # type: ignore[operator]
            lines.append(_margin_line(dist, lw, half))
            margin_done = True
        left = rbar(pf[i] / peak, half) if pf[i] else " " * half
        lines.append(
            f"{lab:<{lw}} {_pct(pf[i]):>4} {left}│{bar(nf[i] / peak, half):<{half}} {_pct(nf[i])}"
        )
    if not margin_done:
        lines.append(_margin_line(dist, lw, half))
    lines.append(
        f"{dist.positive.size} similar and {dist.negative.size} dissimilar pairs; each side is "
        "a share of its own pairs."
    )
    inside = an.inside_margin(dist)
    if inside is not None:
        lines.append(
            f"{_pct(inside)} of dissimilar pairs are closer than the margin: they carry "
            f"{dist.margin_loss} loss."
        )
    _emit(
        console,
        [w for ln in lines for w in ([ln] if len(ln) <= width else _wrap(ln, width))],
        "Pair distances (Euclidean)",
    )


def _margin_line(dist: an.Distances, lw: int, half: int) -> str:
    text = f" {dist.margin_loss} margin m = {dist.margin:g} "
    return f"{'':<{lw}} {'':>4} {text:─^{2 * half + 1}}"


#: The terminal drawing of each chart id of :func:`losscli.analysis.charts_for` it
#: supports; "loss-curves" and "pt-hist" have none and are skipped.
DRAWINGS: dict[str, Callable[[Any, Any, int], None]] = {
    "residuals": _residuals_plot,
    "worst-share": _worst_share,
    "reliability": _reliability,
    "class-loss": _class_loss,
    "image-overlap": _images,
    "distances": _distances,
    "row-loss": _row_loss,
}


# --------------------------------------------------------------------------- compare


def _compare(doc: Mapping[str, Any], console: Any) -> None:
    width = _width(console)
    models = list(doc["models"])
    if len(models) == 1 and doc.get("sensitivity"):
        items = [s for s in doc["sensitivity"] if s.get("top_1pct_share") is not None]
        rows = [
            (
                s["loss"],
                float(s["top_1pct_share"]),
                f"1%: {_pct(s['top_1pct_share'])}  5%: {_pct(s.get('top_5pct_share'))}",
            )
            for s in items
        ]
        lines = [
            *bar_rows(rows, width),
            "(bar: share carried by the worst 1% of rows; 1% if every row weighed the same)",
        ]
        _emit(console, lines, f"Outlier sensitivity of each loss ({models[0]})")
        return
    for e in doc["losses"]:
        ci = e.get("ci") or {}
        rows = []
        for m in models:
            v = e["values"].get(m)
            if v is None:
                rows.append((m, math.nan, (e.get("status") or {}).get(m, "no value")))
                continue
            text = fmt_number(v, 4)
            if m in ci and ci[m][0] is not None:
                text += f" [{fmt_number(ci[m][0], 3)}, {fmt_number(ci[m][1], 3)}]"
            if m == e.get("best"):
                text += " ◀ best"
            rows.append((m, float(v), text))
        _emit(console, bar_rows(rows, width), f"{e['name']} (lower is better)")
    if any(e.get("ci") for e in doc["losses"]):
        _emit(console, ["[low, high]: 95% paired-bootstrap interval"])


# --------------------------------------------------------------------------- recommend


def plot_recommendation(result: Mapping[str, Any], console: Any) -> None:
    """The candidate losses of a recommendation as text line charts, a table of their
    values and what sets them apart."""
    width = _width(console)
    console.print()
    curves, notes = an.recommendation_curves(result)
    for c in curves:
        lines = line_chart(c, width)
        lines.append("")
        lines += value_table(c, width)
        lines.append("")
        for sentence in [*an.why_sentences(c), *(n for n in c.notes if c.key != "distance")]:
            lines += _wrap(sentence, width)
        _emit(console, lines, f"{c.title} ({c.ylabel})")
    for n in notes:
        _emit(console, _wrap(n, width))
    if not curves and not notes:
        _emit(console, [f"no curve view for task {result['task']}"])
