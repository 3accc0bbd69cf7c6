"""Regenerate ``tests/fixtures/oracle_embedding.json``: reference values of the embedding,
VAE and GAN losses computed with PyTorch in float64.

Usage (needs the ``oracle`` extra: torch==2.13.0)::

    python tests/oracle/gen_embedding.py            # writes the fixture
    python tests/oracle/gen_embedding.py --check    # recomputes and compares, writes nothing

Inputs come from a seeded NumPy generator and are stored in the fixture with the
expected value and the exact reference call, so the fixture test needs only NumPy.
In the reference strings ``pred``, ``target`` and the context arrays (``mu``,
``logvar``) are ``torch.float64`` tensors; ``X`` is ``pred`` for layout ``labels``
(embeddings) and ``lab`` the labels; ``a | b`` and ``a | p | n`` are the column blocks of
``pred`` for the ``pairs`` and ``triplets`` layouts; ``real = pred``, ``fake = target``
for GAN losses.

Where no library implements a loss (Hadsell's contrastive form, hinge / Wasserstein GAN
losses) the reference is the formula written with torch tensor ops. Mined triplets
(batch-hard, all) are mined here with plain torch ops and then fed to
``F.triplet_margin_loss``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "oracle_embedding.json"
SEED = 20261123

Case = dict[str, Any]


# --------------------------------------------------------------------------- inputs


def _case(
    loss: str,
    task: str,
    pred: np.ndarray,
    target: np.ndarray | None,
    *,
    params: dict[str, Any] | None = None,
    context: dict[str, Any] | None = None,
    sample_weight: np.ndarray | None = None,
    label: str = "",
) -> Case:
    ctx = dict(context or {})
    shape = "x".join(str(s) for s in pred.shape)
    pieces = [loss, shape]
    if "layout" in ctx:
        pieces.append(ctx["layout"])
    pieces += [label] if label else []
    pieces += [f"{k}={v}" for k, v in (params or {}).items()]
    if sample_weight is not None:
        pieces.append("weighted")
    return {
        "id": "/".join(pieces),
        "loss": loss,
        "task": task,
        "params": dict(params or {}),
        "context": {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in ctx.items()},
        "pred": pred.tolist(),
        "target": None if target is None else target.tolist(),
        "sample_weight": None if sample_weight is None else sample_weight.tolist(),
    }


def _clusters(
    rng: np.random.Generator, n: int, d: int, k: int, spread: float
) -> tuple[np.ndarray, np.ndarray]:
    """n embeddings in k Gaussian clusters (centres ~ N(0, I)), labels 0..k-1."""
    centres = rng.normal(size=(k, d))
    lab = rng.integers(0, k, size=n)
    return centres[lab] + spread * rng.normal(size=(n, d)), lab.astype(np.float64)


def build_cases(seed: int = SEED) -> list[Case]:
    """Every fixture case (inputs, parameters, context), deterministic in ``seed``."""
    rng = np.random.default_rng(seed)
    cases: list[Case] = []
    emb = "embedding"

    # ---- contrastive
    for n, m in ((1, 1.0), (9, 1.0), (80, 1.0), (80, 0.3), (80, 2.5)):
        d = rng.uniform(0.0, 2.0, size=n)
        y = rng.integers(0, 2, size=n).astype(np.float64)
        params = {} if m == 1.0 else {"margin": m}
        cases.append(_case("contrastive", emb, d, y, params=params, context={"layout": "distance"}))
    for n, dim in ((12, 3), (60, 8)):
        x = rng.normal(scale=0.4, size=(n, 2 * dim))
        y = rng.integers(0, 2, size=n).astype(np.float64)
        cases.append(_case("contrastive", emb, x, y, context={"layout": "pairs"}))
    x = rng.normal(scale=0.4, size=(40, 10))
    y = rng.integers(0, 2, size=40).astype(np.float64)
    w = rng.uniform(0.0, 3.0, size=40)
    cases.append(_case("contrastive", emb, x, y, context={"layout": "pairs"}, sample_weight=w))
    for n, dim, k, spread, m in (
        (2, 3, 2, 0.5, 1.0),
        (7, 2, 2, 0.5, 1.0),
        (60, 8, 4, 0.3, 1.0),
        (60, 8, 4, 0.3, 3.0),
        (45, 16, 9, 0.1, 0.5),
    ):
        x, lab = _clusters(rng, n, dim, k, spread)
        params = {} if m == 1.0 else {"margin": m}
        cases.append(_case("contrastive", emb, x, lab, params=params, context={"layout": "labels"}))
    x, lab = _clusters(rng, 30, 5, 3, 0.3)
    x[5] = x[4]  # exact duplicates: distance 0
    x[9] = x[4] + 1e-9
    x += 100.0  # far from the origin: the Gram identity alone would lose digits
    cases.append(_case("contrastive", emb, x, lab, context={"layout": "labels"}, label="dups"))

    # ---- triplet: explicit triplets
    for n, dim, params in (
        (1, 4, {}),
        (7, 3, {}),
        (64, 8, {}),
        (64, 8, {"margin": 0.2}),
        (64, 8, {"margin": 3.0, "eps": 0.0}),
        (64, 8, {"eps": 1e-3}),
    ):
        a = rng.normal(size=(n, dim))
        p = a + rng.normal(scale=0.7, size=(n, dim))
        neg = a + rng.normal(scale=1.0, size=(n, dim))
        x = np.concatenate([a, p, neg], axis=1)
        cases.append(_case("triplet", emb, x, None, params=params, context={"layout": "triplets"}))
    # ---- triplet: batch-hard and all triplets from labels
    for n, dim, k, spread, params in (
        (12, 3, 3, 0.5, {}),
        (60, 8, 5, 0.6, {}),
        (60, 8, 5, 0.6, {"margin": 0.3}),
        (50, 4, 4, 0.2, {"margin": 2.0, "eps": 0.0}),
        (30, 5, 3, 0.6, {"mining": "all"}),
        (24, 3, 4, 0.4, {"mining": "all", "margin": 0.5}),
    ):
        x, lab = _clusters(rng, n, dim, k, spread)
        cases.append(_case("triplet", emb, x, lab, params=params, context={"layout": "labels"}))
    x, lab = _clusters(rng, 20, 4, 3, 0.5)
    lab[0] = 99.0  # a singleton class: anchor 0 has no positive and is skipped
    for params in ({}, {"mining": "all"}):
        cases.append(
            _case(
                "triplet",
                emb,
                x,
                lab,
                params=params,
                context={"layout": "labels"},
                label="singleton",
            )
        )

    # ---- cosine embedding
    for n, dim, m in ((1, 3, 0.0), (10, 3, 0.0), (80, 6, 0.0), (80, 6, 0.5), (80, 6, -0.4)):
        x = rng.normal(size=(n, 2 * dim))
        y = rng.integers(0, 2, size=n).astype(np.float64)
        params = {} if m == 0.0 else {"margin": m}
        cases.append(
            _case("cosine_embedding", emb, x, y, params=params, context={"layout": "pairs"})
        )
    for n, dim, k, m in ((8, 3, 2, 0.0), (50, 6, 4, 0.0), (50, 6, 4, 0.3)):
        x, lab = _clusters(rng, n, dim, k, 0.8)
        params = {} if m == 0.0 else {"margin": m}
        cases.append(
            _case("cosine_embedding", emb, x, lab, params=params, context={"layout": "labels"})
        )

    # ---- vae
    for n, f, k, params in (
        (1, 5, 2, {}),
        (8, 12, 3, {}),
        (40, 30, 4, {}),
        (40, 30, 4, {"beta": 0.0}),
        (40, 30, 4, {"beta": 4.0}),
        (40, 30, 4, {"recon": "mse"}),
        (40, 30, 4, {"recon": "mse", "beta": 0.5}),
    ):
        x = rng.uniform(0.0, 1.0, size=(n, f))
        x[rng.random(x.shape) < 0.3] = 0.0
        x[rng.random(x.shape) < 0.2] = 1.0
        recon = 1.0 / (1.0 + np.exp(-rng.normal(scale=2.0, size=(n, f))))
        mu = rng.normal(size=(n, k))
        logvar = rng.normal(scale=0.8, size=(n, k))
        cases.append(
            _case("vae", "vae", recon, x, params=params, context={"mu": mu, "logvar": logvar})
        )
    # exact 0 / 1 reconstructions: torch's -100 log clamp
    x = (rng.random((10, 6)) < 0.5).astype(np.float64)
    recon = rng.uniform(0.0, 1.0, size=(10, 6))
    recon[0, :3] = 0.0
    recon[1, :3] = 1.0
    mu = rng.normal(size=(10, 2))
    logvar = rng.normal(size=(10, 2))
    cases.append(
        _case("vae", "vae", recon, x, context={"mu": mu, "logvar": logvar}, label="clamped")
    )
    w = rng.uniform(0.1, 2.0, size=10)
    cases.append(
        _case(
            "vae",
            "vae",
            recon,
            x,
            context={"mu": mu, "logvar": logvar},
            sample_weight=w,
            label="clamped",
        )
    )

    # ---- gan
    gans = ("gan_d", "gan_g", "hinge_d", "hinge_g", "wgan_d", "wgan_g", "lsgan_d", "lsgan_g")
    for loss in gans:
        for n in (1, 9, 100):
            real = rng.normal(1.0, 2.0, size=n)
            fake = rng.normal(-1.0, 2.0, size=n)
            cases.append(_case(loss, "gan", real, fake))
        real = rng.normal(0.0, 3.0, size=(20, 4))
        fake = rng.normal(0.0, 3.0, size=(20, 4))
        cases.append(_case(loss, "gan", real, fake, label="patches"))
        real = np.array([-800.0, -50.0, -1e-3, 0.0, 30.0, 800.0])
        fake = np.array([800.0, 40.0, 0.0, 1e-4, -60.0, -800.0])
        cases.append(_case(loss, "gan", real, fake, label="extreme"))
    return cases


# --------------------------------------------------------------------------- references


def _mine_hard(X: Any, lab: Any, eps: float) -> tuple[Any, Any, Any]:
    """Batch-hard mining with torch ops: farthest positive, nearest negative."""
    import torch

    n = X.shape[0]
    D = torch.linalg.vector_norm(X[:, None, :] - X[None, :, :] + eps, dim=-1)
    same = lab[:, None] == lab[None, :]
    eye = torch.eye(n, dtype=torch.bool)
    pos = same & ~eye
    neg = ~same
    valid = pos.any(1) & neg.any(1)
    jp = torch.where(pos, D, torch.full_like(D, -math.inf)).argmax(1)
    jn = torch.where(neg, D, torch.full_like(D, math.inf)).argmin(1)
    a = torch.arange(n)[valid]
    return a, jp[valid], jn[valid]


def _mine_all(lab: Any) -> tuple[Any, Any, Any]:
    """Every valid (anchor, positive, negative) index triple."""
    import torch

    n = lab.shape[0]
    same = lab[:, None] == lab[None, :]
    pos = same & ~torch.eye(n, dtype=torch.bool)
    valid = pos[:, :, None] & ~same[:, None, :]
    a, p, q = torch.nonzero(valid, as_tuple=True)
    return a, p, q


def reference(case: Case) -> tuple[float, str]:
    """Evaluate ``case`` with PyTorch in float64; returns the value and the exact call."""
    import torch
    import torch.nn.functional as F

    loss = case["loss"]
    prm = case["params"]
    ctx = case["context"]
    f64 = torch.float64
    pred = torch.as_tensor(np.asarray(case["pred"], dtype=np.float64), dtype=f64)
    target = None
    if case["target"] is not None:
        target = torch.as_tensor(np.asarray(case["target"], dtype=np.float64), dtype=f64)
    w = None
    if case["sample_weight"] is not None:
        w = torch.as_tensor(np.asarray(case["sample_weight"], dtype=np.float64), dtype=f64)
    layout = ctx.get("layout")

    def weighted(rows: Any, rows_call: str) -> tuple[float, str]:
        if w is None:
            return float(rows.mean()), f"({rows_call}).mean()"
        return float((w * rows).sum() / w.sum()), f"rows = {rows_call}; (w * rows).sum() / w.sum()"

    if loss == "contrastive":
        m = prm.get("margin", 1.0)
        hadsell = f"0.5*(y*d**2 + (1 - y)*torch.clamp({m!r} - d, min=0)**2)"
        if layout == "distance":
            d, y = pred, target
            return weighted(
                0.5 * (y * d**2 + (1 - y) * torch.clamp(m - d, min=0) ** 2),
                f"d = pred; y = target; {hadsell}",
            )
        if layout == "pairs":
            h = pred.shape[1] // 2
            d = torch.linalg.vector_norm(pred[:, :h] - pred[:, h:], dim=1)
            y = target
            return weighted(
                0.5 * (y * d**2 + (1 - y) * torch.clamp(m - d, min=0) ** 2),
                f"d = torch.linalg.vector_norm(a - b, dim=1); y = target; {hadsell}",
            )
        X, lab = pred, target
        n = X.shape[0]
        i, j = torch.triu_indices(n, n, 1)
        d = torch.linalg.vector_norm(X[i] - X[j], dim=1)
        y = (lab[i] == lab[j]).to(f64)
        value = (0.5 * (y * d**2 + (1 - y) * torch.clamp(m - d, min=0) ** 2)).mean()
        return float(value), (
            "i, j = torch.triu_indices(n, n, 1); d = torch.linalg.vector_norm(X[i] - X[j], "
            f"dim=1); y = (lab[i] == lab[j]).double(); ({hadsell}).mean()"
        )

    if loss == "triplet":
        m = prm.get("margin", 1.0)
        eps = prm.get("eps", 1e-6)
        tml = f"torch.nn.functional.triplet_margin_loss({{}}, margin={m!r}, p=2, eps={eps!r})"
        if layout == "triplets":
            h = pred.shape[1] // 3
            a, p, q = pred[:, :h], pred[:, h : 2 * h], pred[:, 2 * h :]
            value = F.triplet_margin_loss(a, p, q, margin=m, p=2, eps=eps)
            return float(value), tml.format("a, p, n")
        X, lab = pred, target
        if prm.get("mining", "hard") == "hard":
            ia, ip, iq = _mine_hard(X, lab, eps)
            how = (
                "D = torch.linalg.vector_norm(X[:, None] - X[None] + eps, dim=-1); per anchor "
                "with a positive and a negative: jp = argmax of D over same label (not self), "
                "jn = argmin of D over other labels; "
            )
        else:
            ia, ip, iq = _mine_all(lab)
            how = (
                "(ia, ip, iq) = every index triple with lab[ia] == lab[ip], ia != ip, "
                "lab[iq] != lab[ia]; "
            )
        value = F.triplet_margin_loss(X[ia], X[ip], X[iq], margin=m, p=2, eps=eps)
        return float(value), how + tml.format("X[ia], X[ip], X[iq]")

    if loss == "cosine_embedding":
        m = prm.get("margin", 0.0)
        cel = f"torch.nn.functional.cosine_embedding_loss({{}}, margin={m!r})"
        if layout == "pairs":
            h = pred.shape[1] // 2
            y = torch.where(target > 0, 1.0, -1.0).to(f64)
            value = F.cosine_embedding_loss(pred[:, :h], pred[:, h:], y, margin=m)
            return float(value), "y = torch.where(target > 0, 1., -1.); " + cel.format("a, b, y")
        X, lab = pred, target
        n = X.shape[0]
        i, j = torch.triu_indices(n, n, 1)
        y = torch.where(lab[i] == lab[j], 1.0, -1.0).to(f64)
        value = F.cosine_embedding_loss(X[i], X[j], y, margin=m)
        return float(value), (
            "i, j = torch.triu_indices(n, n, 1); y = torch.where(lab[i] == lab[j], 1., -1.); "
            + cel.format("X[i], X[j], y")
        )

    if loss == "vae":
        from torch.distributions import Normal, kl_divergence

        beta = prm.get("beta", 1.0)
        mu = torch.as_tensor(np.asarray(ctx["mu"], dtype=np.float64), dtype=f64)
        logvar = torch.as_tensor(np.asarray(ctx["logvar"], dtype=np.float64), dtype=f64)
        kl_rows = kl_divergence(
            Normal(mu, torch.exp(0.5 * logvar)), Normal(torch.zeros_like(mu), torch.ones_like(mu))
        ).sum(-1)
        kl_call = "kl_divergence(Normal(mu, torch.exp(0.5*logvar)), Normal(0, 1)).sum(-1)"
        if prm.get("recon", "bce") == "bce":
            rec_rows = F.binary_cross_entropy(pred, target, reduction="none").sum(-1)
            rec_call = "torch.nn.functional.binary_cross_entropy(pred, target, reduction='sum')"
            rows_call = (
                "torch.nn.functional.binary_cross_entropy(pred, target, reduction='none').sum(-1)"
            )
        else:
            rec_rows = F.mse_loss(pred, target, reduction="none").sum(-1)
            rec_call = "torch.nn.functional.mse_loss(pred, target, reduction='sum')"
            rows_call = "torch.nn.functional.mse_loss(pred, target, reduction='none').sum(-1)"
        if w is None:
            n = pred.shape[0]
            rec = (
                F.binary_cross_entropy(pred, target, reduction="sum")
                if prm.get("recon", "bce") == "bce"
                else F.mse_loss(pred, target, reduction="sum")
            )
            value = rec / n + beta * kl_rows.mean()
            return float(value), f"{rec_call} / n + {beta!r} * {kl_call}.mean()"
        rows = rec_rows + beta * kl_rows
        return float((w * rows).sum() / w.sum()), (
            f"rows = {rows_call} + {beta!r} * {kl_call}; (w * rows).sum() / w.sum()"
        )

    real, fake = pred, target
    bce = "torch.nn.functional.binary_cross_entropy_with_logits"
    mse = "torch.nn.functional.mse_loss"
    ones, zeros = torch.ones_like(fake), torch.zeros_like(fake)
    if loss == "gan_d":
        value = F.binary_cross_entropy_with_logits(
            real, torch.ones_like(real)
        ) + F.binary_cross_entropy_with_logits(fake, zeros)
        return float(value), (
            f"{bce}(real, torch.ones_like(real)) + {bce}(fake, torch.zeros_like(fake))"
        )
    if loss == "gan_g":
        return float(F.binary_cross_entropy_with_logits(fake, ones)), (
            f"{bce}(fake, torch.ones_like(fake))"
        )
    if loss == "hinge_d":
        value = torch.relu(1 - real).mean() + torch.relu(1 + fake).mean()
        return float(value), "torch.relu(1 - real).mean() + torch.relu(1 + fake).mean()"
    if loss in ("hinge_g", "wgan_g"):
        return float(-fake.mean()), "-fake.mean()"
    if loss == "wgan_d":
        return float(fake.mean() - real.mean()), "fake.mean() - real.mean()"
    if loss == "lsgan_d":
        value = 0.5 * F.mse_loss(real, torch.ones_like(real)) + 0.5 * F.mse_loss(fake, zeros)
        return float(value), (
            f"0.5*{mse}(real, torch.ones_like(real)) + 0.5*{mse}(fake, torch.zeros_like(fake))"
        )
    if loss == "lsgan_g":
        return float(0.5 * F.mse_loss(fake, ones)), f"0.5*{mse}(fake, torch.ones_like(fake))"
    raise ValueError(f"no reference for loss {loss!r}")


def generate(seed: int = SEED) -> dict[str, Any]:
    import torch

    cases = build_cases(seed)
    ids = [c["id"] for c in cases]
    if len(set(ids)) != len(ids):
        dup = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"duplicate case ids: {dup}")
    for case in cases:
        value, call = reference(case)
        if not math.isfinite(value):
            raise ValueError(f"reference for {case['id']} is not finite: {value}")
        case["expected"] = value
        case["reference"] = call
    return {
        "schema": 1,
        "generated_by": "tests/oracle/gen_embedding.py",
        "seed": seed,
        "versions": {"torch": torch.__version__.split("+")[0], "numpy": np.__version__},
        "dtype": "float64",
        "rtol": 1e-9,
        "conventions": (
            "pred/target are float64 torch tensors; X = pred and lab = target for layout "
            "labels; a|b (pairs) and a|p|n (triplets) are equal column blocks of pred; "
            "real = pred, fake = target for GAN losses; mu/logvar from the case context; "
            "w are the sample weights"
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
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
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
