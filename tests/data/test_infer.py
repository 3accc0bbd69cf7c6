"""Task and probabilities-vs-logits inference, with evidence, on the sample files and on
small hand-made inputs; explicit tasks that do not fit the data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from losscli.data import load_dataset
from losscli.data.infer import infer_input_kind, row_sum_error
from losscli.errors import DataError, UsageError
from losscli.registry import TASKS

# (preds, targets, task, input kind, pred shape, target shape, context keys)
SAMPLES = [
    ("regression_preds.csv", "regression_targets.csv", "regression", None, (200,), (200,), set()),
    (
        "binary_probs.csv",
        "binary_targets.csv",
        "binary",
        "probabilities",
        (400,),
        (400,),
        {"from_logits"},
    ),
    (
        "binary_logits.csv",
        "binary_targets.csv",
        "binary",
        "logits",
        (400,),
        (400,),
        {"from_logits"},
    ),
    (
        "multiclass_probs.csv",
        "multiclass_targets.csv",
        "multiclass",
        "probabilities",
        (300, 3),
        (300,),
        {"from_logits"},
    ),
    (
        "multilabel_preds.csv",
        "multilabel_targets.csv",
        "multilabel",
        "probabilities",
        (250, 4),
        (250, 4),
        {"from_logits"},
    ),
    (
        "segmentation_preds.npy",
        "segmentation_masks.npy",
        "segmentation",
        "probabilities",
        (6, 1, 256),
        (6, 1, 256),
        {"from_logits"},
    ),
    (
        "detection_preds.csv",
        "detection_targets.csv",
        "detection",
        "probabilities",
        (120, 4),
        (120, 4),
        {"from_logits", "scores", "labels"},
    ),
    ("embeddings.csv", "embedding_labels.csv", "embedding", None, (100, 8), (100,), {"layout"}),
    (
        "distribution_preds.csv",
        "distribution_targets.csv",
        "distribution",
        "probabilities",
        (150, 5),
        (150, 5),
        set(),
    ),
    ("vae_outputs.csv", "vae_inputs.csv", "vae", None, (100, 16), (100, 16), {"mu", "logvar"}),
    ("gan_scores.csv", None, "gan", None, (200,), (200,), set()),
]


@pytest.mark.parametrize("preds, targets, task, kind, pshape, tshape, ctx", SAMPLES)
def test_every_sample_file_is_inferred(samples, preds, targets, task, kind, pshape, tshape, ctx):
    ds = load_dataset(str(samples / preds), str(samples / targets) if targets else None)
    assert ds.task == task and ds.task_inferred
    assert ds.input_kind == kind
    assert ds.pred.shape == pshape and ds.target is not None and ds.target.shape == tshape
    assert ds.pred.dtype == np.float64 and ds.pred.flags.c_contiguous
    assert set(ds.context) == ctx
    assert ds.n_samples == pshape[0]
    assert ds.evidence, "an inferred task always says why"
    assert any(task in e for e in ds.evidence)
    if kind is not None and ds.input_kind_inferred:
        assert any(kind in e for e in ds.evidence)
    assert ds.warnings == []


@pytest.mark.parametrize("preds, targets, task, kind, pshape, tshape, ctx", SAMPLES)
def test_explicit_task_gives_the_same_arrays(
    samples, preds, targets, task, kind, pshape, tshape, ctx
):
    args = (str(samples / preds), str(samples / targets) if targets else None)
    auto, explicit = load_dataset(*args), load_dataset(*args, task=task)
    assert explicit.task == task and not explicit.task_inferred
    np.testing.assert_array_equal(auto.pred, explicit.pred)
    np.testing.assert_array_equal(auto.target, explicit.target)


def test_sample_details(samples):
    mc = load_dataset(
        str(samples / "multiclass_probs.csv"), str(samples / "multiclass_targets.csv")
    )
    assert mc.class_names == ["cat", "dog", "bird"] and mc.target.dtype == np.int64
    det = load_dataset(str(samples / "detection_preds.csv"), str(samples / "detection_targets.csv"))
    assert det.context["scores"].shape == (120,) and set(np.unique(det.context["labels"])) <= {
        0.0,
        1.0,
    }
    assert det.inputs["predictions"]["columns"] == ["x1", "y1", "x2", "y2", "score"]
    vae = load_dataset(str(samples / "vae_outputs.csv"), str(samples / "vae_inputs.csv"))
    assert vae.context["mu"].shape == (100, 3) and vae.context["logvar"].shape == (100, 3)
    emb = load_dataset(str(samples / "embeddings.csv"), str(samples / "embedding_labels.csv"))
    assert emb.context == {"layout": "labels"} and emb.target.dtype == np.int64
    reg = load_dataset(
        str(samples / "regression_preds.csv"), str(samples / "regression_targets.csv")
    )
    assert reg.row_ids is not None and reg.inputs["targets"]["columns"] == ["price"]


# --------------------------------------------------------------------------- by values


def _load(write, preds: str, targets: str, **kw):
    return load_dataset(write("p.csv", preds), write("y.csv", targets), **kw)


def test_integer_counts_with_one_column_are_regression(write):
    ds = _load(write, "p\n1.5\n2.5\n0.2\n", "y\n1\n3\n0\n")
    assert ds.task == "regression"
    assert "integers (counts)" in ds.evidence[-1]


def test_soft_labels_are_regression_unless_binary_is_asked(write):
    assert _load(write, "p\n0.5\n0.2\n", "y\n0.3\n0.9\n").task == "regression"
    ds = _load(write, "p\n0.5\n0.2\n", "y\n0.3\n0.9\n", task="binary")
    assert ds.task == "binary"
    np.testing.assert_array_equal(ds.target, [0.3, 0.9])


def test_multilabel_versus_one_hot(write):
    p = "a,b,c\n0.2,0.7,0.1\n0.5,0.25,0.25\n"
    assert _load(write, p, "a,b,c\n0,1,1\n1,0,0\n").task == "multilabel"
    ds = _load(write, p, "a,b,c\n0,1,0\n1,0,0\n")
    assert ds.task == "multiclass" and ds.target.tolist() == [1, 0]
    assert any("one-hot" in e for e in ds.evidence)


def test_distribution_needs_rows_summing_to_one_on_both_sides(write):
    p = "a,b\n0.25,0.75\n0.5,0.5\n"
    assert _load(write, p, "a,b\n0.4,0.6\n0.1,0.9\n").task == "distribution"
    assert _load(write, p, "a,b\n0.4,0.7\n0.1,0.9\n").task == "regression"


def test_multi_output_regression(write):
    ds = _load(write, "a,b\n1.5,20\n2.5,30\n", "a,b\n1,21\n3,29\n")
    assert ds.task == "regression" and ds.pred.shape == (2, 2) and ds.target.shape == (2, 2)


def test_integer_labels_beyond_the_columns(write):
    with pytest.raises(DataError, match=r"class index 7 at row 3 is outside 0..1"):
        _load(write, "a,b\n0.5,0.5\n0.2,0.8\n", "y\n0\n7\n")


def test_one_continuous_target_with_several_prediction_columns(write):
    with pytest.raises(DataError, match=r"one target column \('y'\) but 2 prediction columns"):
        _load(write, "a,b\n0.5,0.5\n0.2,0.8\n", "y\n0.5\n1.7\n")


def test_embedding_layouts_by_column_names(write):
    tri = load_dataset(write("t.csv", "a_0,a_1,p_0,p_1,n_0,n_1\n0,1,0,1.1,1,0\n1,1,1,0.9,0,0\n"))
    assert tri.task == "embedding" and tri.context == {"layout": "triplets"}
    assert tri.target is None and tri.pred.shape == (2, 6)
    pairs = load_dataset(
        write("pr.csv", "a_0,a_1,b_0,b_1,similar\n0,1,0,1.1,1\n1,1,1,0.9,0\n"),
        target_cols=["similar"],
    )
    assert pairs.context == {"layout": "pairs"} and pairs.pred.shape == (2, 4)
    dist = _load(write, "distance\n0.3\n1.2\n", "same\n1\n0\n")
    assert dist.task == "embedding" and dist.context == {"layout": "distance"}
    assert dist.pred.shape == (2,)


def test_explicit_embedding_with_named_labels(write):
    ds = _load(
        write, "f0,f1\n0.1,0.2\n0.3,0.1\n0.1,0.25\n", "who\nann\nbob\nann\n", task="embedding"
    )
    assert ds.context == {"layout": "labels"}
    np.testing.assert_array_equal(ds.target, [0, 1, 0])


def test_gan_columns_are_case_insensitive(write):
    ds = load_dataset(write("g.csv", "Real,Fake\n1.5,-0.5\n0.2,0.1\n"))
    assert ds.task == "gan"
    np.testing.assert_array_equal(ds.pred, [1.5, 0.2])
    np.testing.assert_array_equal(ds.target, [-0.5, 0.1])


# --------------------------------------------------------------------------- explicit misfits


@pytest.mark.parametrize(
    "task, preds, targets, message",
    [
        ("binary", "a,b,c\n0.2,0.7,0.1\n", "y\n1\n", r"binary needs one prediction column; got 3"),
        ("multiclass", "p\n0.2\n", "y\n1\n", r"multiclass needs one prediction column per class"),
        ("vae", "a,b\n1,2\n", "a,b\n1,2\n", r"vae needs mu_\* and logvar_\* columns"),
        ("detection", "a,b\n1,2\n", "a,b\n1,2\n", r"detection needs matched boxes"),
        ("gan", "a,b,c\n1,2,3\n", "a\n1\n", r"gan needs discriminator outputs"),
        (
            "distribution",
            "a,b\n0.5,0.2\n",
            "a,b\n0.5,0.5\n",
            r"distribution predictions must sum to 1 per row; row 2",
        ),
        ("multilabel", "a,b\n0.5,0.2\n", "y\n1\n", r"multilabel needs as many target columns"),
        ("regression", "a\n0.5\n", "y\ncat\n", r"--task regression needs numeric targets"),
    ],
)
def test_explicit_task_that_does_not_fit(write, task, preds, targets, message):
    with pytest.raises(DataError, match=message):
        _load(write, preds, targets, task=task)


def test_nd_array_with_a_table_task(tmp_path):
    np.save(tmp_path / "p.npy", np.zeros((2, 3, 3)))
    with pytest.raises(
        DataError, match=r"N-d arrays are read as segmentation masks, not as binary"
    ):
        load_dataset(str(tmp_path / "p.npy"), str(tmp_path / "p.npy"), task="binary")


def test_unknown_task_is_a_usage_error(write):
    with pytest.raises(UsageError) as exc:
        _load(write, "p\n0.5\n", "y\n1\n", task="segmentaton")
    assert "did you mean 'segmentation'?" in (exc.value.hint or "")


def test_every_registry_task_is_accepted_by_name(write):
    for task in TASKS:
        try:
            _load(write, "p\n0.5\n", "y\n1\n", task=task)
        except DataError:
            pass  # misfit data is a data error, never a usage error for a known task


# --------------------------------------------------------------------------- input kind


def test_probabilities_and_logits_on_binary(write):
    probs = _load(write, "p\n0.9\n0.1\n", "y\n1\n0\n")
    assert probs.input_kind == "probabilities" and probs.context == {"from_logits": False}
    logits = _load(write, "p\n2.2\n-1.3\n", "y\n1\n0\n")
    assert logits.input_kind == "logits" and logits.context == {"from_logits": True}
    assert "min -1.3, max 2.2" in logits.evidence[-1]


def test_forced_input_kind_is_not_inferred(write):
    ds = _load(write, "p\n0.9\n0.1\n", "y\n1\n0\n", logits=True)
    assert ds.input_kind == "logits" and not ds.input_kind_inferred
    assert ds.context["from_logits"] is True
    ds = _load(write, "p\n0.9\n0.1\n", "y\n1\n0\n", logits=False)
    assert ds.input_kind == "probabilities" and not ds.input_kind_inferred


def test_multiclass_rows_not_summing_to_one_are_logits(write):
    ds = _load(write, "a,b,c\n0.2,0.9,0.4\n0.5,0.1,0.1\n", "y\n1\n0\n")
    assert ds.input_kind == "logits"
    assert "rows do not sum to 1" in ds.evidence[-1] and "--probs" in ds.evidence[-1]


def test_multiclass_rounded_rows_are_probabilities_with_a_warning(write):
    ds = _load(write, "a,b,c\n0.333,0.333,0.333\n0.5,0.25,0.25\n", "y\n1\n0\n")
    assert ds.input_kind == "probabilities"
    assert any("within 0.001" in w for w in ds.warnings)


def test_logits_flag_on_distribution_is_a_usage_error(write):
    with pytest.raises(UsageError, match="--logits does not apply to distribution"):
        _load(write, "a,b\n0.25,0.75\n0.5,0.5\n", "a,b\n0.4,0.6\n0.1,0.9\n", logits=True)


def test_logits_flag_on_regression_warns(write):
    ds = _load(write, "p\n1.5\n2.5\n", "y\n1.2\n2.2\n", logits=True)
    assert ds.input_kind is None and ds.warnings == ["--logits has no effect on task regression"]


def test_infer_input_kind_units():
    # six-decimal rounding of 10 classes: sums within 10 × 5e-7 are still exact enough
    p = np.full((2, 10), 0.1)
    p[0, 0] += 4e-6
    assert row_sum_error(p) == pytest.approx(4e-6)
    assert infer_input_kind(p, task="multiclass", logits=None).kind == "probabilities"
    assert (
        infer_input_kind(np.array([0.0, 1.0]), task="binary", logits=None).kind == "probabilities"
    )
    assert infer_input_kind(np.array([0.0, 1.0001]), task="binary", logits=None).kind == "logits"
    assert infer_input_kind(np.array([5.0]), task="binary", logits=False).kind == "probabilities"


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 7.25, np.nan]), max_size=60),
    spread=st.integers(0, 3),
    limit=st.integers(1, 5),
)
def test_few_values_is_unique_when_few_else_none(values, spread, limit):
    """The head sample and the membership passes give np.unique's answer, also when a
    rare value first shows after the head (a long run of one value in front)."""
    from losscli.data.infer import few_values

    a = np.concatenate([np.zeros(5000 * spread), np.array(values, dtype=np.float64)])
    u = np.unique(a)
    got = few_values(a, limit)
    if u.size <= limit:
        assert got is not None and np.array_equal(got, u, equal_nan=True)
    else:
        assert got is None
