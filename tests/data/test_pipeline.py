"""Every read path runs the one chunk step: the same rows read in one piece, streamed in
tiny chunks and as a glob of part files give the same values, warnings and errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from losscli.data.stream import open_source
from losscli.data.validate import DropTally, Invalid
from losscli.options import ReadOptions
from tests.conftest import write_csv

N = 60
PARTS = 3


def binary_rows(n: int = N, seed: int = 0) -> list[list[Any]]:
    rng = np.random.default_rng(seed)
    p = rng.uniform(0.02, 0.98, n)
    y = (rng.uniform(size=n) < p).astype(int)
    w = rng.uniform(0.5, 2.0, n)
    return [[f"{a:.6f}", int(b), f"{c:.4f}"] for a, b, c in zip(p, y, w)]


HEADER = ["p", "target", "w"]


def layouts(tmp_path: Path, rows: list[list[Any]]) -> dict[str, tuple[list[str], str]]:
    """The same rows as one file (read in one piece, and streamed in chunks of 7) and as
    part files of a glob: name → (arguments, --chunk-size)."""
    whole = write_csv(tmp_path / "whole.csv", HEADER, rows)
    parts = tmp_path / "parts"
    parts.mkdir()
    size = -(-len(rows) // PARTS)
    for i in range(PARTS):
        write_csv(parts / f"part{i + 1}.csv", HEADER, rows[i * size : (i + 1) * size])
    return {
        "memory": ([str(whole)], "0"),
        "stream": ([str(whole)], "7"),
        "parts": ([str(parts / "part*.csv")], "7"),
    }


def evaluate(cli: Any, args: list[str], chunk: str, *extra: str) -> Any:
    return cli("evaluate", *args, "--json", "--chunk-size", chunk, *extra)


def doc(cli: Any, args: list[str], chunk: str, *extra: str) -> dict[str, Any]:
    r = evaluate(cli, args, chunk, *extra)
    assert r.exit_code in (0, 1), r.stderr
    return json.loads(r.stdout)


def values(d: dict[str, Any]) -> dict[str, Any]:
    return {x["name"]: x["value"] for x in d["losses"]}


def same_values(a: dict[str, Any], b: dict[str, Any]) -> None:
    va, vb = values(a), values(b)
    assert va.keys() == vb.keys()
    for name, v in va.items():
        if v is None:
            assert vb[name] is None, name
        else:
            np.testing.assert_allclose(v, vb[name], rtol=1e-12, err_msg=name)
    for key in ("task", "n_samples", "input_kind"):
        assert a.get(key) == b.get(key), key


def test_three_paths_give_the_same_values(cli: Any, tmp_path: Path) -> None:
    paths = layouts(tmp_path, binary_rows())
    docs = {k: doc(cli, args, chunk, "--weight-col", "w") for k, (args, chunk) in paths.items()}
    assert docs["stream"]["read"]["mode"] == "stream" and docs["stream"]["read"]["chunks"] > 1
    assert docs["parts"]["read"]["mode"] == "stream"  # a glob streams file by file
    same_values(docs["memory"], docs["stream"])
    same_values(docs["memory"], docs["parts"])


def test_nan_cell_same_error_in_memory_and_streamed(cli: Any, tmp_path: Path) -> None:
    rows = binary_rows()
    rows[45][0] = "nan"
    paths = layouts(tmp_path, rows)
    errors = {k: evaluate(cli, args, chunk) for k, (args, chunk) in paths.items()}
    for r in errors.values():
        assert r.exit_code == 3 and "column 'p' has a missing value" in r.stderr
    assert errors["memory"].stderr == errors["stream"].stderr
    assert "part3.csv" in errors["parts"].stderr


def test_nan_cells_dropped_same_warning(cli: Any, tmp_path: Path) -> None:
    rows = binary_rows()
    for i in (3, 30, 58):
        rows[i][1] = ""
    paths = layouts(tmp_path, rows)
    docs = {k: doc(cli, args, chunk, "--drop-invalid") for k, (args, chunk) in paths.items()}
    same_values(docs["memory"], docs["stream"])
    same_values(docs["memory"], docs["parts"])
    dropped = [
        [w for w in d["warnings"] if w.startswith("dropped 3 of 60 rows")] for d in docs.values()
    ]
    assert all(len(d) == 1 for d in dropped), dropped
    assert dropped[0] == dropped[1]


def test_every_row_invalid_same_error(cli: Any, tmp_path: Path) -> None:
    rows = binary_rows(20)
    for r in rows:
        r[0] = "nan"
    whole = write_csv(tmp_path / "whole.csv", HEADER, rows)
    errors = [evaluate(cli, [str(whole)], chunk, "--drop-invalid") for chunk in ("0", "7")]
    assert errors[0].exit_code == errors[1].exit_code == 3
    assert "every row has a missing or non-finite value" in errors[0].stderr
    assert errors[0].stderr == errors[1].stderr


def test_zero_weights_same_error(cli: Any, tmp_path: Path) -> None:
    rows = binary_rows(20)
    for r in rows:
        r[2] = "0"
    whole = write_csv(tmp_path / "whole.csv", HEADER, rows)
    errors = [evaluate(cli, [str(whole)], chunk, "--weight-col", "w") for chunk in ("0", "7")]
    assert errors[0].exit_code == errors[1].exit_code == 3
    assert "every sample weight in column 'w' is 0" in errors[0].stderr
    assert errors[0].stderr == errors[1].stderr


def test_missing_column_same_error(cli: Any, tmp_path: Path) -> None:
    paths = layouts(tmp_path, binary_rows())
    errors = {
        k: evaluate(cli, args, chunk, "--pred-col", "nope") for k, (args, chunk) in paths.items()
    }
    for r in errors.values():
        assert r.exit_code == 3 and "nope" in r.stderr
    assert errors["memory"].stderr == errors["stream"].stderr


def test_row_count_mismatch_same_error(cli: Any, tmp_path: Path) -> None:
    rows = binary_rows()
    preds = write_csv(tmp_path / "p.csv", ["p"], [[r[0]] for r in rows])
    targets = write_csv(tmp_path / "t.csv", ["target"], [[r[1]] for r in rows[:-1]])
    errors = [evaluate(cli, [str(preds), str(targets)], chunk) for chunk in ("0", "7", "25")]
    for r in errors:
        assert r.exit_code == 3
        assert "row counts differ: p.csv has 60 rows, t.csv has 59" in r.stderr.replace(
            str(tmp_path) + "/", ""
        )


def test_duplicate_id_same_error(cli: Any, tmp_path: Path) -> None:
    rows = binary_rows()
    ids = list(range(N))
    ids[10] = ids[3]
    preds = write_csv(tmp_path / "p.csv", ["id", "p"], [[i, r[0]] for i, r in zip(ids, rows)])
    targets = write_csv(
        tmp_path / "t.csv", ["id", "target"], [[i, r[1]] for i, r in enumerate(rows)]
    )
    errors = [evaluate(cli, [str(preds), str(targets)], chunk) for chunk in ("0", "7")]
    assert errors[0].exit_code == errors[1].exit_code == 3
    assert "duplicate id" in errors[0].stderr
    assert errors[0].stderr == errors[1].stderr


def test_source_totals_match_the_whole_read(tmp_path: Path) -> None:
    rows = binary_rows()
    rows[7][0] = "inf"
    whole = str(write_csv(tmp_path / "whole.csv", HEADER, rows))
    memory = open_source(whole, None, ReadOptions(drop_invalid=True), chunk_rows=0)
    stream = open_source(whole, None, ReadOptions(drop_invalid=True), chunk_rows=7)
    try:
        chunks = list(stream.chunks())
        assert len(chunks) > 1
        a, b = memory.summary(), stream.summary()
        assert a.n_samples == b.n_samples == N - 1
        assert a.warnings == b.warnings[: len(a.warnings)]
        np.testing.assert_array_equal(a.pred, np.concatenate([c.pred for c in chunks]))
        np.testing.assert_array_equal(
            a.row_numbers, np.concatenate([c.row_numbers for c in chunks])
        )
    finally:
        memory.close()
        stream.close()


@pytest.mark.parametrize("split", [1, 2, 5])
def test_drop_tally_merge_is_the_tally_of_all_rows(tmp_path: Path, split: int) -> None:
    """Tallies of consecutive chunks merge into the tally of one read (first rows shown)."""
    from losscli.data.align import RowRef
    from losscli.data.readers import read_table

    path = write_csv(tmp_path / "t.csv", ["a"], [[i] for i in range(8)])
    ref = RowRef(read_table(str(path)))

    def found(rows: list[int]) -> list[Invalid]:
        return [Invalid(ref, "a", np.array(rows), len(rows), 0)]

    rows = [0, 2, 3, 5, 7]
    whole = DropTally().add(found(rows))
    merged = DropTally().add(found(rows[:split])).merge(DropTally().add(found(rows[split:])))
    assert merged.warning(5, 8) == whole.warning(5, 8)
