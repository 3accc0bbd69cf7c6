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


@pytest.fixture
def cli():
    """Run ``losscli ARGS`` in-process; returns exit code, stdout and stderr separately."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None, env: dict[str, str] | None = None) -> Result:
        base = {"NO_COLOR": "1", "COLUMNS": "160", "TERM": "dumb"}
        base.update(env or {})
        return Result(runner.invoke(app, [str(a) for a in args], input=input, env=base))

    return run


@pytest.fixture
def samples() -> Path:
    return SAMPLES
