"""OGC API - Tiles (vector tiles, WebMercatorQuad): tile matrix sets, per-collection tilesets,
one multi-layer tileset of every visible layer, TileJSON 3.0.0 and the tiles themselves.

Tile URLs follow the standard's order ``{tileMatrix}/{tileRow}/{tileCol}`` = ``{z}/{y}/{x}``,
optionally named ``….pbf`` or ``….mvt``; ``xyz/{z}/{x}/{y}.pbf`` serves the same tiles in the
XYZ order of tools that read a tile's address from its name (GDAL's MVT driver).
Status codes of a tile request:

- 200 ``application/vnd.mapbox-vector-tile``: a tile with at least one feature;
- 204 No Content: an empty tile — no feature there, or ``z`` outside the layer's
  ``tiles.min_zoom``..``max_zoom`` (always 204, never an empty 200);
- 304: ``If-None-Match`` matches the tile's ETag (made from the versions, definitions and
  served fields of the layers in the tile);
- 400: ``z``, ``y`` or ``x`` not a non-negative integer; an unknown query parameter value;
- 404: a tile matrix, row or column outside WebMercatorQuad (``z`` > 24, ``x`` or
  ``y`` >= 2^z), an unknown tile matrix set, and a collection that is missing or that the
  caller may not see (answered exactly alike).
"""

from __future__ import annotations

import asyncio
import gzip
from urllib.parse import urlencode

import asyncpg
import psycopg
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from services.access import visible_columns, visible_layers
from services.audit import note_read
from services.catalog import LayerInfo
from services.ogc.errors import NotFound, OGCError
from services.ogc.http import JSON, Ctx, cache_headers, conditional, ctx, etag_for
from services.ogc.paramspec import Formats, Params, text
from services.ogc.paramspec import openapi as openapi_params
from services.tiles import mvt
from services.tiles.matrix import (
    TILE_EXT,
    TILE_PATH,
    TMS_ID,
    check_tms,
    max_zoom,
    tile_address,
    tms,
)

router = APIRouter(tags=["Tiles"])
_WRITES: set[asyncio.Task] = set()  # background tile-cache writes (a reference keeps each)

TILEJSON = "application/vnd.mapbox.tilejson+json"  # informal; served as JSON
REL_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
CRS_3857 = "http://www.opengis.net/def/crs/EPSG/0/3857"
MVT_TYPES = {"string": "String", "integer": "Number", "number": "Number",
             "boolean": "Boolean", "date": "String", "datetime": "String"}


# -- tile matrix sets -------------------------------------------------------------------------
def _tms_link(c: Ctx) -> dict:
    return {"rel": REL_SCHEME, "type": JSON, "title": "WebMercatorQuad tile matrix set",
            "href": c.url(f"/ogc/tileMatrixSets/{TMS_ID}")}


@router.get("/ogc/tileMatrixSets", summary="Tile matrix sets")
async def tile_matrix_sets(c: Ctx = Depends(ctx)):
    t = tms()
    doc = {"tileMatrixSets": [{
        "id": TMS_ID, "title": t.title or "Google Maps Compatible for the World",
        "uri": str(t.uri), "crs": CRS_3857,
        "links": [{"rel": "self", "type": JSON, "title": TMS_ID,
                   "href": c.url(f"/ogc/tileMatrixSets/{TMS_ID}")}]}],
        "links": [{"rel": "self", "type": JSON, "title": "Tile matrix sets",
                   "href": c.url("/ogc/tileMatrixSets")}]}
    return JSONResponse(doc, headers=cache_headers(c.who, None, 3600))


@router.get("/ogc/tileMatrixSets/{tileMatrixSetId}", summary="A tile matrix set")
async def tile_matrix_set(tileMatrixSetId: str, c: Ctx = Depends(ctx)):  # noqa: N803
    check_tms(tileMatrixSetId)
    doc = tms().model_dump(mode="json", exclude_none=True)
    doc["links"] = [{"rel": "self", "type": JSON, "title": TMS_ID,
                     "href": c.url(f"/ogc/tileMatrixSets/{TMS_ID}")}]
    return JSONResponse(doc, headers=cache_headers(c.who, None, 3600))


