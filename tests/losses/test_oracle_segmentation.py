"""Segmentation and detection losses against committed torch 2.13.0 float64 values.

The fixture ``tests/fixtures/oracle_segmentation.json`` is written by
``tests/oracle/gen_segmentation.py`` (torch formulas, torchvision GIoU and focal re-written
in torch ops, MONAI cross-checks when installed). These tests need NumPy only; the
``oracle``-marked test recomputes the fixture live when torch is importable.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from losscli.compute import compute
from losscli.registry import get_spec

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "fixtures" / "oracle_segmentation.json"
GENERATOR = ROOT / "oracle" / "gen_segmentation.py"
RTOL = 1e-9

PAYLOAD = json.loads(FIXTURE.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = PAYLOAD["cases"]


def _context(case: dict[str, Any]) -> dict[str, Any]:
    ctx: dict[str, Any] = {}
    for key, value in case["context"].items():
        ctx[key] = np.asarray(value, dtype=np.float64) if isinstance(value, list) else value
    return ctx


def _ours(case: dict[str, Any]):
    spec = get_spec(case["loss"], case["task"])
    return compute(
        spec,
        np.asarray(case["pred"], dtype=np.float64),
        np.asarray(case["target"], dtype=np.float64),
        params=case["params"],
        context=_context(case),
        keep_per_row=True,
    )


def test_fixture_covers_every_loss() -> None:
    assert PAYLOAD["dtype"] == "float64"
    assert PAYLOAD["torch"].startswith("2.13.0")
    covered = {(c["task"], c["loss"]) for c in CASES}
    assert covered == {
        ("segmentation", name)
        for name in ("dice", "iou", "tversky", "focal_tversky", "dice_bce", "bce", "focal")
    } | {("detection", name) for name in ("smooth_l1", "giou", "focal_smooth_l1")}


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_matches_torch_fixture(case: dict[str, Any]) -> None:
    result = _ours(case)
    assert result.status == "ok"
    assert result.value == pytest.approx(case["expected"], rel=RTOL)
    np.testing.assert_allclose(result.per_row, case["expected_rows"], rtol=RTOL, atol=1e-15)
    if "expected_per_class" in case:
        per_class = np.asarray(case["expected_per_class"]).mean(axis=0)
        got = result.per_class
        if per_class.size > 1:
            assert got is not None
            np.testing.assert_allclose(list(got.values()), per_class, rtol=RTOL)


def _load_generator():
    spec = importlib.util.spec_from_file_location("gen_segmentation", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.oracle
def test_live_torch_recompute() -> None:
    pytest.importorskip("torch")
    gen = _load_generator()
    fresh = gen.build_cases()
    assert [c["id"] for c in fresh] == [c["id"] for c in CASES]
    for new, old in zip(fresh, CASES):
        # the same seeded inputs, and torch still gives the committed values
        np.testing.assert_array_equal(np.asarray(new["pred"]), np.asarray(old["pred"]))
        np.testing.assert_allclose(new["expected_rows"], old["expected_rows"], rtol=1e-12)
        result = _ours(new)
        assert result.value == pytest.approx(new["expected"], rel=RTOL), new["id"]
