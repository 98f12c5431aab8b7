"""Zonal statistics of a raster layer over a polygon in WGS 84, and ``flood_summary``: the
flood-depth statistics of one geometry (a parcel) for every flood layer the caller may see.

Cells count when their centre lies in the polygon; a polygon too small to hold a cell centre
(a narrow parcel against 5 m cells) takes the cells it touches instead (``method``). Shares
are shares of the cells with data (cells of one COG in EPSG:4326 differ in area by less than
0.01 % across a parcel, so counting cells is measuring area). ``coverage`` is the share of the
polygon's cells that hold data (the rest are rivers or outside the model).

Python API for the planning-information service::

    from services.raster.zonal import flood_summary
    rows = await flood_summary(conn_or_pool, geometry_wgs84, who=principal)
    # conn_or_pool: psycopg AsyncConnection or AsyncConnectionPool (reads spp.layers only)
    # geometry_wgs84: shapely (Multi)Polygon or GeoJSON mapping, lon/lat
    # who: services.access.Principal (default: the public)
    # -> one dict per visible, loaded flood layer (planning role flood_depth), sorted by id:
    #    {"layer", "title": {vi, en}, "version", "unit", "count", "cell_count", "coverage",
    #     "min", "max", "mean", "classes": [{"label": {vi, en}, "min", "max", "count",
    #     "share"}], "above": [{"threshold", "share"}], "dominant": {...} | None,
    #     "summary": {vi, en}, "method"}
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np
import shapely
from affine import Affine
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.features import geometry_mask
from starlette.concurrency import run_in_threadpool

from gis.layerdef import RasterLayerDef
from services.raster import reader

log = logging.getLogger(__name__)

MAX_CELLS = 16_000_000  # larger polygons are computed on an overview (reported)


def is_flood_depth(info) -> bool:
    """A raster whose layer file gives it the planning role ``flood_depth``."""
    p = info.definition.planning
    return p is not None and p.role == "flood_depth"


class ZonalError(ValueError):
    pass


def as_polygon(geometry) -> shapely.Geometry:
    """A valid (Multi)Polygon from a shapely geometry or a GeoJSON geometry / Feature."""
    if isinstance(geometry, dict) and geometry.get("type") == "Feature":
        geometry = geometry.get("geometry")
    if isinstance(geometry, dict):
        try:
            geometry = shapely.geometry.shape(geometry)
        except Exception as exc:  # noqa: BLE001 - any malformed GeoJSON
            raise ZonalError(f"not a GeoJSON geometry: {exc}") from exc
    if not isinstance(geometry, shapely.Polygon | shapely.MultiPolygon):
        kind = getattr(geometry, "geom_type", type(geometry).__name__)
        raise ZonalError(f"a Polygon or MultiPolygon is needed, not {kind}")
    if geometry.is_empty:
        raise ZonalError("the polygon is empty")
    if not geometry.is_valid:
        geometry = shapely.make_valid(geometry)
    w, s, e, n = geometry.bounds
    if not (-180 <= w <= e <= 180 and -90 <= s <= n <= 90):
        raise ZonalError("coordinates must be WGS 84 longitude, latitude in degrees")
    return geometry


def _fmt_share(share: float) -> str:
    return f"{round(share * 100):d} %"


def _range_label(lo, hi, unit: str, vi: bool) -> str:
    def num(v):
        s = f"{v:g}"
        return s.replace(".", ",") if vi else s

    u = f" {unit}" if unit else ""
    if lo is None:
        return f"{'dưới' if vi else 'below'} {num(hi)}{u}"
    if hi is None:
        return f"{'trên' if vi else 'above'} {num(lo)}{u}"
    return f"{num(lo)}–{num(hi)}{u}"


def zonal_stats(path: Path, layer: RasterLayerDef, geometry) -> dict:
    """Statistics of the cells of ``path`` (one band) in ``geometry`` (WGS 84). Blocking."""
    if layer.bands != 1:
        raise ZonalError(f"layer {layer.id!r} is imagery: zonal statistics need values")
    geom = as_polygon(geometry)
    ds = reader.dataset(path)
    win = reader.window_for(ds, geom.bounds)
    base = {"layer": layer.id, "unit": layer.units, "value": layer.value.model_dump()
            if layer.value else None}
    if win is None:
        return {**base, **_empty(layer), "method": "outside"}
    w, h = int(win.width), int(win.height)
    factor = max(1, math.ceil(math.sqrt(w * h / MAX_CELLS)))
    ow, oh = math.ceil(w / factor), math.ceil(h / factor)
    data = ds.read(1, window=win, out_shape=(oh, ow), resampling=Resampling.nearest)
    t = ds.window_transform(win)
    transform = t * Affine.scale(w / ow, h / oh) if factor > 1 else t
    method = "centre"
    inside = geometry_mask([geom], out_shape=(oh, ow), transform=transform, invert=True)
    if not inside.any():
        inside = geometry_mask([geom], out_shape=(oh, ow), transform=transform, invert=True,
                               all_touched=True)
        method = "all_touched"
    valid = reader.valid_mask(ds, data[None])
    cells = int(inside.sum())
    v = data[inside & valid].astype(np.float64)
    out = {**base, "cell_count": cells, "count": int(v.size), "method": method,
           "decimation": factor, "cell_size_deg": [ds.transform.a * factor,
                                                   -ds.transform.e * factor]}
    if cells == 0:
        return {**base, **_empty(layer), "method": "outside"}
    out["coverage"] = v.size / cells
    if v.size == 0:
        return {**out, **{k: val for k, val in _empty(layer).items() if k not in out}}
    out.update(min=float(v.min()), max=float(v.max()), mean=float(v.mean()))
    out["classes"] = [{"label": c.label.model_dump(), "min": c.min, "max": c.max,
                       "count": int(n), "share": n / v.size}
                      for c in layer.classes
                      for n in [int(np.count_nonzero(
                          ((v >= c.min) if c.min is not None else True)
                          & ((v < c.max) if c.max is not None else True)))]]
    out["above"] = [{"threshold": th, "share": int(np.count_nonzero(v > th)) / v.size}
                    for th in layer.zonal_thresholds]
    dom = max(out["classes"], key=lambda c: c["share"]) if out["classes"] else None
    out["dominant"] = dom
    out["summary"] = _summary(layer, out, dom)
    return out


def _empty(layer: RasterLayerDef) -> dict:
    return {"cell_count": 0, "count": 0, "coverage": 0.0, "min": None, "max": None,
            "mean": None, "classes": [], "above": [], "dominant": None,
            "summary": {"vi": "Không có dữ liệu trong vùng này",
                        "en": "No data in this area"}}


def _summary(layer: RasterLayerDef, s: dict, dom: dict | None) -> dict:
    title = layer.value or layer.title
    if dom is None:
        u = layer.units or ""
        return {"vi": f"{title.vi}: trung bình {s['mean']:.2f} {u}".replace(".", ","),
                "en": f"{title.en}: mean {s['mean']:.2f} {u}"}
    share = _fmt_share(dom["share"])
    return {
        "vi": f"{layer.title.vi}: {_range_label(dom['min'], dom['max'], layer.units or '', True)}"
              f" trên {share} diện tích",
        "en": f"{layer.title.en}: {_range_label(dom['min'], dom['max'], layer.units or '', False)}"
              f" on {share} of the area"}


# -- flood summary -----------------------------------------------------------------------
async def flood_summary(conn_or_pool, geometry_wgs84, who=None) -> list[dict]:
    """Zonal statistics of ``geometry_wgs84`` for every flood layer (planning role
    ``flood_depth``) loaded and visible to ``who`` (default: the public). See the module
    docstring."""
    from services.access import PUBLIC, visible_layers
    from services.raster.catalog import CATALOG

    who = who or PUBLIC
    geom = as_polygon(geometry_wgs84)
    if hasattr(conn_or_pool, "connection") and not hasattr(conn_or_pool, "execute"):
        async with conn_or_pool.connection() as conn:
            rasters = await CATALOG.rasters(conn)
    else:
        rasters = await CATALOG.rasters(conn_or_pool)
    out = []
    for info in sorted(visible_layers(who, rasters), key=lambda i: i.id):
        if not is_flood_depth(info) or info.definition.bands != 1:
            continue
        try:
            stats = await run_in_threadpool(zonal_stats, CATALOG.path(info), info.definition,
                                            geom)
        except (OSError, RasterioIOError) as exc:  # catalog row without its file here
            log.warning("flood layer %s v%s: raster file unreadable (%s); left out",
                        info.id, info.current_version, exc)
            continue
        out.append({**stats, "title": {"vi": info.title_vi, "en": info.title_en},
                    "version": info.current_version})
    return out
