"""Regenerate ``tests/fixtures/oracle_analysis.json``: torch's float64 ``pred.grad`` (and
value) of every gradient case in ``tests/analysis/grad_cases.py``.

Usage (needs the ``oracle`` extra: torch==2.13.0 and scikit-learn)::

    python tests/oracle/gen_analysis.py            # writes the fixture
    python tests/oracle/gen_analysis.py --check    # recomputes and compares, writes nothing

Inputs come from small scikit-learn models on its bundled datasets (diabetes, breast
cancer, iris) plus the edge cases of each convention; they are stored with torch's
answers, so the fixture test needs neither torch nor scikit-learn. A gradient entry torch
leaves NaN (``log(0)`` behind a clamp: 0·(1/0), or xlogy's 0·log 0 in js_div) is stored
as null; losscli gives 0 behind a clamp and the analytic limit for js_div there.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "oracle_analysis.json"


def _list(a: Any) -> Any:
    if a is None:
        return None
    arr = np.asarray(a, dtype=np.float64)
    return (
        [_list(x) for x in arr]
        if arr.ndim > 1
        else [None if not math.isfinite(x) else float(x) for x in arr]
    )


def build() -> list[dict[str, Any]]:
    sys.path.insert(0, str(ROOT))
    from tests.analysis.grad_cases import cases, torch_value_and_grad

    out = []
    for c in cases():
        value, grad = torch_value_and_grad(c)
        out.append(
            {
                "id": c["id"],
                "loss": c["loss"],
                "task": c["task"],
                "params": {
                    k: list(v) if isinstance(v, tuple) else v for k, v in c["params"].items()
                },
                "logits": c["logits"],
                "layout": c["layout"],
                "context": {k: _list(v) for k, v in c["context"].items()},
                "pred": _list(c["pred"]),
                "target": None if c["target"] is None else np.asarray(c["target"]).tolist(),
                "weight": _list(c["weight"]),
                "reduction": c["reduction"],
                "value": value,
                "grad": _list(grad),
            }
        )
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    doc = {"torch": __import__("torch").__version__, "cases": build()}
    compact = {"separators": (",", ":")}
    lines = [json.dumps(c, **compact) for c in doc["cases"]]  # one case per line
    text = '{"torch":' + json.dumps(doc["torch"]) + ',"cases":[\n' + ",\n".join(lines) + "\n]}\n"
    if args.check:
        old = json.loads(FIXTURE.read_text())
        same = old["cases"] == doc["cases"]
        print("fixture up to date" if same else "fixture differs")
        return 0 if same else 1
    FIXTURE.write_text(text)
    print(f"wrote {FIXTURE} ({len(doc['cases'])} cases)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
