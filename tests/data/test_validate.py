"""Missing / non-finite cells, --drop-invalid, and the value checks of validate.py."""

from __future__ import annotations

import numpy as np
import pytest

from losscli.data import load_dataset
from losscli.data.align import RowRef
from losscli.data.readers import read_table
from losscli.data.validate import Checked, scan_invalid
from losscli.errors import DataError


def _pair(write, preds: str, targets: str):
    return write("p.csv", preds), write("y.csv", targets)


@pytest.mark.parametrize(
    "cell, what",
    [
        ("", "a missing value (empty, NA or NaN)"),
        ("NaN", "a missing value (empty, NA or NaN)"),
        ("NA", "a missing value (empty, NA or NaN)"),
        ("inf", "an infinite value (inf, or too large for float64)"),
        ("-Infinity", "an infinite value (inf, or too large for float64)"),
        ("1e400", "an infinite value (inf, or too large for float64)"),
    ],
)
def test_invalid_cell_names_file_row_and_column(write, cell, what):
    p, y = _pair(write, f"p\n0.5\n0.25\n{cell}\n0.125\n", "y\n1\n0\n1\n0\n")
    with pytest.raises(DataError) as exc:
        load_dataset(p, y)
    assert str(exc.value) == f"{p}: column 'p' has {what} at row 4"
    assert "--drop-invalid" in (exc.value.hint or "")


def test_first_few_rows_and_other_columns_are_reported(write):
    preds = "p\n" + "\n".join(["nan"] * 7 + ["0.5"]) + "\n"
    p, y = _pair(write, preds, "y\n1\n0\n1\n0\n1\n0\n\n1\n")
    with pytest.raises(DataError) as exc:
        load_dataset(p, y)
    msg = str(exc.value)
    assert (
        f"{p}: column 'p' has missing values (empty, NA or NaN) at rows 2, 3, 4, 5, 6 (7 rows in all)"
        in msg
    )
    assert f"also {y} column 'y' (1 row)" in msg


def test_missing_class_name_is_invalid(write):
    p, y = _pair(write, "cat,dog\n0.5,0.5\n0.2,0.8\n0.1,0.9\n", "label\ncat\n\ndog\n")
    with pytest.raises(DataError, match=r"column 'label' has a missing value .* at row 3"):
        load_dataset(p, y)


