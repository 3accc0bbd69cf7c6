"""Gradient oracle cases: inputs the way people make them (small scikit-learn models on
its bundled datasets) and the edge cases of each convention, with the torch expression
whose ``backward()`` each case is checked against (float64).

``cases()`` needs scikit-learn; ``torch_value_and_grad`` needs torch. The committed
fixture ``tests/fixtures/oracle_analysis.json`` (written by
``tests/oracle/gen_analysis.py``) holds the inputs and torch's answers for the fast suite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

N = 48  # rows per case: small fixture, every branch reached


def _real_inputs() -> dict[str, Any]:
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.preprocessing import StandardScaler

    X, y = load_diabetes(return_X_y=True)
    reg = Ridge(alpha=1.0).fit(X[:300], y[:300])
    pr, yr = reg.predict(X[300 : 300 + N]), y[300 : 300 + N]
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    clf = LogisticRegression(C=0.05, max_iter=500).fit(X[:400], y[:400])
    xb, yb = clf.decision_function(X[400 : 400 + N]), y[400 : 400 + N]
    X, y = load_iris(return_X_y=True)
    idx = np.random.default_rng(0).permutation(len(y))
    X, y = X[idx], y[idx]
    mc = LogisticRegression(C=0.3, max_iter=500).fit(X[:100], y[:100])
    zm, ym = mc.decision_function(X[100 : 100 + N]), y[100 : 100 + N]
    return {"reg": (pr, yr), "bin": (xb, yb), "mc": (zm, ym)}


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cases() -> list[dict[str, Any]]:
    """Every case: id, loss, task, params, logits flag, pred, target, sample weight."""
    real = _real_inputs()
    rng = np.random.default_rng(7)
    pr, yr = real["reg"]
    xb, yb = real["bin"]
    zm, ym = real["mc"]
    pb = _sigmoid(xb)
    pm = _softmax(zm)
    sw = rng.uniform(0.2, 3.0, N)
    tie = pr.copy()
    tie[:6] = yr[:6]  # e = 0: torch's conventions at the kink
    rate = np.abs(pr) / 50.0
    counts = np.round(np.abs(yr) / 50.0)
    pb_edge = pb.copy()
    pb_edge[:4] = [0.0, 1.0, 0.0, 1.0]  # p in {0, 1}: through max(p(1-p), 1e-12)
    pm_edge = pm.copy()
    pm_edge[0] = [0.0, 1.0, 0.0]
    multi_x = rng.normal(0, 2, (N, 3))
    multi_y = (rng.uniform(size=(N, 3)) < 0.4).astype(float)
    out: list[dict[str, Any]] = []

    def add(
        cid,
        loss,
        task,
        pred,
        target,
        params=None,
        logits=None,
        weight=None,
        layout=None,
        ctx=None,
        reduction="mean",
    ):
        out.append(
            {
                "reduction": reduction,
                "layout": layout,
                "context": ctx or {},
                "id": cid,
                "loss": loss,
                "task": task,
                "params": params or {},
                "logits": logits,
                "pred": np.asarray(pred, dtype=float),
                "target": None if target is None else np.asarray(target),
                "weight": None if weight is None else np.asarray(weight, dtype=float),
            }
        )

    for loss, params in [
        ("mse", {}),
        ("rmse", {}),
        ("mae", {}),
        ("huber", {"delta": 20.0}),
        ("smooth_l1", {"beta": 30.0}),
        ("smooth_l1", {"beta": 0.0}),
        ("log_cosh", {}),
        ("pinball", {"quantile": 0.8}),
        ("mape", {}),
    ]:
        tag = "_".join(f"{k}{v:g}" for k, v in params.items())
        add(f"{loss}{tag}_ridge", loss, "regression", tie, yr, params)
    add("mse_weighted", "mse", "regression", pr, yr, weight=sw)
    add("huber_weighted", "huber", "regression", pr, yr, {"delta": 30.0}, weight=sw)
    add("mse_2out", "mse", "regression", np.c_[pr, pr * 0.9], np.c_[yr, yr])
    add("msle", "msle", "regression", np.abs(pr), np.abs(yr))
    add("poisson_nll", "poisson_nll", "regression", rate, counts)
    # binary
    add("bce_logits", "bce", "binary", xb, yb, logits=True)
    add("bce_logits_pw", "bce", "binary", xb, yb, {"pos_weight": 3.0}, logits=True)
    add("bce_logits_ls", "bce", "binary", xb, yb, {"label_smoothing": 0.1}, logits=True)
    add("bce_probs", "bce", "binary", pb, yb, logits=False)
    add("bce_probs_edge", "bce", "binary", pb_edge, yb, logits=False)
    add("bce_probs_pw", "bce", "binary", pb, yb, {"pos_weight": 2.5}, logits=False)
    add("bce_probs_eps", "bce", "binary", pb_edge, yb, {"eps": 1e-7}, logits=False)
    add("bce_weighted", "bce", "binary", xb, yb, logits=True, weight=sw)
    add("focal_logits", "focal", "binary", xb, yb, logits=True)
    add("focal_probs", "focal", "binary", pb, yb, {"alpha": -1.0, "gamma": 1.5}, logits=False)
    add("hinge_logits", "hinge", "binary", xb, yb, {"margin": 2.0}, logits=True)
    add("hinge_probs", "hinge", "binary", pb, yb, logits=False)
    add("squared_hinge", "squared_hinge", "binary", xb, yb, logits=True)
    add("brier_probs", "brier", "binary", pb, yb, logits=False)
    add("brier_logits", "brier", "binary", xb, yb, logits=True)
    add("bce_multilabel", "bce", "multilabel", multi_x, multi_y, logits=True)
    # newer parameters (framework conventions)
    add("mape_pct_eps", "mape", "regression", tie, yr, {"eps": 1e-7, "percent": True})
    y0 = yr.copy()
    y0[6:9] = 0.0  # |y| below eps: divided by eps
    add("mape_eps_zero", "mape", "regression", pr, y0, {"eps": 1e-7})
    low = np.abs(pr) / 100.0 - 0.8  # some below the clip
    low[10] = 1e-7  # at the clip: torch.clamp passes the gradient
    add("msle_clip", "msle", "regression", low, np.abs(yr) / 100.0 - 0.5, {"clip": 1e-7})
    y2 = np.c_[yr, yr * 1.1]
    p2 = np.c_[tie, tie * 0.9]
    ow = {"output_weights": (1.0, 3.0)}
    add("mse_out_w", "mse", "regression", p2, y2, ow)
    # Keras' sum_over_batch_size: sample weights scale the terms, the mean divides by N
    keras = "sum_over_batch_size"
    add("mse_keras_w", "mse", "regression", pr, yr, weight=sw, reduction=keras)
    add("mape_keras_w", "mape", "regression", p2, y2, {"percent": True}, weight=sw, reduction=keras)
    add("mae_out_w", "mae", "regression", p2, y2, ow, weight=sw)
    add("pinball_out_w", "pinball", "regression", p2, y2, {"quantile": 0.3, **ow})
    add("msle_out_w", "msle", "regression", np.abs(p2), np.abs(y2), ow)
    add("mape_out_w", "mape", "regression", p2, y2, ow)
    add(
        "poisson_log_input",
        "poisson_nll",
        "regression",
        np.log(rate + 0.05),
        counts,
        {"log_input": True},
    )
    add(
        "poisson_log_full",
        "poisson_nll",
        "regression",
        np.log(rate + 0.05),
        counts,
        {"log_input": True, "full": True},
    )
    add("poisson_full", "poisson_nll", "regression", rate, counts, {"full": True})
    lw = {"weight": (1.0, 2.0, 0.5)}
    add("bce_label_w_logits", "bce", "multilabel", multi_x, multi_y, lw, logits=True)
    add("bce_label_w_probs", "bce", "multilabel", _sigmoid(multi_x), multi_y, lw, logits=False)
    add("bce_w_scalar", "bce", "binary", xb, yb, {"weight": 2.5}, logits=True)
    add("focal_ls_logits", "focal", "binary", xb, yb, {"label_smoothing": 0.1}, logits=True)
    add(
        "focal_eps_probs",
        "focal",
        "binary",
        pb_edge,
        yb,
        {"eps": 1e-7, "label_smoothing": 0.05},
        logits=False,
    )
    add("focal_eps_logits", "focal", "binary", xb * 8.0, yb, {"eps": 1e-7}, logits=True)
    add("hinge_raw", "hinge", "binary", pb, yb, {"scores": "raw"}, logits=False)
    add("squared_hinge_raw", "squared_hinge", "binary", pb, yb, {"scores": "raw"}, logits=False)
    add("focal_multilabel", "focal", "multilabel", multi_x, multi_y, logits=True)
    # multiclass
    add("ce_logits", "cross_entropy", "multiclass", zm, ym, logits=True)
    add("ce_probs_edge", "cross_entropy", "multiclass", pm_edge, ym, logits=False)
    add(
        "ce_ls_weight",
        "cross_entropy",
        "multiclass",
        zm,
        ym,
        {"label_smoothing": 0.1, "weight": (1.0, 2.0, 0.5)},
        logits=True,
    )
    add(
        "ce_probs_ls_weight",
        "cross_entropy",
        "multiclass",
        pm,
        ym,
        {"label_smoothing": 0.2, "weight": (0.5, 1.0, 3.0)},
        logits=False,
    )
    ign = ym.copy()
    ign[:5] = -100
    add("ce_ignore", "cross_entropy", "multiclass", zm, ign, {"ignore_index": -100}, logits=True)
    add("ce_balanced", "cross_entropy", "multiclass", zm, ym, {"weight": "balanced"}, logits=True)
    add("ce_weighted_rows", "cross_entropy", "multiclass", zm, ym, logits=True, weight=sw)
    add("focal_mc_logits", "focal", "multiclass", zm, ym, logits=True)
    add("focal_mc_eps_logits", "focal", "multiclass", zm * 6.0, ym, {"eps": 1e-7}, logits=True)
    add(
        "focal_mc_eps_normalize",
        "focal",
        "multiclass",
        pm_edge * rng.uniform(0.3, 0.95, (N, 1)),
        ym,
        {"eps": 1e-7, "normalize": True, "alpha": (0.2, 0.5, 0.3)},
        logits=False,
    )
    unnorm = pm_edge * rng.uniform(0.3, 0.95, (N, 1))  # rows that do not sum to 1
    add(
        "ce_probs_normalize_eps",
        "cross_entropy",
        "multiclass",
        unnorm,
        ym,
        {"eps": 1e-7, "normalize": True},
        logits=False,
    )
    add(
        "ce_probs_eps_ls_w",
        "cross_entropy",
        "multiclass",
        pm_edge,
        ym,
        {"eps": 1e-7, "label_smoothing": 0.1, "weight": (1.0, 2.0, 0.5)},
        logits=False,
    )
    add("brier_mc_half", "brier", "multiclass", pm, ym, {"scale_by_half": "true"}, logits=False)
    add(
        "brier_mc_half_logits",
        "brier",
        "multiclass",
        zm,
        ym,
        {"scale_by_half": "true"},
        logits=True,
    )
    add("kl_div_mc_mean", "kl_div", "multiclass", zm, ym, {"reduction": "mean"}, logits=True)
    add("multi_margin", "multi_margin", "multiclass", zm, ym, logits=True)
    add(
        "multi_margin_p2_w",
        "multi_margin",
        "multiclass",
        zm,
        ym,
        {"p": 2, "margin": 2.0, "weight": (1.0, 2.0, 0.5)},
        logits=True,
    )
    add("multi_margin_probs", "multi_margin", "multiclass", pm, ym, {"margin": 0.5}, logits=False)
    add(
        "focal_mc_probs",
        "focal",
        "multiclass",
        pm,
        ym,
        {"alpha": (0.2, 0.5, 0.3), "gamma": 2.0},
        logits=False,
    )
    add("multi_hinge", "multi_hinge", "multiclass", zm, ym, logits=True)
    add("brier_mc_probs", "brier", "multiclass", pm, ym, logits=False)
    add("brier_mc_logits", "brier", "multiclass", zm, ym, logits=True)
    add("kl_div_logits", "kl_div", "multiclass", zm, ym, logits=True)
    add("kl_div_probs", "kl_div", "multiclass", pm_edge, ym, logits=False)
    # segmentation: per image (and class) overlap losses on blob masks, 6 images 2×8×8
    seg_y = np.zeros((6, 2, 8, 8))
    for i in range(6):
        r, c = rng.integers(0, 5, 2)
        seg_y[i, 0, r : r + 3 + i % 2, c : c + 3] = 1.0
    seg_y[:, 1] = 1.0 - seg_y[:, 0]
    seg_y[5] = 0.0  # an empty mask
    seg_x = rng.normal(0, 1.5, seg_y.shape) + 2.0 * (seg_y - 0.5)
    seg_p = _sigmoid(seg_x)
    add("dice_probs", "dice", "segmentation", seg_p, seg_y, logits=False)
    add("dice_logits_s0", "dice", "segmentation", seg_x, seg_y, {"smooth": 0.0}, logits=True)
    add("iou_probs", "iou", "segmentation", seg_p, seg_y, logits=False)
    add(
        "tversky_logits",
        "tversky",
        "segmentation",
        seg_x,
        seg_y,
        {"alpha": 0.3, "beta": 0.7},
        logits=True,
    )
    add("focal_tversky", "focal_tversky", "segmentation", seg_p, seg_y, logits=False)
    add("dice_bce_logits", "dice_bce", "segmentation", seg_x, seg_y, logits=True)
    add("seg_bce_probs", "bce", "segmentation", seg_p, seg_y, logits=False)
    add("seg_focal_logits", "focal", "segmentation", seg_x, seg_y, logits=True)
    add(
        "dice_monai_softmax",
        "dice",
        "segmentation",
        seg_x,
        seg_y,
        {
            "activation": "softmax",
            "include_background": False,
            "smooth_nr": 1e-5,
            "smooth_dr": 1e-5,
            "squared_pred": True,
        },
        logits=True,
    )
    add(
        "dice_monai_weight_soft",
        "dice",
        "segmentation",
        seg_p,
        np.clip(seg_y * 0.9 + 0.05, 0, 1),
        {"weight": (0.3, 2.0), "soft_label": True, "smooth_nr": 0.0, "smooth_dr": 1e-5},
        logits=False,
    )
    add(
        "iou_monai",
        "iou",
        "segmentation",
        seg_x,
        seg_y,
        {"squared_pred": True, "weight": (2.0, 0.5), "smooth_nr": 1e-5, "smooth_dr": 1e-5},
        logits=True,
    )
    add(
        "tversky_monai",
        "tversky",
        "segmentation",
        seg_x,
        seg_y,
        {
            "alpha": 0.3,
            "beta": 0.7,
            "activation": "softmax",
            "include_background": False,
            "smooth_nr": 1e-5,
            "smooth_dr": 1e-5,
        },
        logits=True,
    )
    seg_y3 = np.concatenate([seg_y, np.zeros_like(seg_y[:, :1])], axis=1)
    seg_y3[:, 2, :2] = seg_y3[:, 1, :2]  # a third class in the top rows
    seg_y3[:, 1, :2] = 0.0
    seg_x3 = rng.normal(0, 1.5, seg_y3.shape) + 2.0 * (seg_y3 - 0.5)
    add(
        "seg_focal_softmax",
        "focal",
        "segmentation",
        seg_x3,
        seg_y3,
        {"activation": "softmax", "gamma": 1.5},
        logits=True,
    )
    add("gdice_logits", "generalized_dice", "segmentation", seg_x, seg_y, logits=True)
    add(
        "gdice_probs_simple",
        "generalized_dice",
        "segmentation",
        seg_p,
        seg_y,
        {"w_type": "simple"},
        logits=False,
    )
    add(
        "gdice_softmax_nobg",
        "generalized_dice",
        "segmentation",
        seg_x,
        seg_y,
        {"activation": "softmax", "include_background": False, "w_type": "uniform"},
        logits=True,
    )
    add("seg_ce_logits", "cross_entropy", "segmentation", seg_x, seg_y, logits=True)
    seg_soft = np.exp(seg_x) / np.exp(seg_x).sum(1, keepdims=True)
    add(
        "seg_ce_probs_w",
        "cross_entropy",
        "segmentation",
        seg_soft,
        seg_y,
        {"weight": (0.3, 2.0)},
        logits=False,
    )
    # distribution: rows of P with zeros, Q from a softmax
    dq = _softmax(rng.normal(0, 1, (N, 4)))
    dp = _softmax(rng.normal(0, 1.5, (N, 4)))
    dp[:8, 0] = 0.0
    dp /= dp.sum(1, keepdims=True)
    add("kl_div_dist", "kl_div", "distribution", dq, dp)
    add("js_div_dist", "js_div", "distribution", dq, dp)
    add("cross_entropy_dist", "cross_entropy", "distribution", dq, dp)
    dz = rng.normal(0, 1, (N, 4))
    add("kl_div_dist_mean", "kl_div", "distribution", dq, dp, {"reduction": "mean"})
    add("kl_div_dist_logits", "kl_div", "distribution", dz, dp, {"input": "logits"})
    dq_edge = dq.copy()
    dq_edge[:3, 1] = 1e-9  # below the clip
    add("kl_div_dist_clip", "kl_div", "distribution", dq_edge, dp, {"clip": 1e-7})
    add("cross_entropy_dist_logits", "cross_entropy", "distribution", dz, dp, {"input": "logits"})
    # embedding: iris measurements as 4-d embeddings, labels the species
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    pick = np.random.default_rng(1).permutation(len(y))[:N]
    ex, ey = (X[pick] - X.mean(0)) / X.std(0), y[pick]
    swe = np.random.default_rng(2).uniform(0.5, 2.0, N)
    pairs_y = (np.random.default_rng(3).uniform(size=N) < 0.5).astype(float)
    add("triplet_hard", "triplet", "embedding", ex, ey, {"margin": 1.0}, layout="labels")
    add(
        "triplet_hard_w",
        "triplet",
        "embedding",
        ex,
        ey,
        {"margin": 2.0},
        weight=swe,
        layout="labels",
    )
    trip = np.c_[ex, np.roll(ex, 1, 0), np.roll(ex, 7, 0)]
    add("triplet_rows", "triplet", "embedding", trip, None, {"margin": 1.0}, layout="triplets")
    add(
        "triplet_rows_swap_p1",
        "triplet",
        "embedding",
        trip,
        None,
        {"margin": 1.0, "swap": True, "p": 1.0},
        layout="triplets",
    )
    add(
        "triplet_rows_p3",
        "triplet",
        "embedding",
        trip,
        None,
        {"margin": 1.5, "p": 3.0},
        weight=swe,
        layout="triplets",
    )
    add(
        "triplet_hard_swap_norm",
        "triplet",
        "embedding",
        ex,
        ey,
        {"margin": 0.3, "swap": True, "normalize": True},
        weight=swe,
        layout="labels",
    )
    add("contrastive_labels", "contrastive", "embedding", ex, ey, {"margin": 2.0}, layout="labels")
    add("contrastive_labels_w", "contrastive", "embedding", ex, ey, weight=swe, layout="labels")
    add(
        "contrastive_pml",
        "contrastive",
        "embedding",
        ex,
        ey,
        {"form": "pml", "margin": 1.0, "pos_margin": 0.5, "normalize": True},
        weight=swe,
        layout="labels",
    )
    add(
        "contrastive_pml_nonzero",
        "contrastive",
        "embedding",
        ex,
        ey,
        {"form": "pml", "margin": 2.5, "pos_margin": 1.0, "reducer": "avg_nonzero"},
        layout="labels",
    )
    add(
        "contrastive_hadsell_norm",
        "contrastive",
        "embedding",
        ex,
        ey,
        {"margin": 1.0, "normalize": True},
        weight=swe,
        layout="labels",
    )
    pr = np.c_[ex, np.roll(ex, 3, 0)]
    add(
        "contrastive_pairs",
        "contrastive",
        "embedding",
        pr,
        pairs_y,
        {"margin": 2.0},
        layout="pairs",
    )
    dist = np.sqrt(((ex - np.roll(ex, 3, 0)) ** 2).sum(1))
    add(
        "contrastive_dist",
        "contrastive",
        "embedding",
        dist,
        pairs_y,
        {"margin": 2.0},
        layout="distance",
    )
    add(
        "cosine_pairs",
        "cosine_embedding",
        "embedding",
        pr,
        pairs_y,
        {"margin": 0.2},
        layout="pairs",
    )
    add("cosine_labels", "cosine_embedding", "embedding", ex, ey, layout="labels")
    # vae: reconstructions of iris-like inputs in [0, 1], an encoder's mu and logvar
    vx = np.clip(rng.uniform(size=(N, 5)), 0.02, 0.98)
    vr = _sigmoid(np.log(vx / (1 - vx)) + rng.normal(0, 0.5, vx.shape))
    vctx = {"mu": rng.normal(0, 1, (N, 2)), "logvar": rng.normal(0, 0.3, (N, 2))}
    add("vae_bce", "vae", "vae", vr, vx, ctx=vctx)
    add("vae_mse", "vae", "vae", vr, vx, {"recon": "mse", "beta": 0.5}, ctx=vctx)
    # detection: matched boxes
    gt = np.c_[rng.uniform(0, 50, (N, 2)), rng.uniform(60, 120, (N, 2))]
    boxes = gt + rng.normal(0, 3, gt.shape)
    add("det_smooth_l1", "smooth_l1", "detection", boxes, gt, {"beta": 2.0})
    far = gt.copy()
    far[:3] += 200.0  # no overlap: no intersection gradient
    giou_boxes = np.where(np.arange(N)[:, None] < 3, far, boxes)
    giou_boxes[3:6] = gt[3:6]  # identical boxes: every min/max ties
    giou_boxes[6, 0] = gt[6, 0]  # one tied coordinate
    add("giou", "giou", "detection", giou_boxes, gt)
    return out


# --------------------------------------------------------------------------- torch


def torch_value_and_grad(case: dict[str, Any]) -> tuple[float, np.ndarray]:
    """The case's loss as a torch expression in float64, and ``pred.grad`` after
    ``backward()``."""
    import torch
    import torch.nn.functional as F

    p = torch.tensor(case["pred"], dtype=torch.float64, requires_grad=True)
    tgt = case["target"]
    prm = case["params"]
    loss, logits = case["loss"], case["logits"]
    w = None if case["weight"] is None else torch.tensor(case["weight"], dtype=torch.float64)

    def mean(per_elem: Any) -> Any:
        if w is None:
            return per_elem.mean()
        rows = per_elem if per_elem.dim() == 1 else per_elem.reshape(len(w), -1).mean(1)
        if case.get("reduction") == "sum_over_batch_size":  # Keras: ÷ N, not ÷ Σ w
            return (w * rows).sum() / len(w)
        return (w * rows).sum() / w.sum()

    if case["task"] == "regression" and isinstance(prm.get("output_weights"), tuple):
        ow = torch.tensor(prm["output_weights"], dtype=torch.float64)
        per = _torch_elementwise(
            F, torch, p, torch.tensor(tgt, dtype=torch.float64), loss, prm, logits, lambda a: a
        )
        rows = (per * ow).sum(1) / ow.sum()
        value = rows.mean() if w is None else (w * rows).sum() / w.sum()
    elif case["task"] == "vae":
        x = torch.tensor(tgt, dtype=torch.float64)
        mu, lv = (torch.tensor(case["context"][k]) for k in ("mu", "logvar"))
        kl = -0.5 * (1 + lv - mu**2 - lv.exp()).sum()
        if prm.get("recon", "bce") == "mse":
            rec = ((p - x) ** 2).sum()
        else:
            rec = F.binary_cross_entropy(p, x, reduction="sum")
        value = (rec + prm.get("beta", 1.0) * kl) / p.shape[0]
    elif case["task"] == "detection" and loss == "giou":
        value = _torch_giou(torch, p, torch.tensor(tgt, dtype=torch.float64))
    elif case["task"] == "detection":
        y = torch.tensor(tgt, dtype=torch.float64)
        value = F.smooth_l1_loss(p, y, beta=prm["beta"])
    elif case["task"] == "embedding":
        value = _torch_embedding(F, torch, p, case, w)
    elif case["task"] == "segmentation" and loss not in ("generalized_dice", "cross_entropy"):
        y = torch.tensor(tgt, dtype=torch.float64)
        value = _torch_segmentation(F, torch, p, y, loss, prm, logits)
    elif case["task"] == "distribution":
        y = torch.tensor(tgt, dtype=torch.float64)
        value = _torch_distribution(F, torch, p, y, loss, prm)
    elif case["task"] == "segmentation" and loss in ("generalized_dice", "cross_entropy"):
        y = torch.tensor(tgt, dtype=torch.float64)
        value = _torch_segmentation_new(F, torch, p, y, loss, prm, logits)
    elif case["task"] == "multiclass" and loss == "multi_margin":
        y = torch.tensor(tgt, dtype=torch.int64)
        wt = prm.get("weight")
        wt = None if wt is None else torch.tensor(wt, dtype=torch.float64)
        value = F.multi_margin_loss(
            p, y, p=prm.get("p", 1), margin=prm.get("margin", 1.0), weight=wt
        )
    elif case["task"] == "multiclass":
        y = torch.tensor(tgt, dtype=torch.int64)
        value = _torch_multiclass(p, y, loss, prm, logits, w)
    else:
        y = torch.tensor(tgt, dtype=torch.float64)
        value = _torch_elementwise(F, torch, p, y, loss, prm, logits, mean)
    value.backward()
    return float(value.detach()), p.grad.numpy().copy()


def _torch_elementwise(F, torch, p, y, loss, prm, logits, mean):
    e = p - y
    if loss in ("mse", "rmse"):
        v = mean(e**2)
        return torch.sqrt(v) if loss == "rmse" else v
    if loss == "mae":
        return mean(e.abs())
    if loss == "huber":
        return mean(F.huber_loss(p, y, delta=prm["delta"], reduction="none"))
    if loss == "smooth_l1":
        return mean(F.smooth_l1_loss(p, y, beta=prm["beta"], reduction="none"))
    if loss == "log_cosh":
        return mean(torch.log(torch.cosh(e)))
    if loss == "pinball":
        q, d = prm["quantile"], y - p
        return mean(torch.maximum(q * d, (q - 1) * d))
    if loss == "mape":
        eps = prm.get("eps", float(np.finfo(np.float64).eps))
        out = e.abs() / torch.clamp(y.abs(), min=eps)
        return mean(100.0 * out if prm.get("percent") else out)
    if loss == "msle":
        if "clip" in prm:
            p, y = torch.clamp(p, min=prm["clip"]), torch.clamp(y, min=prm["clip"])
        return mean((torch.log1p(p) - torch.log1p(y)) ** 2)
    if loss == "poisson_nll":
        li, full = prm.get("log_input", False), prm.get("full", False)
        return mean(F.poisson_nll_loss(p, y, log_input=li, full=full, eps=1e-8, reduction="none"))
    ls = prm.get("label_smoothing", 0.0)
    ys = y * (1 - ls) + 0.5 * ls
    if loss == "bce" and "weight" in prm:
        lw = torch.tensor(prm["weight"], dtype=torch.float64)
        if logits:
            return mean(F.binary_cross_entropy_with_logits(p, ys, weight=lw, reduction="none"))
        return mean(F.binary_cross_entropy(p, ys, weight=lw, reduction="none"))
    if loss == "bce":
        pw = prm.get("pos_weight", 1.0)
        if logits:
            pwt = torch.tensor(pw, dtype=torch.float64)
            return mean(F.binary_cross_entropy_with_logits(p, ys, pos_weight=pwt, reduction="none"))
        if "eps" in prm:
            pc = torch.clamp(p, prm["eps"], 1 - prm["eps"])
            return mean(-(ys * torch.log(pc) + (1 - ys) * torch.log(1 - pc)))
        if pw != 1.0:
            return mean(-(pw * ys * torch.log(p) + (1 - ys) * torch.log1p(-p)))
        return mean(F.binary_cross_entropy(p, ys, reduction="none"))
    if loss == "focal":
        a, g = prm.get("alpha", 0.25), prm.get("gamma", 2.0)
        y = ys
        if "eps" in prm:  # Keras: BCE of the clipped probability, p_t of the unclipped one
            prob = torch.sigmoid(p) if logits else p
            pc = torch.clamp(prob, prm["eps"], 1 - prm["eps"])
            ce = -(y * torch.log(pc) + (1 - y) * torch.log1p(-pc))
        elif logits:
            prob = torch.sigmoid(p)
            ce = F.binary_cross_entropy_with_logits(p, y, reduction="none")
        else:
            prob = p
            ce = F.binary_cross_entropy(p, y, reduction="none")
        p_t = prob * y + (1 - prob) * (1 - y)
        out = ce * ((1 - p_t) ** g)
        if a >= 0:
            out = (a * y + (1 - a) * (1 - y)) * out
        return mean(out)
    t = 2 * y - 1
    s = p if logits or prm.get("scores") == "raw" else 2 * p - 1
    if loss == "hinge":
        return mean(torch.relu(prm.get("margin", 1.0) - t * s))
    if loss == "squared_hinge":
        return mean(torch.relu(1 - t * s) ** 2)
    if loss == "brier":
        prob = torch.sigmoid(p) if logits else p
        return mean((prob - y) ** 2)
    raise KeyError(loss)


def _torch_segmentation(F, torch, x, y, loss, prm, logits):
    n, c = x.shape[:2]
    xs, ys = x.reshape(n, c, -1), y.reshape(n, c, -1)
    if logits and prm.get("activation") == "softmax":
        p = torch.softmax(xs, 1)
    else:
        p = torch.sigmoid(xs) if logits else xs
    s = prm.get("smooth", 1.0)
    nr, dr = prm.get("smooth_nr", s), prm.get("smooth_dr", s)
    tp, sp, sy = (p * ys).sum(-1), p.sum(-1), ys.sum(-1)
    if prm.get("squared_pred"):  # MONAI squared_pred
        sp, sy = (p * p).sum(-1), (ys * ys).sum(-1)
    elif prm.get("soft_label"):  # MONAI soft_label: TP = (Σp + Σy − Σ|p − y|)/2
        tp = 0.5 * (sp + sy - (p - ys).abs().sum(-1))

    def safe(a, b):  # loss 0 where the denominator is 0 (smooth = 0, empty)
        zero = b == 0
        return torch.where(zero, torch.zeros_like(a), 1 - a / torch.where(zero, 1.0, b))

    def monai(v):  # include_background=False drops channel 0; class weights
        if not prm.get("include_background", True):
            v = v[:, 1:]
        if "weight" in prm:
            v = v * torch.tensor(prm["weight"], dtype=torch.float64)
        return v.mean()

    if loss == "dice":
        return monai(safe(2 * tp + nr, sp + sy + dr))
    if loss == "iou":
        return monai(safe(tp + nr, sp + sy - tp + dr))
    if loss in ("tversky", "focal_tversky"):
        a, b = prm.get("alpha", 0.5), prm.get("beta", 0.5)
        t = safe(tp + nr, tp + a * (sp - tp) + b * (sy - tp) + dr)
        return monai(t ** prm.get("gamma", 0.75) if loss == "focal_tversky" else t)
    if loss == "dice_bce":
        bce = (
            F.binary_cross_entropy_with_logits(xs, ys) if logits else F.binary_cross_entropy(xs, ys)
        )
        return safe(2 * tp + s, sp + sy + s).mean() + bce
    if loss == "bce":
        return (
            F.binary_cross_entropy(xs, ys)
            if not logits
            else F.binary_cross_entropy_with_logits(xs, ys)
        )
    if loss == "focal" and prm.get("activation") == "softmax":  # MONAI use_softmax=True
        a, g = prm.get("alpha", 0.25), prm.get("gamma", 2.0)
        ls = F.log_softmax(xs, 1)
        per = -((1 - ls.exp()) ** g) * ls * ys
        a_c = torch.tensor([1 - a] + [a] * (c - 1), dtype=torch.float64)
        return (per.mean(-1) * a_c).mean()
    if loss == "focal":
        prob = torch.sigmoid(xs) if logits else xs
        ce = F.binary_cross_entropy_with_logits(xs, ys, reduction="none")
        p_t = prob * ys + (1 - prob) * (1 - ys)
        return ((0.25 * ys + 0.75 * (1 - ys)) * ce * (1 - p_t) ** 2).mean()
    raise KeyError(loss)


def _torch_segmentation_new(F, torch, x, y, loss, prm, logits):
    """MONAI GeneralizedDiceLoss (batch=False; weights from the labels, no gradient) and
    torch cross-entropy with class-probability targets over the channels."""
    n = x.shape[0]
    if loss == "cross_entropy":
        wt = prm.get("weight")
        wt = None if wt is None else torch.tensor(wt, dtype=torch.float64)
        if logits:
            return F.cross_entropy(x, y, weight=wt)
        logp = torch.log(x).clamp(min=-100)
        if wt is not None:
            logp = logp * wt[None, :, None, None]
        return -(y * logp).sum(1).mean()
    if logits:
        p = torch.softmax(x, 1) if prm.get("activation") == "softmax" else torch.sigmoid(x)
    else:
        p = x
    if not prm.get("include_background", True):
        p, y = p[:, 1:], y[:, 1:]
    ps, ys = p.reshape(n, p.shape[1], -1), y.reshape(n, y.shape[1], -1)
    tp, sp, sy = (ps * ys).sum(-1), ps.sum(-1), ys.sum(-1)
    wt = prm.get("w_type", "square")
    sy_np = sy.detach().numpy()
    with np.errstate(divide="ignore"):
        w = {"square": 1 / sy_np**2, "simple": 1 / sy_np}.get(wt, np.ones_like(sy_np))
    inf = np.isinf(w)
    w[inf] = 0.0
    w = w + inf * w.max(axis=1, keepdims=True)
    w = torch.tensor(w)
    numer = 2 * (tp * w).sum(1) + 1e-5
    denom = ((sp + sy) * w).sum(1) + 1e-5
    return (1 - numer / denom).mean()


def _torch_giou(torch, b1, b2, eps=1e-7):
    """torchvision.ops.generalized_box_iou_loss (reduction mean), step by step."""
    x1, y1, x2, y2 = b1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = b2.unbind(dim=-1)
    xk1, yk1 = torch.max(x1, x1g), torch.max(y1, y1g)
    xk2, yk2 = torch.min(x2, x2g), torch.min(y2, y2g)
    inter = torch.zeros_like(x1)
    mask = (yk2 > yk1) & (xk2 > xk1)
    inter[mask] = (xk2[mask] - xk1[mask]) * (yk2[mask] - yk1[mask])
    union = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - inter
    iou = inter / (union + eps)
    xc1, yc1 = torch.min(x1, x1g), torch.min(y1, y1g)
    xc2, yc2 = torch.max(x2, x2g), torch.max(y2, y2g)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    return (1 - (iou - (area_c - union) / (area_c + eps))).mean()


def _torch_embedding(F, torch, x, case, w):
    from losscli.losses.embedding import batch_hard_triplets

    loss, prm, layout = case["loss"], case["params"], case["layout"]
    n = x.shape[0]
    sw = torch.ones(n, dtype=torch.float64) if w is None else w
    if layout == "triplets":
        d = x.shape[1] // 3
        out = F.triplet_margin_loss(
            x[:, :d],
            x[:, d : 2 * d],
            x[:, 2 * d :],
            margin=prm["margin"],
            eps=1e-6,
            p=prm.get("p", 2.0),
            swap=prm.get("swap", False),
            reduction="none",
        )
        return (out * sw).sum() / sw.sum()
    if layout in ("pairs", "distance"):
        y = torch.tensor(case["target"], dtype=torch.float64)
        if loss == "cosine_embedding":
            d = x.shape[1] // 2
            return F.cosine_embedding_loss(x[:, :d], x[:, d:], 2 * y - 1, margin=prm["margin"])
        if layout == "distance":
            dist = x
        else:
            d = x.shape[1] // 2
            dist = (x[:, :d] - x[:, d:]).norm(dim=1)
        m = prm.get("margin", 1.0)
        return (0.5 * y * dist**2 + 0.5 * (1 - y) * torch.relu(m - dist) ** 2).mean()
    lab = np.asarray(case["target"])
    if loss == "triplet":
        xn = case["pred"]
        if prm.get("normalize"):  # mined on the normalised embeddings, as the loss does
            x = F.normalize(x, dim=1)
            xn = x.detach().numpy()
        pos, neg, valid = batch_hard_triplets(xn, lab, eps=1e-6)
        d_ap = F.pairwise_distance(x, x[pos], eps=1e-6)
        d_an = F.pairwise_distance(x, x[neg], eps=1e-6)
        if prm.get("swap"):
            d_an = torch.min(d_an, F.pairwise_distance(x[pos], x[neg], eps=1e-6))
        out = torch.clamp_min(prm["margin"] + d_ap - d_an, 0)
        v = torch.tensor(valid, dtype=torch.float64) * sw
        return (out * v).sum() / v.sum()
    if loss == "contrastive" and prm.get("normalize"):
        x = F.normalize(x, dim=1)
    if loss == "contrastive" and prm.get("form") == "pml":  # pytorch-metric-learning
        d = (x[:, None, :] - x[None, :, :]).norm(dim=-1)
        same = torch.tensor(lab[:, None] == lab[None, :])
        other = ~torch.eye(n, dtype=torch.bool)
        pos = torch.relu(d - prm.get("pos_margin", 0.0)) * (same & other)
        neg = torch.relu(prm.get("margin", 1.0) - d) * ~same
        nz = prm.get("reducer") == "avg_nonzero"
        n_pos = (pos > 0).sum() if nz else (same & other).sum()
        n_neg = (neg > 0).sum() if nz else (~same).sum()
        rows = n * (pos.sum(1) / n_pos + neg.sum(1) / n_neg)
        return (rows * sw).sum() / sw.sum()
    ii, jj = np.triu_indices(n, 1)
    same = torch.tensor(lab[ii] == lab[jj], dtype=torch.float64)
    pw = 0.5 * (sw[ii] + sw[jj])
    a, b = x[ii], x[jj]
    if loss == "contrastive":
        dist = (a - b).norm(dim=1)
        m = prm.get("margin", 1.0)
        pair = 0.5 * same * dist**2 + 0.5 * (1 - same) * torch.relu(m - dist) ** 2
    else:
        pair = F.cosine_embedding_loss(
            a, b, 2 * same - 1, margin=prm.get("margin", 0.0), reduction="none"
        )
    return (pair * pw).sum() / pw.sum()


def _torch_distribution(F, torch, q, p, loss, prm):
    red = prm.get("reduction", "batchmean")
    if loss == "kl_div" and prm.get("input") == "logits":
        return F.kl_div(F.log_softmax(q, 1), p, reduction=red)
    if loss == "kl_div" and "clip" in prm:
        pc, qc = p.clamp(prm["clip"], 1.0), q.clamp(prm["clip"], 1.0)
        rows = (pc * torch.log(pc / qc)).sum(1)
        return rows.mean() / (q.shape[1] if red == "mean" else 1)
    if loss == "kl_div":
        return F.kl_div(torch.log(q), p, reduction=red)
    if loss == "cross_entropy" and prm.get("input") == "logits":
        return F.cross_entropy(q, p)
    if loss == "js_div":
        m = 0.5 * (p + q)
        return (0.5 * torch.xlogy(p, p / m) + 0.5 * torch.xlogy(q, q / m)).sum(1).mean()
    if loss == "cross_entropy":
        return -(p * torch.log(q).clamp(min=-100)).sum(1).mean()
    raise KeyError(loss)


def _torch_multiclass(p, y, loss, prm, logits, w):
    import torch
    import torch.nn.functional as F

    c = p.shape[1]
    if loss == "cross_entropy":
        cw = prm.get("weight")
        if cw == "balanced":
            counts = torch.bincount(y, minlength=c).double()
            cw = tuple((len(y) / (c * counts)).tolist())
        wt = None if cw is None else torch.tensor(cw, dtype=torch.float64)
        ii = prm.get("ignore_index", -100)
        ls = prm.get("label_smoothing", 0.0)
        if logits and w is None:
            return F.cross_entropy(p, y, weight=wt, label_smoothing=ls, ignore_index=ii)
        if not logits and prm.get("normalize"):
            p = p / p.sum(1, keepdim=True)
        if not logits and "eps" in prm:
            p = p.clamp(prm["eps"], 1 - prm["eps"])
        logp = F.log_softmax(p, 1) if logits else torch.log(p).clamp(min=-100)
        if w is not None:
            rows = F.cross_entropy(p, y, reduction="none")
            return (w * rows).sum() / w.sum()
        wv = torch.ones(c, dtype=torch.float64) if wt is None else wt
        wy = wv[y]
        nll = -logp.gather(1, y[:, None])[:, 0]
        row = (1 - ls) * wy * nll + (ls / c) * -(logp * wv).sum(1)
        return row.sum() / wy.sum()
    if loss == "focal":
        a = prm.get("alpha", 0.25)
        a_y = torch.tensor(a, dtype=torch.float64)[y] if isinstance(a, tuple) else a
        if "eps" in prm:  # Keras: softmax or P (÷ΣP), clipped, for both factors
            q = F.softmax(p, 1) if logits else p
            if prm.get("normalize"):
                q = q / q.sum(1, keepdim=True)
            qy = q.gather(1, y[:, None])[:, 0].clamp(prm["eps"], 1 - prm["eps"])
            return (-a_y * (1 - qy) ** prm.get("gamma", 2.0) * torch.log(qy)).mean()
        if logits:
            lp = F.log_softmax(p, 1).gather(1, y[:, None])[:, 0]
            py = torch.exp(lp)
        else:
            py = p.gather(1, y[:, None])[:, 0]
            lp = torch.log(py).clamp(min=-100)
        return (-a_y * (1 - py) ** prm.get("gamma", 2.0) * lp).mean()
    onehot = F.one_hot(y, c).double()
    if loss == "multi_hinge":
        s_y = p.gather(1, y[:, None])[:, 0]
        others = p.masked_fill(onehot.bool(), float("-inf"))
        return torch.relu(1 + others.max(dim=1).values - s_y).mean()
    if loss == "brier":
        prob = F.softmax(p, 1) if logits else p
        half = 0.5 if prm.get("scale_by_half") == "true" else 1.0
        return half * ((prob - onehot) ** 2).sum(1).mean()
    if loss == "kl_div":
        logq = F.log_softmax(p, 1) if logits else torch.log(p).clamp(min=-100)
        return F.kl_div(logq, onehot, reduction=prm.get("reduction", "batchmean"))
    raise KeyError(loss)


def ours(case: dict[str, Any]) -> tuple[float, np.ndarray]:
    """losscli's value and gradient of the case."""
    from losscli.gradients import gradient
    from losscli.registry import get_spec

    spec = get_spec(case["loss"], case["task"])
    ctx = {} if case["logits"] is None else {"from_logits": case["logits"]}
    if case.get("layout"):
        ctx = {"layout": case["layout"]}
    ctx |= {k: np.asarray(v) for k, v in case.get("context", {}).items()}
    return gradient(
        spec,
        case["pred"],
        case["target"],
        params=case["params"],
        context=ctx,
        sample_weight=case["weight"],
        reduction=case.get("reduction", "mean"),
    )
