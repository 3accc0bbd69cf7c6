"""The console-script entry point: Ctrl-C and SIGTERM end a run with their exit codes from the
first instruction, including while the command modules are still being imported
(SPEC §11 "Exit behaviour"). Only the standard library is imported before the
handlers are in place."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any, NoReturn

from losscli.errors import ExitCode, Terminated

#: What an interruption prints before the command has started: nothing was written.
_INTERRUPTED = "Error: interrupted (Ctrl-C); no partial output file was left"
_TERMINATED = "Error: terminated (SIGTERM); no partial output file was left"


def _on_sigterm(signum: int, frame: Any) -> None:
    raise Terminated()


def _stop(line: str, code: int) -> NoReturn:
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, signal.SIG_IGN)  # a second signal cannot add a traceback
    try:
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
    except (OSError, ValueError):
        pass
    raise SystemExit(code)


def main() -> None:
    """Import the command line under signal handlers, then run it (a run installs its
    own handlers; these cover the moments before and after)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_sigterm)
    # pyarrow's memory pool for a one-shot command. A streamed 5M-row CSV pair, medians
    # of 11 runs on 2 cores: system malloc 0.74 s / 234 MiB, mimalloc 0.69 s / 230 MiB,
    # jemalloc 0.65 s / 233 MiB (each chunk's freed parse buffers given back, see
    # ArrowText.chunks). jemalloc is taken on Linux, whose pyarrow wheels ship it; the
    # system allocator elsewhere. A caller's own choice (the variable already set) is
    # kept; the library leaves it alone.
    pool = "jemalloc" if sys.platform.startswith("linux") else "system"
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", pool)
    try:
        from losscli.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:
        _stop(_INTERRUPTED, int(ExitCode.INTERRUPTED))
    except Terminated:
        _stop(_TERMINATED, int(ExitCode.TERMINATED))