# -- tileset metadata -----------------------------------------------------------------------
def _limits(layers: list[LayerInfo], zmin: int, zmax: int) -> list[dict]:
    boxes = [lyr.bbox for lyr in layers if lyr.bbox]
    if not boxes:
        return []
    w, s = min(b[0] for b in boxes), min(b[1] for b in boxes)
    e, n = max(b[2] for b in boxes), max(b[3] for b in boxes)
    out = []
    for z in range(zmin, zmax + 1):
        nw, se = tms().tile(w, n, z), tms().tile(e, s, z)
        out.append({"tileMatrix": str(z), "minTileRow": nw.y, "maxTileRow": se.y,
                    "minTileCol": nw.x, "maxTileCol": se.x})
    return out


def _fields_schema(c: Ctx, t: mvt.TileLayer) -> dict:
    cols = visible_columns(c.who, t.layer)
    props = {"fid": {"type": "integer", "title": "Feature id", "x-ogc-role": "id"}}
    for name in t.fields:
        col = cols[name]
        props[name] = {"type": {"number": "number", "integer": "integer",
                                "boolean": "boolean"}.get(col.type, "string"),
                       "title": col.title_en, "description": col.title_vi}
    return {"type": "object", "properties": props}


def _geometry_dimension(layer: LayerInfo) -> int:
    g = layer.geometry_type
    return 0 if "Point" in g else 1 if "Line" in g else 2


def _zoom_range(layers: list[LayerInfo]) -> tuple[int, int]:
    zs = [(lyr.definition.tiles.min_zoom, min(lyr.definition.tiles.max_zoom, max_zoom()))
          for lyr in layers]
    if not zs:
        return 0, max_zoom()
    return min(z[0] for z in zs), max(z[1] for z in zs)


def _bounds(layers: list[LayerInfo]) -> list[float]:
    boxes = [lyr.bbox for lyr in layers if lyr.bbox]
    if not boxes:
        return [-180.0, -85.0511287798066, 180.0, 85.0511287798066]
    return [min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes)]


def _tileset_doc(c: Ctx, base: str, title: str, tls: list[mvt.TileLayer]) -> dict:
    layers = [t.layer for t in tls]
    zmin, zmax = _zoom_range(layers)
    w, s, e, n = _bounds(layers)
    return {
        "title": title, "dataType": "vector", "crs": CRS_3857,
        "tileMatrixSetURI": str(tms().uri),
        "tileMatrixSetLimits": _limits(layers, zmin, zmax),
        "boundingBox": {"lowerLeft": [w, s], "upperRight": [e, n],
                        "crs": "http://www.opengis.net/def/crs/OGC/1.3/CRS84"},
        "minTileMatrix": str(zmin), "maxTileMatrix": str(zmax),
        "layers": [{
            "id": t.layer.id, "title": t.layer.title_vi, "description": t.layer.title_en,
            "dataType": "vector", "geometryDimension": _geometry_dimension(t.layer),
            "minTileMatrix": str(t.layer.definition.tiles.min_zoom),
            "maxTileMatrix": str(min(t.layer.definition.tiles.max_zoom, max_zoom())),
            "propertiesSchema": _fields_schema(c, t),
            "links": [{"rel": "collection", "type": JSON, "title": t.layer.title_vi,
                       "href": c.url(f"/ogc/collections/{t.layer.id}")}]} for t in tls],
        "links": [
            {"rel": "self", "type": JSON, "title": "This tileset", "href": c.url(base)},
            {"rel": "alternate", "type": TILEJSON, "title": "TileJSON 3.0.0",
             "href": c.url(base, {"f": "tilejson"})},
            _tms_link(c),
            {"rel": "item", "type": mvt.MVT, "title": "Mapbox vector tile", "templated": True,
             "href": c.url(base) + "/{tileMatrix}/{tileRow}/{tileCol}"},
            {"rel": "item", "type": mvt.MVT, "title": "Mapbox vector tile (.pbf)",
             "templated": True, "href": c.url(base) + "/{tileMatrix}/{tileRow}/{tileCol}.pbf"},
            {"rel": "item", "type": mvt.MVT, "templated": True,
             "title": "Mapbox vector tile, XYZ order (GDAL: MVT:…/xyz/{z}/{x}/{y}.pbf)",
             "href": c.url(base) + "/xyz/{z}/{x}/{y}.pbf"},
        ],
    }


