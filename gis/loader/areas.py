"""Parcel areas at load: in the VN-2000 plane (cadastral definition) and geodesic."""

from __future__ import annotations

import numpy as np
import shapely

from gis.crs import area_geodesic, area_vn2000
from gis.crs.datum import horizontal_crs


def is_tm3_plane(op) -> bool:
    """True when the source coordinates are already a VN-2000 TM-3 plane (k0 = 0.9999)."""
    crs = horizontal_crs(op.source.crs)
    if crs.is_bound:  # a .prj with TOWGS84: the projection is on the source CRS
        crs = crs.source_crs
    if not (op.datum.is_vn2000 and crs.is_projected and crs.coordinate_operation):
        return False
    params = {p.name.lower(): p.value for p in crs.coordinate_operation.params}
    return abs(params.get("scale factor at natural origin", 0) - 0.9999) < 1e-9


def plane_and_geodesic_areas(source_geoms: np.ndarray, wgs_geoms: np.ndarray, op
                             ) -> tuple[np.ndarray, np.ndarray]:
    """Area in the delivery's own TM-3 plane when it has one (that is how its parcels were
    measured), else in TM-3 105°00'; and the area on the WGS 84 ellipsoid."""
    if is_tm3_plane(op):
        plane = shapely.area(source_geoms)
    else:
        plane = area_vn2000(wgs_geoms)
    return np.asarray(plane, dtype=np.float64), area_geodesic(wgs_geoms)
