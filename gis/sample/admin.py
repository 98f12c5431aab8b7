"""Administrative units of the new Thành phố Cần Thơ as a GeoJSON (WGS 84, CRS84).

SYNTHETIC BOUNDARIES: each unit is the Voronoi cell of its embedded centroid (in lon/lat),
clipped to the convex hull of all centroids buffered by 0.05° and to the city's extent.
Codes, names and types are the real 2025 list; the former units, their codes and districts are
plausible sample values. The real ward polygons are not redistributed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import shapely
from pyogrio.raw import write as ogr_write

from gis.crs import CANTHO_EXTENT, area_vn2000
from gis.sample.utilities import GEOJSON
from gis.sample.wards import PROVINCE_CODE, WARDS, old_codes, old_district, old_units

NOTE = ("Dữ liệu mẫu: ranh giới tổng hợp (ô Voronoi quanh tâm phường/xã), không phải địa giới "
        "hành chính pháp lý / synthetic sample boundaries, not the legal boundaries")


def unit_polygons() -> np.ndarray:
    pts = shapely.points([w.lon for w in WARDS], [w.lat for w in WARDS])
    hull = shapely.convex_hull(shapely.multipoints(pts)).buffer(0.05, quad_segs=8)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts),
                                                       extend_to=hull, ordered=True))
    # ...and to the city's extent, so the sample passes the loader's plausibility check
    city = shapely.box(CANTHO_EXTENT.west, CANTHO_EXTENT.south, CANTHO_EXTENT.east,
                       CANTHO_EXTENT.north)
    clipped = shapely.intersection(shapely.intersection(cells, hull), city)
    return shapely.transform(clipped, lambda c: np.round(c, 7))


def write_admin_units(path: Path) -> int:
    geoms = unit_polygons()
    n = len(WARDS)
    cols = {
        "MaDVHC": np.array([w.code for w in WARDS], dtype=object),
        "Ten": np.array([w.name for w in WARDS], dtype=object),
        "Loai": np.array([w.type for w in WARDS], dtype=object),
        "MaTinh": np.full(n, PROVINCE_CODE, dtype=object),
        "DienTich": np.round(area_vn2000(geoms) / 1e6, 2),
        "TenCu": np.array(["; ".join(old_units(w.code)) for w in WARDS], dtype=object),
        "MaCu": np.array(["; ".join(old_codes(w.code)) for w in WARDS], dtype=object),
        "HuyenCu": np.array([old_district(w.code) for w in WARDS], dtype=object),
        "NghiQuyet": np.full(n, "1668/NQ-UBTVQH15", dtype=object),
        "NgayHieuLuc": np.full(n, np.datetime64("2025-07-01"), dtype="datetime64[D]"),
        "DuLieuMau": np.full(n, True),
        "GhiChu": np.full(n, NOTE, dtype=object),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    ogr_write(str(path), shapely.to_wkb(shapely.multipolygons(geoms[:, None])),
              list(cols.values()), list(cols), driver="GeoJSON", geometry_type="MultiPolygon",
              crs="OGC:CRS84", layer_options=GEOJSON)
    return n
