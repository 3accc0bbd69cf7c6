"""Rich views for people (stdout), and a self-contained HTML page of the same view."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from losscli.report import fmt_number, fmt_params, penalty_line, per_class_title, plural

_STATUS_STYLE = {"ok": "green", "non_finite": "red", "not_applicable": "yellow"}


def render(doc: dict[str, Any], console: Console, precision: int = 4) -> None:
    """Print the human view of a result document."""
    cmd = doc.get("command")
    if cmd == "evaluate":
        _evaluate(doc, console, precision)
    elif cmd == "compare":
        _compare(doc, console, precision)
    elif cmd == "losses":
        _losses(doc, console, precision)
    elif cmd == "losses show":
        _show(doc, console)
    elif cmd == "recommend":
        from losscli.report.recommend_view import render_rich

        render_rich(doc, console)
    else:  # pragma: no cover
        raise ValueError(f"no table view for command {cmd!r}")


def to_text(doc: dict[str, Any], precision: int = 4, width: int = 100) -> str:
    """The table view as plain text (for ``-o report.txt``)."""
    console = Console(
        record=True, width=width, color_system=None, force_terminal=False, file=_Null()
    )
    render(doc, console, precision)
    return console.export_text()


def to_html(doc: dict[str, Any], precision: int = 4, width: int = 110) -> str:
    """The table view as one self-contained HTML page (inline styles, no network)."""
    console = Console(
        record=True, width=width, force_terminal=True, color_system="truecolor", file=_Null()
    )
    render(doc, console, precision)
    return console.export_html(inline_styles=True)


class _Null:
    def write(self, _s: str) -> int:
        return 0

    def flush(self) -> None:
        pass


def _evaluate(doc: dict[str, Any], console: Console, precision: int) -> None:
    task = doc["task"]
    inferred = " (inferred)" if task.get("inferred") else ""
    kind = f", {task['input']}" if task.get("input") else ""
    reg = doc.get("regularization")
    table = Table(
        title=f"{task['name']}{inferred}{kind} · {plural(doc['n_samples'], 'sample')}",
        title_justify="left",
        show_lines=False,
        caption=penalty_line(reg, precision) if reg else None,
        caption_justify="left",
    )
    table.add_column("loss", style="bold")
    table.add_column("value", justify="right")
    if reg:
        table.add_column("+ penalty", justify="right")
    table.add_column("params", overflow="fold")
    table.add_column("what it measures", overflow="fold", ratio=1)
    for it in doc["losses"]:
        if it["status"] == "ok":
            value = Text(fmt_number(it["value"], precision))
        else:
            value = Text(it["status"].replace("_", " "), style=_STATUS_STYLE[it["status"]])
        hint = it.get("reason") or it.get("summary", "")
        extra = [fmt_number(it.get("regularized"), precision)] if reg else []
        table.add_row(it["name"], value, *extra, fmt_params(it["params"], precision), hint)
    console.print(table)
    per_class = [it for it in doc["losses"] if it.get("per_class")]
    if per_class:
        names = list(dict.fromkeys(n for it in per_class for n in it["per_class"]))
        pc = Table(title=per_class_title(task["name"]), title_justify="left")
        pc.add_column("loss", style="bold")
        for n in names:
            pc.add_column(n, justify="right")
        for it in per_class:
            pc.add_row(it["name"], *(fmt_number(it["per_class"].get(n), precision) for n in names))
        console.print(pc)
    if doc.get("gates"):
        gt = Table(title="gates", title_justify="left")
        for col in ("loss", "limit", "value", "result"):
            gt.add_column(col)
        for g in doc["gates"]:
            res = Text("pass", style="green") if g["passed"] else Text("FAIL", style="bold red")
            gt.add_row(
                g["loss"],
                f"{g['op']} {fmt_number(g['limit'], precision)}",
                fmt_number(g["value"], precision),
                res,
            )
        console.print(gt)
    if doc.get("worst"):
        wt = Table(title=f"worst rows by {doc['worst_loss']}", title_justify="left")
        for col in ("row", "id", "prediction", "target", "loss"):
            wt.add_column(
                col, justify="right" if col in ("row", "loss") else "left", overflow="fold"
            )
        for w in doc["worst"]:
            wt.add_row(
                str(w["row"]),
                str(w.get("id", "")),
                _cell(w["prediction"], precision),
                _cell(w["target"], precision),
                fmt_number(w["loss"], precision),
            )
        console.print(wt)


def _cell(v: Any, precision: int) -> str:
    if isinstance(v, list):
        shown = ", ".join(_cell(x, precision) for x in v[:6])
        return f"[{shown}{', …' if len(v) > 6 else ''}]"
    if isinstance(v, float):
        return fmt_number(v, precision)
    return str(v)


def _compare(doc: dict[str, Any], console: Console, precision: int) -> None:
    models = doc["models"]
    task = doc["task"]
    table = Table(
        title=f"{task['name']} · {plural(doc['n_samples'], 'sample')} · lower is better",
        title_justify="left",
    )
    table.add_column("loss", style="bold")
    for m in models:
        table.add_column(m, justify="right")
    table.add_column("best")
    for it in doc["losses"]:
        cells = []
        for m in models:
            v = it["values"].get(m)
            txt = fmt_number(v, precision)
            ci = (it.get("ci") or {}).get(m)
            if ci and ci[0] is not None:
                txt += f" [{fmt_number(ci[0], 3)}, {fmt_number(ci[1], 3)}]"
            cells.append(Text(txt, style="bold green") if it.get("best") == m else Text(txt))
        best = it.get("best") or ("not comparable" if it.get("best_reason") else "—")
        table.add_row(it["name"], *cells, best)
    console.print(table)
    per_class = [it for it in doc["losses"] if it.get("per_class")]
    if per_class:
        pc = Table(title=per_class_title(task["name"]), title_justify="left")
        pc.add_column("loss", style="bold")
        pc.add_column("class")
        for m in models:
            pc.add_column(m, justify="right")
        for it in per_class:
            by_model = it["per_class"]
            classes = list(dict.fromkeys(c for m in models for c in by_model.get(m) or {}))
            for c in classes:
                pc.add_row(
                    it["name"],
                    c,
                    *(fmt_number((by_model.get(m) or {}).get(c), precision) for m in models),
                )
        console.print(pc)
    for line in doc.get("summary", []):
        console.print(f"• {line}", soft_wrap=False)


def _losses(doc: dict[str, Any], console: Console, precision: int) -> None:
    table = Table(title=f"{len(doc['losses'])} losses", title_justify="left")
    table.add_column("loss", style="bold")
    table.add_column("tasks")
    table.add_column("params", overflow="fold")
    table.add_column("summary", overflow="fold", ratio=1)
    for it in doc["losses"]:
        table.add_row(
            it["name"], ", ".join(it["tasks"]), fmt_params(it["params"], precision), it["summary"]
        )
    console.print(table)


def _show(doc: dict[str, Any], console: Console) -> None:
    parts: list[Any] = []
    for v in doc["variants"]:
        body: list[Any] = [
            Text(v["summary"], style="bold"),
            Text(""),
            Text("formula  ", style="dim") + Text(v["formula"]),
            Text("inputs   ", style="dim") + Text(v["inputs"]),
        ]
        if v["domains"]:
            body.append(Text("domain   ", style="dim") + Text("; ".join(v["domains"])))
        if v["aliases"]:
            body.append(Text("aliases  ", style="dim") + Text(", ".join(v["aliases"])))
        body += [Text(""), Text("When to use", style="bold"), Text(v["when_to_use"])]
        if v["params"]:
            pt = Table(box=None, pad_edge=False)
            for col in ("param", "default", "allowed", "meaning"):
                pt.add_column(col, overflow="fold")
            for p in v["params"]:
                pt.add_row(p["name"], str(p["default"]), p["allowed"], p["help"])
            body += [Text(""), pt]
        body += [Text(""), Text("References", style="bold")]
        body += [Text(f"• {r}") for r in v["references"]]
        if v.get("oracle"):
            body.append(Text("checked against  ", style="dim") + Text(v["oracle"]))
        parts.append(
            Panel(
                Group(*body), title=f"{doc['name']} · {', '.join(v['tasks'])}", title_align="left"
            )
        )
    console.print(Group(*parts))
