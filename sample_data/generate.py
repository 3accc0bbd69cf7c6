"""Regenerate the sample files of this folder (deterministic: numpy seed 20261122).

    python sample_data/generate.py [OUTPUT_DIR]

Every task of losscli has a small, realistic pair of files here; see README.md.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SEED = 20261122


def write_csv(path: Path, header: Sequence[str], columns: Sequence[np.ndarray], fmt: str) -> None:
    """Write columns as CSV; floats with ``fmt``, integers and strings as they are."""
    n = len(columns[0])
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(header)
        for i in range(n):
            row = []
            for col in columns:
                v = col[i]
                if isinstance(v, (str, np.str_)):
                    row.append(str(v))
                elif np.issubdtype(type(v), np.integer):
                    row.append(str(int(v)))
                else:
                    row.append(format(float(v), fmt))
            w.writerow(row)


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def rounded_distribution(p: np.ndarray, decimals: int = 6) -> np.ndarray:
    """Round rows to ``decimals`` while keeping each row's sum exactly 1 in decimal."""
    r = np.round(p, decimals)
    r[:, -1] = np.round(1.0 - r[:, :-1].sum(axis=1), decimals)
    return r


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def regression(out: Path, rng: np.random.Generator) -> None:
    # House prices in $1000s from a model that is good except for a few outliers.
    n = 200
    ids = np.arange(1001, 1001 + n)
    size = rng.uniform(50, 250, n)
    target = 40 + 1.8 * size + rng.normal(0, 15, n)
    pred = target + rng.normal(0, 12, n)
    outliers = rng.choice(n, 6, replace=False)
    target[outliers] += rng.choice([-1, 1], 6) * rng.uniform(150, 300, 6)
    write_csv(out / "regression_preds.csv", ["id", "prediction"], [ids, pred], ".2f")
    order = rng.permutation(n)  # different row order: the files join on id
    write_csv(out / "regression_targets.csv", ["id", "price"], [ids[order], target[order]], ".2f")


def regression_model_b(out: Path, rng: np.random.Generator) -> None:
    # A second house-price model for `compare`: it follows even the outlying prices, but
    # with moderate errors everywhere (mse prefers it, mae prefers the first model).
    ids, price = np.loadtxt(out / "regression_targets.csv", delimiter=",", skiprows=1).T
    order = np.argsort(ids)
    pred = price[order] + rng.normal(0, 22, ids.size)
    write_csv(
        out / "regression_preds_b.csv", ["id", "prediction"], [ids[order].astype(int), pred], ".2f"
    )


def binary(out: Path, rng: np.random.Generator) -> None:
    # Fraud detection: about 5% positives.
    n = 400
    y = (rng.random(n) < 0.05).astype(np.int64)
    y[:2] = [1, 0]
    logit = rng.normal(-3.0, 1.2, n) + y * rng.normal(3.5, 1.0, n)
    write_csv(out / "binary_targets.csv", ["is_fraud"], [y], "d")
    write_csv(out / "binary_probs.csv", ["p_fraud"], [sigmoid(logit)], ".6f")
    write_csv(out / "binary_logits.csv", ["logit"], [logit], ".6f")


def multiclass(out: Path, rng: np.random.Generator) -> None:
    classes = np.array(["cat", "dog", "bird"])
    n = 300
    y = rng.choice(3, n, p=[0.45, 0.4, 0.15])
    z = rng.normal(0, 1.0, (n, 3))
    z[np.arange(n), y] += rng.normal(2.0, 1.0, n)
    p = rounded_distribution(softmax(z))
    write_csv(out / "multiclass_probs.csv", list(classes), list(p.T), ".6f")
    write_csv(out / "multiclass_targets.csv", ["label"], [classes[y]], "")


def multilabel(out: Path, rng: np.random.Generator) -> None:
    # Movie genres: any number of tags per movie.
    genres = ["action", "comedy", "drama", "horror"]
    n = 250
    y = (rng.random((n, 4)) < np.array([0.3, 0.35, 0.45, 0.1])).astype(np.int64)
    logits = rng.normal(-1.5, 1.0, (n, 4)) + y * rng.normal(3.0, 1.0, (n, 4))
    write_csv(out / "multilabel_preds.csv", genres, list(sigmoid(logits).T), ".6f")
    write_csv(out / "multilabel_targets.csv", genres, list(y.T), "d")


