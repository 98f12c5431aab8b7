"""Edit benchmark: one feature edited (gis.edits.apply, what PATCH runs) on a large parcel
layer, stored as an overlay view (the default) and as a full table copy
(SPP_EDIT_OVERLAY_MAX_ROWS=0); then what the overlay costs readers (an items page in fid
order, a bbox query, a tile's query) against the plain table.

    .venv/bin/python bench/bench_edits.py [--parcels 300000] [--edits 10]

Uses DATABASE_URL (a throwaway database) or the embedded cluster of SPP_DATA_DIR.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gis import db, edits  # noqa: E402
from gis.demo import ensure_sample  # noqa: E402
from gis.layerdef import get_layer_def  # noqa: E402
from gis.loader.load import LoadOptions, load  # noqa: E402
from gis.settings import get_settings  # noqa: E402

LAYER = "cadastral_parcels"


def edit_times(conn, layer, fids: list[int], n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        edits.apply(conn, layer, [edits.Op("update", fids[i % len(fids)], {
            "properties": {"address": f"Số {i} đường 3/2"}})], "bench", {"source": "bench"})
        out.append(time.perf_counter() - t0)
    return out


def read_times(conn, relation: str, runs: int = 20) -> dict[str, float]:
    """Median milliseconds of the reads the services make, on one relation."""
    box = conn.execute(f'SELECT ST_Extent(geom) AS e FROM data."{relation}"').fetchone()["e"]
    queries = {
        "page of 100 by fid": f'SELECT fid, ST_AsGeoJSON(geom) FROM data."{relation}" '
                              f"WHERE fid > 1000 ORDER BY fid LIMIT 100",
        "bbox of ~1 %": f'SELECT count(*) FROM data."{relation}" WHERE geom && '
                        f"ST_Expand(ST_Centroid('{box}'::box2d::geometry), 0.003)",
        "tile z16 (MVT)": f"SELECT length(ST_AsMVT(t)) FROM (SELECT fid, ST_AsMVTGeom(geom_3857,"
                          f" ST_TileEnvelope(16, 52020, 30546)) AS g FROM data.\"{relation}\" "
                          f"WHERE geom_3857 && ST_TileEnvelope(16, 52020, 30546)) t",
        "one feature": f'SELECT ST_AsGeoJSON(geom) FROM data."{relation}" WHERE fid = 5000',
    }
    out = {}
    for name, q in queries.items():
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            conn.execute(q).fetchall()
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = statistics.median(times)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--parcels", type=int, default=300_000)
    ap.add_argument("--edits", type=int, default=10)
    args = ap.parse_args()
    sample = ensure_sample(get_settings().data_dir / f"bench-sample-{args.parcels}",
                           args.parcels)
    shp = sample / "thua_dat_ninhkieu" / "thua_dat.shp"
    db.migrate()
    t0 = time.perf_counter()
    result = load(shp, LAYER, LoadOptions(force=True))
    print(f"load of {result.count_loaded:,} parcels: {time.perf_counter() - t0:.1f} s",
          flush=True)
    layer = get_layer_def(LAYER)
    with db.connect() as conn:
        fids = [r["fid"] for r in conn.execute(
            f"SELECT fid FROM data.{LAYER} ORDER BY fid LIMIT 5000").fetchall()]
        base = conn.execute("SELECT table_name FROM spp.layer_versions v JOIN spp.layers l ON "
                            "l.id = v.layer_id AND l.current_version = v.version WHERE "
                            "l.id = %s", (LAYER,)).fetchone()["table_name"]
        plain = read_times(conn, base)

        overlay = edit_times(conn, layer, fids, args.edits)
        print(f"overlay edit, 1 feature: median {statistics.median(overlay):.3f} s "
              f"(first {overlay[0]:.3f} s, max {max(overlay):.3f} s)", flush=True)
        # a big overlay: 5 000 features edited since the full table
        t0 = time.perf_counter()
        edits.apply(conn, layer, [edits.Op("update", f, {"properties": {"address": "x"}})
                                  for f in fids[:1000]], "bench", {"source": "bench"})
        print(f"overlay edit, 1 000 features at once: {time.perf_counter() - t0:.2f} s")
        for chunk in range(1, 5):
            edits.apply(conn, layer, [edits.Op("update", f, {"properties": {"address": "y"}})
                                      for f in fids[chunk * 1000:(chunk + 1) * 1000]],
                        "bench", {"source": "bench"})
        held = edit_times(conn, layer, fids, args.edits)
        print(f"overlay edit, 1 feature, 5 000 in the overlay: median "
              f"{statistics.median(held):.3f} s", flush=True)
        view = conn.execute("SELECT table_name FROM spp.layer_versions v JOIN spp.layers l ON "
                            "l.id = v.layer_id AND l.current_version = v.version WHERE "
                            "l.id = %s", (LAYER,)).fetchone()["table_name"]
        over = read_times(conn, view)

        os.environ["SPP_EDIT_OVERLAY_MAX_ROWS"] = "0"
        get_settings.cache_clear()
        full = edit_times(conn, layer, fids, max(2, args.edits // 3))
        print(f"full-table edit, 1 feature: median {statistics.median(full):.3f} s", flush=True)

    print(f"\n{args.parcels:,} parcels")
    print(f"{'edit of 1 feature':42} {'median s':>9}")
    print(f"{'overlay (few edited since the full table)':42} {statistics.median(overlay):9.3f}")
    print(f"{'overlay (5 000 edited since)':42} {statistics.median(held):9.3f}")
    print(f"{'full table copy':42} {statistics.median(full):9.3f}")
    print(f"\n{'read (median ms)':22} {'table':>8} {'overlay 5 000':>14}")
    for name in plain:
        print(f"{name:22} {plain[name]:8.2f} {over[name]:14.2f}")


if __name__ == "__main__":
    main()
