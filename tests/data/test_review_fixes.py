"""Regression tests for the data-layer findings of the new-user review.

Each test names the finding it guards: rounded multiclass probabilities, percentages,
swapped or oddly coded label files, the order of a directory's files, missing columns,
long-form segmentation, domain error positions, ragged CSV lines and the input kind of
distributions.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from losscli.compute import check_domains
from losscli.data import load_dataset
from losscli.data.infer import infer_input_kind, sum_tolerance
from losscli.data.readers import natural_key
from losscli.data.stream import open_source
from losscli.errors import ExitCode
from losscli.registry import get_spec

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "sample_data"


def _json(cli, *args: str) -> dict:
    r = cli("evaluate", *args, "--format", "json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def _loss(doc: dict, name: str) -> float:
    return next(x["value"] for x in doc["losses"] if x["name"] == name)


def _error(r, code: int) -> tuple[str, str]:
    """(Error line, hint line) of a clean error exit."""
    assert r.exit_code == code, (r.exit_code, r.stdout, r.stderr)
    assert r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    err = next(ln for ln in lines if ln.startswith("Error: "))
    hint = next((ln for ln in lines if ln.startswith("hint: ")), "")
    return err, hint


# --------------------------------------------------------------------------- 1. rounding

# Four rows of probabilities written with 2 decimals: row sums 0.99, 1.0, 0.99, 1.01.
ROUNDED = "a,b,c\n0.33,0.33,0.33\n0.70,0.20,0.10\n0.25,0.25,0.49\n0.12,0.79,0.10\n"
ROUNDED_Y = "y\n0\n0\n2\n1\n"


def test_rounded_multiclass_probabilities_are_probabilities_with_a_warning(cli, write):
    doc = _json(cli, write("p.csv", ROUNDED), write("y.csv", ROUNDED_Y))
    assert doc["task"]["input"] == "probabilities" and doc["task"]["input_inferred"]
    assert any(
        "rows sum to 1 only within 0.01 — treated as probabilities; pass --logits" in w
        for w in doc["warnings"]
    )
    # cross_entropy on probabilities is −mean log p_y (no renormalisation), by hand:
    expected = -(math.log(0.33) + math.log(0.70) + math.log(0.49) + math.log(0.79)) / 4
    assert _loss(doc, "cross_entropy") == pytest.approx(expected, rel=1e-12)  # 0.603602…


def test_three_decimal_rounding_is_accepted_too(write):
    ds = load_dataset(
        write("p.csv", "a,b,c\n0.333,0.333,0.333\n0.101,0.452,0.448\n"),
        write("y.csv", "y\n0\n2\n"),
    )
    assert ds.input_kind == "probabilities"
    assert any("within 0.001" in w for w in ds.warnings)


def test_scores_in_unit_interval_whose_rows_do_not_sum_to_one_stay_logits(write):
    # rows sum to 1.04 and 0.95: further from 1 than 3 classes of rounding explain (0.015)
    ds = load_dataset(
        write("p.csv", "a,b,c\n0.5,0.3,0.24\n0.2,0.35,0.4\n"), write("y.csv", "y\n0\n2\n")
    )
    assert ds.input_kind == "logits" and ds.context["from_logits"] is True
    assert not ds.warnings


def test_sum_tolerance_bounds():
    # min(max(C·5e-3, 0.01), 0.1): 2 classes 0.01, 4 classes 0.02, 100 classes capped at 0.1
    assert sum_tolerance(2) == pytest.approx(0.01)
    assert sum_tolerance(4) == pytest.approx(0.02)
    assert sum_tolerance(100) == pytest.approx(0.1)
    exact = np.array([[0.2, 0.3, 0.5]])
    assert infer_input_kind(exact, task="multiclass", logits=None).warnings == []


def test_streamed_chunks_accept_the_same_rounding(write):
    # chunks of 2 rows: the second chunk (sums 0.99 and 1.01) is checked with the same
    # tolerance as the first, not rejected as leaving the probabilities
    src = open_source(write("p.csv", ROUNDED), write("y.csv", ROUNDED_Y), chunk_rows=2)
    try:
        rows = sum(ds.n_samples for ds in src.chunks())
    finally:
        src.close()
    assert rows == 4 and src.first.input_kind == "probabilities"


# --------------------------------------------------------------------------- 2. percentages


def test_binary_percentages_warn_to_divide_by_100(cli, write):
    p, y = write("p.csv", "p\n90\n20\n75\n10\n"), write("y.csv", "y\n1\n0\n1\n0\n")
    doc = _json(cli, p, y)
    assert doc["task"]["input"] == "logits"
    assert any(
        "predictions lie in [0, 100] — if they are percentages, divide by 100" in w
        for w in doc["warnings"]
    )
    err, hint = _error(cli("evaluate", p, y, "--probs"), ExitCode.DATA_ERROR)
    assert "probabilities (--probs) must be in [0, 1]" in err
    assert "divide by 100" in hint and "look like logits" not in hint


def test_real_logits_get_no_percentage_warning(write):
    ds = load_dataset(
        write("p.csv", "p\n2.5\n-1.0\n3.0\n-0.5\n"), write("y.csv", "y\n1\n0\n1\n0\n")
    )
    assert ds.input_kind == "logits" and not ds.warnings


def test_multiclass_percentages_summing_to_100_warn(write):
    ds = load_dataset(write("p.csv", "a,b\n70,30\n20,80\n"), write("y.csv", "y\n0\n1\n"))
    assert ds.input_kind == "logits"
    assert any("every row sums to 100" in w and "divide by 100" in w for w in ds.warnings)


# --------------------------------------------------------------------------- 3. labels


def test_swapped_files_warn(cli, write):
    labels = write("targets.csv", "y\n1\n0\n1\n0\n")
    probs = write("preds.csv", "p\n0.9\n0.2\n0.75\n0.1\n")
    doc = _json(cli, labels, probs)  # evaluate TARGETS PREDS: the wrong order
    assert doc["task"]["name"] == "regression" and doc["ok"]
    assert any("look swapped" in w and "TARGETS comes second" in w for w in doc["warnings"])
    right = _json(cli, probs, labels)
    assert right["task"]["name"] == "binary"
    assert not any("swapped" in w for w in right["warnings"])


@pytest.mark.parametrize(
    "targets, advice",
    [
        ("y\n1\n2\n2\n1\n", "recode them to 0/1 (1 → 0, 2 → 1)"),
    ],
)
def test_two_valued_targets_warn(cli, write, targets, advice):
    doc = _json(cli, write("p.csv", "p\n0.9\n0.2\n0.75\n0.1\n"), write("y.csv", targets))
    assert doc["task"]["name"] == "regression"
    assert any("take only the two values" in w and advice in w for w in doc["warnings"])


def test_minus_one_plus_one_targets_are_binary(cli, write):
    """SPEC §9: targets in {-1, +1} with one score column → binary, t = (y + 1) / 2."""
    doc = _json(
        cli, write("p.csv", "p\n0.9\n0.2\n0.75\n0.1\n"), write("y.csv", "y\n1\n-1\n1\n-1\n")
    )
    assert doc["task"]["name"] == "binary"
    assert any("-1/+1" in e and "(y + 1) / 2" in e for e in doc["evidence"])


def test_minus_one_plus_one_targets_with_task_binary(cli, write):
    p = write("p.csv", "p\n0.9\n0.2\n0.75\n0.1\n")
    doc = _json(cli, p, write("y.csv", "y\n1\n-1\n1\n-1\n"), "--task", "binary")
    assert any("-1/+1: read as 0/1" in w for w in doc["warnings"])
    # −1 → 0: bce = −mean(log .9, log .8, log .75, log .9), by hand
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.75) + math.log(0.9)) / 4
    assert _loss(doc, "bce") == pytest.approx(expected, rel=1e-12)  # 0.180387…
    err, hint = _error(
        cli("evaluate", p, write("y2.csv", "y\n1\n2\n2\n1\n"), "--task", "binary"),
        ExitCode.DATA_ERROR,
    )
    assert "binary targets must be in [0, 1]" in err and "rows 3, 4" in err
    assert "recode them to 0/1 (1 → 0, 2 → 1)" in hint


# --------------------------------------------------------------------------- 4. file order


def test_directory_and_glob_read_in_natural_order(tmp_path):
    d = tmp_path / "parts"
    d.mkdir()
    for i in (10, 9, 1, 2):
        (d / f"part{i}.csv").write_text(f"p,y\n{i},{i + 0.5}\n")
    ds = load_dataset(str(d), target_cols=["y"])
    np.testing.assert_array_equal(ds.pred, [1, 2, 9, 10])
    assert any(
        "natural order" in e and "part1.csv, part2.csv, part9.csv, part10.csv" in e
        for e in ds.evidence
    )
    ds = load_dataset(str(d / "part*.csv"), target_cols=["y"])
    np.testing.assert_array_equal(ds.pred, [1, 2, 9, 10])


def test_natural_key():
    # equal numbers (007, 7) fall back to the text of the digits ("0" < "7")
    names = ["b10.csv", "b9.csv", "a10.csv", "b7.csv", "b007.csv"]
    assert sorted(names, key=natural_key) == ["a10.csv", "b007.csv", "b7.csv", "b9.csv", "b10.csv"]


# --------------------------------------------------------------------------- 5. columns


def test_missing_target_column_is_a_data_error_with_suggestion(cli, write):
    p, y = write("p.csv", "p\n1.5\n2.5\n"), write("t.csv", "prise\n1\n2\n")
    err, hint = _error(cli("evaluate", p, y, "--target-col", "price"), ExitCode.DATA_ERROR)
    assert err == f"Error: column 'price' (target column) is not in {y}"
    assert "did you mean 'prise'?" in hint


def test_missing_id_column_from_config_does_not_claim_a_flag(cli, write):
    p, y = write("p.csv", "p\n1.5\n2.5\n"), write("t.csv", "y\n1\n2\n")
    cfg = write("c.yaml", "columns:\n  id: idx\n")
    err, hint = _error(cli("evaluate", p, y, "--config", cfg), ExitCode.DATA_ERROR)
    assert err == f"Error: column 'idx' (id column) is not in {p}"
    assert "--id-col" not in err and "columns.id in --config" in hint
    err, _ = _error(cli("evaluate", p, y, "--id-col", "idx"), ExitCode.DATA_ERROR)
    assert "column 'idx' (id column)" in err


# --------------------------------------------------------------------------- 6. segmentation

# Two images of 4 pixels, long form. Dice (smooth 1) per image, by hand:
# image 3: Σpy = 0.9+0.8 = 1.7, Σp = 2.0, Σy = 2 → 1 − (3.4+1)/(4+1) = 0.12
# image 5: Σpy = 0.3+0.7 = 1.0, Σp = 2.0, Σy = 2 → 1 − (2.0+1)/(4+1) = 0.40
SEG_P = "image,p\n3,0.9\n3,0.8\n3,0.1\n3,0.2\n5,0.6\n5,0.3\n5,0.4\n5,0.7\n"
SEG_T = "image,y\n3,1\n3,1\n3,0\n3,0\n5,0\n5,1\n5,0\n5,1\n"
SEG_DICE = (0.12 + 0.40) / 2


def test_long_form_segmentation_with_group_col(cli, write):
    p, t = write("seg_long_p.csv", SEG_P), write("seg_long_t.csv", SEG_T)
    doc = _json(cli, p, t, "--group-col", "image")
    assert doc["task"]["name"] == "segmentation" and doc["n_samples"] == 2
    assert doc["inputs"]["targets"]["columns"] == ["y"]
    assert _loss(doc, "dice") == pytest.approx(SEG_DICE, rel=1e-12)


def test_shared_image_column_is_inferred_as_the_group(cli, write):
    p, t = write("seg_long_p.csv", SEG_P), write("seg_long_t.csv", SEG_T)
    doc = _json(cli, p, t)
    assert doc["task"]["name"] == "segmentation" and doc["n_samples"] == 2
    assert any("same 'image' column" in e for e in doc["evidence"])
    assert _loss(doc, "dice") == pytest.approx(SEG_DICE, rel=1e-12)


@pytest.mark.parametrize(
    "preds, targets",
    [
        # interleaved groups: rows are samples of two groups, not images
        ("group,p\n1,0.9\n2,0.2\n1,0.7\n2,0.4\n", "group,y\n1,1\n2,0\n1,1\n2,0\n"),
        # one row per image id: nothing to group
        ("image,p\n1,0.9\n2,0.2\n3,0.7\n4,0.4\n", "image,y\n1,1\n2,0\n3,1\n4,0\n"),
        # continuous targets
        ("image,p\n1,0.5\n1,2.5\n2,0.7\n2,3.4\n", "image,y\n1,0.4\n1,2.2\n2,1.7\n2,3.1\n"),
    ],
)
def test_group_column_is_not_inferred_without_pixel_runs(write, preds, targets):
    ds = load_dataset(write("p.csv", preds), write("t.csv", targets))
    assert ds.task != "segmentation"


# --------------------------------------------------------------------------- 7. domains


def test_domain_reason_names_the_first_offending_row_position():
    spec = get_spec("msle", "regression")
    pred = np.array([1.0, 2.0, -3.0, -4.0])
    msg = check_domains(spec, pred, np.ones(4), input_kind=None)
    # the value named is the one at the row named (not the smallest value)
    assert msg is not None and msg.endswith("found -3 at row position 2")
    msg = check_domains(spec, np.ones(4), np.array([1.0, 1.0, 1.0, -2.0]), input_kind=None)
    assert msg is not None and "targets" in msg and msg.endswith("found -2 at row position 3")
    assert check_domains(spec, np.ones(4), np.ones(4), input_kind=None) is None


# --------------------------------------------------------------------------- 8. ragged lines


@pytest.mark.parametrize(
    "content, message",
    [
        ("a,b\n1,2\n3,4,5\n6,7\n", "line 3 has 3 fields, the header has 2"),
        # a first data row with an extra field used to shift every column by one
        ("a,b\n1,2,9\n3,4\n6,7\n", "line 2 has 3 fields, the header has 2"),
        ("a,b\n1,2\n3\n6,7\n", "line 3 has 1 field, the header has 2"),
    ],
)
@pytest.mark.parametrize("extra", [(), ("--pred-col", "a")])
def test_ragged_line_is_named(cli, write, content, message, extra):
    p, y = write("p.csv", content), write("y.csv", "y\n1\n2\n3\n")
    err, _ = _error(cli("evaluate", p, y, *extra), ExitCode.DATA_ERROR)
    assert err == f"Error: {p}: {message}"


def test_quoted_newline_is_not_a_ragged_line(write):
    ds = load_dataset(write("p.csv", 'name,p\n"a\nb",0.5\nc,1.5\n'), write("y.csv", "y\n1\n2\n"))
    np.testing.assert_array_equal(ds.pred, [0.5, 1.5])


# --------------------------------------------------------------------------- 9. distribution


def test_distribution_input_kind_is_inferred_unless_given(cli):
    p, t = SAMPLES / "distribution_preds.csv", SAMPLES / "distribution_targets.csv"
    doc = _json(cli, p, t)
    assert doc["task"]["name"] == "distribution"
    assert doc["task"]["input"] == "probabilities" and doc["task"]["input_inferred"] is True
    r = cli("evaluate", p, t)
    assert "predictions are probabilities (inferred)" in r.stderr
    given = _json(cli, p, t, "--probs")
    assert given["task"]["input_inferred"] is False
