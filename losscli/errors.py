"""One exception hierarchy; each class carries its exit code.

This module is the only place where exit codes are defined (see SPEC §2):

====  =====================================================================
code  meaning
====  =====================================================================
0     ran; every gate passed (or there were no gates)
1     ran; at least one gate failed, or a gate could not be evaluated
2     usage or configuration error
3     input data error
4     internal error (a bug)
130   interrupted (Ctrl-C, SIGINT)
141   standard output closed early (broken pipe)
143   terminated (SIGTERM)
====  =====================================================================
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of every losscli command."""

    OK = 0
    GATE_FAILED = 1
    USAGE_ERROR = 2
    DATA_ERROR = 3
    INTERNAL_ERROR = 4
    INTERRUPTED = 130
    BROKEN_PIPE = 141
    TERMINATED = 143


class LossCliError(Exception):
    """Base class of every error losscli raises on purpose.

    ``message`` says what was found; ``hint`` (optional) says how to fix it.
    """

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(LossCliError):
    """Bad or conflicting flags, unknown loss or parameter, invalid config or rules file."""

    exit_code = ExitCode.USAGE_ERROR


class ConfigError(UsageError):
    """A YAML config or rules file that does not match its schema."""


class Terminated(BaseException):
    """Raised in the main thread when the process receives SIGTERM, so that every
    ``with``/``finally`` block runs (temporary files are removed) before it exits 143.
    A :class:`BaseException`, like :class:`KeyboardInterrupt`: no ``except Exception``
    swallows it."""

    exit_code: ExitCode = ExitCode.TERMINATED


class DataError(LossCliError):
    """Input data that cannot be used: missing file, bad cell, misaligned rows, bad domain."""

    exit_code = ExitCode.DATA_ERROR


class PluginFailure(LossCliError):
    """A user's loss function (``--plugin``, entry point ``losscli.losses``) raised or
    returned the wrong shape: an input data error naming ``NAME (module:function)``."""

    exit_code = ExitCode.DATA_ERROR


def did_you_mean(word: str, choices: Iterable[str], *, n: int = 3) -> str | None:
    """Return a ``did you mean …?`` hint for ``word`` among ``choices`` (or None)."""
    matches = difflib.get_close_matches(word, list(choices), n=n, cutoff=0.6)
    if not matches:
        return None
    return "did you mean " + " or ".join(f"'{m}'" for m in matches) + "?"


def unknown_name(kind: str, word: str, choices: Iterable[str]) -> UsageError:
    """Build the standard error for an unknown name, with a did-you-mean hint."""
    choices = sorted(set(choices))
    hint = did_you_mean(word, choices)
    allowed = ", ".join(choices) if len(choices) <= 12 else ", ".join(choices[:12]) + ", …"
    hint = f"allowed: {allowed}" if hint is None else f"{hint} (allowed: {allowed})"
    return UsageError(f"unknown {kind} '{word}'", hint=hint)
