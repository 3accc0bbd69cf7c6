"""The code the guide hands out: it compiles, names real classes, and — where torch is
installed — computes the same value as the losscli line that measures it."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from losscli.compute import compute
from losscli.registry import get_spec, loss_names
from losscli.rules import recommend
from losscli.rules.load import packaged_rules
from losscli.rules.schema import Choice

RULES = packaged_rules()

#: Every choice in the shipped guide: (where, task, choice).
CHOICES: list[tuple[str, str, Choice]] = []
for _rule in RULES.rules:
    if _rule.recommend is not None:
        assert _rule.when.task is not None
        CHOICES.append((f"{_rule.id}:recommend", _rule.when.task, _rule.recommend))
        CHOICES += [
            (f"{_rule.id}:alternatives[{i}]", _rule.when.task, alt)
            for i, alt in enumerate(_rule.alternatives)
        ]
SNIPPETS: list[tuple[str, str]] = [
    (f"{where}:{fw}", code) for where, _, c in CHOICES for fw, code in c.code.items()
] + [(f"addon {a.id}:{fw}", code) for a in RULES.addons.values() for fw, code in a.code.items()]

#: Classes and functions the Keras snippets may use (Keras 3 / tf.keras names).
KERAS_NAMES = {
    "losses": {
        "MeanSquaredError",
        "MeanAbsoluteError",
        "Huber",
        "BinaryCrossentropy",
        "BinaryFocalCrossentropy",
        "CategoricalCrossentropy",
        "SparseCategoricalCrossentropy",
        "CategoricalFocalCrossentropy",
        "Hinge",
        "SquaredHinge",
        "CategoricalHinge",
        "KLDivergence",
        "Dice",
        "Tversky",
        "binary_crossentropy",
    },
    "regularizers": {"L1", "L2"},
    "layers": {"Dense"},
}
#: torchvision.ops functions the PyTorch snippets may use (torchvision is not a test
#: dependency; both exist since torchvision 0.13).
TORCHVISION_OPS = {"sigmoid_focal_loss", "generalized_box_iou_loss"}


def test_every_choice_and_addon_has_both_snippets():
    for where, _, choice in CHOICES:
        assert set(choice.code) == {"pytorch", "keras"}, where
    for addon in RULES.addons.values():
        assert set(addon.code) == {"pytorch", "keras"}, addon.id


@pytest.mark.parametrize(("where", "code"), SNIPPETS, ids=[w for w, _ in SNIPPETS])
def test_snippet_compiles_and_fits_the_panel(where, code):
    compile(code, where, "exec")
    for line in code.splitlines():
        assert len(line) <= 76, f"{where}: {line!r} is too wide for an 80-column panel"


def test_pytorch_snippets_name_real_torch_classes():
    torch = pytest.importorskip("torch")
    seen = set()
    for where, _, choice in CHOICES:
        code = choice.code["pytorch"]
        for cls in re.findall(r"torch\.nn\.([A-Z]\w+)", code):
            assert hasattr(torch.nn, cls), f"{where}: torch.nn.{cls}"
            seen.add(cls)
        for fn in re.findall(r"\bF\.(\w+)\(", code) + re.findall(
            r"torch\.nn\.functional\.(\w+)", code
        ):
            assert hasattr(torch.nn.functional, fn), f"{where}: F.{fn}"
        for fn in re.findall(r"torchvision\.ops\.(\w+)|from torchvision\.ops import (\w+)", code):
            assert (fn[0] or fn[1]) in TORCHVISION_OPS, where
    assert {"HuberLoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "L1Loss", "MSELoss"} <= seen
    huber = next(c for w, _, c in CHOICES if w == "regression-outliers:recommend")
    assert "torch.nn.HuberLoss(delta=1.0)" in huber.code["pytorch"]
    ls = next(c for w, _, c in CHOICES if w == "multiclass-overconfident:recommend")
    assert "torch.nn.CrossEntropyLoss(label_smoothing=0.1)" in ls.code["pytorch"]


def test_keras_snippets_name_real_keras_classes():
    for where, _, choice in CHOICES:
        for module, name in re.findall(r"tf\.keras\.(\w+)\.(\w+)", choice.code["keras"]):
            assert name in KERAS_NAMES.get(module, set()), f"{where}: tf.keras.{module}.{name}"
    huber = next(c for w, _, c in CHOICES if w == "regression-outliers:recommend")
    assert "tf.keras.losses.Huber(delta=1.0)" in huber.code["keras"]


def test_every_recommended_loss_exists_and_is_measurable():
    names = set(loss_names())
    for where, task, choice in CHOICES:
        assert set(choice.losses) <= names, where
        for measured in choice.measure:
            get_spec(measured, task)  # raises if the loss does not apply to the task


def test_losscli_lines_are_complete_commands():
    for rule in RULES.rules:
        if rule.recommend is None:
            continue
        result = recommend(rule.when.task, rule.when.conditions)
        for rec in result["recommendations"]:
            line = rec["code"]["losscli"]
            assert line.startswith("losscli evaluate PREDS")
            assert f"--task {result['task']}" in line
            for name in rec["measure"]:
                assert f"--loss {name}" in line


# --------------------------------------------------------------------------- run the code

RNG = np.random.default_rng(20240611)


def _inputs() -> dict[str, np.ndarray]:
    n, c, px, d = 6, 4, 25, 3
    p = RNG.dirichlet(np.ones(c), size=n)
    q = RNG.dirichlet(np.ones(c), size=n)
    emb = RNG.normal(size=(n, 3 * d))
    return {
        "predictions": RNG.normal(size=n) * 3,
        "targets_reg": RNG.normal(size=n) * 3,
        "logits": RNG.normal(size=n) * 2,
        "targets_bin": (RNG.random(n) < 0.5).astype(np.float64),
        "logits_mc": RNG.normal(size=(n, c)) * 2,
        "class_indices": RNG.integers(0, c, size=n),
        "seg_logits": RNG.normal(size=(n, 2, px)),
        "masks": (RNG.random((n, 2, px)) < 0.3).astype(np.float64),
        "p": p,
        "q": q,
        "real_logits": RNG.normal(size=n),
        "fake_logits": RNG.normal(size=n),
        "recon": RNG.uniform(0.05, 0.95, size=(n, 5)),
        "x": RNG.uniform(0, 1, size=(n, 5)),
        "mu": RNG.normal(size=(n, 2)),
        "logvar": RNG.normal(size=(n, 2)) * 0.5,
        "emb": emb,
        "similar": (RNG.random(n) < 0.5).astype(np.float64),
    }


# (rule, rank, torch names → input keys, expression giving the loss after exec,
#  losscli (loss, task, pred key, target key, context))
RUNS: list[tuple[str, int, dict[str, str], str, tuple[Any, ...]]] = [
    ("regression", 1, {"predictions": "predictions", "targets": "targets_reg"}, "loss",
     ("mse", "regression", "predictions", "targets_reg", {})),
    ("regression-outliers", 1, {"predictions": "predictions", "targets": "targets_reg"}, "loss",
     ("huber", "regression", "predictions", "targets_reg", {})),
    ("regression-outliers", 2, {"predictions": "predictions", "targets": "targets_reg"}, "loss",
     ("mae", "regression", "predictions", "targets_reg", {})),
    ("binary", 1, {"logits": "logits", "targets": "targets_bin"}, "loss",
     ("bce", "binary", "logits", "targets_bin", {"from_logits": True})),
    ("binary-overconfident", 1, {"logits": "logits", "targets": "targets_bin"}, "loss",
     ("bce", "binary", "logits", "targets_bin", {"from_logits": True})),
    ("binary-margin", 1, {"scores": "logits", "targets": "targets_bin"}, "loss",
     ("hinge", "binary", "logits", "targets_bin", {"from_logits": True})),
    ("binary-margin", 2, {"scores": "logits", "targets": "targets_bin"}, "loss",
     ("squared_hinge", "binary", "logits", "targets_bin", {"from_logits": True})),
    ("multiclass", 1, {"logits": "logits_mc", "class_indices": "class_indices"}, "loss",
     ("cross_entropy", "multiclass", "logits_mc", "class_indices", {"from_logits": True})),
    ("multiclass-overconfident", 1, {"logits": "logits_mc", "class_indices": "class_indices"},
     "loss",
     ("cross_entropy", "multiclass", "logits_mc", "class_indices", {"from_logits": True})),
    ("multiclass-imbalanced", 1, {"logits": "logits_mc", "class_indices": "class_indices"},
     "loss", ("focal", "multiclass", "logits_mc", "class_indices", {"from_logits": True})),
    ("multiclass-margin", 1, {"scores": "logits_mc", "class_indices": "class_indices"}, "loss",
     ("multi_hinge", "multiclass", "logits_mc", "class_indices", {"from_logits": True})),
    ("segmentation", 1, {"logits": "seg_logits", "masks": "masks"}, "loss",
     ("dice_bce", "segmentation", "seg_logits", "masks", {"from_logits": True})),
    ("segmentation", 2, {"logits": "seg_logits", "masks": "masks"}, "loss",
     ("iou", "segmentation", "seg_logits", "masks", {"from_logits": True})),
    ("segmentation-imbalanced", 2, {"logits": "seg_logits", "masks": "masks"}, "loss",
     ("tversky", "segmentation", "seg_logits", "masks", {"from_logits": True})),
    ("segmentation-imbalanced", 3, {"logits": "seg_logits", "masks": "masks"}, "loss",
     ("focal_tversky", "segmentation", "seg_logits", "masks", {"from_logits": True})),
    ("distribution", 1, {"p": "p", "q": "q"}, "loss", ("kl_div", "distribution", "q", "p", {})),
    ("distribution", 2, {"p": "p", "q": "q"}, "loss", ("js_div", "distribution", "q", "p", {})),
    ("gan", 1, {"real_logits": "real_logits", "fake_logits": "fake_logits"}, "d_loss",
     ("gan_d", "gan", "real_logits", "fake_logits", {})),
    ("gan", 1, {"real_logits": "real_logits", "fake_logits": "fake_logits"}, "g_loss",
     ("gan_g", "gan", "real_logits", "fake_logits", {})),
    ("gan", 2, {"real_logits": "real_logits", "fake_logits": "fake_logits"}, "d_loss",
     ("hinge_d", "gan", "real_logits", "fake_logits", {})),
    ("gan", 2, {"real_logits": "real_logits", "fake_logits": "fake_logits"}, "g_loss",
     ("hinge_g", "gan", "real_logits", "fake_logits", {})),
    ("gan", 3, {"real_logits": "real_logits", "fake_logits": "fake_logits"}, "d_loss",
     ("lsgan_d", "gan", "real_logits", "fake_logits", {})),
    ("gan", 3, {"real_logits": "real_logits", "fake_logits": "fake_logits"}, "g_loss",
     ("lsgan_g", "gan", "real_logits", "fake_logits", {})),
    ("vae", 1, {"recon": "recon", "x": "x", "mu": "mu", "logvar": "logvar"},
     "vae_loss(recon, x, mu, logvar)", ("vae", "vae", "recon", "x", {"mu": "mu", "logvar": "logvar"})),
    ("vae", 2, {"recon": "recon", "x": "x", "mu": "mu", "logvar": "logvar"},
     "vae_loss(recon, x, mu, logvar)", ("vae", "vae", "recon", "x", {"mu": "mu", "logvar": "logvar"})),
]  # fmt: skip


@pytest.mark.parametrize(
    ("rule_id", "rank", "names", "expr", "oracle"),
    RUNS,
    ids=[f"{r[0]}#{r[1]}:{r[4][0]}" for r in RUNS],
)
def test_pytorch_snippet_matches_the_losscli_line(rule_id, rank, names, expr, oracle):
    """The snippet, run on float64 tensors, gives the value losscli computes with the
    parameters of the recommendation (torch 2.13.0 is the oracle's own library)."""
    torch = pytest.importorskip("torch")
    rule = next(r for r in RULES.rules if r.id == rule_id)
    rec = recommend(rule.when.task, rule.when.conditions)["recommendations"][rank - 1]
    data = _inputs()
    ns: dict[str, Any] = {}
    for name, key in names.items():
        arr = torch.from_numpy(data[key])
        ns[name] = arr.long() if key == "class_indices" else arr
    exec(rec["code"]["pytorch"], ns)
    got = float(eval(expr, ns))

    loss, task, pred_key, target_key, ctx = oracle
    context = {k: (data[v] if isinstance(v, str) else v) for k, v in ctx.items()}
    params = {k: v for k, v in rec["params"].items() if get_spec(loss, task).param(k)}
    want = compute(
        get_spec(loss, task),
        data[pred_key],
        data[target_key],
        params=params,
        context=context,
    ).value
    assert got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_embedding_snippets_match_losscli():
    torch = pytest.importorskip("torch")
    data = _inputs()
    emb, sim, d = data["emb"], data["similar"], 3
    recs = recommend("embedding")["recommendations"]

    ns: dict[str, Any] = {
        "anchor": torch.from_numpy(emb[:, :d]),
        "positive": torch.from_numpy(emb[:, d : 2 * d]),
        "negative": torch.from_numpy(emb[:, 2 * d :]),
    }
    exec(recs[0]["code"]["pytorch"], ns)
    want = compute(
        get_spec("triplet", "embedding"),
        emb,
        None,
        params=recs[0]["params"],
        context={"layout": "triplets"},
    ).value
    assert float(ns["loss"]) == pytest.approx(want, rel=1e-9)

    pairs = emb[:, : 2 * d]
    ns = {
        "emb_a": torch.from_numpy(pairs[:, :d]),
        "emb_b": torch.from_numpy(pairs[:, d:]),
        "similar": torch.from_numpy(sim),
    }
    exec(recs[1]["code"]["pytorch"], ns)
    want = compute(
        get_spec("contrastive", "embedding"),
        pairs,
        sim,
        params=recs[1]["params"],
        context={"layout": "pairs"},
    ).value
    # F.pairwise_distance adds eps = 1e-6 to the difference; losscli uses the plain norm
    assert float(ns["loss"]) == pytest.approx(want, rel=1e-5)
