"""Results → output. The only place (besides cli.py) where rich is used.

Every command produces one JSON-ready document (a dict). Renderers turn it into a Rich
table, strict JSON, tidy CSV, Markdown or a self-contained HTML page; :func:`write_files`
writes ``-o`` outputs atomically.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from losscli.errors import UsageError

#: --format choices (SPEC §3).
FORMATS: tuple[str, ...] = ("table", "json", "csv", "markdown")

#: Output file extension → format.
EXTENSIONS: dict[str, str] = {
    ".json": "json",
    ".csv": "csv",
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
}


def format_for_path(path: str | os.PathLike[str]) -> str:
    """The format an ``-o`` file gets from its extension; unknown extensions are usage errors."""
    ext = Path(path).suffix.lower()
    try:
        return EXTENSIONS[ext]
    except KeyError:
        raise UsageError(
            f"cannot tell the output format of '{path}' from its extension",
            hint="use one of " + ", ".join(sorted(EXTENSIONS)),
        ) from None


def fmt_number(value: float | None, precision: int = 4) -> str:
    """A number with ``precision`` significant digits for human formats (JSON keeps all)."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return str(value)
    if value != value:  # NaN
        return "nan"
    return f"{value:.{precision}g}"


def fmt_params(params: dict[str, Any], precision: int = 4) -> str:
    parts = []
    for k, v in params.items():
        if isinstance(v, float):
            v = fmt_number(v, precision)
        elif isinstance(v, (list, tuple)):
            v = ",".join(fmt_number(x, precision) if isinstance(x, float) else str(x) for x in v)
        parts.append(f"{k}={v}")
    return " ".join(parts)


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: readers never see
    a half-written file, and a failure leaves any previous file untouched (and raises the
    OSError; :func:`write_files` turns it into a usage error naming the path)."""
    target = Path(path)
    parent = target.parent if str(target.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent)
    try:
        # mkstemp creates the file 0600; give it the mode a plain open() would (0666 & ~umask)
        with contextlib.suppress(OSError):
            os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _why_unwritable(path: str | os.PathLike[str]) -> str | None:
    """A plain reason why ``path`` cannot become a file, when one is visible without
    writing: it is a directory, or one of its parents is a file."""
    target = Path(path)
    try:
        if target.is_dir():
            return "it is a directory"
        anc = target.parent
        while str(anc) not in ("", ".") and not anc.exists() and anc != anc.parent:
            anc = anc.parent
        if anc.exists() and not anc.is_dir():
            return f"'{anc}' is a file, not a directory"
    except OSError:
        return None
    return None


def output_error(path: str | os.PathLike[str], exc: OSError | None = None) -> UsageError:
    """The usage error (exit 2) for an output file that cannot be written."""
    reason = _why_unwritable(path)
    if reason is None and exc is not None:
        reason = exc.strerror or str(exc)
    return UsageError(
        f"cannot write '{path}': {reason or 'not writable'}",
        hint="choose a file path in a directory you can write to",
    )


def check_writable(path: str | os.PathLike[str]) -> None:
    """Fail early (before any input is read) when ``path`` cannot be written: probe its
    directory with a temporary file when that directory exists."""
    if _why_unwritable(path) is not None:
        raise output_error(path)
    parent = Path(path).parent if str(Path(path).parent) else Path(".")
    try:
        if not parent.is_dir():
            return  # created on write; errors then are mapped by write_atomic
        fd, tmp = tempfile.mkstemp(prefix=f".{Path(path).name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise output_error(path, exc) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


def plural(n: int, word: str) -> str:
    """``1 sample``, ``2 samples``."""
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_files(paths: Iterable[str], render: Callable[[str], str]) -> list[tuple[str, str]]:
    """Render every ``-o`` file first (so a rendering error writes nothing), then write
    each atomically. ``render(fmt)`` returns the text for a format. A path that cannot
    be written is a usage error (exit 2) naming it."""
    rendered = [(str(p), render(format_for_path(p))) for p in paths]
    for path, text in rendered:
        try:
            write_atomic(path, text)
        except OSError as exc:  # a directory, a parent that is a file, no permission …
            raise output_error(path, exc) from None
    return rendered


def penalty_line(reg: dict[str, Any], precision: int = 4) -> str:
    """``+ penalty = l2·Σw² = 0.0123 (1,234 weights in W.npz; Keras convention, no ½)``."""
    terms = []
    if reg.get("l1") is not None:
        terms.append(f"{fmt_number(reg['l1'], precision)}·Σ|w|")
    if reg.get("l2") is not None:
        terms.append(f"{fmt_number(reg['l2'], precision)}·Σw²")
    return (
        f"+ penalty = {' + '.join(terms)} = {fmt_number(reg['penalty'], precision)} "
        f"({reg['n_weights']:,} weights in {reg['weights']}; Keras convention, no ½)"
    )


def per_class_title(task: str) -> str:
    """What the columns of a per-class breakdown are, by task."""
    return {"regression": "per output", "detection": "per coordinate"}.get(task, "per class")
