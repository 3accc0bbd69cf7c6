"""GitHub-flavoured Markdown views (PR comments, CI job summaries)."""

from __future__ import annotations

from typing import Any

from losscli.report import fmt_number, fmt_params, penalty_line, per_class_title, plural


def _esc(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(_esc(c) for c in row) + " |" for row in rows]
    return out


def render(doc: dict[str, Any], precision: int = 4) -> str:
    cmd = doc.get("command")
    lines: list[str] = []
    if cmd == "evaluate":
        task = doc["task"]
        lines.append(f"## losscli evaluate — {task['name']} ({plural(doc['n_samples'], 'sample')})")
        lines.append("")
        reg = doc.get("regularization")
        rows = [
            [
                f"`{it['name']}`",
                fmt_number(it["value"], precision),
                *([fmt_number(it.get("regularized"), precision)] if reg else []),
                it["status"],
                fmt_params(it["params"], precision),
                it.get("reason", ""),
            ]
            for it in doc["losses"]
        ]
        header = ["loss", "value", *(["+ penalty"] if reg else []), "status", "params", "note"]
        lines += _table(header, rows)
        if reg:
            lines += ["", penalty_line(reg, precision)]
        per_class = [it for it in doc["losses"] if it.get("per_class")]
        if per_class:
            names = list(dict.fromkeys(n for it in per_class for n in it["per_class"]))
            lines += ["", f"### {per_class_title(task['name']).capitalize()}", ""]
            lines += _table(
                ["loss", *names],
                [
                    [
                        f"`{it['name']}`",
                        *(fmt_number(it["per_class"].get(n), precision) for n in names),
                    ]
                    for it in per_class
                ],
            )
        if doc.get("gates"):
            lines += ["", "### Gates", ""]
            lines += _table(
                ["loss", "limit", "value", "result"],
                [
                    [
                        g["loss"],
                        f"{g['op']} {fmt_number(g['limit'], precision)}",
                        fmt_number(g["value"], precision),
                        "pass" if g["passed"] else "**FAIL**",
                    ]
                    for g in doc["gates"]
                ],
            )
        if doc.get("worst"):
            lines += ["", f"### Worst rows ({doc['worst_loss']})", ""]
            lines += _table(
                ["row", "id", "prediction", "target", "loss"],
                [
                    [
                        w["row"],
                        w.get("id", ""),
                        _esc(w["prediction"]),
                        _esc(w["target"]),
                        fmt_number(w["loss"], precision),
                    ]
                    for w in doc["worst"]
                ],
            )
    elif cmd == "compare":
        models = doc["models"]
        lines.append(
            f"## losscli compare — {doc['task']['name']} ({plural(doc['n_samples'], 'sample')})"
        )
        lines.append("")
        rows = []
        for it in doc["losses"]:
            cells = [f"`{it['name']}`"]
            for m in models:
                v = fmt_number(it["values"].get(m), precision)
                cells.append(f"**{v}**" if it.get("best") == m else v)
            cells.append(it.get("best") or ("not comparable" if it.get("best_reason") else ""))
            rows.append(cells)
        lines += _table(["loss", *models, "best"], rows)
        per_class = [it for it in doc["losses"] if it.get("per_class")]
        if per_class:
            lines += ["", f"### {per_class_title(doc['task']['name']).capitalize()}", ""]
            pc_rows = []
            for it in per_class:
                by_model = it["per_class"]
                classes = dict.fromkeys(c for m in models for c in by_model.get(m) or {})
                pc_rows += [
                    [
                        f"`{it['name']}`",
                        c,
                        *(fmt_number((by_model.get(m) or {}).get(c), precision) for m in models),
                    ]
                    for c in classes
                ]
            lines += _table(["loss", "class", *models], pc_rows)
        for s in doc.get("summary", []):
            lines += ["", f"- {s}"]
    elif cmd == "losses":
        lines += _table(
            ["loss", "tasks", "params", "summary"],
            [
                [
                    f"`{it['name']}`",
                    ", ".join(it["tasks"]),
                    fmt_params(it["params"], precision),
                    it["summary"],
                ]
                for it in doc["losses"]
            ],
        )
    elif cmd == "losses show":
        lines.append(f"## `{doc['name']}`")
        for v in doc["variants"]:
            lines += [
                "",
                f"**{', '.join(v['tasks'])}** — {v['summary']}",
                "",
                f"    {v['formula']}",
                "",
                v["when_to_use"],
                "",
            ]
            if v["params"]:
                lines += _table(
                    ["param", "default", "allowed", "meaning"],
                    [[p["name"], p["default"], p["allowed"], p["help"]] for p in v["params"]],
                )
            lines += ["", "References: " + "; ".join(v["references"])]
    else:  # pragma: no cover
        raise ValueError(f"no Markdown view for command {cmd!r}")
    if doc.get("warnings"):
        lines += ["", "### Warnings", ""] + [f"- {_esc(w)}" for w in doc["warnings"]]
    return "\n".join(lines) + "\n"
