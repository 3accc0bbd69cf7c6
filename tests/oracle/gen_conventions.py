"""Oracle fixture of the framework conventions (SPEC §10, ``--convention``).

Writes ``tests/fixtures/oracle_conventions.json``: seeded inputs, the parameters a
convention sets (or a user's ``--param`` on top), and the value the framework itself
computes, in float64:

* Keras 3.15.1 with ``KERAS_BACKEND=torch`` and ``floatx`` float64;
* scikit-learn 1.9 (``log_loss``, ``brier_score_loss``, ``mean_absolute_percentage_error``);
* torch 2.13.0 (``PoissonNLLLoss``, ``KLDivLoss``, ``TripletMarginLoss``,
  ``MultiMarginLoss``, ``BCELoss(weight)``);
* MONAI 1.6.1 (``DiceLoss`` options, ``GeneralizedDiceLoss``, ``FocalLoss``);
* pytorch-metric-learning 2.9.0 (``TripletMarginLoss``, ``ContrastiveLoss``).

Run ``KERAS_BACKEND=torch python tests/oracle/gen_conventions.py`` to regenerate; the
``oracle`` test stage recomputes every value live (tests/oracle/test_conventions_oracle.py).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "oracle_conventions.json"
SEED = 20261204
#: Tolerance of Keras values: float32 rounding of its per-sample means (see main()).
KERAS_RTOL = 1e-6


def _t(a: Any) -> Any:
    import torch

    return torch.as_tensor(np.asarray(a, dtype=np.float64))


def _keras() -> Any:
    import keras

    keras.config.set_floatx("float64")
    return keras


def _num(x: Any) -> float:
    return float(np.asarray(x.detach() if hasattr(x, "detach") else x, dtype=np.float64))


# --------------------------------------------------------------------------- oracles


def keras_loss(case: dict[str, Any]) -> float:
    """``keras.losses.<cls>(**kwargs)(y_true, y_pred, sample_weight)``."""
    keras = _keras()
    cls = getattr(keras.losses, case["ref"]["cls"])
    # reduction=None keeps Keras' per-sample values in float64 (its reduced scalar comes
    # back in float32 on the torch backend); the mean below is its "sum_over_batch_size":
    # Σ w·l over the N per-sample values, divided by N.
    fn = cls(**case["ref"].get("kwargs", {}), dtype="float64", reduction=None)
    y = np.asarray(case["target"], dtype=np.float64)
    if case["ref"].get("sparse"):
        y = np.asarray(case["target"], dtype=np.int64)
    p = np.asarray(case["pred"], dtype=np.float64)
    if case["ref"].get("onehot"):
        y = np.eye(p.shape[1])[np.asarray(case["target"], dtype=np.int64)]
    sw = case.get("sample_weight")
    if case["ref"].get("expand"):  # one column per row: Keras means over the last axis
        y, p = y[:, None], p[:, None]
    out = fn(y, p, sample_weight=None if sw is None else np.asarray(sw, dtype=np.float64))
    values = np.asarray(out.detach().cpu().numpy(), dtype=np.float64)
    return float(values.sum() / values.size)


def sklearn_metric(case: dict[str, Any]) -> float:
    import sklearn.metrics as m

    fn = getattr(m, case["ref"]["fn"])
    y = np.asarray(case["target"])
    p = np.asarray(case["pred"], dtype=np.float64)
    return float(fn(y, p, **case["ref"].get("kwargs", {})))


def torch_module(case: dict[str, Any]) -> float:
    import torch

    torch.set_default_dtype(torch.float64)
    kwargs = dict(case["ref"].get("kwargs", {}))
    if "weight" in kwargs:
        kwargs["weight"] = _t(kwargs["weight"])
    mod = getattr(torch.nn, case["ref"]["cls"])(**kwargs)
    p = _t(case["pred"])
    if case["ref"].get("split3"):
        a, pos, n = np.split(np.asarray(case["pred"], dtype=np.float64), 3, axis=1)
        return _num(mod(_t(a), _t(pos), _t(n)))
    if case["ref"].get("log_pred"):
        p = torch.log(p)
    if case["ref"].get("sparse"):
        y = torch.as_tensor(np.asarray(case["target"], dtype=np.int64))
    else:
        y = _t(case["target"])
    return _num(mod(p, y))


def monai_loss(case: dict[str, Any]) -> float:
    import monai.losses as ml
    import torch

    torch.set_default_dtype(torch.float64)
    kwargs = dict(case["ref"].get("kwargs", {}))
    if "weight" in kwargs:
        kwargs["weight"] = _t(kwargs["weight"])
    mod = getattr(ml, case["ref"]["cls"])(**kwargs)
    return _num(mod(_t(case["pred"]), _t(case["target"])))


def torch_function(case: dict[str, Any]) -> float:
    """``torch.nn.functional.<fn>(pred, target, **kwargs)``."""
    import torch
    import torch.nn.functional as F

    torch.set_default_dtype(torch.float64)
    kwargs = dict(case["ref"].get("kwargs", {}))
    if "weight" in kwargs:
        kwargs["weight"] = _t(kwargs["weight"])
    return _num(getattr(F, case["ref"]["fn"])(_t(case["pred"]), _t(case["target"]), **kwargs))


def pml_loss(case: dict[str, Any]) -> float:
    """pytorch-metric-learning ``losses.<cls>(**kwargs)(embeddings, labels)`` with its
    default reducer (AvgNonZeroReducer) unless ``reducer`` is ``mean`` (MeanReducer)."""
    import torch
    from pytorch_metric_learning import distances, losses, reducers

    torch.set_default_dtype(torch.float64)
    ref = case["ref"]
    kw = dict(ref.get("kwargs", {}))
    kw["distance"] = distances.LpDistance(normalize_embeddings=ref.get("normalize", True))
    if ref.get("reducer") == "mean":
        kw["reducer"] = reducers.MeanReducer()
    fn = getattr(losses, ref["cls"])(**kw)
    labels = torch.as_tensor(np.asarray(case["target"], dtype=np.int64))
    return _num(fn(_t(case["pred"]), labels))


ORACLES: dict[str, Callable[[dict[str, Any]], float]] = {
    "torch.functional": torch_function,
    "pml": pml_loss,
    "keras": keras_loss,
    "sklearn": sklearn_metric,
    "torch": torch_module,
    "monai": monai_loss,
}


def oracle_value(case: dict[str, Any]) -> float:
    """Recompute a case's reference value with the framework named by ``case["oracle"]``."""
    return ORACLES[case["oracle"]](case)


