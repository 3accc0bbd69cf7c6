"""The one way losscli writes a file: through a temporary file beside the target and a
rename, so readers never see a half-written file and a failed run leaves nothing behind.

Every output (``-o`` reports, ``--per-sample`` rows) goes through :class:`AtomicFile`;
an output path that cannot be written is a usage error (exit 2) naming it.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO

from losscli.errors import UsageError


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class AtomicFile:
    """A text file written to a temporary sibling and renamed onto ``path`` by
    :meth:`commit`; :meth:`abort` (or leaving a ``with`` block by an exception) removes
    the temporary file and leaves any previous ``path`` untouched."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        parent = self.path.parent if str(self.path.parent) else Path(".")
        parent.mkdir(parents=True, exist_ok=True)
        fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=parent)
        self.fh: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8", newline="")

    def write(self, text: str) -> None:
        assert self.fh is not None, "write after commit or abort"
        self.fh.write(text)

    def close_temp(self) -> str:
        """Close the temporary file and return its path."""
        if self.fh is not None:
            self.fh.close()
            self.fh = None
        return self.tmp

    def rewrite(self, transform: Callable[[IO[str], IO[str]], None]) -> None:
        """Pass the text written so far through ``transform(source, destination)`` (to
        drop columns once a run knows which to keep, …); then :meth:`commit` as usual."""
        src_path = self.close_temp()
        fd, new = tempfile.mkstemp(
            prefix=f".{self.path.name}.", suffix=".tmp", dir=Path(src_path).parent
        )
        try:
            with (
                open(src_path, encoding="utf-8", newline="") as src,
                os.fdopen(fd, "w", encoding="utf-8", newline="") as dst,
            ):
                transform(src, dst)
            os.replace(new, src_path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(new)
            raise

    def commit(self) -> None:
        """Give the file the mode a plain ``open()`` would (0666 & ~umask) and rename it
        into place."""
        self.close_temp()
        try:
            with contextlib.suppress(OSError):
                os.chmod(self.tmp, 0o666 & ~_umask())
            os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        self.close_temp()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.tmp)

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (raises the OSError on failure; callers map it
    with :func:`output_error`)."""
    with AtomicFile(path) as fh:
        fh.write(text)


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
            return  # created on write; errors then are mapped by output_error
        fd, tmp = tempfile.mkstemp(prefix=f".{Path(path).name}.", suffix=".tmp", dir=parent)
    except OSError as exc:
        raise output_error(path, exc) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)
