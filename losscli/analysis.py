"""Numbers for views: what each chart and terminal plot shows, computed once.

The HTML charts (:mod:`losscli.report.charts`, matplotlib) and the terminal plots
(:mod:`losscli.report.termplot`, Rich) draw the same numbers, and both take them from
here: worst-row shares, reliability and ECE, per-class means, p_t per class, residual
quantiles and outliers, pair distances, loss curves and the sentences that say what sets
the curves apart. :mod:`losscli.report` only renders what it is given.

Everything starts from what the API already returned, read by duck typing (this module
never imports :mod:`losscli.api`): the result document, the per-row losses of a report
(``per_sample``, ``per_sample_weight``) and the aligned arrays of its ``dataset``.
Per-class means go through :func:`losscli.compute.per_class_sums` (the one weighted
per-class rule), and loss curves (a loss as a function of the error, of p_t or of a
distance) through the registered kernels via :func:`losscli.compute.compute`, so no
loss formula or aggregation rule is written a second time.

Imports: NumPy and the engine (registry, compute) only; nothing here draws.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Losses drawn as functions of the error e = prediction − target on a regression report.
ERROR_LOSSES: tuple[str, ...] = ("mse", "mae", "huber", "log_cosh")
#: Further error-curve losses, drawn when the report computed them.
ERROR_LOSSES_EXTRA: tuple[str, ...] = ("smooth_l1", "pinball")
#: Losses of one probability p_t (binary / multilabel / pixel-wise / detection scores).
PT_LOSSES: tuple[str, ...] = ("bce", "focal", "hinge", "squared_hinge", "brier")
#: Multiclass losses drawn against the probability of the true class.
MULTICLASS_PT_LOSSES: tuple[str, ...] = ("cross_entropy", "focal", "multi_hinge", "brier")
#: Losses of a pair or triplet distance (embedding).
DISTANCE_LOSSES: tuple[str, ...] = ("contrastive", "triplet")
#: Segmentation overlap losses, in the order the per-image view prefers them.
OVERLAP_LOSSES: tuple[str, ...] = ("dice", "iou", "tversky", "focal_tversky", "dice_bce")
#: Worst-row shares quoted in captions and terminal plots.
SHARE_POINTS: tuple[float, ...] = (0.01, 0.05, 0.10, 0.25)
#: Pairwise distances are drawn from at most this many embeddings (a seeded sample).
MAX_EMBEDDING_ROWS = 1500
#: Reliability diagrams use this many equal-width probability bins.
RELIABILITY_BINS = 10


# --------------------------------------------------------------------------- chart choice

#: The charts of an evaluate report per task, in order (tasks not named here: per-row
#: losses and worst-row shares). A renderer that cannot draw one of them skips it.
TASK_CHARTS: dict[str, tuple[str, ...]] = {
    "regression": ("residuals", "loss-curves", "worst-share"),
    "binary": ("reliability", "pt-hist", "class-loss"),
    "multiclass": ("reliability", "pt-hist", "class-loss"),
    "multilabel": ("reliability", "pt-hist", "class-loss"),
    "segmentation": ("image-overlap",),
    "embedding": ("distances",),
}
#: The charts of a task without its own.
OTHER_CHARTS: tuple[str, ...] = ("row-loss", "worst-share")


def charts_for(task: str) -> list[str]:
    """The chart ids of an evaluate report of ``task``, in the order they are shown.

    The HTML report (:mod:`losscli.report.charts`) and the terminal plot
    (:mod:`losscli.report.termplot`) both draw from this list, each skipping the ids it
    has no drawing for."""
    return list(TASK_CHARTS.get(task, OTHER_CHARTS))


# --------------------------------------------------------------------------- shared


def loss_items(doc: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """``{loss name: its entry}`` of an evaluate document, computed losses only."""
    return {it["name"]: it for it in doc.get("losses", []) if it.get("status") == "ok"}


def label(name: str, params: Mapping[str, Any] | None = None) -> str:
    """``huber (delta=1)``: a curve's legend entry, parameters as given."""
    if not params:
        return name
    parts = []
    for k, v in params.items():
        if isinstance(v, float):
            v = f"{v:g}"
        elif isinstance(v, (list, tuple)):
            v = ",".join(f"{x:g}" if isinstance(x, float) else str(x) for x in v)
        parts.append(f"{k}={v}")
    return f"{name} ({', '.join(parts)})"


def row_name(dataset: Any, i: int, noun: str = "row") -> str:
    """How a person finds row ``i`` again: its id, else its row number in the file."""
    if getattr(dataset, "row_ids", None) is not None:
        rid = dataset.row_ids[i]
        return str(rid.item() if hasattr(rid, "item") else rid)
    return f"{noun} {int(dataset.row_numbers[i])}"


