"""Write tests/fixtures/oracle_segmentation.json: reference values of the segmentation and
detection losses, computed in float64 with torch 2.13.0.

Run with ``python tests/oracle/gen_segmentation.py`` (needs torch; MONAI is optional).

* Overlap losses (dice, iou, tversky, focal_tversky) are written in torch ops per
  (image, class), with FP = Σ p(1−y) and FN = Σ (1−p)y as MONAI computes them — an
  independent formulation from losscli's Σp − TP form. When MONAI is importable, Dice and
  Tversky are also checked against ``monai.losses.DiceLoss`` / ``TverskyLoss`` with
  ``reduction='none'``, and IoU against ``DiceLoss(jaccard=True)`` (whose smoothing s
  corresponds to losscli's s/2).
* Pixel-wise bce: ``F.binary_cross_entropy`` / ``F.binary_cross_entropy_with_logits``.
  focal: torchvision ``sigmoid_focal_loss`` re-written in torch ops (torchvision does not
  import beside this torch build), with the BCE term on probabilities from
  ``F.binary_cross_entropy`` (logs clamped at −100).
* Detection: ``F.smooth_l1_loss``; torchvision ``generalized_box_iou_loss`` re-written in
  torch ops.

Each case stores the inputs, the parameters, the per-row values (mean over classes or
coordinates) and their mean, so the committed fixture is checked with NumPy alone.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "oracle_segmentation.json"
SEED = 20240611

Tensor = torch.Tensor


def _t(a: Any) -> Tensor:
    return torch.as_tensor(np.asarray(a, dtype=np.float64))


# --------------------------------------------------------------------------- torch formulas


def _probs(x: Tensor, from_logits: bool) -> Tensor:
    return torch.sigmoid(x) if from_logits else x


def torch_dice(x: Tensor, y: Tensor, *, smooth: float, from_logits: bool) -> Tensor:
    p = _probs(x, from_logits)
    tp = (p * y).sum(-1)
    return 1 - (2 * tp + smooth) / (p.sum(-1) + y.sum(-1) + smooth)


def torch_iou(x: Tensor, y: Tensor, *, smooth: float, from_logits: bool) -> Tensor:
    p = _probs(x, from_logits)
    tp = (p * y).sum(-1)
    union = p.sum(-1) + y.sum(-1) - tp
    return 1 - (tp + smooth) / (union + smooth)


def torch_tversky(
    x: Tensor, y: Tensor, *, alpha: float, beta: float, smooth: float, from_logits: bool
) -> Tensor:
    p = _probs(x, from_logits)
    tp = (p * y).sum(-1)
    fp = (p * (1 - y)).sum(-1)
    fn = ((1 - p) * y).sum(-1)
    return 1 - (tp + smooth) / (tp + alpha * fp + beta * fn + smooth)


def torch_bce(
    x: Tensor,
    y: Tensor,
    *,
    from_logits: bool,
    pos_weight: float = 1.0,
    label_smoothing: float = 0.0,
    eps: float | str | None = None,
) -> Tensor:
    """Elementwise BCE with torch's conventions (clamped logs / softplus logit form)."""
    ys = y * (1 - label_smoothing) + label_smoothing / 2
    if from_logits:
        pw = None if pos_weight == 1.0 else torch.tensor(pos_weight, dtype=torch.float64)
        return F.binary_cross_entropy_with_logits(x, ys, pos_weight=pw, reduction="none")
    p = x if eps in (None, "none") else x.clamp(eps, 1 - eps)
    if pos_weight == 1.0:
        return F.binary_cross_entropy(p, ys, reduction="none")
    log_p = torch.log(p).clamp(min=-100)
    log_1mp = torch.log1p(-p).clamp(min=-100)
    return -(pos_weight * ys * log_p + (1 - ys) * log_1mp)


