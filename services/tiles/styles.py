"""OGC API - Styles: the style list, one style a visible layer plus ``basemap`` (every visible
layer together, the city base map's layers at the bottom) and ``base`` (the city base map:
the layers whose ``map.base`` is set, in that order, labels on top; its metadata names the
outside base map ``SPP_BASEMAP_URL`` when the city configured one), as a MapLibre/Mapbox
style (``f=mapbox``, default), SLD 1.1 (``f=sld``) or QGIS QML (``f=qml``), and a JSON
legend.

Styles come from ``styles/<style>.json`` (``SPP_STYLES_DIR``; written by ``styles/build.py``);
a vector layer without a file gets the style made from its definition (``gis.styles``).
A full style's source ``spp`` is the multi-layer TileJSON of this service, absolute URL. A layer
the caller may not see (or that is not loaded) has no style here: 404, like its collection.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse

from gis.settings import get_settings
from gis.styles import GLYPHS_PATH, base_layers, compose_base
from gis.styles import build as build_style
from services.access import visible_layers
from services.catalog import LayerInfo
from services.ogc.errors import InvalidParameter, NotFound
from services.ogc.http import JSON, Ctx, cache_headers, conditional, ctx, etag_for
from services.tiles import export, mvt

router = APIRouter(prefix="/ogc/styles", tags=["Styles"])

BASEMAP = "basemap"
BASE = "base"
COMPOSED = (BASEMAP, BASE)  # styles of several layers (no QML)
TITLES = {BASEMAP: "SPP Cần Thơ — bản đồ nền / base map",
          BASE: "SPP Cần Thơ — bản đồ nền thành phố / city base map"}
MAPBOX = "application/vnd.mapbox.style+json"
SLD = "application/vnd.ogc.sld+xml;version=1.1"
QML = "application/vnd.qgis.qml+xml"
FORMATS = {"mapbox": MAPBOX, "json": MAPBOX, "sld": SLD, "sld11": SLD, "qml": QML}


def _draw_rank(files: list[dict], layer: dict) -> int:
    """Fills, their outlines, network lines, boundaries, circles, then every label."""
    style = next(s for s in files if layer in s["layers"])
    filled = any(lyr["type"] == "fill" for lyr in style["layers"])
    if layer["type"] == "line":
        if style["geometry"] == "polygon":
            return 1 if filled else 3
        return 2
    return {"fill": 0, "circle": 4, "fill-extrusion": 5, "symbol": 6}.get(layer["type"], 2)


@lru_cache(maxsize=64)
def _read(path: Path, mtime: float) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def style_path(layer: LayerInfo) -> Path:
    """The style file of a vector layer (styles/<style or id>.json); it may not exist."""
    return get_settings().styles_dir / f"{layer.definition.style_name}.json"


def style_file(layer: LayerInfo) -> dict:
    path = style_path(layer)
    try:
        return _read(path, path.stat().st_mtime)
    except OSError:  # a new layer file: its style is made from the definition
        key = (layer.id, layer.definition_sha)
        if key not in _BUILT:
            if len(_BUILT) > 256:  # old definitions' styles
                _BUILT.clear()
            _BUILT[key] = build_style(layer.definition)
        return _BUILT[key]


_BUILT: dict[tuple[str, str], dict] = {}  # (layer id, definition sha) -> style


def _styled(c: Ctx) -> list[LayerInfo]:
    out = []
    for layer in sorted(visible_layers(c.who, c.layers), key=lambda lyr: lyr.id):
        if mvt.is_vector(layer):
            out.append(layer)
    return out


def _base(layers: list[LayerInfo]) -> list[LayerInfo]:
    """The layers of the city base map among ``layers``, in ``map.base`` order."""
    by_id = {lyr.id: lyr for lyr in layers}
    return [by_id[d.id] for d in base_layers(lyr.definition for lyr in layers)]


def _resolve(c: Ctx, style_id: str) -> tuple[list[LayerInfo], str]:
    if style_id == BASEMAP:
        return _styled(c), TITLES[BASEMAP]
    if style_id == BASE:
        return _base(_styled(c)), TITLES[BASE]
    try:
        layer = c.layer(style_id)
    except NotFound:
        raise NotFound(f"no style {style_id!r}; the list is at "
                       f"{c.url('/ogc/styles')}") from None
    style = style_file(layer)
    return [layer], f"{style['title']['vi']} / {style['title']['en']}"


def _links(c: Ctx, style_id: str) -> list[dict]:
    base = f"/ogc/styles/{style_id}"
    return [
        {"rel": "stylesheet", "type": MAPBOX, "title": "MapLibre / Mapbox style",
         "href": c.url(base, {"f": "mapbox"})},
        {"rel": "stylesheet", "type": SLD, "title": "OGC SLD 1.1",
         "href": c.url(base, {"f": "sld"})},
        *([{"rel": "stylesheet", "type": QML, "title": "QGIS QML",
            "href": c.url(base, {"f": "qml"})}] if style_id not in COMPOSED else []),
        {"rel": "describedby", "type": JSON, "title": "Legend",
         "href": c.url(f"{base}/legend")},
    ]


def _etag(kind: str, layers: list[LayerInfo], c: Ctx, extra: str = "") -> str:
    files = []
    for layer in layers:
        path = style_path(layer)
        files.append((layer.id, layer.current_version, layer.definition_sha,
                      path.stat().st_mtime_ns if path.exists() else 0))
    return etag_for(kind, files, c.who.cache_scope, extra, str(c.request.base_url))


@router.get("", summary="Styles")
async def styles_list(request: Request, c: Ctx = Depends(ctx)):
    layers = _styled(c)
    items = [{"id": sid, "title": TITLES[sid], "links": _links(c, sid)} for sid in COMPOSED]
    for layer in layers:
        items.append({"id": layer.id, "title": f"{layer.title_vi} / {layer.title_en}",
                      "links": _links(c, layer.id)})
    etag = _etag("styles", layers, c)
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    doc = {"default": BASEMAP, "styles": items,
           "links": [{"rel": "self", "type": JSON, "title": "Styles",
                      "href": c.url("/ogc/styles")}]}
    return JSONResponse(doc, headers=cache_headers(c.who, etag, 60))


def mapbox_style(c: Ctx, style_id: str, layers: list[LayerInfo], title: str) -> dict:
    files = [style_file(layer) for layer in layers]
    style_layers = []
    if style_id in COMPOSED:
        style_layers.append({"id": "background", "type": "background",
                             "paint": {"background-color": "#F8F8F5"}})
    base_ids = [lyr.id for lyr in _base(layers)]
    if style_id == BASE:
        style_layers += compose_base(files)
    else:  # the base map's drawing below the thematic layers; labels and 3D above all
        def rank(lyr: dict) -> tuple:
            if lyr["source-layer"] in base_ids and lyr["type"] not in ("symbol",
                                                                        "fill-extrusion"):
                return (0, base_ids.index(lyr["source-layer"]))
            return (1, _draw_rank(files, lyr))
        style_layers += sorted((lyr for s in files for lyr in s["layers"]),
                               key=rank)  # stable within a rank
    # labels' glyphs: ours (/fonts, made from a Debian font) unless the city names its own
    glyphs = mvt.tile_settings().glyphs_url or c.url(GLYPHS_PATH)
    tilejson = {"f": "tilejson"}
    if style_id == BASE:
        tilejson["collections"] = ",".join(base_ids)
    elif style_id != BASEMAP:
        tilejson["collections"] = style_id
    bounds = [b for b in (lyr.bbox for lyr in layers) if b]
    doc = {
        "version": 8, "name": title,
        "metadata": {"spp:styleId": style_id,
                     "spp:legend": {s["id"]: s["metadata"]["legend"] for s in files}},
        "sources": {"spp": {"type": "vector",
                            "url": c.url("/ogc/tiles/WebMercatorQuad", tilejson),
                            "attribution": "© Thành phố Cần Thơ (SPP Cần Thơ)"}},
        "layers": style_layers,
    }
    doc["glyphs"] = glyphs
    if style_id == BASE and (outside := get_settings().basemap_url):
        doc["metadata"]["spp:outsideBasemap"] = outside  # the switcher's outside option
    if bounds:
        doc["center"] = [(min(b[0] for b in bounds) + max(b[2] for b in bounds)) / 2,
                         (min(b[1] for b in bounds) + max(b[3] for b in bounds)) / 2]
        doc["zoom"] = 13
    return doc


def _format(request: Request) -> str:
    f = request.query_params.get("f")
    if f is None:
        accept = request.headers.get("accept", "")
        if "sld" in accept:
            return "sld"
        if "qml" in accept:
            return "qml"
        return "mapbox"
    f = f.lower()
    if f not in FORMATS:
        raise InvalidParameter(f"f={f!r} is not a style format here; use mapbox, sld or qml")
    return {"json": "mapbox", "sld11": "sld"}.get(f, f)


@router.get("/{styleId}", summary="A style (f=mapbox, sld or qml)")
async def style(request: Request, styleId: str, f: str | None = None,  # noqa: N803
                c: Ctx = Depends(ctx)):
    layers, title = _resolve(c, styleId)
    fmt = _format(request)
    if fmt == "qml" and styleId in COMPOSED:
        raise InvalidParameter("QML holds the style of one layer; ask "
                               f"{c.url('/ogc/styles/<layer id>', {'f': 'qml'})}")
    etag = _etag("style", layers, c, fmt)
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    headers = cache_headers(c.who, etag, 60)
    if fmt == "mapbox":
        return JSONResponse(mapbox_style(c, styleId, layers, title), media_type=MAPBOX,
                            headers=headers)
    files = [style_file(layer) for layer in layers]
    name = f"spp_{styleId}"
    if fmt == "sld":
        headers["Content-Disposition"] = f'inline; filename="{styleId}.sld"'
        return Response(export.sld(files, name), media_type=SLD, headers=headers)
    headers["Content-Disposition"] = f'attachment; filename="{styleId}.qml"'
    return Response(export.qml(files[0]), media_type=QML, headers=headers)


@router.get("/{styleId}/legend", summary="Legend of a style: labels vi/en, colour, kind")
async def legend(request: Request, styleId: str, c: Ctx = Depends(ctx)):  # noqa: N803
    layers, title = _resolve(c, styleId)
    etag = _etag("legend", layers, c)
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    doc = {"id": styleId, "title": title, "layers": []}
    for layer in layers:
        s = style_file(layer)
        doc["layers"].append({
            "id": layer.id, "title": s["title"], "geometry": s["geometry"],
            "minzoom": layer.definition.tiles.min_zoom,
            "entries": [{"label": {"vi": e["vi"], "en": e["en"]}, "color": e["color"],
                         "kind": e["kind"], "geometry": e["geometry"],
                         **({"property": e["property"], "values": e["values"]}
                            if e.get("values") else {})}
                        for e in s["metadata"]["legend"]]})
    return JSONResponse(doc, headers=cache_headers(c.who, etag, 60))
