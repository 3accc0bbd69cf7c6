"""Oracle fixtures for the classification losses (binary, multilabel, multiclass).

Writes ``tests/fixtures/oracle_classification.json``: seeded random inputs plus the value
of the reference implementation in float64, one case per (loss, task, input kind,
parameters, size). References:

* torch 2.13.0 ``F.binary_cross_entropy``, ``F.binary_cross_entropy_with_logits``
  (``pos_weight``), ``F.cross_entropy`` (``weight``, ``label_smoothing``,
  ``ignore_index``), ``F.nll_loss(log P)``, ``F.kl_div(..., reduction='batchmean')``;
* torchvision ``ops.sigmoid_focal_loss``, written here with the same torch ops line by
  line (torchvision does not import beside the CPU torch wheel);
* scikit-learn 1.9 ``log_loss``, ``hinge_loss`` (binary and multiclass),
  ``brier_score_loss``, ``compute_class_weight('balanced')``.

Run ``python tests/oracle/gen_classification.py`` to regenerate. The test
``tests/losses/test_oracle_classification.py`` imports :func:`oracle_value` to recompute
every stored value live when torch and scikit-learn are installed.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "oracle_classification.json"

#: float64 machine epsilon: scikit-learn's log_loss clip since 1.5.
SK_EPS = float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------- oracles


def _t(a: Any) -> Any:
    import torch

    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def _idx(a: Any) -> Any:
    import torch

    return torch.as_tensor(np.asarray(a, dtype=np.int64))


def _smoothed(y: Any, eps: float) -> Any:
    return y * (1.0 - eps) + eps / 2.0


def _torch_bce(pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool) -> float:
    import torch
    import torch.nn.functional as F

    x, y = _t(pred), _t(target)
    y = _smoothed(y, params.get("label_smoothing", 0.0))
    pw = params.get("pos_weight", 1.0)
    if logits:
        pos = None if pw == 1.0 else torch.tensor([pw])  # broadcasts along the last dim
        return F.binary_cross_entropy_with_logits(x, y, pos_weight=pos).item()
    if pw == 1.0:
        return F.binary_cross_entropy(x, y).item()
    # BCELoss has no pos_weight: the same clamped logs, with the positive term scaled.
    log_p = torch.clamp(torch.log(x), min=-100.0)
    log_q = torch.clamp(torch.log1p(-x), min=-100.0)
    return (-(pw * y * log_p + (1.0 - y) * log_q)).mean().item()


def _torch_bce_clipped(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    """Keras-style clipping with a chosen eps: clip p, then torch BCE on the clipped p."""
    import torch
    import torch.nn.functional as F

    eps = params["eps"]
    p = torch.clamp(_t(pred), eps, 1.0 - eps)
    return F.binary_cross_entropy(
        p, _smoothed(_t(target), params.get("label_smoothing", 0.0))
    ).item()


def _sk_log_loss(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    from sklearn.metrics import log_loss

    return float(log_loss(np.asarray(target, dtype=np.int64), pred, labels=[0, 1]))


def _torchvision_focal(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    """torchvision.ops.sigmoid_focal_loss(reduction='mean'), line by line; probabilities
    take the clamped-log F.binary_cross_entropy as ce and p as given."""
    import torch
    import torch.nn.functional as F

    inputs, targets = _t(pred), _t(target)
    alpha, gamma = params.get("alpha", 0.25), params.get("gamma", 2.0)
    if logits:
        p = torch.sigmoid(inputs)
        ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    else:
        p = inputs
        ce_loss = F.binary_cross_entropy(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss.mean().item()


def _binary_scores(pred: np.ndarray, logits: bool) -> np.ndarray:
    return np.asarray(pred, dtype=np.float64) if logits else 2.0 * np.asarray(pred) - 1.0


def _sk_hinge(pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool) -> float:
    from sklearn.metrics import hinge_loss

    m = params.get("margin", 1.0)
    s = _binary_scores(pred, logits)
    # max(0, m − t·s) = m·max(0, 1 − t·s/m): scikit-learn has margin 1 only.
    return m * float(hinge_loss(np.asarray(target, dtype=np.int64), s / m))


def _torch_squared_hinge(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    import torch

    s = _t(_binary_scores(pred, logits))
    t = 2.0 * _t(target) - 1.0
    return (torch.clamp(1.0 - t * s, min=0.0) ** 2).mean().item()


def _sk_brier(pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool) -> float:
    import torch
    from sklearn.metrics import brier_score_loss

    p = torch.sigmoid(_t(pred)).numpy() if logits else np.asarray(pred)
    # Binary: scikit-learn's 'auto' halves its two-column sum, i.e. the plain mean (p−y)².
    return float(brier_score_loss(np.asarray(target, dtype=np.int64), p))


def _log_probs(pred: np.ndarray, logits: bool) -> Any:
    import torch
    import torch.nn.functional as F

    x = _t(pred)
    return F.log_softmax(x, dim=1) if logits else torch.log(x)


def _resolved_weight(weight: Any, target: np.ndarray, n_classes: int, ignore: Any) -> Any:
    from sklearn.utils.class_weight import compute_class_weight

    if weight == "none":
        return None
    if weight == "balanced":
        y = np.asarray(target, dtype=np.int64)
        if ignore != "none":
            y = y[y != ignore]
        # scikit-learn refuses classes absent from y: weigh the present ones and give the
        # absent ones 0. (Its n/(C_present·count) differs from n/(C·count) by a constant
        # factor, which cancels in the weighted mean Σ w_y·l / Σ w_y.)
        present = np.unique(y)
        full = np.zeros(n_classes)
        full[present] = compute_class_weight("balanced", classes=present, y=y)
        return _t(full)
    return _t(weight)


def _torch_ce(pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool) -> float:
    """F.cross_entropy on logits; on probabilities F.cross_entropy(log P) — whose
    log_softmax(log P) is log P for rows summing to 1 — or F.nll_loss(log P)."""
    import torch.nn.functional as F

    c = int(np.asarray(pred).shape[1])
    ignore = params.get("ignore_index", "none")
    weight = _resolved_weight(params.get("weight", "none"), target, c, ignore)
    ls = params.get("label_smoothing", 0.0)
    kwargs: dict[str, Any] = {
        "weight": weight,
        "ignore_index": -100 if ignore == "none" else ignore,
    }
    y = _idx(target)
    if logits:
        return F.cross_entropy(_t(pred), y, label_smoothing=ls, **kwargs).item()
    logp = _log_probs(pred, False)
    if ls == 0.0:
        return F.nll_loss(logp, y, **kwargs).item()
    return F.cross_entropy(logp, y, label_smoothing=ls, **kwargs).item()


def _torch_focal_mc(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    """−α_y·(1 − p_y)^γ·log p_y (MONAI softmax_focal_loss form, Keras per-class α)."""
    import torch

    y = _idx(target)
    gamma = params.get("gamma", 2.0)
    alpha = params.get("alpha", 0.25)
    if logits:
        ls = _log_probs(pred, True).gather(1, y[:, None])[:, 0]
        p_y = ls.exp()
    else:
        p_y = _t(pred).gather(1, y[:, None])[:, 0]
        ls = torch.clamp(torch.log(p_y), min=-100.0)
    loss = -((1 - p_y) ** gamma) * ls
    a = _t(alpha)[y] if isinstance(alpha, (list, tuple)) else alpha
    return (a * loss).mean().item()


def _sk_multi_hinge(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    from sklearn.metrics import hinge_loss

    s = np.asarray(pred, dtype=np.float64)
    y = np.asarray(target, dtype=np.int64)
    c = s.shape[1]
    if c == 2:
        # scikit-learn treats two labels as binary: Crammer–Singer is then the binary
        # hinge of the score difference s_1 − s_0.
        return float(hinge_loss(y, s[:, 1] - s[:, 0]))
    return float(hinge_loss(y, s, labels=np.arange(c)))


def _sk_brier_mc(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    import torch
    from sklearn.metrics import brier_score_loss

    c = int(np.asarray(pred).shape[1])
    p = torch.softmax(_t(pred), dim=1).numpy() if logits else np.asarray(pred)
    y = np.asarray(target, dtype=np.int64)
    return float(brier_score_loss(y, p, labels=np.arange(c), scale_by_half=False))


def _torch_kl_mc(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    import torch.nn.functional as F

    c = int(np.asarray(pred).shape[1])
    onehot = F.one_hot(_idx(target), c).double()
    return F.kl_div(_log_probs(pred, logits), onehot, reduction="batchmean").item()


def _torch_multi_margin(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    """F.multi_margin_loss(s, y, p, margin, weight): scores as given."""
    import torch.nn.functional as F

    w = params.get("weight", "none")
    return F.multi_margin_loss(
        _t(pred),
        _idx(target),
        p=params.get("p", 1),
        margin=params.get("margin", 1.0),
        weight=None if w == "none" else _t(w),
    ).item()


def _torch_bce_weighted(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    """F.binary_cross_entropy(_with_logits)(weight=w) with a per-label weight."""
    import torch.nn.functional as F

    w = _t(params["weight"])
    if logits:
        return F.binary_cross_entropy_with_logits(_t(pred), _t(target), weight=w).item()
    return F.binary_cross_entropy(_t(pred), _t(target), weight=w).item()


def _torch_kl_mean(
    pred: np.ndarray, target: np.ndarray, params: dict[str, Any], logits: bool
) -> float:
    """F.kl_div(log q, onehot, reduction='mean'): the mean over every element."""
    import torch.nn.functional as F

    c = int(np.asarray(pred).shape[1])
    onehot = F.one_hot(_idx(target), c).to(_t(pred).dtype)
    return F.kl_div(_log_probs(pred, logits), onehot, reduction="mean").item()


ORACLES: dict[str, Callable[[np.ndarray, np.ndarray, dict[str, Any], bool], float]] = {
    "torch.bce": _torch_bce,
    "torch.bce_clipped": _torch_bce_clipped,
    "sklearn.log_loss": _sk_log_loss,
    "torchvision.sigmoid_focal_loss": _torchvision_focal,
    "sklearn.hinge_loss": _sk_hinge,
    "torch.squared_hinge": _torch_squared_hinge,
    "sklearn.brier_score_loss": _sk_brier,
    "torch.cross_entropy": _torch_ce,
    "torch.focal_multiclass": _torch_focal_mc,
    "sklearn.hinge_loss_multiclass": _sk_multi_hinge,
    "sklearn.brier_score_loss_multiclass": _sk_brier_mc,
    "torch.kl_div": _torch_kl_mc,
    "torch.kl_div_mean": _torch_kl_mean,
    "torch.multi_margin": _torch_multi_margin,
    "torch.bce_weighted": _torch_bce_weighted,
}


def case_arrays(case: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The (pred, target) arrays of a fixture case, in the dtypes the data layer hands over."""
    pred = np.asarray(case["pred"], dtype=np.float64)
    tdtype = np.int64 if case["task"] == "multiclass" else np.float64
    return pred, np.asarray(case["target"], dtype=tdtype)


