"""Writes tests/fixtures/oracle_calibration.json: seeded inputs and torchmetrics' ECE/MCE.

Run with the ``oracle`` extra installed: ``python tests/oracle/gen_calibration.py``.
Binary values come from ``binary_calibration_error`` on float64 tensors; multiclass values
from its float64 core ``_ce_compute`` (the public multiclass function casts the
confidences to float32 first, which moves values by ~1e-7).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import numpy as np
import torch
import torchmetrics

cal = importlib.import_module("torchmetrics.functional.classification.calibration_error")

OUT = Path(__file__).resolve().parents[1] / "fixtures" / "oracle_calibration.json"


def main() -> None:
    rng = np.random.default_rng(20261204)
    cases = []
    for k, (n, bins) in enumerate([(60, 15), (40, 5), (25, 1), (80, 7)]):
        p = rng.random(n)
        p[:3] = [0.0, 1.0, 0.4]
        if bins == 5:
            p = np.round(p * 5) / 5
        y = (rng.random(n) < p).astype(np.int64)
        for norm, name in (("l1", "ece"), ("max", "mce")):
            v = cal.binary_calibration_error(
                torch.tensor(p), torch.tensor(y), n_bins=bins, norm=norm
            ).item()
            cases.append(
                {
                    "id": f"{name}/binary/{k}",
                    "loss": name,
                    "task": "binary",
                    "from_logits": False,
                    "params": {"bins": bins},
                    "oracle": "torchmetrics.binary_calibration_error",
                    "pred": p.tolist(),
                    "target": y.tolist(),
                    "expected": v,
                }
            )
    for k, (n, c, bins, logits) in enumerate(
        [(50, 3, 10, False), (70, 5, 15, True), (30, 4, 2, False)]
    ):
        z = rng.normal(size=(n, c)) * 2
        prob = np.exp(z) / np.exp(z).sum(1, keepdims=True)
        y = rng.integers(0, c, n)
        conf = torch.tensor(prob.max(1))
        acc = torch.tensor((prob.argmax(1) == y).astype(np.float64))
        for norm, name in (("l1", "ece"), ("max", "mce")):
            v = cal._ce_compute(conf, acc, bins, norm).item()
            cases.append(
                {
                    "id": f"{name}/multiclass/{k}",
                    "loss": name,
                    "task": "multiclass",
                    "from_logits": logits,
                    "params": {"bins": bins},
                    "oracle": "torchmetrics _ce_compute (float64 core of multiclass_calibration_error)",
                    "pred": (z if logits else prob).tolist(),
                    "target": y.tolist(),
                    "expected": v,
                }
            )
    doc = {
        "schema_version": 1,
        "generator": "tests/oracle/gen_calibration.py",
        "versions": {
            "torch": torch.__version__,
            "torchmetrics": torchmetrics.__version__,
            "numpy": np.__version__,
        },
        "dtype": "float64",
        "cases": cases,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
