"""Live cross-checks of ``--convention`` against the frameworks themselves (SPEC §10).

Recomputes every case of ``tests/fixtures/oracle_conventions.json`` with Keras 3 (torch
backend), scikit-learn, torch and MONAI, and checks both the stored value (the fixture is
current) and losscli's value: float64 to 1e-9, except where the framework itself rounds
to float32 (the case's ``rtol``, with the reason in tests/oracle/gen_conventions.py).
Needs the ``oracle`` extra (``pip install -e ".[oracle]"``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")

pytestmark = pytest.mark.oracle

for mod in ("torch", "sklearn", "keras", "monai", "pytorch_metric_learning"):
    pytest.importorskip(mod)

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen_conventions as gen  # noqa: E402

from tests.losses.test_conventions import CASES, losscli_value  # noqa: E402


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_fixture_and_losscli_match_the_framework_live(case):
    live = gen.oracle_value(case)
    rtol = case.get("rtol", 1e-9)
    assert live == pytest.approx(case["expected"], rel=1e-12)
    got = losscli_value(
        case["loss"],
        case["task"],
        case["convention"],
        case["pred"],
        case["target"],
        params=case["params"],
        from_logits=case.get("from_logits"),
        sample_weight=case.get("sample_weight"),
    )
    assert got == pytest.approx(live, rel=rtol, abs=1e-15)


def test_multi_margin_random_live():
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(7)
    for p, margin in ((1, 1.0), (2, 0.3)):
        z = rng.normal(size=(200, 6))
        y = rng.integers(0, 6, 200)
        w = rng.uniform(0.0, 2.0, 6)
        want = F.multi_margin_loss(
            torch.as_tensor(z), torch.as_tensor(y), p=p, margin=margin, weight=torch.as_tensor(w)
        ).item()
        got = losscli_value(
            "multi_margin",
            "multiclass",
            "torch",
            z,
            y,
            params={"p": p, "margin": margin, "weight": tuple(w)},
            from_logits=True,
        )
        assert got == pytest.approx(want, rel=1e-9)
