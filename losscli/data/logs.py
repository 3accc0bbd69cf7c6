"""Training logs → metric columns (``losscli curves``).

:func:`read_logs` reads one or several logs of one training run into a
:class:`TrainingLog`: one :class:`LogColumn` per metric, each point with the step and
epoch it was logged at (NaN where the log does not say), its value (NaN stays NaN) and
the source line, for messages. A cell that is empty (or ``NA``, Keras ``CSVLogger``'s
word for a key it did not get) means *not logged*: the point is left out; ``nan`` is a
NaN point and stays.

Formats, recognised by name and content:

* PyTorch Lightning ``metrics.csv`` (``CSVLogger``): ``epoch`` and ``step`` columns,
  sparse rows (per-step and per-epoch metrics on different rows).
* Keras ``CSVLogger``: an ``epoch`` column (0-based) and one column per metric, the
  separator (``separator=``: ``,`` ``;`` tab ``|``) read from the header line.
* Plain CSV/TSV with a ``step`` (or ``epoch``) column; JSON Lines with the same keys.
* Hugging Face ``trainer_state.json``: its ``log_history`` (axis ``step``); the final
  summary entry (``train_runtime`` …) is not a point and is skipped.
* TensorBoard event files (``*tfevents*``) or folders of them, read with TensorBoard's
  own ``EventAccumulator`` (the ``curves`` extra). A column is named ``run/tag`` where
  the event files lie in different folders (``run`` is the folder below the deepest one
  they share: Keras writes ``train/`` and ``validation/``), else ``tag``.
* DVCLive folders: ``plots/metrics/**/NAME.tsv`` (``timestamp step NAME``); a column is
  named by its path under ``plots/metrics`` (``train/loss``).

Every failure is a :class:`DataError` naming the file and, where known, the line.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from losscli.errors import DataError, UsageError

#: Cells that mean "not logged" (Keras ``CSVLogger`` writes ``NA`` for a missing key).
MISSING = ("", "NA")
#: Column names that hold the step, in the order they are looked for.
STEP_NAMES = ("step", "global_step", "Step", "iteration", "iter")
#: Column names that hold the epoch.
EPOCH_NAMES = ("epoch", "Epoch")


@dataclass
class LogColumn:
    """One metric: a value per point, with the step and epoch it was logged at."""

    name: str
    steps: list[float] = field(default_factory=list)
    epochs: list[float] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    #: Where each point came from: ``file:line`` (or ``file:entry``).
    origins: list[str] = field(default_factory=list)

    def add(self, step: float, epoch: float, value: float, origin: str) -> None:
        self.steps.append(step)
        self.epochs.append(epoch)
        self.values.append(value)
        self.origins.append(origin)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(steps, epochs, values) as float64 arrays."""
        return (
            np.asarray(self.steps, dtype=np.float64),
            np.asarray(self.epochs, dtype=np.float64),
            np.asarray(self.values, dtype=np.float64),
        )


@dataclass
class TrainingLog:
    """Every metric of one run, read from one or several logs."""

    paths: list[str]
    formats: list[str]
    columns: dict[str, LogColumn] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def column(self, name: str) -> LogColumn:
        if name not in self.columns:
            self.columns[name] = LogColumn(name)
        return self.columns[name]


# ----------------------------------------------------------------------------- cells


def _number(cell: str, where: str, column: str) -> float | None:
    """A cell as a float; None when it means "not logged"; an error naming the place."""
    text = cell.strip()
    if text in MISSING:
        return None
    try:
        return float(text)
    except ValueError:
        raise DataError(
            f"{where}: column '{column}' holds '{text[:40]}', not a number",
            hint="metric cells must be numbers, nan/inf, or empty when not logged",
        ) from None


