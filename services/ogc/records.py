"""OGC API - Records - Part 1: the catalogue of the platform's datasets, a record collection at
``/ogc/collections/<CATALOGUE_ID>`` (the id no layer may take), searchable at ``.../items``
with ``q``, ``bbox``, ``datetime``, ``type``, ``keywords`` and ``ids``; JSON and HTML.

One record per dataset (vector or raster layer) the caller may see: the same access rule as
the collections (restricted layers are absent for the public). A record is made from
``services.metadata.dataset_metadata`` and links to the dataset's collection, features,
tiles, style, downloads and metadata documents (ISO 19139, DCAT-AP). The catalogue holds one
record per layer, a few dozen: it is filtered in memory, every parameter bounded.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import JSONResponse, Response

from gis.layerdef import CATALOGUE_ID
from gis.text.normalize import fold_diacritics
from services.access import visible_layers
from services.metadata import DatasetMetadata, dataset_links, dataset_metadata
from services.ogc.crs import CRS84, parse_crs
from services.ogc.errors import InvalidParameter, NotFound
from services.ogc.html import page
from services.ogc.http import GEOJSON, JSON, Ctx, cache_headers, conditional, ctx, etag_for
from services.ogc.params import JSON_OR_HTML, _as_dt, parse_bbox, parse_datetime
from services.ogc.paramspec import Formats, Param, Params, integer, text

router = APIRouter(prefix=f"/ogc/collections/{CATALOGUE_ID}", tags=["Catalogue"])
BASE = f"/ogc/collections/{CATALOGUE_ID}"
RECORDS_CONF = "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf"
CONFORMANCE = [f"{RECORDS_CONF}/{c}" for c in (
    "core", "record-core", "record-collection", "record-core-query-parameters", "records-api",
    "json", "html", "oas30")]
RECORD_CONFORMS = [f"{RECORDS_CONF}/record-core"]
RECORD_TYPES = {"dataset"}  # ISO 19115 MD_ScopeCode: every layer is a dataset
ISO_TOPICS = ("https://standards.iso.org/iso/19139/resources/gmxCodelists.xml"
              "#MD_TopicCategoryCode")
ISO_FREQUENCY = ("https://standards.iso.org/iso/19139/resources/gmxCodelists.xml"
                 "#MD_MaintenanceFrequencyCode")
MAX_TERMS = 20  # comma-separated alternatives of q, keywords, type, ids
MAX_TERM = 100  # characters of one alternative
SORTABLES = {"id", "title", "updated", "created"}
CATALOGUE_DOCS = [("/catalog.jsonld", "application/ld+json", "DCAT-AP catalogue (JSON-LD)"),
                  ("/catalog.ttl", "text/turtle", "DCAT-AP catalogue (Turtle)"),
                  ("/catalog.rdf", "application/rdf+xml", "DCAT-AP catalogue (RDF/XML)")]

RECORDS = Params(
    Formats(JSON_OR_HTML),
    integer("limit", "Records a page holds at most", 1, 1000, 10),
    integer("offset", "Records skipped (the 'next' and 'prev' links carry it)", 0, 100_000, 0),
    Param("bbox", "minlon,minlat,maxlon,maxlat (CRS84): records whose extent meets the box",
          {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
          extra={"style": "form", "explode": False}),
    text("datetime", "An instant or an interval (a/b, ../b, a/..): records whose time (the "
         "dataset's time-field extent; datasets without a time field have none) meets it"),
    text("q", "Search terms, case and accents ignored: 'a,b' either, 'a b' the phrase",
         maxLength=MAX_TERMS * (MAX_TERM + 1)),
    text("type", "Record types, comma-separated (dataset)", maxLength=MAX_TERMS * (MAX_TERM + 1)),
    text("keywords", "Keywords, comma-separated: records with any of them (case and accents "
         "ignored)", maxLength=MAX_TERMS * (MAX_TERM + 1)),
    text("ids", "Record ids, comma-separated", maxLength=MAX_TERMS * (MAX_TERM + 1)),
    text("sortby", "id, title, created or updated, + or - (default: id)", maxLength=200))
ONE = Params(Formats(JSON_OR_HTML))
RecordId = Path(..., alias="recordId", description="Record id (the dataset's layer id)")


# -- parameters ------------------------------------------------------------------------------
def _values(name: str, value: str, fold: bool = True) -> list[str]:
    """Comma-separated alternatives (folded: lower case, no diacritics, single spaces)."""
    raw = value.split(",")
    if len(raw) > MAX_TERMS:
        raise InvalidParameter(f"{name}: at most {MAX_TERMS} comma-separated values, "
                               f"not {len(raw)}")
    out = []
    for term in raw:
        if len(term) > MAX_TERM:
            raise InvalidParameter(f"{name}: a value may have at most {MAX_TERM} characters")
        term = fold_diacritics(term) if fold else term.strip()
        if term:
            out.append(term)
    if not out:
        raise InvalidParameter(f"{name}={value[:40]!r}: give at least one non-empty value")
    return out


class Search:
    """A parsed records query; ``matches`` tells whether a record meets every criterion."""

    def __init__(self, params):
        given = RECORDS.given(params)
        get = given.get
        self.limit = RECORDS["limit"].integer(get("limit"))
        self.offset = RECORDS["offset"].integer(get("offset"))
        self.bbox = parse_bbox(given["bbox"], parse_crs(None, "bbox-crs")) \
            if get("bbox") is not None else None
        self.interval = parse_datetime(given["datetime"]) if get("datetime") is not None \
            else None
        self.q = _values("q", given["q"]) if get("q") is not None else None
        self.types = _values("type", given["type"]) if get("type") is not None else None
        self.keywords = set(_values("keywords", given["keywords"])) \
            if get("keywords") is not None else None
        self.ids = set(_values("ids", given["ids"], fold=False)) \
            if get("ids") is not None else None
        self.sortby = _sortby(get("sortby"))

    def matches(self, md: DatasetMetadata) -> bool:
        if self.ids is not None and md.id not in self.ids:
            return False
        if self.types is not None and not RECORD_TYPES & set(self.types):
            return False
        if self.keywords is not None and not self.keywords & {
                fold_diacritics(k) for k in md.keywords}:
            return False
        if self.q is not None:
            text = _searched_text(md)
            if not any(term in text for term in self.q):
                return False
        if self.bbox is not None:
            if md.bbox is None:
                return False
            x0, y0, x1, y1 = self.bbox
            if md.bbox[0] > x1 or md.bbox[2] < x0 or md.bbox[1] > y1 or md.bbox[3] < y0:
                return False
        if self.interval is not None:
            span = _span(md)
            if span is None:
                return False
            lo, hi = self.interval
            if (hi is not None and span[0] > _as_dt(hi, True)) or (
                    lo is not None and span[1] < _as_dt(lo, False)):
                return False
        return True


def _sortby(value: str | None) -> list[tuple[str, bool]]:
    if value is None:
        return [("id", False)]
    out = []
    for item in value.split(",")[:len(SORTABLES) + 1]:
        item = item.strip()
        name = item.lstrip("+-").strip()
        if name not in SORTABLES:
            raise InvalidParameter(f"sortby: {name[:40]!r} is not sortable; use "
                                   f"{', '.join(sorted(SORTABLES))}, each +name or -name")
        out.append((name, item.startswith("-")))
    return out


def _searched_text(md: DatasetMetadata) -> str:
    """What q searches: id, titles, abstracts, keywords, owner, topic, lineage (vi and en)."""
    parts = [md.id, md.id.replace("_", " "), md.title.vi, md.title.en, md.description.vi,
             md.description.en, *md.keywords, md.owner.vi, md.owner.en, md.topic,
             md.lineage_statement.vi, md.lineage_statement.en]
    return fold_diacritics(" | ".join(parts))


def _instant(value: str) -> datetime | None:
    """A time-field bound as the catalog gives it (PostgreSQL text of a date or timestamp)."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), tzinfo=UTC)
        t = datetime.fromisoformat(value)
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _span(md: DatasetMetadata) -> tuple[datetime, datetime] | None:
    if not md.temporal or md.temporal[0] is None or md.temporal[1] is None:
        return None
    lo, hi = _instant(md.temporal[0]), _instant(md.temporal[1])
    if lo is None or hi is None:
        return None
    if len(md.temporal[1]) == 10:  # a date lasts the whole day
        hi = datetime.combine(hi.date(), datetime.max.time(), tzinfo=UTC)
    return lo, hi


