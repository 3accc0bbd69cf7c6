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


def arrow_pool() -> str:
    """The pyarrow memory pool of the command line, chosen without importing pyarrow.

    A streamed 5M-row CSV pair on 2 cores, medians of 11 runs: jemalloc 0.61 s / 232 MiB,
    mimalloc (Arrow's default) 0.68 s / 231 MiB, system malloc 0.70 s / 241 MiB (each
    chunk's freed parse buffers are given back, see ``ArrowText.chunks``). jemalloc where
    pyarrow is a Linux wheel: those bundle their own libarrow, built with it. Elsewhere
    (other systems, a libarrow from a distribution) the system allocator, because naming
    a backend that the build lacks prints a warning on every run.
    """
    if not sys.platform.startswith("linux"):
        return "system"
    try:
        from importlib.util import find_spec

        spec = find_spec("pyarrow")
        folder = os.path.dirname(spec.origin) if spec is not None and spec.origin else None
        bundled = folder is not None and any(
            name.startswith("libarrow.so") for name in os.listdir(folder)
        )
    except (ImportError, ValueError, OSError):
        bundled = False
    return "jemalloc" if bundled else "system"


def main() -> None:
    """Import the command line under signal handlers, then run it (a run installs its
    own handlers; these cover the moments before and after)."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_sigterm)
    # pyarrow's memory pool for a one-shot command; a caller's own choice (the variable
    # already set) is kept, and the library leaves it alone
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", arrow_pool())
    try:
        from losscli.cli import main as cli_main

        cli_main()
    except KeyboardInterrupt:
        _stop(_INTERRUPTED, int(ExitCode.INTERRUPTED))
    except Terminated:
        _stop(_TERMINATED, int(ExitCode.TERMINATED))