def kernel_curve(
    name: str,
    task: str,
    pred: np.ndarray,
    target: np.ndarray | None,
    params: Mapping[str, Any] | None = None,
    context: Mapping[str, Any] | None = None,
) -> np.ndarray:
    """Per-row values of the registered loss ``name`` (for ``task``) on synthetic rows:
    the curve a loss draws as one input moves. The kernel and its conventions (clamped
    logs, α weighting, margins) are the ones every reported value goes through."""
    from losscli.compute import compute
    from losscli.registry import get_spec

    spec = get_spec(name, task)
    own = {k: v for k, v in (params or {}).items() if spec.param(k) is not None}
    res = compute(
        spec,
        pred,
        target,
        params=own,
        context=dict(context or {}),
        keep_per_row=True,
        strict=True,
    )
    assert res.per_row is not None
    return np.asarray(res.per_row, dtype=np.float64)


def merge_identical(curves: Mapping[str, np.ndarray], rtol: float = 1e-9) -> dict[str, np.ndarray]:
    """Curves that coincide drawn once, their labels joined with `` = `` (huber with
    delta=1 is smooth_l1 with beta=1; pinball at q=0.5 has mae's shares)."""
    groups: list[tuple[list[str], np.ndarray]] = []
    for name, y in curves.items():
        for names, other in groups:
            if other.shape == y.shape and np.allclose(other, y, rtol=rtol, atol=0.0):
                names.append(name)
                break
        else:
            groups.append(([name], y))
    return {" = ".join(names): y for names, y in groups}


def group_marks(
    marks: Sequence[tuple[str, float]], *, log: bool, gap: float = 0.08
) -> list[tuple[str, float]]:
    """Marks closer than ``gap`` (a fraction of the axis, in log units when ``log``)
    merged into one, their labels joined: labels of one line never overprint."""
    pts = sorted(((n, v) for n, v in marks if v > 0 or not log), key=lambda t: t[1])
    if not pts:
        return []
    pos = [math.log10(v) if log else v for _, v in pts]
    span = (max(pos) - min(pos)) or 1.0
    out: list[tuple[str, float]] = []
    last = None
    for (n, v), p in zip(pts, pos):
        if last is not None and (p - last) / span < gap:
            prev_n, prev_v = out[-1]
            out[-1] = (f"{prev_n}, {n}", prev_v)
            continue
        out.append((n, v))
        last = p
    return out


# --------------------------------------------------------------------------- curves


@dataclass(frozen=True)
class Curves:
    """Several losses as functions of one variable."""

    key: str  # "error" | "pt" | "distance"
    x: np.ndarray
    ys: dict[str, np.ndarray]
    xlabel: str
    ylabel: str
    title: str
    #: Vertical marks: (label, x).
    marks: tuple[tuple[str, float], ...] = ()
    notes: tuple[str, ...] = ()
    #: x values at which a table of the curves is worth reading.
    probe: tuple[float, ...] = ()
    #: The loss every other one is compared with (first in ``ys``), or None.
    reference: str | None = None

    def at(self, x0: float) -> dict[str, float]:
        """Every curve's value at ``x0`` (linear interpolation on the grid)."""
        return {k: float(np.interp(x0, self.x, y)) for k, y in self.ys.items()}


def error_curves(
    x: np.ndarray,
    losses: Sequence[tuple[str, Mapping[str, Any]]],
    *,
    task: str = "regression",
) -> dict[str, np.ndarray]:
    """``{legend label: loss(e)}`` for error-curve losses: pred = e, target = 0."""
    zeros = np.zeros_like(x)
    return {label(n, p): kernel_curve(n, task, x, zeros, p) for n, p in losses}


def pt_curves(
    pt: np.ndarray, losses: Sequence[tuple[str, Mapping[str, Any]]], *, multiclass: bool
) -> dict[str, np.ndarray]:
    """``{legend label: loss(p_t)}`` on probability inputs.

    Binary: one score p with target 1, so p_t = p (for a negative, read p_t = 1 − p).
    Multiclass: three classes, the true one at p_t and the other two sharing 1 − p_t.
    """
    out: dict[str, np.ndarray] = {}
    if multiclass:
        rest = (1.0 - pt) / 2.0
        pred = np.stack([pt, rest, rest], axis=1)
        target = np.zeros(pt.shape[0], dtype=np.int64)
        for n, p in losses:
            out[label(n, p)] = kernel_curve(
                n, "multiclass", pred, target, p, {"from_logits": False}
            )
        return out
    ones = np.ones_like(pt)
    for n, p in losses:
        out[label(n, p)] = kernel_curve(n, "binary", pt, ones, p, {"from_logits": False})
    return out


