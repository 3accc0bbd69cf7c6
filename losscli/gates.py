"""Gates (``--max LOSS=V``): one rule for evaluate and compare, one wording.

A gate passes when its loss has a finite value at or below the limit; a loss with no
finite value fails the gate (fail closed, SPEC §2 exit 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


def check_gates(
    gates: Mapping[str, float],
    values: Mapping[str, float | None],
    *,
    model: str | None = None,
) -> list[dict[str, Any]]:
    """One row per gate: ``{"loss", "op", "limit", "value", "passed"}`` (+ ``"model"``)."""
    rows = []
    for loss, limit in gates.items():
        v = values.get(loss)
        passed = v is not None and math.isfinite(v) and v <= limit
        who = {"model": model} if model is not None else {}
        rows.append({"loss": loss, **who, "op": "<=", "limit": limit, "value": v, "passed": passed})
    return rows


def describe_failure(gate: Mapping[str, Any]) -> str:
    """The one-line message for a failed gate, the same in every command and format."""
    who = f"{gate['model']}: " if gate.get("model") is not None else ""
    v = gate.get("value")
    if v is None or not math.isfinite(v):
        return f"gate failed: {who}{gate['loss']} has no finite value (fail closed)"
    return f"gate failed: {who}{gate['loss']} = {v} > {gate['limit']}"
