"""The shipped selection guide, row by row (SPEC §7), and the recommend document (§3.3)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from losscli.errors import UsageError
from losscli.rules import load_rules, recommend
from losscli.rules.engine import decide
from losscli.rules.schema import Choice, Rule, RuleSet, Thresholds, When

# (task, conditions) → (primary losses, primary params subset, further ranked losses, add-ons)
GUIDE = [
    # SPEC §7 rows
    ("regression", [], ["mse"], {}, [], []),
    ("regression", ["outliers"], ["huber"], {"delta": 1.0}, [["mae"]], []),
    ("regression", ["noisy_labels"], ["huber"], {"delta": 1.0}, [["mae"]], []),
    ("regression", ["interpretable"], ["mae"], {}, [], []),
    ("binary", [], ["bce"], {}, [], []),
    ("multiclass", [], ["cross_entropy"], {}, [], []),
    ("binary", ["imbalanced"], ["focal"], {"alpha": 0.25, "gamma": 2.0}, [["bce"]], []),
    (
        "multiclass",
        ["imbalanced"],
        ["focal"],
        {"alpha": 0.25, "gamma": 2.0},
        [["cross_entropy"]],
        [],
    ),
    ("binary", ["margin"], ["hinge"], {"margin": 1.0}, [["squared_hinge"]], []),
    ("multiclass", ["margin"], ["multi_hinge"], {}, [], []),
    ("binary", ["overconfident"], ["bce"], {"label_smoothing": 0.1}, [], ["label smoothing"]),
    (
        "multiclass",
        ["overconfident"],
        ["cross_entropy"],
        {"label_smoothing": 0.1},
        [],
        ["label smoothing"],
    ),
    ("multilabel", [], ["bce"], {}, [], []),
    ("multilabel", ["imbalanced"], ["focal"], {"gamma": 2.0}, [["bce"]], []),
    ("segmentation", [], ["dice", "bce"], {}, [["iou"]], []),
    (
        "segmentation",
        ["imbalanced"],
        ["dice", "focal"],
        {"gamma": 2.0},
        [["tversky"], ["focal_tversky"]],
        [],
    ),
    ("detection", [], ["focal", "smooth_l1"], {"beta": 1.0}, [["giou"]], []),
    ("embedding", [], ["triplet"], {"margin": 1.0}, [["contrastive"]], []),
    ("distribution", [], ["kl_div"], {}, [["js_div"]], []),
    ("vae", [], ["vae"], {"recon": "bce", "beta": 1.0}, [["vae"]], []),
    ("gan", [], ["gan_d", "gan_g"], {}, [["hinge_d", "hinge_g"], ["lsgan_d", "lsgan_g"]], []),
    ("regression", ["sparse_features"], ["mse"], {}, [], ["L1 regularization"]),
    ("multiclass", ["overfitting"], ["cross_entropy"], {}, [], ["L2 regularization"]),
    ("regression", ["large_scale"], ["mse"], {}, [], []),
    # combinations
    ("regression", ["outliers", "interpretable"], ["mae"], {}, [["huber"]], []),
    ("regression", ["noisy_labels", "interpretable"], ["mae"], {}, [["huber"]], []),
    ("regression", ["outliers", "noisy_labels"], ["huber"], {}, [["mae"]], []),
    # large scale: cheapest candidate first (MAE has no δ; weighted BCE no γ)
    ("regression", ["outliers", "large_scale"], ["mae"], {}, [["huber"]], []),
    ("binary", ["imbalanced", "large_scale"], ["bce"], {}, [["focal"]], []),
    (
        "multiclass",
        ["imbalanced", "large_scale"],
        ["cross_entropy"],
        {"weight": "balanced"},
        [["focal"]],
        [],
    ),
    # ... and each concern keeps its own answer, the top concern first
    (
        "binary",
        ["imbalanced", "margin", "large_scale"],
        ["bce"],
        {},
        [["hinge"], ["focal"], ["squared_hinge"]],
        [],
    ),
    # add-ons stack and are listed once
    (
        "multiclass",
        ["overconfident", "noisy_labels", "sparse_features", "overfitting"],
        ["cross_entropy"],
        {"label_smoothing": 0.1},
        [],
        ["label smoothing", "L1 regularization", "L2 regularization"],
    ),
    # imbalance outranks overconfidence (priority), label smoothing still stacks
    (
        "binary",
        ["imbalanced", "overconfident"],
        ["focal"],
        {},
        [["bce"], ["bce"]],
        ["label smoothing"],
    ),
]


@pytest.mark.parametrize(("task", "conds", "primary", "params", "rest", "addons"), GUIDE)
def test_guide(task, conds, primary, params, rest, addons):
    result = recommend(task, conds)
    recs = result["recommendations"]
    assert recs[0]["losses"] == primary
    assert recs[0]["role"] == "primary"
    assert params.items() <= recs[0]["params"].items()
    assert [r["losses"] for r in recs[1:]] == rest
    assert [a["name"] for a in result["addons"]] == addons
    assert [r["rank"] for r in recs] == list(range(1, len(recs) + 1))


def test_every_rule_is_reachable():
    """Each rule fires for its own task and conditions and shows up in the result."""
    ruleset = load_rules()
    tasks = ("regression", "binary", "multiclass", "multilabel", "segmentation")
    for rule in ruleset.rules:
        task = rule.when.task or "regression"
        decision = decide(ruleset, task, rule.when.conditions)
        credited = {rid for c in decision.candidates for rid in c.rules}
        credited |= {rid for _, rids in decision.addons for rid in rids}
        assert rule.id in credited, rule.id
        assert rule.when.task in (
            None,
            *tasks,
            "detection",
            "embedding",
            "distribution",
            "vae",
            "gan",
        )


def test_document_shape_matches_spec():
    result = recommend("segmentation")
    assert result["schema_version"] == 1
    assert result["command"] == "recommend"
    assert result["task"] == "segmentation"
    assert result["conditions"] == {}
    first = result["recommendations"][0]
    assert {"rank", "name", "losses", "params", "why", "rules", "code"} <= first.keys()
    assert first["name"] == "Dice + BCE"
    assert first["rules"] == ["segmentation"]
    assert set(first["code"]) == {"pytorch", "keras", "losscli"}
    assert first["code"]["losscli"] == (
        "losscli evaluate PREDS TARGETS --task segmentation --loss dice_bce"
    )
    json.dumps(result, allow_nan=False)  # strict JSON
    assert "explain" not in result and "evidence" not in result


def test_conditions_are_flags_and_accept_cli_spelling():
    result = recommend("binary", ["--noisy-labels", "imbalanced", "noisy_labels"])
    assert result["conditions"] == {"imbalanced": True, "noisy_labels": True}
    assert recommend("regression", "outliers")["conditions"] == {"outliers": True}


def test_losscli_line_carries_every_param():
    det = recommend("detection")["recommendations"][0]["code"]["losscli"]
    assert det == (
        "losscli evaluate PREDS TARGETS --task detection --loss focal_smooth_l1 "
        "--param focal_smooth_l1.alpha=0.25 --param focal_smooth_l1.gamma=2 "
        "--param focal_smooth_l1.beta=1"
    )
    seg = recommend("segmentation", ["imbalanced"])["recommendations"][0]["code"]["losscli"]
    assert "--loss dice --loss focal --param focal.alpha=0.25 --param focal.gamma=2" in seg
    gan = recommend("gan")["recommendations"][0]["code"]["losscli"]
    assert gan == "losscli evaluate PREDS --task gan --loss gan_d --loss gan_g"


def test_data_dependent_param_is_filled_from_evidence():
    rows = [{"name": "minority share", "details": {"neg_pos_ratio": 24.0}}]
    recs = recommend("binary", ["imbalanced"], evidence=rows)["recommendations"]
    weighted = recs[1]
    assert weighted["params"] == {"pos_weight": 24.0}
    assert weighted["code"]["losscli"].endswith("--loss bce --param bce.pos_weight=24")
    # without evidence the line stays runnable and says what to set
    bare = recommend("binary", ["imbalanced"])["recommendations"][1]
    assert bare["params"] == {}
    assert bare["code"]["losscli"] == (
        "losscli evaluate PREDS TARGETS --task binary --loss bce"
        "  # set --param bce.pos_weight=<negatives/positives in the targets>"
    )


def test_regularization_addon_extends_the_primary_line():
    addon = recommend("regression", ["sparse_features"])["addons"][0]
    assert addon["params"] == {"l1": 1e-5}
    assert addon["code"]["losscli"] == (
        "losscli evaluate PREDS TARGETS --task regression --loss mse "
        "--l1 1e-05 --model-weights W.npy"
    )
    assert addon["rules"] == ["sparse-features"]


def test_conflict_and_ties_are_explained():
    notes = recommend("binary", ["imbalanced", "margin"])["notes"]
    assert any("'binary-imbalanced' (Focal) ranks first" in n and "priority 30" in n for n in notes)
    notes = recommend("regression", ["outliers", "large_scale"])["notes"]
    assert notes == [
        "Large scale: MAE (cost 1) moves ahead of Huber (cost 2): the guide prefers the "
        "simplest loss that still fits the task."
    ]
    combo = recommend("regression", ["outliers", "interpretable"])["recommendations"][0]
    assert combo["rules"] == ["regression-outliers-interpretable"]
    assert "MAE satisfies" in combo["why"]


def test_unused_condition_is_reported():
    notes = recommend("gan", ["outliers"])["notes"]
    assert notes == ["No rule in the guide uses 'outliers' for gan; it did not change the advice."]


def test_explain_says_why_a_rule_did_not_fire():
    rows = {r["rule"]: r for r in recommend("regression", ["outliers"], explain=True)["explain"]}
    assert rows["regression-outliers"]["status"] == "primary"
    assert rows["regression"]["status"] == "superseded"
    assert "superseded by 'regression-outliers'" in rows["regression"]["reason"]
    assert rows["regression-outliers-interpretable"] == {
        "rule": "regression-outliers-interpretable",
        "task": "regression",
        "fired": False,
        "status": "not fired",
        "specificity": 2,
        "reason": "missing condition 'interpretable'",
    }
    assert rows["binary"]["reason"] == "needs task binary (task is regression)"
    assert len(rows) == len(load_rules().rules)


def test_framework_filter():
    code = recommend("regression", framework="pytorch")["recommendations"][0]["code"]
    assert set(code) == {"pytorch", "losscli"}
    code = recommend("regression", framework="tf")["recommendations"][0]["code"]
    assert set(code) == {"keras", "losscli"}
    with pytest.raises(UsageError) as err:
        recommend("regression", framework="pytorh")
    assert "did you mean 'pytorch'" in (err.value.hint or "")


@pytest.mark.parametrize("task", ["classification", "Classification"])
def test_classification_is_refused_with_the_choices(task):
    with pytest.raises(UsageError) as err:
        recommend(task, ["imbalanced"])
    assert "ambiguous" in err.value.message
    assert "binary" in err.value.hint and "multiclass" in err.value.hint


def test_missing_and_unknown_inputs_are_usage_errors():
    with pytest.raises(UsageError, match="needs a task"):
        recommend(None)
    with pytest.raises(UsageError) as err:
        recommend("segmentaton")
    assert "did you mean 'segmentation'" in err.value.hint
    with pytest.raises(UsageError) as err:
        recommend("binary", ["imbalance"])
    assert "did you mean 'imbalanced'" in err.value.hint


def _choice(name: str, cost: int = 1) -> Choice:
    return Choice(name=name, losses=(name,), measure=(name,), why=name, cost=cost)


def _ruleset(*rules: Rule) -> RuleSet:
    t = Thresholds(0.2, 4.0, 3.5, 0.01, 3.0, 0.05)
    return RuleSet(path="test.yaml", version=1, thresholds=t, rules=rules)


def test_engine_needs_all_conditions_and_prefers_specific_rules():
    """Plain dataclasses, no YAML: a near miss does not fire; the superset wins."""
    rs = _ruleset(
        Rule("base", When("regression"), "b", recommend=_choice("mse")),
        Rule("one", When("regression", ("outliers",)), "o", recommend=_choice("huber", 2)),
        Rule(
            "two",
            When("regression", ("outliers", "interpretable")),
            "t",
            recommend=_choice("mae"),
        ),
    )
    assert [c.choice.name for c in decide(rs, "regression", ["outliers"]).candidates] == ["huber"]
    both = decide(rs, "regression", ["outliers", "interpretable"])
    assert [c.choice.name for c in both.candidates] == ["mae"]
    assert [c.choice.name for c in decide(rs, "regression", ["interpretable"]).candidates] == [
        "mse"
    ]


def test_rules_without_a_task_rule_are_a_usage_error():
    rs = _ruleset(Rule("base", When("regression"), "b", recommend=_choice("mse")))
    with pytest.raises(UsageError, match="no rule for task 'binary'"):
        decide(rs, "binary", [])


def test_import_loads_neither_pandas_nor_numpy():
    code = (
        "import sys, losscli.rules as r; r.recommend('binary', ['imbalanced']);"
        "print(sorted(m for m in ('pandas', 'pyarrow', 'numpy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --------------------------------------------------------------------------- views


def _render(result: dict, width: int = 80) -> str:
    from rich.console import Console

    from losscli.report.recommend_view import render_rich

    console = Console(width=width, no_color=True, force_terminal=False, record=True)
    render_rich(result, console)
    return console.export_text()


def test_rich_view_fits_80_columns_without_colour():
    rows = [
        {
            "name": "minority share",
            "value": 0.04,
            "threshold": 0.2,
            "verdict": "imbalanced",
            "condition": "imbalanced",
            "sentence": "The positives are 4.0% of 1000 targets.",
            "details": {"neg_pos_ratio": 24.0},
        }
    ]
    result = recommend("binary", ["imbalanced", "overfitting"], explain=True, evidence=rows)
    text = _render(result)
    assert "\x1b[" not in text
    line = result["recommendations"][0]["code"]["losscli"]
    for row in text.splitlines():
        if row != line:  # the command is soft-wrapped on purpose, to copy as one line
            assert len(row) <= 80, row
    for expected in (
        "Recommended: Focal",
        "sigmoid_focal_loss",
        "BinaryFocalCrossentropy",
        line,
        "Alternatives",
        "pos_weight=24",
        "L2 regularization",
        "What the data shows",
        "How the rules applied",
        "rules for other tasks did not fire",
    ):
        assert expected in text, expected


def test_rich_view_respects_framework():
    text = _render(recommend("regression", ["outliers"], framework="keras"))
    assert "tf.keras.losses.Huber(delta=1.0)" in text
    assert "torch.nn.HuberLoss" not in text


def test_markdown_view_has_code_for_every_recommendation():
    from losscli.report.recommend_view import render_markdown

    result = recommend("regression", ["outliers"], explain=True)
    md = render_markdown(result)
    assert md.startswith("## losscli recommend — task: regression · conditions: outliers\n")
    assert "### 1. Huber (recommended)" in md
    assert "### 2. MAE (alternative)" in md
    assert md.count("```python") == 4  # PyTorch + Keras for both
    assert "torch.nn.L1Loss()" in md
    assert "| `regression-outliers` | yes | primary |" in md
