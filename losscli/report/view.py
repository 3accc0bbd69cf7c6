"""One view model of a result document, rendered by every human format.

:func:`build` turns an ``evaluate``, ``compare``, ``losses`` or ``losses show`` document
into a
:class:`View`: a heading, the task line, the gates verdict and a list of
:class:`Section` tables (losses, per class, gates, worst rows, sensitivity, inputs), plus
the summary sentences, warnings and evidence. The Rich table
(:mod:`losscli.report.table`), Markdown (:mod:`losscli.report.markdown`) and the HTML page
(:mod:`losscli.report.html`) render these same sections, each in its own markup; a new
field of the document is one edit here. JSON needs no view (it is the document) and
CSV stays one tidy table per command (:mod:`losscli.report.csv`).

Cells carry their text already formatted (``precision`` significant digits) and a
``kind`` that says what the text is, never how it looks: each renderer maps kinds to its
own markup (bold and colour, backticks and ``**``, CSS classes), and status is always
written out, never shown by colour alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from losscli.report import fmt_number, fmt_params, penalty_line, per_class_title, plural

#: Cell kinds: a loss or model name, a number, the best value of a row, a gate that
#: passed, a gate that failed, a value that could not be computed (its status written
#: out, the reason in the row or in the section's notes).
NAME, NUM, BEST, PASS, FAIL, MISSING = "name", "num", "best", "pass", "fail", "missing"


@dataclass(frozen=True)
class Cell:
    """One table cell: its text as shown and what it is (see the kinds above)."""

    text: str
    kind: str = ""


@dataclass(frozen=True)
class Column:
    """A column heading; ``numeric`` columns align right, ``wide`` ones take the spare
    width and wrap; ``page_only`` ones appear only on the HTML page."""

    name: str
    numeric: bool = False
    wide: bool = False
    page_only: bool = False


@dataclass(frozen=True)
class Section:
    """One table of a view. ``primary`` is the main table (right under the heading);
    ``caption`` is a line printed under it; ``empty`` is what the HTML page says when a
    section has no rows (other formats leave an empty section out); ``page_only``
    sections appear only on the HTML page, the full report. A section of ``text`` has
    no table: its lines are paragraphs, or list items when ``bullets``. ``notes`` are
    listed under the table (why a value is missing, where the row has no room for it)."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[Cell, ...]]
    caption: str = ""
    empty: str = ""
    primary: bool = False
    page_only: bool = False
    text: tuple[str, ...] = ()
    bullets: bool = False
    notes: tuple[str, ...] = ()

    def visible(self, *, page: bool) -> tuple[list[int], tuple[Column, ...]]:
        """Indices and columns shown in a format (``page``: the HTML page)."""
        keep = [i for i, c in enumerate(self.columns) if page or not c.page_only]
        return keep, tuple(self.columns[i] for i in keep)

    def cells(self, *, page: bool) -> list[tuple[Cell, ...]]:
        """The rows, restricted to the columns shown in a format."""
        keep, _ = self.visible(page=page)
        return [tuple(row[i] for i in keep) for row in self.rows]


@dataclass(frozen=True)
class View:
    """Everything a human format shows of one result document."""

    command: str
    title: str  # "losscli evaluate — binary"
    heading: str  # "losscli evaluate — binary (400 samples)"
    task_line: str  # "task binary (inferred) · … · 400 samples"
    sections: list[Section]
    verdict: str = ""  # "no gates" | "pass: all 2 gates passed" | "FAIL: 1 of 2 gates failed"
    failed: bool = False
    summary: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # page-only paragraphs (bootstrap …)
    because: str = ""  # what the evidence explains: "task binary (inferred) · …"

    def shown(self, *, page: bool = False) -> list[Section]:
        """The sections a format renders: the page shows all; the others leave out
        page-only and empty sections."""
        if page:
            return list(self.sections)
        return [s for s in self.sections if (s.rows or s.text) and not s.page_only]


# --------------------------------------------------------------------------- shared text


def task_parts(doc: Mapping[str, Any]) -> list[str]:
    """``["task binary (inferred)", "predictions are probabilities (given)", "400 samples"]``:
    the task, its input kind and the sample count, each with how it was known."""
    task = doc["task"]
    parts = [f"task {task['name']} ({'inferred' if task.get('inferred') else 'given'})"]
    if task.get("input"):
        how = "inferred" if task.get("input_inferred") else "given"
        parts.append(f"predictions are {task['input']} ({how})")
    parts.append(plural(doc["n_samples"], "sample"))
    return parts