def distance_curves(
    d: np.ndarray, losses: Sequence[tuple[str, Mapping[str, Any]]]
) -> dict[str, np.ndarray]:
    """Contrastive for a similar and a dissimilar pair at distance d; triplet with the
    positive on the anchor and the negative at distance d (1-d embeddings)."""
    out: dict[str, np.ndarray] = {}
    for n, p in losses:
        if n == "contrastive":
            for y, what in ((1.0, "similar pair"), (0.0, "dissimilar pair")):
                out[f"{label(n, p)}, {what}"] = kernel_curve(
                    n, "embedding", d, np.full_like(d, y), p, {"layout": "distance"}
                )
        elif n == "triplet":
            zeros = np.zeros_like(d)
            trip = np.stack([zeros, zeros, d], axis=1)
            out[f"{label(n, p)}, negative at d"] = kernel_curve(
                n, "embedding", trip, None, p, {"layout": "triplets"}
            )
    return out


def _family(task: str, loss: str) -> str | None:
    """Which curve a loss of ``task`` has: error, pt, pt-multiclass, distance or none."""
    if task == "regression" and loss in ERROR_LOSSES + ERROR_LOSSES_EXTRA:
        return "error"
    if task == "detection" and loss == "smooth_l1":
        return "error"
    if task in ("binary", "multilabel", "segmentation", "detection") and loss in PT_LOSSES:
        return "pt"
    if task in ("segmentation", "detection") and loss in ("dice_bce", "focal_smooth_l1"):
        return "pt"
    if task == "multiclass" and loss in MULTICLASS_PT_LOSSES:
        return "pt-multiclass"
    if task == "embedding" and loss in DISTANCE_LOSSES:
        return "distance"
    return None


def _curve_loss(loss: str) -> str:
    """The loss whose curve stands for ``loss`` (dice_bce's pixel part is bce, …)."""
    return {"dice_bce": "bce", "focal_smooth_l1": "focal"}.get(loss, loss)


#: The loss every other curve of a family is compared with.
_REFERENCES = {"error": "mse", "pt": "bce", "pt-multiclass": "cross_entropy"}
_FAMILIES = ("error", "pt", "pt-multiclass", "distance")

Wanted = dict[str, list[tuple[str, dict[str, Any]]]]


def _candidates(result: Mapping[str, Any]) -> list[tuple[list[str] | None, dict[str, Any]]]:
    """(losses, params) of every recommendation, then (None, params) of every add-on."""
    out: list[tuple[list[str] | None, dict[str, Any]]] = [
        (list(r["losses"]), dict(r.get("params") or {})) for r in result["recommendations"]
    ]
    out += [(None, dict(a.get("params") or {})) for a in result.get("addons", [])]
    return out


def _add_candidate(
    wanted: Wanted,
    skipped: list[str],
    task: str,
    losses: list[str] | None,
    params: Mapping[str, Any],
) -> None:
    """File one candidate's losses under their curve family; an add-on (``losses`` None)
    puts its params on the family's reference loss, when that loss takes them."""
    names = (
        losses
        if losses is not None
        else [r for f, r in _REFERENCES.items() if _family(task, r) == f]
    )
    for loss in names:
        fam = _family(task, loss)
        if fam is None:
            if losses is not None and loss not in skipped:
                skipped.append(loss)
            continue
        name = _curve_loss(loss)
        own = _own_params(name, params, fam)
        if losses is None and not own:
            continue
        lst = wanted.setdefault(fam, [])
        if (name, own) not in lst:
            lst.append((name, own))


def _reference_first(lst: list[tuple[str, dict[str, Any]]], ref: str | None) -> None:
    """Put the reference loss (with its defaults) first in a family's list."""
    if ref is None:
        return
    if (ref, {}) in lst:
        lst.remove((ref, {}))
    lst.insert(0, (ref, {}))


def _no_curve_note(task: str, skipped: Sequence[str]) -> list[str]:
    if not skipped:
        return []
    verb = " has" if len(skipped) == 1 else " have"
    return [", ".join(skipped) + verb + " no curve of one variable here: " + _why_no_curve(task)]


def recommendation_curves(result: Mapping[str, Any]) -> tuple[list[Curves], list[str]]:
    """The candidate losses of a ``recommend`` result as curves, and a sentence for each
    candidate loss that has no curve of one variable (overlap losses, VAE, GAN …)."""
    task = str(result["task"])
    wanted: Wanted = {}
    skipped: list[str] = []
    for losses, params in _candidates(result):
        _add_candidate(wanted, skipped, task, losses, params)
    curves: list[Curves] = []
    for fam in (f for f in _FAMILIES if f in wanted):
        ref = _REFERENCES.get(fam)
        _reference_first(wanted[fam], ref)
        curves.append(_family_curves(fam, task, wanted[fam], ref))
    return curves, _no_curve_note(task, skipped)


def _own_params(name: str, params: Mapping[str, Any], fam: str) -> dict[str, Any]:
    """The parameters of a recommendation that the curve's loss takes."""
    from losscli.registry import get_spec

    spec_task = {
        "error": "regression",
        "pt": "binary",
        "pt-multiclass": "multiclass",
        "distance": "embedding",
    }[fam]
    spec = get_spec(name, spec_task)
    return {k: v for k, v in params.items() if spec.param(k) is not None}


