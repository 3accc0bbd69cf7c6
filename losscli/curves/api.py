"""``losscli curves``: read training logs, analyse the monitored curve, build the document.

The steps: :func:`losscli.data.logs.read_logs` → pick the monitored and training
columns and the axis (:func:`choose_axis`) → findings, the callback replay, smoothing
(:mod:`losscli.curves`) → the chance level from a targets file
(:func:`losscli.curves.chance.chance_level`) → one JSON-ready document (SPEC §12).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from losscli.curves import findings as fnd
from losscli.curves.chance import chance_level
from losscli.curves.smooth import tensorboard_smooth
from losscli.curves.stopping import DEFAULTS, RULES, Replay, StopParams, replay
from losscli.data.logs import LogColumn, TrainingLog, read_logs
from losscli.errors import DataError, UsageError, did_you_mean, unknown_name

#: Monitored-metric names looked for, in order, when ``--monitor`` is not given.
MONITOR_NAMES: tuple[str, ...] = (
    "val_loss",
    "eval_loss",
    "val_loss_epoch",
    "validation/epoch_loss",
    "val/loss",
    "val/loss_epoch",
    "val/epoch/loss",
    "eval/loss",
    "validation_loss",
    "valid_loss",
    "Loss/val",
    "loss/val",
)
#: Training-loss names looked for, in order, when ``--train`` is not given.
TRAIN_NAMES: tuple[str, ...] = (
    "loss",
    "train_loss",
    "train_loss_epoch",
    "train/epoch_loss",
    "train/loss",
    "train/loss_epoch",
    "train/epoch/loss",
    "training_loss",
    "Loss/train",
    "loss/train",
    "train_loss_step",
    "train/loss_step",
    "train/step/loss",
)
#: Learning-rate columns (the initial LR of a torch-plateau replay).
LR_PREFIXES: tuple[str, ...] = ("lr", "learning_rate", "lr-")


@dataclass
class CurveOptions:
    """Everything ``curves`` is asked to do; None means "the rule's default"."""

    monitor: str | None = None
    train: str | None = None
    mode: str = "min"
    rule: str | None = None
    patience: int | None = None
    min_delta: float | None = None
    min_delta_mode: str | None = None
    baseline: float | None = None
    start_from_epoch: int | None = None
    cooldown: int | None = None
    factor: float | None = None
    min_lr: float | None = None
    smooth: float | None = None
    targets: str | None = None
    loss: str | None = None
    fail_on: list[str] = field(default_factory=list)


@dataclass
class Curve:
    """One column on the run's axis."""

    name: str
    role: str
    positions: np.ndarray
    values: np.ndarray
    smoothed: np.ndarray | None = None
    note: str | None = None


@dataclass
class CurvesReport:
    data: dict[str, Any]
    curves: list[Curve]
    replay: Replay | None
    found: list[fnd.Finding]


# ----------------------------------------------------------------------------- checks


def check_options(o: CurveOptions) -> StopParams | None:
    """Usage errors before any log is read; the callback's settings with its defaults."""
    if o.mode not in ("min", "max"):
        raise unknown_name("mode", o.mode, ("min", "max"))
    for kind in o.fail_on:
        if kind not in fnd.KINDS:
            raise unknown_name("--fail-on kind", kind, fnd.KINDS)
    if o.smooth is not None and not (0.0 <= o.smooth <= 1.0):
        raise UsageError(
            f"--smooth {o.smooth} is outside [0, 1]",
            hint="TensorBoard's smoothing weight: 0 is none, 0.6 its default, 0.99 heavy",
        )
    if o.loss is not None and o.targets is None:
        raise UsageError("--loss needs --targets", hint="add --targets VAL_TARGETS")
    rule_only = {
        "--patience": o.patience,
        "--min-delta": o.min_delta,
        "--min-delta-mode": o.min_delta_mode,
        "--baseline": o.baseline,
        "--start-from-epoch": o.start_from_epoch,
        "--cooldown": o.cooldown,
        "--factor": o.factor,
        "--min-lr": o.min_lr,
    }
    if o.rule is None:
        given = [k for k, v in rule_only.items() if v is not None]
        if given:
            raise UsageError(
                f"{', '.join(given)} need(s) --early-stopping",
                hint="add --early-stopping keras|lightning|torch-plateau",
            )
        return None
    if o.rule not in RULES:
        raise unknown_name("--early-stopping rule", o.rule, RULES)
    allowed = {
        "keras": {
            "--patience",
            "--min-delta",
            "--min-delta-mode",
            "--baseline",
            "--start-from-epoch",
        },
        "lightning": {"--patience", "--min-delta", "--min-delta-mode"},
        "torch-plateau": {
            "--patience",
            "--min-delta",
            "--min-delta-mode",
            "--cooldown",
            "--factor",
            "--min-lr",
        },
    }[o.rule]
    wrong = [k for k, v in rule_only.items() if v is not None and k not in allowed]
    if wrong:
        raise UsageError(
            f"{', '.join(wrong)} do(es) not apply to --early-stopping {o.rule}",
            hint=f"{o.rule} takes {', '.join(sorted(allowed))}",
        )
    d = DEFAULTS[o.rule]
    delta_mode = o.min_delta_mode or d["min_delta_mode"]
    if delta_mode not in ("abs", "rel"):
        raise unknown_name("--min-delta-mode", delta_mode, ("abs", "rel"))
    if delta_mode == "rel" and o.rule != "torch-plateau":
        raise UsageError(
            f"{o.rule} EarlyStopping compares with an absolute min_delta only",
            hint="drop --min-delta-mode rel (it is torch-plateau's threshold_mode)",
        )
    patience = d["patience"] if o.patience is None else o.patience
    if patience < 0:
        raise UsageError(f"--patience {patience} is negative")
    factor = 0.1 if o.factor is None else o.factor
    if o.rule == "torch-plateau" and not (0.0 <= factor < 1.0):
        raise UsageError(f"--factor {factor} must be in [0, 1)", hint="torch: factor < 1.0")
    return StopParams(
        rule=o.rule,
        mode=o.mode,
        patience=patience,
        min_delta=d["min_delta"] if o.min_delta is None else o.min_delta,
        min_delta_mode=delta_mode,
        baseline=o.baseline,
        start_from_epoch=o.start_from_epoch or 0,
        cooldown=o.cooldown or 0,
        factor=factor,
        min_lr=o.min_lr or 0.0,
    )