def oracle_value(case: dict[str, Any]) -> float:
    """Recompute a case's reference value with torch / scikit-learn."""
    import torch

    torch.set_default_dtype(torch.float64)
    pred, target = case_arrays(case)
    return float(ORACLES[case["oracle"]](pred, target, case["params"], case["from_logits"]))


# --------------------------------------------------------------------------- inputs


def _probs(rng: np.random.Generator, shape: tuple[int, ...], edges: bool = False) -> np.ndarray:
    p = rng.uniform(0.001, 0.999, size=shape)
    if edges:
        flat = p.reshape(-1)
        k = min(flat.size, 6)
        flat[:k] = [0.0, 1.0, 0.0, 1.0, 1e-60, 1.0 - 1e-15][:k]
    return p


def _labels(rng: np.random.Generator, shape: tuple[int, ...], edges: bool = False) -> np.ndarray:
    y = (rng.uniform(size=shape) < 0.4).astype(np.float64)
    if edges:
        flat = y.reshape(-1)
        k = min(flat.size, 6)
        flat[:k] = [1.0, 0.0, 0.0, 1.0, 1.0, 0.0][:k]
    return y


def _soft(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.uniform(0.0, 1.0, size=shape)


def _logits(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 3.0) -> np.ndarray:
    return rng.normal(0.0, scale, size=shape)


def _simplex(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    z = rng.normal(0.0, 1.5, size=(n, c))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _case(
    loss: str,
    task: str,
    oracle: str,
    pred: np.ndarray,
    target: np.ndarray,
    *,
    logits: bool,
    params: dict[str, Any] | None = None,
    tag: str = "",
) -> dict[str, Any]:
    params = dict(params or {})
    kind = "logits" if logits else "probs"
    shape = "x".join(str(d) for d in pred.shape)
    ptxt = ",".join(f"{k}={v}" for k, v in params.items())
    cid = "/".join(x for x in (loss, task, kind, shape, ptxt, tag) if x)
    return {
        "id": cid,
        "loss": loss,
        "task": task,
        "from_logits": logits,
        "params": params,
        "oracle": oracle,
        "pred": pred.tolist(),
        "target": target.tolist(),
    }


def make_cases() -> list[dict[str, Any]]:
    """Every fixture case, without the expected values (deterministic, seeded)."""
    rng = np.random.default_rng(20240613)
    cases: list[dict[str, Any]] = []
    add = cases.append

    # ---- bce, binary
    for n in (1, 17, 200):
        y = _labels(rng, (n,), edges=n > 1)
        add(_case("bce", "binary", "torch.bce", _probs(rng, (n,)), y, logits=False))
        add(_case("bce", "binary", "torch.bce", _logits(rng, (n,)), y, logits=True))
    y = _labels(rng, (64,), edges=True)
    add(
        _case(
            "bce",
            "binary",
            "torch.bce",
            _probs(rng, (64,), edges=True),
            y,
            logits=False,
            tag="edges",
        )
    )
    p = _probs(rng, (64,), edges=True)
    add(
        _case(
            "bce",
            "binary",
            "torch.bce",
            p,
            y,
            logits=False,
            params={"pos_weight": 2.5},
            tag="edges",
        )
    )
    add(
        _case(
            "bce",
            "binary",
            "torch.bce",
            p,
            y,
            logits=False,
            params={"label_smoothing": 0.1},
            tag="edges",
        )
    )
    add(
        _case(
            "bce",
            "binary",
            "sklearn.log_loss",
            p,
            y,
            logits=False,
            params={"eps": SK_EPS},
            tag="edges",
        )
    )
    add(
        _case(
            "bce",
            "binary",
            "torch.bce_clipped",
            p,
            y,
            logits=False,
            params={"eps": 1e-7},
            tag="edges",
        )
    )
    ys = _soft(rng, (50,))
    add(_case("bce", "binary", "torch.bce", _probs(rng, (50,)), ys, logits=False, tag="soft"))
    add(
        _case(
            "bce",
            "binary",
            "torch.bce",
            _logits(rng, (50,)),
            ys,
            logits=True,
            params={"pos_weight": 0.5},
            tag="soft",
        )
    )
    z = _logits(rng, (80,))
    y = _labels(rng, (80,))
    add(_case("bce", "binary", "torch.bce", z, y, logits=True, params={"pos_weight": 3.0}))
    add(_case("bce", "binary", "torch.bce", z, y, logits=True, params={"label_smoothing": 0.2}))
    add(
        _case(
            "bce",
            "binary",
            "torch.bce",
            z,
            y,
            logits=True,
            params={"pos_weight": 2.0, "label_smoothing": 0.05},
        )
    )
    zx = np.array([1000.0, -1000.0, 1000.0, -1000.0, 50.0, -50.0, 36.8, -36.8, 0.0, 1e-12])
    yx = np.array([0.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
    add(_case("bce", "binary", "torch.bce", zx, yx, logits=True, tag="extreme"))
    add(
        _case(
            "bce",
            "binary",
            "torch.bce",
            zx,
            yx,
            logits=True,
            params={"pos_weight": 4.0},
            tag="extreme",
        )
    )
    # ---- bce, multilabel
    for n, L in ((9, 4), (120, 3)):
        y = _labels(rng, (n, L))
        add(_case("bce", "multilabel", "torch.bce", _probs(rng, (n, L)), y, logits=False))
        add(_case("bce", "multilabel", "torch.bce", _logits(rng, (n, L)), y, logits=True))
        add(
            _case(
                "bce",
                "multilabel",
                "torch.bce",
                _logits(rng, (n, L)),
                y,
                logits=True,
                params={"pos_weight": 2.0},
            )
        )

    # ---- focal, binary and multilabel
    for n in (1, 25, 200):
        y = _labels(rng, (n,), edges=n > 1)
        z = _logits(rng, (n,))
        add(_case("focal", "binary", "torchvision.sigmoid_focal_loss", z, y, logits=True))
        add(
            _case(
                "focal",
                "binary",
                "torchvision.sigmoid_focal_loss",
                _probs(rng, (n,)),
                y,
                logits=False,
            )
        )
    z = _logits(rng, (60,), scale=6.0)
    y = _labels(rng, (60,))
    for prm in (
        {"alpha": -1.0, "gamma": 0.5},
        {"alpha": 0.75, "gamma": 0.0},
        {"alpha": 0.5, "gamma": 3.0},
    ):
        add(
            _case(
                "focal", "binary", "torchvision.sigmoid_focal_loss", z, y, logits=True, params=prm
            )
        )
    add(
        _case(
            "focal", "binary", "torchvision.sigmoid_focal_loss", zx, yx, logits=True, tag="extreme"
        )
    )
    add(
        _case(
            "focal",
            "binary",
            "torchvision.sigmoid_focal_loss",
            _probs(rng, (64,), edges=True),
            _labels(rng, (64,), edges=True),
            logits=False,
            tag="edges",
        )
    )
    add(
        _case(
            "focal",
            "binary",
            "torchvision.sigmoid_focal_loss",
            _logits(rng, (40,)),
            _soft(rng, (40,)),
            logits=True,
            tag="soft",
        )
    )
    y = _labels(rng, (30, 5))
    add(
        _case(
            "focal",
            "multilabel",
            "torchvision.sigmoid_focal_loss",
            _logits(rng, (30, 5)),
            y,
            logits=True,
        )
    )
    add(
        _case(
            "focal",
            "multilabel",
            "torchvision.sigmoid_focal_loss",
            _probs(rng, (30, 5)),
            y,
            logits=False,
            params={"alpha": 0.4, "gamma": 1.5},
        )
    )

    # ---- hinge, squared_hinge, brier (binary)
    for n in (1, 33, 250):
        y = _labels(rng, (n,))
        if n == 1:
            y[:] = 0.0
        z = _logits(rng, (n,), scale=1.5)
        p = _probs(rng, (n,))
        add(_case("hinge", "binary", "sklearn.hinge_loss", z, y, logits=True))
        add(_case("hinge", "binary", "sklearn.hinge_loss", p, y, logits=False))
        add(_case("squared_hinge", "binary", "torch.squared_hinge", z, y, logits=True))
        add(_case("squared_hinge", "binary", "torch.squared_hinge", p, y, logits=False))
        add(_case("brier", "binary", "sklearn.brier_score_loss", p, y, logits=False))
        add(_case("brier", "binary", "sklearn.brier_score_loss", z, y, logits=True))
    add(_case("hinge", "binary", "sklearn.hinge_loss", z, y, logits=True, params={"margin": 2.0}))
    add(_case("hinge", "binary", "sklearn.hinge_loss", p, y, logits=False, params={"margin": 0.5}))

    # ---- multiclass
    for n, c in ((1, 3), (13, 2), (40, 5), (100, 7)):
        z = _logits(rng, (n, c), scale=2.0)
        P = _simplex(rng, n, c)
        y = rng.integers(0, c, size=n)
        add(_case("cross_entropy", "multiclass", "torch.cross_entropy", z, y, logits=True))
        add(_case("cross_entropy", "multiclass", "torch.cross_entropy", P, y, logits=False))
        add(_case("focal", "multiclass", "torch.focal_multiclass", z, y, logits=True))
        add(_case("focal", "multiclass", "torch.focal_multiclass", P, y, logits=False))
        add(_case("multi_hinge", "multiclass", "sklearn.hinge_loss_multiclass", z, y, logits=True))
        add(_case("multi_hinge", "multiclass", "sklearn.hinge_loss_multiclass", P, y, logits=False))
        add(_case("brier", "multiclass", "sklearn.brier_score_loss_multiclass", P, y, logits=False))
        add(_case("brier", "multiclass", "sklearn.brier_score_loss_multiclass", z, y, logits=True))
        add(_case("kl_div", "multiclass", "torch.kl_div", z, y, logits=True))
        add(_case("kl_div", "multiclass", "torch.kl_div", P, y, logits=False))

    n, c = 90, 4
    z = _logits(rng, (n, c), scale=2.5)
    P = _simplex(rng, n, c)
    y = rng.integers(0, c, size=n)
    y[:5] = 2  # make class 2 frequent, so balanced weights differ from 1
    w = [0.5, 2.0, 1.0, 3.0]
    for prm in (
        {"label_smoothing": 0.1},
        {"weight": w},
        {"weight": w, "label_smoothing": 0.2},
        {"weight": "balanced"},
        {"weight": "balanced", "label_smoothing": 0.1},
        {"ignore_index": 2},
        {"ignore_index": 1, "weight": w, "label_smoothing": 0.3},
        {"ignore_index": 0, "weight": "balanced", "label_smoothing": 0.15},
    ):
        add(
            _case(
                "cross_entropy", "multiclass", "torch.cross_entropy", z, y, logits=True, params=prm
            )
        )
        add(
            _case(
                "cross_entropy", "multiclass", "torch.cross_entropy", P, y, logits=False, params=prm
            )
        )
    y_ign = y.copy()
    y_ign[::7] = -100
    add(
        _case(
            "cross_entropy",
            "multiclass",
            "torch.cross_entropy",
            z,
            y_ign,
            logits=True,
            params={"ignore_index": -100, "weight": w, "label_smoothing": 0.1},
            tag="neg_ignore",
        )
    )
    add(
        _case(
            "cross_entropy",
            "multiclass",
            "torch.cross_entropy",
            z * 400.0,
            y,
            logits=True,
            tag="extreme",
        )
    )
    add(
        _case(
            "cross_entropy",
            "multiclass",
            "torch.cross_entropy",
            z * 400.0,
            y,
            logits=True,
            params={"label_smoothing": 0.1},
            tag="extreme",
        )
    )
    for prm in (
        {"alpha": [0.1, 0.2, 0.3, 0.4]},
        {"alpha": 1.0, "gamma": 0.0},
        {"alpha": 0.5, "gamma": 0.5},
    ):
        add(_case("focal", "multiclass", "torch.focal_multiclass", z, y, logits=True, params=prm))
        add(_case("focal", "multiclass", "torch.focal_multiclass", P, y, logits=False, params=prm))
    add(_case("kl_div", "multiclass", "torch.kl_div", z * 400.0, y, logits=True, tag="extreme"))
    cases += _convention_cases()
    return cases


def _convention_cases() -> list[dict[str, Any]]:
    """The parameters framework conventions brought (SPEC §10): torch MultiMarginLoss,
    BCELoss(weight) per label, KLDivLoss(reduction='mean'). Their own seed, so the cases
    above keep their inputs."""
    rng = np.random.default_rng(20261204)
    out: list[dict[str, Any]] = []
    for n, c in ((1, 3), (13, 2), (60, 5)):
        z = _logits(rng, (n, c), scale=2.0)
        P = _simplex(rng, n, c)
        y = rng.integers(0, c, size=n)
        out.append(_case("multi_margin", "multiclass", "torch.multi_margin", z, y, logits=True))
        out.append(_case("multi_margin", "multiclass", "torch.multi_margin", P, y, logits=False))
        out.append(
            _case(
                "kl_div",
                "multiclass",
                "torch.kl_div_mean",
                z,
                y,
                logits=True,
                params={"reduction": "mean"},
            )
        )
    n, c = 50, 4
    z = _logits(rng, (n, c), scale=2.0)
    y = rng.integers(0, c, size=n)
    for prm in (
        {"p": 2},
        {"margin": 0.5},
        {"weight": [0.5, 2.0, 1.0, 3.0]},
        {"p": 2, "margin": 2.0, "weight": [1.0, 0.0, 0.25, 4.0]},
    ):
        out.append(
            _case("multi_margin", "multiclass", "torch.multi_margin", z, y, logits=True, params=prm)
        )
    zl = _logits(rng, (30, 3), scale=2.0)
    pl = _probs(rng, (30, 3))
    yl = (rng.uniform(size=(30, 3)) < 0.4).astype(np.float64)
    for logits, pred in ((True, zl), (False, pl)):
        out.append(
            _case(
                "bce",
                "multilabel",
                "torch.bce_weighted",
                pred,
                yl,
                logits=logits,
                params={"weight": [0.5, 2.0, 1.5]},
            )
        )
    return out


def main() -> int:
    import sklearn
    import torch

    torch.set_default_dtype(torch.float64)
    cases = make_cases()
    for case in cases:
        value = oracle_value(case)
        if not math.isfinite(value):
            raise SystemExit(f"non-finite oracle value for {case['id']}")
        case["expected"] = value
    ids = [c["id"] for c in cases]
    dupes = {i for i in ids if ids.count(i) > 1}
    if dupes:
        raise SystemExit(f"duplicate case ids: {sorted(dupes)}")
    doc = {
        "schema_version": 1,
        "generator": "tests/oracle/gen_classification.py",
        "versions": {
            "torch": torch.__version__,
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "dtype": "float64",
        "cases": cases,
    }
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(json.dumps(doc, allow_nan=False) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {FIXTURE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