def torch_focal(x: Tensor, y: Tensor, *, alpha: float, gamma: float, from_logits: bool) -> Tensor:
    """torchvision.ops.sigmoid_focal_loss(reduction='none') in torch ops; probabilities
    take the BCE term from F.binary_cross_entropy (logs clamped at -100)."""
    if from_logits:
        p = torch.sigmoid(x)
        ce = F.binary_cross_entropy_with_logits(x, y, reduction="none")
    else:
        p = x
        ce = F.binary_cross_entropy(x, y, reduction="none")
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * y + (1 - alpha) * (1 - y)
        loss = alpha_t * loss
    return loss


def torch_giou(b1: Tensor, b2: Tensor, *, eps: float = 1e-7) -> Tensor:
    """torchvision.ops.generalized_box_iou_loss(reduction='none') in torch ops."""
    x1, y1, x2, y2 = b1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = b2.unbind(dim=-1)
    xkis1 = torch.max(x1, x1g)
    ykis1 = torch.max(y1, y1g)
    xkis2 = torch.min(x2, x2g)
    ykis2 = torch.min(y2, y2g)
    intsctk = torch.zeros_like(x1)
    mask = (ykis2 > ykis1) & (xkis2 > xkis1)
    intsctk[mask] = (xkis2[mask] - xkis1[mask]) * (ykis2[mask] - ykis1[mask])
    unionk = (x2 - x1) * (y2 - y1) + (x2g - x1g) * (y2g - y1g) - intsctk
    iouk = intsctk / (unionk + eps)
    xc1 = torch.min(x1, x1g)
    yc1 = torch.min(y1, y1g)
    xc2 = torch.max(x2, x2g)
    yc2 = torch.max(y2, y2g)
    area_c = (xc2 - xc1) * (yc2 - yc1)
    miouk = iouk - ((area_c - unionk) / (area_c + eps))
    return 1 - miouk


# --------------------------------------------------------------------------- per-case values


_DEFAULTS: dict[str, dict[str, Any]] = {
    "dice": {"smooth": 1.0},
    "iou": {"smooth": 1.0},
    "tversky": {"alpha": 0.5, "beta": 0.5, "smooth": 1.0},
    "focal_tversky": {"gamma": 0.75, "alpha": 0.5, "beta": 0.5, "smooth": 1.0},
    "dice_bce": {"smooth": 1.0, "lambda_dice": 1.0, "lambda_bce": 1.0},
    "bce": {"pos_weight": 1.0, "label_smoothing": 0.0, "eps": "none"},
    "focal": {"alpha": 0.25, "gamma": 2.0},
    "smooth_l1": {"beta": 1.0},
    "giou": {"eps": 1e-7},
    "focal_smooth_l1": {"alpha": 0.25, "gamma": 2.0, "beta": 1.0},
}


def segmentation_values(
    loss: str, pred: np.ndarray, target: np.ndarray, params: dict[str, Any], from_logits: bool
) -> Tensor:
    """Loss per (image, class), shape (n, C)."""
    kw = {**_DEFAULTS[loss], **params}
    x, y = _t(pred), _t(target)
    if loss == "dice":
        return torch_dice(x, y, smooth=kw["smooth"], from_logits=from_logits)
    if loss == "iou":
        return torch_iou(x, y, smooth=kw["smooth"], from_logits=from_logits)
    if loss in ("tversky", "focal_tversky"):
        tv = torch_tversky(
            x, y, alpha=kw["alpha"], beta=kw["beta"], smooth=kw["smooth"], from_logits=from_logits
        )
        return tv if loss == "tversky" else tv ** kw["gamma"]
    if loss == "dice_bce":
        d = torch_dice(x, y, smooth=kw["smooth"], from_logits=from_logits)
        b = torch_bce(x, y, from_logits=from_logits).mean(-1)
        return kw["lambda_dice"] * d + kw["lambda_bce"] * b
    if loss == "bce":
        return torch_bce(
            x,
            y,
            from_logits=from_logits,
            pos_weight=kw["pos_weight"],
            label_smoothing=kw["label_smoothing"],
            eps=kw["eps"],
        ).mean(-1)
    if loss == "focal":
        return torch_focal(
            x, y, alpha=kw["alpha"], gamma=kw["gamma"], from_logits=from_logits
        ).mean(-1)
    raise ValueError(loss)


