"""``recommend --from-data TARGETS``: the task of a targets file read alone, inferred by
the data layer (:func:`losscli.data.infer.infer_targets_task`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_csv


def task_of(cli: Any, path: Path, *extra: str) -> tuple[str, list[str]]:
    r = cli("recommend", "--from-data", path, "--json", *extra)
    assert r.exit_code == 0, r.stderr
    doc = json.loads(r.stdout)
    return doc["task"], [e["sentence"] for e in doc["evidence"] if e["name"] == "task"]


@pytest.mark.parametrize(
    ("header", "rows", "task", "why"),
    [
        (["id", "y"], [[i, i % 2] for i in range(40)], "binary", "are all 0 or 1 → binary"),
        (["y"], [[i % 4] for i in range(40)], "multiclass", "are 4 integer labels → multiclass"),
        (["y"], [[i % 4] for i in range(12)], "regression", "continuous (4 distinct values)"),
        (["y"], [[i * 0.5] for i in range(40)], "regression", "→ regression"),
        (["a", "b"], [[i % 2, (i // 2) % 2] for i in range(20)], "multilabel", "0/1 values"),
        (["a", "b"], [[i * 0.1, i] for i in range(20)], "regression", "continuous target"),
        (["label"], [["cat" if i % 3 else "dog"] for i in range(30)], "binary", "2 classes"),
        (["label"], [[("a", "b", "c")[i % 3]] for i in range(30)], "multiclass", "3 classes"),
    ],
)
def test_task_inferred_from_targets_alone(
    cli: Any, tmp_path: Path, header: list[str], rows: list[list[Any]], task: str, why: str
) -> None:
    got, sentences = task_of(cli, write_csv(tmp_path / "t.csv", header, rows))
    assert got == task
    assert any(why in s for s in sentences), sentences


def test_given_task_is_kept(cli: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", ["y"], [[i % 2] for i in range(40)])
    got, sentences = task_of(cli, path, "--task", "regression")
    assert got == "regression" and sentences == ["task given: regression"]


def test_only_an_id_column_is_a_data_error(cli: Any, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", ["id"], [[i] for i in range(5)])
    r = cli("recommend", "--from-data", path, "--json")
    assert r.exit_code == 3
    assert "has no target column" in r.stderr
