"""What CI pipelines read (SPEC §11): flat values, baselines and gates, JUnit XML, GitHub
Actions annotations, pyproject/environment settings, schemas, completion, and the
README's CI examples run as written."""

from __future__ import annotations

import json
import re
import shlex
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml

from losscli.errors import ExitCode
from losscli.report.github import annotations, escape_data, escape_property
from tests.conftest import ROOT, SAMPLES, check_json_output, write_csv

A = str(SAMPLES / "regression_preds.csv")  # a model with a few very large errors
B = str(SAMPLES / "regression_preds_b.csv")  # steadier: lower mse, higher mae
Y = str(SAMPLES / "regression_targets.csv")


def _truth() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predictions of A and B and the targets, joined on id as a user would with pandas."""
    import pandas as pd

    a, b, y = pd.read_csv(A), pd.read_csv(B), pd.read_csv(Y)
    a = a.merge(y, on="id")
    b = b.merge(y, on="id")
    return a["prediction"].to_numpy(), b["prediction"].to_numpy(), a["price"].to_numpy()


@pytest.fixture(scope="module")
def baseline_a(tmp_path_factory) -> Path:
    """``losscli evaluate A Y -o baseline.json``: the earlier run of the pipeline."""
    from losscli import evaluate

    path = tmp_path_factory.mktemp("base") / "baseline.json"
    path.write_text(json.dumps(evaluate(A, Y).data))
    return path


# --------------------------------------------------------------------------- values


def test_flat_values_match_the_losses_and_the_metrics_file_holds_only_them(cli, tmp_path):
    out = tmp_path / "run.metrics.json"
    r = cli("evaluate", A, Y, "--json", "-o", out)
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    pa, _, y = _truth()
    assert doc["values"]["mse"] == pytest.approx(np.mean((pa - y) ** 2), rel=1e-12)
    assert doc["values"] == {it["name"]: it["value"] for it in doc["losses"]}
    assert json.loads(out.read_text()) == doc["values"]


def test_per_class_values_and_compare_values(cli, tmp_path):
    preds = SAMPLES / "multiclass_probs.csv"
    targets = SAMPLES / "multiclass_targets.csv"
    r = cli("evaluate", preds, targets, "--per-class", "--json", "-o", tmp_path / "m.metrics.json")
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    ce = next(it for it in doc["losses"] if it["name"] == "cross_entropy")
    assert doc["per_class_values"]["cross_entropy"] == ce["per_class"]
    metrics = json.loads((tmp_path / "m.metrics.json").read_text())
    assert metrics["per_class"] == doc["per_class_values"]
    assert metrics["cross_entropy"] == ce["value"]

    r = cli("compare", A, B, Y, "--names", "a,b", "--json")
    doc = r.json()
    mse = next(it for it in doc["losses"] if it["name"] == "mse")
    assert doc["values"]["a"]["mse"] == mse["values"]["a"]
    assert set(doc["values"]) == {"a", "b"}


def test_non_finite_values_are_left_out_of_values(cli, tmp_path):
    p = write_csv(tmp_path / "p.csv", ["p"], [[1.0], [2.0], [3.0]])
    y = write_csv(tmp_path / "y.csv", ["y"], [[-1.5], [2.5], [-0.5]])
    doc = cli("evaluate", p, y, "--task", "regression", "--json").json()
    missing = [it["name"] for it in doc["losses"] if it["value"] is None]
    assert missing and not set(missing) & set(doc["values"])


# --------------------------------------------------------------------------- baselines


def test_max_increase_relative_and_absolute(cli, baseline_a):
    pa, pb, y = _truth()
    mae_a, mae_b = np.mean(np.abs(pa - y)), np.mean(np.abs(pb - y))
    r = cli(
        "evaluate", B, Y, "--baseline", baseline_a, "--json",
        "--max-increase", "mse=5%", "--max-increase", "mae=0.5",
    )  # fmt: skip
    assert r.exit_code == ExitCode.GATE_FAILED
    doc = r.json()
    gates = {g["loss"]: g for g in doc["gates"]}
    assert gates["mse"]["passed"] is True and gates["mse"]["relative"] is True
    assert gates["mae"]["passed"] is False
    assert gates["mae"]["value"] == pytest.approx(mae_b - mae_a, rel=1e-12)
    mae = next(it for it in doc["losses"] if it["name"] == "mae")
    assert mae["baseline"] == pytest.approx(mae_a) and mae["delta"] == pytest.approx(mae_b - mae_a)
    assert mae["delta_pct"] == pytest.approx(100 * (mae_b - mae_a) / mae_a)
    assert "mae increased by +3.0272 over the baseline (16.0952 → 19.1224) > 0.5" in r.stderr
    # a limit above the change passes
    r = cli("evaluate", B, Y, "--baseline", baseline_a, "--max-increase", "mae=19%", "--json")
    assert r.exit_code == 0, r.stderr


def test_baseline_deltas_in_every_format(cli, baseline_a):
    args = ("evaluate", B, Y, "--baseline", baseline_a, "--max-increase", "mae=0.5")
    table = cli(*args).stdout
    assert "baseline" in table and "+3.027 (+18.8%)" in table and "increase <= 0.5" in table
    md = cli(*args, "-f", "markdown").stdout
    # Markdown escapes HTML: "<=" renders as written
    assert "| baseline | Δ |" in md and "| `mae` | increase &lt;= 0.5 | +3.027 | **FAIL** |" in md
    csv_text = cli(*args, "-f", "csv").stdout.splitlines()
    assert csv_text[0].endswith("baseline,delta,delta_pct,gate,gates")
    mae_row = next(line for line in csv_text if line.startswith("mae,"))
    assert mae_row.endswith("fail,mae increase <= 0.5: failed")


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda d: d["losses"].pop(2), "mae is not in the baseline"),
        (lambda d: d["losses"][2].update(value=None), "no finite value in the baseline"),
        (lambda d: d["losses"][2].update(value=0.0), "a % limit has no meaning"),
        (lambda d: d["losses"][2].update(params={"x": 1}), "params differ"),
    ],
)
def test_max_increase_fails_closed(cli, baseline_a, tmp_path, edit, why):
    doc = json.loads(baseline_a.read_text())
    assert doc["losses"][2]["name"] == "mae"
    edit(doc)
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    r = cli("evaluate", B, Y, "--baseline", old, "--max-increase", "mae=50%", "--json")
    assert r.exit_code == ExitCode.GATE_FAILED
    (gate,) = r.json()["gates"]
    assert gate["passed"] is False and why in gate["error"]
    assert "(fail closed)" in r.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-increase", "mae=5%"], "--max-increase needs --baseline"),
        (["--baseline", "nowhere.json"], "baseline file 'nowhere.json' does not exist"),
        (["--baseline", "BASE", "--max-increase", "mae=five"], "cannot read --max-increase"),
        (["--baseline", "BASE", "--max-increase", "mea=5%"], "mea"),
    ],
)
def test_baseline_usage_errors(cli, baseline_a, args, message):
    args = [str(baseline_a) if a == "BASE" else a for a in args]
    r = cli("evaluate", B, Y, *args)
    assert r.exit_code == ExitCode.USAGE_ERROR, r.stderr
    assert message in r.stderr


def test_compare_against_a_baseline_file_matches_models(cli, baseline_a):
    r = cli(
        "compare", A, B, Y, "--names", "a,b", "--baseline", baseline_a,
        "--max-increase", "mae=1%", "--json",
    )  # fmt: skip
    doc = r.json()
    assert r.exit_code == ExitCode.GATE_FAILED
    assert {g["model"]: g["passed"] for g in doc["gates"]} == {"a": True, "b": False}
    mae = next(it for it in doc["losses"] if it["name"] == "mae")
    assert mae["deltas"]["a"] == 0.0 and mae["deltas"]["b"] > 0


# --------------------------------------------------------------------------- fail-if-worse


def test_fail_if_worse_uses_the_paired_interval(cli):
    base = ("compare", A, B, Y, "--names", "a,b", "--baseline", "a")
    r = cli(*base, "--fail-if-worse", "mape", "--fail-if-worse", "mse", "--json")
    assert r.exit_code == ExitCode.GATE_FAILED, r.stderr
    doc = r.json()
    assert doc["bootstrap"]["replicates"] == 1000  # implied
    gates = {g["loss"]: g for g in doc["gates"]}
    mape = gates["mape"]
    assert mape["model"] == "b" and mape["vs"] == "a" and mape["passed"] is False
    assert mape["ci"][0] > 0  # the whole interval lies above the margin 0
    # the interval is the compare's own paired comparison of the two models
    vs = next(it for it in doc["losses"] if it["name"] == "mape")["vs_best"]["b"]
    assert mape["ci"] == pytest.approx(vs["ci"], rel=1e-12)
    assert gates["mse"]["passed"] is True  # b is better on mse
    assert "mape is worse than a" in r.stderr
    # a margin the upper bound stays under lets it pass
    r = cli(*base, "--fail-if-worse", "mape", "--margin", "mape=0.0012", "--json")
    assert r.exit_code == 0, r.stderr


def test_fail_if_worse_within_noise_passes_and_shows_in_every_format(cli):
    args = ("compare", A, B, Y, "--names", "a,b", "--baseline", "a", "--fail-if-worse", "mae")
    r = cli(*args)
    assert r.exit_code == 0, r.stderr  # +3.0 but the interval straddles 0
    assert "not worse than a + 0" in r.stdout
    md = cli(*args, "-f", "markdown").stdout
    assert re.search(
        r"\| b \| `mae` \| not worse than a \+ 0 \| \+3\.027 \[-3\.\d+, \+8\.\d+\] \| pass \|", md
    )
    rows = cli(*args, "-f", "csv").stdout.splitlines()
    assert next(x for x in rows if x.startswith("b,mae,")).endswith(
        "pass,mae not worse than a + 0 b: passed"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-if-worse", "mae"], "--fail-if-worse needs --baseline MODEL"),
        (["--fail-if-worse", "mae", "--baseline", "c"], "unknown baseline model 'c'"),
        (["--fail-if-worse", "mae", "--baseline", "a", "--margin", "mse=1"], "--margin mse"),
    ],
)
def test_fail_if_worse_usage_errors(cli, args, message):
    r = cli("compare", A, B, Y, "--names", "a,b", *args)
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert message in r.stderr


# --------------------------------------------------------------------------- JUnit


def test_junit_report_parses_with_a_real_junit_parser(cli, tmp_path, baseline_a):
    import xml.etree.ElementTree as ET

    from junitparser import Error, Failure, JUnitXml

    xml = tmp_path / "gates.xml"
    p = write_csv(tmp_path / "p.csv", ["p"], [[1.0], [2.0]])
    y = write_csv(tmp_path / "y.csv", ["y"], [[-1.0], [2.0]])
    r = cli(
        "evaluate", p, y, "--task", "regression", "--max", "mse=1", "--max", "msle=1", "-o", xml
    )
    assert r.exit_code == ExitCode.GATE_FAILED
    assert ET.parse(xml).getroot().tag == "testsuite"
    (suite,) = JUnitXml.fromfile(str(xml))
    assert suite.name == "losscli"
    assert (suite.tests, suite.failures, suite.errors) == (2, 1, 1)
    cases = {c.name: c for c in suite}
    assert isinstance(cases["mse <= 1"].result[0], Failure)
    assert isinstance(cases["msle <= 1"].result[0], Error)  # not applicable: not evaluated

    r = cli("compare", A, B, Y, "--names", "a,b", "--max", "mse=1000", "-o", xml)
    names = sorted(c.name for s in JUnitXml.fromfile(str(xml)) for c in s)
    assert names == ["mse <= 1000 a", "mse <= 1000 b"]

    r = cli("evaluate", A, Y, "-o", xml)
    assert r.exit_code == 0
    (empty,) = JUnitXml.fromfile(str(xml))
    assert len(list(empty)) == 0
    assert (empty.tests, empty.failures, empty.errors) == (0, 0, 0)


# --------------------------------------------------------------------------- GitHub


def test_workflow_command_escaping():
    assert escape_data("a%b\r\nc:d,e") == "a%25b%0D%0Ac:d,e"
    assert escape_property("a%b\nc:d,e") == "a%25b%0Ac%3Ad%2Ce"
    doc = {"gates": [{"loss": "mse", "op": "<=", "limit": 0.5, "value": 0.7, "passed": False}]}
    assert annotations(doc) == ["::error title=losscli gate::mse <= 0.5: 0.7"]


def test_github_annotations_on_stderr_and_summary_appended(cli, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    r = cli("evaluate", A, Y, "--max", "mse=1000", "--max", "mae=100", "--json", env=env)
    assert r.exit_code == ExitCode.GATE_FAILED
    assert r.stderr.count("::error") == 1
    assert "::error title=losscli gate::mse <= 1000: 1795.103198" in r.stderr
    assert "::" not in r.stdout and r.json()["ok"] is False
    text = summary.read_text()
    assert text.startswith("earlier step\n") and "| `mse` | &lt;= 1000 | 1795 | **FAIL** |" in text
    # no gates: no summary; outside GitHub Actions: nothing at all
    cli("evaluate", A, Y, "--json", env=env)
    assert summary.read_text() == text
    r = cli("evaluate", A, Y, "--max", "mse=1", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert "::error" not in r.stderr and summary.read_text() == text


# --------------------------------------------------------------------------- settings


def test_precedence_flags_env_config_pyproject(cli, tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "sub").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.losscli]\nlosses = ["mse", "mae"]\n'
        "per_class = false\n[tool.losscli.gates.max]\nmse = 1.0\nmae = 100.0\n"
    )
    cfg = tmp_path / "c.yaml"
    cfg.write_text("gates: {max: {mse: 2.0}}\n")
    monkeypatch.chdir(project / "sub")  # found upward from the working directory

    def gates(*args: str, env: dict[str, str] | None = None) -> dict[str, float]:
        r = cli("evaluate", A, Y, "--json", *args, env=env)
        assert r.exit_code in (0, 1), r.stderr
        assert [it["name"] for it in r.json()["losses"]] == ["mse", "mae"]
        return {g["loss"]: g["limit"] for g in r.json()["gates"]}

    assert gates() == {"mse": 1.0, "mae": 100.0}
    assert gates("--config", str(cfg)) == {"mse": 2.0, "mae": 100.0}
    env = {"LOSSCLI_MAX": "mse=3,mae=50", "LOSSCLI_CONFIG": str(cfg)}
    assert gates(env=env) == {"mse": 3.0, "mae": 50.0}
    assert gates("--max", "mse=4", env=env) == {"mse": 4.0, "mae": 50.0}


def test_environment_values_and_their_errors(cli, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    mc = (SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv")
    r = cli(
        "evaluate", *mc, "--json",
        env={"LOSSCLI_PER_CLASS": "yes", "LOSSCLI_LOSS": "cross_entropy,brier",
             "LOSSCLI_PARAM": "cross_entropy.weight=1,2,0.5,cross_entropy.label_smoothing=0.1"},
    )  # fmt: skip
    assert r.exit_code == 0, r.stderr
    doc = r.json()
    assert [it["name"] for it in doc["losses"]] == ["cross_entropy", "brier"]
    assert doc["losses"][0]["params"]["label_smoothing"] == 0.1
    assert "per_class_values" in doc
    assert "per_class_values" not in cli(*["evaluate", *mc, "--json", "--no-per-class"],
                                         env={"LOSSCLI_PER_CLASS": "1"}).json()  # fmt: skip
    r = cli("evaluate", *mc, env={"LOSSCLI_PER_CLASS": "maybe"})
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert "LOSSCLI_PER_CLASS must be a boolean" in r.stderr
    r = cli("evaluate", *mc, env={"LOSSCLI_CHUNK_SIZE": "many"})
    assert r.exit_code == ExitCode.USAGE_ERROR and "LOSSCLI_CHUNK_SIZE" in r.stderr


def test_pyproject_is_checked_like_a_config_file(cli, tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.losscli]\nlossess = ['mse']\n")
    monkeypatch.chdir(tmp_path)
    r = cli("evaluate", A, Y)
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert "pyproject.toml › tool › losscli › lossess: unknown key" in r.stderr
    assert "did you mean 'losses'" in r.stderr


# --------------------------------------------------------------------------- contracts


@pytest.mark.parametrize("name", ["evaluate", "compare", "recommend", "curves"])
def test_schema_command_prints_a_draft_2020_12_schema(cli, name):
    import jsonschema

    r = cli("schema", name)
    assert r.exit_code == 0
    schema = json.loads(r.stdout)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    error_doc = {
        "schema_version": 1, "ok": False, "command": name,
        "error": {"code": 2, "message": "unknown loss 'mea'", "hint": None},
    }  # fmt: skip
    jsonschema.validate(error_doc, schema, cls=jsonschema.Draft202012Validator)


def test_schemas_reject_documents_missing_stable_fields(cli):
    doc = cli("evaluate", A, Y, "--json").json()
    check_json_output(json.dumps(doc))
    for key, broken in [("values", None), ("losses", [{"name": "mse"}])]:
        bad = dict(doc)
        if broken is None:
            del bad[key]
        else:
            bad[key] = broken
        with pytest.raises(AssertionError, match="does not match its schema"):
            check_json_output(json.dumps(bad))


def test_json_outputs_of_many_variants_validate(cli, tmp_path, baseline_a):
    """The cli fixture validates every JSON it prints; these variants add the fields of
    SPEC §11 (gates of every kind, deltas, per-class values, intervals)."""
    runs = [
        ("evaluate", A, Y, "--max", "mse=1", "--worst", "3"),
        ("evaluate", B, Y, "--baseline", baseline_a, "--max-increase", "mae=1%"),
        ("evaluate", SAMPLES / "binary_probs.csv", SAMPLES / "binary_targets.csv"),
        ("evaluate", SAMPLES / "multiclass_probs.csv", SAMPLES / "multiclass_targets.csv", "--per-class"),
        ("compare", A, B, Y, "--baseline", "regression_preds", "--fail-if-worse", "mae", "--max-increase", "mse=0"),
        ("compare", A, Y),
        ("recommend", "--task", "binary", "--imbalanced"),
        ("recommend", "--task", "segmentation", "--explain"),
    ]  # fmt: skip
    for args in runs:
        r = cli(*args, "--json")
        assert r.exit_code in (0, 1), (args, r.stderr)
        assert r.json()["command"] == args[0]


@pytest.mark.parametrize(
    ("shell", "marker"),
    [("bash", "complete -o"), ("zsh", "#compdef losscli"), ("fish", "complete --command losscli")],
)
def test_show_completion(cli, shell, marker):
    r = cli("--show-completion", shell)
    assert r.exit_code == 0
    assert marker in r.stdout and "_LOSSCLI_COMPLETE" in r.stdout


# --------------------------------------------------------------------------- README


def _readme_blocks(lang: str) -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Use it in CI") : text.index("## Python API")]
    return re.findall(rf"```{lang}\n(.*?)```", section, flags=re.S)


def _ci_workspace(tmp_path: Path) -> Path:
    """The files the README's examples name: the candidate's predictions, the current
    model's, the targets, and the main branch's earlier run."""
    from losscli import evaluate

    shutil.copy(B, tmp_path / "preds.csv")
    shutil.copy(A, tmp_path / "current.csv")
    shutil.copy(Y, tmp_path / "targets.csv")
    (tmp_path / "baseline.json").write_text(json.dumps(evaluate(A, Y).data))
    return tmp_path


def test_readme_github_workflow_runs(cli, tmp_path, monkeypatch):
    (workflow,) = [b for b in _readme_blocks("yaml") if "runs-on" in b]
    steps = yaml.safe_load(workflow)["jobs"]["losses"]["steps"]
    lines = [s["run"] for s in steps if str(s.get("run", "")).startswith("losscli ")]
    assert len(lines) == 2
    monkeypatch.chdir(_ci_workspace(tmp_path))
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    for line in lines:
        r = cli(*shlex.split(line)[1:], env=env)
        assert r.exit_code == 0, (line, r.stderr)
    junit = next(s for s in steps if "junit" in s.get("uses", ""))["with"]["report_paths"]
    from junitparser import JUnitXml

    assert JUnitXml.fromfile(junit).tests == 2
    assert json.loads(Path("losses.metrics.json").read_text())["mae"] > 0
    assert summary.read_text().count("## losscli") == 2


def test_pre_commit_hook_runs_the_users_args(cli, tmp_path, monkeypatch):
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (config,) = [b for b in _readme_blocks("yaml") if "repos:" in b]
    used = yaml.safe_load(config)["repos"][0]["hooks"][0]
    assert used["id"] == hook["id"] and hook["pass_filenames"] is False
    assert re.search(hook["files"], "preds.csv") and re.search(hook["files"], "pyproject.toml")
    monkeypatch.chdir(_ci_workspace(tmp_path))
    entry = shlex.split(hook["entry"])
    assert entry[0] == "losscli"
    r = cli(*entry[1:], *used["args"])
    assert r.exit_code == 0, r.stderr
    r = cli(*entry[1:], *used["args"], "--max", "mse=1")
    assert r.exit_code == ExitCode.GATE_FAILED  # the commit is blocked


def test_a_baseline_of_several_models_needs_a_model(cli, tmp_path):
    old = tmp_path / "old.json"
    old.write_text(cli("compare", A, B, Y, "--names", "a,b", "--json").stdout)
    r = cli("evaluate", B, Y, "--baseline", old, "--max-increase", "mae=5%")
    assert r.exit_code == ExitCode.USAGE_ERROR
    assert "the baseline holds 2 models (a, b)" in r.stderr
    r = cli("compare", A, B, Y, "--names", "a,b", "--baseline", old, "--json")
    mae = next(it for it in r.json()["losses"] if it["name"] == "mae")
    assert mae["deltas"] == {"a": 0.0, "b": 0.0}  # matched model by model


def test_output_options_read_the_environment_and_flags_win(cli):
    env = {"LOSSCLI_FORMAT": "csv", "LOSSCLI_QUIET": "true"}
    r = cli("evaluate", A, Y, env=env)
    assert r.stdout.startswith("loss,value,status") and r.stderr == ""
    r = cli("evaluate", A, Y, "--format", "json", "--no-quiet", env=env)
    assert r.json()["command"] == "evaluate" and "task: regression" in r.stderr


def test_every_boolean_has_a_negative_flag():
    import typer

    from losscli.cli import app

    root = typer.main.get_command(app)
    flags = 0
    for name in ("evaluate", "compare", "recommend"):
        for p in root.commands[name].params:  # type: ignore[attr-defined]
            if getattr(p, "is_flag", False) and p.name not in ("help", "logits", "probs"):
                flags += 1
                assert p.secondary_opts, (name, p.opts)
    assert flags > 10


def test_python_api_takes_the_pipeline_keywords(baseline_a):
    from losscli import compare, evaluate

    doc = evaluate(B, Y, baseline=str(baseline_a), max_increase={"mae": "1%", "mse": 0.0}).data
    assert {g["loss"]: g["passed"] for g in doc["gates"]} == {"mae": False, "mse": True}
    doc = compare([A, B], Y, names=["a", "b"], baseline="a", fail_if_worse=["mape"]).data
    assert doc["bootstrap"]["replicates"] == 1000 and doc["ok"] is False


def test_summary_that_cannot_be_written_is_a_note(cli, tmp_path):
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(tmp_path / "no" / "dir.md")}
    r = cli("evaluate", A, Y, "--max", "mse=1e9", env=env)
    assert r.exit_code == 0 and "note: cannot append to GITHUB_STEP_SUMMARY" in r.stderr


def test_pyproject_lookup_skips_files_without_a_losscli_table(tmp_path):
    from losscli.config import find_pyproject

    (tmp_path / "pyproject.toml").write_text("[tool.losscli]\ntask = 'regression'\n")
    inner = tmp_path / "pkg"
    inner.mkdir()
    (inner / "pyproject.toml").write_text("[tool.other]\nx = 'losscli ['\n")  # not ours
    assert find_pyproject(inner) == tmp_path / "pyproject.toml"
    (inner / "pyproject.toml").write_text("[tool.losscli\n")  # ours, broken
    from losscli.errors import ConfigError

    with pytest.raises(ConfigError, match="invalid TOML"):
        find_pyproject(inner)


def test_input_kind_from_the_environment(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    logits = (SAMPLES / "binary_logits.csv", SAMPLES / "binary_targets.csv")
    task = cli("evaluate", *logits, "--json", env={"LOSSCLI_LOGITS": "1"}).json()["task"]
    assert task["input"] == "logits" and task["input_inferred"] is False
    r = cli("evaluate", *logits, env={"LOSSCLI_PROBS": "yes"})
    assert r.exit_code == ExitCode.DATA_ERROR  # logits read as probabilities: refused
    r = cli("evaluate", *logits, env={"LOSSCLI_PROBS": "yes", "LOSSCLI_LOGITS": "1"})
    assert r.exit_code == ExitCode.USAGE_ERROR and "--logits conflicts with --probs" in r.stderr