def detection_values(
    loss: str,
    pred: np.ndarray,
    target: np.ndarray,
    params: dict[str, Any],
    context: dict[str, Any],
) -> Tensor:
    """Loss per row, shape (n,)."""
    kw = {**_DEFAULTS[loss], **params}
    b1, b2 = _t(pred), _t(target)
    if loss == "smooth_l1":
        return F.smooth_l1_loss(b1, b2, beta=kw["beta"], reduction="none").mean(-1)
    if loss == "giou":
        return torch_giou(b1, b2, eps=kw["eps"])
    if loss == "focal_smooth_l1":
        cls = torch_focal(
            _t(context["scores"]),
            _t(context["labels"]),
            alpha=kw["alpha"],
            gamma=kw["gamma"],
            from_logits=bool(context.get("from_logits", False)),
        )
        box = F.smooth_l1_loss(b1, b2, beta=kw["beta"], reduction="none").mean(-1)
        return cls + box
    raise ValueError(loss)


def monai_check(
    loss: str, pred: np.ndarray, target: np.ndarray, params: dict[str, Any], from_logits: bool
) -> bool:
    """Compare the torch formula with MONAI when it is installed; True when checked."""
    try:
        from monai.losses import DiceLoss, TverskyLoss
    except ImportError:
        return False
    kw = {**_DEFAULTS[loss], **params}
    x, y = _t(pred), _t(target)
    ours = segmentation_values(loss, pred, target, params, from_logits)
    s = kw.get("smooth", 0.0)
    if loss == "dice":
        ref = DiceLoss(sigmoid=from_logits, smooth_nr=s, smooth_dr=s, reduction="none")(x, y)
    elif loss == "iou":
        ref = DiceLoss(
            sigmoid=from_logits, jaccard=True, smooth_nr=2 * s, smooth_dr=2 * s, reduction="none"
        )(x, y)
    elif loss in ("tversky", "focal_tversky"):
        ref = TverskyLoss(
            sigmoid=from_logits,
            alpha=kw["alpha"],
            beta=kw["beta"],
            smooth_nr=s,
            smooth_dr=s,
            reduction="none",
        )(x, y)
        if loss == "focal_tversky":
            ref = ref ** kw["gamma"]
    else:
        return False
    ref = ref.reshape(ours.shape)
    if not torch.allclose(ours, ref, rtol=1e-12, atol=1e-15):
        raise AssertionError(f"MONAI disagrees with the torch formula for {loss}")
    return True


# --------------------------------------------------------------------------- inputs


