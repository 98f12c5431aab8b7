"""Warp a delivered grid to WGS 84 (EPSG:4326) with the exact coordinate operation of gis.crs.

GDAL, given only a source and a target CRS, picks PROJ's default operation, which for VN-2000
in Cần Thơ is EPSG:5194 (0.81 m off the official EPSG:6960). So the warp is handed the explicit
pipeline as the ``COORDINATE_OPERATION`` transformer option. GDAL feeds that pipeline the
coordinates in each CRS's *authority* axis order (EPSG:4326 is latitude first, EPSG:4756
too), while gis.crs pipelines work in (easting|lon, northing|lat); ``gdal_pipeline`` adds the
axis swaps. tests/test_raster_load.py proves the result against gis.crs at the millimetre.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from affine import Affine
from pyproj import CRS

from gis.crs import CRSOperation

SWAP = "+step +proj=axisswap +order=2,1"


def _north_first(crs: CRS) -> bool:
    axes = crs.axis_info
    return bool(axes) and axes[0].direction.lower() in ("north", "south")


def gdal_pipeline(op: CRSOperation) -> str | None:
    """The COORDINATE_OPERATION string for GDAL: the exact VN-2000 pipeline with axis swaps
    for north-first CRSs; None when the source is not VN-2000 (PROJ's choice is then fine,
    as for WGS 84 / UTM sources)."""
    if not op.datum.is_vn2000 or not op.pipeline.startswith("+proj=pipeline"):
        return None
    body = op.pipeline.removeprefix("+proj=pipeline").strip()
    first = f"{SWAP} " if _north_first(op.source.crs) else ""
    return f"+proj=pipeline {first}{body} {SWAP}"  # EPSG:4326 takes (lat, lon)


@dataclass(frozen=True)
class Grid:
    """A north-up grid in EPSG:4326."""

    transform: Affine
    width: int
    height: int

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        t = self.transform
        return (t.c, t.f + self.height * t.e, t.c + self.width * t.a, t.f)


def target_grid(op: CRSOperation, src_transform: Affine, width: int, height: int) -> Grid:
    """The WGS 84 grid covering the source: its outline (densified edges) transformed with the
    exact operation, and cells about as large as the source's at its centre (same number of
    cells along each axis, no information thrown away and little invented)."""
    n = 50
    t = np.linspace(0, 1, n + 1)
    cols = np.concatenate([t * width, np.full(n + 1, width), t[::-1] * width, np.zeros(n + 1)])
    rows = np.concatenate([np.zeros(n + 1), t * height, np.full(n + 1, height), t[::-1] * height])
    xs, ys = src_transform * (cols, rows)
    lon, lat = op.transform(xs, ys)
    if not (np.all(np.isfinite(lon)) and np.all(np.isfinite(lat))):
        raise ValueError("the source outline does not transform to WGS 84")
    west, east, south, north = lon.min(), lon.max(), lat.min(), lat.max()
    # resolution: one source cell at the centre, measured along each axis in degrees
    cx, cy = src_transform * (width / 2, height / 2)
    ex, ey = src_transform * (width / 2 + 1, height / 2)
    nx, ny = src_transform * (width / 2, height / 2 + 1)
    lo, la = op.transform(np.array([cx, ex, nx]), np.array([cy, ey, ny]))
    res_x = math.hypot(lo[1] - lo[0], la[1] - la[0])
    res_y = math.hypot(lo[2] - lo[0], la[2] - la[0])
    w = max(1, math.ceil((east - west) / res_x))
    h = max(1, math.ceil((north - south) / res_y))
    return Grid(Affine(res_x, 0, west, 0, -res_y, north), w, h)
