"""GitHub-flavoured Markdown views (PR comments, CI job summaries)."""

from __future__ import annotations

from typing import Any

from losscli.report import fmt_number, fmt_params


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
        lines.append(f"## losscli evaluate — {task['name']} ({doc['n_samples']} samples)")
        lines.append("")
        rows = [
            [
                f"`{it['name']}`",
                fmt_number(it["value"], precision),
                it["status"],
                fmt_params(it["params"], precision),
                it.get("reason", ""),
            ]
            for it in doc["losses"]
        ]
        lines += _table(["loss", "value", "status", "params", "note"], rows)
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
        lines.append(f"## losscli compare — {doc['task']['name']} ({doc['n_samples']} samples)")
        lines.append("")
        rows = []
        for it in doc["losses"]:
            cells = [f"`{it['name']}`"]
            for m in models:
                v = fmt_number(it["values"].get(m), precision)
                cells.append(f"**{v}**" if it.get("best") == m else v)
            cells.append(it.get("best") or "")
            rows.append(cells)
        lines += _table(["loss", *models, "best"], rows)
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