def _seg_inputs(
    rng: np.random.Generator, n: int, c: int, p: int, *, logits: bool, soft: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    density = rng.uniform(0.05, 0.6, size=(n, c, 1))
    if soft:
        target = np.round(rng.uniform(0.0, 1.0, size=(n, c, p)), 3)
    else:
        target = (rng.uniform(size=(n, c, p)) < density).astype(np.float64)
    if logits:
        pred = rng.normal(0.0, 3.0, size=(n, c, p)) + 2.0 * (target - 0.5)
    else:
        pred = np.clip(0.6 * target + 0.4 * rng.uniform(size=(n, c, p)), 0.0, 1.0)
    return pred, target


def _with_empty_masks(pred: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Image 0 class 0: empty target and empty prediction; image 1 class 0: empty target,
    non-empty prediction; image 2 class 0: non-empty target, empty prediction."""
    pred, target = pred.copy(), target.copy()
    pred[0, 0] = 0.0
    target[0, 0] = 0.0
    target[1, 0] = 0.0
    target[2, 0, :3] = 1.0
    pred[2, 0] = 0.0
    return pred, target


def _boxes(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    xy = rng.uniform(0.0, 100.0, size=(n, 2))
    wh = rng.uniform(1.0, 40.0, size=(n, 2))
    target = np.concatenate([xy, xy + wh], axis=1)
    pred = target + rng.normal(0.0, 4.0, size=(n, 4))
    pred[:, 2:] = np.maximum(pred[:, 2:], pred[:, :2] + 0.5)
    # special rows: identical, disjoint, nested, touching edges, zero-area pair
    pred[0] = target[0]
    pred[1] = target[1] + np.array([200.0, 200.0, 200.0, 200.0])
    target[2] = [10.0, 10.0, 50.0, 50.0]
    pred[2] = [20.0, 20.0, 30.0, 30.0]
    target[3] = [0.0, 0.0, 10.0, 10.0]
    pred[3] = [10.0, 0.0, 20.0, 10.0]
    target[4] = [5.0, 5.0, 5.0, 5.0]
    pred[4] = [5.0, 5.0, 5.0, 5.0]
    return np.round(pred, 6), np.round(target, 6)


def build_cases() -> list[dict[str, Any]]:
    """All oracle cases with their torch values (deterministic for a given torch)."""
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(SEED)
    cases: list[dict[str, Any]] = []

    def seg(
        case_id: str,
        loss: str,
        params: dict[str, Any],
        *,
        logits: bool,
        soft: bool = False,
        empty: bool = False,
        clamp: bool = False,
        shape: tuple[int, int, int] = (5, 2, 12),
    ) -> None:
        pred, target = _seg_inputs(rng, *shape, logits=logits, soft=soft)
        if empty:
            pred, target = _with_empty_masks(pred, target)
        if clamp:
            pred = pred.copy()
            pred[0, 0, :2] = np.where(target[0, 0, :2] > 0.5, 0.0, 1.0)
            pred[1, 1, :2] = np.where(target[1, 1, :2] > 0.5, 1.0, 0.0)
        per_class = segmentation_values(loss, pred, target, params, logits)
        rows = per_class.mean(-1)
        cases.append(
            {
                "id": case_id,
                "loss": loss,
                "task": "segmentation",
                "params": params,
                "context": {"from_logits": logits},
                "pred": pred.tolist(),
                "target": target.tolist(),
                "expected_per_class": per_class.tolist(),
                "expected_rows": rows.tolist(),
                "expected": float(rows.mean()),
                "monai_checked": monai_check(loss, pred, target, params, logits),
            }
        )

    seg("dice-default-probs", "dice", {}, logits=False)
    seg("dice-smooth0-probs", "dice", {"smooth": 0.0}, logits=False)
    seg("dice-smooth0.5-logits", "dice", {"smooth": 0.5}, logits=True)
    seg("dice-soft-targets", "dice", {}, logits=False, soft=True)
    seg("dice-empty-masks-smooth1", "dice", {}, logits=False, empty=True)
    seg("iou-default-probs", "iou", {}, logits=False)
    seg("iou-smooth0-logits", "iou", {"smooth": 0.0}, logits=True)
    seg("iou-empty-masks-smooth2", "iou", {"smooth": 2.0}, logits=False, empty=True)
    seg("tversky-default-probs", "tversky", {}, logits=False)
    seg("tversky-a0.3-b0.7-probs", "tversky", {"alpha": 0.3, "beta": 0.7}, logits=False)
    seg(
        "tversky-a0.7-b0.3-s0-logits",
        "tversky",
        {"alpha": 0.7, "beta": 0.3, "smooth": 0.0},
        logits=True,
    )
    seg("focal_tversky-default-probs", "focal_tversky", {}, logits=False)
    seg(
        "focal_tversky-g1.5-logits",
        "focal_tversky",
        {"gamma": 1.5, "alpha": 0.3, "beta": 0.7},
        logits=True,
    )
    seg("dice_bce-default-probs", "dice_bce", {}, logits=False)
    seg("dice_bce-default-logits", "dice_bce", {}, logits=True)
    seg(
        "dice_bce-lambdas-s0-probs",
        "dice_bce",
        {"smooth": 0.0, "lambda_dice": 0.5, "lambda_bce": 2.0},
        logits=False,
    )
    seg("bce-default-probs", "bce", {}, logits=False)
    seg("bce-default-logits", "bce", {}, logits=True)
    seg("bce-clamped-logs-probs", "bce", {}, logits=False, clamp=True)
    seg("bce-pos_weight2-logits", "bce", {"pos_weight": 2.0}, logits=True)
    seg("bce-pos_weight3-probs", "bce", {"pos_weight": 3.0}, logits=False)
    seg("bce-label_smoothing0.1-probs", "bce", {"label_smoothing": 0.1}, logits=False)
    seg("bce-eps1e-7-probs", "bce", {"eps": 1e-7}, logits=False, clamp=True)
    seg("focal-default-probs", "focal", {}, logits=False)
    seg("focal-default-logits", "focal", {}, logits=True)
    seg("focal-a-1-g1.5-logits", "focal", {"alpha": -1.0, "gamma": 1.5}, logits=True)
    seg("focal-a0.6-g0-probs", "focal", {"alpha": 0.6, "gamma": 0.0}, logits=False)
    seg("dice-single-class", "dice", {}, logits=False, shape=(5, 1, 25))

    def det(
        case_id: str,
        loss: str,
        params: dict[str, Any],
        *,
        n: int = 12,
        scores: str | None = None,
    ) -> None:
        pred, target = _boxes(rng, n)
        context: dict[str, Any] = {}
        if scores is not None:
            labels = (rng.uniform(size=n) < 0.4).astype(np.float64)
            if scores == "logits":
                s = rng.normal(0.0, 2.5, size=n) + 1.5 * (labels - 0.5)
            else:
                s = np.clip(0.5 * labels + 0.5 * rng.uniform(size=n), 0.0, 1.0)
            context = {
                "scores": s.tolist(),
                "labels": labels.tolist(),
                "from_logits": scores == "logits",
            }
        rows = detection_values(loss, pred, target, params, context)
        cases.append(
            {
                "id": case_id,
                "loss": loss,
                "task": "detection",
                "params": params,
                "context": context,
                "pred": pred.tolist(),
                "target": target.tolist(),
                "expected_rows": rows.tolist(),
                "expected": float(rows.mean()),
                "monai_checked": False,
            }
        )

    det("smooth_l1-beta1", "smooth_l1", {})
    det("smooth_l1-beta0.5", "smooth_l1", {"beta": 0.5})
    det("smooth_l1-beta0", "smooth_l1", {"beta": 0.0})
    det("giou-default", "giou", {})
    det("giou-eps1e-3", "giou", {"eps": 1e-3})
    det("focal_smooth_l1-probs", "focal_smooth_l1", {}, scores="probs")
    det(
        "focal_smooth_l1-logits-a-1",
        "focal_smooth_l1",
        {"alpha": -1.0, "gamma": 1.0, "beta": 2.0},
        scores="logits",
    )
    return cases


def _dumps(payload: dict[str, Any]) -> str:
    """Strict JSON with one case per line (readable diffs, exact float round-trip)."""
    head = {k: v for k, v in payload.items() if k != "cases"}
    lines = [json.dumps(c, allow_nan=False) for c in payload["cases"]]
    text = json.dumps(head, allow_nan=False)[:-1] + ', "cases": [\n'
    return text + ",\n".join(lines) + "\n]}\n"


def main() -> int:
    cases = build_cases()
    payload = {
        "generator": "tests/oracle/gen_segmentation.py",
        "torch": torch.__version__,
        "dtype": "float64",
        "seed": SEED,
        "cases": cases,
    }
    FIXTURE.parent.mkdir(parents=True, exist_ok=True)
    FIXTURE.write_text(_dumps(payload), encoding="utf-8")
    checked = sum(c["monai_checked"] for c in cases)
    print(f"wrote {len(cases)} cases to {FIXTURE} ({checked} cross-checked with MONAI)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
