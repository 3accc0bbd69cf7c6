"""The CLI spine: help, version, output plumbing, error mapping, import discipline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from losscli.errors import ExitCode
from losscli.files import write_atomic
from losscli.report import format_for_path, write_files

COMMANDS = ["evaluate", "compare", "recommend", "losses"]


def test_root_help_lists_every_command(cli):
    r = cli("--help")
    assert r.exit_code == 0
    for cmd in COMMANDS:
        assert cmd in r.stdout
    assert "Exit codes" in r.stdout


@pytest.mark.parametrize("cmd", COMMANDS)
def test_every_command_has_help_with_an_example(cli, cmd):
    r = cli(cmd, "--help")
    assert r.exit_code == 0, r.stderr
    assert "Example: losscli " + cmd in r.stdout


def test_short_help_flag(cli):
    assert cli("-h").exit_code == 0


def test_version_names_tool_python_numpy_pandas(cli):
    r = cli("--version")
    assert r.exit_code == 0
    for word in ("losscli", "Python", "numpy", "pyarrow", "pandas"):
        assert word in r.stdout


def test_version_imports_no_data_library():
    """Versions come from the installed metadata: pandas alone would cost 0.3 s."""
    code = (
        "import sys; from typer.testing import CliRunner; from losscli.cli import app; "
        "CliRunner().invoke(app, ['--version']); "
        "print(sorted(m for m in ('pandas', 'pyarrow') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_unknown_command_is_usage_error(cli):
    r = cli("evalute")
    assert r.exit_code == ExitCode.USAGE_ERROR


def test_losses_json_is_strict_and_versioned(cli):
    r = cli("losses", "--format", "json")
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    assert doc["schema_version"] == 1 and doc["command"] == "losses"
    names = {it["name"] for it in doc["losses"]}
    assert {"mse", "bce", "cross_entropy", "dice"} <= names
    assert r.stderr == ""


def test_json_shorthand_equals_format_json(cli):
    assert cli("losses", "--json").stdout == cli("losses", "-f", "json").stdout


def test_json_conflicts_with_other_format(cli):
    r = cli("losses", "--json", "--format", "csv")
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert "Error: --json conflicts with --format csv" in r.stderr
    assert "Traceback" not in r.stderr + r.stdout


def test_losses_show_unknown_name_suggests(cli):
    r = cli("losses", "show", "hubber")
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert "Error: unknown loss 'hubber'" in r.stderr
    assert "did you mean 'huber'" in r.stderr
    assert r.stdout == ""


def test_losses_show_renders_every_section(cli):
    r = cli("losses", "show", "huber")
    assert r.exit_code == 0
    for word in ("formula", "When to use", "References", "delta"):
        assert word in r.stdout


def test_losses_unknown_task(cli):
    r = cli("losses", "--task", "segmentaton")
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert "did you mean 'segmentation'" in r.stderr


@pytest.mark.parametrize("fmt", ["csv", "markdown", "table"])
def test_losses_other_formats(cli, fmt):
    r = cli("losses", "--format", fmt)
    assert r.exit_code == 0
    assert "mse" in r.stdout


def test_outputs_follow_extension(cli, tmp_path):
    paths = [tmp_path / "a.json", tmp_path / "b.csv", tmp_path / "c.md", tmp_path / "d.html"]
    args = ["losses"]
    for p in paths:
        args += ["-o", str(p)]
    r = cli(*args, "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(paths[0].read_text())["command"] == "losses"
    assert paths[1].read_text().startswith("name,tasks,params")
    assert paths[2].read_text().startswith("| loss |")
    html = paths[3].read_text()
    assert "<html" in html.lower() and "http://" not in html.split("<body")[1]


def test_output_with_unknown_extension_is_usage_error_and_writes_nothing(cli, tmp_path):
    good = tmp_path / "ok.json"
    r = cli("losses", "-o", str(good), "-o", str(tmp_path / "x.weird"))
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert not good.exists()


def test_write_atomic_leaves_old_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "r.json"
    target.write_text("old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_atomic(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_write_files_renders_everything_before_writing(tmp_path):
    def render(kind: str) -> str:
        if kind == "csv":
            raise RuntimeError("renderer failed")
        return "{}"

    with pytest.raises(RuntimeError):
        write_files([str(tmp_path / "a.json"), str(tmp_path / "b.csv")], render)
    assert list(tmp_path.iterdir()) == []


def test_format_for_path():
    assert format_for_path("x/report.MD") == "markdown"
    assert format_for_path("r.html") == "html"


def _modules_after(args: list[str]) -> set[str]:
    code = (
        "import sys\n"
        "from losscli.cli import app\n"
        "try:\n"
        f"    app({args!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('MODULES: ' + ' '.join(sorted(sys.modules)) + '\\n')\n"
    )
    env = dict(os.environ, NO_COLOR="1")
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    line = next(x for x in out.stderr.splitlines() if x.startswith("MODULES: "))
    return set(line.split()[1:])


@pytest.mark.parametrize(
    "args",
    [["--help"], ["losses", "--json"], ["recommend", "--task", "binary", "--json"]],
    ids=["help", "losses", "recommend"],
)
def test_light_commands_do_not_import_pandas_or_pyarrow(args):
    mods = _modules_after(args)
    assert "pandas" not in mods
    assert "pyarrow" not in mods


def test_help_does_not_import_numpy():
    assert "numpy" not in _modules_after(["--help"])


def test_readme_test_command_is_what_ci_runs():
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text()
    ci = (root / ".ci" / "run").read_text()
    start = ci.index("# --- begin README test command ---")
    end = ci.index("# --- end README test command ---")
    command = ci[start:end].splitlines()[1].strip()
    assert command in readme


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_losses_show_table_and_markdown_show_the_same_fields(cli, fmt):
    r = cli("losses", "show", "focal", "--format", fmt)
    assert r.exit_code == 0, r.stderr
    out = " ".join(r.stdout.split())
    for field in ("summary", "formula", "inputs", "domain", "aliases", "checked against"):
        assert field in out, field
    for text in ("focal_loss, sigmoid_focal", "predictions in [0, 1]", "torchvision.ops"):
        assert text in out, text
    assert "When to use" in out and "References" in out and "gamma" in out
    assert "inary, multilabel · focal" in out and "ulticlass · focal" in out