# -- documents -------------------------------------------------------------------------------
def _rfc3339(t: datetime | None) -> str | None:
    return None if t is None else t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _time_value(value: str) -> str:
    return value if len(value) == 10 else (_rfc3339(_instant(value)) or value)


def _contacts(md: DatasetMetadata) -> list[dict]:
    c = md.contact
    point = {"name": c.name.vi, "organization": md.owner.vi,
             "emails": [{"value": str(c.email)}], "roles": ["pointOfContact"],
             "description": c.name.en}
    phone = re.sub(r"[ ().-]", "", c.phone or "")
    if re.fullmatch(r"\+[1-9][0-9]{3,14}", phone):
        point["phones"] = [{"value": phone}]
    owner = {"organization": md.owner.vi, "description": md.owner.en,
             "roles": ["owner", "publisher"]}
    return [point, owner]


def record(c: Ctx, md: DatasetMetadata) -> dict:
    """The record of one dataset (a GeoJSON feature of OGC API - Records)."""
    here = f"{BASE}/items/{md.id}"
    links = [{"rel": "self", "type": GEOJSON, "title": "This record", "href": c.url(here)},
             {"rel": "alternate", "type": "text/html", "title": "This record as HTML",
              "href": c.url(here, {"f": "html"})},
             {"rel": "collection", "type": JSON, "title": "The catalogue",
              "href": c.url(BASE)}]
    links += [link.as_dict() for link in dataset_links(md, c.url)]
    geometry = None
    if md.bbox:
        x0, y0, x1, y1 = md.bbox
        geometry = {"type": "Polygon",
                    "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]}
    time = None
    if md.temporal and md.temporal[0] and md.temporal[1]:
        time = {"interval": [_time_value(md.temporal[0]), _time_value(md.temporal[1])]}
    load = md.load
    props = {
        "type": "dataset", "title": md.title.vi, "description": md.description.vi,
        "titles": {"vi": md.title.vi, "en": md.title.en},
        "descriptions": {"vi": md.description.vi, "en": md.description.en},
        "language": {"code": "vi", "name": "Tiếng Việt", "alternate": "Vietnamese"},
        "languages": [{"code": "vi", "name": "Tiếng Việt"}, {"code": "en", "name": "English"}],
        "resourceLanguages": [{"code": "vi", "name": "Tiếng Việt"}],
        "keywords": md.keywords,
        "themes": [{"concepts": [{"id": md.topic}], "scheme": ISO_TOPICS},
                   {"concepts": [{"id": md.domain}], "scheme": c.url(BASE) + "#domain"}],
        "contacts": _contacts(md),
        "license": md.licence or "other",
        "created": _rfc3339(md.created), "updated": _rfc3339(md.updated),
        "formats": _formats(md),
        "spp:access": md.access_level,
        "spp:updateFrequency": {"code": md.update_frequency, "scheme": ISO_FREQUENCY},
        "spp:lineage": {"vi": md.lineage_statement.vi, "en": md.lineage_statement.en},
        "spp:quality": {
            "version": md.version, "geometryType": md.geometry_type,
            "featureCount": md.feature_count, "crs": md.crs,
            "sourceFormat": load.source_format, "sourceCrs": load.source_crs,
            "crsOperation": load.operation, "read": load.count_read,
            "loaded": load.count_loaded, "rejected": load.count_rejected,
            "repaired": load.count_repaired, "lastLoad": _rfc3339(load.finished_at)},
    }
    if md.licence == "proprietary":
        props["rights"] = ("Không phải dữ liệu mở: chỉ các đơn vị được phép sử dụng. / "
                           "Not open data: for the departments allowed only.")
    return {"type": "Feature", "id": md.id, "conformsTo": RECORD_CONFORMS,
            "geometry": geometry, "time": time, "properties": props, "links": links}


def _formats(md: DatasetMetadata) -> list[dict]:
    if md.kind == "raster":
        return [{"name": "GeoTIFF", "mediaType": "image/tiff; application=geotiff"},
                {"name": "PNG map tiles", "mediaType": "image/png"}]
    return [{"name": "GeoJSON", "mediaType": GEOJSON}, {"name": "CSV", "mediaType": "text/csv"},
            {"name": "GeoPackage", "mediaType": "application/geopackage+sqlite3"},
            {"name": "Shapefile", "mediaType": "application/zip"},
            {"name": "Mapbox Vector Tiles", "mediaType": "application/vnd.mapbox-vector-tile"}]


def _union(boxes) -> list[float]:
    boxes = [b for b in boxes if b]
    if not boxes:
        return [-180.0, -90.0, 180.0, 90.0]
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes),
            max(b[3] for b in boxes)]


