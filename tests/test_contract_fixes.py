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
    # the wording is the CLI library's ("… greater than or equal to 1" or "… range 1<=x")
    assert "--precision" in r.stderr
    assert "greater than or equal to 1" in r.stderr or "range 1<=x" in r.stderr


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
        "values",
        "gates",
        "warnings",
        "evidence",
        "reduction",
        "convention",
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


# --------------------------------------------------------------------------- API keywords


def _keywords(fn):
    import inspect

    params = inspect.signature(fn).parameters.values()
    return {p.name for p in params if p.kind is p.KEYWORD_ONLY}


@pytest.mark.parametrize(
    ("command", "extra"), [("evaluate", {"per_sample", "progress"}), ("compare", set())]
)
def test_api_keywords_are_exactly_the_settings_and_documented(command, extra):
    import typing

    import losscli
    from losscli.api import Report
    from losscli.options import settings_of

    fn = getattr(losscli, command)
    names = {s.name for s in settings_of(command)}
    assert _keywords(fn) == names | extra
    for name in names | extra:
        assert f"``{name}``" in fn.__doc__, name
    hints = typing.get_type_hints(fn)
    assert hints["return"] is Report
    assert set(hints) >= names


def test_a_misspelt_keyword_names_the_api_function():
    with pytest.raises(TypeError, match=r"evaluate\(\) got an unexpected keyword .*'wrost'"):
        evaluate(*REG, wrost=3)


# --------------------------------------------------------------------------- one value check


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"worst": 0}, "--worst must be a positive integer, got 0"),
        ({"worst": -3}, "--worst must be a positive integer, got -3"),
        ({"worst": True}, "--worst must be a positive integer, got True"),
        ({"per_class": "no"}, "--per-class must be true or false, got 'no'"),
        ({"gates": {"mse": "abc"}}, "--max mse: limit must be a number, got 'abc'"),
        ({"gates": ["mse"]}, "--max must map loss names to limits"),
        ({"params": {"huber": 2}}, "--param must map loss names to {parameter: value}"),
        ({"chunk_size": -1}, "--chunk-size must be a positive integer or 0 (one piece), got -1"),
        ({"l2": -1.0}, "--l2 must be a number ≥ 0, got -1.0"),
        ({"reduction": "max"}, "--reduction unknown value 'max'"),
        ({"logits": "yes"}, "--logits unknown value 'yes'"),
    ],
)
def test_api_values_are_checked_like_flags(keywords, message):
    with pytest.raises(UsageError) as info:
        evaluate(*REG, **keywords)
    assert info.value.message == message
    assert info.value.exit_code == ExitCode.USAGE_ERROR


def test_compare_bootstrap_is_checked_once():
    from losscli import compare

    with pytest.raises(UsageError, match="--bootstrap must be a positive integer or 0, got -1"):
        compare([REG[0]], REG[1], bootstrap=-1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--worst", "0"], "--worst must be a positive integer, got 0"),
        (["--chunk-size", "-1"], "--chunk-size must be a positive integer or 0 (one piece)"),
        (["--l1", "-0.5"], "--l1 must be a number ≥ 0, got -0.5"),
    ],
)
def test_flag_values_are_checked_by_the_same_rule(cli, args, message):
    r = cli("evaluate", *REG, *args)
    assert r.exit_code == 2
    assert f"Error: {message}" in r.stderr


def test_compare_flag_bootstrap_below_zero(cli):
    r = cli("compare", REG[0], REG[1], "--bootstrap", "-1")
    assert r.exit_code == 2
    assert "Error: --bootstrap must be a positive integer or 0, got -1" in r.stderr