def _why_no_curve(task: str) -> str:
    if task == "segmentation":
        return "overlap losses score a whole mask (its sums of p·y, p and y), not one pixel."
    if task == "detection":
        return "giou depends on the shapes of both boxes, not one number."
    if task == "embedding":
        return "cosine_embedding works on a cosine similarity, not a distance."
    return f"the {task} losses depend on whole rows, not on one number."


def _family_curves(
    fam: str, task: str, losses: list[tuple[str, dict[str, Any]]], ref: str | None
) -> Curves:
    if fam == "error":
        return _error_family(task, losses, ref)
    if fam in ("pt", "pt-multiclass"):
        return _pt_family(task, losses, ref, multi=fam == "pt-multiclass")
    return _distance_family(losses)


def error_scale(losses: Sequence[tuple[str, Mapping[str, Any]]]) -> float:
    """The error scale worth drawing: the largest positive huber ``delta`` or smooth_l1
    ``beta`` among ``losses`` (where they turn from quadratic to linear), at least 1."""
    thresholds = [float(p[k]) for _, p in losses for k in ("delta", "beta") if k in p]
    return max([1.0] + [t for t in thresholds if t > 0])


def _error_family(task: str, losses: list[tuple[str, dict[str, Any]]], ref: str | None) -> Curves:
    span = 4.0 * error_scale(losses)
    x = np.linspace(-span, span, 401)
    what = "box coordinate error" if task == "detection" else "error e = prediction − target"
    marks = tuple(
        (f"{n} {k}={p[k]:g}", float(p[k])) for n, p in losses for k in ("delta", "beta") if k in p
    )
    return Curves(
        "error",
        x,
        error_curves(x, losses),
        what,
        "loss of one row",
        "Losses as functions of the error",
        marks=tuple(dict.fromkeys(marks)),
        notes=(
            "a squared loss grows with e²: one large error outweighs many small ones; "
            "losses with linear tails (mae, huber and smooth_l1 beyond their threshold, "
            "log_cosh) grow with |e|",
        ),
        probe=tuple(round(span * f, 6) for f in (0.125, 0.25, 0.5, 1.0)),
        reference=label(ref) if ref else None,
    )


def _pt_family(
    task: str, losses: list[tuple[str, dict[str, Any]]], ref: str | None, *, multi: bool
) -> Curves:
    x = np.linspace(0.01, 0.999, 397)
    notes = ["p_t is the probability the model gives the true class"]
    if multi:
        notes.append("the other two of three classes share 1 − p_t equally")
    else:
        notes.append("curves for a positive (y = 1); for a negative read p_t = 1 − p")
    notes += {
        "segmentation": ["pixel-wise losses, one pixel at a time"],
        "detection": ["score losses of one matched box"],
    }.get(task, [])
    return Curves(
        "pt",
        x,
        pt_curves(x, losses, multiclass=multi),
        "p_t (probability of the true class)",
        "loss of one example",
        "Losses as functions of p_t",
        notes=tuple(notes),
        probe=(0.1, 0.5, 0.9, 0.99),
        reference=label(ref) if ref else None,
    )


def _distance_family(losses: list[tuple[str, dict[str, Any]]]) -> Curves:
    margin = max([1.0] + [float(p["margin"]) for _, p in losses if "margin" in p])
    x = np.linspace(0.0, 2.0 * margin, 401)
    return Curves(
        "distance",
        x,
        distance_curves(x, losses),
        "Euclidean distance d",
        "loss of one pair / triplet",
        "Losses as functions of the distance",
        marks=(("margin m", margin),),
        notes=(
            "contrastive pulls similar pairs to d = 0 and pushes dissimilar ones beyond m; "
            "triplet only asks the negative to be m farther than the positive",
        ),
        probe=tuple(round(margin * f, 6) for f in (0.0, 0.5, 1.0, 1.5)),
    )


def why_sentences(c: Curves) -> list[str]:
    """One or two sentences, from the curves' own values, on what sets the losses apart."""
    if c.key == "error" and c.probe:
        return _error_sentences(c)
    if c.key == "pt" and c.reference in c.ys:
        return _pt_sentences(c)
    if c.key == "distance":
        return list(c.notes)
    return []


def _short(name: str) -> str:
    """A curve's loss name without its parameters: ``huber (delta=1)`` → ``huber``."""
    return name.split(" (")[0]


