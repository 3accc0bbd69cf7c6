"""Tidy CSV views of result documents (one observation per line).

Every cell goes through :func:`losscli.per_sample.csv_cell`: numbers at full precision,
text escaped against formula injection (model names, file names, rules text).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

from losscli.per_sample import csv_cell
from losscli.per_sample import csv_number as _num


def _params(p: dict[str, Any]) -> str:
    return json.dumps(p, sort_keys=True, allow_nan=False) if p else ""


Rows = list[list[Any]]


def _gate_header(doc: dict[str, Any]) -> list[str]:
    return ["gate", "gates"] if doc.get("gates") else []


def _gate_cells(doc: dict[str, Any], loss: str, model: str | None = None) -> list[str]:
    """``gate`` (the worst state of the gates on this loss [and model]: error, fail or
    pass; empty when none) and ``gates`` (each gate's name and state), when the run has
    gates."""
    from losscli.gates import gate_name, gate_state

    if not doc.get("gates"):
        return []
    mine = [
        g
        for g in doc["gates"]
        if g["loss"] == loss and (model is None or g.get("model") in (None, model))
    ]
    states = [gate_state(g) for g in mine]
    worst = next((s for s in ("error", "failed", "passed") if s in states), "")
    word = {"failed": "fail", "passed": "pass"}.get(worst, worst)
    detail = "; ".join(f"{gate_name(g)}: {s}" for g, s in zip(mine, states))
    return [word, detail]


def _evaluate(doc: dict[str, Any]) -> Rows:
    based = any("baseline" in it for it in doc["losses"])
    head = ["loss", "value", "status", "params", "reason"]
    head += ["baseline", "delta", "delta_pct"] if based else []
    rows: Rows = [head + _gate_header(doc)]
    for item in doc["losses"]:
        extra = (
            [_num(item.get("baseline")), _num(item.get("delta")), _num(item.get("delta_pct"))]
            if based
            else []
        )
        rows.append(
            [
                item["name"],
                _num(item["value"]),
                item["status"],
                _params(item["params"]),
                item.get("reason", ""),
                *extra,
                *_gate_cells(doc, item["name"]),
            ]
        )
    return rows


def _compare(doc: dict[str, Any]) -> Rows:
    based = any("deltas" in it for it in doc["losses"])
    head = ["model", "loss", "value", "best", "ci_low", "ci_high", "params"]
    head += ["baseline", "delta", "delta_pct"] if based else []
    rows: Rows = [head + _gate_header(doc)]
    for item in doc["losses"]:
        for model in doc["models"]:
            ci = (item.get("ci") or {}).get(model) or [None, None]
            extra = [
                _num((item.get(key) or {}).get(model))
                for key in ("baseline_values", "deltas", "deltas_pct")
                if based
            ]
            rows.append(
                [
                    model,
                    item["name"],
                    _num(item["values"].get(model)),
                    str(item.get("best") == model).lower(),
                    _num(ci[0]),
                    _num(ci[1]),
                    _params(item["params"]),
                    *extra,
                    *_gate_cells(doc, item["name"], model),
                ]
            )
    return rows


def _catalogue(doc: dict[str, Any]) -> Rows:
    rows: Rows = [["name", "tasks", "params", "aliases", "summary"]]
    for item in doc["losses"]:
        rows.append(
            [
                item["name"],
                " ".join(item["tasks"]),
                _params(item["params"]),
                " ".join(item["aliases"]),
                item["summary"],
            ]
        )
    return rows


_NO_PARAM = {"name": "", "default": None, "allowed": "", "help": ""}


def _show(doc: dict[str, Any]) -> Rows:
    rows: Rows = [["name", "task", "param", "default", "allowed", "help"]]
    for v in doc["variants"]:
        for p in v["params"] or [_NO_PARAM]:
            rows.append(
                [
                    doc["name"],
                    " ".join(v["tasks"]),
                    p["name"],
                    _num(p["default"]),
                    p["allowed"],
                    p["help"],
                ]
            )
    return rows


def _recommend(doc: dict[str, Any]) -> Rows:
    rows: Rows = [["rank", "name", "losses", "params", "why"]]
    for r in doc["recommendations"]:
        rows.append([r["rank"], r["name"], " ".join(r["losses"]), _params(r["params"]), r["why"]])
    return rows


_VIEWS: dict[str, Callable[[dict[str, Any]], Rows]] = {
    "evaluate": _evaluate,
    "compare": _compare,
    "losses": _catalogue,
    "losses show": _show,
    "recommend": _recommend,
}


def render(doc: dict[str, Any]) -> str:
    """The tidy CSV of a result document: one observation per line, full precision."""
    try:
        view = _VIEWS[str(doc.get("command"))]
    except KeyError:  # pragma: no cover - every command has a view above
        raise ValueError(f"no CSV view for command {doc.get('command')!r}") from None
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(
        [[csv_cell(c) for c in row] for row in view(doc)]
    )
    return buf.getvalue()
