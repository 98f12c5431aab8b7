"""Reads from a raster version's Cloud-Optimised GeoTIFF (EPSG:4326): Web Mercator tiles,
one cell, a window for zonal statistics, a bbox subset.

Tiles: EPSG:4326 → EPSG:3857 is separable (a tile column has one longitude, a tile row one
latitude), so a tile is one windowed read of the COG — from the overview GDAL picks for the
requested decimation — and a nearest-neighbour gather of 256 rows × 256 columns. No datum is
involved (both are WGS 84), so no coordinate operation question arises here: the VN-2000 →
WGS 84 step happened, exactly, at load time. Datasets are kept open per thread (rasterio
handles are not thread-safe); a new version is a new file, so a cached handle is never stale.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import rasterio
from rasterio.io import MemoryFile
from rasterio.windows import Window

R_EARTH = 6378137.0
TILE = 256
_local = threading.local()
_ENV = {"GDAL_CACHEMAX": 256, "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
        "GDAL_NUM_THREADS": "1"}


def dataset(path: Path | str, level: int | None = None):
    """An open dataset for this thread (LRU of 32 files); ``level``: an overview of it."""
    cache: OrderedDict | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = OrderedDict()
        from gis.objectstore import object_store

        objects = object_store()  # versions in S3-compatible storage are read via /vsis3/
        _local.env = rasterio.Env(**_ENV, **(objects.gdal_config() if objects else {}))
        _local.env.__enter__()
    key = (str(path), level)
    ds = cache.get(key)
    if ds is None:
        ds = rasterio.open(key[0]) if level is None else rasterio.open(key[0],
                                                                       overview_level=level)
        cache[key] = ds
        while len(cache) > 32:
            cache.popitem(last=False)[1].close()
    else:
        cache.move_to_end(key)
    return ds


def valid_mask(ds, data: np.ndarray) -> np.ndarray:
    """(h, w) True where a cell holds data: alpha > 0 for RGBA, else not nodata / NaN."""
    if ds.count == 4:
        return data[3] > 0
    v = data[0]
    m = np.ones(v.shape, dtype=bool)
    if ds.nodata is not None:
        m &= v != ds.nodata
    if v.dtype.kind == "f":
        m &= ~np.isnan(v)
    return m


# -- tiles ------------------------------------------------------------------------------
def tile_lonlat(z: int, x: int, y: int, size: int = TILE) -> tuple[np.ndarray, np.ndarray]:
    """Longitudes of a tile's pixel-centre columns and latitudes of its rows."""
    span = 2 * math.pi * R_EARTH / (1 << z)
    x0 = -math.pi * R_EARTH + x * span
    y0 = math.pi * R_EARTH - y * span
    centres = (np.arange(size) + 0.5) * span / size
    lon = np.degrees((x0 + centres) / R_EARTH)
    lat = np.degrees(np.arctan(np.sinh((y0 - centres) / R_EARTH)))
    return lon, lat


def read_tile(path: Path, z: int, x: int, y: int, size: int = TILE):
    """(data (bands, size, size), valid (size, size)) of a WebMercatorQuad tile, or None when
    the tile holds no cell of the raster. Reads the coarsest overview still at least as fine
    as the tile's pixels, at its own resolution (no GDAL resampling), then gathers."""
    base = dataset(path)
    lon, lat = tile_lonlat(z, x, y, size)
    t = base.transform
    colf = (lon - t.c) / t.a
    rowf = (lat - t.f) / t.e
    cin = (colf >= 0) & (colf < base.width)
    rin = (rowf >= 0) & (rowf < base.height)
    if not cin.any() or not rin.any():
        return None
    step = min((colf[-1] - colf[0]), (rowf[-1] - rowf[0])) / max(size - 1, 1)
    level, ds = None, base
    for k, factor in enumerate(base.overviews(1)):
        if factor <= step:
            level = k
    if level is not None:
        ds = dataset(path, level)
        colf = colf * ds.width / base.width
        rowf = rowf * ds.height / base.height
    c0 = int(math.floor(colf[cin].min()))
    c1 = min(int(math.floor(colf[cin].max())) + 1, ds.width)
    r0 = int(math.floor(rowf[rin].min()))
    r1 = min(int(math.floor(rowf[rin].max())) + 1, ds.height)
    data = ds.read(window=Window(c0, r0, c1 - c0, r1 - r0))
    ci = np.clip(colf.astype(np.int64) - c0, 0, c1 - c0 - 1)
    ri = np.clip(rowf.astype(np.int64) - r0, 0, r1 - r0 - 1)
    tile = data[:, ri[:, None], ci[None, :]]
    valid = valid_mask(base, tile) & rin[:, None] & cin[None, :]
    if not valid.any():
        return None
    return tile, valid


# -- cells and windows ------------------------------------------------------------------
def read_point(path: Path, lon: float, lat: float):
    """Values (one a band) of the cell holding (lon, lat), or None outside / on nodata."""
    ds = dataset(path)
    col, row = ~ds.transform * (lon, lat)
    if not (0 <= col < ds.width and 0 <= row < ds.height):
        return None
    data = ds.read(window=Window(int(col), int(row), 1, 1))
    if not valid_mask(ds, data)[0, 0]:
        return None
    return [v.item() for v in data[:, 0, 0]]


def window_for(ds, bounds: tuple[float, float, float, float]) -> Window | None:
    """The window of whole cells covering ``bounds`` (w, s, e, n), clipped; None if empty."""
    w, s, e, n = bounds
    t = ds.transform
    c0 = max(int(math.floor((w - t.c) / t.a)), 0)
    c1 = min(int(math.ceil((e - t.c) / t.a)), ds.width)
    r0 = max(int(math.floor((n - t.f) / t.e)), 0)
    r1 = min(int(math.ceil((s - t.f) / t.e)), ds.height)
    if c1 <= c0 or r1 <= r0:
        return None
    return Window(c0, r0, c1 - c0, r1 - r0)


def subset_geotiff(path: Path, bounds, max_cells: int) -> bytes | None:
    """A GeoTIFF of the cells covering ``bounds``: same type, nodata and grid as the COG."""
    ds = dataset(path)
    win = window_for(ds, bounds)
    if win is None:
        return None
    if win.width * win.height > max_cells:
        raise ValueError(f"{int(win.width)}×{int(win.height)} cells")
    data = ds.read(window=win)
    profile = {"driver": "GTiff", "width": int(win.width), "height": int(win.height),
               "count": ds.count, "dtype": ds.dtypes[0], "crs": ds.crs, "nodata": ds.nodata,
               "transform": ds.window_transform(win), "compress": "deflate"}
    if win.width >= 512 and win.height >= 512:
        profile.update(tiled=True, blockxsize=512, blockysize=512)
    with MemoryFile() as mem:
        with mem.open(**profile) as out:
            out.write(data)
            out.colorinterp = ds.colorinterp
            out.update_tags(**ds.tags())
        return mem.read()