def catalogue_doc(c: Ctx, datasets: list[DatasetMetadata]) -> dict:
    """The record collection (a catalogue of OGC API - Records) as a collection."""
    links = [
        {"rel": "self", "type": JSON, "title": "This catalogue", "href": c.url(BASE)},
        {"rel": "alternate", "type": "text/html", "title": "This catalogue as HTML",
         "href": c.url(BASE, {"f": "html"})},
        {"rel": "items", "type": GEOJSON, "title": "Records (GeoJSON)",
         "href": c.url(f"{BASE}/items")},
        {"rel": "items", "type": "text/html", "title": "Records (HTML)",
         "href": c.url(f"{BASE}/items", {"f": "html"})},
        {"rel": "http://www.opengis.net/def/rel/ogc/1.0/queryables",
         "type": "application/schema+json", "title": "Queryables",
         "href": c.url(f"{BASE}/queryables")},
    ]
    links += [{"rel": "alternate", "type": mime, "title": title, "href": c.url(path)}
              for path, mime, title in CATALOGUE_DOCS]
    return {
        "id": CATALOGUE_ID, "type": "Catalog", "itemType": "record",
        "title": "Danh mục dữ liệu SPP Cần Thơ",
        "description": "Siêu dữ liệu các bộ dữ liệu không gian của thành phố Cần Thơ "
                       "(OGC API - Records). / Metadata records of the spatial datasets of "
                       "Cần Thơ city.",
        "titles": {"vi": "Danh mục dữ liệu SPP Cần Thơ",
                   "en": "SPP Cần Thơ data catalogue"},
        "keywords": ["danh mục dữ liệu", "siêu dữ liệu", "dữ liệu mở", "catalogue",
                     "metadata", "open data", "Cần Thơ"],
        "language": {"code": "vi"},
        "languages": [{"code": "vi"}, {"code": "en"}],
        "conformsTo": CONFORMANCE,
        "extent": {"spatial": {"bbox": [_union(md.bbox for md in datasets)], "crs": CRS84}},
        "crs": [CRS84], "storageCrs": CRS84,
        "links": links,
    }


