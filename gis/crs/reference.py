"""Reference data a diagnosis scores candidate interpretations against."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely

from gis.crs.extent import metres_per_degree


class PolygonReference:
    """Polygons in WGS 84 (e.g. the ward layer). With ``expected`` (one code per point,
    matching ``codes``), a point fits only inside its own polygon; else inside any."""

    metric = "fit"

    def __init__(self, polygons, codes=None, expected=None):
        self.polygons = np.asarray(polygons, dtype=object)
        shapely.prepare(self.polygons)
        self.codes = None if codes is None else np.asarray(codes)
        self.expected = None if expected is None else np.asarray(expected)
        if self.expected is not None and self.codes is None:
            raise ValueError("PolygonReference: expected codes need the polygons' codes")
        self._tree = shapely.STRtree(self.polygons)

    def evaluate(self, lon, lat, idx) -> float:
        """Share of points inside their (expected) polygon; unknown codes are ignored."""
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        finite = np.isfinite(lon) & np.isfinite(lat)
        if self.expected is None:
            pts = shapely.points(np.where(finite, lon, 0.0), np.where(finite, lat, 0.0))
            hit = np.zeros(lon.size, dtype=bool)
            hit[self._tree.query(pts, predicate="intersects")[0]] = True
            return float((hit & finite).mean()) if lon.size else 0.0
        expected = self.expected[idx]
        order = np.argsort(self.codes, kind="stable")
        pos = np.clip(np.searchsorted(self.codes[order], expected), 0, len(order) - 1)
        known = self.codes[order][pos] == expected
        if not known.any():
            return 0.0
        polys = self.polygons[order[pos[known]]]
        inside = shapely.contains_xy(polys, lon[known], lat[known]) & finite[known]
        return float(inside.mean())


class PreviousVersion:
    """The previous version of the layer: shapely geometries (WGS 84) or a (lon, lat) pair.
    ``paired=True`` means point i now corresponds to point i before (same order)."""

    metric = "offset_m"

    def __init__(self, previous, paired: bool = False):
        self.paired = paired
        if isinstance(previous, tuple):
            self.lon = np.asarray(previous[0], dtype=np.float64)
            self.lat = np.asarray(previous[1], dtype=np.float64)
            geoms = shapely.points(self.lon, self.lat)
        else:
            if paired:
                raise ValueError("PreviousVersion: paired=True needs a (lon, lat) pair")
            geoms = np.asarray(previous, dtype=object)
            # Compare vertices with outlines: a shifted vertex inside a polygon is still off.
            polygonal = shapely.get_type_id(geoms) >= 3
            geoms = np.where(polygonal, shapely.boundary(geoms), geoms)
        lat_mid = float(np.nanmean(shapely.bounds(geoms)[:, [1, 3]]))
        self._scale = np.array(metres_per_degree(lat_mid))
        self._tree = shapely.STRtree(shapely.transform(geoms, lambda c: c * self._scale))

    def evaluate(self, lon, lat, idx) -> float:
        """Median distance in metres between the points and the previous version."""
        lon, lat = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        finite = np.isfinite(lon) & np.isfinite(lat)
        if not finite.any():
            return float("inf")
        if self.paired:
            dx = (lon - self.lon[idx]) * self._scale[0]
            dy = (lat - self.lat[idx]) * self._scale[1]
            return float(np.median(np.where(finite, np.hypot(dx, dy), np.inf)))
        pts = shapely.points(lon[finite] * self._scale[0], lat[finite] * self._scale[1])
        _, dist = self._tree.query_nearest(pts, return_distance=True, all_matches=False)
        dist = np.concatenate([dist, np.full((~finite).sum(), np.inf)])
        return float(np.median(dist))


class CallableReference:
    """Any callable f(lon, lat) -> per-point bool or score in [0, 1]; higher fits better."""

    metric = "fit"

    def __init__(self, func: Callable):
        self.func = func

    def evaluate(self, lon, lat, idx) -> float:
        values = np.asarray(self.func(lon, lat), dtype=np.float64)
        return float(np.nanmean(values)) if values.size else 0.0


Reference = PolygonReference | PreviousVersion | CallableReference


def as_reference(reference) -> Reference | None:
    """Accept a reference object, a plain callable, or an array of polygons."""
    if reference is None or isinstance(reference, PolygonReference | PreviousVersion
                                       | CallableReference):
        return reference
    if callable(reference):
        return CallableReference(reference)
    return PolygonReference(reference)