def tilejson(c: Ctx, base: str, name: str, description: str,
             tls: list[mvt.TileLayer], params: dict | None = None) -> dict:
    layers = [t.layer for t in tls]
    zmin, zmax = _zoom_range(layers)
    bounds = _bounds(layers)
    # alternates: the OGC template, and the same tiles in XYZ order with a .pbf name
    templates = [c.url(base) + path + _query(params) for path in ("/{z}/{y}/{x}",
                                                                  "/xyz/{z}/{x}/{y}.pbf")]
    versions = ",".join(f"{t.layer.id}@{t.layer.current_version}" for t in tls)
    return {
        "tilejson": "3.0.0", "name": name, "description": description, "version": "1.0.0",
        "attribution": "© Thành phố Cần Thơ (SPP Cần Thơ)", "scheme": "xyz",
        "tiles": templates, "minzoom": zmin, "maxzoom": zmax, "bounds": bounds,
        "center": [(bounds[0] + bounds[2]) / 2, (bounds[1] + bounds[3]) / 2,
                   max(zmin, min(14, zmax))],
        "vector_layers": [{
            "id": t.layer.id, "description": f"{t.layer.title_vi} / {t.layer.title_en}",
            "minzoom": t.layer.definition.tiles.min_zoom,
            "maxzoom": min(t.layer.definition.tiles.max_zoom, max_zoom()),
            "fields": {n: MVT_TYPES.get(t.layer.columns[n].type, "String") for n in t.fields},
        } for t in tls],
        "spp:versions": versions,
    }


def _query(params: dict | None) -> str:
    """``?collections=a,b`` (commas kept) so a template keeps the caller's selection."""
    return f"?{urlencode(params, safe=',')}" if params else ""


_COLLECTIONS = text("collections", "Layers to draw, comma-separated (default: every vector "
                    "layer the caller may see)")
TILESET = Params(Formats({"json": "json", "tilejson": "tilejson"}), strict=False)
DATASET_TILESET = Params(Formats({"json": "json", "tilejson": "tilejson"}), _COLLECTIONS,
                         strict=False)
DATASET_TILE = Params(_COLLECTIONS, strict=False)


def _format(request: Request, params: Params) -> str:
    return params.format(request.query_params, "", default="json")


@router.get("/ogc/collections/{collectionId}/tiles", summary="Tilesets of a collection")
async def collection_tilesets(collectionId: str, c: Ctx = Depends(ctx)):  # noqa: N803
    layer = vector_layer(c, collectionId)
    base = f"/ogc/collections/{layer.id}/tiles"
    doc = {"links": [{"rel": "self", "type": JSON, "title": "Tilesets",
                      "href": c.url(base)}],
           "tilesets": [{
               "title": f"{layer.title_vi} ({TMS_ID})", "dataType": "vector",
               "crs": CRS_3857, "tileMatrixSetURI": str(tms().uri),
               "links": [{"rel": "self", "type": JSON, "title": "Tileset metadata",
                          "href": c.url(f"{base}/{TMS_ID}")},
                         {"rel": "alternate", "type": TILEJSON, "title": "TileJSON",
                          "href": c.url(f"{base}/{TMS_ID}", {"f": "tilejson"})},
                         _tms_link(c)]}]}
    etag = etag_for("tilesets", layer.id, layer.current_version, layer.definition_sha)
    return JSONResponse(doc, headers=cache_headers(c.who, etag, 60))


@router.get("/ogc/collections/{collectionId}/tiles/{tileMatrixSetId}",
            summary="Tileset metadata of a collection (TileJSON with f=tilejson)",
            openapi_extra=TILESET.openapi())
