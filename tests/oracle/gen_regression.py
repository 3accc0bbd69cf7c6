"""Regenerate ``tests/fixtures/oracle_regression.json``: reference values of the
regression and distribution losses computed by PyTorch and scikit-learn in float64.

Usage (needs the ``oracle`` extra: torch==2.13.0 and scikit-learn)::

    python tests/oracle/gen_regression.py            # writes the fixture
    python tests/oracle/gen_regression.py --check    # recomputes and compares, writes nothing

Inputs are drawn from a seeded NumPy generator (several sizes, 1-D and multi-output,
outliers, non-default parameters, sample weights) and stored in the fixture together with
the expected value and the exact reference call, so the fixture test needs neither torch
nor scikit-learn. In the reference strings ``pred``, ``target``, ``P``, ``Q``, ``w`` are
``torch.float64`` tensors and ``y_true``, ``y_pred``, ``w_np`` float64 NumPy arrays
(``y_true = target``, ``y_pred = pred``; for distributions ``Q = pred``, ``P = target``).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "oracle_regression.json"
SEED = 20261122

Case = dict[str, Any]


# --------------------------------------------------------------------------- inputs


def _reg(rng: np.random.Generator, shape: tuple[int, ...], *, outliers: float = 0.0):
    """Targets ~ N(3, 2²), predictions = targets + N(0, 1) noise, with a share of
    residuals multiplied by 50 (outliers)."""
    target = rng.normal(3.0, 2.0, size=shape)
    noise = rng.normal(0.0, 1.0, size=shape)
    if outliers:
        mask = rng.random(shape) < outliers
        noise[mask] *= 50.0
    return target + noise, target


def _case(
    loss: str,
    pred: np.ndarray,
    target: np.ndarray,
    *,
    task: str = "regression",
    params: dict[str, Any] | None = None,
    sample_weight: np.ndarray | None = None,
    label: str = "",
) -> Case:
    shape = "x".join(str(s) for s in pred.shape)
    pieces = [loss, shape] + ([label] if label else [])
    pieces += [f"{k}={v}" for k, v in (params or {}).items()]
    if sample_weight is not None:
        pieces.append("weighted")
    return {
        "id": "/".join(pieces),
        "loss": loss,
        "task": task,
        "params": dict(params or {}),
        "pred": pred.tolist(),
        "target": target.tolist(),
        "sample_weight": None if sample_weight is None else sample_weight.tolist(),
    }


def build_cases(seed: int = SEED) -> list[Case]:
    """Every fixture case (inputs and parameters only), deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    shapes: list[tuple[int, ...]] = [(1,), (7,), (120,), (30, 3)]

    # Plain residual losses on every shape, then with outliers.
    for loss in ("mse", "rmse", "mae", "huber", "smooth_l1", "log_cosh", "pinball"):
        for shape in shapes:
            p, t = _reg(rng, shape)
            cases.append(_case(loss, p, t))
        p, t = _reg(rng, (200,), outliers=0.1)
        cases.append(_case(loss, p, t, label="outliers"))

    # Non-default parameters.
    for delta in (0.1, 2.0, 25.0):
        p, t = _reg(rng, (80,), outliers=0.05)
        cases.append(_case("huber", p, t, params={"delta": delta}))
    for beta in (0.0, 0.5, 3.0):
        p, t = _reg(rng, (80,), outliers=0.05)
        cases.append(_case("smooth_l1", p, t, params={"beta": beta}))
    p, t = _reg(rng, (20, 4))
    cases.append(_case("smooth_l1", p, t, params={"beta": 0.25}))
    for q in (0.0, 0.1, 0.9, 1.0):
        p, t = _reg(rng, (80,), outliers=0.05)
        cases.append(_case("pinball", p, t, params={"quantile": q}))

    # log-cosh far beyond cosh's overflow (|e| > 710) and at tiny residuals.
    t = rng.normal(0.0, 1.0, size=60)
    e = np.concatenate([rng.normal(0, 1, 40), rng.choice([-1, 1], 20) * rng.uniform(700, 5e3, 20)])
    cases.append(_case("log_cosh", t + e, t, label="huge"))
    t = rng.normal(0.0, 1.0, size=30)
    cases.append(_case("log_cosh", t + rng.normal(0, 1e-6, 30), t, label="tiny"))

    # msle: positive skewed data, and values in (-1, 0).
    for shape in shapes:
        t = rng.lognormal(1.0, 1.0, size=shape)
        p = t * rng.lognormal(0.0, 0.3, size=shape)
        cases.append(_case("msle", p, t))
    t = rng.uniform(-0.99, 2.0, size=50)
    p = rng.uniform(-0.99, 2.0, size=50)
    cases.append(_case("msle", p, t, label="above_minus_one"))

    # mape: targets away from 0, targets with both signs, and a zero target.
    for shape in shapes:
        t = rng.uniform(0.5, 20.0, size=shape)
        p = t + rng.normal(0, 2.0, size=shape)
        cases.append(_case("mape", p, t))
    t = rng.normal(0.0, 5.0, size=60)
    cases.append(_case("mape", t + rng.normal(0, 1, 60), t, label="signed"))
    t = rng.uniform(0.5, 5.0, size=10)
    t[3] = 0.0
    cases.append(_case("mape", t + rng.normal(0, 1, 10), t, label="zero_target"))

    # poisson_nll: Poisson counts around positive rates, with zero rates and counts.
    for shape in shapes:
        rate = np.exp(rng.normal(0.5, 1.0, size=shape))
        counts = rng.poisson(rate).astype(np.float64)
        cases.append(_case("poisson_nll", rate * rng.lognormal(0, 0.2, size=shape), counts))
    rate = np.exp(rng.normal(0.0, 1.0, size=40))
    counts = rng.poisson(rate).astype(np.float64)
    rate[:5] = 0.0
    counts[:2] = 0.0
    cases.append(_case("poisson_nll", rate, counts, label="zero_rates"))
    cases.append(_case("poisson_nll", rate, counts, label="zero_rates", params={"eps": 1e-3}))

    # Sample weights (scikit-learn's weighted mean Σ w·l / Σ w).
    for loss in ("mse", "rmse", "mae", "pinball", "msle", "mape"):
        if loss == "msle":
            t = rng.lognormal(1.0, 1.0, size=90)
            p = t * rng.lognormal(0.0, 0.3, size=90)
        elif loss == "mape":
            t = rng.uniform(0.5, 20.0, size=90)
            p = t + rng.normal(0, 2.0, size=90)
        else:
            p, t = _reg(rng, (90,), outliers=0.05)
        w = rng.uniform(0.0, 3.0, size=90)
        params = {"quantile": 0.8} if loss == "pinball" else None
        cases.append(_case(loss, p, t, params=params, sample_weight=w))

    # Distributions: Q = pred, P = target, rows on the simplex.
    for loss in ("kl_div", "js_div", "cross_entropy"):
        for n, c, conc in ((1, 2, 1.0), (5, 3, 1.0), (40, 10, 1.0), (25, 6, 0.2)):
            q = rng.dirichlet(np.full(c, conc), size=n)
            p = rng.dirichlet(np.full(c, conc), size=n)
            cases.append(_case(loss, q, p, task="distribution", label=f"alpha={conc}"))
        # Zeros in P (sparse and one-hot targets); Q stays > 0.
        q = rng.dirichlet(np.ones(8), size=30)
        p = rng.dirichlet(np.ones(8), size=30)
        p[rng.random(p.shape) < 0.4] = 0.0
        p[np.arange(30), rng.integers(0, 8, 30)] += 0.5
        p /= p.sum(axis=1, keepdims=True)
        cases.append(_case(loss, q, p, task="distribution", label="zeros_in_P"))
        onehot = np.eye(8)[rng.integers(0, 8, 30)]
        cases.append(_case(loss, q, onehot, task="distribution", label="onehot_P"))
        # Weighted rows.
        q = rng.dirichlet(np.ones(4), size=20)
        p = rng.dirichlet(np.ones(4), size=20)
        w = rng.uniform(0.1, 2.0, size=20)
        cases.append(_case(loss, q, p, task="distribution", sample_weight=w))
    return cases


