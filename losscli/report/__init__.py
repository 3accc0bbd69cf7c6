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
    a half-written file, and a failure leaves any previous file untouched."""
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


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_files(paths: Iterable[str], render: Callable[[str], str]) -> list[tuple[str, str]]:
    """Render every ``-o`` file first (so a rendering error writes nothing), then write
    each atomically. ``render(fmt)`` returns the text for a format."""
    rendered = [(str(p), render(format_for_path(p))) for p in paths]
    for path, text in rendered:
        write_atomic(path, text)
    return rendered
