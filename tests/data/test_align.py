"""Column roles, row alignment (by id or by order) and label encoding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from losscli.data import load_dataset
from losscli.errors import DataError, ExitCode, UsageError

# --------------------------------------------------------------------------- id join


def test_id_join_reorders_targets_to_prediction_rows(write):
    p = write("p.csv", "id,p\n10,0.5\n11,0.25\n12,0.75\n13,0.125\n")
    y = write("y.csv", "id,y\n12,1\n10,0\n13,1\n11,0\n")
    ds = load_dataset(p, y)
    np.testing.assert_array_equal(ds.pred, [0.5, 0.25, 0.75, 0.125])
    # id 10 → 0, 11 → 0, 12 → 1, 13 → 1 (read off y.csv by hand)
    np.testing.assert_array_equal(ds.target, [0.0, 0.0, 1.0, 1.0])
    np.testing.assert_array_equal(ds.row_ids, [10, 11, 12, 13])
    np.testing.assert_array_equal(ds.row_numbers, [2, 3, 4, 5])
    assert ds.pred_columns == ["p"] and ds.target_columns == ["y"]
    assert any("joined on it" in e for e in ds.evidence)


def test_id_join_equals_ordered_read_on_shuffled_sample(samples):
    ds = load_dataset(
        str(samples / "regression_preds.csv"), str(samples / "regression_targets.csv")
    )
    import csv

    with open(samples / "regression_targets.csv") as fh:
        truth = {int(r["id"]): float(r["price"]) for r in csv.DictReader(fh)}
    expected = np.array([truth[int(i)] for i in ds.row_ids])
    np.testing.assert_array_equal(ds.target, expected)
    assert ds.n_samples == 200


def test_explicit_id_col_and_text_ids(write):
    p = write("p.csv", "key,p\nb,0.5\na,0.25\n")
    y = write("y.csv", "KEY,y\na,1\nb,0\n")
    ds = load_dataset(p, y, id_col="key")
    np.testing.assert_array_equal(ds.target, [0.0, 1.0])
    assert ds.row_ids.tolist() == ["b", "a"]


def test_integer_and_float_ids_match(write):
    p = write("p.csv", "id,p\n1.0,0.5\n2.0,0.25\n")
    y = write("y.csv", "id,y\n2,1\n1,0\n")
    ds = load_dataset(p, y)
    np.testing.assert_array_equal(ds.target, [0.0, 1.0])


def test_missing_ids_on_both_sides(write):
    p = write("p.csv", "id,p\n1,0.5\n2,0.2\n3,0.1\n")
    y = write("y.csv", "id,y\n3,1\n1,0\n4,1\n")
    with pytest.raises(DataError) as exc:
        load_dataset(p, y)
    msg = str(exc.value)
    assert exc.value.exit_code == ExitCode.DATA_ERROR
    assert f"1 id of {p} is missing from {y} (e.g. 2)" in msg
    assert f"1 id of {y} is missing from {p} (e.g. 4)" in msg


def test_duplicate_ids_are_named_with_rows(write):
    p = write("p.csv", "id,p\n1,0.5\n2,0.2\n3,0.1\n")
    y = write("y.csv", "id,y\n3,1\n1,0\n1,1\n")
    with pytest.raises(DataError, match=r"y.csv: 1 duplicate id in column 'id': 1 at rows 3, 4"):
        load_dataset(p, y)


def test_empty_id_cell(write):
    p = write("p.csv", "id,p\n1,0.5\n,0.2\n")
    y = write("y.csv", "id,y\n1,1\n2,0\n")
    with pytest.raises(DataError, match=r"id column 'id' is empty at row 3"):
        load_dataset(p, y)


def test_id_in_one_file_only_aligns_by_order_with_a_warning(write):
    p = write("p.csv", "id,p\n1,0.5\n2,0.2\n")
    y = write("y.csv", "y\n1\n0\n")
    ds = load_dataset(p, y)
    assert ds.pred_columns == ["p"]  # the id column is never a prediction
    assert any("rows align by order" in w for w in ds.warnings)


def test_row_count_mismatch_names_both_counts(write):
    p = write("p.csv", "p\n0.5\n0.2\n0.1\n")
    y = write("y.csv", "y\n1\n0\n")
    with pytest.raises(DataError) as exc:
        load_dataset(p, y)
    assert str(exc.value) == f"row counts differ: {p} has 3 rows, {y} has 2"
    assert "--id-col" in (exc.value.hint or "")


# --------------------------------------------------------------------------- columns


@pytest.mark.parametrize(
    "kwargs, flag, suggestion",
    [
        ({"pred_cols": ["scroe"]}, "--pred-col", "score"),
        ({"target_cols": ["lable"]}, "--target-col", "label"),
        ({"id_col": "idx"}, "--id-col", "id"),
        ({"weight_col": "weigth"}, "--weight-col", "weight"),
        ({"group_col": "imge"}, "--group-col", "image"),
    ],
)
def test_unknown_column_is_a_data_error_with_did_you_mean(write, kwargs, flag, suggestion):
    # SPEC §2: a missing column is an input data error (exit 3); the name may come from
    # the flag or from --config, so the message names the role and the hint both sources
    p = write("p.csv", "id,score,weight,image\n1,0.5,1,a\n2,0.2,1,a\n")
    y = write("y.csv", "id,label\n1,1\n2,0\n")
    with pytest.raises(DataError) as exc:
        load_dataset(p, y, **kwargs)
    assert exc.value.exit_code == ExitCode.DATA_ERROR
    assert str(exc.value).startswith("column '") and flag not in str(exc.value)
    assert f"did you mean '{suggestion}'?" in (exc.value.hint or "")
    assert flag in (exc.value.hint or "")


def test_pred_col_glob_and_comma_list(write):
    p = write("p.csv", "p_a,p_b,p_c,other\n0.2,0.3,0.5,9\n0.6,0.3,0.1,9\n")
    y = write("y.csv", "label\n2\n0\n")
    ds = load_dataset(p, y, pred_cols=["p_*"])
    assert ds.pred_columns == ["p_a", "p_b", "p_c"] and ds.task == "multiclass"
    ds2 = load_dataset(p, y, pred_cols=["p_a,p_b", "p_c"])
    np.testing.assert_array_equal(ds.pred, ds2.pred)


def test_one_file_mode_with_target_named_label(write):
    ds = load_dataset(write("d.csv", "score,label\n0.9,1\n0.2,0\n"))
    assert ds.pred_columns == ["score"] and ds.target_columns == ["label"]
    assert ds.inputs["targets"]["path"] == ds.inputs["predictions"]["path"]


def test_one_file_mode_with_target_col(write):
    ds = load_dataset(
        write("d.csv", "a,b,truth\n0.9,5,1\n0.2,6,0\n"), pred_cols=["a"], target_cols=["truth"]
    )
    assert ds.task == "binary"
    np.testing.assert_array_equal(ds.pred, [0.9, 0.2])


def test_one_file_without_target_column_is_a_usage_error(write):
    with pytest.raises(UsageError, match="no targets"):
        load_dataset(write("d.csv", "a,b\n0.9,1\n0.2,0\n"))


def test_two_target_candidates_are_an_error_not_a_guess(write):
    p = write("p.csv", "p\n0.5\n0.2\n")
    y = write("y.csv", "y,fold\n1,0\n0,1\n")
    with pytest.raises(DataError, match=r"2 target columns \(y, fold\) but 1 prediction column"):
        load_dataset(p, y)


@pytest.mark.parametrize("task", ["auto", "regression", "multilabel"])
def test_same_named_target_columns_are_matched_by_name(write, task):
    p = write("p.csv", "a,b\n0.25,0.75\n0.5,1\n")
    y = write("y.csv", "b,a\n1,0\n1,1\n")
    ds = load_dataset(p, y, task=task)
    # column a of the targets is (0, 1), b is (1, 1), whatever their order in the file
    np.testing.assert_array_equal(ds.target, [[0.0, 1.0], [1.0, 1.0]])
    assert ds.target_columns == ["a", "b"]
    assert any("reordered by name" in e for e in ds.evidence)


# --------------------------------------------------------------------------- weights


def test_weights_from_either_file(write):
    p = write("p.csv", "p,w\n0.5,2\n0.2,0.5\n")
    y = write("y.csv", "y\n1\n0\n")
    ds = load_dataset(p, y, weight_col="w")
    np.testing.assert_array_equal(ds.sample_weight, [2.0, 0.5])
    assert ds.pred_columns == ["p"]
    y2 = write("y2.csv", "y,v\n1,3\n0,4\n")
    ds = load_dataset(p, y2, weight_col="v", pred_cols=["p"])
    np.testing.assert_array_equal(ds.sample_weight, [3.0, 4.0])
    assert ds.target_columns == ["y"]


def test_weights_follow_the_id_join(write):
    p = write("p.csv", "id,p\n1,0.5\n2,0.2\n")
    y = write("y.csv", "id,y,w\n2,0,7\n1,1,5\n")
    ds = load_dataset(p, y, weight_col="w")
    np.testing.assert_array_equal(ds.sample_weight, [5.0, 7.0])


# --------------------------------------------------------------------------- labels


@pytest.fixture
def probs3(write):
    return write("p.csv", "cat,dog,bird\n0.2,0.7,0.1\n0.5,0.25,0.25\n0.1,0.1,0.8\n")


def test_class_names(write, probs3):
    ds = load_dataset(probs3, write("y.csv", "label\ndog\ncat\nbird\n"))
    np.testing.assert_array_equal(ds.target, [1, 0, 2])
    assert ds.target.dtype == np.int64
    assert ds.class_names == ["cat", "dog", "bird"]


def test_class_indices(write, probs3):
    ds = load_dataset(probs3, write("y.csv", "label\n1\n0\n2\n"))
    np.testing.assert_array_equal(ds.target, [1, 0, 2])


def test_one_hot_columns_in_another_order(write, probs3):
    ds = load_dataset(probs3, write("y.csv", "bird,cat,dog\n0,0,1\n0,1,0\n1,0,0\n"))
    np.testing.assert_array_equal(ds.target, [1, 0, 2])
    assert ds.target_columns == ["cat", "dog", "bird"]


def test_unknown_class_name_names_it_and_the_allowed_names(write, probs3):
    y = write("y.csv", "label\ndog\ncow\nbird\n")
    with pytest.raises(DataError) as exc:
        load_dataset(probs3, y)
    assert str(exc.value) == f"{y}: column 'label': unknown class name 'cow' at row 3"
    assert "cat, dog, bird" in (exc.value.hint or "")


def test_class_index_out_of_range(write, probs3):
    with pytest.raises(DataError, match=r"class index 3 at row 4 is outside 0..2"):
        load_dataset(probs3, write("y.csv", "label\n1\n0\n3\n"))


def test_integer_named_columns_map_labels_by_name(tmp_path, write):
    # A CSV header "1,2,3" would be numeric, hence data; Parquet keeps integer names.
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"1": [0.2, 0.5], "2": [0.7, 0.25], "3": [0.1, 0.25]}), tmp_path / "p.parquet"
    )
    ds = load_dataset(str(tmp_path / "p.parquet"), write("y.csv", "grade\n2\n3\n"))
    # grade 2 → column "2" (index 1); grade 3 → column "3" (index 2)
    np.testing.assert_array_equal(ds.target, [1, 2])
    assert any("matching the prediction column names" in e for e in ds.evidence)


def test_binary_from_two_class_names(write):
    p = write("p.csv", "spam\n0.9\n0.2\n0.6\n")
    ds = load_dataset(p, write("y.csv", "label\nspam\nham\nham\n"))
    assert ds.task == "binary"
    np.testing.assert_array_equal(ds.target, [1.0, 0.0, 0.0])


# --------------------------------------------------------------------------- segmentation


def test_long_form_segmentation_groups_pixels_into_images(write):
    rows = ["image,p,mask"]
    # image b first in the file; pixel values chosen so that the layout is checkable
    for img, vals in (("b", [0.1, 0.2, 0.3]), ("a", [0.4, 0.5, 0.6])):
        rows += [f"{img},{v},{int(v > 0.25)}" for v in vals]
    rows.insert(2, "a,0.7,1")  # one pixel of image a comes early: order must not mix
    rows.remove("a,0.6,1")
    ds = load_dataset(
        write("seg.csv", "\n".join(rows) + "\n"), group_col="image", target_cols=["mask"]
    )
    assert ds.task == "segmentation" and ds.pred.shape == (2, 1, 3)
    np.testing.assert_array_equal(ds.pred[0, 0], [0.1, 0.2, 0.3])
    np.testing.assert_array_equal(ds.pred[1, 0], [0.7, 0.4, 0.5])
    np.testing.assert_array_equal(ds.target[1, 0], [1.0, 1.0, 1.0])
    assert ds.row_ids.tolist() == ["b", "a"]
    np.testing.assert_array_equal(ds.row_numbers, [2, 3])  # first pixel row of each image


def test_long_form_segmentation_unequal_pixel_counts(write):
    text = "image,p,y\na,0.5,1\na,0.5,0\nb,0.5,1\nb,0.1,0\nc,0.2,1\n"
    with pytest.raises(
        DataError, match=r"images differ in pixel count .* most have 2 rows, but 'c' has 1"
    ):
        load_dataset(write("seg.csv", text), group_col="image")


def test_long_form_multiclass_labels_become_one_hot(write):
    text = "img,c0,c1,c2,y\n1,0.8,0.1,0.1,0\n1,0.1,0.1,0.8,2\n2,0.2,0.7,0.1,1\n2,0.3,0.3,0.4,1\n"
    ds = load_dataset(write("seg.csv", text), group_col="img", pred_cols=["c0", "c1", "c2"])
    assert ds.pred.shape == (2, 3, 2) and ds.target.shape == (2, 3, 2)
    np.testing.assert_array_equal(ds.target[0], [[1, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(ds.pred[1, 1], [0.7, 0.3])
    assert ds.class_names == ["c0", "c1", "c2"]


def test_npy_masks_reshape(tmp_path):
    rng = np.random.default_rng(0)
    p = rng.random((3, 4, 5))
    y = (rng.random((3, 4, 5)) > 0.5).astype(np.uint8)
    np.save(tmp_path / "p.npy", p)
    np.save(tmp_path / "y.npy", y)
    ds = load_dataset(str(tmp_path / "p.npy"), str(tmp_path / "y.npy"))
    assert ds.task == "segmentation" and ds.pred.shape == (3, 1, 20)
    np.testing.assert_array_equal(ds.pred, p.reshape(3, 1, 20))
    np.testing.assert_array_equal(ds.target, y.reshape(3, 1, 20).astype(float))
    assert ds.class_names is None


def test_npy_label_mask_with_channels_becomes_one_hot(tmp_path):
    rng = np.random.default_rng(1)
    p = rng.random((2, 3, 4, 4))
    labels = rng.integers(0, 3, (2, 4, 4))
    np.savez(tmp_path / "seg.npz", pred=p, target=labels)
    ds = load_dataset(str(tmp_path / "seg.npz"))
    assert ds.pred.shape == (2, 3, 16) and ds.target.shape == (2, 3, 16)
    for c in range(3):
        np.testing.assert_array_equal(ds.target[:, c, :], (labels.reshape(2, 16) == c))
    assert ds.class_names == ["0", "1", "2"]


def test_npy_label_outside_channels(tmp_path):
    np.save(tmp_path / "p.npy", np.full((2, 3, 2, 2), 1 / 3))
    np.save(tmp_path / "y.npy", np.array([[[0, 1], [2, 1]], [[0, 3], [1, 1]]]))
    with pytest.raises(
        DataError, match=r"class label 3 in image 2 \(index 1\) is not one of the 3 channels"
    ):
        load_dataset(str(tmp_path / "p.npy"), str(tmp_path / "y.npy"))


def test_npy_shape_mismatch(tmp_path):
    np.save(tmp_path / "p.npy", np.zeros((2, 4, 4)))
    np.save(tmp_path / "y.npy", np.zeros((2, 5, 5)))
    with pytest.raises(
        DataError, match=r"mask shapes do not match: predictions \(2, 4, 4\), targets \(2, 5, 5\)"
    ):
        load_dataset(str(tmp_path / "p.npy"), str(tmp_path / "y.npy"))


# --------------------------------------------------------------------------- factorize


_ID_VALUES = st.one_of(
    st.lists(st.integers(-5, 5), max_size=40).map(lambda v: np.array(v, dtype=np.int64)),
    st.lists(st.sampled_from([-1.5, 0.0, 2.0, 3.25, np.nan]), max_size=40).map(
        lambda v: np.array(v, dtype=np.float64)
    ),
    st.lists(st.sampled_from(["a", "b", "id-7", "Z", None]), max_size=40).map(
        lambda v: np.array(v, dtype=object)
    ),
)


@settings(max_examples=300, deadline=None)
@given(values=_ID_VALUES)
def test_factorize_agrees_with_pandas(values):
    """The peer implementation: pandas.factorize (order of first appearance, -1 missing)."""
    import pandas as pd

    from losscli.data.align import factorize

    codes, uniques = factorize(values)
    want_codes, want_uniques = pd.factorize(values, sort=False)
    np.testing.assert_array_equal(codes, want_codes)
    assert list(uniques) == list(want_uniques)


@settings(max_examples=300, deadline=None)
@given(values=_ID_VALUES, data=st.data())
def test_id_positions_agree_with_pandas(values, data):
    import pandas as pd

    from losscli.data.align import id_positions

    ids = pd.unique(values[~pd.isna(values)])
    wanted = data.draw(st.permutations(list(values))) if values.size else []
    wanted = np.array(wanted, dtype=values.dtype)
    wanted = wanted[~pd.isna(wanted)] if wanted.size else wanted
    absent = {"i": 999, "f": 999.5, "O": "not-there"}[values.dtype.kind]
    wanted = np.concatenate([wanted, np.array([absent], dtype=values.dtype)])  # → -1
    got = id_positions(np.asarray(ids, dtype=values.dtype), wanted)
    np.testing.assert_array_equal(got, pd.Index(ids).get_indexer(wanted))
