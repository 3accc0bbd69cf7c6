"""Regression and distribution losses against PyTorch / scikit-learn reference values.

``tests/fixtures/oracle_regression.json`` holds seeded inputs and the values of the
reference calls (torch 2.13.0 and scikit-learn in float64), written by
``tests/oracle/gen_regression.py``. The fixture test needs only NumPy; the ``oracle``
test recomputes the references live when torch and scikit-learn are installed.
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
FIXTURE = TESTS / "fixtures" / "oracle_regression.json"
GENERATOR = TESTS / "oracle" / "gen_regression.py"
RTOL = 1e-9

DATA: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DATA["cases"]
IDS = [c["id"] for c in CASES]


def _ours(case: dict[str, Any]) -> float:
    spec = get_spec(case["loss"], case["task"])
    weight = case["sample_weight"]
    result = compute(
        spec,
        np.asarray(case["pred"], dtype=np.float64),
        np.asarray(case["target"], dtype=np.float64),
        params=case["params"],
        sample_weight=None if weight is None else np.asarray(weight, dtype=np.float64),
    )
    assert result.status == "ok"
    assert result.value is not None
    return result.value


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_regression", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixture_covers_every_loss_of_both_families() -> None:
    from losscli.registry import family_specs
    from losscli.registry._base import LossSpec

    DIST = family_specs("distribution")
    REG = family_specs("regression")

    specs: tuple[LossSpec, ...] = REG + DIST
    covered = {(c["loss"], c["task"]) for c in CASES}
    for spec in specs:
        assert (spec.name, spec.tasks[0]) in covered, spec.name
    assert DATA["versions"]["torch"] == "2.13.0"
    assert all(c["reference"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_reference_value(case: dict[str, Any]) -> None:
    assert _ours(case) == pytest.approx(case["expected"], rel=RTOL, abs=0.0)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_chunked_evaluation_gives_the_same_value(case: dict[str, Any]) -> None:
    """Row blocks of 3 rows (forced through the spec's kernel and Partial) merge exactly."""
    from losscli.losses._reduce import Partial

    spec = get_spec(case["loss"], case["task"])
    pred = np.asarray(case["pred"], dtype=np.float64)
    target = np.asarray(case["target"], dtype=np.float64)
    weight = case["sample_weight"]
    w = None if weight is None else np.asarray(weight, dtype=np.float64)
    params = {**spec.defaults(), **case["params"]}
    total = Partial()
    for start in range(0, pred.shape[0], 3):
        sl = slice(start, start + 3)
        total.update(spec.kernel()(pred[sl], target[sl], **params), None if w is None else w[sl])
    from losscli.compute import finish

    value = finish(spec, total, params).value  # sqrt finalize; per output when several
    assert value == pytest.approx(case["expected"], rel=RTOL, abs=0.0)


@pytest.mark.oracle
def test_references_recomputed_live() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    gen = _generator()
    mismatched = []
    for case in CASES:
        value, call = gen.reference(case)
        assert call == case["reference"], case["id"]
        if not math.isclose(value, case["expected"], rel_tol=1e-12, abs_tol=0.0):
            mismatched.append((case["id"], value, case["expected"]))
        assert _ours(case) == pytest.approx(value, rel=RTOL, abs=0.0), case["id"]
    assert not mismatched