# -- routes ----------------------------------------------------------------------------------
def _datasets(c: Ctx) -> list[DatasetMetadata]:
    infos = visible_layers(c.who, c.layers) + visible_layers(c.who, c.raster_layers())
    return [dataset_metadata(info, c.who) for info in infos]


def _etag(c: Ctx, fmt: str, query: str) -> str:
    infos = sorted([*c.layers.values(), *c.raster_layers().values()], key=lambda i: i.id)
    return etag_for("records", c.who.cache_scope, fmt, query,
                    *(f"{x.id}:{x.current_version}:{x.definition_sha}" for x in infos))


@router.get("", summary="The catalogue (record collection)", response_class=JSONResponse,
            openapi_extra=ONE.openapi())
async def catalogue(request: Request, c: Ctx = Depends(ctx)):
    fmt = ONE.format(request.query_params, request.headers.get("accept", ""))
    ONE.given(request.query_params)
    headers = cache_headers(c.who, None, 60)
    doc = catalogue_doc(c, _datasets(c))
    if fmt == "html":
        return page(request, "catalogue.html", doc["title"], doc, c.url(BASE, {"f": "json"}),
                    headers, [("collections", c.url("/ogc/collections", {"f": "html"}))])
    return JSONResponse(doc, headers=headers)


@router.get("/queryables", summary="What the catalogue's records can be searched by",
            response_class=JSONResponse, openapi_extra=ONE.openapi())
async def queryables(request: Request, c: Ctx = Depends(ctx)):
    fmt = ONE.format(request.query_params, request.headers.get("accept", ""))
    ONE.given(request.query_params)
    doc = {"$schema": "https://json-schema.org/draft/2020-12/schema",
           "$id": c.url(f"{BASE}/queryables"), "type": "object",
           "title": "Danh mục dữ liệu / Data catalogue", "additionalProperties": False,
           "properties": {
               "geometry": {"title": "Extent (bbox=)", "format": "geometry-polygon",
                            "x-ogc-role": "primary-geometry"},
               "time": {"title": "Time extent (datetime=)", "x-ogc-role": "primary-interval"},
               "type": {"title": "Record type (type=)", "type": "string",
                        "enum": sorted(RECORD_TYPES)},
               "keywords": {"title": "Keywords (keywords=)", "type": "array",
                            "items": {"type": "string"}}}}
    headers = cache_headers(c.who, None, 3600)
    if fmt == "html":
        return page(request, "queryables.html", "Queryables · catalog", doc,
                    c.url(f"{BASE}/queryables", {"f": "json"}), headers,
                    [("catalog", c.url(BASE, {"f": "html"}))])
    return JSONResponse(doc, headers=headers, media_type="application/schema+json")