# --------------------------------------------------------------------------- references


def reference(case: Case) -> tuple[float, str]:
    """Evaluate ``case`` with PyTorch / scikit-learn in float64.

    Returns the value and the exact call, written with the names of the module docstring.
    """
    import sklearn.metrics as skm
    import torch
    import torch.nn.functional as F

    loss = case["loss"]
    prm = case["params"]
    y_pred = np.asarray(case["pred"], dtype=np.float64)
    y_true = np.asarray(case["target"], dtype=np.float64)
    w_np = None if case["sample_weight"] is None else np.asarray(case["sample_weight"], np.float64)
    pred = torch.as_tensor(y_pred, dtype=torch.float64)
    target = torch.as_tensor(y_true, dtype=torch.float64)

    if case["task"] == "distribution":
        Q, P = pred, target
        M = 0.5 * (P + Q)
        if loss == "kl_div":
            rows = F.kl_div(torch.log(Q), P, reduction="none").sum(1)
            mean_call = "torch.nn.functional.kl_div(torch.log(Q), P, reduction='batchmean')"
            rows_call = "torch.nn.functional.kl_div(torch.log(Q), P, reduction='none').sum(1)"
        elif loss == "js_div":
            rows = 0.5 * F.kl_div(torch.log(M), P, reduction="none").sum(1)
            rows = rows + 0.5 * F.kl_div(torch.log(M), Q, reduction="none").sum(1)
            kl = "torch.nn.functional.kl_div(torch.log(M), {}, reduction='{}')"
            mean_call = (
                f"M = 0.5*(P + Q); 0.5*{kl.format('P', 'batchmean')} "
                f"+ 0.5*{kl.format('Q', 'batchmean')}"
            )
            rows_call = (
                f"M = 0.5*(P + Q); rows = 0.5*{kl.format('P', 'none')}.sum(1) "
                f"+ 0.5*{kl.format('Q', 'none')}.sum(1)"
            )
        elif loss == "cross_entropy":
            rows = -(P * torch.log(Q)).sum(1)
            mean_call = "-(P * torch.log(Q)).sum(1).mean()"
            rows_call = "-(P * torch.log(Q)).sum(1)"
        else:
            raise ValueError(f"no reference for distribution loss {loss!r}")
        if w_np is None:
            if loss == "kl_div":
                return float(F.kl_div(torch.log(Q), P, reduction="batchmean")), mean_call
            if loss == "js_div":
                value = 0.5 * F.kl_div(torch.log(M), P, reduction="batchmean")
                value = value + 0.5 * F.kl_div(torch.log(M), Q, reduction="batchmean")
                return float(value), mean_call
            return float(rows.mean()), mean_call
        w = torch.as_tensor(w_np, dtype=torch.float64)
        value = float((w * rows).sum() / w.sum())
        if not rows_call.startswith("M = "):
            rows_call = "rows = " + rows_call
        return value, f"{rows_call}; (w * rows).sum() / w.sum()"

    if w_np is not None:
        kw = {"sample_weight": w_np}
        if loss == "mse":
            return float(skm.mean_squared_error(y_true, y_pred, **kw)), (
                "sklearn.metrics.mean_squared_error(y_true, y_pred, sample_weight=w_np)"
            )
        if loss == "rmse":
            return float(skm.root_mean_squared_error(y_true, y_pred, **kw)), (
                "sklearn.metrics.root_mean_squared_error(y_true, y_pred, sample_weight=w_np)"
            )
        if loss == "mae":
            return float(skm.mean_absolute_error(y_true, y_pred, **kw)), (
                "sklearn.metrics.mean_absolute_error(y_true, y_pred, sample_weight=w_np)"
            )
        if loss == "pinball":
            q = prm.get("quantile", 0.5)
            return float(skm.mean_pinball_loss(y_true, y_pred, alpha=q, **kw)), (
                f"sklearn.metrics.mean_pinball_loss(y_true, y_pred, alpha={q!r}, "
                "sample_weight=w_np)"
            )
        if loss == "msle":
            return float(skm.mean_squared_log_error(y_true, y_pred, **kw)), (
                "sklearn.metrics.mean_squared_log_error(y_true, y_pred, sample_weight=w_np)"
            )
        if loss == "mape":
            return float(skm.mean_absolute_percentage_error(y_true, y_pred, **kw)), (
                "sklearn.metrics.mean_absolute_percentage_error(y_true, y_pred, sample_weight=w_np)"
            )
        raise ValueError(f"no weighted reference for {loss!r}")

    if loss == "mse":
        return float(F.mse_loss(pred, target)), "torch.nn.functional.mse_loss(pred, target)"
    if loss == "rmse":
        if pred.ndim == 2:
            # multi-output (SPEC §9): √mse per output, averaged uniformly, as scikit-learn
            return float(skm.root_mean_squared_error(y_true, y_pred)), (
                "sklearn.metrics.root_mean_squared_error(y_true, y_pred) "
                "(multioutput='uniform_average')"
            )
        return float(torch.sqrt(F.mse_loss(pred, target))), (
            "torch.sqrt(torch.nn.functional.mse_loss(pred, target))"
        )
    if loss == "mae":
        return float(F.l1_loss(pred, target)), "torch.nn.functional.l1_loss(pred, target)"
    if loss == "huber":
        d = prm.get("delta", 1.0)
        return float(F.huber_loss(pred, target, delta=d)), (
            f"torch.nn.functional.huber_loss(pred, target, delta={d!r})"
        )
    if loss == "smooth_l1":
        b = prm.get("beta", 1.0)
        return float(F.smooth_l1_loss(pred, target, beta=b)), (
            f"torch.nn.functional.smooth_l1_loss(pred, target, beta={b!r})"
        )
    if loss == "log_cosh":
        # torch has no log-cosh loss. log(cosh(e)) is exact where cosh is finite and not
        # within rounding of 1; below |e| = 0.01 its Taylor series (error < 1e-18 relative)
        # and from |e| = 20 the asymptotic form |e| + log1p(exp(-2|e|)) - log 2 are used.
        e = pred - target
        a = e.abs()
        a2 = a * a
        series = a2 / 2 - a2**2 / 12 + a2**3 / 45 - 17 * a2**4 / 2520
        mid = torch.log(torch.cosh(torch.clamp(e, -20.0, 20.0)))
        tail = a + torch.log1p(torch.exp(-2.0 * a)) - math.log(2.0)
        value = torch.where(a < 0.01, series, torch.where(a < 20.0, mid, tail))
        return float(value.mean()), (
            "e = pred - target; a = e.abs(); torch.where(a < 0.01, a**2/2 - a**4/12 + a**6/45 "
            "- 17*a**8/2520, torch.where(a < 20, torch.log(torch.cosh(e)), "
            "a + torch.log1p(torch.exp(-2*a)) - math.log(2))).mean()"
        )
    if loss == "pinball":
        q = prm.get("quantile", 0.5)
        return float(skm.mean_pinball_loss(y_true, y_pred, alpha=q)), (
            f"sklearn.metrics.mean_pinball_loss(y_true, y_pred, alpha={q!r})"
        )
    if loss == "msle":
        return float(skm.mean_squared_log_error(y_true, y_pred)), (
            "sklearn.metrics.mean_squared_log_error(y_true, y_pred)"
        )
    if loss == "mape":
        return float(skm.mean_absolute_percentage_error(y_true, y_pred)), (
            "sklearn.metrics.mean_absolute_percentage_error(y_true, y_pred)"
        )
    if loss == "poisson_nll":
        eps = prm.get("eps", 1e-8)
        value = F.poisson_nll_loss(pred, target, log_input=False, full=False, eps=eps)
        return float(value), (
            "torch.nn.functional.poisson_nll_loss(pred, target, log_input=False, "
            f"full=False, eps={eps!r})"
        )
    raise ValueError(f"no reference for regression loss {loss!r}")


