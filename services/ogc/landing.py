"""Landing page (/ogc) and conformance declaration (/ogc/conformance)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from services.ogc.html import page
from services.ogc.http import HTML, JSON, OPENAPI, Ctx, cache_headers, ctx
from services.ogc.params import DOCUMENT
from services.ogc.records import BASE as CATALOGUE
from services.ogc.records import CATALOGUE_DOCS
from services.ogc.records import CONFORMANCE as RECORDS_CONFORMANCE

router = APIRouter(prefix="/ogc", tags=["Capabilities"])

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    # Part 4 (draft): on the collections whose layer file allows edits
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/spatial-functions",
    "http://www.opengis.net/spec/cql2/1.0/conf/temporal-functions",
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
    # OGC API - Common: raster layers are coverage collections too (/ogc/collections/{id})
    "http://www.opengis.net/spec/ogcapi-common-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-common-2/1.0/conf/collections",
    # OGC API - Tiles: vector tiles per collection and of all layers, raster map tiles
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png",
    # OGC API - Styles (draft): MapLibre/Mapbox style and SLD 1.1 per layer
    "http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/mapbox-style",
    "http://www.opengis.net/spec/ogcapi-styles-1/1.0/conf/sld-11",
    # OGC API - Records: the catalogue of datasets (services.ogc.records)
    *RECORDS_CONFORMANCE,
]
OGC_REL = "http://www.opengis.net/def/rel/ogc/1.0"


@router.get("", summary="Landing page", response_class=JSONResponse,
            openapi_extra=DOCUMENT.openapi())
@router.get("/", include_in_schema=False)
async def landing(request: Request, c: Ctx = Depends(ctx)):
    fmt = DOCUMENT.format(request.query_params, request.headers.get("accept", ""))
    doc = {
        "title": "SPP Cần Thơ — Nền tảng quy hoạch không gian / Spatial Planning Platform",
        "description": "Dữ liệu không gian của thành phố Cần Thơ theo chuẩn OGC API - Features, "
                       "Tiles, Styles (WGS 84; VN-2000 qua EPSG:6960). / Spatial data of Cần Thơ "
                       "city as OGC API - Features, Tiles and Styles.",
        "links": [
            {"rel": "self", "type": JSON, "title": "This document", "href": c.url("/ogc")},
            {"rel": "alternate", "type": "text/html", "title": "This document as HTML",
             "href": c.url("/ogc", {"f": "html"})},
            {"rel": "service-desc", "type": OPENAPI, "title": "API definition (OpenAPI 3.0)",
             "href": c.url("/ogc/openapi")},
            {"rel": "service-doc", "type": "text/html", "title": "API documentation",
             "href": c.url("/ogc/docs")},
            {"rel": "conformance", "type": JSON, "title": "Conformance classes",
             "href": c.url("/ogc/conformance")},
            {"rel": "data", "type": JSON, "title": "Collections (layers)",
             "href": c.url("/ogc/collections")},
            {"rel": f"{OGC_REL}/tilesets-vector", "type": JSON,
             "title": "Vector tiles of all layers (OGC API - Tiles)", "href": c.url("/ogc/tiles")},
            {"rel": f"{OGC_REL}/tiling-schemes", "type": JSON, "title": "Tile matrix sets",
             "href": c.url("/ogc/tileMatrixSets")},
            {"rel": f"{OGC_REL}/styles", "type": JSON, "title": "Styles (OGC API - Styles)",
             "href": c.url("/ogc/styles")},
            {"rel": "related", "type": "text/html",
             "title": "Trang dữ liệu mở / Dataset pages (open data)",
             "href": c.url("/datasets")},
            {"rel": "related", "type": JSON, "title": "Raster layers (coverages, map tiles); "
             "each one is a collection at /ogc/collections/{id}", "href": c.url("/api/rasters")},
            {"rel": f"{OGC_REL}/ogc-catalog-searchable", "type": JSON,
             "title": "Danh mục dữ liệu / Data catalogue (OGC API - Records)",
             "href": c.url(CATALOGUE)},
            {"rel": "search", "type": "application/geo+json",
             "title": "Search the catalogue's records (q, bbox, datetime, type, keywords)",
             "href": c.url(f"{CATALOGUE}/items")},
            *({"rel": "describedby", "type": mime, "title": title, "href": c.url(path)}
              for path, mime, title in CATALOGUE_DOCS),
        ],
    }
    headers = cache_headers(c.who, None, 60)
    if fmt == "html":
        return page(request, "landing.html", "SPP Cần Thơ — OGC API - Features", doc,
                    c.url("/ogc", {"f": "json"}), headers)
    return JSONResponse(doc, headers=headers)


@router.get("/conformance", summary="Conformance classes", response_class=JSONResponse,
            openapi_extra=DOCUMENT.openapi())
async def conformance(request: Request, c: Ctx = Depends(ctx)):
    fmt = DOCUMENT.format(request.query_params, request.headers.get("accept", ""))
    doc = {"conformsTo": CONFORMANCE}
    headers = cache_headers(c.who, None, 3600)
    if fmt == "html":
        return page(request, "conformance.html", "Conformance", doc,
                    c.url("/ogc/conformance", {"f": "json"}), headers)
    return JSONResponse(doc, headers=headers)


__all__ = ["router", "HTML"]
