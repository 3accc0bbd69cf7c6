"""losscli run unattended in CI, on hostile file names and settings (SPEC §11,
docs/security.md): interruptions outside a command body, LOSSCLI_FORMAT with parse errors
and with --json, a pyproject.toml that is not UTF-8, and model names that carry control
characters or undecodable bytes into JUnit XML, annotations and every report."""

from __future__ import annotations

import json
import os
import signal
import xml.etree.ElementTree as ET
from pathlib import Path

import junitparser
import pytest

from tests.conftest import SAMPLES

PREDS = SAMPLES / "regression_preds.csv"
PREDS_B = SAMPLES / "regression_preds_b.csv"
TARGETS = SAMPLES / "regression_targets.csv"


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.strip()]


def test_ctrl_c_before_the_command_body_is_130_with_one_line(cli, monkeypatch):
    # Typer turns a KeyboardInterrupt outside the body into a silent exit 130
    def interrupted() -> tuple[str, bool]:
        raise KeyboardInterrupt

    monkeypatch.setattr("losscli.cli._invocation", interrupted)
    r = cli("evaluate", PREDS, TARGETS)
    assert r.exit_code == 130
    assert _error_lines(r.stderr) == [
        "Error: interrupted (Ctrl-C); no partial output file was left"
    ]
    assert "Traceback" not in r.stdout + r.stderr


def test_ctrl_c_inside_the_body_says_it_once(cli, monkeypatch, tmp_path):
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("losscli.report.write_files", interrupted)
    out = tmp_path / "r.json"
    r = cli("evaluate", PREDS, TARGETS, "-o", out, "--quiet")
    assert r.exit_code == 130
    assert len(_error_lines(r.stderr)) == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("exc", "code", "word"),
    [(KeyboardInterrupt, 130, "interrupted"), ("terminated", 143, "terminated")],
)
def test_entry_point_turns_a_signal_while_loading_into_its_exit_code(
    monkeypatch, capsys, exc, code, word
):
    import losscli.cli
    from losscli import entry
    from losscli.errors import Terminated

    error = Terminated if exc == "terminated" else exc

    def loading() -> None:
        raise error()

    monkeypatch.setattr(losscli.cli, "main", loading)
    saved = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        with pytest.raises(SystemExit) as info:
            entry.main()
    finally:
        for number, handler in saved.items():
            signal.signal(number, handler)
    assert info.value.code == code
    err = capsys.readouterr().err
    assert len(_error_lines(err)) == 1 and word in err


def test_losscli_format_json_gives_the_error_document_on_a_parse_error(cli):
    r = cli("evaluate", PREDS, TARGETS, "--no-such-flag", env={"LOSSCLI_FORMAT": "json"})
    assert r.exit_code == 2
    doc = r.json()
    assert doc["ok"] is False and doc["error"]["code"] == 2
    assert doc["command"] == "evaluate"
    # a format on the command line wins over the environment: no document then
    r = cli("evaluate", PREDS, TARGETS, "--bogus", "-f", "csv", env={"LOSSCLI_FORMAT": "json"})
    assert r.exit_code == 2 and r.stdout == ""


def test_json_flag_wins_over_losscli_format(cli):
    r = cli("evaluate", PREDS, TARGETS, "--json", "--quiet", env={"LOSSCLI_FORMAT": "csv"})
    assert r.exit_code == 0, r.stderr
    assert r.json()["command"] == "evaluate"
    r = cli("evaluate", "nope.csv", TARGETS, "--json", env={"LOSSCLI_FORMAT": "markdown"})
    assert r.exit_code == 3 and r.json()["error"]["code"] == 3
    # both on the command line still conflict
    r = cli("evaluate", PREDS, TARGETS, "--json", "--format", "csv")
    assert r.exit_code == 2 and "conflicts" in r.stderr


