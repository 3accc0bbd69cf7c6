"""Evaluation engines: where the rows of an ``evaluate`` run are read and reduced.

* ``local`` (default) — this process: :func:`losscli.data.stream.open_source` reads the
  input in one piece or in chunks.
* ``dask`` — a Dask cluster (extra ``losscli[dask]``): a glob or directory of
  Parquet/CSV partitions is evaluated partition by partition on the workers, and the
  mergeable partial results are reduced on the cluster (:mod:`losscli.engines.dask`).

Nothing here imports Dask: the local engine and the CLI's start-up never load it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from losscli.errors import UsageError, unknown_name

#: Engines ``--engine`` accepts.
ENGINES = ("local", "dask")
#: How to install the Dask engine's dependencies.
DASK_INSTALL = 'pip install "losscli[dask]"'


def require_dask() -> None:
    """Raise a usage error naming the extra when Dask or distributed is missing."""
    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"--engine dask needs Dask and distributed, which are not installed ({exc})",
            hint=f"install them with `{DASK_INSTALL}`, or leave out --engine dask",
        ) from None


def engine_source(engine: str, scheduler: str | None = None) -> Callable[..., Any]:
    """The function that opens an evaluation's input for ``engine``: it takes the
    arguments of :func:`losscli.data.stream.open_source` and returns a
    :class:`~losscli.data.stream.Source`.

    Checks the engine name, the ``scheduler`` flag and (for ``dask``) that the extra is
    installed, before any input is read.
    """
    name = (engine or "local").strip().lower()
    if name not in ENGINES:
        raise unknown_name("engine", engine, ENGINES)
    if name == "local":
        if scheduler is not None:
            raise UsageError(
                "--scheduler needs --engine dask",
                hint="add --engine dask, or leave out --scheduler",
            )
        from losscli.data.stream import open_source

        return open_source
    require_dask()
    from losscli.engines.dask import open_dask_source

    return functools.partial(open_dask_source, scheduler=scheduler)


__all__ = ["DASK_INSTALL", "ENGINES", "engine_source", "require_dask"]
