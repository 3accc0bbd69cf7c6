"""What is wrong with a training curve: simple, robust rules with fixed thresholds.

Each rule looks at a loss-like series (lower is better; in ``max`` mode the monitored
series is negated first) as points ``(position, value)`` in log order, and reports a
:class:`Finding` with the positions it spans and the numbers that made it fire.
The rules and thresholds (docs/curves.md says the same):

* ``nan`` — a NaN or ±inf value; one finding per run of consecutive non-finite points
  (severity ``error``).
* ``divergence`` — the series ends worse than it started: the median of its last three
  finite values (the end) is above the first value, has climbed back from the minimum
  by at least ``DIVERGE_GIVE_BACK`` (1.1) × all it had gained (first − min), and that
  climb is more than ``DIVERGE_STEPS`` (3) × the median |step| (not noise); needs four
  finite points; spans the minimum to the end (``error``). Scale-free, so it reads an
  accuracy in ``max`` mode as well as a loss. Not reported for the monitored series
  when ``overfit`` explains its rise.
* ``spike`` — a local peak (above both neighbours; never the first or last point)
  above the rolling median of its ``SPIKE_WINDOW`` (5) neighbours
  by more than ``SPIKE_MADS`` (6) robust deviations (1.4826 × the median absolute
  deviation of all such residuals) and by more than ``SPIKE_REL`` (20%) of that median;
  needs ``SPIKE_MIN_POINTS`` (7) finite points (``warning``).
* ``overfit`` — on the positions where both are logged, after the monitored series'
  best point the monitored value ends more than ``OVERFIT_REL`` (5%) above that best
  (mean of the last two points) while the training value at the end is below its value
  at the best point; needs two points after the best; spans the best to the end
  (``warning``).
* ``plateau`` — the running best has not improved by more than ``PLATEAU_REL`` (0.5%)
  of its size over the last ``max(PLATEAU_MIN_POINTS (5), 25% of the points)`` points;
  spans the last improving point to the end (``info``).
* ``oscillation`` — at least ``OSC_MIN_POINTS`` (8) finite points whose steps change
  direction at ``OSC_REVERSALS`` (60%) or more of the chances, and whose net change is
  under ``OSC_NET`` (25%) of the total path length Σ|Δ| (``warning``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

KINDS: tuple[str, ...] = ("nan", "divergence", "spike", "overfit", "plateau", "oscillation")

DIVERGE_GIVE_BACK = 1.10
DIVERGE_STEPS = 3.0
SPIKE_WINDOW = 5
SPIKE_MADS = 6.0
SPIKE_REL = 0.20
SPIKE_MIN_POINTS = 7
OVERFIT_REL = 0.05
PLATEAU_REL = 0.005
PLATEAU_MIN_POINTS = 5
OSC_MIN_POINTS = 8
OSC_REVERSALS = 0.60
OSC_NET = 0.25


@dataclass
class Finding:
    kind: str
    series: str
    from_step: float
    to_step: float
    severity: str
    evidence: str
    numbers: dict[str, Any] = field(default_factory=dict)


def _finite(pos: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = np.isfinite(val)
    return pos[keep], val[keep]


def _g(x: float) -> str:
    return f"{x:.4g}"


def non_finite(name: str, pos: np.ndarray, val: np.ndarray) -> list[Finding]:
    bad = ~np.isfinite(val)
    out: list[Finding] = []
    i = 0
    while i < len(val):
        if not bad[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(val) and bad[j + 1]:
            j += 1
        kinds = sorted(
            {"nan" if math.isnan(v) else ("inf" if v > 0 else "-inf") for v in val[i : j + 1]}
        )
        out.append(
            Finding(
                "nan",
                name,
                float(pos[i]),
                float(pos[j]),
                "error",
                f"{name} is {'/'.join(kinds)} at {j - i + 1} point(s)",
                {"count": j - i + 1},
            )
        )
        i = j + 1
    return out


def divergence(name: str, pos: np.ndarray, val: np.ndarray) -> list[Finding]:
    p, v = _finite(pos, val)
    if len(v) < 4:
        return []
    first = float(v[0])
    k = int(np.argmin(v))
    low = float(v[k])
    tail = float(np.median(v[-3:]))
    if k >= len(v) - 1:
        return []
    rise = tail - low
    step = float(np.median(np.abs(np.diff(v))))
    gave_back = tail > first and rise >= DIVERGE_GIVE_BACK * (first - low)
    if not (gave_back and rise > DIVERGE_STEPS * step):
        return []
    return [
        Finding(
            "divergence",
            name,
            float(p[k]),
            float(p[-1]),
            "error",
            (
                f"{name} fell to {_g(low)} then rose to {_g(tail)} (median of the last 3), "
                f"above its first value {_g(first)}"
                if k > 0
                else f"{name} rose from its first and lowest value {_g(first)} to "
                f"{_g(tail)} (median of the last 3)"
            ),
            {"first": first, "min": low, "end": tail},
        )
    ]


def spikes(name: str, pos: np.ndarray, val: np.ndarray) -> list[Finding]:
    p, v = _finite(pos, val)
    n = len(v)
    if n < SPIKE_MIN_POINTS:
        return []
    half = SPIKE_WINDOW // 2
    med = np.array([np.median(v[max(0, i - half) : i + half + 1]) for i in range(n)])
    resid = v - med
    mad = float(np.median(np.abs(resid - np.median(resid))))
    scale = 1.4826 * mad
    out = []
    for i in range(1, n - 1):  # a spike is a local peak: never the first or last point
        r = float(resid[i])
        peak = v[i] > v[i - 1] and v[i] > v[i + 1]
        if peak and r > SPIKE_MADS * scale and r > SPIKE_REL * abs(float(med[i])):
            out.append(
                Finding(
                    "spike",
                    name,
                    float(p[i]),
                    float(p[i]),
                    "warning",
                    f"{name} jumped to {_g(float(v[i]))} where its neighbours are near "
                    f"{_g(float(med[i]))}",
                    {"value": float(v[i]), "neighbourhood": float(med[i])},
                )
            )
    return out


def overfit(
    monitor: str,
    mpos: np.ndarray,
    mval: np.ndarray,
    train: str,
    tpos: np.ndarray,
    tval: np.ndarray,
) -> list[Finding]:
    # each monitored point against the training loss last logged at or before it (the
    # same position where both are logged; Hugging Face evaluates at other steps)
    order = np.argsort(tpos, kind="stable")
    tpos, tval = tpos[order], tval[order]
    ti = np.searchsorted(tpos, mpos, side="right") - 1
    has = ti >= 0
    if int(has.sum()) < 4:
        return []
    common, m, t = mpos[has], mval[has], tval[ti[has]]
    keep = np.isfinite(m) & np.isfinite(t)
    common, m, t = common[keep], m[keep], t[keep]
    if len(m) < 4:
        return []
    k = int(np.argmin(m))
    if len(m) - k - 1 < 2:
        return []
    best = float(m[k])
    end = float(np.mean(m[-2:]))
    if not (end - best > OVERFIT_REL * abs(best) and float(t[-1]) < float(t[k])):
        return []
    return [
        Finding(
            "overfit",
            monitor,
            float(common[k]),
            float(common[-1]),
            "warning",
            f"{monitor} rose from {_g(best)} to {_g(end)} (+{(end - best) / abs(best):.0%}) "
            f"while {train} fell from {_g(float(t[k]))} to {_g(float(t[-1]))}",
            {"best": best, "end": end, "train_at_best": float(t[k]), "train_end": float(t[-1])},
        )
    ]


def plateau(name: str, pos: np.ndarray, val: np.ndarray) -> list[Finding]:
    p, v = _finite(pos, val)
    n = len(v)
    need = max(PLATEAU_MIN_POINTS, math.ceil(0.25 * n))
    if n < need + 1:
        return []
    # the last point where the running best improved by more than PLATEAU_REL
    best = float(v[0])
    last_gain = 0
    for i in range(1, n):
        if best - float(v[i]) > PLATEAU_REL * abs(best):
            best = float(v[i])
            last_gain = i
    flat = n - 1 - last_gain
    if flat < need:
        return []
    return [
        Finding(
            "plateau",
            name,
            float(p[last_gain]),
            float(p[-1]),
            "info",
            f"{name} has not improved by more than {PLATEAU_REL:.1%} for {flat} points "
            f"(best {_g(best)})",
            {"points": flat, "best": best},
        )
    ]


def oscillation(name: str, pos: np.ndarray, val: np.ndarray) -> list[Finding]:
    p, v = _finite(pos, val)
    if len(v) < OSC_MIN_POINTS:
        return []
    d = np.diff(v)
    d = d[d != 0]
    if len(d) < OSC_MIN_POINTS - 1:
        return []
    reversals = int(np.sum(np.sign(d[1:]) != np.sign(d[:-1])))
    ratio = reversals / (len(d) - 1)
    path = float(np.sum(np.abs(d)))
    net = abs(float(v[-1] - v[0]))
    if ratio < OSC_REVERSALS or net >= OSC_NET * path:
        return []
    return [
        Finding(
            "oscillation",
            name,
            float(p[0]),
            float(p[-1]),
            "warning",
            f"{name} changed direction at {ratio:.0%} of its steps and moved a net "
            f"{_g(net)} over a path of {_g(path)}",
            {"reversal_rate": ratio, "net": net, "path": path},
        )
    ]


def find_all(
    monitor: str,
    mpos: Sequence[float],
    mval: Sequence[float],
    *,
    mode: str = "min",
    train: str | None = None,
    tpos: Sequence[float] | None = None,
    tval: Sequence[float] | None = None,
) -> list[Finding]:
    """Every finding on the monitored series (and the training loss, where given)."""
    mp = np.asarray(mpos, dtype=np.float64)
    mv = np.asarray(mval, dtype=np.float64)
    sign = -1.0 if mode == "max" else 1.0
    lm = sign * mv  # loss-like: lower is better
    out = non_finite(monitor, mp, mv)
    out += divergence(monitor, mp, lm)
    out += spikes(monitor, mp, lm)
    if train is not None and tpos is not None and tval is not None:
        tp = np.asarray(tpos, dtype=np.float64)
        tv = np.asarray(tval, dtype=np.float64)
        out += non_finite(train, tp, tv)
        out += divergence(train, tp, tv)
        out += overfit(monitor, mp, lm, train, tp, tv)
        if any(f.kind == "overfit" for f in out):  # the rise is overfitting, said once
            out = [f for f in out if not (f.kind == "divergence" and f.series == monitor)]
    out += plateau(monitor, mp, lm)
    out += oscillation(monitor, mp, lm)
    if mode == "max":  # evidence in the metric's own sign
        for f in out:
            f.numbers = {
                k: (-x if isinstance(x, float) and k not in _UNSIGNED else x)
                for k, x in f.numbers.items()
            }
    return sorted(out, key=lambda f: (f.from_step, KINDS.index(f.kind)))


_UNSIGNED = {"count", "points", "reversal_rate", "net", "path"}
