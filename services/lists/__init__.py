"""List pages of layers that declare a ``catalogue:`` (layers/README.md), the investment
project catalogue first: /lists/{id} (vi/en with ``?lang=``), filtered, sorted and paged in
the browser through the collection's OGC API items query (CQL2 text, ``sortby``, cursor
paging: no second query builder), /lists/{id}/export.csv the same query as CSV with a BOM
for Excel, and /lists/{id}/{fid}/planning the planning information of the parcel most of a
feature's site lies on. The caller's access rules apply throughout (personal fields never
reach the public); layer text reaches the page only through Jinja2's autoescaping."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, StreamingResponse
from fastapi.templating import Jinja2Templates
from psycopg import sql

from services.access import visible_columns
from services.audit import note_read
from services.datasets import LANG, _lang
from services.ogc.errors import NotFound
from services.ogc.http import Ctx, cache_headers, conditional, ctx, etag_for
from services.ogc.items import items_response
from services.ogc.params import ITEMS
from services.ogc.paramspec import Params, path_text
from services.ogc.paramspec import openapi as openapi_params
from services.planning.common import role_layer, table

router = APIRouter(tags=["List pages"])
HERE = Path(__file__).resolve().parent
TEMPLATES = Jinja2Templates(directory=[str(HERE / "templates"),
                                       str(HERE.parent / "datasets" / "templates")])
LIST_ID = Params(path_text("listId", "Layer id of a list page, e.g. investment_projects",
                           maxLength=100))
FEATURE = Params(path_text("listId", "Layer id of a list page", maxLength=100),
                 path_text("featureId", "Feature id (fid)", maxLength=20))
MAX_CHOICES = 500  # values offered in a choice filter
BOM = "\ufeff".encode()


def _listed(c: Ctx, list_id: str):
    """The layer of a list page, if the caller may see it and it declares a catalogue."""
    try:
        layer = c.layer(list_id)
    except NotFound:
        layer = None
    d = layer.definition if layer is not None else None
    if d is None or getattr(d, "catalogue", None) is None:
        raise NotFound(f"no list page {list_id[:100]!r}: a layer has one when its file "
                       "declares catalogue:")
    return layer, d.catalogue


async def _choices(c: Ctx, layer, fields: list[str]) -> dict[str, list]:
    out = {}
    for name in fields:
        stmt = sql.SQL("SELECT DISTINCT {f} AS v FROM {t} WHERE {f} IS NOT NULL ORDER BY 1 "
                       "LIMIT {n}").format(f=sql.Identifier(name), t=table(layer),
                                           n=sql.Literal(MAX_CHOICES))
        out[name] = [r["v"] for r in await (await c.conn.execute(stmt)).fetchall()]
    return out


@router.get("/lists/{listId}", summary="A layer's list page, e.g. the investment project "
            "catalogue (HTML)", response_class=HTMLResponse,
            openapi_extra=openapi_params(LIST_ID, LANG),
            responses={200: {"content": {"text/html": {}}}})
async def list_page(request: Request, c: Ctx = Depends(ctx)):
    lang = _lang(request)
    layer, cat = _listed(c, request.path_params["listId"])
    etag = etag_for("list-page", layer.id, layer.current_version, layer.definition_sha,
                    c.who.cache_scope, lang, c.url("/"))
    if (resp := conditional(request, c.who, etag, 60)) is not None:
        return resp
    cols = visible_columns(c.who, layer)
    note_read(c.who, layer, cols)
    d = layer.definition
    field = d.field
    columns = [{"name": n, "label": field[n].label.model_dump(), "unit": field[n].unit,
                "number": cols[n].type in ("integer", "number")}
               for n in cat.columns if n in cols]
    filters = [f for f in cat.filters if f.field in cols]
    choices = await _choices(c, layer, [f.field for f in filters if f.kind == "choice"])
    parcels = role_layer(c, "parcels")  # drawn under the feature when the map opens
    setup = {"items": c.url(f"/ogc/collections/{layer.id}/items"),
             "csv": c.url(f"/lists/{layer.id}/export.csv"),
             "planning": c.url(f"/lists/{layer.id}"), "map": c.url("/"), "layer": layer.id,
             "columns": columns, "search": [n for n in cat.search if n in cols],
             "sort": cat.sort or f"+{columns[0]['name']}", "title_field": d.title_field,
             "parcels": parcels.id if parcels is not None else None}
    other = "en" if lang == "vi" else "vi"
    title = cat.title or {"vi": layer.title_vi, "en": layer.title_en}
    return TEMPLATES.TemplateResponse(request, "list.html", {
        "L": lang, "O": other, "home": c.url("/"), "index": c.url("/datasets"),
        "static": c.url("/static"), "title": title if isinstance(title, dict)
        else title.model_dump(), "layer": layer, "columns": columns, "choices": choices,
        "filters": [{"field": f.field, "kind": f.kind, "label": field[f.field].label.model_dump(),
                     "unit": field[f.field].unit} for f in filters],
        "setup": setup}, headers=cache_headers(c.who, etag, 60))


@router.get("/lists/{listId}/export.csv", summary="A list page's rows as CSV (UTF-8 with a "
            "byte order mark, for spreadsheets); the parameters of the collection's items",
            response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}},
            openapi_extra=openapi_params(LIST_ID, Params(
                *(p for p in ITEMS.by_name.values() if p.name != "f"), strict=False)))
async def list_csv(request: Request, c: Ctx = Depends(ctx)):
    layer, _ = _listed(c, request.path_params["listId"])
    resp = await items_response(c, layer.id, "csv")
    if not isinstance(resp, StreamingResponse):
        return resp  # 304 Not Modified

    async def with_bom(body):
        yield BOM
        async for chunk in body:
            yield chunk

    resp.body_iterator = with_bom(resp.body_iterator)
    return resp


@router.get("/lists/{listId}/{featureId}/planning", summary="Planning information of the "
            "parcel most of a listed feature's site lies on (a redirect)",
            response_class=RedirectResponse, status_code=303,
            openapi_extra=openapi_params(FEATURE, LANG),
            responses={303: {"description": "to /api/parcels/{fid}/planning"}})
async def site_planning(request: Request, c: Ctx = Depends(ctx)):
    lang = _lang(request)
    layer, _ = _listed(c, request.path_params["listId"])
    raw = request.path_params["featureId"]
    if not re.fullmatch(r"[0-9]{1,18}", raw):  # ASCII digits: "²".isdigit() too
        raise NotFound(f"no feature {raw[:20]!r} in {layer.id}: feature ids are integers")
    parcels = role_layer(c, "parcels")
    if parcels is None:
        raise NotFound("no parcel layer is loaded, so no planning information")
    stmt = sql.SQL(
        "SELECT p.fid FROM {s} s JOIN {p} p ON ST_Intersects(p.geom, s.geom) WHERE s.fid = %s "
        "ORDER BY ST_Area(ST_Intersection(p.geom, s.geom)) DESC, p.fid LIMIT 1").format(
        s=table(layer), p=table(parcels))
    row = await (await c.conn.execute(stmt, [int(raw)])).fetchone()
    if row is None:
        raise NotFound(f"feature {raw} of {layer.id} is missing or lies on no parcel")
    return RedirectResponse(c.url(f"/api/parcels/{row['fid']}/planning",
                                  {"f": "html", "lang": lang}), status_code=303)
