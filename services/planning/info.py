"""A parcel's planning information: its attributes with vi/en labels, the plan zones it lies in
(intersection area in the VN-2000 plane and share), investment projects touching it, the
nearest water pipe and drainage line, the flood-risk zones it lies in, and the modelled flood
depth in it from every visible flood raster (``flood_depth``, ``services.raster.zonal``).
Which layer plays which part is the ``planning`` key of its layer file (role ``parcels``,
``overlap``, ``nearest``, ``flood_depth``; section key, title and order); none is named here.

Areas: PostGIS cuts each zone with the parcel (``ST_Intersection`` in WGS 84); the pieces are
measured in Python in the VN-2000 TM-3 105°00' plane through the exact inverse of EPSG:6960
(``gis.crs``), the way cadastral areas are defined in Vietnam. The share is the piece's plane
area over the parcel's plane area computed the same way. Distances are geodesic (PostGIS
``geography``, WGS 84 ellipsoid). Only layers and fields the caller may see are read.
"""

from __future__ import annotations

import logging

import orjson
import shapely
from psycopg import sql

from services.catalog import LayerInfo
from services.ogc.errors import NotFound
from services.ogc.http import Ctx
from services.planning.common import (
    DISTANCE_LABEL,
    PLANE_LABEL,
    labelled,
    meaning,
    plane_areas,
    props_sql,
    role_layer,
    round_or_none,
    table,
    with_role,
)
from services.raster.zonal import ZonalError, flood_summary

log = logging.getLogger(__name__)

MIN_PIECE_M2 = 0.01  # pieces smaller than this are shared edges or slivers, not overlaps


async def parcel_planning(c: Ctx, fid: int) -> dict:
    parcels = role_layer(c, "parcels")
    if parcels is None:
        raise NotFound("no parcel layer is loaded (a layer with planning role 'parcels')")
    props, cols = props_sql(c, parcels, "p")
    stmt = sql.SQL(
        "SELECT p.fid, {props} AS props, ST_AsBinary(p.geom) AS wkb, "
        "ST_XMin(p.geom) AS x0, ST_YMin(p.geom) AS y0, ST_XMax(p.geom) AS x1, "
        "ST_YMax(p.geom) AS y1, ST_X(ST_PointOnSurface(p.geom)) AS cx, "
        "ST_Y(ST_PointOnSurface(p.geom)) AS cy, ST_AsGeoJSON(p.geom, 7) AS geojson "
        "FROM {t} p WHERE p.fid = %(fid)s").format(props=props, t=table(parcels))
    row = await (await c.conn.execute(stmt, {"fid": fid})).fetchone()
    if row is None:
        raise NotFound(f"no parcel {fid} in {parcels.id}")
    p = orjson.loads(row["props"])
    geom = shapely.from_wkb(row["wkb"])
    parcel_plane = float(plane_areas([geom])[0])
    out: dict = {
        "fid": fid, "layer": parcels.id,
        "title": {"vi": parcels.title_vi, "en": parcels.title_en},
        "label": parcel_label(p),
        "properties": labelled(parcels, cols, p),
        "land_use": meaning(parcels, "land_use_code", p.get("land_use_code")),
        "area": {"plane_m2": round_or_none(parcel_plane),
                 "stored_plane_m2": round_or_none(p.get("area_plane_m2")),
                 "geodesic_m2": round_or_none(p.get("area_geodesic_m2")),
                 "plane": PLANE_LABEL},
        "bbox": [row["x0"], row["y0"], row["x1"], row["y1"]],
        "point": [row["cx"], row["cy"]],
        "geometry": orjson.loads(row["geojson"]),
        "method": {"area": PLANE_LABEL, "distance": DISTANCE_LABEL,
                   "share": {"vi": "Tỷ lệ = diện tích phần giao / diện tích thửa, cùng mặt "
                                   "phẳng VN-2000", "en": "Share = intersection area / parcel "
                                   "area, both in the same VN-2000 plane"}},
        "sections": [],
    }
    layers = sorted(with_role(c, "overlap") + with_role(c, "nearest"),
                    key=lambda lyr: (lyr.definition.planning.order, lyr.id))
    for layer in layers:  # the sections, as the layer files declare them
        if layer.definition.planning.role == "overlap":
            section = await _overlaps(c, parcels, fid, layer, parcel_plane)
        else:
            section = await _nearest(c, parcels, fid, layer)
        out["sections"].append(section)
    out["flood_depth"] = await flood_depth(c, geom)
    return out