# ------------------------------------------------------------------------------ axis


def _pick(log: TrainingLog, asked: str | None, names: Sequence[str], what: str) -> str | None:
    found = list(log.columns)
    if asked is not None:
        if asked not in log.columns:
            flag = "--monitor" if what == "monitored" else "--train"
            close = did_you_mean(asked, found)
            raise DataError(
                f"no {what} column '{asked}' in the log (columns: {', '.join(found)})",
                hint=f"{close} ({flag})" if close else f"pass one of them with {flag}",
            )
        return asked
    return next((n for n in names if n in log.columns), None)


def choose_axis(log: TrainingLog, monitor: LogColumn) -> str:
    """``epoch`` when every monitored point has an epoch and no two share one (and the
    log is not a Hugging Face one, whose positions are global steps); else ``step``
    (else ``epoch`` again, where repeats are merged or asked about)."""
    steps, epochs, _ = monitor.arrays()
    hf = "huggingface" in log.formats
    has_epochs = not hf and bool(np.all(np.isfinite(epochs)))
    if has_epochs and len(np.unique(epochs)) == len(epochs):
        return "epoch"
    if np.all(np.isfinite(steps)):
        return "step"
    if has_epochs:  # repeated epochs and no step: equal repeats merge, others are asked
        return "epoch"
    raise DataError(
        f"{monitor.name} has points with neither a step nor an epoch",
        hint="log a step column next to the metrics",
    )


def _on_axis(col: LogColumn, axis: str) -> tuple[np.ndarray, np.ndarray, list[str]] | None:
    steps, epochs, values = col.arrays()
    pos = epochs if axis == "epoch" else steps
    if not np.all(np.isfinite(pos)):
        return None
    order = np.argsort(pos, kind="stable")
    return pos[order], values[order], [col.origins[i] for i in order]


def _dedupe(name: str, pos: np.ndarray, val: np.ndarray, origins: list[str], axis: str):
    """One value per position: equal repeats are dropped, differing ones are an error."""
    if len(pos) < 2:
        return pos, val
    same = pos[1:] == pos[:-1]
    if not same.any():
        return pos, val
    for i in np.flatnonzero(same):
        a, b = val[i], val[i + 1]
        if not (a == b or (math.isnan(a) and math.isnan(b))):
            raise DataError(
                f"{name} has two values at {axis} {_num(pos[i])}: {float(a)!r} "
                f"({origins[i]}) and {float(b)!r} ({origins[i + 1]})",
                hint="pass the logs of one run only, or one log at a time",
            )
    keep = np.concatenate([[True], ~same])
    return pos[keep], val[keep]


