"""Each polygon's label point, stored with its version so vector tiles read it instead of
computing it (services.tiles.labels).

The point is the centre of the polygon's largest inscribed circle: inside the polygon, on its
widest part, where a reader looks for the name. PostGIS 3.3 on Debian 12 (GEOS 3.11) takes
200-500 us a parcel for it, which made a z17 parcel tile cost 40 ms or more; shapely's GEOS
does it vectorised in about 4 us, so writers compute it with the row (gis.loader.copier).

The column is in every polygon version table, filled for the layers whose style labels at
points (``gis.styles.labels_at_points``) by the writers that make geometries (loads, edits)
and copied with the row by the ones that keep them (merges). Where it is NULL (a merged
segment, a version from before it existed, a style changed since the load) tiles compute the
point themselves, so it is only ever a cache of ``f(geom)``, never a second truth.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import shapely
from pyproj import Transformer

from gis.layerdef import LayerDef
from gis.styles import labels_at_points

COLUMN = "label_3857"  # Web Mercator, as tiles draw it (geometry(Point, 3857), nullable)
SQL_TYPE = "geometry(Point, 3857)"
_POLYGONAL = (shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON)


def has_column(geometry: str) -> bool:
    """Whether a version table of this geometry type has the column."""
    return geometry.endswith("Polygon")


def wanted(layer: LayerDef) -> bool:
    """Whether writers fill the column for this layer (its tiles draw labels at points)."""
    return labels_at_points(layer)


@cache
def _to_mercator() -> Transformer:
    return Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)


def points_wkb(geoms: np.ndarray) -> list[str | None]:
    """Hex WKB (no SRID: the column's typmod gives 3857) of each WGS 84 geometry's label
    point; None for what is not a non-empty polygon."""
    geoms = np.asarray(geoms, dtype=object)
    out: list[str | None] = [None] * len(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), _POLYGONAL) & ~shapely.is_empty(geoms)
    idx = np.flatnonzero(polygonal)
    if not len(idx):
        return out
    centres = _centres(geoms[idx])
    x, y = _to_mercator().transform(centres[:, 0], centres[:, 1])
    # binary WKB hexed by Python: several times faster than GEOS's hex writer
    for i, wkb in zip(idx.tolist(), shapely.to_wkb(shapely.points(x, y)), strict=True):
        out[i] = wkb.hex()
    return out


def _centres(polygonal: np.ndarray) -> np.ndarray:
    """(n, 2) centres of the polygons' largest inscribed circles. GEOS takes about 100 times
    longer on a MultiPolygon than on its one polygon, so the parts are measured one by one
    and each geometry keeps its widest part's circle."""
    parts, owner = shapely.get_parts(polygonal, return_index=True)
    # each circle comes back as a line from its centre to the nearest boundary point
    lines = shapely.maximum_inscribed_circle(parts)
    coords = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    radius = np.hypot(*(coords[:, 1] - coords[:, 0]).T)
    # per geometry the part with the largest radius: sort by (owner, radius), take each last
    order = np.lexsort((radius, owner))
    last = np.flatnonzero(np.r_[owner[order][1:] != owner[order][:-1], True])
    return coords[order[last], 0]
