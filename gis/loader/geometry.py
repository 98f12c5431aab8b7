"""Geometry checks for a batch: repair invalid ones, unify to the layer's type, drop empties.

Everything is vectorised with shapely 2; only the rejected features are looked at one by one
(to word their reason).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely

FAMILY = {  # layer geometry type -> (shapely type ids of its single parts, multi constructor)
    "Point": ((0,), None), "MultiPoint": ((0,), shapely.multipoints),
    "LineString": ((1, 2), None), "MultiLineString": ((1, 2), shapely.multilinestrings),
    "Polygon": ((3,), None), "MultiPolygon": ((3,), shapely.multipolygons),
}
MULTI_OR_COLLECTION = (4, 5, 6, 7)


@dataclass
class GeometryResult:
    geoms: np.ndarray  # unified geometries (None where rejected or empty)
    keep: np.ndarray  # bool: the feature is loaded
    repaired: np.ndarray  # bool: was invalid and repaired
    empty: np.ndarray  # bool: empty or missing geometry (dropped, counted)
    reasons: dict[int, str]  # position in batch -> why rejected
    had_z: bool


def _flatten(geoms: np.ndarray, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Explode multi-geometries and collections (nested too) into single parts."""
    while True:
        types = shapely.get_type_id(geoms)
        nested = np.isin(types, MULTI_OR_COLLECTION)
        if not nested.any():
            return geoms, index
        parts, sub = shapely.get_parts(geoms[nested], return_index=True)
        geoms = np.concatenate([geoms[~nested], parts])
        index = np.concatenate([index[~nested], index[nested][sub]])


def prepare(geoms: np.ndarray, layer_type: str) -> GeometryResult:
    n = len(geoms)
    geoms = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(geoms)
    empty = missing | shapely.is_empty(geoms)
    had_z = bool(shapely.has_z(geoms[~empty]).any()) if n else False
    work = geoms.copy()
    if had_z:
        work[~empty] = shapely.force_2d(work[~empty])

    invalid = np.zeros(n, dtype=bool)
    invalid[~empty] = ~shapely.is_valid(work[~empty])
    if invalid.any():
        work[invalid] = shapely.make_valid(work[invalid])

    part_types, multi = FAMILY[layer_type]
    live = np.flatnonzero(~empty)
    parts, index = _flatten(work[live], live)
    fits = np.isin(shapely.get_type_id(parts), part_types) & ~shapely.is_empty(parts)
    if layer_type.endswith("Polygon"):
        fits &= shapely.area(parts) > 0
    elif "Line" in layer_type:
        fits &= shapely.length(parts) > 0
    parts, index = parts[fits], index[fits]
    if "Line" in layer_type:  # closed rings from CAD come as LinearRing: make them lines
        rings = shapely.get_type_id(parts) == 2
        if rings.any():
            parts[rings] = shapely.linestrings(shapely.get_coordinates(parts[rings]),
                                               indices=np.repeat(np.arange(rings.sum()),
                                               shapely.get_num_coordinates(parts[rings])))

    out = np.full(n, None, dtype=object)
    counts = np.bincount(index, minlength=n)
    if multi is not None and len(parts):
        order = np.argsort(index, kind="stable")
        owners = np.flatnonzero(counts)
        built = multi(parts[order], indices=np.repeat(np.arange(len(owners)), counts[owners]))
        out[owners] = built
    else:  # single-part layer: features with exactly one part fit
        single = counts == 1
        out[index[single[index]]] = parts[single[index]]

    keep = np.array([g is not None for g in out]) & ~empty
    reasons: dict[int, str] = {}
    for i in np.flatnonzero(~keep & ~empty):
        original = shapely.get_type_id(geoms[i])
        if multi is None and counts[i] > 1:
            reasons[int(i)] = f"{counts[i]} parts, but the layer holds single {layer_type}s"
        elif invalid[i]:
            reasons[int(i)] = (f"invalid geometry collapses to no {layer_type} when repaired "
                               f"({shapely.is_valid_reason(geoms[i])})")
        else:
            kind = shapely.GeometryType(original).name.title().replace("string", "String")
            reasons[int(i)] = f"{kind} geometry does not fit the layer's {layer_type} type"
    return GeometryResult(out, keep, invalid & keep, empty, reasons, had_z)