@router.get("/items", summary="Search the catalogue's records", response_class=Response,
            responses={200: {"content": {GEOJSON: {}, "text/html": {}}}},
            openapi_extra=RECORDS.openapi())
async def records(request: Request, c: Ctx = Depends(ctx)):
    fmt = RECORDS.format(request.query_params, request.headers.get("accept", ""))
    search = Search(request.query_params)
    etag = _etag(c, fmt, request.url.query)
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    found = [md for md in _datasets(c) if search.matches(md)]
    for key, desc in reversed(search.sortby):
        found.sort(key=lambda md, k=key: _sort_key(md, k), reverse=desc)
    page_ = found[search.offset:search.offset + search.limit]
    features = [record(c, md) for md in page_]
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "f")]

    def at(offset: int, f: str | None = None) -> str:
        more = [("offset", offset)] if offset else []
        return c.url(f"{BASE}/items", [*params, *more, *([("f", f)] if f else [])] or None)

    links = [{"rel": "self", "type": GEOJSON, "title": "This page",
              "href": at(search.offset, "json")},
             {"rel": "alternate", "type": "text/html", "title": "This page as HTML",
              "href": at(search.offset, "html")},
             {"rel": "collection", "type": JSON, "title": "The catalogue",
              "href": c.url(BASE)}]
    pages = {}
    if search.offset + search.limit < len(found):
        pages["next"] = search.offset + search.limit
    if search.offset > 0:
        pages["prev"] = max(search.offset - search.limit, 0)
    for rel, offset in pages.items():
        links.append({"rel": rel, "type": GEOJSON, "title": f"{rel} page",
                      "href": at(offset, "json")})
    doc = {"type": "FeatureCollection", "features": features, "numberMatched": len(found),
           "numberReturned": len(features), "timeStamp": _rfc3339(datetime.now(UTC)),
           "links": links}
    headers = cache_headers(c.who, etag)
    if fmt == "html":
        for f in features:
            f["html"] = c.url(f"{BASE}/items/{f['id']}", {"f": "html"})
        return page(request, "records.html", "Danh mục dữ liệu / Data catalogue", doc,
                    at(search.offset, "json"), headers,
                    [("catalog", c.url(BASE, {"f": "html"}))],
                    query={k: request.query_params.get(k, "") for k in
                           ("q", "bbox", "datetime", "keywords")},
                    paging={rel: at(offset, "html") for rel, offset in pages.items()})
    return JSONResponse(doc, headers=headers, media_type=GEOJSON)


def _sort_key(md: DatasetMetadata, key: str):
    if key == "title":
        return fold_diacritics(md.title.vi)
    if key in ("updated", "created"):
        t = getattr(md, key)
        return t.timestamp() if t else 0.0
    return md.id


@router.get("/items/{recordId}", summary="One record", response_class=Response,
            responses={200: {"content": {GEOJSON: {}, "text/html": {}}}},
            openapi_extra=ONE.openapi())
async def one_record(request: Request, record_id: str = RecordId, c: Ctx = Depends(ctx)):
    fmt = ONE.format(request.query_params, request.headers.get("accept", ""))
    ONE.given(request.query_params)
    found = [md for md in _datasets(c) if md.id == record_id]
    if not found:
        raise NotFound(f"no record {record_id[:80]!r} in the catalogue; the records are at "
                       f"{c.url(BASE + '/items')}")
    etag = _etag(c, fmt, f"one:{record_id}")
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    doc = record(c, found[0])
    headers = cache_headers(c.who, etag)
    if fmt == "html":
        return page(request, "record.html", doc["properties"]["title"], doc,
                    c.url(f"{BASE}/items/{record_id}", {"f": "json"}), headers,
                    [("catalog", c.url(BASE, {"f": "html"})),
                     ("records", c.url(f"{BASE}/items", {"f": "html"}))])
    return JSONResponse(doc, headers=headers, media_type=GEOJSON)
