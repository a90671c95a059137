"""glibc's allocator, tuned for the detection pipeline's large temporary arrays.

By default glibc maps every allocation above a threshold that adapts up to 32 MB straight from the
kernel and unmaps it when freed, and trims the heap whenever 128 KB at its top are free. The null
model and the near-duplicate clustering allocate and free arrays of tens of megabytes many times a
second, so every one of them is faulted in page by page again: on 10 million posts, six million page
faults and a fifth of the CPU time in the kernel. ``tune_allocator`` raises the mapping threshold to
its maximum (32 MB) and keeps up to 1 GB of freed memory for reuse (``mallopt``, the same as the
environment variables ``MALLOC_MMAP_THRESHOLD_``, ``MALLOC_TRIM_THRESHOLD_`` and ``MALLOC_TOP_PAD_``):
15 to 20% less CPU time for ``rrm detect`` on 1 million posts, and no higher peak memory.

It also makes every thread allocate from one arena (``M_ARENA_MAX``, as ``MALLOC_ARENA_MAX=1``). glibc
gives each new thread an arena of its own, whose pages are all fresh: the memory DuckDB's threads free
after a query was never reused by NumPy in the main thread or by the detectors' worker threads, but
faulted in anew. On this 2-core virtual machine, where a fresh page can cost 14 µs when the host has
taken it back, co-reshare on 1,000,000 posts in a fresh process faulted in 27,000-28,000 pages instead
of 33,000 and ran in 220 ms instead of 254-271 ms (medians of 6 to 8 runs, each after a run of the
toolkit, ``docs/detection-performance.md``, ninth pass). The whole pipeline on a million posts took as
long either way (17-21 s), with the same peak memory.

It changes the whole process, once; it does nothing outside glibc, or when any of those environment
variables is set (the user's choice wins).
"""

from __future__ import annotations

import ctypes
import os
import sys

__all__ = ["ARENAS", "MMAP_THRESHOLD", "TOP_PAD", "TRIM_THRESHOLD", "tune_allocator"]

_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD, _M_ARENA_MAX = -1, -2, -3, -8  # glibc's <malloc.h>
MMAP_THRESHOLD = 32 << 20
"""Allocations above this are mapped from the kernel (glibc's largest allowed value)."""
TRIM_THRESHOLD = 1 << 30
"""Freed memory at the top of the heap is given back to the kernel only above this."""
TOP_PAD = 256 << 20
"""The heap grows by at least this much at a time."""
ARENAS = 1
"""Arenas the threads allocate from."""
_ENVIRONMENT = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_", "MALLOC_ARENA_MAX")
_tuned = False


def tune_allocator() -> bool:
    """Apply the settings above to this process (once); whether they are in force."""
    global _tuned
    if _tuned:
        return True
    if not sys.platform.startswith("linux") or any(name in os.environ for name in _ENVIRONMENT):
        return False
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018  (glibc only: musl's mallopt does nothing)
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    settings = (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD), (_M_TRIM_THRESHOLD, TRIM_THRESHOLD), (_M_TOP_PAD, TOP_PAD),
        (_M_ARENA_MAX, ARENAS),
    )
    _tuned = all(mallopt(parameter, value) == 1 for parameter, value in settings)
    return _tuned