def generate(seed: int = SEED) -> dict[str, Any]:
    import sklearn
    import torch

    cases = build_cases(seed)
    ids = [c["id"] for c in cases]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate case ids")
    for case in cases:
        value, call = reference(case)
        if not math.isfinite(value):
            raise ValueError(f"reference for {case['id']} is not finite: {value}")
        case["expected"] = value
        case["reference"] = call
    return {
        "schema": 1,
        "generated_by": "tests/oracle/gen_regression.py",
        "seed": seed,
        "versions": {
            "torch": torch.__version__.split("+")[0],
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "dtype": "float64",
        "rtol": 1e-9,
        "conventions": (
            "pred/target are float64 torch tensors (Q = pred, P = target for distributions); "
            "y_true = target and y_pred = pred as float64 numpy arrays for scikit-learn; "
            "w_np / w are the sample weights"
        ),
        "cases": cases,
    }


def dumps(data: dict[str, Any]) -> str:
    """JSON with one line per case (diffable; floats in shortest round-trip form)."""
    head = {k: v for k, v in data.items() if k != "cases"}
    lines = json.dumps(head, indent=1, ensure_ascii=False)[:-2].splitlines()
    lines[-1] += ","
    lines.append(' "cases": [')
    body = [json.dumps(c, ensure_ascii=False, allow_nan=False) for c in data["cases"]]
    lines.append(",\n".join("  " + b for b in body))
    lines.append(" ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="compare with the committed fixture")
    ap.add_argument("--output", type=Path, default=FIXTURE)
    args = ap.parse_args(argv)
    data = generate()
    if args.check:
        old = json.loads(args.output.read_text(encoding="utf-8"))
        expected = {c["id"]: c["expected"] for c in old["cases"]}
        bad = [
            c["id"]
            for c in data["cases"]
            if c["id"] not in expected
            or not math.isclose(c["expected"], expected[c["id"]], rel_tol=1e-12)
        ]
        print(f"{len(data['cases'])} cases, {len(bad)} differ" + (f": {bad}" if bad else ""))
        return 1 if bad else 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(dumps(data), encoding="utf-8")
    print(f"wrote {len(data['cases'])} cases to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
