"""Time `gis sample` (write_sample) at the default and at city scale.

    .venv/bin/python bench/bench_sample.py [PARCELS ...]   # default: 3000 300000

Prints wall time per size and the feature counts of the largest files.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pyogrio

from gis.sample import write_sample

FILES = ("thua_dat_ninhkieu/thua_dat.shp", "nha/nha.shp", "giao_thong/duong.shp",
         "cay_xanh/cay_xanh.shp", "hien_trang_sdd/khoanh_dat.shp")


def main(sizes: list[int]) -> None:
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            write_sample(Path(tmp), parcels=n)
            took = time.perf_counter() - t0
            counts = {f.split("/")[-1]: pyogrio.read_info(Path(tmp) / f, encoding="latin1")
                      ["features"] for f in FILES}
            size = sum(p.stat().st_size for p in Path(tmp).rglob("*") if p.is_file())
            print(f"{n:>8,} parcels: {took:6.1f} s, {size / 1e6:6.0f} MB, {counts}")


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [3000, 300_000])
