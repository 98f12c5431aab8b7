"""A load's native memory policy: Arrow on the C library's allocator, glibc at two arenas
(bench/README.md, "Loader memory with four threads": 658 MiB without, 557 MiB with)."""

from __future__ import annotations

import platform

import pyarrow as pa

from gis.loader import nativemem


def test_bound_sets_arrow_pool_and_glibc_arenas():
    taken = nativemem.bound()
    assert pa.default_memory_pool().backend_name == "system"
    if platform.libc_ver()[0] == "glibc":
        assert taken is True
