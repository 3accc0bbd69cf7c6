"""In-memory inputs of the Python API: NumPy arrays, pandas and polars DataFrames/Series,
pyarrow Tables (SPEC §9) → files the one reading path takes.

``losscli.evaluate(model.predict_proba(X), y_test)`` reads exactly as the same data saved
to files would: each in-memory input is written once to a private temporary directory
(NumPy arrays as ``.npy``, tables as Parquet without their index: rows align by order,
as they do in the caller's memory) and read back through :mod:`losscli.data.readers`, so
that every rule of task inference, alignment and validation lives once. The directory is
removed when the run ends; messages and documents name the input (``<numpy array
(143, 2)>``), never the temporary path.

polars is used only when the caller passes a polars object (it is never imported here).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losscli.errors import DataError, LossCliError


def is_path(obj: Any) -> bool:
    """A path (or ``-``): read as a file."""
    return isinstance(obj, str | os.PathLike)


def _module(obj: Any) -> str:
    return type(obj).__module__.split(".")[0]


def describe(obj: Any) -> str:
    """``<numpy array (143, 2)>``, ``<pandas DataFrame (143 rows × 2)>`` …"""
    mod = _module(obj)
    kind = type(obj).__name__
    if isinstance(obj, np.ndarray):
        return f"<numpy array {tuple(obj.shape)}>"
    shape = getattr(obj, "shape", None)
    if shape is None and hasattr(obj, "num_rows"):
        shape = (obj.num_rows,)
    if shape is None:
        try:
            shape = (len(obj),)
        except TypeError:
            shape = ()
    size = " × ".join(str(s) for s in shape)
    return f"<{mod} {kind} ({size})>"


@dataclass
class Staged:
    """Paths standing in for in-memory inputs, and the names they are shown under."""

    tmpdir: str | None = None
    names: dict[str, str] = field(default_factory=dict)  # temporary path → display name

    def rename(self, text: str) -> str:
        for path, shown in self.names.items():
            text = text.replace(path, shown)
        return text

    def rename_doc(self, value: Any) -> Any:
        """``value`` (a JSON-ready document) with every temporary path replaced."""
        if not self.names:
            return value
        if isinstance(value, str):
            return self.rename(value)
        if isinstance(value, dict):
            return {k: self.rename_doc(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.rename_doc(v) for v in value]
        return value

    def rename_error(self, exc: LossCliError) -> None:
        exc.message = self.rename(exc.message)
        if exc.hint:
            exc.hint = self.rename(exc.hint)
        exc.args = (exc.message,)


def _to_numpy_file(arr: np.ndarray, path: str) -> str:
    if arr.dtype.kind == "b":
        arr = arr.astype(np.int8)
    if arr.dtype.kind in "OUS":
        if arr.ndim != 1:
            raise DataError(
                f"{describe(arr)}: text arrays must be 1-D (one class name per row)",
                hint="pass class names as a 1-D array, or class indices",
            )
        import pyarrow as pa

        values = [None if v is None else str(v) for v in arr.tolist()]
        return _write_arrow(pa.table({"target": pa.array(values, type=pa.string())}), path)
    if arr.dtype.kind not in "iuf":
        raise DataError(
            f"{describe(arr)}: dtype {arr.dtype} is not numeric",
            hint="pass numbers (or class names as text)",
        )
    out = path + ".npy"
    np.save(out, arr, allow_pickle=False)
    return out


def _write_arrow(table: Any, path: str) -> str:
    import pyarrow.parquet as pq

    out = path + ".parquet"
    names = [str(c) if str(c) else f"column_{j}" for j, c in enumerate(table.column_names)]
    pq.write_table(table.rename_columns(names), out)
    return out


def _pandas_table(obj: Any, default_name: str) -> Any:
    import pandas as pd
    import pyarrow as pa

    if isinstance(obj, pd.Series):
        obj = obj.to_frame(name=default_name if obj.name is None else str(obj.name))
    frame = obj.copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    return pa.Table.from_pandas(frame, preserve_index=False)


def _arrow_table(obj: Any, default_name: str) -> Any:
    import pyarrow as pa

    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    if isinstance(obj, pa.Array | pa.ChunkedArray):
        return pa.table({default_name: obj})
    raise TypeError(type(obj).__name__)


def stage_one(obj: Any, tmpdir: str, stem: str, default_name: str) -> str:
    """Write one in-memory input under ``tmpdir``; the path to read it from."""
    path = os.path.join(tmpdir, stem)
    mod = _module(obj)
    if isinstance(obj, np.ndarray):
        return _to_numpy_file(obj, path)
    if mod == "pandas":
        return _write_arrow(_pandas_table(obj, default_name), path)
    if mod == "polars":
        table = obj.to_frame().to_arrow() if hasattr(obj, "to_frame") else obj.to_arrow()
        return _write_arrow(table, path)
    if mod == "pyarrow":
        return _write_arrow(_arrow_table(obj, default_name), path)
    if isinstance(obj, list | tuple):
        return _to_numpy_file(np.asarray(obj), path)
    raise DataError(
        f"cannot read an input of type {type(obj).__name__}",
        hint="pass a path, a NumPy array, a pandas or polars DataFrame/Series, or a pyarrow Table",
    )


@contextmanager
def staged_inputs(
    inputs: Sequence[Any], roles: Sequence[str]
) -> Iterator[tuple[list[Any], Staged]]:
    """Paths for ``inputs`` (paths pass as they are, in-memory data is written to a
    temporary directory removed on exit), and how to name them in messages. ``roles``
    name each input ("predictions", "targets") for the column of a nameless Series."""
    staged = Staged()
    out: list[Any] = []
    try:
        for j, (obj, role) in enumerate(zip(inputs, roles, strict=True)):
            if obj is None or is_path(obj):
                out.append(None if obj is None else os.fspath(obj))
                continue
            if staged.tmpdir is None:
                staged.tmpdir = tempfile.mkdtemp(prefix="losscli-")
            name = "target" if role == "targets" else "pred"
            path = stage_one(obj, staged.tmpdir, f"{role}{j}", name)
            staged.names[path] = describe(obj)
            out.append(path)
        yield out, staged
    except LossCliError as exc:
        staged.rename_error(exc)
        raise
    finally:
        if staged.tmpdir is not None:
            shutil.rmtree(staged.tmpdir, ignore_errors=True)


__all__ = ["Staged", "describe", "is_path", "stage_one", "staged_inputs"]
