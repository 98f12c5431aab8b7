"""Collections: the list (/ogc/collections), one collection and its queryables."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse

from services.access import LayerHidden, Principal, layer_for, visible_columns, visible_layers
from services.catalog import LayerInfo
from services.maphints import map_hints
from services.metadata import dataset_metadata
from services.ogc import records
from services.ogc.crs import CRS84, CRS_LIST
from services.ogc.html import page
from services.ogc.http import (
    GEOJSON,
    JSON,
    Ctx,
    cache_headers,
    conditional,
    ctx,
    etag_for,
    negotiate,
)
from services.tiles import mvt

router = APIRouter(prefix="/ogc/collections", tags=["Data"])
JSON_SCHEMA_TYPES = {"string": {"type": "string"}, "integer": {"type": "integer"},
                     "number": {"type": "number"}, "boolean": {"type": "boolean"},
                     "date": {"type": "string", "format": "date"},
                     "datetime": {"type": "string", "format": "date-time"}}
GEOMETRY_SCHEMA = {"Point": "point", "MultiPoint": "multipoint", "LineString": "linestring",
                   "MultiLineString": "multilinestring", "Polygon": "polygon",
                   "MultiPolygon": "multipolygon"}
DOWNLOADS = {"csv": ("text/csv", "CSV"), "gpkg": ("application/geopackage+sqlite3",
             "GeoPackage"), "shp": ("application/zip", "Shapefile (zip)")}
CollectionId = Path(..., alias="collectionId", description="Layer id, e.g. cadastral_parcels")
OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0"


def collection_doc(c: Ctx, layer: LayerInfo) -> dict:
    base = f"/ogc/collections/{layer.id}"
    links = [
        {"rel": "self", "type": JSON, "title": "This collection", "href": c.url(base)},
        {"rel": "alternate", "type": "text/html", "title": "This collection as HTML",
         "href": c.url(base, {"f": "html"})},
        {"rel": "items", "type": GEOJSON, "title": "Features (GeoJSON)",
         "href": c.url(f"{base}/items")},
        {"rel": "items", "type": "text/html", "title": "Features (HTML)",
         "href": c.url(f"{base}/items", {"f": "html"})},
        {"rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
         "type": "application/schema+json", "title": "Queryable properties",
         "href": c.url(f"{base}/queryables")},
    ]
    links.append({"rel": f"{OGC_REL}/tilesets-vector", "type": JSON,
                  "title": "Vector tiles (OGC API - Tiles)", "href": c.url(f"{base}/tiles")})
    if mvt.is_vector(layer):  # a file in styles/, or the style made from the definition
        links.append({"rel": f"{OGC_REL}/style", "type": "application/vnd.mapbox.style+json",
                      "title": "Style (MapLibre; also f=sld, f=qml)",
                      "href": c.url(f"/ogc/styles/{layer.id}", {"f": "mapbox"})})
    if layer.licence:
        links.append(_licence_link(layer))
    links.append(_iso_link(c, layer))
    for f, (mime, label) in DOWNLOADS.items():
        links.append({"rel": "enclosure", "type": mime, "title": f"Download: {label}",
                      "href": c.url(f"{base}/items", {"f": f})})
    extent: dict = {"spatial": {"bbox": [layer.bbox] if layer.bbox else [], "crs": CRS84}}
    if layer.time_field and layer.temporal and c.who.can_see_column(
            layer, layer.columns[layer.time_field]):
        lo, hi = layer.temporal
        extent["temporal"] = {"interval": [[_rfc3339(lo), _rfc3339(hi)]],
                              "trs": "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"}
    return {**_described(layer, "feature"), "geometryType": layer.geometry_type,
            "extent": extent, "crs": CRS_LIST, "storageCrs": CRS84, "links": links}


def _described(layer: LayerInfo, item_type: str) -> dict:
    """What a collection says of its layer, vector or raster alike."""
    return {
        "id": layer.id, "title": layer.title_vi, "description": layer.description_vi,
        "titles": {"vi": layer.title_vi, "en": layer.title_en},
        "descriptions": {"vi": layer.description_vi, "en": layer.description_en},
        "keywords": layer.keywords, "itemType": item_type,
        "owner": {"vi": layer.owner_vi, "en": layer.owner_en, "code": layer.owner_code},
        "spp:map": map_hints(layer.definition),
        "license": layer.licence, "updated": layer.updated_at.isoformat()
        if layer.updated_at else None, "version": layer.current_version,
    }


def raster_collection_doc(c: Ctx, info: LayerInfo) -> dict:
    """A raster layer as a collection of OGC API - Common: no items, a coverage (GeoTIFF
    subsets) and map tiles, described further at /api/rasters/{id}. Not in the list of
    /ogc/collections (see ``collections``)."""
    base = f"/ogc/collections/{info.id}"
    links = [
        {"rel": "self", "type": JSON, "title": "This collection", "href": c.url(base)},
        {"rel": "alternate", "type": "text/html", "title": "This collection as HTML",
         "href": c.url(base, {"f": "html"})},
        {"rel": f"{OGC_REL}/coverage", "type": "image/tiff; application=geotiff",
         "title": "Coverage (GeoTIFF, EPSG:4326; subset with bbox)",
         "href": c.url(f"{base}/coverage", {"f": "tif"})},
        {"rel": f"{OGC_REL}/tilesets-map", "type": JSON, "title": "Map tiles (PNG)",
         "href": c.url(f"{base}/map/tiles/WebMercatorQuad")},
        {"rel": "describedby", "type": JSON, "title": "Legend, units, value and zonal "
         "statistics endpoints", "href": c.url(f"/api/rasters/{info.id}")},
    ]
    if info.licence:
        links.append(_licence_link(info))
    links.append(_iso_link(c, info))
    return {**_described(info, "coverage"),
            "extent": {"spatial": {"bbox": [info.bbox] if info.bbox else [], "crs": CRS84}},
            "crs": [CRS84], "storageCrs": CRS84, "links": links}


def _iso_link(c: Ctx, layer: LayerInfo) -> dict:
    return {"rel": "describedby", "type": "application/xml",
            "title": "ISO 19115 metadata (ISO 19139 XML)",
            "href": c.url(f"/ogc/collections/{layer.id}/metadata.xml")}


def _licence_link(layer: LayerInfo) -> dict:
    return {"rel": "license", "type": "text/html", "title": layer.licence,
            "href": f"https://spdx.org/licenses/{layer.licence}.html"}


async def _raster(c: Ctx, layer_id: str) -> LayerInfo | None:
    """The raster layer ``layer_id`` if this caller may see it."""
    try:
        return layer_for(c.who, c.raster_layers(), layer_id)
    except LayerHidden:
        return None


def _rfc3339(value: str | None) -> str | None:
    if value is None:
        return None
    return f"{value}T00:00:00Z" if len(value) == 10 else value.replace(" ", "T")


def _collections_etag(who: Principal, layers: list[LayerInfo], fmt: str, query: str) -> str:
    return etag_for("collections", who.cache_scope, fmt, query,
                    *(f"{x.id}:{x.current_version}:{x.definition_sha}" for x in layers))


@router.get("", summary="The layers (collections) you may see", response_class=JSONResponse)
async def collections(request: Request, f: str | None = None, c: Ctx = Depends(ctx)):
    fmt = negotiate(request, {"geojson", "html"})
    # the feature collections only: GDAL's OAPIF driver (so QGIS) takes every listed
    # collection for a feature layer whatever its itemType, and then fails on its items;
    # rasters are listed at /api/rasters, each one a coverage collection at /ogc/collections/{id}
    layers = visible_layers(c.who, c.layers)
    rasters = visible_layers(c.who, c.raster_layers())  # in the catalogue's extent
    etag = _collections_etag(c.who, layers + rasters, fmt, request.url.query)
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    # and the catalogue of datasets (OGC API - Records), a collection of itemType record
    docs = [collection_doc(c, x) for x in layers] + [records.catalogue_doc(
        c, [dataset_metadata(x, c.who) for x in layers + rasters])]
    doc = {"links": [
        {"rel": "self", "type": JSON, "title": "This document", "href": c.url("/ogc/collections")},
        {"rel": "alternate", "type": "text/html", "title": "This document as HTML",
         "href": c.url("/ogc/collections", {"f": "html"})}],
        "collections": docs, "crs": CRS_LIST}
    headers = cache_headers(c.who, etag)
    if fmt == "html":
        for d in docs:
            d["html"] = c.url(f"/ogc/collections/{d['id']}", {"f": "html"})
        return page(request, "collections.html", "Lớp dữ liệu / Collections", doc,
                    c.url("/ogc/collections", {"f": "json"}), headers)
    return JSONResponse(doc, headers=headers)


@router.get("/{collectionId}", summary="One collection", response_class=JSONResponse)
async def collection(request: Request, collection_id: str = CollectionId,
                     f: str | None = None, c: Ctx = Depends(ctx)):
    fmt = negotiate(request, {"geojson", "html"})
    raster = None if collection_id in c.layers else await _raster(c, collection_id)
    layer = raster or c.layer(collection_id)
    etag = _collections_etag(c.who, [layer], fmt, request.url.query)
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    doc = raster_collection_doc(c, layer) if raster else collection_doc(c, layer)
    headers = cache_headers(c.who, etag)
    if fmt == "html":
        return page(request, "collection.html", layer.title_vi, doc,
                    c.url(f"/ogc/collections/{layer.id}", {"f": "json"}), headers,
                    [("collections", c.url("/ogc/collections", {"f": "html"}))])
    return JSONResponse(doc, headers=headers)


@router.get("/{collectionId}/queryables", summary="Properties usable in filters",
            response_class=JSONResponse)
async def queryables(request: Request, collection_id: str = CollectionId,
                     f: str | None = None, c: Ctx = Depends(ctx)):
    fmt = negotiate(request, {"geojson", "html"})
    layer = c.layer(collection_id)
    etag = _collections_etag(c.who, [layer], f"q{fmt}", request.url.query)
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    gtype = GEOMETRY_SCHEMA.get(layer.geometry_type, "any")
    props: dict[str, dict] = {"geom": {"title": "Geometry", "format": f"geometry-{gtype}",
                                       "x-ogc-role": "primary-geometry"}}
    for name, col in visible_columns(c.who, layer).items():
        p = {"title": col.title_en, "x-title-vi": col.title_vi, **JSON_SCHEMA_TYPES[col.type]}
        if col.description:
            p["description"] = col.description
        if col.unit:
            p["x-ogc-unit"] = col.unit
        if name == layer.time_field:
            p["x-ogc-role"] = "primary-instant"
        props[name] = p
    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "$id": c.url(f"/ogc/collections/{layer.id}/queryables"),
           "type": "object", "title": layer.title_en, "properties": props,
           "additionalProperties": False}
    headers = cache_headers(c.who, etag)
    if fmt == "html":
        return page(request, "queryables.html", f"Queryables · {layer.title_vi}", doc,
                    c.url(f"/ogc/collections/{layer.id}/queryables", {"f": "json"}), headers,
                    [("collections", c.url("/ogc/collections", {"f": "html"})),
                     (layer.id, c.url(f"/ogc/collections/{layer.id}", {"f": "html"}))])
    return JSONResponse(doc, headers=headers, media_type="application/schema+json")
