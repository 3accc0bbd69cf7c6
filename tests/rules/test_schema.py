"""Validation of rules files: every problem is a ConfigError with a breadcrumb to the value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from losscli.errors import ConfigError, ExitCode
from losscli.rules import load_rules, recommend
from losscli.rules.load import packaged_rules

ROOT = Path(__file__).resolve().parents[2]

VALID = """\
version: 1
sources:
  guide: "A guide"
addons:
  l2:
    name: L2 regularization
    params: {l2: 1.0e-4}
    why: keeps weights small
rules:
  - id: reg
    when: {task: regression}
    why: default
    source: [{ref: guide, section: "Regression"}]
    recommend:
      name: MSE
      losses: [mse]
      cost: 1
  - id: reg-outliers
    when: {task: regression, conditions: [outliers]}
    why: robust
    recommend:
      name: Huber
      losses: [huber]
      params: {delta: 2.0}
      cost: 2
    alternatives:
      - {name: MAE, losses: [mae], cost: 1, why: "more robust"}
  - id: overfit
    when: {conditions: [overfitting]}
    why: regularize
    addons: [l2]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def error_for(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_rules(path)
    assert err.value.exit_code == ExitCode.USAGE_ERROR
    return err.value


def test_packaged_copy_is_byte_identical_to_the_repository_copy():
    top = (ROOT / "configs" / "rules.yaml").read_bytes()
    packaged = (ROOT / "losscli" / "configs" / "rules.yaml").read_bytes()
    assert top == packaged, "configs/rules.yaml and losscli/configs/rules.yaml must not drift"


def test_packaged_rules_load_and_carry_thresholds():
    rs = packaged_rules()
    assert rs.version == 1
    assert rs.thresholds.minority_share == 0.2
    assert rs.thresholds.robust_z == 3.5
    assert rs.thresholds.outlier_share == 0.01
    assert len({r.id for r in rs.rules}) == len(rs.rules)


def test_valid_user_file_is_used_and_inherits_thresholds(tmp_path):
    path = write(tmp_path, VALID)
    rs = load_rules(path)
    assert [r.id for r in rs.rules] == ["reg", "reg-outliers", "overfit"]
    assert rs.thresholds == packaged_rules().thresholds
    result = recommend("regression", ["outliers", "overfitting"], rules_path=path)
    assert [r["name"] for r in result["recommendations"]] == ["Huber", "MAE"]
    assert result["recommendations"][0]["params"] == {"delta": 2.0}
    assert result["addons"][0]["name"] == "L2 regularization"
    assert result["rules_file"].endswith("rules.yaml")


@pytest.mark.parametrize(
    ("old", "new", "crumb", "hint"),
    [
        (
            "when: {task: regression}\n",
            "when: {task: regresion}\n",
            "› rules[0] › when › task: unknown value 'regresion'",
            "did you mean 'regression'?",
        ),
        (
            "conditions: [outliers]",
            "conditions: [outlier]",
            "› rules[1] › when › conditions[0]: unknown condition 'outlier'",
            "did you mean 'outliers'?",
        ),
        (
            "losses: [huber]",
            "losses: [hubber]",
            "› rules[1] › recommend › losses[0]: unknown loss 'hubber'",
            "did you mean 'huber'?",
        ),
        (
            "losses: [mse]",
            "losses: [l2]",
            "› rules[0] › recommend › losses[0]: 'l2' is an alias",
            "write the canonical name 'mse'",
        ),
        (
            "losses: [mse]",
            "losses: [dice]",
            "› rules[0] › recommend › losses[0]: loss 'dice' does not apply to task 'regression'",
            "applies to",
        ),
        (
            "params: {delta: 2.0}",
            "params: {detla: 2.0}",
            "› rules[1] › recommend › params › detla: unknown parameter of huber: 'detla'",
            "did you mean 'delta'?",
        ),
        (
            "params: {delta: 2.0}",
            "params: {delta: -1.0}",
            "› rules[1] › recommend › params › delta: value -1 is out of range for huber.delta",
            "allowed",
        ),
        (
            "    why: default\n",
            "    why: default\n    reason: typo\n",
            "› rules[0] › reason: unknown key 'reason'",
            "allowed",
        ),
        (
            "addons: [l2]",
            "addons: [l22]",
            "› rules[2] › addons[0]: unknown add-on 'l22'",
            "did you mean 'l2'?",
        ),
        (
            'ref: guide, section: "Regression"',
            'ref: gide, section: "Regression"',
            "› rules[0] › source[0] › ref: unknown source 'gide'",
            "did you mean 'guide'?",
        ),
        (
            "      cost: 1\n  - id: reg-outliers",
            "      cost: 0\n  - id: reg-outliers",
            "› rules[0] › recommend › cost: must be at least 1, got 0",
            None,
        ),
        (
            "  - id: reg-outliers",
            "  - id: reg",
            "› rules[1] › id: duplicate id 'reg' (also rules[0])",
            None,
        ),
        (
            "version: 1",
            "version: 2",
            "› version: unsupported version 2",
            "use version: 1",
        ),
        (
            '{name: MAE, losses: [mae], cost: 1, why: "more robust"}',
            "{name: MAE, losses: [mae], cost: 1}",
            "› rules[1] › alternatives[0]: missing key 'why'",
            None,
        ),
        (
            "    why: regularize\n    addons: [l2]",
            "    why: regularize",
            "› rules[2]: rule 'overfit' does nothing",
            "give it 'recommend', 'addons' or 'prefer'",
        ),
        (
            "      name: MSE\n",
            "      name: MSE\n      why: extra\n",
            "› rules[0] › recommend › why: the recommendation takes its reason from the rule",
            "move the text",
        ),
    ],
)
def test_invalid_file_names_the_bad_value(tmp_path, old, new, crumb, hint):
    assert old in VALID
    err = error_for(tmp_path, VALID.replace(old, new, 1))
    assert err.message.startswith(str(tmp_path / "rules.yaml")) or err.message.startswith(
        "rules.yaml"
    )
    assert crumb in err.message, err.message
    if hint is not None:
        assert hint in (err.hint or ""), err.hint


def test_recommend_without_task_is_rejected(tmp_path):
    text = VALID.replace("when: {conditions: [overfitting]}", "when: {conditions: [overfitting]}")
    text = text.replace(
        "    addons: [l2]\n",
        "    recommend: {name: MSE, losses: [mse], cost: 1}\n",
    )
    err = error_for(tmp_path, text)
    assert (
        "› rules[2] › recommend: a rule that recommends a loss needs 'when › task'" in err.message
    )


def test_threshold_out_of_range(tmp_path):
    err = error_for(tmp_path, VALID + "thresholds: {minority_share: 0.7}\n")
    assert "› thresholds › minority_share: value 0.7 is out of range" in err.message
    assert err.hint == "allowed: (0, 0.5]"


def test_unknown_threshold_key(tmp_path):
    err = error_for(tmp_path, VALID + "thresholds: {robust_zz: 3}\n")
    assert "› thresholds › robust_zz: unknown key 'robust_zz'" in err.message
    assert "did you mean 'robust_z'?" in err.hint


def test_bad_yaml_names_line_and_column(tmp_path):
    text = "version: 1\nrules:\n  - id: a\n    when: {task: regression\n    why: x\n"
    err = error_for(tmp_path, text)
    assert "invalid YAML at line 5, column 8" in err.message, err.message
    assert str(tmp_path / "rules.yaml") in err.message or "rules.yaml" in err.message


def test_yaml_tags_are_not_executed(tmp_path):
    err = error_for(tmp_path, "version: 1\nrules: !!python/object/apply:os.system ['true']\n")
    assert "invalid YAML" in err.message


def test_empty_file_and_missing_file(tmp_path):
    err = error_for(tmp_path, "")
    assert "the file is empty" in err.message
    with pytest.raises(ConfigError, match="does not exist"):
        load_rules(tmp_path / "nope.yaml")


def test_top_level_must_be_a_mapping(tmp_path):
    err = error_for(tmp_path, "- a\n- b\n")
    assert err.message.endswith(": expected a mapping, got a list")