def cell_text(value: Any, precision: int) -> str:
    """A prediction or target of a worst row: lists shortened to six entries."""
    if isinstance(value, list):
        shown = ", ".join(cell_text(x, precision) for x in value[:6])
        return f"[{shown}{', …' if len(value) > 6 else ''}]"
    if isinstance(value, float):
        return fmt_number(value, precision)
    return str(value)


def verdict(gates: Sequence[Mapping[str, Any]]) -> tuple[str, bool]:
    """The gates in one phrase, and whether any failed."""
    if not gates:
        return "no gates", False
    failed = sum(1 for g in gates if not g["passed"])
    if failed:
        return f"FAIL: {failed} of {len(gates)} gates failed", True
    return f"pass: all {len(gates)} gates passed", False


def _num(value: Any, precision: int) -> Cell:
    return Cell(fmt_number(value, precision), NUM)


def _status_text(status: str) -> str:
    return status.replace("_", " ")


# --------------------------------------------------------------------------- sections


def _signed(value: Any, precision: int) -> str:
    return "—" if value is None else f"{value:+.{precision}g}"


def _gate_cells(g: Mapping[str, Any], precision: int) -> tuple[Cell, Cell, Cell]:
    """Limit, value and result of one gate row (every kind of :mod:`losscli.gates`)."""
    from losscli.gates import MAX_INCREASE, NOT_WORSE, gate_state, increase_text

    kind = g.get("kind")
    v = g.get("value")
    if kind == MAX_INCREASE:
        limit = f"{g['op']} {increase_text(g['limit'], bool(g.get('relative')))}"
        shown = (
            f"{_signed(v * 100, precision)}%"
            if g.get("relative") and v is not None
            else _signed(v, precision)
        )
    elif kind == NOT_WORSE:
        limit = f"{g['op']} {g['vs']} + {fmt_number(g['limit'], precision)}"
        ci = g.get("ci")
        shown = _signed(v, precision)
        if ci:
            shown += f" [{_signed(ci[0], 3)}, {_signed(ci[1], 3)}]"
    else:
        limit = f"{g['op']} {fmt_number(g['limit'], precision)}"
        shown = fmt_number(v, precision)
    state = gate_state(g)
    value = Cell(str(g["error"]), MISSING) if g.get("error") else Cell(shown, NUM)
    result = {
        "passed": Cell("pass", PASS),
        "failed": Cell("FAIL", FAIL),
        "error": Cell("ERROR", FAIL),
    }[state]
    return Cell(limit, NUM), value, result


def gates_section(doc: Mapping[str, Any], precision: int) -> Section:
    """Gates (``--max``, ``--max-increase``, ``--fail-if-worse``): limit, value and the
    written-out result (with the model in ``compare``); a gate that could not be
    evaluated shows why, and ERROR."""
    gates = doc.get("gates") or []
    with_model = any("model" in g for g in gates)
    columns = (
        *((Column("model"),) if with_model else ()),
        Column("loss"),
        Column("limit", numeric=True),
        Column("value", numeric=True),
        Column("result"),
    )
    rows = [
        (
            *((Cell(str(g.get("model", ""))),) if with_model else ()),
            Cell(g["loss"], NAME),
            *_gate_cells(g, precision),
        )
        for g in gates
    ]
    return Section("gates", "gates", columns, rows, empty="No gates were set (use --max LOSS=V).")


def _convention_part(doc: Mapping[str, Any]) -> str:
    """`` · convention keras`` for a framework convention other than the default torch
    (``--convention``, SPEC §10); "" otherwise."""
    conv = doc.get("convention")
    return f" · convention {conv}" if conv and conv != "torch" else ""


