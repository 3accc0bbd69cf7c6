"""Classification losses against PyTorch / torchvision / scikit-learn reference values.

``tests/fixtures/oracle_classification.json`` holds seeded inputs and the values of the
reference calls (torch 2.13.0 and scikit-learn 1.9 in float64), written by
``tests/oracle/gen_classification.py``. The fixture test needs only NumPy; the ``oracle``
test recomputes every reference live when torch and scikit-learn are installed.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from losscli.compute import compute
from losscli.registry import get_spec

TESTS = Path(__file__).resolve().parents[1]
FIXTURE = TESTS / "fixtures" / "oracle_classification.json"
GENERATOR = TESTS / "oracle" / "gen_classification.py"
RTOL = 1e-9

DATA: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DATA["cases"]
IDS = [c["id"] for c in CASES]


def _arrays(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    pred = np.asarray(case["pred"], dtype=np.float64)
    tdtype = np.int64 if case["task"] == "multiclass" else np.float64
    return pred, np.asarray(case["target"], dtype=tdtype)


def _ours(case: dict[str, Any]) -> float:
    pred, target = _arrays(case)
    result = compute(
        get_spec(case["loss"], case["task"]),
        pred,
        target,
        params=case["params"],
        context={"from_logits": case["from_logits"]},
    )
    assert result.status == "ok", result
    assert result.value is not None
    return result.value


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_classification", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixture_covers_every_classification_spec() -> None:
    from losscli.registry import family_specs

    covered = {(c["loss"], c["task"]) for c in CASES}
    SPECS = family_specs("classification")
    for spec in SPECS:
        for task in spec.tasks:
            assert (spec.name, task) in covered, (spec.name, task)
    # both input kinds for every loss
    kinds = {(c["loss"], c["task"], c["from_logits"]) for c in CASES}
    for spec in SPECS:
        for task in spec.tasks:
            assert {(spec.name, task, True), (spec.name, task, False)} <= kinds
    assert DATA["versions"]["torch"].startswith("2.13")
    assert DATA["versions"]["scikit-learn"].startswith("1.9")


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_reference(case: dict[str, Any]) -> None:
    expected = case["expected"]
    assert math.isfinite(expected)
    assert _ours(case) == pytest.approx(expected, rel=RTOL, abs=1e-300)


@pytest.mark.oracle
def test_reference_values_recomputed_live() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    gen = _generator()
    fresh = gen.make_cases()
    assert [c["id"] for c in fresh] == IDS, "fixture is stale: rerun gen_classification.py"
    for stored, case in zip(CASES, fresh):
        assert case["pred"] == stored["pred"] and case["target"] == stored["target"]
        live = gen.oracle_value(case)
        assert live == pytest.approx(stored["expected"], rel=1e-12), case["id"]
        assert _ours(case) == pytest.approx(live, rel=RTOL), case["id"]