def test_drop_invalid_drops_both_sides_and_counts(write):
    p, y = _pair(write, "p\n0.5\nnan\n0.25\n0.75\n0.125\n", "y\n1\n0\n1\ninf\n0\n")
    ds = load_dataset(p, y, drop_invalid=True)
    np.testing.assert_array_equal(ds.pred, [0.5, 0.25, 0.125])
    np.testing.assert_array_equal(ds.target, [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(ds.row_numbers, [2, 4, 6])
    # (these scores fit the targets better read as logits: that is warned about too)
    dropped = [w for w in ds.warnings if "read as probabilities" not in w]
    assert len(dropped) == 1
    w = dropped[0]
    assert w.startswith("dropped 2 of 5 rows with missing or non-finite values")
    assert f"{p}: column 'p' row 3" in w and f"{y}: column 'y' row 5" in w


def test_drop_invalid_after_an_id_join_drops_matching_rows(write):
    p, y = _pair(write, "id,p\n1,0.5\n2,0.2\n3,0.9\n", "id,y\n3,1\n2,\n1,0\n")
    ds = load_dataset(p, y, drop_invalid=True)
    np.testing.assert_array_equal(ds.row_ids, [1, 3])
    np.testing.assert_array_equal(ds.pred, [0.5, 0.9])
    np.testing.assert_array_equal(ds.target, [0.0, 1.0])
    # the target file's row 3 (id 2) is the bad one, named in that file's numbering
    assert f"{y}: column 'y' row 3" in ds.warnings[0]


def test_trailing_nan_rows_are_rows_not_empty_lines(write):
    p, y = _pair(write, "p\n0.5\nnan\nNA\n", "y\n1\n0\n1\n")
    with pytest.raises(DataError, match=r"missing values .* at rows 3, 4"):
        load_dataset(p, y)


def test_drop_invalid_of_every_row(write):
    p, y = _pair(write, "p\nnan\nnan\n", "y\n1\n0\n")
    with pytest.raises(DataError, match="every row has a missing or non-finite value"):
        load_dataset(p, y, drop_invalid=True)


def test_drop_invalid_with_weights_and_multiclass(write):
    p, y = _pair(write, "a,b,w\n0.5,0.5,1\n0.2,0.8,\n0.9,0.1,3\n", "y\n1\n0\n0\n")
    ds = load_dataset(p, y, weight_col="w", drop_invalid=True)
    np.testing.assert_array_equal(ds.sample_weight, [1.0, 3.0])
    np.testing.assert_array_equal(ds.target, [1, 0])
    assert "column 'w' row 3" in ds.warnings[0]


def test_long_form_segmentation_drops_whole_images(write):
    text = "img,p,y\na,0.5,1\na,0.5,0\nb,nan,1\nb,0.1,0\nc,0.2,1\nc,0.3,0\n"
    ds = load_dataset(write("s.csv", text), group_col="img", drop_invalid=True)
    assert ds.pred.shape == (2, 1, 2) and ds.row_ids.tolist() == ["a", "c"]
    assert ds.warnings[0].startswith("dropped 2 of 6 rows")


def test_nd_masks_with_nan(tmp_path):
    p = np.full((3, 2, 2), 0.5)
    p[1, 0, 1] = np.nan
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "y.npy", np.ones((3, 2, 2)))
    with pytest.raises(DataError, match=r"NaN or infinite pixels in image 2 \(index 1\)"):
        load_dataset(str(tmp_path / "p.npy"), str(tmp_path / "y.npy"))
    ds = load_dataset(str(tmp_path / "p.npy"), str(tmp_path / "y.npy"), drop_invalid=True)
    assert ds.n_samples == 2 and ds.warnings[0].startswith("dropped 1 of 3 images")


def test_mask_values_outside_unit_interval(tmp_path):
    np.save(tmp_path / "p.npy", np.full((2, 2, 2), 0.5))
    np.save(tmp_path / "y.npy", np.array([[[0, 1], [1, 0]], [[0, 2], [1, 0]]]))
    with pytest.raises(DataError, match=r"mask value 2 in image 2 \(index 1\) is outside \[0, 1\]"):
        load_dataset(str(tmp_path / "p.npy"), str(tmp_path / "y.npy"))


def test_forced_probabilities_outside_unit_interval(write):
    p, y = _pair(write, "p\n0.5\n1.7\n-0.2\n", "y\n1\n0\n1\n")
    with pytest.raises(DataError) as exc:
        load_dataset(p, y, logits=False)
    assert str(exc.value) == (
        f"{p}: probabilities (--probs) must be in [0, 1]; found values outside at rows 3, 4 "
        "(first: 1.7 in column 'p')"
    )
    ds = load_dataset(p, y)  # not forced: they are logits
    assert ds.input_kind == "logits"


def test_explicit_binary_targets_outside_unit_interval(write):
    p, y = _pair(write, "p\n0.5\n0.7\n", "y\n1\n2\n")
    with pytest.raises(DataError, match=r"binary targets must be in \[0, 1\]; .* row 3 \(first: 2"):
        load_dataset(p, y, task="binary")


def test_similarity_targets_must_be_zero_or_one(write):
    p, y = _pair(write, "distance\n0.5\n0.7\n", "same\n1\n0.5\n")
    with pytest.raises(
        DataError, match=r"similarity target \(column 'same'\) must be 0 or 1; found 0.5 at row 3"
    ):
        load_dataset(p, y)


def test_negative_and_all_zero_weights(write):
    p, y = _pair(write, "p,w\n0.5,1\n0.7,-2\n", "y\n1\n0\n")
    with pytest.raises(DataError, match=r"weight column 'w' is negative at row 3 \(first -2\)"):
        load_dataset(p, y, weight_col="w")
    p, y = _pair(write, "p,w\n0.5,0\n0.7,0\n", "y\n1\n0\n")
    with pytest.raises(DataError, match="every sample weight"):
        load_dataset(p, y, weight_col="w")


def test_missing_weight_is_invalid(write):
    p, y = _pair(write, "p,w\n0.5,1\n0.7,\n", "y\n1\n0\n")
    with pytest.raises(DataError, match=r"column 'w' has a missing value .* at row 3"):
        load_dataset(p, y, weight_col="w")


def test_labels_outside_the_classes(write):
    p, y = _pair(write, "a,b\n0.5,0.5\n0.2,0.8\n", "y\n1\n-1\n")
    with pytest.raises(DataError, match=r"class index -1 at row 3 is outside 0..1"):
        load_dataset(p, y)


def test_scan_invalid_unit(write):
    table = read_table(write("t.csv", "a,b\n1,2\nnan,3\n4,inf\n"))
    ref = RowRef(table)
    mat = table.matrix(["a", "b"])
    bad, found = scan_invalid([Checked(ref, ["a", "b"], mat)], table.n_rows)
    np.testing.assert_array_equal(bad, [False, True, True])
    assert [(f.column, f.rows.tolist(), f.missing, f.infinite) for f in found] == [
        ("a", [1], 1, 0),
        ("b", [2], 0, 1),
    ]
    assert (
        found[1]
        .describe()
        .endswith("column 'b' has an infinite value (inf, or too large for float64) at row 4")
    )