def _error_sentences(c: Curves) -> list[str]:
    far, near = c.probe[-1], c.probe[0]
    vals_far, vals_near = c.at(far), c.at(near)
    parts = [f"{_short(k)} {v:.3g}" for k, v in vals_far.items()]
    out = [f"At an error of {far:g}: " + ", ".join(parts) + "."]
    ref = c.reference
    if ref not in vals_far or not vals_near.get(ref):
        return out
    growth = {_short(k): vals_far[k] / vals_near[k] for k in vals_far if vals_near.get(k)}
    slower = [k for k, g in growth.items() if g < growth[ref]]
    if slower:
        out.append(
            f"From an error of {near:g} to {far:g} "
            + ", ".join(f"{k} grows {g:.0f}×" for k, g in growth.items())
            + ": "
            + ", ".join(slower)
            + (" gives" if len(slower) == 1 else " give")
            + " large errors less weight than "
            + str(ref)
            + " does."
        )
    return out


def _ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def _pt_sentences(c: Curves) -> list[str]:
    ref = str(c.reference)
    easy, hard, high = c.at(0.9), c.at(0.1), c.at(0.99)
    out = [
        f"{k} costs {_ratio(hard[k], hard[ref]):.2g}× {ref} on a hard example (p_t = 0.1) but "
        f"{_ratio(easy[k], easy[ref]):.2g}× on an easy one (p_t = 0.9): it down-weights easy "
        "examples."
        for k in c.ys
        if k != ref and k.startswith("focal")
    ]
    out += [
        f"{k} is {high[k]:.2g} at p_t = 0.99 where {ref} is {high[ref]:.2g}: it "
        "stops rewarding extra confidence, which curbs overconfidence."
        for k in c.ys
        if "label_smoothing" in k
    ]
    if not out:
        out.append(
            f"{ref} costs {hard[ref]:.3g} for a confident mistake (p_t = 0.1) and "
            f"{easy[ref]:.3g} for a confident hit (p_t = 0.9): it grows without bound as "
            "p_t → 0."
        )
    return out


# --------------------------------------------------------------------------- regression


def residuals(dataset: Any) -> np.ndarray | None:
    """Finite errors e = prediction − target of a regression dataset (flattened)."""
    if dataset is None or dataset.task != "regression" or dataset.target is None:
        return None
    e = (np.asarray(dataset.pred, dtype=np.float64) - dataset.target).reshape(-1)
    return e[np.isfinite(e)]


def abs_quantiles(e: np.ndarray) -> list[tuple[str, float]]:
    """The data's |e| at the median, 90th and 99th percentiles and the maximum."""
    if e.size == 0:
        return []
    a = np.abs(e)
    qs = np.quantile(a, [0.5, 0.9, 0.99])
    return [
        ("median |e|", float(qs[0])),
        ("90% |e|", float(qs[1])),
        ("99% |e|", float(qs[2])),
        ("max |e|", float(a.max())),
    ]


