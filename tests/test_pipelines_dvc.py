"""The README's DVC stage run by the real dvc: ``dvc repro``, ``dvc metrics show`` lists
every loss (and the per-class values) and ``dvc metrics diff`` the change between two
commits. Marked ``dvc``: run by ``.ci/run`` with the ``ci`` extra; skipped without dvc."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from losscli import evaluate
from tests.conftest import ROOT, SAMPLES

pytestmark = [
    pytest.mark.dvc,
    pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed"),
]


def _dvc() -> list[str]:
    exe = shutil.which("dvc", path=str(Path(sys.executable).parent)) or shutil.which("dvc")
    if exe is None:
        pytest.skip("dvc is not installed (pip install -e '.[ci]')")
    return [exe]


def _run(cmd: list[str], cwd: Path) -> str:
    env = {
        **os.environ,
        # the venv's losscli first, as an activated environment has it
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "ci",
        "GIT_AUTHOR_EMAIL": "ci@example.com",
        "GIT_COMMITTER_NAME": "ci",
        "GIT_COMMITTER_EMAIL": "ci@example.com",
    }
    env.pop("GITHUB_ACTIONS", None)
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, (cmd, done.stdout, done.stderr)
    return done.stdout


def _readme_stage() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Use it in CI") : text.index("## Python API")]
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", section, flags=re.S) if "stages:" in b]
    return yaml.safe_load(block)


def _repo(tmp_path: Path, stage: dict) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _run(["git", "init", "-q", "-b", "main"], repo)
    _run([*_dvc(), "init", "-q"], repo)
    (repo / "dvc.yaml").write_text(yaml.safe_dump(stage, sort_keys=False))
    return repo


def test_readme_dvc_stage_metrics_show_and_diff(tmp_path):
    repo = _repo(tmp_path, _readme_stage())
    shutil.copy(SAMPLES / "regression_preds.csv", repo / "preds.csv")
    shutil.copy(SAMPLES / "regression_targets.csv", repo / "targets.csv")
    _run([*_dvc(), "repro", "-q"], repo)
    shown = json.loads(_run([*_dvc(), "metrics", "show", "--json"], repo))
    got = next(iter(shown.values()))["data"]["losses.metrics.json"]["data"]
    expected = evaluate(str(repo / "preds.csv"), str(repo / "targets.csv")).data["values"]
    assert got == pytest.approx(expected, rel=1e-12)  # every loss, none dropped
    _run(["git", "add", "-A"], repo)
    _run(["git", "commit", "-q", "-m", "model a"], repo)

    shutil.copy(SAMPLES / "regression_preds_b.csv", repo / "preds.csv")
    _run([*_dvc(), "repro", "-q"], repo)
    diff = json.loads(_run([*_dvc(), "metrics", "diff", "--json", "main"], repo))
    mse = diff["losses.metrics.json"]["mse"]
    new = evaluate(str(repo / "preds.csv"), str(repo / "targets.csv")).data["values"]["mse"]
    assert mse["old"] == pytest.approx(expected["mse"]) and mse["new"] == pytest.approx(new)
    assert mse["diff"] == pytest.approx(new - expected["mse"])


def test_dvc_reads_per_class_values(tmp_path):
    stage = {
        "stages": {
            "losses": {
                "cmd": "losscli evaluate preds.csv targets.csv --per-class --quiet "
                "-o losses.metrics.json",
                "deps": ["preds.csv", "targets.csv"],
                "metrics": [{"losses.metrics.json": {"cache": False}}],
            }
        }
    }
    repo = _repo(tmp_path, stage)
    shutil.copy(SAMPLES / "multiclass_probs.csv", repo / "preds.csv")
    shutil.copy(SAMPLES / "multiclass_targets.csv", repo / "targets.csv")
    _run([*_dvc(), "repro", "-q"], repo)
    shown = json.loads(_run([*_dvc(), "metrics", "show", "--json"], repo))
    got = next(iter(shown.values()))["data"]["losses.metrics.json"]["data"]
    doc = evaluate(str(repo / "preds.csv"), str(repo / "targets.csv"), per_class=True).data
    assert got["per_class"] == doc["per_class_values"]
    assert got["cross_entropy"] == pytest.approx(doc["values"]["cross_entropy"])
