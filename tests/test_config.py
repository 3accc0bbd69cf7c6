"""``--config FILE.yaml``: schema checks with breadcrumbs, and flags winning over the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from losscli.config import load_config
from losscli.errors import ConfigError, ExitCode, UsageError

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"
REG = (SAMPLES / "regression_preds.csv", SAMPLES / "regression_targets.csv")
BIN = (SAMPLES / "binary_probs.csv", SAMPLES / "binary_targets.csv")


def cfg_file(tmp_path: Path, text: str, name: str = "c.yaml") -> str:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return str(p)


def config_error(tmp_path: Path, text: str) -> ConfigError:
    path = cfg_file(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.exit_code == ExitCode.USAGE_ERROR
    return info.value


# --------------------------------------------------------------------------- load_config


def test_shipped_pipeline_config_loads():
    cfg = load_config(str(ROOT / "configs" / "pipeline.yaml"))
    assert cfg == {
        "task": "regression",
        "columns": {"pred": ["prediction"], "target": ["price"], "id": "id"},
        "losses": ["mse", "mae", "huber"],
        "params": {"huber": {"delta": 25.0}},
        "gates": {"max": {"mae": 25.0, "huber": 500.0}},
        "worst": 5,
    }


def test_empty_file_is_no_settings(tmp_path):
    assert load_config(cfg_file(tmp_path, "# nothing set\n")) == {}


def test_bom_is_accepted(tmp_path):
    p = tmp_path / "bom.yaml"
    p.write_bytes(b"\xef\xbb\xbftask: binary\n")
    assert load_config(str(p)) == {"task": "binary"}


def test_normalisation_of_lists_and_columns(tmp_path):
    cfg = load_config(
        cfg_file(
            tmp_path,
            "losses: mse, mae\ncolumns:\n  pred: p\n  target: [y]\n  id: 7\n"
            "gates:\n  max:\n    mse: 1\n",
        )
    )
    assert cfg["losses"] == ["mse", "mae"]
    assert cfg["columns"] == {"pred": ["p"], "target": ["y"], "id": "7"}
    assert cfg["gates"] == {"max": {"mse": 1.0}}
    assert isinstance(cfg["gates"]["max"]["mse"], float)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(str(tmp_path / "absent.yaml"))


def test_invalid_yaml_names_line_and_column(tmp_path):
    err = config_error(tmp_path, "task: regression\nlosses: [mse\n")
    assert "c.yaml: invalid YAML (line 3, column 1)" in err.message


def test_top_level_must_be_a_mapping(tmp_path):
    assert "must hold a mapping" in config_error(tmp_path, "- mse\n- mae\n").message


@pytest.mark.parametrize(
    ("text", "crumb", "hint"),
    [
        ("losess: [mse]\n", "c.yaml › losess: unknown key", "did you mean 'losses'?"),
        ("columns:\n  prd: [x]\n", "c.yaml › columns › prd: unknown key", "did you mean 'pred'?"),
        ("gates:\n  maxx: {mse: 1}\n", "c.yaml › gates › maxx: unknown key", "did you mean 'max'?"),
        (
            "gates:\n  max: {mse: high}\n",
            "c.yaml › gates › max › mse: limit must be a number",
            None,
        ),
        (
            "gates:\n  max: {mse: true}\n",
            "c.yaml › gates › max › mse: limit must be a number",
            None,
        ),
        (
            "gates:\n  max: {msee: 1}\n",
            "c.yaml › gates › max › msee: unknown loss 'msee'",
            "did you mean 'mse'",
        ),
        ("gates: [mse]\n", "c.yaml › gates: must be a mapping", None),
        (
            "losses: [mse, hubber]\n",
            "c.yaml › losses › [1]: unknown loss 'hubber'",
            "did you mean 'huber'",
        ),
        ("losses: {mse: 1}\n", "c.yaml › losses: must be a list of loss names", None),
        ("params: [huber]\n", "c.yaml › params: must map loss names", "huber: {delta: 2.0}"),
        ("params:\n  huber: 2\n", "c.yaml › params: must map loss names", None),
        (
            "params:\n  hubber: {delta: 2}\n",
            "c.yaml › params › hubber: unknown loss 'hubber'",
            "did you mean 'huber'",
        ),
        (
            "params:\n  huber: {deltaa: 2}\n",
            "c.yaml › params › huber › deltaa: loss 'huber' has no parameter 'deltaa'",
            "did you mean 'delta'? parameters: delta",
        ),
        (
            "params:\n  mse: {delta: 2}\n",
            "c.yaml › params › mse › delta: loss 'mse' has no parameter 'delta'",
            "parameters: output_weights",
        ),
        (
            "input: probs\n",
            "c.yaml › input: unknown value 'probs'",
            "allowed: probabilities, logits",
        ),
        ("reduction: max\n", "c.yaml › reduction: unknown value 'max'", "allowed: mean, sum"),
        ("worst: 0\n", "c.yaml › worst: must be a positive integer", None),
        ("worst: true\n", "c.yaml › worst: must be a positive integer", None),
        ("worst: '3'\n", "c.yaml › worst: must be a positive integer", None),
    ],
)
def test_schema_errors_carry_a_breadcrumb(tmp_path, text, crumb, hint):
    err = config_error(tmp_path, text)
    assert err.message == str(tmp_path) + "/" + crumb or err.message.startswith(
        str(tmp_path) + "/" + crumb
    ), err.message
    if hint is not None:
        assert err.hint is not None and hint in err.hint, err.hint


def test_param_keys_of_any_task_variant_are_accepted(tmp_path):
    """focal has alpha/gamma for binary and multiclass: keys are checked against every
    variant of the name; values are checked when the loss runs."""
    cfg = load_config(cfg_file(tmp_path, "params:\n  focal: {gamma: 1, alpha: 0.5}\n"))
    assert cfg["params"] == {"focal": {"gamma": 1, "alpha": 0.5}}


# --------------------------------------------------------------------------- through the CLI


def run(cli: Any, *args: Any, code: int = 0, command: str = "evaluate") -> dict[str, Any]:
    r = cli(command, *args, "--json")
    assert r.exit_code == code, (r.exit_code, r.stderr)
    assert "Traceback" not in r.stderr
    return json.loads(r.stdout)


def test_config_error_through_the_cli_is_exit_2(cli, tmp_path):
    c = cfg_file(tmp_path, "task: regression\nlosess: [mse]\n")
    r = cli("evaluate", *REG, "--config", c)
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert r.stdout == ""
    assert r.stderr.startswith(f"Error: {c} › losess: unknown key")
    assert "hint: did you mean 'losses'?" in r.stderr


def test_shipped_pipeline_config_runs(cli):
    doc = run(cli, *REG, "--config", ROOT / "configs" / "pipeline.yaml")
    assert [it["name"] for it in doc["losses"]] == ["mse", "mae", "huber"]
    assert len(doc["worst"]) == 5 and doc["worst_loss"] == "mae"
    assert all(g["passed"] for g in doc["gates"])


def test_worst_flag_wins_over_config(cli):
    doc = run(cli, *REG, "--config", ROOT / "configs" / "pipeline.yaml", "--worst", "2")
    assert len(doc["worst"]) == 2


def test_config_input_and_flag_over_it(cli, tmp_path):
    c = cfg_file(tmp_path, "input: logits\n")
    as_logits = run(cli, *BIN, "--config", c)
    assert as_logits["task"]["input"] == "logits" and as_logits["task"]["input_inferred"] is False
    as_probs = run(cli, *BIN, "--config", c, "--probs")
    assert as_probs["task"]["input"] == "probabilities"
    plain = run(cli, *BIN)
    bce = {
        d["task"]["input"]: next(i["value"] for i in d["losses"] if i["name"] == "bce")
        for d in (as_logits, plain)
    }
    assert bce["logits"] != bce["probabilities"]
    assert (
        next(i["value"] for i in as_probs["losses"] if i["name"] == "bce") == bce["probabilities"]
    )


def test_config_columns_and_flag_columns(cli, tmp_path):
    both = tmp_path / "both.csv"
    both.write_text("a,b,truth\n0.1,5,0\n0.8,6,1\n0.3,7,0\n")
    c = cfg_file(tmp_path, "columns:\n  pred: [a]\n  target: [truth]\n")
    doc = run(cli, both, "--config", c)
    assert doc["task"]["name"] == "binary"
    assert doc["inputs"]["predictions"]["columns"] == ["a"]
    doc = run(cli, both, "--config", c, "--pred-col", "b")
    assert doc["inputs"]["predictions"]["columns"] == ["b"]
    assert doc["task"]["name"] == "binary" and doc["task"]["input"] == "logits"


def test_config_drop_invalid(cli, tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("p\n0.2\n\n0.7\n")
    y = tmp_path / "y.csv"
    y.write_text("y\n0\n1\n1\n")
    r = cli("evaluate", p, y)
    assert r.exit_code == ExitCode.DATA_ERROR
    doc = run(cli, p, y, "--config", cfg_file(tmp_path, "drop_invalid: true\n"))
    assert doc["n_samples"] == 2 and any("dropped 1 of 3" in w for w in doc["warnings"])


def test_compare_reads_the_config(cli, tmp_path):
    c = cfg_file(tmp_path, "losses: [mse, mae]\nparams:\n  huber: {delta: 3}\n")
    # huber is configured but not computed: a usage error, like --param for it
    r = cli("compare", *REG, "--config", c)
    assert r.exit_code == ExitCode.USAGE_ERROR and "huber" in r.stderr
    c = cfg_file(tmp_path, "losses: [mse, mae]\ngates:\n  max: {mae: 1}\n", "d.yaml")
    r = cli("compare", *REG, "--config", c, "--json")
    assert r.exit_code == ExitCode.GATE_FAILED
    doc = json.loads(r.stdout)
    assert [e["name"] for e in doc["losses"]] == ["mse", "mae"]
    assert doc["gates"][0]["loss"] == "mae" and doc["gates"][0]["passed"] is False


def test_config_error_class_is_a_usage_error():
    assert issubclass(ConfigError, UsageError)


@pytest.mark.parametrize(
    ("text", "crumb"),
    [
        ("chunk_size: -1\n", "c.yaml › chunk_size: must be a positive integer or 0 (one piece)"),
        ("drop_invalid: maybe\n", "c.yaml › drop_invalid: must be true or false"),
        ("per_class: 1\n", "c.yaml › per_class: must be true or false"),
        ("regularization: {l2: -1}\n", "c.yaml › regularization › l2: must be a number ≥ 0"),
        ("regularization: [1]\n", "c.yaml › regularization: must be a mapping"),
        ("regularization: {l3: 1}\n", "c.yaml › regularization › l3: unknown key"),
        ("columns: [p]\n", "c.yaml › columns: must be a mapping"),
        ("task: [binary]\n", "c.yaml › task: must be a task name"),
    ],
)
def test_every_key_is_checked_by_its_kind(tmp_path, text, crumb):
    err = config_error(tmp_path, text)
    assert err.message.startswith(str(tmp_path) + "/" + crumb), err.message


def test_model_weights_are_read_beside_the_config(tmp_path):
    cfg = load_config(cfg_file(tmp_path, "regularization: {l2: 0.001, model_weights: w.npz}\n"))
    assert cfg["regularization"] == {"l2": 0.001, "model_weights": str(tmp_path / "w.npz")}
