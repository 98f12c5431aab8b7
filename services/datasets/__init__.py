"""Dataset pages for open data (/datasets, /datasets/{id}): one readable page per layer the
caller may see (vi/en with ``?lang=``), made from ``services.metadata.dataset_metadata`` —
the same metadata as the Records catalogue, DCAT-AP and ISO 19139 — with a map preview on
the vendored MapLibre and this service's own tiles and style, the data dictionary with the
meanings of code lists, quality (last load, counts, rejected rows, CRS operation), licence,
contact, update frequency, lineage, and every API, download and metadata link. A layer the
caller may not see answers 404, like its collection. Layer text reaches the page only through
Jinja2's autoescaping (and ``tojson`` inside the script)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from gis.codelists import CODELISTS
from gis.layerdef import CATALOGUE_ID, VectorLayerDef
from services.access import LayerHidden, layer_for, visible_layers
from services.datasets.labels import DOMAIN, FREQUENCY, TOPIC, TYPE
from services.metadata import DatasetMetadata, dataset_links, dataset_metadata
from services.ogc.errors import InvalidParameter, NotFound
from services.ogc.http import Ctx, cache_headers, conditional, etag_for, file_ctx
from services.ogc.paramspec import Params, path_text, text
from services.ogc.paramspec import openapi as openapi_params

router = APIRouter(tags=["Dataset pages"])
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).resolve().parent / "templates"))
LANG = Params(text("lang", "Language of the page (default vi)", enum=["vi", "en"]),
              strict=False)
DATASET_ID = Params(path_text("datasetId", "Dataset (layer) id, e.g. cadastral_parcels",
                              maxLength=100))
MAX_CODES = 200  # code-list entries listed on a page


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang", "vi")
    if lang not in ("vi", "en"):
        raise InvalidParameter(f"lang={lang[:20]!r}: use vi or en")
    return lang


def _infos(c: Ctx) -> list:
    return sorted(visible_layers(c.who, c.layers) + visible_layers(c.who, c.raster_layers()),
                  key=lambda i: i.id)


def _etag(c: Ctx, *parts) -> str:
    return etag_for("dataset-page", c.who.cache_scope, *parts,
                    *(f"{i.id}:{i.current_version}:{i.definition_sha}" for i in _infos(c)),
                    c.url("/"))


def _codelist(name: str | None) -> dict | None:
    cl = CODELISTS.get(name) if name else None
    if cl is None:
        return None
    entries = [e for e in cl if not e.aggregate][:MAX_CODES]
    return {"name": cl.name, "vi": cl.vi, "en": cl.en, "versions": list(cl.versions),
            "entries": [{"code": e.code, "vi": e.vi, "en": e.en, "color": e.color,
                         "version": e.version} for e in entries],
            "more": len(cl) - len(entries)}


def _page_links(c: Ctx, md: DatasetMetadata) -> dict[str, list[dict]]:
    """Every link of the dataset by kind: the shared ones (services.metadata), then those of
    the catalogue documents and the style formats."""
    groups: dict[str, list[dict]] = {"api": [], "download": [], "metadata": []}
    for link in dataset_links(md, c.url):
        groups.setdefault(link.kind, []).append({"title": link.title, "href": link.href,
                                                 "type": link.type})
    if md.kind == "vector":
        tiles = f"/ogc/collections/{md.id}/tiles/WebMercatorQuad"
        groups["api"] += [
            {"title": "TileJSON", "href": c.url(tiles, {"f": "tilejson"}),
             "type": "application/vnd.mapbox.tilejson+json"},
            {"title": "Vector tiles, XYZ (GDAL: MVT:…)",
             "href": c.url(tiles) + "/xyz/{z}/{x}/{y}.pbf",
             "type": "application/vnd.mapbox-vector-tile"},
            {"title": "Style: OGC SLD 1.1", "href": c.url(f"/ogc/styles/{md.id}", {"f": "sld"}),
             "type": "application/vnd.ogc.sld+xml"},
            {"title": "Style: QGIS QML", "href": c.url(f"/ogc/styles/{md.id}", {"f": "qml"}),
             "type": "application/vnd.qgis.qml+xml"},
            {"title": "Legend (JSON)", "href": c.url(f"/ogc/styles/{md.id}/legend"),
             "type": "application/json"},
            {"title": "Queryables (JSON Schema)",
             "href": c.url(f"/ogc/collections/{md.id}/queryables"),
             "type": "application/schema+json"}]
        groups["download"].insert(0, {
            "title": "Download: GeoJSON", "type": "application/geo+json",
            "href": c.url(f"/ogc/collections/{md.id}/items", {"f": "geojson",
                                                               "limit": 10_000})})
    record = f"/ogc/collections/{CATALOGUE_ID}/items/{md.id}"
    groups["metadata"] += [
        {"title": "OGC API - Records (JSON)", "href": c.url(record),
         "type": "application/geo+json"},
        {"title": "OGC API - Records (HTML)", "href": c.url(record, {"f": "html"}),
         "type": "text/html"},
        {"title": "DCAT-AP (JSON-LD)", "href": c.url("/catalog.jsonld"),
         "type": "application/ld+json"},
        {"title": "DCAT-AP (Turtle)", "href": c.url("/catalog.ttl"), "type": "text/turtle"}]
    return groups


def _preview(c: Ctx, md: DatasetMetadata) -> dict:
    """What the page's script needs to draw the dataset with this service's tiles."""
    d = md.definition
    out = {"bounds": md.bbox, "minzoom": d.tiles.min_zoom, "maxzoom": d.tiles.max_zoom}
    if md.kind == "vector":
        out["style"] = c.url(f"/ogc/styles/{md.id}", {"f": "mapbox"})
        out["items"] = c.url(f"/ogc/collections/{md.id}/items", {"f": "json", "limit": 1,
                                                                  "properties": ""})
    else:
        out["raster"] = c.url(f"/ogc/collections/{md.id}/map/tiles/WebMercatorQuad") + \
            "/{z}/{y}/{x}?f=png"
        out["opacity"] = d.style.opacity
    return out


def _render(request: Request, c: Ctx, template: str, etag: str, **context):
    lang = _lang(request)
    other = "en" if lang == "vi" else "vi"
    return TEMPLATES.TemplateResponse(request, template, {
        "L": lang, "O": other, "DOMAIN": DOMAIN, "FREQUENCY": FREQUENCY, "TOPIC": TOPIC,
        "TYPE": TYPE, "home": c.url("/"), "index": c.url("/datasets"),
        "static": c.url("/static"), **context},
        headers=cache_headers(c.who, etag, 60))


@router.get("/datasets", summary="Dataset pages: the open data the caller may see (HTML)",
            response_class=HTMLResponse, openapi_extra=openapi_params(LANG),
            responses={200: {"content": {"text/html": {}}}})
async def datasets_index(request: Request, c: Ctx = Depends(file_ctx)):
    lang = _lang(request)
    etag = _etag(c, "index", lang)
    if (resp := conditional(request, c.who, etag, 60)) is not None:
        return resp
    datasets = [dataset_metadata(i, c.who) for i in _infos(c)]
    return _render(request, c, "datasets.html", etag, datasets=datasets,
                   catalogue=c.url(f"/ogc/collections/{CATALOGUE_ID}", {"f": "html"}),
                   dcat=c.url("/catalog.jsonld"), dcat_ttl=c.url("/catalog.ttl"))


@router.get("/datasets/{datasetId}", summary="A dataset's page (HTML)",
            response_class=HTMLResponse, openapi_extra=openapi_params(DATASET_ID, LANG))
async def dataset_page(request: Request, c: Ctx = Depends(file_ctx)):
    lang = _lang(request)
    wanted = request.path_params["datasetId"]
    info = None
    for layers in (c.layers, c.raster_layers()):
        try:
            info = layer_for(c.who, layers, wanted)
            break
        except LayerHidden:
            continue
    if info is None:  # missing and not visible look the same
        raise NotFound(f"no dataset {wanted[:100]!r}; the list is at {c.url('/datasets')}")
    etag = _etag(c, "one", info.id, lang)
    if (resp := conditional(request, c.who, etag, 60)) is not None:
        return resp
    md = dataset_metadata(info, c.who)
    fields = []
    if isinstance(md.definition, VectorLayerDef):
        fields = [{"f": f, "codelist": _codelist(f.codelist)} for f in md.fields]
    legend = None
    if md.kind == "raster":
        from services.raster.render import legend as raster_legend

        legend = raster_legend(md.definition)
    return _render(request, c, "dataset.html", etag, md=md, fields=fields, legend=legend,
                   links=_page_links(c, md), preview=_preview(c, md),
                   record=c.url(f"/ogc/collections/{CATALOGUE_ID}/items/{md.id}"))
