"""The one way losscli writes a file: through a temporary file beside the target and a
rename, so readers never see a half-written file and a failed run leaves nothing behind.

Every output (``-o`` reports, ``--per-sample`` rows) goes through :class:`AtomicFile`;
an output path that cannot be written (no permission, a directory, a device, a full disk,
a file-size limit) is a usage error (exit 2) naming it, and leaves no temporary file.
:func:`refuse_input_overwrite` refuses an output that is one of the run's inputs, and
:func:`remove_temp_files` removes what an interrupted run had not finished writing.
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from losscli.errors import UsageError

#: Temporary files of this process not yet renamed into place or removed.
_LIVE: set[str] = set()


def remove_temp_files() -> None:
    """Remove every temporary file this process has not committed (called when a run is
    interrupted: SIGINT, SIGTERM)."""
    for tmp in list(_LIVE):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        _LIVE.discard(tmp)


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
        #: Folders this file created (deepest first): removed again by :meth:`abort`.
        self.created = [d for d in (parent, *parent.parents) if not d.exists()]
        parent.mkdir(parents=True, exist_ok=True)
        try:
            fd, self.tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=parent)
        except BaseException:
            self._remove_created()
            raise
        _LIVE.add(self.tmp)
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
        _LIVE.add(new)
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
        finally:
            _LIVE.discard(new)

    def commit(self) -> None:
        """Give the file the mode a plain ``open()`` would (0666 & ~umask) and rename it
        into place."""
        try:
            self.close_temp()  # the last flush may fail (disk full)
            with contextlib.suppress(OSError):
                os.chmod(self.tmp, 0o666 & ~_umask())
            os.replace(self.tmp, self.path)
        except BaseException:
            self.abort()
            raise
        _LIVE.discard(self.tmp)

    def abort(self) -> None:
        try:
            self.close_temp()  # may fail to flush (disk full): the file goes anyway
        except OSError:
            self.fh = None
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.tmp)
            _LIVE.discard(self.tmp)
            self._remove_created()

    def _remove_created(self) -> None:
        """Remove the folders this file created, while they are empty: a failed run
        leaves no empty folder behind."""
        for folder in self.created:
            try:
                folder.rmdir()
            except OSError:
                break

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


def write_all_atomic(items: Iterable[tuple[str, str]]) -> None:
    """Write every ``(path, text)`` as one step: each to its temporary file first (a
    failure — disk full, no permission — removes them all and writes nothing, raising a
    usage error naming the path), then every rename with SIGINT/SIGTERM held back, so an
    interrupted run leaves all the files or none of them."""
    import signal

    pending: list[AtomicFile] = []
    try:
        for path, text in items:
            try:
                fh = AtomicFile(path)
                pending.append(fh)
                fh.write(text)
                fh.close_temp()
            except OSError as exc:
                raise output_error(path, exc) from None
        held = {signal.SIGINT, signal.SIGTERM}
        try:
            old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
        except (AttributeError, ValueError, OSError):  # pragma: no cover - no sigmask
            old = None
        try:
            while pending:
                fh = pending[0]
                try:
                    fh.commit()
                except OSError as exc:
                    raise output_error(fh.path, exc) from None
                pending.pop(0)
        finally:
            if old is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, old)
    finally:
        for fh in reversed(pending):  # the last first: a folder the first created empties
            fh.abort()


def _why_unwritable(path: str | os.PathLike[str]) -> str | None:
    """A plain reason why ``path`` cannot become a file, when one is visible without
    writing: it is a directory, or one of its parents is a file."""
    target = Path(path)
    try:
        if target.is_dir():
            return "it is a directory"
        if target.exists() and not target.is_file():
            return "it is not a regular file (a device, pipe or socket)"
        anc = target.parent
        while str(anc) not in ("", ".") and not anc.exists() and anc != anc.parent:
            anc = anc.parent
        if anc.exists() and not anc.is_dir():
            return f"'{anc}' is a file, not a directory"
    except OSError:
        return None
    return None


def output_error(path: str | os.PathLike[str], exc: OSError | None = None) -> UsageError:
    """The usage error (exit 2) for an output file that cannot be written: a directory,
    a device, no permission, a full disk (ENOSPC), a file-size limit (EFBIG) …"""
    reason = _why_unwritable(path)
    if reason is None and exc is not None:
        reason = exc.strerror or str(exc)
    hint = "choose a file path in a directory you can write to, on a disk with room"
    if reason is not None and reason.startswith("it is not a regular file"):
        hint = "write to a regular file; to print the report on stdout, use --format"
    return UsageError(f"cannot write '{path}': {reason or 'not writable'}", hint=hint)


def stdout_error(exc: OSError) -> UsageError:
    """The usage error (exit 2) for standard output that cannot take the report (a full
    disk or a file-size limit where it is redirected)."""
    return UsageError(
        f"cannot write to standard output: {exc.strerror or exc}",
        hint="redirect standard output to a disk with room, or write a file with -o",
    )


def _same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name one file: the same path once symlinks and ``..`` are
    resolved, or (both existing) the same inode (hard links)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return False


def _collides(out: Path, source: str) -> str | None:
    """Why writing ``out`` would touch the input ``source`` (a file, a directory or a
    glob), or None."""
    src = Path(source)
    if src.is_dir():
        if out.resolve().parent == src.resolve() and not out.name.startswith((".", "_")):
            return f"it is inside the input directory '{source}', whose files are read"
        return None
    if not src.exists() and any(ch in source for ch in "*?["):
        pattern = str(Path(os.path.abspath(os.path.dirname(source) or ".")).resolve())
        pattern = os.path.join(pattern, os.path.basename(source))
        if fnmatch.fnmatchcase(str(out.resolve()), pattern):
            return f"it matches the input pattern '{source}'"
        return None
    if _same_file(out, src):
        return f"it is the input file '{source}'"
    return None


def refuse_input_overwrite(
    outputs: Iterable[str | os.PathLike[str] | None],
    inputs: Iterable[str | os.PathLike[str] | None],
) -> None:
    """Refuse (usage error, exit 2) an output path that is one of the run's inputs — the
    same file after resolving symlinks and ``..`` (or a hard link to it), a file of an
    input directory, or a path an input glob matches — before anything is read or
    written. ``-`` (standard input) and None are skipped."""
    sources = [str(s) for s in inputs if s is not None and str(s) != "-"]
    for out in outputs:
        if out is None:
            continue
        for source in sources:
            why = _collides(Path(out), source)
            if why is not None:
                raise UsageError(
                    f"refusing to write '{out}': {why}",
                    hint="write outputs to another path; an output never replaces an input",
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


def encodable(text: str) -> str:
    """``text`` as UTF-8 can write it: a file name's undecodable byte, which Python keeps
    as a lone surrogate (``surrogateescape``), is shown as ``\\xNN``. Without this one
    such file name would make every report of the run unwritable."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


def encodable_doc(obj: Any) -> Any:
    """``obj`` (a result document) with :func:`encodable` applied to every string in it,
    keys included; other values are returned as they are."""
    if isinstance(obj, str):
        return encodable(obj)
    if isinstance(obj, dict):
        return {encodable_doc(k): encodable_doc(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [encodable_doc(v) for v in obj]
    if isinstance(obj, tuple):
        return tuple(encodable_doc(v) for v in obj)
    return obj
