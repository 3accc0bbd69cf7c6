"""The HTML report as a browser draws it: headless Chromium screenshots, offline.

Marked ``browser`` (``pytest -m browser``; CI installs Chromium first) and skipped when
no Chromium is installed. Each page is opened from a ``file://`` URL with networking
features off and a fresh profile; the screenshot must be a real rendering: many
distinct colours (text, tables and the charts' palette), and the chart colours present.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
#: A blank or error page has a handful of colours; a rendered report has hundreds
#: (anti-aliased text, tables, SVG charts).
MIN_COLOURS = 200

PAGES = [
    ("regression", "evaluate", ["regression_preds.csv", "regression_targets.csv"]),
    ("binary", "evaluate", ["binary_probs.csv", "binary_targets.csv"]),
    ("segmentation", "evaluate", ["segmentation_preds.npy", "segmentation_masks.npy"]),
    ("embedding", "evaluate", ["embeddings.csv", "embedding_labels.csv"]),
    (
        "compare",
        "compare",
        ["regression_preds.csv", "regression_preds_b.csv", "regression_targets.csv"],
    ),
]


def screenshot(html: Path, png: Path, profile: Path, height: int = 1600) -> None:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size=1200,{height}",
        html.resolve().as_uri(),
    ]
    subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    assert png.exists() and png.stat().st_size > 0, "Chromium wrote no screenshot"


def colours(png: Path) -> np.ndarray:
    from matplotlib.image import imread

    img = imread(png)  # float RGB(A) in [0, 1]
    rgb = np.round(img[..., :3] * 255).astype(np.int64)
    return rgb.reshape(-1, 3)


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
@pytest.mark.parametrize(("case", "command", "files"), PAGES, ids=[p[0] for p in PAGES])
def test_report_renders(cli, samples, tmp_path, case, command, files):
    html = tmp_path / f"{case}.html"
    r = cli(command, *(samples / f for f in files), "-o", html, "-q")
    assert r.exit_code == 0, r.stderr
    png = tmp_path / f"{case}.png"
    # tall enough for the first chart; the page's first screen is tables and text
    screenshot(html, png, tmp_path / "profile", height=2600)
    px = colours(png)
    distinct = np.unique(px[:, 0] * 65536 + px[:, 1] * 256 + px[:, 2]).size
    assert distinct > MIN_COLOURS, f"{distinct} colours: the page did not render"
    non_white = float(np.mean(px.min(axis=1) < 245))
    assert non_white > 0.03, f"only {non_white:.1%} of the screenshot is not white"
    # the charts' palette is on screen (Okabe–Ito blue, vermillion or bluish green)
    palette = ([0, 114, 178], [213, 94, 0], [0, 158, 115])
    hits = sum(int(np.all(np.abs(px - c) <= 6, axis=1).sum()) for c in palette)
    assert hits > 500, "no chart colours in the screenshot"
