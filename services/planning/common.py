"""Helpers shared by the planning-information, search and export endpoints: labelled
properties (vi/en, code-list meanings), the visible optional layers, areas in the VN-2000 plane.

Every layer and property served here goes through ``services.access`` (``Ctx.layer`` /
``visible_columns``): a layer the caller may not see is treated exactly like one not loaded,
and personal fields never leave the database for the public.
"""

from __future__ import annotations

import math

import numpy as np
import shapely
from psycopg import sql

from gis.codelists import CODELISTS
from gis.crs import from_wgs84, transform_geometries
from services.access import LayerHidden, layer_for, visible_columns
from services.audit import note_read
from services.catalog import Column, LayerInfo
from services.ogc.geojson import properties_sql
from services.ogc.http import Ctx
from services.ogc.paramspec import Params, path_integer

PLANE_ZONE = "vn2000-cantho"  # TM-3 105°00' (EPSG:5897), reached through EPSG:6960
PLANE_LABEL = {"vi": "Mặt phẳng VN-2000 TM-3 105°00' (EPSG:5897, tính chuyển qua EPSG:6960)",
               "en": "VN-2000 TM-3 105°00' plane (EPSG:5897, transformed through EPSG:6960)"}
DISTANCE_LABEL = {"vi": "Khoảng cách trắc địa trên ellipsoid WGS 84 (PostGIS geography)",
                  "en": "Geodesic distance on the WGS 84 ellipsoid (PostGIS geography)"}

PARCEL_FID = Params(path_integer("fid", "Feature id of the parcel", 1, 2**63 - 1))


def optional_layer(c: Ctx, layer_id: str) -> LayerInfo | None:
    """The layer when it is loaded and the caller may see it, else None (no difference)."""
    try:
        return layer_for(c.who, c.layers, layer_id)
    except LayerHidden:
        return None


def with_role(c: Ctx, role: str) -> list[LayerInfo]:
    """The loaded layers the caller may see whose definition has this planning role
    (``planning.role`` of layers/<id>.yaml), in their ``planning.order``."""
    out = []
    for layer in c.layers.values():
        p = layer.definition.planning
        if p is not None and p.role == role and optional_layer(c, layer.id) is not None:
            out.append(layer)
    return sorted(out, key=lambda lyr: (lyr.definition.planning.order, lyr.id))


def role_layer(c: Ctx, role: str) -> LayerInfo | None:
    """The visible layer of a role held by one layer (parcels, wards), or None."""
    found = with_role(c, role)
    return found[0] if found else None


def table(layer: LayerInfo) -> sql.Composable:
    return sql.Identifier("data", layer.id)


def props_sql(c: Ctx, layer: LayerInfo, alias: str) -> tuple[sql.Composable, dict[str, Column]]:
    """SQL of a JSON text of the caller's visible properties of a row aliased ``alias``."""
    cols = visible_columns(c.who, layer)
    note_read(c.who, layer, cols)
    return properties_sql(cols, prefix=alias), cols


def codelist_of(layer: LayerInfo, name: str):
    for f in layer.definition.fields:
        if f.name == name and f.codelist:
            return CODELISTS.get(f.codelist)
    return None


def meaning(layer: LayerInfo, name: str, value) -> dict | None:
    """Vietnamese/English meaning of a coded value (e.g. land-use code ODT), or None."""
    cl = codelist_of(layer, name)
    if cl is None or value in (None, ""):
        return None
    parts = [cl.lookup(p.strip()) for p in str(value).split("+")]
    if not parts or any(p is None for p in parts):
        return None
    out = {"vi": " + ".join(p.vi for p in parts), "en": " + ".join(p.en for p in parts)}
    if len(parts) == 1:
        if parts[0].versions:
            out["codelist_version"] = parts[0].versions[0]
        if parts[0].color:
            out["color"] = parts[0].color
    return out


def labelled(layer: LayerInfo, cols: dict[str, Column], props: dict) -> list[dict]:
    """Properties as a list of {name, label {vi, en}, value, unit?, meaning?} in schema order,
    code-list version columns folded into their field's meaning."""
    out = []
    for name, col in cols.items():
        if name.endswith("_codelist") or name not in props:
            continue
        value = props[name]
        item = {"name": name, "label": {"vi": col.title_vi, "en": col.title_en},
                "value": value}
        if col.unit:
            item["unit"] = col.unit
        m = meaning(layer, name, value)
        if m:
            item["meaning"] = m
        out.append(item)
    return out


def plane_areas(geoms) -> np.ndarray:
    """Areas (m²) of WGS 84 shapely geometries in the VN-2000 TM-3 105°00' plane."""
    geoms = np.asarray(geoms, dtype=object)
    if geoms.size == 0:
        return np.zeros(0)
    planar = transform_geometries(geoms, from_wgs84(PLANE_ZONE), include_z=False)
    return np.asarray(shapely.area(planar), dtype=np.float64)


def round_or_none(v: float | None, nd: int = 2) -> float | None:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return None
    return round(float(v), nd)