def _evaluate_losses(doc: Mapping[str, Any], precision: int) -> Section:
    task = doc["task"]
    inferred = " (inferred)" if task.get("inferred") else ""
    kind = f", {task['input']}" if task.get("input") else ""
    reg = doc.get("regularization")
    skill = any(it.get("no_skill") is not None for it in doc["losses"])
    based = any("baseline" in it for it in doc["losses"])
    columns = (
        Column("loss"),
        Column("value", numeric=True),
        *((Column("+ penalty", numeric=True),) if reg else ()),
        *((Column("no skill", numeric=True), Column("skill", numeric=True)) if skill else ()),
        *((Column("baseline", numeric=True), Column("Δ", numeric=True)) if based else ()),
        Column("params"),
        Column("what it measures", wide=True),
    )
    rows = []
    for it in doc["losses"]:
        if it["status"] == "ok":
            value = _num(it["value"], precision)
        else:
            value = Cell(_status_text(it["status"]), MISSING)
        extra = (_num(it.get("regularized"), precision),) if reg else ()
        if skill:
            extra += (_num(it.get("no_skill"), precision), _num(it.get("skill"), precision))
        if based:
            extra += (_num(it.get("baseline"), precision), Cell(_delta(it, precision), NUM))
        rows.append(
            (
                Cell(it["name"], NAME),
                value,
                *extra,
                Cell(fmt_params(it["params"], precision)),
                Cell(it.get("reason") or it.get("summary", "")),
            )
        )
    return Section(
        "losses",
        f"{task['name']}{inferred}{kind} · {plural(doc['n_samples'], 'sample')}"
        + _convention_part(doc),
        columns,
        rows,
        caption=penalty_line(reg, precision) if reg else "",
        primary=True,
    )


def _evaluate_per_class(doc: Mapping[str, Any], precision: int) -> Section:
    items = [it for it in doc["losses"] if it.get("per_class")]
    names = list(dict.fromkeys(n for it in items for n in it["per_class"]))
    rows = [
        (
            Cell(it["name"], NAME),
            *(_num(it["per_class"].get(n), precision) for n in names),
        )
        for it in items
    ]
    columns = (Column("loss"), *(Column(n, numeric=True) for n in names))
    return Section("per_class", per_class_title(doc["task"]["name"]), columns, rows)


def _worst(doc: Mapping[str, Any], precision: int) -> Section:
    rows = [
        (
            Cell(str(w["row"]), NUM),
            Cell(str(w.get("id", ""))),
            Cell(cell_text(w["prediction"], precision)),
            Cell(cell_text(w["target"], precision)),
            _num(w["loss"], precision),
        )
        for w in doc.get("worst") or []
    ]
    columns = (
        Column("row", numeric=True),
        Column("id"),
        Column("prediction", wide=True),
        Column("target", wide=True),
        Column("loss", numeric=True),
    )
    return Section("worst", f"worst rows by {doc.get('worst_loss', '')}", columns, rows)


def inputs_section(by_model: Mapping[str, Mapping[str, Any]]) -> Section:
    """The input files (by model in ``compare``): role, path, columns and rows."""
    with_model = any(by_model)
    rows = []
    for model, inputs in by_model.items():
        for role, info in inputs.items():
            cols = info.get("columns") or []
            shown = ", ".join(str(c) for c in cols[:12]) + (" …" if len(cols) > 12 else "")
            rows.append(
                (
                    *((Cell(model),) if with_model else ()),
                    Cell(role),
                    Cell(str(info.get("path", "")), NAME),
                    Cell(shown),
                    Cell(str(info.get("rows", "")), NUM),
                )
            )
    columns = (
        *((Column("model"),) if with_model else ()),
        Column("file"),
        Column("path"),
        Column("columns", wide=True),
        Column("rows", numeric=True),
    )
    return Section("inputs", "inputs", columns, rows, page_only=True)


def _delta(it: Mapping[str, Any], precision: int, model: str | None = None) -> str:
    """``+0.02 (+5.1%)``: the change over the baseline of an evaluate loss entry (or of
    one model of a compare entry)."""
    if model is None:
        d, pct = it.get("delta"), it.get("delta_pct")
    else:
        d = (it.get("deltas") or {}).get(model)
        pct = (it.get("deltas_pct") or {}).get(model)
    if d is None:
        return "—"
    return _signed(d, precision) + ("" if pct is None else f" ({pct:+.3g}%)")


def _compare_value(it: Mapping[str, Any], model: str, precision: int, several: bool) -> Cell:
    v = it["values"].get(model)
    if v is None:
        status = (it.get("status") or {}).get(model, "ok")
        return Cell("—" if status == "ok" else _status_text(status), MISSING)
    text = fmt_number(v, precision)
    ci = (it.get("ci") or {}).get(model)
    if ci and ci[0] is not None:
        text += f" [{fmt_number(ci[0], 3)}, {fmt_number(ci[1], 3)}]"
    if model in (it.get("deltas") or {}):
        text += f" Δ {_delta(it, precision, model)}"
    return Cell(text, BEST if several and it.get("best") == model else NUM)