def regression_error_losses(doc: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """MSE, MAE, Huber and log-cosh (plus smooth_l1 / pinball when the report computed
    them), each with the report's parameters (defaults for a loss it did not compute)."""
    items = loss_items(doc)
    names = [*ERROR_LOSSES, *(n for n in ERROR_LOSSES_EXTRA if n in items)]
    return [(n, dict(items[n]["params"]) if n in items else {}) for n in names]


def regression_error_curves(doc: Mapping[str, Any], e: np.ndarray) -> Curves:
    """MSE, MAE, Huber and log-cosh (plus smooth_l1/pinball when computed) over the data's
    range of |e|, with the report's parameters (defaults for losses it did not compute)."""
    losses = regression_error_losses(doc)
    top = float(np.max(np.abs(e))) if e.size else 1.0
    top = top if top > 0 else 1.0
    x = np.geomspace(top * 1e-3, top * 1.05, 300)
    return Curves(
        "error",
        x,
        error_curves(x, losses),
        "|error|",
        "loss of one row",
        "Losses as functions of the error",
        marks=tuple(abs_quantiles(e)),
        probe=tuple(v for _, v in abs_quantiles(e)),
        reference="mse",
    )


# --------------------------------------------------------------------------- worst rows


@dataclass(frozen=True)
class Share:
    """How much of a loss the worst rows carry: ``cumulative[k − 1]`` is the part of
    Σ w·l that comes from the k rows with the largest w·l."""

    loss: str
    cumulative: np.ndarray

    @property
    def n(self) -> int:
        return int(self.cumulative.shape[0])

    def at(self, f: float) -> float:
        """Share of the worst ``f`` of rows (at least one row), as compare reports it."""
        k = min(self.n, max(1, math.ceil(f * self.n)))
        return float(self.cumulative[k - 1])

    def curve(self, points: int = 400) -> tuple[np.ndarray, np.ndarray]:
        """(fraction of rows, share) at up to ``points`` log-spaced row counts."""
        n = self.n
        ks = np.unique(np.round(np.geomspace(1, n, min(points, n))).astype(np.int64))
        ks = np.clip(ks, 1, n)
        return ks / n, self.cumulative[ks - 1]


def worst_share(per_row: np.ndarray, weight: np.ndarray | None, loss: str) -> Share | None:
    """The worst-rows share of one loss; None when it is undefined (no rows, a
    non-positive total, or negative contributions such as wgan's)."""
    c = np.asarray(per_row, dtype=np.float64)
    if weight is not None:
        c = c * weight
    c = c[np.isfinite(c)]
    if c.size == 0 or np.any(c < 0) or float(c.sum()) <= 0:
        return None
    c = np.sort(c)[::-1]
    return Share(loss, np.cumsum(c) / c.sum())


def shares(report: Any) -> list[Share]:
    """Worst-row share curves of every loss the report kept per-row values for."""
    out = []
    weights = getattr(report, "per_sample_weight", {}) or {}
    items = loss_items(report.data)
    for name, rows in (report.per_sample or {}).items():
        if name not in items:
            continue
        s = worst_share(rows, weights.get(name), name)
        if s is not None:
            out.append(s)
    return out


def row_losses(report: Any) -> dict[str, np.ndarray]:
    """Finite per-row values of every computed loss, in report order."""
    items = loss_items(report.data)
    out = {}
    for name, rows in (report.per_sample or {}).items():
        if name in items:
            r = np.asarray(rows, dtype=np.float64)
            out[name] = r[np.isfinite(r)]
    return out


# --------------------------------------------------------------------------- classification


def probabilities(dataset: Any) -> np.ndarray:
    """Predicted probabilities: scores as given, or through sigmoid / softmax for logits."""
    from losscli.losses._numerics import sigmoid, softmax

    pred = np.asarray(dataset.pred, dtype=np.float64)
    if not dataset.context.get("from_logits"):
        return pred
    return softmax(pred, axis=1) if dataset.task == "multiclass" else sigmoid(pred)


@dataclass(frozen=True)
class Reliability:
    """A reliability diagram: per probability bin, the mean predicted probability, the
    observed rate and the count."""

    what: str  # what the observed rate is
    edges: np.ndarray
    predicted: np.ndarray
    observed: np.ndarray
    counts: np.ndarray
    ece: float

    @property
    def n(self) -> int:
        return int(self.counts.sum())


def reliability(dataset: Any, bins: int = RELIABILITY_BINS) -> Reliability | None:
    """Binary / multilabel: every predicted probability against its 0/1 label (the
    observed positive rate). Multiclass: the top class's probability against whether it
    was right (top-label accuracy). ECE = Σ_b n_b/N · |observed_b − predicted_b|."""
    if dataset is None or dataset.target is None:
        return None
    if dataset.task not in ("binary", "multilabel", "multiclass"):
        return None
    p = probabilities(dataset)
    if dataset.task == "multiclass":
        conf = p.max(axis=1)
        hit = (p.argmax(axis=1) == dataset.target).astype(np.float64)
        what = "accuracy of the top class"
    else:
        conf = p.reshape(-1)
        hit = np.asarray(dataset.target, dtype=np.float64).reshape(-1)
        what = "observed positive rate"
    edges = np.linspace(0.0, 1.0, bins + 1)
    idx = np.clip(np.searchsorted(edges, conf, side="right") - 1, 0, bins - 1)
    counts = np.bincount(idx, minlength=bins).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        predicted = np.bincount(idx, weights=conf, minlength=bins) / counts
        observed = np.bincount(idx, weights=hit, minlength=bins) / counts
    gaps = np.where(counts > 0, np.abs(observed - predicted), 0.0)
    ece = float(np.sum(counts * gaps) / max(counts.sum(), 1))
    return Reliability(what, edges, predicted, observed, counts, ece)


def true_class_probability(dataset: Any) -> dict[str, np.ndarray]:
    """p_t per class: binary by label (p for y = 1, 1 − p for y = 0), multiclass p_y by
    true class, multilabel per label column (p where the label is 1, 1 − p where 0)."""
    if dataset is None or dataset.target is None:
        return {}
    if dataset.task not in ("binary", "multilabel", "multiclass"):
        return {}
    p = probabilities(dataset)
    y = np.asarray(dataset.target)
    out: dict[str, np.ndarray] = {}
    if dataset.task == "multiclass":
        names = _class_names(dataset, p.shape[1])
        pt = p[np.arange(p.shape[0]), y.astype(np.int64)]
        for c, nm in enumerate(names):
            out[nm] = pt[y == c]
        return out
    if dataset.task == "binary":
        col = dataset.target_columns[0] if dataset.target_columns else "y"
        pos = y.reshape(-1) >= 0.5
        pv = p.reshape(-1)
        out[f"{col} = 0"] = 1.0 - pv[~pos]
        out[f"{col} = 1"] = pv[pos]
        return out
    names = _class_names(dataset, p.shape[1])
    pos = y >= 0.5
    pt = np.where(pos, p, 1.0 - p)
    for c, nm in enumerate(names):
        out[nm] = pt[:, c]
    return out


def _class_names(dataset: Any, k: int) -> list[str]:
    names = list(dataset.class_names or [])
    return names if len(names) == k else [str(i) for i in range(k)]


def _class_labels(dataset: Any) -> tuple[np.ndarray, list[str]] | None:
    """Integer true class of every row and the class names (binary: ``y = 0``/``y = 1``),
    or None for a task without one true class per row."""
    y = np.asarray(dataset.target)
    if dataset.task == "multiclass":
        return y.reshape(-1), _class_names(dataset, dataset.pred.shape[1])
    if dataset.task == "binary":
        col = dataset.target_columns[0] if dataset.target_columns else "y"
        return (y.reshape(-1) >= 0.5).astype(np.int64), [f"{col} = 0", f"{col} = 1"]
    return None


def class_losses(report: Any) -> dict[str, dict[str, float]]:
    """``{loss: {class: mean loss}}``: binary and multiclass by true class (the per-row
    values averaged with their weights by :func:`losscli.compute.per_class_sums`, as
    ``--per-class`` does), multilabel per label column (the report's own per-class
    values)."""
    from losscli.compute import per_class_means, per_class_sums

    ds = report.dataset
    items = loss_items(report.data)
    if ds is None or ds.target is None:
        return {}
    if ds.task == "multilabel":
        return {
            name: {k: (math.nan if v is None else float(v)) for k, v in it["per_class"].items()}
            for name, it in items.items()
            if it.get("per_class")
        }
    classes = _class_labels(ds)
    if classes is None:
        return {}
    labels, names = classes
    weights = getattr(report, "per_sample_weight", None) or {}
    out: dict[str, dict[str, float]] = {}
    for name, rows in (report.per_sample or {}).items():
        if name in items:
            sums, wsum = per_class_sums(rows, labels, len(names), weights.get(name))
            out[name] = per_class_means(sums, wsum, names)
    return out


def class_counts(dataset: Any) -> dict[str, int]:
    """Rows per true class (binary, multiclass) or positives per label (multilabel)."""
    if dataset is None or dataset.target is None:
        return {}
    y = np.asarray(dataset.target)
    if dataset.task == "multiclass":
        names = _class_names(dataset, dataset.pred.shape[1])
        return {nm: int(np.sum(y == c)) for c, nm in enumerate(names)}
    if dataset.task == "binary":
        col = dataset.target_columns[0] if dataset.target_columns else "y"
        pos = int(np.sum(y.reshape(-1) >= 0.5))
        return {f"{col} = 0": int(y.size - pos), f"{col} = 1": pos}
    if dataset.task == "multilabel":
        names = _class_names(dataset, y.shape[1])
        return {nm: int(np.sum(y[:, c] >= 0.5)) for c, nm in enumerate(names)}
    return {}


# --------------------------------------------------------------------------- segmentation


@dataclass(frozen=True)
class ImageScores:
    """Per-image overlap losses, worst first (by the first loss)."""

    losses: tuple[str, ...]
    names: list[str]
    values: dict[str, np.ndarray]


def image_overlap(report: Any) -> ImageScores | None:
    """Per-image values of up to two overlap losses (dice and iou by default)."""
    ds = report.dataset
    items = loss_items(report.data)
    avail = [n for n in OVERLAP_LOSSES if n in (report.per_sample or {}) and n in items]
    if ds is None or not avail:
        return None
    chosen = tuple(avail[:2])
    first = np.asarray(report.per_sample[chosen[0]], dtype=np.float64)
    order = np.argsort(-np.where(np.isfinite(first), first, -np.inf), kind="stable")
    names = [row_name(ds, int(i), "image") for i in order]
    values = {n: np.asarray(report.per_sample[n], dtype=np.float64)[order] for n in chosen}
    return ImageScores(chosen, names, values)


# --------------------------------------------------------------------------- embedding


@dataclass(frozen=True)
class Distances:
    """Distances of similar (positive) and dissimilar (negative) pairs."""

    positive: np.ndarray
    negative: np.ndarray
    margin: float | None
    margin_loss: str | None
    sampled: int | None = None  # rows drawn when the input was larger than the cap
    notes: list[str] = field(default_factory=list)


def embedding_distances(report: Any, *, max_rows: int = MAX_EMBEDDING_ROWS) -> Distances | None:
    """Euclidean distances of positive and negative pairs, in the layout the data came in:
    all pairs i<j from labels (over a seeded sample of ``max_rows`` rows when larger), the
    given distances, each (a | b) pair, or each triplet's anchor–positive and
    anchor–negative distance."""
    ds = report.dataset
    if ds is None or ds.task != "embedding":
        return None
    layout = ds.context.get("layout", "labels")
    pred = np.asarray(ds.pred, dtype=np.float64)
    sampled = None
    if layout == "labels":
        x, lab = pred, np.asarray(ds.target).reshape(-1)
        if x.shape[0] > max_rows:
            pick = np.sort(np.random.default_rng(0).choice(x.shape[0], max_rows, replace=False))
            x, lab, sampled = x[pick], lab[pick], max_rows
        x = x - x.mean(axis=0)
        sq = np.einsum("ij,ij->i", x, x)
        d2 = sq[:, None] + sq[None, :] - 2.0 * (x @ x.T)
        iu = np.triu_indices(x.shape[0], k=1)
        d = np.sqrt(np.maximum(d2[iu], 0.0))
        same = lab[iu[0]] == lab[iu[1]]
        pos, neg = d[same], d[~same]
    elif layout in ("distance", "pairs"):
        if layout == "distance":
            d = pred.reshape(-1)
        else:
            half = pred.shape[1] // 2
            d = np.linalg.norm(pred[:, :half] - pred[:, half:], axis=1)
        y = np.asarray(ds.target, dtype=np.float64).reshape(-1) > 0
        pos, neg = d[y], d[~y]
    else:  # triplets
        k = pred.shape[1] // 3
        a, p, n = pred[:, :k], pred[:, k : 2 * k], pred[:, 2 * k :]
        pos = np.linalg.norm(a - p, axis=1)
        neg = np.linalg.norm(a - n, axis=1)
    items = loss_items(report.data)
    margin, which = None, None
    for name in ("contrastive", "triplet"):
        if name in items and "margin" in items[name]["params"]:
            margin, which = float(items[name]["params"]["margin"]), name
            break
    return Distances(pos[np.isfinite(pos)], neg[np.isfinite(neg)], margin, which, sampled)


# --------------------------------------------------------------------------- captions


def share_sentence(ss: Sequence[Share], f: float = 0.01) -> str:
    """``the worst 1% of rows carry 43% of mse, 9% of mae``."""
    if not ss:
        return ""
    parts = [f"{s.at(f):.0%} of {s.loss}" for s in ss]
    return f"The worst {f:.0%} of rows carry " + ", ".join(parts) + "."


# --------------------------------------------------------------------------- summaries

#: Residuals further than this many robust standard deviations (1.4826·MAD) from the
#: median are drawn apart from the rest.
ROBUST_Z = 5.0


def robust_inliers(e: np.ndarray, z: float = ROBUST_Z) -> np.ndarray | None:
    """Mask of the residuals within ``z`` robust standard deviations (1.4826·MAD) of the
    median; None when the MAD is 0 (more than half the residuals are equal)."""
    med = float(np.median(e))
    spread = 1.4826 * float(np.median(np.abs(e - med)))
    if spread <= 0:
        return None
    return np.asarray(np.abs(e - med) <= z * spread)


def quantile_inliers(e: np.ndarray, low: float = 0.01, high: float = 0.99) -> np.ndarray:
    """Mask of the residuals between the ``low`` and ``high`` quantiles."""
    lo, hi = np.quantile(e, [low, high])
    return np.asarray((e >= lo) & (e <= hi))


def histogram(values: np.ndarray, bins: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """(edges, counts) of the finite ``values`` in ``bins`` equal-width bins over their
    range (a range of one value widened to 1)."""
    v = values[np.isfinite(values)]
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 1.0)
    if hi == lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, bins + 1)
    counts, _ = np.histogram(v, bins=edges)
    return edges, counts


