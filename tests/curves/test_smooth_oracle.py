"""Live: ``--smooth`` against TensorBoard's own smoothing code, taken from the installed
``tensorboard`` package (its web bundle, ``webfiles.zip`` → ``index.js``) and run with
Node.js on random series with NaN, ±inf, constant runs and edge weights."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

from losscli.curves.smooth import tensorboard_smooth

pytestmark = pytest.mark.oracle

#: The start of the smoothing function's body in TensorBoard's bundle.
ANCHOR = "Number.isFinite(e)||(e=0),e=Math.max(0,Math.min(e,1));let n=[];for(let i of t)"

HARNESS = """
const Ys = (self, args, gen) => { const g = gen(); let r = g.next(); return r.value; };
const smooth = %s;
const dec = v => v === "nan" ? NaN : v === "inf" ? Infinity : v === "-inf" ? -Infinity : v;
const enc = v => Number.isNaN(v) ? "nan" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : v;
const cases = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = cases.map(([w, ys]) => {
  if (w <= 0) return ys;  // the scalar card passes the series through when w <= 0
  const series = [{id: "s", points: ys.map((y, x) => ({x, y: dec(y)}))}];
  return smooth(series, w)[0].points.map(p => enc(p.y));
});
process.stdout.write(JSON.stringify(out));
"""


def _tb_smoothing_source() -> str:
    tb = pytest.importorskip("tensorboard")
    bundle = Path(tb.__file__).parent / "webfiles.zip"
    text = zipfile.ZipFile(bundle).read("index.js").decode("utf-8")
    i = text.index(ANCHOR)
    start = text.rindex("function(t,e){", 0, i)
    end = text.index("return n})}", i) + len("return n})}")
    return text[start:end]


def _enc(v: float) -> float | str:
    return "nan" if np.isnan(v) else "inf" if v == np.inf else "-inf" if v == -np.inf else v


def test_smoothing_equals_tensorboards_own_code() -> None:
    node = shutil.which("node")
    if node is None:
        pytest.skip("needs Node.js")
    src = _tb_smoothing_source()
    rng = random.Random(0)
    cases = []
    for _ in range(300):
        n = rng.randint(1, 40)
        pool = [rng.uniform(-3, 3) for _ in range(4)] + [float("nan"), float("inf"), -np.inf]
        ys = [rng.choice(pool) if rng.random() < 0.3 else rng.uniform(0, 5) for _ in range(n)]
        if rng.random() < 0.1:
            ys = [ys[0]] * n
        w = rng.choice([0.0, 0.3, 0.6, 0.9, 0.99, 0.999, 1.0, rng.random()])
        cases.append([w, [_enc(v) for v in ys]])
    res = subprocess.run(
        [node, "-e", HARNESS % src],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
    )
    for (w, ys), want in zip(cases, json.loads(res.stdout)):
        dec = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf}
        y = np.array([dec.get(v, v) if isinstance(v, str) else v for v in ys], dtype=float)
        got = tensorboard_smooth(y, w)
        exp = np.array([dec.get(v, v) if isinstance(v, str) else v for v in want], dtype=float)
        # NaN/±inf exactly in place; values to a few ulps (V8's Math.pow and libm's pow
        # may round wⁿ differently in the last bit)
        np.testing.assert_array_equal(~np.isfinite(got), ~np.isfinite(exp))
        np.testing.assert_array_equal(got[~np.isfinite(got)], exp[~np.isfinite(exp)])
        np.testing.assert_allclose(got, exp, rtol=1e-13, atol=0, err_msg=f"w={w} ys={ys}")
