"""Embedding, VAE and GAN losses against PyTorch reference values.

``tests/fixtures/oracle_embedding.json`` holds seeded inputs and the values of the
reference calls (torch 2.13.0, float64), written by ``tests/oracle/gen_embedding.py``.
The fixture test needs only NumPy; the ``oracle`` test recomputes the references live
when torch is installed.
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
FIXTURE = TESTS / "fixtures" / "oracle_embedding.json"
GENERATOR = TESTS / "oracle" / "gen_embedding.py"
RTOL = 1e-9

DATA: dict[str, Any] = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = DATA["cases"]
IDS = [c["id"] for c in CASES]


def _arr(v: Any) -> np.ndarray | None:
    return None if v is None else np.asarray(v, dtype=np.float64)


def _context(case: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (np.asarray(v, dtype=np.float64) if isinstance(v, list) else v)
        for k, v in case["context"].items()
    }


def _ours(case: dict[str, Any]) -> float:
    result = compute(
        get_spec(case["loss"], case["task"]),
        np.asarray(case["pred"], dtype=np.float64),
        _arr(case["target"]),
        params=case["params"],
        context=_context(case),
        sample_weight=_arr(case["sample_weight"]),
    )
    assert result.status == "ok", result
    assert result.value is not None
    return result.value


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_embedding", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixture_covers_every_loss_and_layout() -> None:
    from losscli.losses.embedding import LAYOUTS
    from losscli.registry import family_specs

    EMB = family_specs("embedding")
    GEN = family_specs("generative")

    covered = {(c["loss"], c["task"]) for c in CASES}
    for spec in EMB + GEN:
        assert (spec.name, spec.tasks[0]) in covered, spec.name
    layouts = {(c["loss"], c["context"].get("layout")) for c in CASES}
    for loss, accepted in LAYOUTS.items():
        for layout in accepted:
            assert (loss, layout) in layouts, (loss, layout)
    minings = {c["params"].get("mining", "hard") for c in CASES if c["loss"] == "triplet"}
    assert minings == {"hard", "all"}
    assert DATA["versions"]["torch"] == "2.13.0"
    assert all(c["reference"] for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_matches_reference_value(case: dict[str, Any]) -> None:
    assert _ours(case) == pytest.approx(case["expected"], rel=RTOL, abs=0.0)


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["context"].get("layout") == "labels"],
    ids=[c["id"] for c in CASES if c["context"].get("layout") == "labels"],
)
def test_small_blocks_give_the_same_value(
    case: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """All-pairs / mining loops in blocks of a few rows match the reference too."""
    import losscli.losses.embedding as emb

    n = len(case["pred"])
    monkeypatch.setattr(emb, "PAIR_BLOCK_ELEMENTS", 3 * n)
    assert _ours(case) == pytest.approx(case["expected"], rel=RTOL, abs=0.0)


@pytest.mark.oracle
def test_references_recomputed_live() -> None:
    pytest.importorskip("torch")
    gen = _generator()
    mismatched = []
    for case in CASES:
        value, call = gen.reference(case)
        assert call == case["reference"], case["id"]
        if not math.isclose(value, case["expected"], rel_tol=1e-12, abs_tol=0.0):
            mismatched.append((case["id"], value, case["expected"]))
        assert _ours(case) == pytest.approx(value, rel=RTOL, abs=0.0), case["id"]
    assert not mismatched
