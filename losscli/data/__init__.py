"""Files → arrays: the only part of losscli that uses pandas and pyarrow.

``load_dataset(preds, targets, ...)`` reads prediction and target files, aligns their
rows, checks every used cell, infers the task and whether scores are probabilities or
logits, and returns a :class:`Dataset` in the layout the loss kernels take. Every read
(in one piece, in chunks, per Dask partition) runs the one chunk step of
:mod:`losscli.data.pipeline`.
"""

from __future__ import annotations

from losscli.data.dataset import Dataset
from losscli.data.pipeline import load_dataset

__all__ = ["Dataset", "load_dataset"]
