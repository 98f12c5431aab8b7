"""Native memory of a load kept flat: the batches' buffers are made and freed by four threads
(reading ahead, checking, making COPY text, writing it), and each allocator would otherwise
keep what every thread freed for that thread alone."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import pyarrow as pa

# glibc's mallopt parameter: the most malloc arenas a process makes (malloc.h)
_M_ARENA_MAX = -8
ARENAS = 2


@functools.cache
def bound() -> bool:
    """Arrow's buffers from the C library's allocator (its own, mimalloc, kept the freed pages
    of the three threads' batches: ~40 MiB more at the peak of a 4 M-feature load), and the
    C library at two arenas: by default glibc gives each thread an arena of its own (up to 8 a
    core), so a batch freed by the thread that made its COPY text stays in that thread's
    arena: the 4 M-feature re-delivery peaked at 658 MiB against 557 MiB with two arenas.
    True when glibc took the setting (other C libraries keep their own policy)."""
    pa.set_memory_pool(pa.system_memory_pool())
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError, TypeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return mallopt(_M_ARENA_MAX, ARENAS) == 1
