"""Shared test helpers: a CLI runner that keeps stdout and stderr apart."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from losscli.cli import app

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    """Write a CSV with ``csv.writer`` (a header row, then ``rows``); returns ``path``."""
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


class Result:
    def __init__(self, raw: Any) -> None:
        self.exit_code: int = raw.exit_code
        self.stdout: str = raw.stdout
        self.stderr: str = raw.stderr
        self.exception = raw.exception

    def json(self) -> Any:
        return json.loads(self.stdout)


_VALIDATORS: dict[str, Any] = {}


def check_json_output(stdout: str) -> None:
    """Validate a JSON document on stdout against its command's shipped schema (``losscli
    schema NAME``): every JSON output the test suite produces is checked. Other output,
    and documents of commands without a schema, pass unchecked."""
    try:
        import jsonschema
    except ImportError:  # pragma: no cover - jsonschema is in the test extra
        return
    from losscli.report.schemas import SCHEMAS, load_schema

    if not stdout.lstrip().startswith("{"):
        return
    try:
        doc = json.loads(stdout)
    except ValueError:
        return
    command = doc.get("command") if isinstance(doc, dict) else None
    if command not in SCHEMAS:
        return
    if command not in _VALIDATORS:
        _VALIDATORS[command] = jsonschema.Draft202012Validator(load_schema(command))
    errors = sorted(_VALIDATORS[command].iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, f"{command} JSON does not match its schema: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}" for e in errors[:5]
    )


#: Environment variables of a CI runner or a user's shell that would change what a
#: command does: cleared for every in-process run (tests set them explicitly).
_CLEARED = ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY")


@pytest.fixture
def cli(monkeypatch):
    """Run ``losscli ARGS`` in-process; returns exit code, stdout and stderr separately.
    JSON on stdout is validated against the command's schema."""
    import os

    runner = CliRunner()
    for var in [*_CLEARED, *(v for v in os.environ if v.startswith("LOSSCLI_"))]:
        monkeypatch.delenv(var, raising=False)

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        base = {"NO_COLOR": "1", "COLUMNS": "160", "TERM": "dumb"}
        base.update(env or {})
        result = Result(runner.invoke(app, [str(a) for a in args], input=input, env=base))
        check_json_output(result.stdout)
        return result

    return run


@pytest.fixture
def samples() -> Path:
    return SAMPLES
