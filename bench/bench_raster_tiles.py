"""Raster map tiles: ours (services.raster: windowed COG read + separable 4326→3857 gather,
class colours, PNG) against rio-tiler (Reader.tile + ImageData.render with the same interval
colormap, PNG) on the same COG and the same tiles, in one run.

rio-tiler is not a project dependency: install it in a separate venv and pass its python::

    python3 -m venv /tmp/riotiler-venv && /tmp/riotiler-venv/bin/pip install rio-tiler
    .venv/bin/python bench/bench_raster_tiles.py --riotiler-python /tmp/riotiler-venv/bin/python

The COG is the sample 100-year flood grid (1 400 × 1 400 cells of 5 m, TM-3 105°00') made by
the project's own loader pipeline (warp through EPSG:6960, COG with overviews); no database is
needed. Every tile of zooms 12-17 touching the grid is rendered, each engine single-threaded
in its own process, ``--rounds`` times; the best round counts (warm caches for both). A tile
without a valid cell is read but not coloured or encoded on either side (our server answers
it 204 No Content); ``--encode-empty`` lets rio-tiler encode them as it would by default.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

RIO_TILER = r"""
import json, sys, time
import numpy
from rio_tiler.io import Reader
args = json.loads(sys.argv[1])
cmap = [((lo, hi), tuple(c)) for lo, hi, c in args["cmap"]]
tiles = args["tiles"]
best = None
sizes = empty = 0
with Reader(args["cog"]) as r:
    for _ in range(args["rounds"]):
        t0 = time.perf_counter()
        sizes = empty = 0
        for z, x, y in tiles:
            img = r.tile(x, y, z, tilesize=256, resampling_method="nearest")
            if args["skip_empty"] and numpy.ma.getmaskarray(img.array).all():  # no valid cell
                empty += 1
                continue
            sizes += len(img.render(img_format="PNG", colormap=cmap))
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
print(json.dumps({"seconds": best, "bytes": sizes, "empty": empty}))
"""


def make_cog(folder: Path) -> Path:
    os.environ["SPP_DATA_DIR"] = str(folder)
    from gis.settings import get_settings

    get_settings.cache_clear()
    import rasterio

    from gis.crs import to_wgs84
    from gis.layerdef import get_layer_def
    from gis.raster.load import _write_version
    from gis.raster.warp import gdal_pipeline, target_grid
    from gis.sample.rasters import write_flood

    src_path = write_flood(folder / "ngap_100.tif", 100)
    layer = get_layer_def("flood_depth_100y", ROOT / "layers")
    op = to_wgs84("EPSG:5897")
    with rasterio.open(src_path) as src:
        grid = target_grid(op, src.transform, src.width, src.height)
        path, _ = _write_version(src, layer, 1, grid, op, gdal_pipeline(op), 1)
    return path


def tiles_of(cog: Path, zooms: range) -> list[tuple[int, int, int]]:
    import morecantile
    import rasterio

    tms = morecantile.tms.get("WebMercatorQuad")
    with rasterio.open(cog) as ds:
        w, s, e, n = ds.bounds
    return [(t.z, t.x, t.y) for z in zooms for t in tms.tiles(w, s, e, n, [z])]


def ours(cog: Path, tiles, rounds: int) -> tuple[float, int, int]:
    from gis.layerdef import get_layer_def
    from services.raster import reader, render

    layer = get_layer_def("flood_depth_100y", ROOT / "layers")
    best, size, empty = None, 0, 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        size = empty = 0
        for z, x, y in tiles:
            got = reader.read_tile(cog, z, x, y)
            if got is None:  # no valid cell: the server answers 204 without a PNG
                empty += 1
                continue
            size += len(render.encode(render.colour(layer, *got), "png"))
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    return best, size, empty


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--riotiler-python", default="/tmp/riotiler-venv/bin/python")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--zooms", default="12-17")
    ap.add_argument("--encode-empty", action="store_true",
                    help="let rio-tiler encode tiles without a valid cell (ours never does)")
    a = ap.parse_args()
    z0, z1 = map(int, a.zooms.split("-"))
    with tempfile.TemporaryDirectory(prefix="spp-bench-raster-") as tmp:
        cog = make_cog(Path(tmp))
        tiles = tiles_of(cog, range(z0, z1 + 1))
        from gis.layerdef import get_layer_def

        layer = get_layer_def("flood_depth_100y", ROOT / "layers")
        # same classes as ours; depth 0 (dry) transparent like ours
        cmap = [[-1e-9, 1e-9, [0, 0, 0, 0]]] + [
            [max(c.min, 1e-9), c.max if c.max is not None else 1e9,
             [int(c.color[i:i + 2], 16) for i in (1, 3, 5)] + [255]] for c in layer.classes]
        t_ours, b_ours, e_ours = ours(cog, tiles, a.rounds)
        arg = json.dumps({"cog": str(cog), "tiles": tiles, "rounds": a.rounds, "cmap": cmap,
                          "skip_empty": not a.encode_empty})
        proc = subprocess.run([a.riotiler_python, "-c", RIO_TILER, arg], capture_output=True,
                              text=True, env={**os.environ, "GDAL_NUM_THREADS": "1"})
        if proc.returncode != 0:
            sys.exit(f"rio-tiler run failed:\n{proc.stderr}")
        rt = json.loads(proc.stdout.strip().splitlines()[-1])
        n = len(tiles)
        if not a.encode_empty and rt["empty"] != e_ours:
            sys.exit(f"the engines disagree on empty tiles: ours {e_ours}, rio-tiler "
                     f"{rt['empty']}; the comparison would not be like with like")
        print(f"COG {cog.stat().st_size:,} B, {n} tiles (z{z0}-{z1}), best of {a.rounds} rounds")
        print(f"ours      : {t_ours:7.3f} s  {n / t_ours:8.1f} tiles/s  "
              f"{t_ours / n * 1000:6.2f} ms/tile  {b_ours:,} B PNG, {e_ours} empty (not encoded)")
        print(f"rio-tiler : {rt['seconds']:7.3f} s  {n / rt['seconds']:8.1f} tiles/s  "
              f"{rt['seconds'] / n * 1000:6.2f} ms/tile  {rt['bytes']:,} B PNG, {rt['empty']} "
              f"empty ({'encoded' if a.encode_empty else 'not encoded'})")
        print(f"ratio (ours throughput / rio-tiler throughput): {rt['seconds'] / t_ours:.2f}x")


if __name__ == "__main__":
    main()
