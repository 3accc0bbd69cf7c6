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

_LABELS = {"pytorch": "PyTorch", "keras": "Keras", "losscli": "losscli (measure it on your files)"}
_LANG = {"pytorch": "python", "keras": "python", "losscli": "bash"}


# --------------------------------------------------------------------------- rich


def render_rich(result: dict[str, Any], console: Any) -> None:
    """Print ``result`` on a ``rich.console.Console``."""
    from rich import box
    from rich.console import Group
    from rich.markup import escape
    from rich.panel import Panel
    from rich.syntax import Syntax
    from rich.table import Table
    from rich.text import Text

    console.print(Text(_headline(result), style="bold"))
    if result.get("evidence"):
        table = Table(title="What the data shows", box=box.SIMPLE_HEAD, title_justify="left")
        table.add_column("measurement", overflow="fold")
        table.add_column("value", justify="right")
        table.add_column("threshold", justify="right")
        table.add_column("verdict", overflow="fold")
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

    recs = result["recommendations"]
    primary = recs[0]
    body: list[Any] = [Text(primary["why"])]
    details = Text()
    details.append("losses: ", style="bold")
    details.append(" + ".join(primary["losses"]))
    if primary.get("params"):
        details.append("   params: ", style="bold")
        details.append(fmt_params(primary["params"]))
    details.append("\nrules: ", style="bold")
    details.append(", ".join(primary["rules"]))
    body += [Text(), details]
    for key, what in (primary.get("from_data") or {}).items():
        if key not in primary.get("params", {}):
            body.append(Text(f"set {key} = {what} (or run with --from-data)", style="italic"))
    for fw, code in primary["code"].items():
        if fw == "losscli":
            continue
        body.append(Text())
        body.append(Text(_LABELS.get(fw, fw), style="bold underline"))
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

    if len(recs) > 1:
        table = Table(title="Alternatives", box=box.SIMPLE_HEAD, title_justify="left")
        table.add_column("#", justify="right")
        table.add_column("loss", overflow="fold")
        table.add_column("why", overflow="fold", ratio=1)
        for rec in recs[1:]:
            name = rec["name"] + "\n" + " + ".join(rec["losses"])
            if rec.get("params"):
                name += "\n" + fmt_params(rec["params"])
            table.add_row(str(rec["rank"]), escape(name), escape(rec["why"]))
        console.print(table)
        console.print(Text("  Code for every alternative: --format markdown or --format json."))

    if result.get("addons"):
        table = Table(title="Add-ons", box=box.SIMPLE_HEAD, title_justify="left")
        table.add_column("add-on", overflow="fold")
        table.add_column("why", overflow="fold", ratio=1)
        for addon in result["addons"]:
            name = addon["name"]
            if addon.get("params"):
                name += "\n" + fmt_params(addon["params"])
            table.add_row(escape(name), escape(addon["why"]))
        console.print(table)

    if result.get("notes"):
        console.print(Text("Notes", style="bold"))
        console.print(_bullets(result["notes"]))

    if result.get("explain"):
        shown, hidden = _relevant_trace(result)
        table = Table(title="How the rules applied", box=box.SIMPLE_HEAD, title_justify="left")
        table.add_column("rule", overflow="fold")
        table.add_column("fired")
        table.add_column("status", overflow="fold")
        table.add_column("reason", overflow="fold", ratio=1)
        for t in shown:
            table.add_row(
                escape(t["rule"]), "yes" if t["fired"] else "no", t["status"], escape(t["reason"])
            )
        console.print(table)
        if hidden:
            console.print(
                Text(f"  {hidden} rules for other tasks did not fire (see --format json).")
            )


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
    lines = [f"## {_headline(result)}", ""]
    if result.get("evidence"):
        lines += ["### What the data shows", ""]
        lines += _md_table(
            ["measurement", "value", "threshold", "verdict"],
            [
                [r["name"], _num(r.get("value")), _num(r.get("threshold")), r.get("verdict", "")]
                for r in result["evidence"]
            ],
        )
        lines += [""] + [f"- {r.get('sentence', '')}" for r in result["evidence"]] + [""]

    for rec in result["recommendations"]:
        role = "recommended" if rec["rank"] == 1 else "alternative"
        lines += [f"### {rec['rank']}. {rec['name']} ({role})", "", rec["why"], ""]
        facts = [f"- losses: {', '.join(f'`{n}`' for n in rec['losses'])}"]
        if rec.get("params"):
            facts.append(f"- params: `{fmt_params(rec['params'])}`")
        for key, what in (rec.get("from_data") or {}).items():
            if key not in rec.get("params", {}):
                facts.append(f"- set `{key}` = {what} (or run with `--from-data`)")
        facts.append(f"- rules: {', '.join(f'`{r}`' for r in rec['rules'])}")
        if rec.get("sources"):
            facts.append("- sources: " + "; ".join(rec["sources"]))
        lines += [*facts, ""]
        lines += _md_code(rec["code"])

    if result.get("addons"):
        lines += ["### Add-ons", ""]
        for addon in result["addons"]:
            params = f" (`{fmt_params(addon['params'])}`)" if addon.get("params") else ""
            lines += [f"#### {addon['name']}{params}", "", addon["why"], ""]
            lines += _md_code(addon.get("code") or {})

    if result.get("notes"):
        lines += ["### Notes", ""] + [f"- {n}" for n in result["notes"]] + [""]

    if result.get("explain"):
        lines += ["### How the rules applied", ""]
        lines += _md_table(
            ["rule", "fired", "status", "reason"],
            [
                [f"`{t['rule']}`", "yes" if t["fired"] else "no", t["status"], t["reason"]]
                for t in result["explain"]
            ],
        )
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _md_code(code: dict[str, str]) -> list[str]:
    out: list[str] = []
    for fw, snippet in code.items():
        out += [f"**{_LABELS.get(fw, fw)}**", "", f"```{_LANG.get(fw, 'python')}"]
        out += [snippet.rstrip("\n"), "```", ""]
    return out


def _md_table(header: list[str], rows: list[list[Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return str(value).replace("|", "\\|").replace("\n", " ")

    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return out + ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