def test_a_pyproject_that_is_not_utf8_is_a_usage_error(cli, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_bytes("[tool.losscli]\nlosses = ['mae']\n".encode("utf-16"))
    monkeypatch.chdir(tmp_path)
    r = cli("evaluate", PREDS, TARGETS)
    assert r.exit_code == 2, r.stderr
    assert "pyproject.toml" in r.stderr and "UTF-8" in r.stderr
    # someone else's binary-ish pyproject (no losscli table) is not ours to judge
    (tmp_path / "pyproject.toml").write_bytes(b"[tool.other]\nx = '\xff'\n")
    assert cli("evaluate", PREDS, TARGETS, "--quiet").exit_code == 0


def _named_copy(folder: Path, name: str) -> str:
    raw = os.fsencode(str(folder)) + b"/" + os.fsencode(name) + b".csv"
    with open(raw, "wb") as fh:
        fh.write(PREDS_B.read_bytes())
    return os.fsdecode(raw)


def test_control_characters_in_a_model_name_keep_junit_and_annotations_clean(cli, tmp_path):
    model = _named_copy(tmp_path, "m\x1b[31m\x01")
    xml = tmp_path / "out" / "gates.xml"
    summary = tmp_path / "summary.md"
    r = cli(
        "compare", PREDS, model, TARGETS, "--max", "mse=1", "-o", xml, "--quiet",
        env={"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert r.exit_code == 1, r.stderr
    names = [c.get("name") for c in ET.parse(xml).iter("testcase")]  # well-formed
    assert names[1] == "mse <= 1 m\\x1b[31m\\x01"
    junitparser.JUnitXml.fromfile(str(xml))
    annotations = [line for line in r.stderr.splitlines() if line.startswith("::error")]
    assert len(annotations) == 2
    assert all("\x1b" not in a and "\x01" not in a for a in annotations)
    assert any("\\x1b" in a for a in annotations)


def test_an_undecodable_file_name_leaves_every_report_writable(cli, tmp_path):
    model = os.fsdecode(os.fsencode(_named_copy(tmp_path, "x")).replace(b"/x.csv", b"/m\xff.csv"))
    os.rename(os.path.join(tmp_path, "x.csv"), model)
    out = tmp_path / "out"
    files = [out / n for n in ("r.json", "r.metrics.json", "r.xml", "r.md", "r.csv")]
    args = [a for f in files for a in ("-o", f)]
    r = cli("compare", PREDS, model, TARGETS, "--max", "mse=1", "--json", "--quiet", *args)
    assert r.exit_code == 1, r.stderr
    doc = r.json()
    assert doc["models"][1] == "m\\xff"
    for f in files:
        assert "xff" in f.read_bytes().decode("utf-8")  # strict: valid UTF-8
    assert json.loads((out / "r.json").read_text())["models"][1] == "m\\xff"
    ET.parse(out / "r.xml")


def test_a_huge_precision_is_a_usage_error_not_a_crash(cli):
    r = cli("evaluate", PREDS, TARGETS, "--precision", "10" * 11, "--json")
    assert r.exit_code == 2
    assert r.json()["error"]["code"] == 2 and "--precision" in r.stderr
    r = cli("evaluate", PREDS, TARGETS, "--quiet", env={"LOSSCLI_PRECISION": "1000000"})
    assert r.exit_code == 2 and "LOSSCLI_PRECISION" in r.stderr
    assert cli("evaluate", PREDS, TARGETS, "--quiet", "--precision", "100").exit_code == 0


def test_an_infinite_margin_names_its_own_flag(cli):
    r = cli(
        "compare", PREDS, PREDS_B, TARGETS, "--baseline", "regression_preds",
        "--fail-if-worse", "mse", "--margin", "mse=inf",
    )  # fmt: skip
    assert r.exit_code == 2
    assert "--margin mse: limit must be a finite number" in r.stderr
    assert "--max" not in r.stderr


def test_a_failed_write_removes_the_folders_it_created(cli, tmp_path, monkeypatch):
    import errno

    from losscli.files import AtomicFile

    real_write = AtomicFile.write

    def full_disk(self: AtomicFile, text: str) -> None:
        if self.path.name == "b.json":
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(self, text)

    monkeypatch.setattr(AtomicFile, "write", full_disk)
    out = tmp_path / "new" / "deeper"
    r = cli("evaluate", PREDS, TARGETS, "-o", out / "a.json", "-o", out / "b.json", "--quiet")
    assert r.exit_code == 2 and "cannot write" in r.stderr
    assert list(tmp_path.iterdir()) == []  # neither a file nor an empty folder is left
    # and a run that succeeds creates the missing folders
    monkeypatch.setattr(AtomicFile, "write", real_write)
    assert cli("evaluate", PREDS, TARGETS, "-o", out / "b.json", "--quiet").exit_code == 0
    assert json.loads((out / "b.json").read_text())["command"] == "evaluate"


def test_a_key_given_twice_in_a_config_is_refused(cli, tmp_path):
    config = tmp_path / "losscli.yaml"
    config.write_text("gates:\n  max: {mse: 0.1}\nlosses: [mse]\ngates:\n  max: {mae: 99}\n")
    r = cli("evaluate", PREDS, TARGETS, "--config", config, "--json")
    assert r.exit_code == 2
    assert "key 'gates' appears twice" in r.json()["error"]["message"]
    assert "lines 1 and 4" in r.stderr
