"""The views of a ``curves`` document: Rich table, Markdown, tidy CSV, ``--plot`` text
chart, and the self-contained HTML page (curves with the findings shaded).

JSON is the document itself (:func:`losscli.report.json.dumps`). Numbers are shown with
``precision`` significant digits; positions as the log wrote them.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import numpy as np

from losscli.report import fmt_number

#: Widest ``--plot`` chart of a curve.
PLOT_WIDTH = 80


def _pos(v: Any) -> str:
    return "—" if v is None else str(v)


def summary_lines(doc: dict[str, Any], precision: int = 4) -> list[str]:
    """The few sentences every human view starts with."""
    logs = ", ".join(f"{x['path']} ({x['format']})" for x in doc["inputs"]["logs"])
    lines = [
        f"log: {logs}",
        f"monitored: {doc['monitor']} ({doc['mode']}) · training: {doc['train'] or '—'} · "
        f"axis: {doc['axis']}",
    ]
    best = doc.get("best")
    if best is not None:
        lines.append(
            f"best {best['series']}: {fmt_number(best['value'], precision)} "
            f"at {doc['axis']} {best['position']}"
        )
    return lines


def stop_lines(doc: dict[str, Any], precision: int = 4) -> list[str]:
    es = doc.get("early_stopping")
    if not es:
        return []
    axis = doc["axis"]
    params = " ".join(f"{k}={v}" for k, v in es["params"].items() if v is not None)
    out = [f"{es['rule']} ({params})"]
    if es["rule"] == "torch-plateau":
        if es["reductions"]:
            rs = ", ".join(
                f"{axis} {r['at']} (lr {fmt_number(r['lr_before'], 3)} → "
                f"{fmt_number(r['lr_after'], 3)})"
                for r in es["reductions"]
            )
            out.append(f"reduces the LR at {rs}")
        else:
            out.append("would not reduce the LR")
        if not es.get("lr_known", True):
            out.append(es["lr_note"])
    elif "stopped_at" in es:
        why = " (non-finite value)" if es.get("reason") == "non_finite" else ""
        out.append(f"stops at {axis} {es['stopped_at']}{why}")
    else:
        out.append("would not stop")
    if es.get("best_at") is not None:
        out.append(f"best at {axis} {es['best_at']} ({fmt_number(es['best_value'], precision)})")
    if es["rule"] == "keras":
        out.append(f"restore_best_weights restores {axis} {_pos(es['restored_at'])}")
    return out


def finding_rows(doc: dict[str, Any]) -> list[list[str]]:
    return [
        [f["kind"], f["severity"], f["series"], f"{f['from_step']}–{f['to_step']}", f["evidence"]]
        for f in doc["findings"]
    ]


def chance_line(doc: dict[str, Any], precision: int = 4) -> str | None:
    ch = doc.get("chance_level")
    if not ch:
        return None
    return (
        f"chance level: {ch['loss']} = {fmt_number(ch['value'], precision)} {ch['unit']} "
        f"({ch['prediction']}; {ch['n_samples']} {ch['task']} targets in {ch['targets']})"
    )


def gate_lines(doc: dict[str, Any]) -> list[str]:
    return [
        f"{'pass' if g['passed'] else 'FAIL'}: --fail-on {g['kind']} ({g['found']} found)"
        for g in doc.get("gates", [])
    ]


# ------------------------------------------------------------------------------ Rich


def render_rich(
    doc: dict[str, Any], console: Any, precision: int = 4, *, notes: bool = False
) -> None:
    """The table view; ``notes`` adds the warnings (the command prints them on stderr)."""
    from rich.table import Table

    for line in summary_lines(doc, precision):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    stop = stop_lines(doc, precision)
    if stop:
        console.print(
            "early stopping: " + "; ".join(stop), markup=False, highlight=False, soft_wrap=True
        )
    chance = chance_line(doc, precision)
    if chance:
        console.print(chance, markup=False, highlight=False, soft_wrap=True)
    rows = finding_rows(doc)
    if rows:
        t = Table(title="Findings", title_justify="left")
        for head in ("kind", "severity", "series", doc["axis"] + "s", "evidence"):
            t.add_column(head, overflow="fold")
        for r in rows:
            t.add_row(*r)
        console.print(t)
    else:
        console.print("findings: none", markup=False, highlight=False)
    warnings = [f"note: {w}" for w in doc.get("warnings", [])] if notes else []
    for line in gate_lines(doc) + warnings:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def to_text(doc: dict[str, Any], precision: int = 4, width: int = 100) -> str:
    from rich.console import Console

    console = Console(record=True, width=width, color_system=None, file=io.StringIO())
    render_rich(doc, console, precision, notes=True)
    return console.export_text()


# -------------------------------------------------------------------------- Markdown


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_markdown(doc: dict[str, Any], precision: int = 4) -> str:
    lines = [f"## Training curves: {_md(doc['monitor'])}", ""]
    lines += [f"- {_md(s)}" for s in summary_lines(doc, precision)]
    stop = stop_lines(doc, precision)
    if stop:
        lines.append(f"- early stopping: {_md('; '.join(stop))}")
    chance = chance_line(doc, precision)
    if chance:
        lines.append(f"- {_md(chance)}")
    lines += ["", "### Findings", ""]
    rows = finding_rows(doc)
    if rows:
        lines.append(f"| kind | severity | series | {doc['axis']}s | evidence |")
        lines.append("|---|---|---|---|---|")
        lines += ["| " + " | ".join(_md(c) for c in r) + " |" for r in rows]
    else:
        lines.append("none")
    gates = gate_lines(doc)
    if gates:
        lines += ["", "### Gates", ""] + [f"- {g}" for g in gates]
    if doc.get("warnings"):
        lines += ["", "### Warnings", ""] + [f"- {_md(w)}" for w in doc["warnings"]]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- CSV


def render_csv(doc: dict[str, Any]) -> str:
    """One line per logged point: series, role, position, value (and smoothed)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    smoothed = doc.get("smooth") is not None
    w.writerow(["series", "role", doc["axis"], "value", *(["smoothed"] if smoothed else [])])
    for s in doc["series"]:
        sm = s.get("smoothed") or [None] * len(s["values"])
        # a null is NaN unless the series lists it as ±inf (smoothing passes both through)
        inf = {i["position"]: i["value"] for i in s.get("infinite", [])}
        for p, v, m in zip(s["positions"], s["values"], sm):
            row = [s["name"], s["role"], p, inf.get(p, "nan") if v is None else repr(v)]
            if smoothed:
                row.append(inf.get(p, "nan") if m is None else repr(m))
            w.writerow(row)
    return buf.getvalue()