def _json_number(value: Any, where: str, column: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise DataError(f"{where}: '{column}' holds {value!r}, not a number")
    if isinstance(value, str):
        return _number(value, where, column)
    return float(value)


# ------------------------------------------------------------------------- delimited


def _position_columns(header: Sequence[str]) -> tuple[str | None, str | None]:
    step = next((n for n in STEP_NAMES if n in header), None)
    epoch = next((n for n in EPOCH_NAMES if n in header), None)
    return step, epoch


#: Separators a log's header line may use (Keras ``CSVLogger(separator=...)``).
SEPARATORS = (",", "\t", ";", "|")


def _delimiter(path: str, text: str) -> str:
    """The separator of a delimited log, from its header line: ``\t`` for ``.tsv``,
    else the one of ``,``, tab, ``;``, ``|`` that the header holds (``,`` first): a
    position column (``epoch``, ``step``) is never named with one of them."""
    if path.lower().endswith(".tsv"):
        return "\t"
    header = text.split("\n", 1)[0]
    for sep in SEPARATORS:
        if sep in header:
            return sep
    return ","


#: The header of TensorBoard's "download CSV" of one scalar series (the scalars card).
TB_EXPORT = ("Wall time", "Step", "Value")


def _tb_export_name(path: str) -> str:
    """The tag of a TensorBoard CSV/JSON download: TensorBoard names the file
    ``run-RUN-tag-TAG.csv`` (``/`` written as ``_``); any other name is its stem."""
    stem = Path(path).stem
    return stem.split("-tag-", 1)[1] if "-tag-" in stem else stem


def _read_delimited(path: str, log: TrainingLog, *, prefix: str = "") -> str:
    """A CSV/TSV log (Lightning, Keras ``CSVLogger``, plain, one DVCLive metric)."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read()
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(path, text)))
    except UnicodeDecodeError as exc:
        raise DataError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise DataError(f"{path}: the file is empty", hint="a training log needs a header row")
    header = [c.strip() for c in rows[0]]
    twice = sorted({n for n in header if n and header.count(n) > 1})
    if twice:
        raise DataError(
            f"{path}, line 1: column {', '.join(repr(n) for n in twice)} appears more than "
            "once in the header",
            hint="give each metric its own name: the file cannot tell which one is which",
        )
    step_col, epoch_col = _position_columns(header)
    dvclive = prefix != ""
    if dvclive and step_col is not None:  # DVCLive: timestamp, step, and the metric itself
        epoch_col = None  # (``epoch.tsv`` holds the metric "epoch", not a position)
    if step_col is None and epoch_col is None:
        raise DataError(
            f"{path}: no step or epoch column (columns: {', '.join(header)})",
            hint="a training log needs a 'step' or 'epoch' column next to the metrics",
        )
    skip = {step_col, epoch_col, "timestamp"} if dvclive else {step_col, epoch_col}
    tb_export = header == list(TB_EXPORT)
    if tb_export:  # TensorBoard's "download CSV" of one scalar: named by its tag
        prefix, skip = _tb_export_name(path), {"Wall time", "Step"}
    metrics = [(i, name) for i, name in enumerate(header) if name not in skip and name]
    if text and not text.endswith(("\n", "\r")) and len(rows) > 1:
        log.notes.append(
            f"{path}: the last line ({len(rows)}) has no line end: the file may be cut "
            "short (still being written?), and its last value with it"
        )
    for line_no, row in enumerate(rows[1:], start=2):
        if not row or all(not c.strip() for c in row):
            continue
        where = f"{path}, line {line_no}"
        if len(row) != len(header):
            raise DataError(
                f"{where}: {len(row)} fields where the header has {len(header)}",
                hint="is the file cut short or written by two processes at once?",
            )
        cells = dict(zip(header, row))
        step = _number(cells[step_col], where, step_col) if step_col else None
        epoch = _number(cells[epoch_col], where, epoch_col) if epoch_col else None
        for i, name in metrics:
            value = _number(row[i], where, name)
            if value is None:
                continue
            col = log.column(prefix or name)
            col.add(
                math.nan if step is None else step,
                math.nan if epoch is None else epoch,
                value,
                f"{path}:{line_no}",
            )
    if tb_export:
        return "tensorboard-csv"
    if dvclive:
        return "dvclive"
    if step_col and epoch_col:
        return "lightning"
    return "csv"


def _read_jsonl(path: str, log: TrainingLog) -> str:
    with open(path, encoding="utf-8-sig") as fh:
        lines = fh.read().splitlines()
    for line_no, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        where = f"{path}, line {line_no}"
        try:
            entry = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"{where}: not valid JSON ({exc.msg})") from None
        if not isinstance(entry, dict):
            raise DataError(f"{where}: each line must be a JSON object of step and metrics")
        _add_entry(entry, log, where, f"{path}:{line_no}")
    return "jsonl"


def _add_entry(entry: dict[str, Any], log: TrainingLog, where: str, origin: str) -> None:
    step_key, epoch_key = _position_columns(list(entry))
    if step_key is None and epoch_key is None:
        raise DataError(
            f"{where}: no step or epoch key (keys: {', '.join(entry)})",
            hint="each entry needs a 'step' or 'epoch' next to the metrics",
        )
    step = _json_number(entry.get(step_key), where, str(step_key)) if step_key else None
    epoch = _json_number(entry.get(epoch_key), where, str(epoch_key)) if epoch_key else None
    for name, raw in entry.items():
        if name in (step_key, epoch_key) or isinstance(raw, (dict, list)):
            continue
        value = _json_number(raw, where, name)
        if value is None:
            continue
        log.column(name).add(
            math.nan if step is None else step,
            math.nan if epoch is None else epoch,
            value,
            origin,
        )


#: Keys of the Hugging Face Trainer's final summary entry (not a point of the curve).
_HF_SUMMARY = ("train_runtime", "train_samples_per_second", "total_flos")


def _read_hf(path: str, state: dict[str, Any], log: TrainingLog) -> str:
    history = state.get("log_history")
    if not isinstance(history, list):
        raise DataError(f"{path}: 'log_history' is not a list")
    for i, entry in enumerate(history):
        where = f"{path}, log_history[{i}]"
        if not isinstance(entry, dict):
            raise DataError(f"{where}: not an object")
        if any(k in entry for k in _HF_SUMMARY):
            continue
        if "step" not in entry:
            raise DataError(f"{where}: no 'step' (keys: {', '.join(entry)})")
        _add_entry(entry, log, where, f"{path}:log_history[{i}]")
    return "huggingface"


def _is_triple(entry: Any) -> bool:
    return isinstance(entry, list) and len(entry) == 3


def _read_json(path: str, log: TrainingLog) -> str:
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}, line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if isinstance(doc, dict) and "log_history" in doc:
        return _read_hf(path, doc, log)
    if isinstance(doc, list) and doc and all(_is_triple(e) for e in doc):
        # TensorBoard's "download JSON" of one scalar: [[wall_time, step, value], ...]
        col = log.column(_tb_export_name(path))
        for i, (_, raw_step, raw_value) in enumerate(doc):
            where = f"{path}, entry {i}"
            step = _json_number(raw_step, where, "step")
            if step is None:
                raise DataError(f"{where}: no step (expected [wall_time, step, value])")
            value = _json_number(raw_value, where, "value")
            if value is not None:
                col.add(step, math.nan, value, f"{path}:{i}")
        return "tensorboard-json"
    if isinstance(doc, list):
        for i, entry in enumerate(doc):
            if not isinstance(entry, dict):
                raise DataError(f"{path}, entry {i}: not an object of step and metrics")
            _add_entry(entry, log, f"{path}, entry {i}", f"{path}:{i}")
        return "json"
    raise DataError(
        f"{path}: a JSON log must be a trainer_state.json (with 'log_history') "
        "or a list of {step, metrics…} objects"
    )


# ----------------------------------------------------------------------- TensorBoard


def _event_accumulator() -> Any:
    try:
        from tensorboard.backend.event_processing import event_accumulator
    except ImportError:
        raise UsageError(
            "reading TensorBoard event files needs the 'tensorboard' package",
            hint="pip install 'losscli[curves]'",
        ) from None
    return event_accumulator


def _read_tensorboard(files: Sequence[str], log: TrainingLog) -> str:
    ea_mod = _event_accumulator()
    # runs are named by their folder below the deepest folder holding every event file
    base = os.path.commonpath([os.path.dirname(os.path.abspath(f)) for f in files])
    for path in files:
        run = os.path.relpath(os.path.dirname(os.path.abspath(path)), base)
        run = "" if run == "." else run.replace(os.sep, "/")
        acc = ea_mod.EventAccumulator(path, size_guidance={"scalars": 0, "tensors": 0})
        try:
            acc.Reload()
        except Exception as exc:  # a truncated or corrupt record
            raise DataError(f"{path}: not a readable TensorBoard event file ({exc})") from None
        tags = acc.Tags()
        for tag in tags.get("scalars", []):
            col = log.column(f"{run}/{tag}" if run else tag)
            for ev in acc.Scalars(tag):
                col.add(float(ev.step), math.nan, float(ev.value), f"{path}:step {ev.step}")
        for tag in tags.get("tensors", []):
            meta = acc.SummaryMetadata(tag)
            if meta.plugin_data.plugin_name != "scalars":
                continue
            from tensorboard.util import tensor_util

            col = log.column(f"{run}/{tag}" if run else tag)
            for ev in acc.Tensors(tag):
                value = tensor_util.make_ndarray(ev.tensor_proto)
                col.add(float(ev.step), math.nan, float(value), f"{path}:step {ev.step}")
    return "tensorboard"


# ---------------------------------------------------------------------------- entry


def _is_event_file(name: str) -> bool:
    return "tfevents" in os.path.basename(name)


def _walk(root: str) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        out.extend(os.path.join(dirpath, f) for f in sorted(filenames))
    return out


def _one_version(path: str, files: Sequence[str]) -> None:
    """Event files of several Lightning ``version_N`` folders are several runs (a
    logger's ``version`` grows at each run): which one is meant is the user's call."""
    versions = sorted(
        {
            part
            for f in files
            for part in Path(os.path.relpath(f, path)).parts[:-1]
            if re.fullmatch(r"version_\d+", part)
        }
    )
    if len(versions) > 1:
        raise DataError(
            f"{path}: event files of {len(versions)} runs ({', '.join(versions[:4])})",
            hint="pass the folder of the run you mean (or several of one run, in order) as LOG",
        )


def _checkpoint_step(path: str) -> tuple[int, str]:
    """Hugging Face ``checkpoint-N`` folders in step order (10 before 100)."""
    m = re.search(r"checkpoint-(\d+)", path)
    return (int(m.group(1)) if m else -1, path)


def _read_dir(path: str, log: TrainingLog) -> str:
    files = _walk(path)
    events = [f for f in files if _is_event_file(f)]
    if events:
        _one_version(path, events)
        return _read_tensorboard(events, log)
    tsvs = [f for f in files if f.endswith(".tsv")]
    if tsvs:
        metrics_dirs = [f for f in tsvs if f"{os.sep}plots{os.sep}metrics{os.sep}" in f]
        chosen = metrics_dirs or tsvs
        for f in chosen:
            base = f.split(f"{os.sep}plots{os.sep}metrics{os.sep}", 1)
            rel = base[1] if len(base) == 2 else os.path.relpath(f, path)
            _read_delimited(f, log, prefix=rel[: -len(".tsv")].replace(os.sep, "/"))
        return "dvclive"
    for name in ("metrics.csv", "trainer_state.json"):
        found = [f for f in files if os.path.basename(f) == name]
        if len(found) > 1:
            hint = "pass the one you mean (or several of one run, in order) as LOG"
            if name == "trainer_state.json":
                found.sort(key=_checkpoint_step)
                hint = (
                    "pass the one you mean as LOG: a Hugging Face checkpoint-N/"
                    "trainer_state.json holds the run's whole history up to step N"
                )
            raise DataError(
                f"{path}: {len(found)} files named {name} "
                f"({', '.join(os.path.relpath(f, path) for f in found[:4])}"
                f"{', …' if len(found) > 4 else ''})",
                hint=hint,
            )
        if found:
            return _read_file(found[0], log)
    raise DataError(
        f"{path}: no training log in this folder",
        hint="looked for TensorBoard event files, DVCLive .tsv files, metrics.csv "
        "and trainer_state.json",
    )


def _read_file(path: str, log: TrainingLog) -> str:
    lower = path.lower()
    if _is_event_file(path):
        return _read_tensorboard([path], log)
    if lower.endswith(".jsonl") or lower.endswith(".ndjson"):
        return _read_jsonl(path, log)
    if lower.endswith(".json"):
        return _read_json(path, log)
    if lower.endswith(".tsv"):
        # a DVCLive metric is named by its path under plots/metrics (``val/loss``)
        under = Path(path).as_posix().rsplit("/plots/metrics/", 1)
        stem = under[1][: -len(".tsv")] if len(under) == 2 else Path(path).stem
        with open(path, encoding="utf-8-sig") as fh:
            head = fh.readline().rstrip("\n").split("\t")
        if "step" in head and len(head) == len({"timestamp", "step"} & set(head)) + 1:
            return _read_delimited(path, log, prefix=stem)
    return _read_delimited(path, log)


def read_logs(paths: Iterable[str]) -> TrainingLog:
    """Read the logs of one run (several: in the order given, e.g. a resumed run)."""
    paths = list(paths)
    log = TrainingLog(paths=paths, formats=[])
    for path in paths:
        if not os.path.exists(path):
            raise DataError(f"{path}: no such file or folder")
        try:
            fmt = _read_dir(path, log) if os.path.isdir(path) else _read_file(path, log)
        except (UnicodeDecodeError, OSError) as exc:
            raise DataError(f"{path}: cannot be read ({exc})") from None
        log.formats.append(fmt)
    if not log.columns:
        raise DataError(
            f"{', '.join(paths)}: no metric values in the log",
            hint="is the run still at its first step, or is this the right file?",
        )
    return log
