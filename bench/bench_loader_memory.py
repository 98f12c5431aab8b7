"""Loader memory on a multi-GB Shapefile: peak RSS of `gis load` while it streams.

    .venv/bin/python bench/bench_loader_memory.py [--parcels 4000000]

Writes (once) a Shapefile of simple parcels in VN-2000 TM-3 105°00' in chunks, so writing it
needs little memory either, then loads it twice into cadastral_parcels (the second load keeps
feature ids stable against the first, the heaviest case) and prints each run's peak RSS.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pyogrio
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from peak_rss import timed  # noqa: E402

from gis.crs import from_wgs84, transform_geometries  # noqa: E402
from gis.settings import get_settings  # noqa: E402

CHUNK = 250_000
NAMES = np.array(["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung"])


def write_big(path: Path, n: int) -> None:
    op = from_wgs84("vn2000-cantho")
    cols = 1000
    for start in range(0, n, CHUNK):
        i = np.arange(start, min(start + CHUNK, n))
        x0 = 105.60 + (i % cols) * 0.00052
        y0 = 9.90 + (i // cols) * 0.000102
        boxes = transform_geometries(shapely.box(x0, y0, x0 + 0.0005, y0 + 0.0001), op)
        fields = {
            "MaXa": np.full(len(i), "31135", dtype=object),
            "SoTo": (1 + i // 1000).astype(np.int64),
            "SoThua": (1 + i % 1000).astype(np.int64),
            "DienTich": np.round(shapely.area(boxes), 1),
            "MucDich": np.array(["ODT", "LUC", "CLN", "TMD"], dtype=object)[i % 4],
            "TenChu": NAMES.astype(object)[i % 4],
            "DiaChi": np.array([f"Số {k % 500}, đường 30 Tháng 4" for k in i], dtype=object),
        }
        pyogrio.write_dataframe(
            __import__("geopandas").GeoDataFrame(fields, geometry=boxes, crs=5897), path,
            append=start > 0)
        print(f"  wrote {min(start + CHUNK, n):,}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=4_000_000)
    args = ap.parse_args()
    shp = get_settings().data_dir / f"bench-big-{args.parcels}" / "big.shp"
    if not shp.exists():
        shp.parent.mkdir(parents=True, exist_ok=True)
        print(f"writing {args.parcels:,} parcels to {shp} ...", flush=True)
        write_big(shp, args.parcels)
    size = sum(p.stat().st_size for p in shp.parent.glob("big.*")) / 2**30
    for label in ("first load", "second load (stable ids)"):
        seconds, rss = timed([sys.executable, "-m", "gis", "load", str(shp), "--layer",
                            "cadastral_parcels", "--force"])
        print(f"{label}: {args.parcels:,} parcels from {size:.2f} GiB in {seconds:.0f} s "
              f"({args.parcels / seconds:,.0f} features/s), peak RSS {rss} MiB")


if __name__ == "__main__":
    main()