# ------------------------------------------------------------------------------ plot


def _shown(doc: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in doc["series"] if s["role"] in ("monitor", "train")]


def _marks(doc: dict[str, Any]) -> list[tuple[str, float]]:
    es = doc.get("early_stopping") or {}
    marks = []
    if es.get("stopped_at") is not None:
        marks.append(("stop", float(es["stopped_at"])))
    if es.get("best_at") is not None:
        marks.append(("best", float(es["best_at"])))
    marks += [("lr↓", float(r["at"])) for r in es.get("reductions", [])]
    return marks


def _ys(s: dict[str, Any], key: str) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in s[key]], dtype=np.float64)


def plot(doc: dict[str, Any], console: Any) -> None:
    """``--plot``: the monitored and training curves (smoothed where asked) as text."""
    from losscli.analysis import Curves
    from losscli.report.termplot import line_chart

    series = _shown(doc)
    key = "smoothed" if doc.get("smooth") is not None else "values"
    xs = np.unique(np.concatenate([np.asarray(s["positions"], dtype=np.float64) for s in series]))
    ys: dict[str, np.ndarray] = {}
    for s in series:
        x = np.asarray(s["positions"], dtype=np.float64)
        y = _ys(s, key)
        ok = np.isfinite(y)
        if ok.sum() == 0:
            continue
        yi = np.interp(xs, x[ok], y[ok])
        yi[(xs < x[ok][0]) | (xs > x[ok][-1])] = np.nan
        ys[s["name"] + (" (smoothed)" if key == "smoothed" else "")] = yi
    console.print()
    if not ys or len(xs) < 2:
        console.print("(nothing to plot: fewer than two finite points)", markup=False)
        return
    width = min(PLOT_WIDTH, max(60, int(console.width)))
    marks = tuple(_marks(doc))
    curves = Curves(
        key=doc["axis"],
        x=xs,
        ys=ys,
        xlabel=doc["axis"],
        ylabel="value",
        title=doc["monitor"],
        marks=marks,
    )
    for line in line_chart(curves, width):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    spans = [f"{f['kind']} {f['from_step']}–{f['to_step']}" for f in doc["findings"]]
    if spans:
        console.print(
            "findings: " + ", ".join(spans), markup=False, highlight=False, soft_wrap=True
        )