async def collection_tileset(request: Request, collectionId: str,  # noqa: N803
                             tileMatrixSetId: str, c: Ctx = Depends(ctx)):  # noqa: N803
    layer = vector_layer(c, collectionId)
    check_tms(tileMatrixSetId)
    fmt = _format(request, TILESET)
    tls = [mvt.tile_layer(c.who, layer)]
    base = f"/ogc/collections/{layer.id}/tiles/{TMS_ID}"
    etag = etag_for("tileset", fmt, mvt.scope_key(tls), c.url(base))
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    if fmt == "tilejson":
        doc = tilejson(c, base, layer.id, f"{layer.title_vi} / {layer.title_en}", tls)
    else:
        doc = _tileset_doc(c, base, f"{layer.title_vi} / {layer.title_en}", tls)
    return JSONResponse(doc, headers=cache_headers(c.who, etag, 60))


def vector_layer(c: Ctx, layer_id: str) -> LayerInfo:
    layer = c.layer(layer_id)
    if not mvt.is_vector(layer):
        raise NotFound(f"collection {layer_id!r} is a raster layer: it has no vector tiles")
    return layer


def _selected(c: Ctx, request: Request) -> tuple[list[LayerInfo], dict | None]:
    raw = request.query_params.get("collections")
    if raw is None or not raw.strip():
        return sorted((lyr for lyr in visible_layers(c.who, c.layers) if mvt.is_vector(lyr)),
                      key=lambda lyr: lyr.id), None
    ids = [p.strip() for p in raw.split(",") if p.strip()]
    seen: dict[str, LayerInfo] = {}
    for i in ids:
        seen.setdefault(i, vector_layer(c, i))
    return list(seen.values()), {"collections": ",".join(seen)}


@router.get("/ogc/tiles", summary="Tilesets of all layers together")
async def dataset_tilesets(c: Ctx = Depends(ctx)):
    doc = {"links": [{"rel": "self", "type": JSON, "title": "Tilesets",
                      "href": c.url("/ogc/tiles")}],
           "tilesets": [{
               "title": f"SPP Cần Thơ — tất cả lớp / all layers ({TMS_ID})",
               "dataType": "vector", "crs": CRS_3857, "tileMatrixSetURI": str(tms().uri),
               "links": [{"rel": "self", "type": JSON, "title": "Tileset metadata",
                          "href": c.url(f"/ogc/tiles/{TMS_ID}")},
                         {"rel": "alternate", "type": TILEJSON, "title": "TileJSON",
                          "href": c.url(f"/ogc/tiles/{TMS_ID}", {"f": "tilejson"})},
                         _tms_link(c)]}]}
    return JSONResponse(doc, headers=cache_headers(c.who, None, 60))


@router.get("/ogc/tiles/{tileMatrixSetId}",
            summary="Multi-layer tileset metadata (TileJSON with f=tilejson)",
            openapi_extra=DATASET_TILESET.openapi())
async def dataset_tileset(request: Request, tileMatrixSetId: str,  # noqa: N803
                          c: Ctx = Depends(ctx)):
    check_tms(tileMatrixSetId)
    fmt = _format(request, DATASET_TILESET)
    layers, params = _selected(c, request)
    tls = [mvt.tile_layer(c.who, lyr) for lyr in layers]
    base = f"/ogc/tiles/{TMS_ID}"
    etag = etag_for("dataset-tileset", fmt, mvt.scope_key(tls), c.url(base, params))
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    title = "SPP Cần Thơ"
    if fmt == "tilejson":
        doc = tilejson(c, base, "spp", "Các lớp dữ liệu SPP Cần Thơ / SPP Cần Thơ layers",
                       tls, params)
    else:
        doc = _tileset_doc(c, base, title, tls)
        if params:
            for link in doc["links"]:
                if link["rel"] == "item":
                    link["href"] += _query(params)
    return JSONResponse(doc, headers=cache_headers(c.who, etag, 60))