def share_below(values: np.ndarray, limit: float) -> float:
    """The fraction of ``values`` below ``limit`` (0 for no values)."""
    return float(np.mean(values < limit)) if values.size else 0.0


def distance_histogram(
    dist: Distances, bins: int = 12, headroom: float = 1.05
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(edges, share of similar pairs, share of dissimilar pairs) per distance bin, from 0
    to the largest distance (or ``headroom`` × the margin, if larger); each share is of
    its own kind's pairs."""
    allv = np.concatenate([dist.positive, dist.negative])
    top = float(allv.max()) if allv.size else 1.0
    if dist.margin is not None:
        top = max(top, dist.margin * headroom)
    edges = np.linspace(0.0, top if top > 0 else 1.0, bins + 1)
    pc, _ = np.histogram(dist.positive, bins=edges)
    nc, _ = np.histogram(dist.negative, bins=edges)
    return edges, pc / max(dist.positive.size, 1), nc / max(dist.negative.size, 1)


def inside_margin(dist: Distances) -> float | None:
    """Share of dissimilar pairs closer than the margin (they carry the margin loss)."""
    if dist.margin is None or not dist.negative.size:
        return None
    return share_below(dist.negative, dist.margin)


def median_distances(dist: Distances) -> tuple[float, float] | None:
    """Median distance of similar and of dissimilar pairs (None unless both exist)."""
    if not (dist.positive.size and dist.negative.size):
        return None
    return float(np.median(dist.positive)), float(np.median(dist.negative))
