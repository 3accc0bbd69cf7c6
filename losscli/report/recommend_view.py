"""Views of a ``recommend`` result (SPEC §3.3): a Rich screen for people, Markdown for
PR comments and docs. JSON needs no view: the result is already the JSON document.

The Rich view puts the primary recommendation in a panel with its reason, parameters
and code (for the frameworks the result was built with), then the alternatives, the
add-ons, the measured evidence, notes and, with ``--explain``, the rule trace. It is
laid out to stay readable at 80 columns and without colour (``NO_COLOR``).
"""

from __future__ import annotations

from typing import Any

from losscli.report import fmt_number, fmt_params
from losscli.report.markdown import md_text, table_lines

_LABELS = {"pytorch": "PyTorch", "keras": "Keras", "losscli": "losscli (measure it on your files)"}
_LANG = {"pytorch": "python", "keras": "python", "losscli": "bash"}


# --------------------------------------------------------------------------- rich


def render_rich(result: dict[str, Any], console: Any) -> None:
    """Print ``result`` on a ``rich.console.Console``."""
    from rich.text import Text

    console.print(Text(_headline(result), style="bold"))
    _rich_evidence(result, console)
    _rich_primary(result["recommendations"][0], console)
    _rich_alternatives(result["recommendations"][1:], console)
    _rich_addons(result.get("addons") or [], console)
    if result.get("notes"):
        console.print(Text("Notes", style="bold"))
        console.print(_bullets(result["notes"]))
    if result.get("explain"):
        _rich_explain(result, console)


def _simple_table(title: str, columns: list[tuple[str, dict[str, Any]]]) -> Any:
    """A titled table with a plain head rule, for the sections below the panel."""
    from rich import box
    from rich.table import Table

    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left")
    for name, opts in columns:
        table.add_column(name, **opts)
    return table


def _rich_evidence(result: dict[str, Any], console: Any) -> None:
    from rich.markup import escape

    if not result.get("evidence"):
        return
    fold, right = {"overflow": "fold"}, {"justify": "right"}
    table = _simple_table(
        "What the data shows",
        [("measurement", fold), ("value", right), ("threshold", right), ("verdict", fold)],
    )
    for row in result["evidence"]:
        table.add_row(
            escape(str(row["name"])),
            _num(row.get("value")),
            _num(row.get("threshold")),
            escape(str(row.get("verdict", ""))),
        )
    console.print(table)
    console.print(_bullets([str(row.get("sentence", "")) for row in result["evidence"]]))
    console.print()


def _primary_details(primary: dict[str, Any]) -> Any:
    """``losses: … params: …`` and ``rules: …`` of the recommended loss."""
    from rich.text import Text

    details = Text()
    details.append("losses: ", style="bold")
    details.append(" + ".join(primary["losses"]))
    if primary.get("params"):
        details.append("   params: ", style="bold")
        details.append(fmt_params(primary["params"]))
    details.append("\nrules: ", style="bold")
    details.append(", ".join(primary["rules"]))
    return details


def _rich_primary(primary: dict[str, Any], console: Any) -> None:
    from rich import box
    from rich.console import Group
    from rich.markup import escape
    from rich.panel import Panel
    from rich.syntax import Syntax
    from rich.text import Text

    body: list[Any] = [Text(primary["why"]), Text(), _primary_details(primary)]
    body += [
        Text(f"set {key} = {what} (or run with --from-data)", style="italic")
        for key, what in _from_data(primary)
    ]
    for fw, code in primary["code"].items():
        if fw != "losscli":
            body += [Text(), Text(_LABELS.get(fw, fw), style="bold underline")]
            body.append(Syntax(code.rstrip("\n"), _LANG.get(fw, "python"), word_wrap=True))
    console.print(
        Panel(
            Group(*body),
            title=f"[bold]Recommended: {escape(primary['name'])}[/bold]",
            title_align="left",
            box=box.ROUNDED,
        )
    )
    if "losscli" in primary["code"]:
        # Outside the panel and soft-wrapped, so the command copies as one line.
        console.print(Text(_LABELS["losscli"] + ":", style="bold"))
        console.print(Text(primary["code"]["losscli"]), soft_wrap=True)


def _rich_alternatives(recs: list[dict[str, Any]], console: Any) -> None:
    from rich.markup import escape
    from rich.text import Text

    if not recs:
        return
    fold = {"overflow": "fold"}
    table = _simple_table(
        "Alternatives",
        [("#", {"justify": "right"}), ("loss", fold), ("why", {**fold, "ratio": 1})],
    )
    for rec in recs:
        name = rec["name"] + "\n" + " + ".join(rec["losses"])
        if rec.get("params"):
            name += "\n" + fmt_params(rec["params"])
        table.add_row(str(rec["rank"]), escape(name), escape(rec["why"]))
    console.print(table)
    console.print(Text("  Code for every alternative: --format markdown or --format json."))


