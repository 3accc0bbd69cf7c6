"""One rule per behaviour: exit codes, --precision, the evaluate document's key order,
the task of a config file, --per-sample write failures, gate rows."""

from __future__ import annotations

import errno

import pytest

from losscli import evaluate
from losscli.errors import ExitCode, UsageError
from tests.conftest import SAMPLES

REG = [str(SAMPLES / "regression_preds.csv"), str(SAMPLES / "regression_targets.csv")]


def test_exit_codes_of_signals_live_in_errors():
    assert ExitCode.BROKEN_PIPE == 141
    assert ExitCode.INTERRUPTED == 130


@pytest.mark.parametrize("command", [["evaluate", *REG], ["losses"]])
def test_precision_below_one_is_a_usage_error(cli, command):
    r = cli(*command, "--precision", "0")
    assert r.exit_code == 2
    assert "--precision" in r.stderr and "greater than or equal to 1" in r.stderr


def test_evaluate_document_key_order(cli):
    r = cli("evaluate", *REG, "--worst", "2", "--json")
    assert r.exit_code == 0, r.stderr
    assert list(r.json()) == [
        "schema_version",
        "command",
        "ok",
        "task",
        "n_samples",
        "inputs",
        "losses",
        "gates",
        "warnings",
        "evidence",
        "reduction",
        "read",
        "worst_loss",
        "worst",
    ]


def test_unknown_task_in_config_has_the_breadcrumb(cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("task: foo\n")
    r = cli("evaluate", *REG, "--config", str(cfg))
    assert r.exit_code == 2
    assert f"{cfg} › task: unknown task 'foo'" in r.stderr
    assert "allowed:" in r.stderr


def test_task_in_config_any_case(cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("task: Regression\n")
    r = cli("evaluate", *REG, "--config", str(cfg), "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["task"]["name"] == "regression"


def test_per_sample_writer_reports_its_own_write_failures(tmp_path, monkeypatch):
    import losscli.files

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(losscli.files.AtomicFile, "write", full)
    out = tmp_path / "rows.csv"
    with pytest.raises(UsageError, match=r"cannot write .*rows\.csv': No space left on device"):
        evaluate(*REG, per_sample_path=str(out))
    assert not out.exists()


def test_an_os_error_beside_the_per_sample_file_is_not_a_write_error(tmp_path, monkeypatch):
    import losscli.api

    def broken(*args, **kwargs):
        raise OSError(errno.EIO, "Input/output error", str(tmp_path / "preds.csv"))

    monkeypatch.setattr(losscli.api, "run_source", broken)
    with pytest.raises(OSError, match="Input/output error"):
        evaluate(*REG, per_sample_path=str(tmp_path / "rows.csv"))


def test_gate_rows_of_compare_name_the_model(cli):
    r = cli("compare", REG[0], REG[0], REG[1], "--names", "a,b", "--max", "mse=0", "--json")
    assert r.exit_code == 1
    assert list(r.json()["gates"][0]) == [
        "loss",
        "model",
        "op",
        "limit",
        "value",
        "passed",
    ]
