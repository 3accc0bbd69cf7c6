"""Outputs that never lose data, never inject, and fail with the right signal
(docs/security.md, "Outputs"): an output never replaces an input; CSV, Markdown, HTML,
terminal text and chart labels carry hostile names and ids as text; disk-full, signals
and closed pipes exit with their codes and leave no temporary file; ``--exit-zero``;
the JSON error document."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from losscli.errors import ExitCode
from tests.conftest import write_csv

#: Strings that a spreadsheet, a Markdown renderer, a browser or a terminal would obey.
FORMULAS = ['=HYPERLINK("http://x","c")', "+cmd", "@SUM(A1)", "-2+3", "\tx", "\rx"]
HTML = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"]
TERMINAL = "cat\x1b[2K\x1b[1A"


def _regression(tmp_path: Path) -> tuple[Path, Path]:
    preds = write_csv(tmp_path / "preds.csv", ["p"], [[0.1], [0.5], [2.0], [2.9]])
    targets = write_csv(tmp_path / "targets.csv", ["y"], [[0.0], [1.0], [2.0], [3.0]])
    return preds, targets


def _with_ids(tmp_path: Path, ids: list[str]) -> Path:
    rows = [[x, 0.5 * i + 0.1 * (i % 3), 0.5 * i] for i, x in enumerate(ids)]
    return write_csv(tmp_path / "ids.csv", ["id", "p", "y"], rows)


def _no_temp(directory: Path) -> None:
    assert not [p.name for p in directory.rglob("*.tmp")]


# --------------------------------------------------------------------------- inputs


@pytest.mark.parametrize("kind", ["same", "dotdot", "symlink", "hardlink"])
def test_an_output_never_replaces_an_input(cli, tmp_path, kind):
    preds, targets = _regression(tmp_path)
    before = targets.read_bytes()
    out = {
        "same": str(targets),
        "dotdot": str(tmp_path / "sub" / ".." / "targets.csv"),
        "symlink": str(tmp_path / "link.csv"),
        "hardlink": str(tmp_path / "hard.csv"),
    }[kind]
    if kind == "symlink":
        os.symlink(targets, out)
    if kind == "hardlink":
        os.link(targets, out)
    for flag in ("-o", "--per-sample"):
        r = cli("evaluate", preds, targets, flag, out)
        assert r.exit_code == ExitCode.USAGE_ERROR, (flag, r.stderr)
        assert "refusing to write" in r.stderr and "targets.csv" in r.stderr
        assert targets.read_bytes() == before
    assert not (tmp_path / "sub").exists()
    _no_temp(tmp_path)


def test_config_directory_glob_and_rules_inputs_are_protected(cli, tmp_path):
    preds, targets = _regression(tmp_path)
    cfg = tmp_path / "c.yaml"
    cfg.write_text("reduction: mean\n")
    r = cli("evaluate", preds, targets, "--config", cfg, "-o", tmp_path / "c.yaml.json")
    assert r.exit_code == 0, r.stderr  # a different file is fine
    r = cli("evaluate", preds, targets, "--config", cfg, "--per-sample", cfg)
    assert r.exit_code == ExitCode.USAGE_ERROR and cfg.read_text() == "reduction: mean\n"

    parts = tmp_path / "parts"
    parts.mkdir()
    write_csv(parts / "a.csv", ["p", "y"], [[0.1, 0.0], [0.4, 1.0]])
    write_csv(parts / "b.csv", ["p", "y"], [[1.9, 2.0], [3.2, 3.0]])
    for source, out in [
        (parts, parts / "a.csv"),
        (parts, parts / "new.csv"),  # would be read as a partition next time
        (f"{parts}/*.csv", parts / "b.csv"),
        (f"{parts}/*.csv", parts / "c.csv"),
    ]:
        r = cli("evaluate", source, "--pred-col", "p", "--target-col", "y", "-o", out)
        assert r.exit_code == ExitCode.USAGE_ERROR, (source, out, r.stderr)
    assert not (parts / "new.csv").exists() and not (parts / "c.csv").exists()

    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    r = cli("recommend", "--task", "regression", "--rules", rules, "-o", rules.with_suffix(".md"))
    assert r.exit_code == 0, r.stderr
    link = tmp_path / "rules.csv"
    os.symlink(rules, link)
    r = cli("recommend", "--task", "regression", "--rules", rules, "-o", link)
    assert r.exit_code == ExitCode.USAGE_ERROR and rules.read_text() == RULES


def test_api_refuses_per_sample_onto_an_input(tmp_path):
    import losscli
    from losscli.errors import UsageError

    preds, targets = _regression(tmp_path)
    with pytest.raises(UsageError, match="refusing to write"):
        losscli.evaluate(str(preds), str(targets), per_sample_path=str(preds))
    assert preds.read_text().startswith("p\n")


# --------------------------------------------------------------------------- CSV


def test_csv_text_rule():
    from losscli.per_sample import csv_cell, csv_text

    for text in FORMULAS:
        assert csv_text(text) == "'" + text
    for plain in ["-2", "+1.5e-3", "-inf", "mse", "a=b", "", "0.5"]:
        assert csv_text(plain) == plain
    assert csv_cell(-2.5) == "-2.5" and csv_cell(-3) == "-3" and csv_cell(None) == ""
    assert csv_cell("-2.5") == "-2.5" and csv_cell("=1") == "'=1"


def _csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_per_sample_and_worst_ids_are_escaped(cli, tmp_path):
    ids = [*FORMULAS[:4], *HTML, "a|b", "-5", TERMINAL, "![t](http://e/p.png)", "$x^2$"]
    f = _with_ids(tmp_path, ids)
    rows = tmp_path / "rows.csv"
    md = tmp_path / "s.md"
    r = cli(
        "evaluate", f, "--pred-col", "p", "--target-col", "y", "--id-col", "id",
        "--per-sample", rows, "--worst", str(len(ids)), "-o", md,
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    got = {row[1] for row in _csv_rows(rows.read_text())[1:]}
    for text in FORMULAS[:4]:  # (readers strip the blanks around an id)
        assert "'" + text in got and text not in got
    assert "-5" in got  # a number-like id stays as it is
    values = [row[2] for row in _csv_rows(rows.read_text())[1:]]
    assert all(not v.startswith("'") for v in values)

    text = md.read_text()
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text and "a\\|b" in text
    assert "](http" not in text and "![t]\\(http://e/p.png)" in text and "\\$x^2\\$" in text
    table = [ln for ln in text.splitlines() if ln.startswith("|") and "a\\|b" in ln]
    assert table and all(len(re.findall(r"(?<!\\)\|", ln)) == 6 for ln in table), table


def test_compare_names_are_escaped_in_csv_and_markdown(cli, tmp_path):
    preds, targets = _regression(tmp_path)
    other = write_csv(tmp_path / "b.csv", ["p"], [[0.2], [0.6], [1.9], [3.1]])
    names = '=HYPERLINK("http://x"),' + HTML[0] + "|x"
    out = {k: tmp_path / f"c.{k}" for k in ("csv", "md")}
    r = cli(
        "compare", preds, other, targets, "--names", names, "--max", "mse=1e-9",
        "--exit-zero", *[a for p in out.values() for a in ("-o", p)],
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    models = {row[0] for row in _csv_rows(out["csv"].read_text())[1:]}
    assert models == {'\'=HYPERLINK("http://x")', HTML[0] + "|x"}
    md = out["md"].read_text()
    assert "<script>" not in md and "&lt;script&gt;alert(1)&lt;/script&gt;\\|x" in md


def test_recommend_rules_text_is_escaped(cli, tmp_path):
    from losscli.report import render
    from losscli.rules import recommend

    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    doc = recommend("regression", [], rules_path=str(rules))
    rows = _csv_rows(render(doc, "csv"))
    assert rows[1][1] == "'@SUM(A1)" and rows[1][4].startswith("'=HYPERLINK")
    md = render(doc, "markdown")
    assert "<script>" not in md and "&lt;script&gt;" in md
    r = cli("recommend", "--task", "regression", "--rules", rules)
    assert r.exit_code == 0 and "\x1b" not in r.stdout and "\\x1b[2K" in r.stdout


RULES = """\
version: 1
sources:
  guide: "A guide"
