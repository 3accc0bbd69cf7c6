"""Every registered loss carries its documentation, defaults, domains, a known-value test
and an oracle fixture; every loss name the rules file uses exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from losscli.registry import TASKS, all_specs, canonical_name, loss_names, resolve_params

ROOT = Path(__file__).resolve().parents[1]
SPECS = all_specs()
IDS = [f"{s.name}[{'/'.join(s.tasks)}]" for s in SPECS]

#: SPEC §6 canonical names, by task.
SPEC_NAMES = {
    "regression": {
        "mse",
        "rmse",
        "mae",
        "huber",
        "smooth_l1",
        "log_cosh",
        "pinball",
        "msle",
        "mape",
        "poisson_nll",
    },
    "binary": {"bce", "focal", "hinge", "squared_hinge", "brier"},
    "multilabel": {"bce", "focal"},
    "multiclass": {"cross_entropy", "focal", "multi_hinge", "brier", "kl_div"},
    "distribution": {"kl_div", "js_div", "cross_entropy"},
    "segmentation": {"dice", "iou", "tversky", "focal_tversky", "dice_bce", "bce", "focal"},
    "detection": {"smooth_l1", "giou", "focal_smooth_l1"},
    "embedding": {"contrastive", "triplet", "cosine_embedding"},
    "vae": {"vae"},
    "gan": {"gan_d", "gan_g", "hinge_d", "hinge_g", "wgan_d", "wgan_g", "lsgan_d", "lsgan_g"},
}


def _oracle_cases() -> set[tuple[str, str]]:
    out = set()
    for f in (ROOT / "tests" / "fixtures").glob("oracle_*.json"):
        for case in json.loads(f.read_text())["cases"]:
            out.add((case["loss"], case["task"]))
    return out


ORACLE = _oracle_cases()
TEST_TEXT = "\n".join(p.read_text() for p in (ROOT / "tests" / "losses").glob("test_*.py"))


@pytest.mark.parametrize("task", TASKS)
def test_every_spec_name_is_registered_for_its_task(task):
    names = {s.name for s in SPECS if task in s.tasks}
    assert SPEC_NAMES[task] <= names


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spec_is_documented(spec):
    assert spec.summary and spec.formula and spec.when_to_use and spec.inputs
    assert spec.references, "a reference is required"
    assert spec.oracle, "name the oracle or say why there is none"
    assert set(spec.tasks) <= set(TASKS)
    assert spec.kernel() is not None
    # defaults validate against their own ranges
    assert resolve_params(spec, {}) == spec.defaults()
    for p in spec.params:
        assert p.help, f"{spec.name}.{p.name} needs a help text"


@pytest.mark.parametrize("spec", SPECS, ids=IDS)
def test_spec_has_an_oracle_fixture_and_a_known_value_test(spec):
    assert any((spec.name, t) in ORACLE for t in spec.tasks), (
        f"no oracle fixture case for {spec.name} ({spec.tasks})"
    )
    assert re.search(rf"\b{spec.kernel().__name__}\b|['\"]{spec.name}['\"]", TEST_TEXT)


def test_task_variants_never_overlap():
    seen: dict[tuple[str, str], int] = {}
    for s in SPECS:
        for t in s.tasks:
            key = (s.name, t)
            assert key not in seen, f"{key} registered twice"
            seen[key] = 1


def test_aliases_are_unique_and_resolve():
    owners: dict[str, str] = {}
    for s in SPECS:
        for a in s.aliases:
            assert owners.setdefault(a, s.name) == s.name, f"alias {a} used twice"
            assert canonical_name(a) == s.name
    assert not set(owners) & set(loss_names())


def test_every_loss_in_the_rules_file_exists():
    text = (ROOT / "configs" / "rules.yaml").read_text()
    import yaml

    data = yaml.safe_load(text)
    names: set[str] = set()

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                if k in ("losses", "measure") and isinstance(v, list):
                    names.update(v)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(data)
    assert names
    for n in names:
        assert canonical_name(n) == n


def test_a_bad_declaration_names_its_file_and_loss():
    from losscli.registry import specs_from_yaml

    text = "module: m\nlosses:\n- name: odd\n  sumary: typo\n"
    with pytest.raises(ValueError, match=r"x\.yaml: loss 'odd': .*sumary"):
        specs_from_yaml(text, source="x.yaml")


def test_shared_declarations_are_the_same_values():
    # YAML anchors share one declaration between losses: equal specs, no drift
    from losscli.registry import family_specs

    seg = {s.name: s for s in family_specs("segmentation")}
    assert seg["dice"].params == seg["iou"].params
    assert seg["tversky"].param("alpha") == seg["focal_tversky"].param("alpha")
