"""1 million VN-2000 TM-3 105°00' vertices -> WGS 84: gis.crs against plain pyproj.

Run from the repository root:  python bench/bench_crs.py [n_vertices]
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from pyproj import Geod, Transformer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from gis.crs import to_wgs84  # noqa: E402


def best_of(func, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n: int = 1_000_000) -> None:
    rng = np.random.default_rng(0)
    e = rng.uniform(520_000, 620_000, n)  # covers the merged city in TM-3 105°00'
    n_ = rng.uniform(1_020_000, 1_145_000, n)
    ours = to_wgs84("vn2000-cantho")  # built once, as a loader does
    plain = Transformer.from_crs(5897, 4326, always_xy=True)  # PROJ default: EPSG:5194
    ours.transform(e[:10], n_[:10])
    plain.transform(e[:10], n_[:10])
    t_ours = best_of(lambda: ours.transform(e, n_))
    t_plain = best_of(lambda: plain.transform(e, n_))
    t_setup = best_of(lambda: to_wgs84("vn2000-soctrang"), repeat=1)
    print(f"vertices            {n:,}")
    print(f"gis.crs (EPSG:6960)  {t_ours:.3f} s  ({n / t_ours / 1e6:.1f} M vertices/s)")
    k = slice(0, n, max(1, n // 10_000))
    lon1, lat1 = ours.transform(e[k], n_[k])
    lon2, lat2 = plain.transform(e[k], n_[k])
    offset = np.median(Geod(ellps="WGS84").inv(lon1, lat1, lon2, lat2)[2])
    print(f"pyproj default       {t_plain:.3f} s  (median {offset:.2f} m off EPSG:6960)")
    print(f"ratio ours/plain     {t_ours / t_plain:.2f}")
    print(f"operation set-up     {t_setup * 1000:.1f} ms (resolve + classify + pipeline)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000)
