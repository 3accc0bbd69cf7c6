"""Process set-up for the loss kernels: glibc's malloc thresholds.

This changes process-wide state, so it is an explicit call, never an import: the run loop
(:func:`losscli.run.run_source`) makes it once per process when a run starts — after the
inputs are opened, which keeps the reader's first allocations on glibc's default rules
(tuning before the first parse raised the peak of a streamed 2M-row run from 161 to
177 MiB) — and the loss benchmark makes it before timing kernels.
"""

from __future__ import annotations

import sys

#: glibc ``mallopt`` parameter numbers (``<malloc.h>``).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
#: Allocations below this come from the heap instead of a fresh ``mmap`` (glibc's own
#: upper limit for its dynamic threshold, ``DEFAULT_MMAP_THRESHOLD_MAX`` on 64-bit).
MMAP_THRESHOLD = 32 << 20
#: Free memory at the top of the heap is returned to the OS only above this (glibc's
#: dynamic rule keeps twice the mmap threshold).
TRIM_THRESHOLD = 64 << 20


#: Outcome of :func:`tune_allocator` in this process: None until it ran, then whether
#: the thresholds took effect.
_allocator_tuned: bool | None = None


def tune_allocator() -> None:
    """Fix glibc's malloc thresholds at the values its dynamic rule settles on.

    Why: kernels are called on row blocks of about 64K elements (512 KiB in float64) and
    allocate one or more block-sized temporaries each. glibc serves the first such
    request with ``mmap``; after freeing it, its dynamic rule raises the mmap threshold to
    that size and the trim threshold to twice it. A kernel that frees two or more block
    temporaries at once then leaves more than the trim threshold free at the top of the
    heap, glibc returns it to the OS after every block, and the next block page-faults
    the same memory in again: huber on 1e7 float64 values took 95 ms instead of 38 ms in a
    fresh process (the slow state vanished once any 32 MiB chunk had been freed, so it
    depended on what the process had done before). Setting both thresholds explicitly
    makes every process start in glibc's settled state: block temporaries are reused
    from the heap, arrays above 32 MiB are still ``mmap``-ed and returned to the OS when
    freed, and at most 64 MiB of free heap is kept.

    This changes process-wide state, so only the run loop and the benchmark call it,
    never an import. Only glibc on Linux is touched (other C libraries keep
    their defaults). Idempotent: later calls do nothing; :func:`allocator_tuned` tells
    whether it took effect.
    """
    global _allocator_tuned
    if _allocator_tuned is None:
        _allocator_tuned = _set_malloc_thresholds()


def allocator_tuned() -> bool:
    """Whether :func:`tune_allocator` ran in this process and took effect."""
    return bool(_allocator_tuned)


def _set_malloc_thresholds() -> bool:
    """Set glibc's mmap and trim thresholds through ``mallopt``; True if both were set."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        if not hasattr(libc, "gnu_get_libc_version"):  # not glibc (musl, …)
            return False
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    ok_mmap = mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
    ok_trim = mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    return ok_mmap and ok_trim