def test_config_values_are_checked_by_the_same_rule(cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("worst: -3\n")
    r = cli("evaluate", *REG, "--config", str(cfg))
    assert r.exit_code == 2
    assert f"Error: {cfg} › worst: must be a positive integer, got -3" in r.stderr


def test_api_logits_from_a_config_word(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("input: probabilities\n")
    bin_ = [str(SAMPLES / "binary_probs.csv"), str(SAMPLES / "binary_targets.csv")]
    doc = evaluate(*bin_, config=str(cfg)).data
    assert doc["task"]["input"] == "probabilities"
    assert doc["task"]["input_inferred"] is False


# --------------------------------------------------------------------------- compare


def test_compare_options_splits_the_command_line_paths():
    from losscli.comparison import compare_options
    from losscli.config import resolve

    opts = resolve("compare", {})
    doc = compare_options([REG[0], REG[0], REG[1]], opts=opts, targets_last=True).data
    assert doc["models"] == ["regression_preds", "regression_preds_2"]
    assert doc["inputs"]["regression_preds"]["targets"]["path"] == REG[1]


def test_split_paths_keeps_every_gan_file_as_a_model():
    from losscli.comparison import split_paths

    assert split_paths(["a", "b", "t"], "regression") == (["a", "b"], "t")
    assert split_paths(["a", "b", "t"], "gan") == (["a", "b", "t"], None)
    assert split_paths(["a"], "auto") == (["a"], None)


def test_compare_warns_about_evaluate_only_config_keys(cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("worst: 3\nregularization: {l2: 0.1}\nreduction: sum\n")
    r = cli("compare", REG[0], REG[1], "--config", str(cfg), "--json")
    assert r.exit_code == 0, r.stderr
    line = f"{cfg}: compare does not use worst, regularization.l2"
    assert r.json()["warnings"][0] == line
    assert f"note: {line}" in r.stderr
    assert r.json()["reduction"] == "sum"


def test_compare_with_a_config_of_shared_keys_has_no_such_warning(cli, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("reduction: sum\n")
    r = cli("compare", REG[0], REG[1], "--config", str(cfg), "--json")
    assert not any("does not use" in w for w in r.json()["warnings"])


# --------------------------------------------------------------------------- loss names


def test_normalise_name_is_the_one_spelling_rule():
    from losscli.options import loss_key
    from losscli.registry import canonical_name, normalise_name

    assert normalise_name(" Smooth-L1 ") == "smooth_l1"
    assert canonical_name("Smooth-L1") == canonical_name("smooth_l1")
    assert loss_key(" No-Such-Loss ") == "no_such_loss"


@pytest.mark.parametrize(
    ("param", "message", "hint"),
    [
        ("mse.delta=2", "loss 'mse' has no parameter 'delta'", "parameters: output_weights"),
        (
            "huber.deltaa=2",
            "loss 'huber' has no parameter 'deltaa'",
            "did you mean 'delta'? parameters: delta",
        ),
    ],
)
def test_unknown_parameter_reads_the_same_from_flags_and_config(
    cli, tmp_path, param, message, hint
):
    r = cli("evaluate", *REG, "--loss", "mse", "--loss", "huber", "--param", param)
    assert r.exit_code == 2
    assert f"Error: {message}\nhint: {hint}" in r.stderr
    loss, _, rest = param.partition(".")
    key, _, value = rest.partition("=")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"params: {{{loss}: {{{key}: {value}}}}}\n")
    r = cli("evaluate", *REG, "--config", str(cfg))
    assert r.exit_code == 2
    assert f"Error: {cfg} › params › {loss} › {key}: {message}\nhint: {hint}" in r.stderr


# --------------------------------------------------------------------------- per class

MC = [str(SAMPLES / "multiclass_probs.csv"), str(SAMPLES / "multiclass_targets.csv")]


def test_evaluate_and_compare_give_the_same_per_class_values():
    from losscli import compare

    doc = evaluate(*MC, per_class=True).data
    cmp = compare([MC[0]], MC[1], per_class=True, names=["m"]).data
    # calibration errors (ece, mce) are functions of bin sums: no per-class values
    by_loss = {e["name"]: e["per_class"]["m"] for e in cmp["losses"] if "per_class" in e}
    assert {it["name"]: it["per_class"] for it in doc["losses"] if "per_class" in it} == by_loss
    assert set(by_loss) == {"cross_entropy", "focal", "multi_hinge", "brier", "kl_div"}


def test_a_loss_that_is_not_applicable_has_no_per_class_values():
    import math

    from losscli.compute import LossResult, per_class_values

    na = LossResult("x", None, "not_applicable", {}, reason="outside the domain")
    assert per_class_values(na, {"cat": 1.0}) is None
    ok = LossResult("x", 1.0, "ok", {})
    assert per_class_values(ok, {"cat": 1.0, "dog": math.nan}) == {"cat": 1.0, "dog": None}
    cols = LossResult("x", 1.0, "ok", {}, per_class={"a": math.inf})
    assert per_class_values(cols, {"cat": 1.0}) == {"a": None}


# --------------------------------------------------------------------------- sources


@pytest.mark.parametrize("chunk_rows", [0, 50])
def test_every_local_source_is_a_run_source(chunk_rows):
    import typing

    from losscli.api import open_inputs
    from losscli.config import resolve
    from losscli.data.stream import open_source
    from losscli.run import Source

    opts = resolve("evaluate", {"chunk_size": chunk_rows})
    source = open_inputs(open_source, *REG, opts, task="auto", keep_whole=None)
    try:
        assert isinstance(source, Source)
        assert source.info.mode in ("memory", "stream")
    finally:
        source.close()
    assert typing.get_type_hints(open_inputs)["return"] is Source


def test_the_dask_source_has_every_member_of_a_run_source():
    from losscli.engines.dask import DaskSource

    for member in ("first", "chunks", "class_counts", "summary", "close", "fold"):
        assert hasattr(DaskSource, member), member
