"""Polygon areas: in the VN-2000 plane (how Vietnamese cadastral areas are defined) and on
the WGS 84 ellipsoid."""

from __future__ import annotations

import numpy as np
import shapely
from pyproj import Geod

from gis.crs.geometry import transform_geometries
from gis.crs.operation import from_wgs84

_GEOD = Geod(ellps="WGS84")


def area_vn2000(geometries, zone="vn2000-cantho") -> np.ndarray:
    """Area in m² in the VN-2000 plane of ``zone`` (default TM-3 105°00', EPSG:5897) of WGS 84
    geometries, through the exact inverse of EPSG:6960."""
    planar = transform_geometries(geometries, from_wgs84(zone), include_z=False)
    return np.asarray(shapely.area(planar), dtype=np.float64)


def area_geodesic(geometries) -> np.ndarray:
    """Geodesic area in m² on the WGS 84 ellipsoid (Karney), holes subtracted. The loop runs
    over rings, each ring's vertices go to PROJ as one array."""
    geoms = np.atleast_1d(np.asarray(geometries, dtype=object))
    parts, owner = shapely.get_parts(geoms, return_index=True)
    parts_poly = shapely.get_type_id(parts) == 3
    parts, owner = parts[parts_poly], owner[parts_poly]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    # get_rings lists each polygon's exterior first, then its holes
    first = np.r_[True, ring_part[1:] != ring_part[:-1]]
    sign = np.where(first, 1.0, -1.0)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    bounds = np.r_[0, np.cumsum(np.bincount(ring_of, minlength=len(rings)))]
    ring_area = np.empty(len(rings))
    for i in range(len(rings)):
        lon, lat = coords[bounds[i]:bounds[i + 1], 0], coords[bounds[i]:bounds[i + 1], 1]
        ring_area[i] = abs(_GEOD.polygon_area_perimeter(lon, lat)[0])
    per_part = np.bincount(ring_part, weights=sign * ring_area, minlength=len(parts))
    return np.bincount(owner, weights=per_part, minlength=geoms.size)
