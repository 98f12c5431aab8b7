"""The city as a whole in the TM-3 105°00' plane: the 103 synthetic ward polygons (the same
Voronoi cells as the admin-unit sample), their outline, and helpers to place things in them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import shapely

from gis.crs import from_wgs84, transform_geometries
from gis.sample.admin import unit_polygons
from gis.sample.wards import WARDS

ZONE = "vn2000-cantho"


def plane_lines(lonlat: list[tuple[float, float]]) -> shapely.LineString:
    """A lon/lat polyline in the plane, densified first so its course survives projection."""
    line = shapely.segmentize(shapely.linestrings(lonlat), 0.002)
    return transform_geometries(np.array([line]), from_wgs84(ZONE))[0]


@dataclass
class City:
    @cached_property
    def wards(self) -> np.ndarray:
        geoms = transform_geometries(shapely.segmentize(unit_polygons(), 0.01),
                                     from_wgs84(ZONE))
        return shapely.make_valid(geoms)

    @cached_property
    def outline(self):
        return shapely.union_all(self.wards)

    @cached_property
    def tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.wards)

    def ward_of(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Index into WARDS of the ward holding each point (nearest ward when outside)."""
        pts = shapely.points(x, y)
        idx = self.tree.query_nearest(pts, all_matches=False)
        out = np.empty(len(pts), dtype=np.int64)
        out[idx[0]] = idx[1]
        return out

    def split_by_ward(self, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cut geometries at ward boundaries: (source index, ward index, piece)."""
        src, ward = self.tree.query(geoms, predicate="intersects")
        pieces = shapely.intersection(geoms[src], self.wards[ward])
        keep = ~shapely.is_empty(pieces) & (shapely.length(pieces) + shapely.area(pieces) > 1)
        return src[keep], ward[keep], pieces[keep]

    def random_points(self, rng: np.random.Generator, ward: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """One random point inside each given ward (rejection sampling, vectorised)."""
        ward = np.asarray(ward, dtype=np.int64)
        bounds = shapely.bounds(self.wards)[ward]
        x = np.empty(len(ward))
        y = np.empty(len(ward))
        todo = np.arange(len(ward))
        while len(todo):
            b = bounds[todo]
            tx = rng.uniform(b[:, 0], b[:, 2])
            ty = rng.uniform(b[:, 1], b[:, 3])
            ok = shapely.contains_xy(self.wards[ward[todo]], tx, ty)
            x[todo[ok]], y[todo[ok]] = tx[ok], ty[ok]
            todo = todo[~ok]
        return np.round(x, 3), np.round(y, 3)

    def centroids(self) -> tuple[np.ndarray, np.ndarray]:
        pts = shapely.point_on_surface(self.wards)
        return shapely.get_x(pts), shapely.get_y(pts)


def ward_names(ward: np.ndarray) -> np.ndarray:
    return np.array([w.full_name for w in WARDS], dtype=object)[np.asarray(ward, dtype=np.int64)]


def ward_in_text(ward: np.ndarray) -> np.ndarray:
    """'phường Ninh Kiều', 'xã Thạnh Phú': the ward as written inside a sentence."""
    return np.array([f"{w.type.lower()} {w.name}" for w in WARDS], dtype=object)[
        np.asarray(ward, dtype=np.int64)]


def ward_codes(ward: np.ndarray) -> np.ndarray:
    return np.array([w.code for w in WARDS], dtype=object)[np.asarray(ward, dtype=np.int64)]


def numbered(prefix: str, ward: np.ndarray, width: int = 5) -> np.ndarray:
    """prefix-WARDCODE-00001, numbered inside each ward in order."""
    ward = np.asarray(ward, dtype=np.int64)
    order = np.argsort(ward, kind="stable")
    ws = ward[order]
    start = np.r_[0, np.flatnonzero(ws[1:] != ws[:-1]) + 1] if len(ws) else np.zeros(0, int)
    seq = np.empty(len(ward), dtype=np.int64)
    seq[order] = np.arange(len(ward)) - np.repeat(start, np.diff(np.r_[start, len(ward)])) + 1
    return (f"{prefix}-" + ward_codes(ward) + "-"
            + np.char.zfill(seq.astype(str), width).astype(object))


def as_multi(geoms: np.ndarray, type_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Multi-geometries of the parts of one type (1 line, 3 polygon); the rows kept."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    ok = (shapely.get_type_id(parts) == type_id) & (shapely.length(parts) > 1)
    make = shapely.multilinestrings if type_id == 1 else shapely.multipolygons
    kept = np.unique(idx[ok])
    return make(parts[ok], indices=np.searchsorted(kept, idx[ok])), kept
