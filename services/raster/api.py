"""Raster layers over HTTP. Every path resolves the layer through ``services.access``
(``layer_for``): a raster the caller may not see is answered exactly like a missing one (404).

- ``GET /api/rasters``: the visible loaded raster layers, with legend and tile URL template;
- ``GET /api/rasters/{id}``: one of them;
- ``GET /ogc/collections/{id}/map/tiles/WebMercatorQuad``: tileset metadata (TileJSON-like);
- ``GET /ogc/collections/{id}/map/tiles/WebMercatorQuad/{z}/{y}/{x}?f=png|webp``: a map tile
  with the layer's classes / ramp / RGB applied; 204 where the tile holds no data or ``z`` is
  outside the layer's ``tiles`` zoom range; ETag = layer, version, definition;
- ``GET /ogc/collections/{id}/coverage?bbox=w,s,e,n&f=tif``: the cells covering the bbox as a
  GeoTIFF (EPSG:4326, the stored type and nodata);
- ``GET /api/rasters/{id}/value?lon=&lat=``: the value of the cell holding a point;
- ``POST /api/rasters/{id}/zonal``: statistics in a GeoJSON polygon (WGS 84);
- ``GET /api/parcels/{fid}/flood``: the flood statistics of a parcel, every visible flood layer.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from psycopg import sql
from starlette.concurrency import run_in_threadpool

from services.access import visible_layers as _visible
from services.audit import note_read
from services.catalog import LayerInfo
from services.maphints import map_hints
from services.ogc.crs import CRS84, SERVED
from services.ogc.errors import InvalidParameter, NotFound
from services.ogc.http import Ctx, cache_headers, conditional, ctx, etag_for, file_ctx
from services.ogc.params import parse_bbox
from services.ogc.paramspec import Param, Params
from services.ogc.paramspec import openapi as openapi_params
from services.planning.common import PARCEL_FID, role_layer
from services.raster import reader, render
from services.raster.zonal import ZonalError, flood_summary, zonal_stats
from services.tiles.matrix import TILE_PATH, TMS_ID, check_tms, tile_address

router = APIRouter(tags=["Rasters"])
MAX_COVERAGE_CELLS = 25_000_000


def _describe(c: Ctx, info: LayerInfo) -> dict:
    d = info.definition
    tiles = f"/ogc/collections/{info.id}/map/tiles/{TMS_ID}/{{z}}/{{y}}/{{x}}?f=png"
    return {
        "id": info.id, "kind": "raster", "title": {"vi": info.title_vi, "en": info.title_en},
        "description": {"vi": info.description_vi, "en": info.description_en},
        "owner": {"vi": info.owner_vi, "en": info.owner_en}, "domain": d.domain,
        "map": map_hints(d),
        "access": info.access_level, "version": info.current_version, "bbox": info.bbox,
        "units": d.units, "value": d.value.model_dump() if d.value else None,
        "render": d.render, "legend": render.legend(d), "opacity": d.style.opacity,
        "minzoom": d.tiles.min_zoom, "maxzoom": d.tiles.max_zoom,
        "tiles": [c.url(tiles)],
        "links": {"collection": c.url(f"/ogc/collections/{info.id}"),
                  "coverage": c.url(f"/ogc/collections/{info.id}/coverage?f=tif"),
                  "value": c.url(f"/api/rasters/{info.id}/value?lon={{lon}}&lat={{lat}}"),
                  "zonal": c.url(f"/api/rasters/{info.id}/zonal")},
    }


@router.get("/api/rasters", summary="Raster layers")
async def rasters_list(c: Ctx = Depends(file_ctx)):
    visible = sorted(_visible(c.who, c.raster_layers()), key=lambda i: i.id)
    layers = [_describe(c, i) for i in visible]
    return JSONResponse({"rasters": layers}, headers=cache_headers(c.who, None, 5))


@router.get("/api/rasters/{layer_id}", summary="A raster layer")
async def raster_one(layer_id: str, c: Ctx = Depends(file_ctx)):
    return JSONResponse(_describe(c, c.raster(layer_id)), headers=cache_headers(c.who, None, 5))


@router.get("/ogc/collections/{layer_id}/map/tiles/{tms}", summary="Raster tileset")
async def raster_tileset(layer_id: str, tms: str, c: Ctx = Depends(file_ctx)):
    info = c.raster(layer_id)
    check_tms(tms)
    d = _describe(c, info)
    doc = {"tilejson": "3.0.0", "name": info.title_en, "scheme": "xyz",
           "tiles": d["tiles"], "minzoom": d["minzoom"], "maxzoom": d["maxzoom"],
           "bounds": info.bbox, "tileMatrixSetURI":
           "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad",
           "dataType": "map", "legend": d["legend"], "units": d["units"]}
    return JSONResponse(doc, headers=cache_headers(c.who, None, 5))


@router.get("/ogc/collections/{layer_id}/map/tiles/{tms}/{z}/{y}/{x}", summary="Map tile",
            openapi_extra=openapi_params(TILE_PATH))
async def raster_tile(layer_id: str, tms: str, request: Request,
                      f: str = "png",
                      c: Ctx = Depends(file_ctx)):
    info = c.raster(layer_id)
    note_read(c.who, info)  # raster data returned
    check_tms(tms)
    zi, yi, xi = tile_address(request.path_params)
    if f not in render.MEDIA:
        raise InvalidParameter(f"f={f!r}: map tiles are png or webp")
    d = info.definition
    etag = etag_for("raster", info.id, info.current_version, info.definition_sha, zi, yi, xi, f)
    hit = conditional(request, c.who, etag, 3600)
    if hit is not None:
        return hit
    headers = cache_headers(c.who, etag, 3600)
    if not d.tiles.min_zoom <= zi <= d.tiles.max_zoom:
        return Response(status_code=204, headers=headers)
    body = await run_in_threadpool(_tile_bytes, info.raster_file, d, zi, xi, yi, f)
    if body is None:
        return Response(status_code=204, headers=headers)
    return Response(body, media_type=render.MEDIA[f], headers=headers)


def _tile_bytes(path, d, z, x, y, f) -> bytes | None:
    got = reader.read_tile(path, z, x, y)
    if got is None:
        return None
    rgba = render.colour(d, *got)
    if not rgba[..., 3].any():
        return None
    return render.encode(rgba, f)


def _bbox(value: str) -> tuple[float, float, float, float]:
    w, s, e, n = parse_bbox(value, SERVED[CRS84])
    if not (w < e and s < n):
        raise InvalidParameter(f"bbox={value!r}: an empty box; west < east, south < north")
    return w, s, e, n


COVERAGE_BBOX = Params(Param(
    "bbox", "west,south,east,north in WGS 84 degrees (default: the whole coverage)",
    {"type": "array", "minItems": 4, "maxItems": 4,
     "items": {"type": "number", "minimum": -180, "maximum": 180}},
    extra={"style": "form", "explode": False}))


@router.get("/ogc/collections/{layer_id}/coverage", summary="Coverage subset (GeoTIFF)",
            openapi_extra=openapi_params(COVERAGE_BBOX))
async def raster_coverage(request: Request, layer_id: str,
                          f: str = "tif",
                          c: Ctx = Depends(file_ctx)):
    bbox = request.query_params.get("bbox")
    info = c.raster(layer_id)
    note_read(c.who, info)  # raster data returned
    if f not in ("tif", "tiff", "geotiff"):
        raise InvalidParameter(f"f={f!r}: coverages are served as tif (GeoTIFF)")
    box = _bbox(bbox) if bbox else tuple(info.bbox)
    try:
        body = await run_in_threadpool(reader.subset_geotiff, info.raster_file, box,
                                       MAX_COVERAGE_CELLS)
    except ValueError as exc:
        raise InvalidParameter(f"bbox asks for {exc}, more than {MAX_COVERAGE_CELLS:,} cells; "
                               "ask for a smaller bbox") from None
    if body is None:
        raise InvalidParameter(f"bbox {bbox} does not intersect the coverage, whose extent is "
                               f"{info.bbox}")
    name = f"{info.id}_v{info.current_version}.tif"
    return Response(body, media_type="image/tiff; application=geotiff",
                    headers={**cache_headers(c.who, None, 60),
                             "Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/api/rasters/{layer_id}/value", summary="Value at a point")
async def raster_value(layer_id: str,
                       lon: float = Query(description="Longitude, WGS 84", ge=-180, le=180),
                       lat: float = Query(description="Latitude, WGS 84", ge=-90, le=90),
                       c: Ctx = Depends(file_ctx)):
    info = c.raster(layer_id)
    note_read(c.who, info)  # raster data returned
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise InvalidParameter("lon, lat must be WGS 84 degrees")
    vals = await run_in_threadpool(reader.read_point, info.raster_file, lon, lat)
    d = info.definition
    doc = {"layer": info.id, "version": info.current_version, "lon": lon, "lat": lat,
           "units": d.units, "value": None, "class": None}
    if vals is not None:
        doc["value"] = vals[0] if d.bands == 1 else vals
        if d.classes:
            doc["class"] = next((render.legend(d)[k] for k, cl in enumerate(d.classes)
                                 if cl.contains(vals[0])), None)
    return JSONResponse(doc, headers=cache_headers(c.who, None, 60))


async def _geometry_body(request: Request) -> dict:
    raw = await request.body()
    if len(raw) > 5_000_000:
        raise InvalidParameter("the polygon is larger than 5 MB of GeoJSON")
    try:
        body = orjson.loads(raw)  # orjson refuses nesting deeper than 1024 by itself
    except orjson.JSONDecodeError as exc:
        raise InvalidParameter(f"the body is not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidParameter("the body must be a GeoJSON object (a Polygon, MultiPolygon or "
                               f"a Feature with one), not {type(body).__name__}")
    return body


@router.post("/api/rasters/{layer_id}/zonal", summary="Zonal statistics in a polygon")
async def raster_zonal(layer_id: str, request: Request, c: Ctx = Depends(file_ctx)):
    info = c.raster(layer_id)
    note_read(c.who, info)  # raster data returned
    body = await _geometry_body(request)
    try:
        stats = await run_in_threadpool(zonal_stats, info.raster_file, info.definition, body)
    except ZonalError as exc:
        raise InvalidParameter(str(exc)) from None
    stats.update(version=info.current_version,
                 title={"vi": info.title_vi, "en": info.title_en})
    return JSONResponse(stats, headers={"Cache-Control": "no-store"})


@router.get("/api/parcels/{fid}/flood", summary="Flood depth statistics of a parcel",
            openapi_extra=openapi_params(PARCEL_FID))
async def parcel_flood(request: Request, c: Ctx = Depends(ctx)):
    fid = request.path_params["fid"]
    parcels = role_layer(c, "parcels")  # the layer file with planning role 'parcels'
    if parcels is None:
        raise NotFound("no parcel layer is loaded")
    if not (fid.isascii() and fid.isdigit()) or len(fid) > 18:  # '²'.isdigit() is True
        raise InvalidParameter(f"fid must be an integer, not {fid!r}")
    cur = await c.conn.execute(sql.SQL("SELECT ST_AsGeoJSON(geom) AS g FROM {} WHERE fid = %s")
                               .format(sql.Identifier("data", parcels.id)), (int(fid),))
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"no parcel {fid}")
    rows = await flood_summary(c.raster_layers(), orjson.loads(row["g"]), c.who)
    return JSONResponse({"fid": int(fid), "flood": rows},
                        headers=cache_headers(c.who, None, 0))
