"""Live check of every gradient case against torch.autograd in float64 (the committed
fixture's source), and that the fixture is up to date."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.oracle


def test_every_case_against_live_torch():
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from tests.analysis.grad_cases import cases, ours, torch_value_and_grad
    from tests.analysis.test_grad import check_against_torch

    for case in cases():
        value, grad = torch_value_and_grad(case)
        mine = ours(case)
        want = {"value": value, "grad": [None if g != g else g for g in grad.reshape(-1)]}
        flat = {"value": want["value"], "grad": want["grad"]}
        check_against_torch(flat, mine[0], mine[1].reshape(-1))
