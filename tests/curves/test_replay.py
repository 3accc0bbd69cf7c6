"""The callback replays against what the callbacks really did (tests/fixtures/logs,
stops.json), and against the callbacks' comparisons on hand-made curves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from losscli.curves.stopping import StopParams, replay_keras, replay_lightning, replay_plateau

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
STOPS = json.loads((LOGS / "stops.json").read_text(encoding="utf-8"))


def run(cli, *args: str):
    r = cli("curves", *args, "--json")
    assert r.exit_code == 0, r.stderr
    return r.json()


def test_lightning_stop_is_replayed(cli) -> None:
    s = STOPS["lightning"]
    doc = run(cli, LOGS / s["csv"], "--early-stopping", "lightning", "--patience", "3")
    es = doc["early_stopping"]
    assert doc["axis"] == "epoch"
    assert es["stopped_at"] == s["stopped_at"] == 6
    assert es["best_value"] == pytest.approx(s["best_score"], rel=0, abs=0)
    assert es["restored_at"] is None


def test_lightning_stops_at_once_on_nan(cli) -> None:
    s = STOPS["lightning_nan"]
    doc = run(cli, LOGS / s["csv"], "--early-stopping", "lightning", "--patience", "5")
    es = doc["early_stopping"]
    assert es["stopped_at"] == s["stopped_at"] == 3
    assert es["reason"] == "non_finite"
    monitor = next(x for x in doc["series"] if x["role"] == "monitor")
    assert monitor["values"][-1] is None  # the NaN stays in the series as null
    assert any(f["kind"] == "nan" and f["from_step"] == 3 for f in doc["findings"])


@pytest.mark.parametrize(
    "case, extra", [("keras", []), ("keras_start", ["--start-from-epoch", "3"])]
)
def test_keras_stop_and_restore_are_replayed(cli, case: str, extra: list[str]) -> None:
    s = STOPS[case]
    doc = run(
        cli, LOGS / s["csv"], "--early-stopping", "keras", "--patience", str(s["patience"]), *extra
    )
    es = doc["early_stopping"]
    assert es["stopped_at"] == s["stopped_at"]
    assert es["restored_at"] == s["restored_at"]


def test_torch_plateau_reductions_are_replayed(cli) -> None:
    s = STOPS["torch_plateau"]
    doc = run(
        cli,
        LOGS / s["csv"],
        "--early-stopping",
        "torch-plateau",
        "--patience",
        "2",
        "--cooldown",
        "1",
        "--factor",
        "0.5",
    )
    es = doc["early_stopping"]
    assert [r["at"] for r in es["reductions"]] == s["reductions"]
    assert "stopped_at" not in es
    # the log's lr column: the LR in effect one epoch after each reduction
    lr = next(x for x in doc["series"] if x["name"] == "lr")
    by_epoch = dict(zip(lr["positions"], lr["values"]))
    for r in es["reductions"]:
        if r["at"] + 1 in by_epoch:
            assert by_epoch[r["at"] + 1] == pytest.approx(r["lr_after"], rel=1e-12)


@pytest.mark.slow  # imports tensorboard
def test_tensorboard_log_gives_the_same_stop(cli) -> None:
    pytest.importorskip("tensorboard")
    s = STOPS["lightning"]
    doc = run(cli, LOGS / s["tensorboard"], "--early-stopping", "lightning", "--patience", "3")
    csv_doc = run(cli, LOGS / s["csv"], "--json")
    assert doc["axis"] == "step"
    # the parent folder names the tags alike: one folder of event files, no run prefix
    assert run(cli, LOGS / "lightning_tb")["monitor"] == "val_loss"
    # the same run: the stop is the last val_loss point, in steps here
    mon = next(x for x in doc["series"] if x["role"] == "monitor")
    assert doc["early_stopping"]["stopped_at"] == mon["positions"][-1]
    assert len(mon["values"]) == len(
        next(x for x in csv_doc["series"] if x["role"] == "monitor")["values"]
    )


# ------------------------------------------------------------ the callbacks' own rules


def P(rule: str, **kw) -> StopParams:
    return StopParams(rule=rule, **kw)


def test_keras_compares_in_float32() -> None:
    # 1.0 and 1.0 − 1e-9 are the same float32: no improvement, so it stops at patience
    r = replay_keras([0, 1, 2], [1.0, 1.0 - 1e-9, 1.0 - 2e-9], P("keras", patience=1))
    assert r.stopped_at == 1 and r.restored_at == 0


def test_keras_needs_epoch_above_0_and_restores_without_stop() -> None:
    r = replay_keras([0, 1, 2, 3], [3.0, 2.0, 1.0, 0.5], P("keras", patience=0))
    assert r.stopped_at is None and r.restored_at == 3
    r = replay_keras([0], [math.nan], P("keras", patience=0))
    assert r.stopped_at is None  # epoch 0 never stops


def test_keras_baseline_keeps_wait_running() -> None:
    # improving, but never below the baseline 0.5: wait is not reset
    r = replay_keras([0, 1, 2, 3], [0.9, 0.8, 0.7, 0.6], P("keras", patience=2, baseline=0.5))
    assert r.stopped_at is None  # an improvement returns before the patience check
    r = replay_keras([0, 1, 2, 3], [0.9, 0.8, 0.8, 0.8], P("keras", patience=2, baseline=0.5))
    assert r.stopped_at == 2 and r.restored_at == 1


def test_lightning_min_delta_is_strict() -> None:
    # an improvement of exactly min_delta does not count (current − δ < best is false)
    r = replay_lightning([0, 1, 2], [1.0, 0.75, 0.5], P("lightning", patience=1, min_delta=0.25))
    assert r.stopped_at == 1 and r.best_at == 0


def test_plateau_cooldown_and_min_lr() -> None:
    vals = [1.0] * 10
    r = replay_plateau(
        range(10),
        vals,
        P("torch-plateau", patience=1, cooldown=2, lr=1.0, min_lr=0.3, factor=0.5, min_delta=1e-4),
    )
    # bad epochs 1, 2 → reduce at 2; cooldown 3, 4; bad 5, 6 → reduce at 6 (to min_lr 0.3);
    # torch 2.13's ReduceLROnPlateau on the same values gives the same list
    assert [(a, b, c) for a, b, c in r.reductions] == [(2, 1.0, 0.5), (6, 0.5, 0.3)]


def test_plateau_abs_threshold_in_max_mode() -> None:
    r = replay_plateau(
        range(4),
        [0.5, 0.55, 0.52, 0.53],
        P("torch-plateau", mode="max", patience=1, min_delta=0.05, min_delta_mode="abs", lr=1.0),
    )
    # 0.55 > 0.5 + 0.05 is false: bad; 0.52 bad → reduce at 2 (torch 2.13 does the same)
    assert [a for a, _, _ in r.reductions] == [2]