def _per_position_mean(pos: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, inv = np.unique(pos, return_inverse=True)
    sums = np.zeros(len(uniq))
    np.add.at(sums, inv, val)
    counts = np.bincount(inv, minlength=len(uniq))
    return uniq, sums / counts


def _num(x: float) -> int | float:
    return int(x) if float(x).is_integer() else float(x)


def _jsonable(a: np.ndarray) -> list[float | int | None]:
    return [None if not math.isfinite(v) else v for v in a.tolist()]


def _positions(a: np.ndarray) -> list[int | float]:
    return [_num(v) for v in a.tolist()]


# ---------------------------------------------------------------------------- build


def _lr_start(log: TrainingLog) -> tuple[str, float] | None:
    for name, col in log.columns.items():
        low = name.lower().rsplit("/", 1)[-1]
        if low == "lr" or low.startswith("lr-") or low in ("learning_rate", "lr_epoch"):
            vals = [v for v in col.values if math.isfinite(v)]
            if vals:
                return name, vals[0]
    return None


def _read_targets(path: str) -> np.ndarray:
    from losscli.data.readers import read_table

    table = read_table(path, role="targets")
    numeric = [c for c, a in table.columns.items() if a.dtype.kind in "fiu"]
    preferred = [c for c in ("target", "targets", "y", "label", "labels") if c in numeric]
    if preferred:
        return np.asarray(table.columns[preferred[0]], dtype=np.float64)
    if len(numeric) == 1:
        return np.asarray(table.columns[numeric[0]], dtype=np.float64)
    raise DataError(
        f"{path}: cannot tell which column holds the targets "
        f"(columns: {', '.join(table.all_columns)})",
        hint="give it one numeric column, or name it 'target' or 'y'",
    )


def analyse(logs: Sequence[str], o: CurveOptions) -> CurvesReport:
    """Read ``logs`` (one run) and build the ``curves`` document."""
    params = check_options(o)
    log = read_logs(logs)
    monitor = _pick(log, o.monitor, MONITOR_NAMES, "monitored")
    if monitor is None:
        raise DataError(
            f"no monitored metric among the columns {', '.join(log.columns)}",
            hint=f"looked for {', '.join(MONITOR_NAMES)}; name one with --monitor",
        )
    train = _pick(log, o.train, TRAIN_NAMES, "training")
    if train == monitor:
        train = None
    mcol = log.columns[monitor]
    axis = choose_axis(log, mcol)
    warnings: list[str] = []
    curves: list[Curve] = []
    for name, col in log.columns.items():
        placed = _on_axis(col, axis)
        if placed is None:
            if name == train:
                warnings.append(f"{name} has no {axis} values; it is left out of the analysis")
                train = None
            continue
        pos, val, origins = placed
        role = "monitor" if name == monitor else "train" if name == train else "other"
        note = None
        if role == "monitor":
            pos, val = _dedupe(name, pos, val, origins, axis)
        elif len(np.unique(pos)) < len(pos) and role == "train":
            pos, val = _per_position_mean(pos, val)
            note = f"mean of the values logged in each {axis}"
        smoothed = tensorboard_smooth(val, o.smooth) if o.smooth is not None else None
        curves.append(Curve(name, role, pos, val, smoothed, note))
    mon = next(c for c in curves if c.role == "monitor")
    tr = next((c for c in curves if c.role == "train"), None)

    found = fnd.find_all(
        monitor,
        mon.positions,
        mon.values,
        mode=o.mode,
        train=tr.name if tr else None,
        tpos=tr.positions if tr else None,
        tval=tr.values if tr else None,
    )

    rep = None
    stop_doc = None
    if params is not None:
        if params.rule == "torch-plateau":
            lr = _lr_start(log)
            if lr is None and params.min_lr > 0:
                raise UsageError(
                    "--min-lr needs the initial learning rate, and the log has no "
                    "learning-rate column (lr, lr-*, learning_rate)",
                    hint="log the LR (Lightning LearningRateMonitor) or drop --min-lr",
                )
            if lr is not None:
                params = StopParams(**{**params.__dict__, "lr": lr[1]})
        keras_on_index = params.rule == "keras" and axis != "epoch"
        at = np.arange(len(mon.positions), dtype=np.float64) if keras_on_index else mon.positions
        rep = replay(at.tolist(), mon.values.tolist(), params)
        if keras_on_index:
            back = dict(zip(at.tolist(), mon.positions.tolist()))
            rep.stopped_at = back.get(rep.stopped_at) if rep.stopped_at is not None else None
            rep.best_at = back.get(rep.best_at) if rep.best_at is not None else None
            rep.restored_at = back.get(rep.restored_at) if rep.restored_at is not None else None
        stop_doc = _stop_doc(rep, params, axis)
        if axis == "step":
            epochs = _epochs_at(log, mcol)
            at = {k: stop_doc.get(k) for k in ("stopped_at", "best_at", "restored_at")}
            known = {k: epochs[v] for k, v in at.items() if v is not None and v in epochs}
            if known:
                stop_doc["epochs"] = known

    best_doc = _best(mon, o.mode)
    chance_doc = None
    if o.targets is not None:
        ch = chance_level(_read_targets(o.targets), o.loss)
        chance_doc = {
            "loss": ch.loss,
            "task": ch.task,
            "value": ch.value,
            "unit": "nats" if ch.task != "regression" else "target units",
            "prediction": ch.prediction,
            "targets": o.targets,
            "n_samples": ch.n,
        }
    gates = []
    for kind in o.fail_on:
        n = sum(1 for f in found if f.kind == kind)
        gates.append({"kind": kind, "found": n, "passed": n == 0})
    doc: dict[str, Any] = {
        "schema_version": 1,
        "command": "curves",
        "ok": all(g["passed"] for g in gates),
        "inputs": {"logs": [{"path": p, "format": f} for p, f in zip(log.paths, log.formats)]},
        "axis": axis,
        "monitor": monitor,
        "train": tr.name if tr else None,
        "mode": o.mode,
        "smooth": o.smooth,
        "columns": list(log.columns),
        "series": [_series_doc(c) for c in curves],
        "best": best_doc,
        "early_stopping": stop_doc,
        "findings": [
            {
                "kind": f.kind,
                "series": f.series,
                "from_step": _num(f.from_step),
                "to_step": _num(f.to_step),
                "severity": f.severity,
                "evidence": f.evidence,
                "numbers": f.numbers,
            }
            for f in found
        ],
        "chance_level": chance_doc,
        "gates": gates,
        "warnings": warnings + log.notes,
    }
    return CurvesReport(doc, curves, rep, found)


def _series_doc(c: Curve) -> dict[str, Any]:
    d: dict[str, Any] = {
        "name": c.name,
        "role": c.role,
        "positions": _positions(c.positions),
        "values": _jsonable(c.values),
        "points": len(c.values),
        "non_finite": int(np.sum(~np.isfinite(c.values))),
    }
    inf = np.isinf(c.values)
    if inf.any():  # JSON has no inf: say which nulls are ±inf rather than NaN
        d["infinite"] = [
            {"position": _num(p), "value": "inf" if v > 0 else "-inf"}
            for p, v in zip(c.positions[inf].tolist(), c.values[inf].tolist())
        ]
    if c.smoothed is not None:
        d["smoothed"] = _jsonable(c.smoothed)
    if c.note:
        d["note"] = c.note
    return d


def _best(c: Curve, mode: str) -> dict[str, Any] | None:
    finite = np.isfinite(c.values)
    if not finite.any():
        return None
    vals = np.where(finite, c.values, np.inf if mode == "min" else -np.inf)
    i = int(np.argmin(vals) if mode == "min" else np.argmax(vals))
    return {"series": c.name, "value": float(c.values[i]), "position": _num(c.positions[i])}


def _epochs_at(log: TrainingLog, mcol: LogColumn) -> dict[float, int | float]:
    """step → epoch for the monitored points on a step axis, where the log says: the
    point's own epoch (Lightning ``metrics.csv``), else an ``epoch`` metric logged at
    that step (Lightning's TensorBoard and DVCLive loggers). Empty when unknown or
    ambiguous."""
    steps, epochs, _ = mcol.arrays()
    pairs = [(s, e) for s, e in zip(steps.tolist(), epochs.tolist()) if math.isfinite(e)]
    if not pairs and "epoch" in log.columns:
        ecol = log.columns["epoch"]
        pairs = list(zip(ecol.steps, ecol.values))
    out: dict[float, int | float] = {}
    for s, e in pairs:
        if not (math.isfinite(s) and math.isfinite(e)):
            continue
        if out.get(s, e) != _num(e):
            return {}
        out[s] = _num(e)
    return out


def _stop_doc(rep: Replay, p: StopParams, axis: str) -> dict[str, Any]:
    d: dict[str, Any] = {"rule": rep.rule, "params": p.as_dict()}
    if rep.stopped_at is not None:
        d["stopped_at"] = _num(rep.stopped_at)
        d["reason"] = rep.reason
    d["best_at"] = None if rep.best_at is None else _num(rep.best_at)
    finite_best = rep.best_value is not None and math.isfinite(rep.best_value)
    d["best_value"] = rep.best_value if finite_best else None
    d["restored_at"] = None if rep.restored_at is None else _num(rep.restored_at)
    if rep.rule == "keras":
        d["restores"] = (
            "restore_best_weights=True restores the weights of best_epoch, stopped or not"
        )
    else:
        d["restores"] = "nothing: this callback restores no weights"
    d["reductions"] = [
        {"at": _num(at), "lr_before": before, "lr_after": after}
        for at, before, after in rep.reductions
    ]
    if rep.rule == "torch-plateau":
        d["lr_known"] = p.lr is not None
        if p.lr is None:
            d["lr_note"] = "no learning-rate column in the log: LRs are relative to a start of 1"
    return d