rules:
  - id: reg
    when: {task: regression}
    why: "=HYPERLINK(\\"http://x\\") <script>alert(1)</script> \\e[2K"
    source: [{ref: guide, section: "Regression"}]
    recommend:
      name: "@SUM(A1)"
      losses: [mse]
      cost: 1
"""


# --------------------------------------------------------------------------- terminal, charts


def test_control_characters_never_reach_the_terminal(cli, tmp_path):
    from losscli.report.terminal import terminal_text

    assert terminal_text(TERMINAL) == "cat\\x1b[2K\\x1b[1A"
    assert terminal_text("a\tb\nc é") == "a\tb\nc é"
    assert terminal_text("x\u202ey\x9b") == "x\\u202ey\\x9b"
    names = [TERMINAL, "dog\x07", "bird\x1b]0;title\x07"]
    rows = [[0.7, 0.2, 0.1, names[0]], [0.1, 0.8, 0.1, names[1]], [0.2, 0.2, 0.6, names[2]]]
    f = write_csv(tmp_path / "mc.csv", [*names, "y"], rows)
    r = cli("evaluate", f, "--target-col", "y", "--per-class")
    assert r.exit_code == 0, r.stderr
    for stream in (r.stdout, r.stderr):
        assert not re.search("[\x00-\x08\x0b-\x1f\x7f]", stream), stream
    assert "cat\\x1b[2K" in r.stdout and "cat\\x1b[2K" in r.stderr
    r = cli("evaluate", f, "--target-col", "y", "--plot", "-q")
    assert r.exit_code == 0 and "\x1b" not in r.stdout and "cat\\x1b[2K" in r.stdout
    r = cli("evaluate", tmp_path / "no\x1b[2Kpe.csv", tmp_path / "mc.csv")
    assert r.exit_code == ExitCode.DATA_ERROR and "\x1b" not in r.stderr
    assert "no\\x1b[2Kpe.csv" in r.stderr


@pytest.mark.slow
def test_html_escapes_and_chart_labels_are_plain_text(cli, tmp_path):
    preds, targets = _regression(tmp_path)
    other = write_csv(tmp_path / "b.csv", ["p"], [[0.2], [0.6], [1.9], [3.1]])
    page = tmp_path / "c.html"
    names = "m$\\bogus{x$ " + HTML[0] + "," + HTML[1] + "$y$"
    r = cli("compare", preds, other, targets, "--names", names, "-o", page)
    assert r.exit_code == 0, r.stderr  # mathtext would fail on \bogus
    text = page.read_text()
    assert "<script>alert" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)" in text and "&lt;img src=x onerror=alert(1)&gt;$y$" in text
    svg = "".join(re.findall(r"<svg.*?</svg>", text, re.S))
    assert "m$\\bogus{x$" in svg and "$y$" in svg

    f = _with_ids(tmp_path, [*HTML, "$x$"])
    page = tmp_path / "e.html"
    r = cli("evaluate", f, "--pred-col", "p", "--target-col", "y", "--id-col", "id",
            "--worst", "3", "-o", page)  # fmt: skip
    assert r.exit_code == 0, r.stderr
    assert "<script>alert" not in page.read_text() and "<img src=x" not in page.read_text()


def test_rich_markup_in_names_is_text(cli, tmp_path):
    names = ["[bold]a", "b[/]", "c"]
    rows = [[0.7, 0.2, 0.1, names[0]], [0.2, 0.7, 0.1, names[1]], [0.1, 0.3, 0.6, names[2]]]
    f = write_csv(tmp_path / "mk.csv", [*names, "y"], rows)
    r = cli("evaluate", f, "--target-col", "y", "--per-class")
    assert r.exit_code == 0, r.stderr  # was: MarkupError, exit 4
    assert "[bold]a" in r.stdout and "b[/]" in r.stdout
    preds, targets = _regression(tmp_path)
    r = cli("compare", preds, preds, targets, "--names", "[/]x,[red]y")
    assert r.exit_code == 0 and "[/]x" in r.stdout and "[red]y" in r.stdout, r.stderr


# --------------------------------------------------------------------------- exit behaviour


def test_non_finite_gate_limit_is_a_usage_error(cli, tmp_path):
    preds, targets = _regression(tmp_path)
    for limit in ("inf", "-inf", "Infinity"):
        r = cli("evaluate", preds, targets, "--max", f"mse={limit}", "--json")
        assert r.exit_code == ExitCode.USAGE_ERROR, r.stderr
        assert "finite" in r.json()["error"]["message"]
    cfg = tmp_path / "c.yaml"
    cfg.write_text("gates: {max: {mse: .inf}}\n")
    r = cli("evaluate", preds, targets, "--config", cfg)
    assert r.exit_code == ExitCode.USAGE_ERROR and "finite" in r.stderr


def test_exit_zero_turns_only_gate_failures_into_zero(cli, tmp_path):
    preds, targets = _regression(tmp_path)
    r = cli("evaluate", preds, targets, "--max", "mse=1e-9", "--exit-zero", "--json")
    assert r.exit_code == 0 and r.json()["ok"] is False and "gate failed" in r.stderr
    r = cli("evaluate", preds, targets, "--max", "mse=1e-9", "--exit-zero", "--no-exit-zero")
    assert r.exit_code == ExitCode.GATE_FAILED
    r = cli("compare", preds, preds, targets, "--max", "mse=1e-9", "--exit-zero")
    assert r.exit_code == 0
    r = cli("evaluate", tmp_path / "missing.csv", targets, "--exit-zero")
    assert r.exit_code == ExitCode.DATA_ERROR
    cfg = tmp_path / "c.yaml"
    cfg.write_text("exit_zero: true\n")
    r = cli("evaluate", preds, targets, "--max", "mse=1e-9", "--config", cfg)
    assert r.exit_code == 0


def _error_doc(r: Any, code: int, command: str) -> dict[str, Any]:
    assert r.exit_code == code, (r.exit_code, r.stderr)
    doc = r.json()
    assert set(doc) == {"schema_version", "command", "ok", "error"}
    assert doc["ok"] is False and doc["command"] == command
    assert set(doc["error"]) == {"code", "message", "hint"}
    assert doc["error"]["code"] == code and doc["error"]["message"]
    assert r.stderr.count("\n") <= 4 and "Traceback" not in r.stderr
    return doc


def test_failed_json_runs_print_one_error_document(cli, tmp_path):
    preds, targets = _regression(tmp_path)
    _error_doc(cli("evaluate", preds, targets, "--bogus", "--json"), 2, "evaluate")
    _error_doc(cli("evaluate", preds, targets, "--precision", "0", "-f", "json"), 2, "evaluate")
    doc = _error_doc(cli("evaluate", tmp_path / "nope.csv", "--format=json"), 3, "evaluate")
    assert "nope.csv" in doc["error"]["message"]
    _error_doc(cli("compare", preds, targets, "--loss", "hubber", "--json"), 2, "compare")
    _error_doc(cli("losses", "show", "nosuchloss", "--json"), 2, "losses show")
    _error_doc(cli("recommend", "--task", "regresion", "--json"), 2, "recommend")
    r = cli("evaluate", preds, targets, "--bogus")  # no JSON asked: nothing on stdout
    assert r.exit_code == 2 and r.stdout == ""


def test_successful_json_documents_say_ok(cli, tmp_path):
    preds, targets = _regression(tmp_path)
    for args in [
        ("evaluate", preds, targets),
        ("compare", preds, preds, targets),
        ("recommend", "--task", "regression"),
        ("losses",),
        ("losses", "show", "mse"),
    ]:
        r = cli(*args, "--json")
        assert r.exit_code == 0, (args, r.stderr)
        doc = r.json()
        assert doc["ok"] is True and list(doc)[:3] == ["schema_version", "command", "ok"], args


def test_device_output_is_refused_and_all_outputs_or_none(cli, tmp_path):
    preds, targets = _regression(tmp_path)
    dev = tmp_path / "full.json"
    os.symlink("/dev/null", dev)
    r = cli("evaluate", preds, targets, "-o", tmp_path / "a.json", "-o", dev)
    assert r.exit_code == ExitCode.USAGE_ERROR and "not a regular file" in r.stderr
    assert not (tmp_path / "a.json").exists()

    from losscli.errors import UsageError
    from losscli.files import write_all_atomic

    (tmp_path / "afile").write_text("x")
    with pytest.raises(UsageError, match="afile"):
        write_all_atomic([(str(tmp_path / "ok.md"), "a"), (str(tmp_path / "afile" / "b.md"), "b")])
    assert not (tmp_path / "ok.md").exists()
    _no_temp(tmp_path)


# --------------------------------------------------------------------------- processes


def _losscli(*args: Any, **kw: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "losscli", *map(str, args)],
        stdout=kw.pop("stdout", subprocess.PIPE),
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "120"},
        **kw,
    )


@pytest.fixture(scope="module")
def big_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import numpy as np

    path = tmp_path_factory.mktemp("big") / "big.csv"
    rng = np.random.default_rng(0)
    y = rng.normal(size=200_000)
    data = np.c_[y + rng.normal(size=y.size), y]
    np.savetxt(path, data, delimiter=",", header="p,y", comments="", fmt="%.6f")
    return path


@pytest.mark.slow
@pytest.mark.parametrize(
    ("sig", "code", "word"),
    [(signal.SIGINT, 130, "interrupted"), (signal.SIGTERM, 143, "terminated")],
)
def test_signals_exit_with_one_line_and_leave_no_file(tmp_path, big_input, sig, code, word):
    before = big_input.stat().st_mtime_ns, big_input.stat().st_size
    out = tmp_path / "out"
    proc = _losscli(
        "evaluate", big_input, "--chunk-size", "2000",
        "--per-sample", out / "rows.csv", "-o", out / "report.json",
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while not list(out.glob(".*.tmp")):  # the run is writing: interrupt it now
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.02)
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == code, stderr
    lines = stderr.decode().splitlines()
    assert len(lines) == 1 and word in lines[0], lines
    assert not out.exists() or list(out.iterdir()) == []  # folders it made are removed too
    assert (big_input.stat().st_mtime_ns, big_input.stat().st_size) == before


@pytest.mark.slow
def test_file_size_limit_and_full_disk_exit_2_naming_the_output(tmp_path, big_input):
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (100_000, 100_000))

    rows = tmp_path / "rows.csv"
    proc = _losscli(
        "evaluate", big_input, "--chunk-size", "20000", "--per-sample", rows, "-q",
        preexec_fn=limit,
    )  # fmt: skip
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == ExitCode.USAGE_ERROR, err
    assert f"cannot write '{rows}'" in err.decode()
    _no_temp(tmp_path)
    preds, targets = _regression(tmp_path)
    for fmt in ("table", "json"):
        with open("/dev/full", "wb") as full:
            proc = _losscli("evaluate", preds, targets, "-f", fmt, "-q", stdout=full)
            _, err = proc.communicate(timeout=120)
        assert proc.returncode == ExitCode.USAGE_ERROR, err
        assert "standard output" in err.decode() and "Traceback" not in err.decode()


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["table", "json", "csv", "markdown"])
def test_closed_stdout_pipe_exits_141_quietly(tmp_path, fmt):
    preds, targets = _regression(tmp_path)
    read, write = os.pipe()
    os.close(read)  # like `| head -0`: nobody reads
    proc = _losscli("evaluate", preds, targets, "-f", fmt, "-q", stdout=write)
    os.close(write)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == ExitCode.BROKEN_PIPE, err
    assert err == b""


def test_a_bad_option_value_in_a_json_run_gives_the_error_document(cli):
    r = cli("evaluate", "--json", "--worst", "many")
    doc = _error_doc(r, 2, "evaluate")
    assert json.dumps(doc)
