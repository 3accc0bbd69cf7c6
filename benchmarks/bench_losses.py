"""Loss-kernel benchmark: losscli's public compute path against PyTorch CPU (float64).

For every loss of the regression, binary, multiclass, distribution, segmentation and
detection families this times

* ``ours``: ``losscli.compute.compute(get_spec(name, task), pred, target, params=...,
  context=...)`` — domain checks, the row-block loop, the kernel and the reduction,
  exactly what the CLI runs;
* ``torch1``: the same loss in torch CPU with ``torch.set_num_threads(1)``;
* ``torchD``: the same torch call with torch's default number of threads,

on the same float64 data (``torch.from_numpy``, zero copy). Rounds are interleaved
(ours, torch1, torchD, ours, …) and every column is the median over the rounds, so a
noisy neighbour slows all three alike. Every call allocates its own temporaries, as a
one-shot CLI run does. The ``rel diff`` column is |ours − torch| / |torch| of the values,
a check that both sides compute the same loss.

Sizes (``--n`` elements, default 10,000,000): elementwise losses n; multiclass and
distribution (n/10, 10); segmentation (100, 1, n/100); detection (n/4, 4) boxes.

Usage::

    python benchmarks/bench_losses.py [--n N] [--rounds R] [--only name,name:task,...]

``OPENBLAS_NUM_THREADS=1`` is set before NumPy is imported: the kernels call ``np.dot``
and matrix-vector products on cache-sized row blocks, and with more than one OpenBLAS
thread each of those small calls pays a thread hand-off (chunked MSE measured 2.4×
slower with two threads). The CLI's kernels see the same setting only if the user sets
it, so this measures the configuration the project recommends.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import math
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losscli.allocator import tune_allocator
from losscli.compute import compute
from losscli.registry import get_spec

Array = np.ndarray
TorchFn = Callable[..., Any]


@dataclass(frozen=True)
class Case:
    """One benchmarked loss: the spec to look up, its data set and the torch reference."""

    name: str
    task: str
    data: str
    torch_fn: str
    params: dict[str, Any] = field(default_factory=dict)
    logits: bool | None = None  # None: the loss takes no from_logits context
    label: str = ""

    @property
    def title(self) -> str:
        return self.label or self.name


# --------------------------------------------------------------------------- data sets


def _softmax(z: Array) -> Array:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    e /= e.sum(axis=1, keepdims=True)
    return e


def make_data(kind: str, n: int, rng: np.random.Generator) -> dict[str, Array]:
    """The arrays of one data set (float64; class labels int64)."""
    if kind == "reg":
        return {"pred": rng.standard_normal(n), "target": rng.standard_normal(n)}
    if kind == "reg_pos":  # msle / poisson_nll need non-negative values
        return {"pred": rng.exponential(2.0, n), "target": rng.poisson(2.0, n).astype(np.float64)}
    if kind == "bin_prob":
        return {
            "pred": rng.uniform(1e-6, 1.0 - 1e-6, n),
            "target": (rng.random(n) < 0.3).astype(np.float64),
        }
    if kind == "bin_logit":
        return {
            "pred": 3.0 * rng.standard_normal(n),
            "target": (rng.random(n) < 0.3).astype(np.float64),
        }
    rows, c = max(1, n // 10), 10
    if kind in ("mc_logit", "mc_prob"):
        z = 3.0 * rng.standard_normal((rows, c))
        pred = z if kind == "mc_logit" else _softmax(z)
        return {"pred": pred, "target": rng.integers(0, c, rows, dtype=np.int64)}
    if kind == "dist":
        return {
            "pred": _softmax(2.0 * rng.standard_normal((rows, c))),
            "target": _softmax(2.0 * rng.standard_normal((rows, c))),
        }
    if kind in ("seg_prob", "seg_logit"):
        images = 100
        pixels = max(1, n // images)
        z = 3.0 * rng.standard_normal((images, 1, pixels))
        pred = z if kind == "seg_logit" else 1.0 / (1.0 + np.exp(-z))
        target = (rng.random((images, 1, pixels)) < 0.5 / (1.0 + np.exp(-z))).astype(np.float64)
        return {"pred": pred, "target": target}
    if kind == "det":
        boxes = max(1, n // 4)
        xy = rng.uniform(0.0, 100.0, (boxes, 2))
        wh = rng.uniform(1.0, 50.0, (boxes, 2))
        target = np.concatenate([xy, xy + wh], axis=1)
        pred = target + rng.normal(0.0, 3.0, (boxes, 4))
        pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 0.5)  # keep x2 > x1, y2 > y1
        return {
            "pred": pred,
            "target": target,
            "scores": rng.uniform(1e-6, 1.0 - 1e-6, boxes),
            "labels": (rng.random(boxes) < 0.3).astype(np.float64),
        }
    raise ValueError(f"unknown data set {kind!r}")


# --------------------------------------------------------------------------- torch references
# The same calls as the oracle generators (tests/oracle/gen_*.py), reduced to a mean.


def torch_refs(torch: Any) -> dict[str, TorchFn]:
    """torch implementations by key; each takes (pred, target, ctx) tensors → 0-dim tensor."""
    F = torch.nn.functional
    ln2 = math.log(2.0)

    def squared_hinge(p: Any, y: Any, ctx: dict[str, Any]) -> Any:
        s = p if ctx["logits"] else 2.0 * p - 1.0
        return (torch.clamp(1.0 - (2.0 * y - 1.0) * s, min=0.0) ** 2).mean()

    def hinge(p: Any, y: Any, ctx: dict[str, Any]) -> Any:
        s = p if ctx["logits"] else 2.0 * p - 1.0
        return torch.clamp(1.0 - (2.0 * y - 1.0) * s, min=0.0).mean()

    def sigmoid_focal(x: Any, y: Any, logits: bool, alpha: float = 0.25, gamma: float = 2.0):
        # torchvision.ops.sigmoid_focal_loss(reduction="none"), line by line
        if logits:
            p = torch.sigmoid(x)
            ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
        else:
            p = x
            ce = F.binary_cross_entropy(x, y, reduction="none")
        p_t = p * y + (1 - p) * (1 - y)
        loss = ce * ((1 - p_t) ** gamma)
        alpha_t = alpha * y + (1 - alpha) * (1 - y)
        return alpha_t * loss

    def log_probs(x: Any, logits: bool) -> Any:
        return F.log_softmax(x, dim=1) if logits else torch.log(x)

    def focal_mc(x: Any, y: Any, ctx: dict[str, Any]) -> Any:
        if ctx["logits"]:
            ls = F.log_softmax(x, dim=1).gather(1, y[:, None])[:, 0]
            p_y = ls.exp()
        else:
            p_y = x.gather(1, y[:, None])[:, 0]
            ls = torch.clamp(torch.log(p_y), min=-100.0)
        return (0.25 * (-((1 - p_y) ** 2) * ls)).mean()

    def multi_hinge(s: Any, y: Any, ctx: dict[str, Any]) -> Any:
        s_y = s.gather(1, y[:, None])[:, 0]
        others = s.scatter(1, y[:, None], float("-inf"))
        return torch.clamp(1.0 - (s_y - others.max(dim=1).values), min=0.0).mean()

    def brier_mc(x: Any, y: Any, ctx: dict[str, Any]) -> Any:
        p = torch.softmax(x, dim=1) if ctx["logits"] else x
        return ((p - F.one_hot(y, p.shape[1])) ** 2).sum(1).mean()

    def kl_mc(x: Any, y: Any, ctx: dict[str, Any]) -> Any:
        onehot = F.one_hot(y, x.shape[1]).double()
        return F.kl_div(log_probs(x, ctx["logits"]), onehot, reduction="batchmean")

    def js(q: Any, p: Any, ctx: dict[str, Any]) -> Any:
        lm = torch.log(0.5 * (p + q))
        return 0.5 * F.kl_div(lm, p, reduction="batchmean") + 0.5 * F.kl_div(
            lm, q, reduction="batchmean"
        )

    def probs(x: Any, ctx: dict[str, Any]) -> Any:
        return torch.sigmoid(x) if ctx["logits"] else x

    def overlap(x: Any, y: Any, ctx: dict[str, Any]) -> tuple[Any, Any, Any]:
        p = probs(x, ctx)
        return (p * y).sum(-1), p.sum(-1), y.sum(-1)

    def dice(x: Any, y: Any, ctx: dict[str, Any]) -> Any:
        tp, sp, sy = overlap(x, y, ctx)
        return (1 - (2 * tp + 1.0) / (sp + sy + 1.0)).mean()

    def iou(x: Any, y: Any, ctx: dict[str, Any]) -> Any:
        tp, sp, sy = overlap(x, y, ctx)
        return (1 - (tp + 1.0) / (sp + sy - tp + 1.0)).mean()

    def tversky_values(x: Any, y: Any, ctx: dict[str, Any]) -> Any:
        p = probs(x, ctx)
        tp = (p * y).sum(-1)
        fp = (p * (1 - y)).sum(-1)
        fn = ((1 - p) * y).sum(-1)
        return 1 - (tp + 1.0) / (tp + 0.5 * fp + 0.5 * fn + 1.0)

    def seg_bce(x: Any, y: Any, ctx: dict[str, Any]) -> Any:
        if ctx["logits"]:
            return F.binary_cross_entropy_with_logits(x, y)
        return F.binary_cross_entropy(x, y)

    def dice_bce(x: Any, y: Any, ctx: dict[str, Any]) -> Any:
        return dice(x, y, ctx) + seg_bce(x, y, ctx)

    def giou(b1: Any, b2: Any, ctx: dict[str, Any]) -> Any:
        # torchvision.ops.generalized_box_iou_loss(reduction="mean", eps=1e-7)
        x1, y1, x2, y2 = b1.unbind(dim=-1)
        x1g, y1g, x2g, y2g = b2.unbind(dim=-1)
        xkis1, ykis1 = torch.max(x1, x1g), torch.max(y1, y1g)
        xkis2, ykis2 = torch.min(x2, x2g), torch.min(y2, y2g)
        intsctk = torch.zeros_like(x1)
        mask = (ykis2 > ykis1) & (xkis2 > xkis1)
        intsctk[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
        unionk = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk
        iouk = intsctk / (unionk + 1e-7)
        area_c = (torch.max(x2, x2g) - torch.min(x1, x1g)) * (
            torch.max(y2, y2g) - torch.min(y1, y1g)
        )
        return (1 - (iouk - (area_c - unionk) / (area_c + 1e-7))).mean()

    def focal_smooth_l1(b1: Any, b2: Any, ctx: dict[str, Any]) -> Any:
        cls = sigmoid_focal(ctx["scores"], ctx["labels"], False)
        box = F.smooth_l1_loss(b1, b2, beta=1.0, reduction="none").mean(-1)
        return (cls + box).mean()

    return {
        "mse": lambda p, t, c: F.mse_loss(p, t),
        "rmse": lambda p, t, c: torch.sqrt(F.mse_loss(p, t)),
        "mae": lambda p, t, c: F.l1_loss(p, t),
        "huber": lambda p, t, c: F.huber_loss(p, t, delta=1.0),
        "smooth_l1": lambda p, t, c: F.smooth_l1_loss(p, t, beta=1.0),
        # no torch log-cosh: the Keras / optax form e + softplus(−2e) − log 2
        "log_cosh": lambda p, t, c: ((p - t) + F.softplus(-2.0 * (p - t)) - ln2).mean(),
        "pinball": lambda p, t, c: torch.maximum(0.5 * (t - p), -0.5 * (t - p)).mean(),
        "msle": lambda p, t, c: ((torch.log1p(p) - torch.log1p(t)) ** 2).mean(),
        "mape": lambda p, t, c: ((p - t).abs() / t.abs().clamp(min=2.220446049250313e-16)).mean(),
        "poisson_nll": lambda p, t, c: F.poisson_nll_loss(p, t, log_input=False, eps=1e-8),
        "bce": lambda p, t, c: (
            F.binary_cross_entropy_with_logits(p, t)
            if c["logits"]
            else F.binary_cross_entropy(p, t)
        ),
        "focal": lambda p, t, c: sigmoid_focal(p, t, c["logits"]).mean(),
        "hinge": hinge,
        "squared_hinge": squared_hinge,
        "brier": lambda p, t, c: ((probs(p, c) - t) ** 2).mean(),
        "cross_entropy_mc": lambda x, y, c: (
            F.cross_entropy(x, y) if c["logits"] else F.nll_loss(torch.log(x), y)
        ),
        "focal_mc": focal_mc,
        "multi_hinge": multi_hinge,
        "brier_mc": brier_mc,
        "kl_div_mc": kl_mc,
        "kl_div": lambda q, p, c: F.kl_div(torch.log(q), p, reduction="batchmean"),
        "js_div": js,
        "cross_entropy_dist": lambda q, p, c: (-(p * torch.log(q)).sum(1)).mean(),
        "dice": dice,
        "iou": iou,
        "tversky": lambda x, y, c: tversky_values(x, y, c).mean(),
        "focal_tversky": lambda x, y, c: (tversky_values(x, y, c) ** 0.75).mean(),
        "dice_bce": dice_bce,
        "seg_bce": seg_bce,
        "seg_focal": lambda x, y, c: sigmoid_focal(x, y, c["logits"]).mean(),
        "smooth_l1_boxes": lambda p, t, c: F.smooth_l1_loss(p, t, beta=1.0),
        "giou": giou,
        "focal_smooth_l1": focal_smooth_l1,
    }


# --------------------------------------------------------------------------- cases


def cases() -> list[Case]:
    out = [
        Case(nm, "regression", "reg", nm)
        for nm in ("mse", "rmse", "mae", "huber", "smooth_l1", "log_cosh", "pinball", "mape")
    ]
    out += [Case(nm, "regression", "reg_pos", nm) for nm in ("msle", "poisson_nll")]
    for logits in (False, True):
        tag = "logits" if logits else "probs"
        data = "bin_logit" if logits else "bin_prob"
        for nm in ("bce", "focal", "hinge", "squared_hinge", "brier"):
            out.append(Case(nm, "binary", data, nm, logits=logits, label=f"{nm} ({tag})"))
    for logits in (True, False):
        tag = "logits" if logits else "probs"
        data = "mc_logit" if logits else "mc_prob"
        for nm, ref in (
            ("cross_entropy", "cross_entropy_mc"),
            ("focal", "focal_mc"),
            ("multi_hinge", "multi_hinge"),
            ("brier", "brier_mc"),
            ("kl_div", "kl_div_mc"),
        ):
            if nm == "multi_hinge" and not logits:
                continue
            out.append(Case(nm, "multiclass", data, ref, logits=logits, label=f"{nm} ({tag})"))
    out += [
        Case("kl_div", "distribution", "dist", "kl_div"),
        Case("js_div", "distribution", "dist", "js_div"),
        Case("cross_entropy", "distribution", "dist", "cross_entropy_dist"),
    ]
    for logits in (False, True):
        tag = "logits" if logits else "probs"
        data = "seg_logit" if logits else "seg_prob"
        for nm, ref in (
            ("dice", "dice"),
            ("iou", "iou"),
            ("tversky", "tversky"),
            ("focal_tversky", "focal_tversky"),
            ("dice_bce", "dice_bce"),
            ("bce", "seg_bce"),
            ("focal", "seg_focal"),
        ):
            out.append(Case(nm, "segmentation", data, ref, logits=logits, label=f"{nm} ({tag})"))
    out += [
        Case("smooth_l1", "detection", "det", "smooth_l1_boxes"),
        Case("giou", "detection", "det", "giou"),
        Case("focal_smooth_l1", "detection", "det", "focal_smooth_l1", logits=False),
    ]
    return out


def selected(all_cases: list[Case], only: str | None) -> list[Case]:
    """Filter by ``name`` or ``name:task`` (comma-separated); unknown entries are an error."""
    if not only:
        return all_cases
    keep: list[Case] = []
    for item in (s.strip() for s in only.split(",") if s.strip()):
        name, _, task = item.partition(":")
        hits = [c for c in all_cases if c.name == name and (not task or c.task == task)]
        if not hits:
            known = sorted({c.name for c in all_cases})
            raise SystemExit(f"--only: no benchmark case {item!r}; known names: {', '.join(known)}")
        keep += [c for c in hits if c not in keep]
    return keep


# --------------------------------------------------------------------------- timing


def _ours_fn(case: Case, d: dict[str, Array]) -> Callable[[], float]:
    spec = get_spec(case.name, case.task)
    context: dict[str, Any] = {}
    if case.logits is not None:
        context["from_logits"] = case.logits
    for key in ("scores", "labels"):
        if key in d:
            context[key] = d[key]
    pred, target = d["pred"], d["target"]

    def run() -> float:
        return compute(spec, pred, target, params=case.params, context=context).value or math.nan

    return run


def _torch_fn(torch: Any, ref: TorchFn, case: Case, d: dict[str, Array]) -> Callable[[], float]:
    tensors = {k: torch.from_numpy(v) for k, v in d.items()}
    ctx: dict[str, Any] = {"logits": bool(case.logits)}
    ctx.update({k: v for k, v in tensors.items() if k in ("scores", "labels")})
    p, t = tensors["pred"], tensors["target"]

    def run() -> float:
        with torch.no_grad():
            return float(ref(p, t, ctx))

    return run


def _timed(fn: Callable[[], float]) -> tuple[float, float]:
    t0 = time.perf_counter()
    value = fn()
    return (time.perf_counter() - t0) * 1e3, value


def bench_case(
    case: Case, d: dict[str, Array], torch: Any, refs: dict[str, TorchFn], rounds: int
) -> dict[str, Any]:
    """Median ms of ours / torch 1 thread / torch default threads over interleaved rounds."""
    ours = _ours_fn(case, d)
    theirs = _torch_fn(torch, refs[case.torch_fn], case, d) if torch is not None else None
    default_threads = torch.get_num_threads() if torch is not None else 1
    times: dict[str, list[float]] = {"ours": [], "torch1": [], "torchD": []}
    v_ours = ours()  # warm-up: imports, first touch of the inputs
    v_torch = math.nan
    if theirs is not None:
        torch.set_num_threads(1)
        v_torch = theirs()
    for _ in range(rounds):
        times["ours"].append(_timed(ours)[0])
        if theirs is None:
            continue
        torch.set_num_threads(1)
        times["torch1"].append(_timed(theirs)[0])
        torch.set_num_threads(default_threads)
        times["torchD"].append(_timed(theirs)[0])
        time.sleep(0.005)  # let OpenMP spin-waiters park before the next measurement
    if torch is not None:
        torch.set_num_threads(default_threads)
    med = {k: (statistics.median(v) if v else math.nan) for k, v in times.items()}
    rel = abs(v_ours - v_torch) / abs(v_torch) if v_torch not in (0.0,) else abs(v_ours)
    return {**med, "rel": rel}


# --------------------------------------------------------------------------- output


def _fmt_ms(x: float) -> str:
    return "-" if math.isnan(x) else f"{x:.1f}"


def _fmt_ratio(a: float, b: float) -> str:
    return "-" if math.isnan(a) or math.isnan(b) or b == 0 else f"{a / b:.2f}"


def header(torch: Any) -> str:
    """Versions, CPU and the environment settings that change the figures."""
    from losscli.allocator import allocator_tuned

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if "model name" in ln), cpu)
    except OSError:
        pass
    lines = [
        f"python {platform.python_version()}, numpy {np.__version__}, "
        + (
            f"torch {torch.__version__} (default threads {torch.get_num_threads()})"
            if torch is not None
            else "torch not installed"
        ),
        f"cpu: {cpu}, {os.cpu_count()} logical CPUs; "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}; "
        f"glibc malloc thresholds fixed: {allocator_tuned()}",
    ]
    tuned = [k for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ]
    if tuned:
        lines.append(
            f"note: {', '.join(tuned)} set in the environment; OpenBLAS kernels may differ "
            "from the auto-detected ones"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=10_000_000, help="elements per input array")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (median)")
    ap.add_argument("--only", default=None, help="comma-separated names or name:task")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if args.rounds < 1 or args.n < 100:
        ap.error("--rounds must be ≥ 1 and --n ≥ 100")
    tune_allocator()  # as the command line does, so the figures match what users get

    try:
        import torch
    except ImportError:
        torch = None
        print(
            "torch is not installed: only losscli's times are shown "
            "(pip install torch --index-url https://download.pytorch.org/whl/cpu)",
            file=sys.stderr,
        )
    refs = torch_refs(torch) if torch is not None else {}
    todo = selected(cases(), args.only)
    print(header(torch))
    print(f"n = {args.n:,} elements, median of {args.rounds} interleaved rounds\n")
    cols = ("loss", "task", "ours ms", "torch1 ms", "torchD ms", "ours/t1", "ours/tD", "rel diff")
    widths = (22, 12, 9, 9, 9, 8, 8, 8)
    print("| " + " | ".join(c.ljust(w) for c, w in zip(cols, widths)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    cache: dict[str, dict[str, Array]] = {}
    rng = np.random.default_rng(args.seed)
    for case in todo:
        if case.data not in cache:
            cache.clear()  # one data set alive at a time keeps the footprint at ~2 arrays
            cache[case.data] = make_data(case.data, args.n, rng)
        r = bench_case(case, cache[case.data], torch, refs, args.rounds)
        row = (
            case.title,
            case.task,
            _fmt_ms(r["ours"]),
            _fmt_ms(r["torch1"]),
            _fmt_ms(r["torchD"]),
            _fmt_ratio(r["ours"], r["torch1"]),
            _fmt_ratio(r["ours"], r["torchD"]),
            "-" if math.isnan(r["rel"]) else f"{r['rel']:.0e}",
        )
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths)) + " |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