def _compare_losses(doc: Mapping[str, Any], precision: int) -> Section:
    models = list(doc["models"])
    several = len(models) > 1
    rows = [
        (
            Cell(it["name"], NAME),
            *(_compare_value(it, m, precision, several) for m in models),
            Cell(it.get("best") or ("not comparable" if it.get("best_reason") else "—")),
            Cell(fmt_params(it.get("params", {}), precision)),
        )
        for it in doc["losses"]
    ]
    columns = (
        Column("loss"),
        *(Column(m, numeric=True) for m in models),
        Column("best"),
        Column("params", page_only=True),
    )
    title = f"{doc['task']['name']} · {plural(doc['n_samples'], 'sample')} · lower is better"
    title += _convention_part(doc)
    notes = tuple(
        f"{it['name']} is {_status_text((it.get('status') or {}).get(m, ''))} for {m}: {why}"
        for it in doc["losses"]
        for m, why in (it.get("reasons") or {}).items()
        if why
    )
    return Section("losses", title, columns, rows, primary=True, notes=notes)


def _compare_per_class(doc: Mapping[str, Any], precision: int) -> Section:
    models = list(doc["models"])
    rows = []
    for it in (it for it in doc["losses"] if it.get("per_class")):
        by_model = it["per_class"]
        classes = dict.fromkeys(c for m in models for c in by_model.get(m) or {})
        rows += [
            (
                Cell(it["name"], NAME),
                Cell(c),
                *(_num((by_model.get(m) or {}).get(c), precision) for m in models),
            )
            for c in classes
        ]
    columns = (Column("loss"), Column("class"), *(Column(m, numeric=True) for m in models))
    return Section("per_class", per_class_title(doc["task"]["name"]), columns, rows)


def _share(v: float | None) -> str:
    return "—" if v is None else f"{v:.1%}"


def _sensitivity(doc: Mapping[str, Any], precision: int) -> Section:
    rows = [
        (
            Cell(s["loss"], NAME),
            _num(s.get("value"), precision),
            Cell(_share(s.get("top_1pct_share")), NUM),
            Cell(_share(s.get("top_5pct_share")), NUM),
        )
        for s in doc.get("sensitivity") or []
    ]
    columns = (
        Column("loss"),
        Column("value", numeric=True),
        Column("worst 1% carry", numeric=True),
        Column("worst 5% carry", numeric=True),
    )
    return Section("sensitivity", "outlier sensitivity", columns, rows, page_only=True)


# --------------------------------------------------------------------------- analysis


def _by_model(
    it: Mapping[str, Any], key: str, models: Sequence[str] | None
) -> list[tuple[str, Any]]:
    """``[(model, it[key])]``: one pair in evaluate (model ""), one per model in compare."""
    if models is None:
        return [("", it.get(key))]
    per = it.get(key) or {}
    return [(m, per.get(m)) for m in models]


def _gradients(doc: Mapping[str, Any], precision: int) -> Section:
    """``--grad``: per loss (and model) the mean and largest row gradient |g| (L1 over the
    prediction columns), the share the top 1 % of rows carry and the saturated rows."""
    models = list(doc["models"]) if "models" in doc else None
    rows, notes = [], []
    for it in doc["losses"]:
        if "grad" not in it:
            continue
        for m, g in _by_model(it, "grad", models):
            head = (Cell(it["name"], NAME), *((Cell(m),) if models else ()))
            if g is None:
                why = _by_model(it, "grad_reason", models)
                reason = dict(why).get(m) or ""
                rows.append((*head, *(Cell("—", MISSING) for _ in range(4))))
                notes.append(f"{it['name']}{' for ' + m if m else ''}: no gradient ({reason})")
                continue
            rows.append(
                (
                    *head,
                    _num(g.get("mean_abs"), precision),
                    _num(g.get("max_abs"), precision),
                    Cell(_share(g.get("top1pct_share")), NUM),
                    Cell(_share(g.get("saturated_share")), NUM),
                )
            )
    columns = (
        Column("loss"),
        *((Column("model"),) if models else ()),
        Column("mean |g|", numeric=True),
        Column("max |g|", numeric=True),
        Column("top 1% rows carry", numeric=True),
        Column("saturated rows", numeric=True),
    )
    return Section(
        "gradients",
        "gradient w.r.t. the predictions (|g| per row, L1 over columns)",
        columns,
        rows,
        notes=tuple(dict.fromkeys(notes)),
    )