# -- tiles ------------------------------------------------------------------------------------
async def tile_response(request: Request, c: Ctx, tls: list[mvt.TileLayer],
                        z: int, y: int, x: int) -> Response:
    settings = mvt.tile_settings()
    drawn = [t for t in tls if mvt.in_zoom(t.layer, z)]
    for t in drawn:
        note_read(c.who, t.layer, t.fields)
    scope = mvt.scope_key(drawn)
    etag = etag_for("tile", scope, z, y, x)
    if (resp := conditional(request, c.who, etag, settings.tile_max_age)) is not None:
        return resp
    headers = cache_headers(c.who, etag, settings.tile_max_age)
    if not drawn:
        return Response(status_code=204, headers=headers)
    cache = mvt.disk_cache() if c.who.is_public else None
    data = None
    if cache:
        data = await asyncio.to_thread(cache.get, scope, z, x, y) if cache.remote \
            else cache.get(scope, z, x, y)
    if data is None:
        try:
            data = await mvt.render(c.pages, drawn, z, x, y, settings.tile_stored_mercator)
        except (psycopg.errors.UndefinedTable, asyncpg.UndefinedTableError):
            # a version dropped after the catalog read
            raise OGCError("a layer was just reloaded; retry", status=503,
                           code="Unavailable") from None
        if cache and cache.remote:  # written in the background: the answer does not wait
            task = asyncio.create_task(asyncio.to_thread(cache.put, scope, z, x, y, data))
            _WRITES.add(task)
            task.add_done_callback(_WRITES.discard)
        elif cache:
            cache.put(scope, z, x, y, data)
    if not data:
        return Response(status_code=204, headers=headers)
    if len(data) >= 1000 and "gzip" in request.headers.get("accept-encoding", ""):
        # zlib releases the GIL: big tiles compress off the event loop
        data = (gzip.compress(data, compresslevel=3, mtime=0) if len(data) < 32768 else
                await asyncio.to_thread(gzip.compress, data, compresslevel=3, mtime=0))
        headers["Content-Encoding"] = "gzip"
    return Response(data, media_type=mvt.MVT, headers=headers)


# The OGC template ``{z}/{y}/{x}``, with an optional ``.pbf``/``.mvt`` suffix, and the XYZ order
# ``xyz/{z}/{x}/{y}.pbf`` of tools that read a tile's address from its file name (GDAL's MVT
# driver: ``MVT:https://…/xyz/15/26044/15343.pbf``). Suffixed routes first: ``{x}`` alone would
# take "3.pbf" as the column.
def _tile_paths(base: str) -> list[str]:
    return [f"{base}/{{z}}/{{y}}/{{x}}.{{ext}}", f"{base}/xyz/{{z}}/{{x}}/{{y}}.{{ext}}",
            f"{base}/{{z}}/{{y}}/{{x}}"]


def _tile_route(path: str, summary: str, *query: Params):
    spec = [TILE_PATH, *([TILE_EXT] if "{ext}" in path else []), *query]
    return router.get(path, summary=summary, openapi_extra=openapi_params(*spec))


def _collection_tile_routes(fn):
    base = "/ogc/collections/{collectionId}/tiles/{tileMatrixSetId}"
    for path in _tile_paths(base):
        fn = _tile_route(path, "A vector tile of a collection (z/y/x = tileMatrix/tileRow/"
                         "tileCol; xyz/z/x/y.pbf for GDAL)")(fn)
    return fn


def _dataset_tile_routes(fn):
    for path in _tile_paths("/ogc/tiles/{tileMatrixSetId}"):
        fn = _tile_route(path, "A vector tile of every visible layer drawn at this zoom",
                         DATASET_TILE)(fn)
    return fn


@_collection_tile_routes
async def collection_tile(request: Request, collectionId: str,  # noqa: N803
                          tileMatrixSetId: str, c: Ctx = Depends(ctx)):  # noqa: N803
    layer = vector_layer(c, collectionId)
    check_tms(tileMatrixSetId)
    zi, yi, xi = tile_address(request.path_params)
    return await tile_response(request, c, [mvt.tile_layer(c.who, layer)], zi, yi, xi)


@_dataset_tile_routes
async def dataset_tile(request: Request, tileMatrixSetId: str,  # noqa: N803
                       c: Ctx = Depends(ctx)):
    check_tms(tileMatrixSetId)
    zi, yi, xi = tile_address(request.path_params)
    layers, _ = _selected(c, request)
    return await tile_response(request, c, [mvt.tile_layer(c.who, lyr) for lyr in layers],
                               zi, yi, xi)