def segmentation(out: Path, rng: np.random.Generator) -> None:
    # Six 16×16 images, each with one round blob; predictions are soft and a bit off.
    n, size = 6, 16
    yy, xx = np.mgrid[0:size, 0:size]
    masks = np.zeros((n, size, size), dtype=np.uint8)
    preds = np.zeros((n, size, size), dtype=np.float64)
    for i in range(n):
        cy, cx = rng.uniform(4, 12, 2)
        r = rng.uniform(2.5, 5.0)
        d = np.hypot(yy - cy, xx - cx)
        masks[i] = d <= r
        dy, dx = rng.normal(0, 0.8, 2)
        d_pred = np.hypot(yy - cy - dy, xx - cx - dx)
        preds[i] = sigmoid(2.0 * (r * rng.uniform(0.85, 1.15) - d_pred))
    masks[5] = 0  # one image without foreground
    preds[5] = sigmoid(rng.normal(-4.0, 1.0, (size, size)))
    np.save(out / "segmentation_preds.npy", np.round(preds, 6))
    np.save(out / "segmentation_masks.npy", masks)


def detection(out: Path, rng: np.random.Generator) -> None:
    # Matched box pairs (x1, y1, x2, y2 in pixels); label 1 = true match.
    n = 120
    x1 = rng.uniform(0, 500, n)
    y1 = rng.uniform(0, 350, n)
    w = rng.uniform(20, 140, n)
    h = rng.uniform(20, 120, n)
    tgt = np.stack([x1, y1, x1 + w, y1 + h], axis=1)
    label = (rng.random(n) < 0.8).astype(np.int64)
    jitter = rng.normal(0, 4, (n, 4)) + (1 - label)[:, None] * rng.normal(0, 30, (n, 4))
    pred = tgt + jitter
    pred[:, 2] = np.maximum(pred[:, 2], pred[:, 0] + 2)
    pred[:, 3] = np.maximum(pred[:, 3], pred[:, 1] + 2)
    score = sigmoid(rng.normal(-1.0, 1.0, n) + 3.0 * label)
    write_csv(
        out / "detection_preds.csv",
        ["x1", "y1", "x2", "y2", "score"],
        [*pred.T, score],
        ".2f",
    )
    write_csv(
        out / "detection_targets.csv",
        ["x1", "y1", "x2", "y2", "label"],
        [*np.round(tgt.T, 2), label],
        ".2f",
    )


def embedding(out: Path, rng: np.random.Generator) -> None:
    # 8-dimensional face embeddings of 5 people, 20 images each.
    n_people, per, d = 5, 20, 8
    centres = rng.normal(0, 1.0, (n_people, d))
    labels = np.repeat(np.arange(n_people), per)
    emb = centres[labels] + rng.normal(0, 0.35, (n_people * per, d))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    order = rng.permutation(labels.size)
    write_csv(out / "embeddings.csv", [f"e{j}" for j in range(d)], list(emb[order].T), ".5f")
    write_csv(out / "embedding_labels.csv", ["person"], [labels[order]], "d")


def distribution(out: Path, rng: np.random.Generator) -> None:
    # Predicted vs observed share of 5 answer options per survey question.
    n, k = 150, 5
    true = rng.dirichlet(np.full(k, 1.5), n)
    noisy = true * np.exp(rng.normal(0, 0.25, (n, k)))
    pred = noisy / noisy.sum(axis=1, keepdims=True)
    cols = [f"option_{j}" for j in range(k)]
    write_csv(out / "distribution_preds.csv", cols, list(rounded_distribution(pred).T), ".6f")
    write_csv(out / "distribution_targets.csv", cols, list(rounded_distribution(true).T), ".6f")


def vae(out: Path, rng: np.random.Generator) -> None:
    # Binarised 4×4 patches (16 features) with a 3-dimensional latent space.
    n, f, k = 100, 16, 3
    x = (rng.random((n, f)) < 0.3).astype(np.int64)
    recon = np.clip(0.15 + 0.7 * x + rng.normal(0, 0.08, (n, f)), 0.01, 0.99)
    mu = rng.normal(0, 0.8, (n, k))
    logvar = rng.normal(-1.0, 0.4, (n, k))
    header = [f"x{j}" for j in range(f)] + [f"mu_{j}" for j in range(k)]
    header += [f"logvar_{j}" for j in range(k)]
    write_csv(out / "vae_outputs.csv", header, [*recon.T, *mu.T, *logvar.T], ".5f")
    write_csv(out / "vae_inputs.csv", [f"x{j}" for j in range(f)], list(x.T), "d")


def gan(out: Path, rng: np.random.Generator) -> None:
    # Discriminator logits on a batch of real and of generated samples.
    n = 200
    real = rng.normal(1.2, 1.0, n)
    fake = rng.normal(-0.8, 1.1, n)
    write_csv(out / "gan_scores.csv", ["real", "fake"], [real, fake], ".5f")


def main(argv: Sequence[str]) -> None:
    out = Path(argv[0]) if argv else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    for make in (
        regression,
        binary,
        multiclass,
        multilabel,
        segmentation,
        detection,
        embedding,
        distribution,
        vae,
        gan,
    ):
        make(out, rng)
    # separate stream, so adding it left every earlier file unchanged
    regression_model_b(out, np.random.default_rng(SEED + 1))


if __name__ == "__main__":
    main(sys.argv[1:])