def _precision(doc: Mapping[str, Any], precision: int) -> Section:
    """``--dtype``: each loss recomputed in a lower precision, with its relative error."""
    models = list(doc["models"]) if "models" in doc else None
    rows = []
    dtype = ""
    for it in doc["losses"]:
        if "precision" not in it:
            continue
        for m, p in _by_model(it, "precision", models):
            if p is None:
                continue
            dtype = p["dtype"]
            rel = p.get("rel_error")
            rows.append(
                (
                    Cell(it["name"], NAME),
                    *((Cell(m),) if models else ()),
                    _num(p.get("value"), precision)
                    if p.get("value") is not None
                    else Cell("non finite", MISSING),
                    Cell("—" if rel is None else f"{rel:.2e}", NUM),
                    Cell(str(p.get("non_finite_rows", 0)), NUM),
                    Cell(str(p.get("underflow_rows", 0)), NUM),
                )
            )
    columns = (
        Column("loss"),
        *((Column("model"),) if models else ()),
        Column(f"value in {dtype}" if dtype else "value", numeric=True),
        Column("relative error", numeric=True),
        Column("non-finite rows", numeric=True),
        Column("underflow rows", numeric=True),
    )
    return Section("precision", f"precision: recomputed in {dtype}", columns, rows)


def _terms(doc: Mapping[str, Any], precision: int) -> Section:
    """``--combine``: each composite's terms, their weight, value and shares (per model
    in compare)."""
    models = list(doc["models"]) if "models" in doc else None
    rows = []
    for it in doc["losses"]:
        for t in it.get("terms") or []:
            for m in models or [""]:

                def pick(key: str, m: str = m, t: Mapping[str, Any] = t) -> Any:
                    v = t.get("values" if key == "value" and models else key)
                    return v.get(m) if models and isinstance(v, Mapping) else v

                rows.append(
                    (
                        Cell(it["name"], NAME),
                        Cell(t["loss"]),
                        *((Cell(m),) if models else ()),
                        _num(t["weight"], precision),
                        _num(pick("value"), precision),
                        Cell(_share(pick("share")), NUM),
                        Cell(_share(pick("grad_share")) if "grad_share" in t else "", NUM),
                    )
                )
    columns = (
        Column("composite"),
        Column("term"),
        *((Column("model"),) if models else ()),
        Column("weight", numeric=True),
        Column("value", numeric=True),
        Column("share of value", numeric=True),
        Column("share of gradient", numeric=True),
    )
    return Section("terms", "composites: terms and shares", columns, rows)


def _analysis_sections(doc: Mapping[str, Any], precision: int) -> list[Section]:
    """The composite, gradient and precision sections of a document that has them
    (``--combine``, ``--grad``, ``--dtype``)."""
    out = []
    for key, section in (("terms", _terms), ("grad", _gradients), ("precision", _precision)):
        if any(key in it for it in doc["losses"]):
            out.append(section(doc, precision))
    return out


# --------------------------------------------------------------------------- views