# --------------------------------------------------------------------------- cases


def _case(
    cid: str,
    loss: str,
    task: str,
    convention: str,
    oracle: str,
    ref: dict[str, Any],
    pred: np.ndarray,
    target: np.ndarray,
    *,
    params: dict[str, Any] | None = None,
    logits: bool | None = None,
    sample_weight: np.ndarray | None = None,
    source: str = "",
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": cid,
        "loss": loss,
        "task": task,
        "convention": convention,
        "params": params or {},
        "oracle": oracle,
        "ref": ref,
        "pred": np.asarray(pred).tolist(),
        "target": np.asarray(target).tolist(),
    }
    if logits is not None:
        out["from_logits"] = logits
    if sample_weight is not None:
        out["sample_weight"] = np.asarray(sample_weight).tolist()
    if source:
        out["source"] = source
    return out


def make_cases() -> list[dict[str, Any]]:
    rng = np.random.default_rng(SEED)
    cases: list[dict[str, Any]] = []
    add = cases.append

    # ---- binary, Keras: eps 1e-7 clip, focal without class balancing, sample weights / N
    n = 40
    p = rng.uniform(0.0, 1.0, n)
    p[:3] = [0.0, 1.0, 1e-9]
    y = (rng.uniform(size=n) < 0.4).astype(np.float64)
    y[:3] = [1.0, 0.0, 1.0]
    z = rng.normal(0.0, 2.0, n)
    sw = rng.uniform(0.0, 3.0, n)
    kb = {"cls": "BinaryCrossentropy", "expand": True}
    add(_case("bce/keras/probs", "bce", "binary", "keras", "keras", kb, p, y, logits=False))
    add(
        _case(
            "bce/keras/logits",
            "bce",
            "binary",
            "keras",
            "keras",
            {**kb, "kwargs": {"from_logits": True}},
            z,
            y,
            logits=True,
        )
    )
    add(
        _case(
            "bce/keras/probs/label_smoothing=0.1",
            "bce",
            "binary",
            "keras",
            "keras",
            {**kb, "kwargs": {"label_smoothing": 0.1}},
            p,
            y,
            params={"label_smoothing": 0.1},
            logits=False,
        )
    )
    add(
        _case(
            "bce/keras/probs/sample_weight",
            "bce",
            "binary",
            "keras",
            "keras",
            kb,
            p,
            y,
            logits=False,
            sample_weight=sw,
            source="keras: Loss reduction 'sum_over_batch_size' divides Σ w·l by N",
        )
    )
    for cls, nm in (("Hinge", "hinge"), ("SquaredHinge", "squared_hinge")):
        add(
            _case(
                f"{nm}/keras/probs",
                nm,
                "binary",
                "keras",
                "keras",
                {"cls": cls, "expand": True},
                p,
                y,
                logits=False,
            )
        )
        kf = {"cls": "BinaryFocalCrossentropy", "expand": True}
    add(_case("focal/keras/probs", "focal", "binary", "keras", "keras", kf, p, y, logits=False))
    add(
        _case(
            "focal/keras/logits/ls=0.1,gamma=1",
            "focal",
            "binary",
            "keras",
            "keras",
            {**kf, "kwargs": {"from_logits": True, "label_smoothing": 0.1, "gamma": 1.0}},
            z,
            y,
            params={"label_smoothing": 0.1, "gamma": 1.0},
            logits=True,
        )
    )
    add(
        _case(
            "focal/keras/probs/balanced",
            "focal",
            "binary",
            "keras",
            "keras",
            {**kf, "kwargs": {"apply_class_balancing": True, "alpha": 0.3}},
            p,
            y,
            params={"alpha": 0.3},
            logits=False,
        )
    )
    # ---- binary, scikit-learn: log_loss clips at float64 eps; brier
    add(
        _case(
            "bce/sklearn/probs",
            "bce",
            "binary",
            "sklearn",
            "sklearn",
            {"fn": "log_loss", "kwargs": {"labels": [0, 1]}},
            p,
            y.astype(np.int64),
            logits=False,
        )
    )
    add(
        _case(
            "brier/sklearn/probs",
            "brier",
            "binary",
            "sklearn",
            "sklearn",
            {"fn": "brier_score_loss"},
            p,
            y.astype(np.int64),
            logits=False,
        )
    )

    # ---- multiclass
    n, c = 30, 4
    P = rng.dirichlet(np.ones(c), size=n)
    P[0] = [0.0, 1.0, 0.0, 0.0]
    P[1] *= 1.2  # a row that does not sum to 1: Keras renormalises it
    yc = rng.integers(0, c, size=n)
    yc[0] = 0
    zc = rng.normal(0.0, 2.0, size=(n, c))
    add(
        _case(
            "cross_entropy/keras/probs",
            "cross_entropy",
            "multiclass",
            "keras",
            "keras",
            {"cls": "SparseCategoricalCrossentropy", "sparse": True},
            P,
            yc,
            logits=False,
        )
    )
    add(
        _case(
            "cross_entropy/keras/logits/ls=0.2",
            "cross_entropy",
            "multiclass",
            "keras",
            "keras",
            {
                "cls": "CategoricalCrossentropy",
                "onehot": True,
                "kwargs": {"from_logits": True, "label_smoothing": 0.2},
            },
            zc,
            yc,
            params={"label_smoothing": 0.2},
            logits=True,
        )
    )
    Ps = P / P.sum(axis=1, keepdims=True)
    for logits, pred in ((False, P), (True, zc)):
        add(
            _case(
                f"focal/keras/multiclass/{'logits' if logits else 'probs'}",
                "focal",
                "multiclass",
                "keras",
                "keras",
                {
                    "cls": "CategoricalFocalCrossentropy",
                    "onehot": True,
                    "kwargs": {"from_logits": logits},
                },
                pred,
                yc,
                logits=logits,
            )
        )
    add(
        _case(
            "cross_entropy/sklearn/probs",
            "cross_entropy",
            "multiclass",
            "sklearn",
            "sklearn",
            {"fn": "log_loss", "kwargs": {"labels": list(range(c))}},
            Ps,
            yc,
            logits=False,
        )
    )
    add(
        _case(
            "brier/sklearn/multiclass",
            "brier",
            "multiclass",
            "sklearn",
            "sklearn",
            {"fn": "brier_score_loss", "kwargs": {"labels": list(range(c))}},
            Ps,
            yc,
            logits=False,
        )
    )
    P2 = rng.dirichlet(np.ones(2), size=n)
    y2 = rng.integers(0, 2, size=n)
    y2[:2] = [0, 1]
    add(
        _case(
            "brier/sklearn/multiclass/2-columns",
            "brier",
            "multiclass",
            "sklearn",
            "sklearn",
            {"fn": "brier_score_loss", "kwargs": {"labels": [0, 1]}},
            P2,
            y2,
            logits=False,
        )
    )
    add(
        _case(
            "multi_margin/torch/p=2,margin=0.5,weight",
            "multi_margin",
            "multiclass",
            "torch",
            "torch",
            {
                "cls": "MultiMarginLoss",
                "sparse": True,
                "kwargs": {"p": 2, "margin": 0.5, "weight": [1.0, 2.0, 0.5, 0.0]},
            },
            zc,
            yc,
            params={"p": 2, "margin": 0.5, "weight": [1.0, 2.0, 0.5, 0.0]},
            logits=True,
        )
    )
    add(
        _case(
            "kl_div/torch/mean",
            "kl_div",
            "distribution",
            "torch",
            "torch",
            {"cls": "KLDivLoss", "log_pred": True, "kwargs": {"reduction": "mean"}},
            rng.dirichlet(np.ones(c), size=n),
            Ps,
            params={"reduction": "mean"},
        )
    )

    Pd = rng.dirichlet(np.ones(c), size=n)
    Pd[0] = [0.0, 1.0, 0.0, 0.0]
    add(
        _case(
            "kl_div/keras",
            "kl_div",
            "distribution",
            "keras",
            "keras",
            {"cls": "KLDivergence"},
            rng.dirichlet(np.ones(c), size=n),
            Pd,
        )
    )
    add(
        _case(
            "cross_entropy/distribution/torch/logits",
            "cross_entropy",
            "distribution",
            "torch",
            "torch.functional",
            {"fn": "cross_entropy"},
            zc,
            Ps,
            params={"input": "logits"},
            source="torch F.cross_entropy with class-probability targets",
        )
    )

    # ---- regression
    n = 25
    yr = rng.normal(0.0, 3.0, n)
    yr[:2] = [0.0, 1e-9]
    pr = yr + rng.normal(0.0, 1.0, n)
    add(
        _case(
            "mape/keras",
            "mape",
            "regression",
            "keras",
            "keras",
            {"cls": "MeanAbsolutePercentageError", "expand": True},
            pr,
            yr,
        )
    )
    add(
        _case(
            "mape/sklearn",
            "mape",
            "regression",
            "sklearn",
            "sklearn",
            {"fn": "mean_absolute_percentage_error"},
            pr,
            yr,
        )
    )
    yr2 = np.abs(yr)
    pr2 = yr2 + rng.normal(0.0, 1.0, n)
    pr2[:3] = [-0.5, -0.9, 0.0]  # Keras clips negatives to 1e-7
    add(
        _case(
            "msle/keras/negatives",
            "msle",
            "regression",
            "keras",
            "keras",
            {"cls": "MeanSquaredLogarithmicError", "expand": True},
            pr2,
            yr2,
        )
    )
    counts = rng.poisson(3.0, n).astype(np.float64)
    counts[:2] = [0.0, 7.0]
    rates = rng.uniform(0.0, 6.0, n)
    add(
        _case(
            "poisson_nll/keras",
            "poisson_nll",
            "regression",
            "keras",
            "keras",
            {"cls": "Poisson", "expand": True},
            rates,
            counts,
        )
    )
    add(
        _case(
            "poisson_nll/torch/log_input,full",
            "poisson_nll",
            "regression",
            "torch",
            "torch",
            {"cls": "PoissonNLLLoss", "kwargs": {"log_input": True, "full": True}},
            np.log(rates + 0.1) - 0.5,
            counts,
            params={"log_input": True, "full": True},
        )
    )
    add(
        _case(
            "mse/keras/sample_weight",
            "mse",
            "regression",
            "keras",
            "keras",
            {"cls": "MeanSquaredError", "expand": True},
            pr,
            yr,
            sample_weight=rng.uniform(0.0, 2.0, n),
        )
    )

    ym = rng.uniform(0.5, 3.0, (30, 3))
    pm = ym + rng.normal(0.0, 0.4, ym.shape)
    for nm, fn in (
        ("mse", "mean_squared_error"),
        ("mae", "mean_absolute_error"),
        ("mape", "mean_absolute_percentage_error"),
        ("msle", "mean_squared_log_error"),
        ("pinball", "mean_pinball_loss"),
    ):
        add(
            _case(
                f"{nm}/sklearn/multioutput-weights",
                nm,
                "regression",
                "sklearn",
                "sklearn",
                {"fn": fn, "kwargs": {"multioutput": [0.2, 1.0, 3.0]}},
                pm,
                ym,
                params={"output_weights": [0.2, 1.0, 3.0]},
                source="scikit-learn multioutput=array-like (sklearn/metrics/_regression.py)",
            )
        )

    # ---- embedding: torch triplet swap and p
    a = rng.normal(size=(12, 3))
    trip = np.concatenate([a, a + rng.normal(0, 0.5, a.shape), rng.normal(size=a.shape)], axis=1)
    for prm in ({"swap": True}, {"p": 1.0}, {"p": 3.0, "swap": True, "margin": 0.5}):
        kw = {
            "swap": prm.get("swap", False),
            "p": prm.get("p", 2.0),
            "margin": prm.get("margin", 1.0),
        }
        add(
            _case(
                "triplet/torch/" + ",".join(f"{k}={v}" for k, v in prm.items()),
                "triplet",
                "embedding",
                "torch",
                "torch",
                {"cls": "TripletMarginLoss", "split3": True, "kwargs": kw},
                trip,
                np.zeros(12),
                params={**prm, "layout": "triplets"},
            )
        )

    # ---- embedding: pytorch-metric-learning (labels, all triplets / all pairs)
    emb = rng.normal(size=(24, 5))
    lab = rng.integers(0, 4, 24)
    for cid, prm, ref in (
        (
            "triplet/pml/default",
            {
                "mining": "all",
                "margin": 0.05,
                "eps": 0.0,
                "normalize": True,
                "reducer": "avg_nonzero",
            },
            {"cls": "TripletMarginLoss"},
        ),
        (
            "triplet/pml/margin=0.5,unnormalized,mean",
            {"mining": "all", "margin": 0.5, "eps": 0.0, "reducer": "mean"},
            {
                "cls": "TripletMarginLoss",
                "kwargs": {"margin": 0.5},
                "normalize": False,
                "reducer": "mean",
            },
        ),
        (
            "contrastive/pml/default",
            {"form": "pml", "normalize": True, "reducer": "avg_nonzero"},
            {"cls": "ContrastiveLoss"},
        ),
        (
            "contrastive/pml/margins,unnormalized,mean",
            {"form": "pml", "pos_margin": 0.5, "margin": 3.0, "reducer": "mean"},
            {
                "cls": "ContrastiveLoss",
                "kwargs": {"pos_margin": 0.5, "neg_margin": 3.0},
                "normalize": False,
                "reducer": "mean",
            },
        ),
    ):
        add(
            _case(
                cid,
                cid.split("/")[0],
                "embedding",
                "torch",
                "pml",
                ref,
                emb,
                lab,
                params=prm,
                source="pytorch-metric-learning TripletMarginLoss / ContrastiveLoss defaults",
            )
        )
    sep = np.repeat(np.eye(3) * 10.0, 4, axis=0)  # well separated: no positive triplet loss
    add(
        _case(
            "triplet/pml/no-positive-loss-is-0",
            "triplet",
            "embedding",
            "torch",
            "pml",
            {"cls": "TripletMarginLoss"},
            sep + rng.normal(0, 0.01, sep.shape),
            np.repeat(np.arange(3), 4),
            params={
                "mining": "all",
                "margin": 0.05,
                "eps": 0.0,
                "normalize": True,
                "reducer": "avg_nonzero",
            },
        )
    )

    # ---- segmentation, MONAI
    def masks(n: int, c: int, pix: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        tgt = (rng.uniform(size=(n, c, pix)) < rng.uniform(0.1, 0.5, (n, c, 1))).astype(float)
        tgt[0, -1] = 0.0  # one empty class in the first image
        prob = np.clip(tgt * 0.6 + rng.uniform(0, 0.4, tgt.shape), 0.0, 1.0)
        logit = rng.normal(0.0, 2.0, tgt.shape) + 2.0 * (tgt - 0.5)
        return prob, logit, tgt

    prob, logit, tgt = masks(4, 3, 20)
    onehot3 = np.eye(3)[rng.integers(0, 3, (4, 20))].transpose(0, 2, 1)  # (n, C, P)
    add(
        _case(
            "dice/monai/default",
            "dice",
            "segmentation",
            "monai",
            "monai",
            {"cls": "DiceLoss"},
            prob,
            tgt,
            logits=False,
            source="MONAI tests/losses/test_dice_loss.py (DiceLoss defaults, smooth 1e-5)",
        )
    )
    for cid, prm, kw, lg in (
        (
            "nr!=dr,no-background,squared",
            {
                "smooth_nr": 0.0,
                "smooth_dr": 1e-6,
                "include_background": False,
                "squared_pred": True,
            },
            {
                "smooth_nr": 0.0,
                "smooth_dr": 1e-6,
                "include_background": False,
                "squared_pred": True,
            },
            False,
        ),
        (
            "softmax,weight",
            {"activation": "softmax", "weight": [0.5, 1.0, 2.0]},
            {"softmax": True, "weight": [0.5, 1.0, 2.0]},
            True,
        ),
        ("sigmoid", {}, {"sigmoid": True}, True),
    ):
        add(
            _case(
                f"dice/monai/{cid}",
                "dice",
                "segmentation",
                "monai",
                "monai",
                {"cls": "DiceLoss", "kwargs": kw},
                logit if lg else prob,
                tgt,
                params=prm,
                logits=lg,
            )
        )
    add(
        _case(
            "tversky/monai/a0.3,b0.7,nr!=dr,no-background,softmax",
            "tversky",
            "segmentation",
            "monai",
            "monai",
            {
                "cls": "TverskyLoss",
                "kwargs": {
                    "alpha": 0.3,
                    "beta": 0.7,
                    "smooth_nr": 1e-3,
                    "smooth_dr": 1e-2,
                    "include_background": False,
                    "softmax": True,
                },
            },
            logit,
            tgt,
            params={
                "alpha": 0.3,
                "beta": 0.7,
                "smooth_nr": 1e-3,
                "smooth_dr": 1e-2,
                "include_background": False,
                "activation": "softmax",
            },
            logits=True,
        )
    )
    onehot = np.eye(3)[rng.integers(0, 3, (4, 20))].transpose(0, 2, 1)  # (n, C, P)
    for cid, prm in (("default", {}), ("weight", {"weight": [0.2, 1.0, 3.0]})):
        add(
            _case(
                f"cross_entropy/segmentation/torch/{cid}",
                "cross_entropy",
                "segmentation",
                "torch",
                "torch.functional",
                {"fn": "cross_entropy", "kwargs": prm},
                logit,
                onehot,
                params=prm,
                logits=True,
                source="MONAI DiceCELoss(softmax=True) CE term = F.cross_entropy(z, y)",
            )
        )
    soft = np.round(rng.uniform(size=tgt.shape), 2)
    add(
        _case(
            "dice/monai/soft_label",
            "dice",
            "segmentation",
            "monai",
            "monai",
            {"cls": "DiceLoss", "kwargs": {"soft_label": True}},
            prob,
            soft,
            params={"soft_label": True},
            logits=False,
        )
    )
    for cid, prm, kw, lg in (
        ("default", {}, {}, False),
        (
            "softmax,simple,no-background",
            {"activation": "softmax", "w_type": "simple", "include_background": False},
            {"softmax": True, "w_type": "simple", "include_background": False},
            True,
        ),
        ("uniform,sigmoid", {"w_type": "uniform"}, {"sigmoid": True, "w_type": "uniform"}, True),
    ):
        add(
            _case(
                f"generalized_dice/monai/{cid}",
                "generalized_dice",
                "segmentation",
                "monai",
                "monai",
                {"cls": "GeneralizedDiceLoss", "kwargs": kw},
                logit if lg else prob,
                tgt,
                params=prm,
                logits=lg,
                source="MONAI tests/losses/test_generalized_dice_loss.py (GeneralizedDiceLoss)",
            )
        )
    for cid, prm, kw in (
        ("softmax", {"activation": "softmax"}, {"use_softmax": True}),
        (
            "softmax,alpha=0.3,gamma=1",
            {"activation": "softmax", "alpha": 0.3, "gamma": 1.0},
            {"use_softmax": True, "alpha": 0.3, "gamma": 1.0},
        ),
    ):
        add(
            _case(
                f"focal/monai/{cid}",
                "focal",
                "segmentation",
                "monai",
                "monai",
                {"cls": "FocalLoss", "kwargs": kw},
                logit,
                onehot3,
                params=prm,
                logits=True,
                source="MONAI tests/losses/test_focal_loss.py (use_softmax=True)",
            )
        )
    add(
        _case(
            "focal/monai/sigmoid",
            "focal",
            "segmentation",
            "monai",
            "monai",
            {"cls": "FocalLoss", "kwargs": {"gamma": 2.0}},
            logit,
            tgt,
            logits=True,
        )
    )
    return cases


def main() -> int:
    import keras
    import monai
    import pytorch_metric_learning
    import sklearn
    import torch

    cases = make_cases()
    for case in cases:
        case["expected"] = oracle_value(case)
        if case["ref"].get("cls") == "FocalLoss":
            # MONAI 1.6.1 FocalLoss.forward casts input and target with .float() (float32)
            case["rtol"] = KERAS_RTOL
        if case["ref"].get("cls") == "GeneralizedDiceLoss":
            # MONAI 1.6.1 GeneralizedDiceLoss computes its class weights from
            # ground_o.float() (float32)
            case["rtol"] = KERAS_RTOL
        if case["oracle"] == "keras":
            # Keras 3.15.1 on the torch backend averages the last axis with ops.mean, which
            # computes in float32 (backend/torch/numpy.py: result_type(x.dtype, "float32"))
            # even for float64 inputs: its per-sample values carry float32 rounding.
            case["rtol"] = KERAS_RTOL
    doc = {
        "schema_version": 1,
        "generator": "tests/oracle/gen_conventions.py",
        "versions": {
            "keras": keras.__version__,
            "monai": monai.__version__,
            "pytorch-metric-learning": pytorch_metric_learning.__version__,
            "scikit-learn": sklearn.__version__,
            "torch": torch.__version__,
        },
        "dtype": "float64",
        "cases": cases,
    }
    FIXTURE.write_text(json.dumps(doc, allow_nan=False) + "\n", encoding="utf-8")
    print(f"wrote {len(cases)} cases to {FIXTURE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