def _rich_addons(addons: list[dict[str, Any]], console: Any) -> None:
    from rich.markup import escape

    if not addons:
        return
    fold = {"overflow": "fold"}
    table = _simple_table("Add-ons", [("add-on", fold), ("why", {**fold, "ratio": 1})])
    for addon in addons:
        name = addon["name"]
        if addon.get("params"):
            name += "\n" + fmt_params(addon["params"])
        table.add_row(escape(name), escape(addon["why"]))
    console.print(table)


def _rich_explain(result: dict[str, Any], console: Any) -> None:
    from rich.markup import escape
    from rich.text import Text

    shown, hidden = _relevant_trace(result)
    fold = {"overflow": "fold"}
    table = _simple_table(
        "How the rules applied",
        [("rule", fold), ("fired", {}), ("status", fold), ("reason", {**fold, "ratio": 1})],
    )
    for t in shown:
        table.add_row(
            escape(t["rule"]), "yes" if t["fired"] else "no", t["status"], escape(t["reason"])
        )
    console.print(table)
    if hidden:
        console.print(Text(f"  {hidden} rules for other tasks did not fire (see --format json)."))


def _from_data(rec: dict[str, Any]) -> list[tuple[str, str]]:
    """Parameters to measure on the data (``--from-data``) that the result did not set."""
    return [
        (k, w) for k, w in (rec.get("from_data") or {}).items() if k not in rec.get("params", {})
    ]


def _bullets(lines: list[str]) -> Any:
    """A bullet list whose wrapped lines stay indented under their text."""
    from rich.table import Table
    from rich.text import Text

    grid = Table.grid(padding=(0, 1))
    grid.add_column(width=3, justify="right")
    grid.add_column(overflow="fold", ratio=1)
    for line in lines:
        grid.add_row("•", Text(line))
    return grid


def _headline(result: dict[str, Any]) -> str:
    conds = ", ".join(c.replace("_", "-") for c in result.get("conditions", {}))
    return f"losscli recommend — task: {result['task']}" + (
        f" · conditions: {conds}" if conds else " · no conditions"
    )


def _num(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        return fmt_number(value)
    return str(value)


def _relevant_trace(result: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Trace rows of the result's task and of task-independent rules; count the rest."""
    shown = [t for t in result["explain"] if t.get("task") in (None, result["task"])]
    return shown, len(result["explain"]) - len(shown)


# --------------------------------------------------------------------------- markdown


def render_markdown(result: dict[str, Any]) -> str:
    """GitHub-flavoured Markdown of ``result``, code for every recommendation included."""
    lines = [f"## {md_text(_headline(result))}", ""]
    if result.get("evidence"):
        lines += _md_evidence(result["evidence"])
    for rec in result["recommendations"]:
        lines += _md_recommendation(rec)
    if result.get("addons"):
        lines += ["### Add-ons", ""]
        for addon in result["addons"]:
            params = f" (`{fmt_params(addon['params'])}`)" if addon.get("params") else ""
            lines += [f"#### {md_text(addon['name'])}{params}", "", md_text(addon["why"]), ""]
            lines += _md_code(addon.get("code") or {})
    if result.get("notes"):
        lines += ["### Notes", ""] + [f"- {md_text(n)}" for n in result["notes"]] + [""]
    if result.get("explain"):
        lines += ["### How the rules applied", ""]
        lines += table_lines(
            ["rule", "fired", "status", "reason"],
            [
                [f"`{t['rule']}`", "yes" if t["fired"] else "no", t["status"], t["reason"]]
                for t in result["explain"]
            ],
        )
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_evidence(evidence: list[dict[str, Any]]) -> list[str]:
    lines = ["### What the data shows", ""]
    lines += table_lines(
        ["measurement", "value", "threshold", "verdict"],
        [
            [r["name"], _num(r.get("value")), _num(r.get("threshold")), r.get("verdict", "")]
            for r in evidence
        ],
    )
    return lines + [""] + [f"- {md_text(r.get('sentence', ''))}" for r in evidence] + [""]


def _md_recommendation(rec: dict[str, Any]) -> list[str]:
    role = "recommended" if rec["rank"] == 1 else "alternative"
    lines = [f"### {rec['rank']}. {md_text(rec['name'])} ({role})", "", md_text(rec["why"]), ""]
    lines.append(f"- losses: {', '.join(f'`{n}`' for n in rec['losses'])}")
    if rec.get("params"):
        lines.append(f"- params: `{fmt_params(rec['params'])}`")
    lines += [
        f"- set `{key}` = {what} (or run with `--from-data`)" for key, what in _from_data(rec)
    ]
    lines.append(f"- rules: {', '.join(f'`{r}`' for r in rec['rules'])}")
    if rec.get("sources"):
        lines.append("- sources: " + "; ".join(md_text(x) for x in rec["sources"]))
    return [*lines, "", *_md_code(rec["code"])]


def _md_code(code: dict[str, str]) -> list[str]:
    out: list[str] = []
    for fw, snippet in code.items():
        out += [f"**{_LABELS.get(fw, fw)}**", "", f"```{_LANG.get(fw, 'python')}"]
        out += [snippet.rstrip("\n"), "```", ""]
    return out