async def flood_depth(c: Ctx, geom) -> list[dict]:
    """The parcel's flood-depth statistics, one entry a flood raster layer the caller may see
    (``services.raster.zonal.flood_summary``): shares of the cells with data in each depth
    class (the same numbers as ``/api/parcels/{fid}/flood``), with the class colours."""
    try:
        rasters = c.raster_layers()
        rows = await flood_summary(rasters, geom, c.who)
    except (ZonalError, OSError) as exc:  # a broken raster file must not hide the rest
        log.warning("flood depth of a parcel not computed: %s", exc)
        return []
    out = []
    for r in rows:
        info = rasters.get(r["layer"])
        colours = [cl.color for cl in info.definition.classes] if info else []
        classes = [{"label": cl["label"], "min": cl["min"], "max": cl["max"],
                    "count": cl["count"], "share": cl["share"],
                    "share_pct": round(100.0 * cl["share"], 1),
                    "color": colours[k] if k < len(colours) else None}
                   for k, cl in enumerate(r.get("classes") or [])]
        out.append({
            "layer": r["layer"], "title": r["title"], "version": r.get("version"),
            "unit": r.get("unit"), "summary": r.get("summary"), "classes": classes,
            "above": r.get("above") or [], "coverage": r.get("coverage"),
            "min": r.get("min"), "max": r.get("max"), "mean": r.get("mean"),
            "cell_count": r.get("cell_count"), "count": r.get("count"),
            "method": r.get("method")})
    return out


def parcel_label(p: dict) -> dict:
    ward = p.get("ward_name") or p.get("commune_code") or ""
    sheet, no = p.get("sheet_no"), p.get("parcel_no")
    return {"vi": f"Thửa {no}, tờ {sheet}, {ward}".strip(", "),
            "en": f"Parcel {no}, sheet {sheet}, {ward}".strip(", ")}


async def _overlaps(c: Ctx, parcels: LayerInfo, fid: int, layer: LayerInfo,
                    parcel_plane: float) -> dict:
    rel = layer.definition.planning
    props, cols = props_sql(c, layer, "z")
    stmt = sql.SQL(
        "SELECT z.fid, {props} AS props, "
        "ST_AsBinary(ST_CollectionExtract(ST_Intersection(z.geom, p.geom), 3)) AS wkb "
        "FROM {pt} p JOIN {zt} z ON ST_Intersects(z.geom, p.geom) "
        "WHERE p.fid = %(fid)s ORDER BY z.fid").format(
        props=props, pt=table(parcels), zt=table(layer))
    rows = await (await c.conn.execute(stmt, {"fid": fid})).fetchall()
    pieces = [shapely.from_wkb(r["wkb"]) for r in rows]
    areas = plane_areas(pieces) if pieces else []
    features = []
    for r, area in zip(rows, areas, strict=True):
        if area < MIN_PIECE_M2 and not rel.touching:
            continue
        p = orjson.loads(r["props"])
        code = p.get(rel.code_field) if rel.code_field else None
        title = layer.definition.title_field
        features.append({
            "fid": r["fid"], "title": p.get(title) if title and title != rel.code_field
            else None,  # e.g. the project's name beside its land-use code
            "intersection_m2": round(float(area), 2),
            "share_pct": round(100.0 * float(area) / parcel_plane, 3) if parcel_plane else None,
            "code": code, "meaning": meaning(layer, rel.code_field, code)
            if rel.code_field else None,
            "properties": labelled(layer, cols, p)})
    features.sort(key=lambda f: -f["intersection_m2"])
    return {"key": rel.section, "layer": layer.id, "kind": "overlap",
            "title": rel.title.model_dump(),
            "layer_title": {"vi": layer.title_vi, "en": layer.title_en},
            "features": features,
            "covered_pct": round(sum(f["share_pct"] or 0 for f in features), 3)}


async def _nearest(c: Ctx, parcels: LayerInfo, fid: int, layer: LayerInfo) -> dict:
    """The nearest feature: 16 candidates from the GiST index (KNN in degrees), then the
    geodesic distance decides."""
    props, cols = props_sql(c, layer, "l")
    stmt = sql.SQL(
        "WITH p AS (SELECT geom FROM {pt} WHERE fid = %(fid)s), "
        "cand AS (SELECT l.* FROM {lt} l ORDER BY l.geom <-> (SELECT geom FROM p) LIMIT 16) "
        "SELECT l.fid, {props} AS props, "
        "ST_Distance(l.geom::geography, p.geom::geography) AS d FROM cand l, p "
        "ORDER BY d, l.fid LIMIT 1").format(pt=table(parcels), lt=table(layer), props=props)
    row = await (await c.conn.execute(stmt, {"fid": fid})).fetchone()
    feature = None
    if row is not None:
        feature = {"fid": row["fid"], "distance_m": round(float(row["d"]), 2),
                   "properties": labelled(layer, cols, orjson.loads(row["props"]))}
    rel = layer.definition.planning
    return {"key": rel.section, "layer": layer.id, "kind": "nearest",
            "title": rel.title.model_dump(),
            "layer_title": {"vi": layer.title_vi, "en": layer.title_en},
            "features": [feature] if feature else []}


