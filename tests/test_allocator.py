"""Allocator set-up: importing the engine changes no process state; the tuning is an
explicit, idempotent call."""

from __future__ import annotations

import subprocess
import sys

SCRIPT = """
import losscli.allocator as r
import losscli.registry, losscli.compute, losscli.accumulate  # noqa: F401
assert r._allocator_tuned is None, "importing must not touch the allocator"
assert r.allocator_tuned() is False
r.tune_allocator()
first = r.allocator_tuned()
r.tune_allocator()
assert r.allocator_tuned() is first
print(first)
"""


def test_import_changes_nothing_and_tuning_is_idempotent() -> None:
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True
    ).stdout.strip()
    if sys.platform.startswith("linux"):
        assert out in ("True", "False")  # False on a C library other than glibc
    else:
        assert out == "False"