# ------------------------------------------------------------------------------ HTML

_SHADE = {"error": "#e06666", "warning": "#f6b26b", "info": "#9fc5e8"}


def _chart(doc: dict[str, Any]) -> Any:
    from losscli.report.charts import COLORS, _draw

    series = _shown(doc)
    smooth = doc.get("smooth") is not None

    def build(fig: Any) -> None:
        ax = fig.subplots()
        for i, s in enumerate(series):
            x = np.asarray(s["positions"], dtype=np.float64)
            color = COLORS[i % len(COLORS)]
            y = _ys(s, "values")
            ax.plot(x, y, color=color, alpha=0.35 if smooth else 1.0, label=s["name"])
            if smooth:
                ax.plot(x, _ys(s, "smoothed"), color=color, label=f"{s['name']} (smoothed)")
            bad = ~np.isfinite(y)
            if bad.any():
                ax.plot(
                    x[bad],
                    np.zeros(bad.sum()),
                    "x",
                    color="#b00020",
                    label=f"{s['name']} non-finite",
                )
        for f in doc["findings"]:
            lo, hi = float(f["from_step"]), float(f["to_step"])
            if hi == lo:
                ax.axvline(lo, color=_SHADE[f["severity"]], linewidth=3, alpha=0.6)
            else:
                ax.axvspan(lo, hi, color=_SHADE[f["severity"]], alpha=0.18)
        for name, xv in _marks(doc):
            ax.axvline(xv, color="#333333", linestyle=":", linewidth=1)
            ax.text(xv, 1.0, f" {name}", transform=ax.get_xaxis_transform(), va="top", fontsize=8)
        ax.set_xlabel(doc["axis"])
        ax.set_ylabel("value")
        ax.legend(loc="best")

    kinds = ", ".join(sorted({f["kind"] for f in doc["findings"]})) or "none"
    caption = (
        f"{doc['monitor']} and {doc['train'] or 'no training loss'} by {doc['axis']}; "
        f"shaded: findings ({kinds}); red for errors, orange for warnings, blue for info; "
        "dotted lines: where the replayed callback stopped, its best point and LR reductions."
    )
    return _draw("chart-curves", "Training curves", caption, build, 9.5, 4.5)


def render_html(doc: dict[str, Any], precision: int = 4) -> str:
    from losscli.report.html import _figure, _page, e

    body = ["<h2>Summary</h2>", "<ul>"]
    items = summary_lines(doc, precision)
    stop = stop_lines(doc, precision)
    if stop:
        items.append("early stopping: " + "; ".join(stop))
    chance = chance_line(doc, precision)
    if chance:
        items.append(chance)
    body += [f"<li>{e(s)}</li>" for s in items] + ["</ul>"]
    body.append(_figure(_chart(doc)))
    body.append("<h2>Findings</h2>")
    rows = finding_rows(doc)
    if rows:
        head = ("kind", "severity", "series", doc["axis"] + "s", "evidence")
        body.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>")
        body += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows]
        body.append("</table>")
    else:
        body.append("<p>none</p>")
    gates = gate_lines(doc)
    if gates:
        body += ["<h2>Gates</h2>", "<ul>", *[f"<li>{e(g)}</li>" for g in gates], "</ul>"]
    if doc.get("warnings"):
        body += [
            "<h2>Warnings</h2>",
            "<ul>",
            *[f"<li>{e(w)}</li>" for w in doc["warnings"]],
            "</ul>",
        ]
    return _page(f"losscli curves: {doc['monitor']}", doc, body)


def render(doc: dict[str, Any], fmt: str, precision: int = 4) -> str:
    """The text of a curves document in ``json``, ``csv``, ``markdown``, ``html`` or
    ``text``."""
    if fmt == "json":
        from losscli.report.json import dumps

        return dumps(doc)
    if fmt == "csv":
        return render_csv(doc)
    if fmt == "markdown":
        return render_markdown(doc, precision)
    if fmt == "html":
        return render_html(doc, precision)
    return to_text(doc, precision)