def _texts(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The verdict, summary, warnings and evidence of a result (evaluate, compare)."""
    word, failed = verdict(doc.get("gates") or [])
    return {
        "verdict": word,
        "failed": failed,
        "summary": list(doc.get("summary", [])),
        "warnings": list(doc.get("warnings", [])),
        "evidence": list(doc.get("evidence", [])),
    }


def _evaluate(doc: Mapping[str, Any], precision: int) -> View:
    task = doc["task"]["name"]
    line = " · ".join(task_parts(doc))
    if doc.get("reduction"):
        line += f" · reduction {doc['reduction']}"
    line += _convention_part(doc)
    return View(
        command="evaluate",
        title=f"losscli evaluate — {task}",
        heading=f"losscli evaluate — {task} ({plural(doc['n_samples'], 'sample')})",
        task_line=line,
        sections=[
            _evaluate_losses(doc, precision),
            _evaluate_per_class(doc, precision),
            *_analysis_sections(doc, precision),
            gates_section(doc, precision),
            _worst(doc, precision),
            inputs_section({"": doc.get("inputs", {})}),
        ],
        **_texts(doc),
        because=line,
    )


def _compare(doc: Mapping[str, Any], precision: int) -> View:
    task = doc["task"]["name"]
    n = plural(doc["n_samples"], "sample")
    notes = []
    if doc.get("bootstrap"):
        b = doc["bootstrap"]
        notes.append(
            f"Intervals: {int(b['level'] * 100)}% paired {b['method']} bootstrap, "
            f"{b['replicates']} replicates, seed {b['seed']}."
        )
    return View(
        command="compare",
        title=f"losscli compare — {task}, {len(doc['models'])} models",
        heading=f"losscli compare — {task} ({n})",
        task_line=f"task {task} · {n} · lower is better" + _convention_part(doc),
        sections=[
            _compare_losses(doc, precision),
            _compare_per_class(doc, precision),
            *_analysis_sections(doc, precision),
            gates_section(doc, precision),
            _sensitivity(doc, precision),
            inputs_section(doc.get("inputs", {})),
        ],
        **_texts(doc),
        notes=notes,
        because=task_parts(doc)[0],
    )


def _catalogue(doc: Mapping[str, Any], precision: int) -> View:
    rows = [
        (
            Cell(it["name"], NAME),
            Cell(", ".join(it["tasks"])),
            Cell(fmt_params(it["params"], precision)),
            Cell(it["summary"]),
        )
        for it in doc["losses"]
    ]
    columns = (Column("loss"), Column("tasks"), Column("params"), Column("summary", wide=True))
    title = f"{len(doc['losses'])} losses"
    section = Section("losses", title, columns, rows, primary=True)
    return View(
        command="losses",
        title="losscli losses",
        heading="",
        task_line="",
        sections=[section],
        warnings=list(doc.get("warnings", [])),
    )


def _entry(name: str, i: int, v: Mapping[str, Any]) -> list[Section]:
    """One variant of a loss's catalogue entry: its facts, when to use it, its
    parameters and its references."""
    facts = [
        ("summary", v["summary"]),
        ("formula", v["formula"]),
        ("inputs", v["inputs"]),
        ("domain", "; ".join(v.get("domains") or [])),
        ("aliases", ", ".join(v.get("aliases") or [])),
        ("checked against", v.get("oracle") or ""),
    ]
    params = [
        (Cell(p["name"], NAME), Cell(str(p["default"])), Cell(p["allowed"]), Cell(p["help"]))
        for p in v.get("params") or []
    ]
    return [
        Section(
            f"entry{i}",
            f"{', '.join(v['tasks'])} · {name}",
            (Column("field"), Column("value", wide=True)),
            [(Cell(k), Cell(text)) for k, text in facts if text],
        ),
        Section(f"when{i}", "When to use", (), [], text=(v["when_to_use"],)),
        Section(
            f"params{i}",
            "parameters",
            (Column("param"), Column("default"), Column("allowed"), Column("meaning", wide=True)),
            params,
        ),
        _conventions_section(i, v),
        Section(f"references{i}", "References", (), [], text=tuple(v["references"]), bullets=True),
    ]


def _conventions_section(i: int, v: Mapping[str, Any]) -> Section:
    """``losses show``: each framework convention's parameter values and the peer API it
    mirrors (``--convention``, SPEC §10)."""
    rows = []
    for c in v.get("conventions") or []:
        changed = set(c.get("changes") or [])
        values = ", ".join(
            f"{k}={'*' if k in changed else ''}{val}" for k, val in c["params"].items()
        )
        mirror = c["api"] or ("(no such loss: defaults)" if not c["note"] else "")
        rows.append(
            (
                Cell(c["name"], NAME),
                Cell(mirror),
                Cell(values or "(no parameters)"),
                Cell(c.get("note") or ""),
            )
        )
    return Section(
        f"conventions{i}",
        "--convention (* = set by the convention)",
        (Column("convention"), Column("mirrors"), Column("values"), Column("note", wide=True)),
        rows,
    )


def _show(doc: Mapping[str, Any], precision: int) -> View:
    """``losses show NAME``: the catalogue entry of one loss, a group of sections per
    variant (the tasks it serves)."""
    name = doc["name"]
    return View(
        command="losses show",
        title=f"losscli losses show {name}",
        heading=f"`{name}`",
        task_line="",
        sections=[s for i, v in enumerate(doc["variants"]) for s in _entry(name, i, v)],
        warnings=list(doc.get("warnings", [])),
    )


_BUILDERS: dict[str, Callable[[Mapping[str, Any], int], View]] = {
    "evaluate": _evaluate,
    "compare": _compare,
    "losses": _catalogue,
    "losses show": _show,
}


def has_view(doc: Mapping[str, Any]) -> bool:
    """Whether :func:`build` knows the document's command."""
    return doc.get("command") in _BUILDERS


def build(doc: Mapping[str, Any], precision: int = 4) -> View:
    """The view of an ``evaluate``, ``compare``, ``losses`` or ``losses show`` document."""
    try:
        builder = _BUILDERS[str(doc.get("command"))]
    except KeyError:
        raise ValueError(f"no view for command {doc.get('command')!r}") from None
    return builder(doc, precision)
