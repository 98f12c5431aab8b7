"""Features: /items (GeoJSON pages made by PostGIS, HTML, downloads) and /items/{featureId}."""

from __future__ import annotations

import time

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response
from psycopg import sql

from gis.edits import token_sql
from services.access import visible_columns
from services.audit import note_read
from services.ogc import geojson, query
from services.ogc.collections import CollectionId
from services.ogc.cql import prepare_filter
from services.ogc.crs import content_crs_header, parse_crs
from services.ogc.cursor import encode_cursor
from services.ogc.curvesample import curve_sample
from services.ogc.errors import NotFound
from services.ogc.html import page, svg_preview
from services.ogc.http import (
    GEOJSON,
    Ctx,
    cache_headers,
    conditional,
    ctx,
    etag_for,
    item_etag,
    normalised_query,
    query_pair,
)
from services.ogc.params import ITEM, ITEMS, parse_items_query
from services.telemetry import utc_second

router = APIRouter(prefix="/ogc/collections", tags=["Data"])


@router.get("/{collectionId}/items", summary="Features of a collection",
            description="Any property of the collection is a parameter too: the features whose "
                        "property equals the value.",
            response_class=Response, responses={200: {"content": {GEOJSON: {}}}},
            openapi_extra=ITEMS.openapi())
async def items(request: Request, collection_id: str = CollectionId, c: Ctx = Depends(ctx)):
    # GeoJSON pages normally never get here: services.ogc.hotpath answers them before
    # FastAPI's routing, with the same items_response
    return await items_response(c, collection_id, request_format(request))


def request_format(request: Request) -> str:
    """The format of an items request (``f``, else Accept): the one place ``f`` is parsed."""
    return ITEMS.format(request.query_params, request.headers.get("accept", ""))


async def items_response(c: Ctx, collection_id: str, fmt: str) -> Response:
    """An items request in format ``fmt`` (``request_format``) of a collection."""
    request = c.request
    layer = c.layer(collection_id)
    visible = visible_columns(c.who, layer)
    if (text := request.query_params.get("filter")) is not None:  # parsed off the event loop
        await prepare_filter(text, request.query_params.get("filter-lang"))
    q = parse_items_query(request.query_params, visible, has_time=layer.time_field is not None
                          and layer.time_field in visible, layer_id=layer.id,
                          curve=layer.sfc_pad is not None,
                          sample=await curve_sample(c.pages, layer))
    # the fields returned; a filter or sort may also reveal the others it names
    note_read(c.who, layer, q.properties if q.properties and not (q.has_filter or q.sortby)
              else visible)
    etag = etag_for("items", layer.id, layer.current_version, layer.definition_sha,
                    c.who.cache_scope, fmt, normalised_query(request))
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    if fmt in ("csv", "gpkg", "shp"):
        from services.ogc.exports import download

        return await download(c, layer, query.build(layer, visible, q), q, fmt, etag)
    if fmt == "html":
        return await _items_html(c, layer, query.build(layer, visible, q), q, etag)
    text, values = _page_statement(layer, visible, q)
    row = await c.pages.fetchrow(text, values)
    links = _links(c, layer, q, row["n"], row["last"], "json")
    head = {"type": "FeatureCollection", "numberReturned": row["n"]}
    if not q.has_filter and q.cursor is None and layer.feature_count is not None:
        head["numberMatched"] = layer.feature_count
    head["timeStamp"] = utc_second(int(time.time())) + "Z"
    head["links"] = links
    body = b"".join((orjson.dumps(head)[:-1], b',"features":[', row["features"],
                     b"]}"))
    headers = cache_headers(c.who, etag)
    headers["Content-Crs"] = content_crs_header(q.crs)
    return Response(body, media_type=GEOJSON, headers=headers)


_PAGE_SQL: dict[tuple, tuple[str, tuple[str, ...]]] = {}


def _page_statement(layer, visible: dict, q) -> tuple[str, list]:
    """The GeoJSON page statement (asyncpg's ``$n`` placeholders) and its values. Its text is
    composed once per query shape (layer version, properties, which filters, CRS, cursor
    shape) and kept with the names of the values its ``$1``, ``$2``... stand for: composing
    and serialising the psycopg ``sql`` tree cost more Python time than the rest of a bbox
    request. On a hit the request's named values are looked up by those names."""
    values = query.named_values(layer, visible, q)
    if q.filter is None:  # CQL2: shapes vary too much to be worth keeping
        key = query.shape_key(layer, visible, q)
        hit = _PAGE_SQL.get(key)
        if hit is not None:
            text, names = hit
            return text, [values[n] for n in names]
    s = query.build(layer, visible, q, numbered=True, values=values)
    text = geojson.page_sql(s, q.cursor, q.crs).as_bytes(None).decode()
    if q.filter is None:
        if len(_PAGE_SQL) >= 512:
            _PAGE_SQL.clear()
        _PAGE_SQL[key] = text, tuple(s.params)
    return text, list(s.params.values())


def _links(c: Ctx, layer, q, n: int, last: str | None, fmt: str) -> list[dict]:
    path = f"/ogc/collections/{layer.id}/items"
    # the query of this page without f, each parameter encoded once for both links
    params = [(k, query_pair(k, v)) for k, v in c.request.query_params.multi_items()
              if k != "f"]
    base = c.url(path)
    this = f"{base}?{'&'.join(p for _k, p in params)}" if params else base
    sep = "&" if params else "?"
    own, other = ("json", "html") if fmt == "json" else ("html", "json")
    links = [
        {"rel": "self", "type": GEOJSON if fmt == "json" else "text/html", "title":
         "This page", "href": f"{this}{sep}f={own}"},
        {"rel": "alternate", "type": "text/html" if fmt == "json" else GEOJSON,
         "title": "This page in the other format", "href": f"{this}{sep}f={other}"},
        {"rel": "collection", "type": "application/json", "title": "The collection",
         "href": c.url(f"/ogc/collections/{layer.id}")},
    ]
    if n >= q.limit and last is not None:
        nxt = [p for k, p in params if k != "cursor"]
        # a token is base64url: nothing in it to encode
        nxt.append(f"cursor={encode_cursor(orjson.loads(last), layer.id, q.order)}")
        if fmt != "json":
            nxt.append(f"f={fmt}")
        links.append({"rel": "next", "type": GEOJSON if fmt == "json" else "text/html",
                      "title": "Next page", "href": f"{base}?{'&'.join(nxt)}"})
    return links


async def _items_html(c: Ctx, layer, s: query.SQLQuery, q, etag: str):
    keys = [sql.Identifier(f"_k{i}") for i in range(len(s.order))] + [sql.SQL("fid")]
    stmt = sql.SQL(
        "WITH page AS ({cte}) SELECT fid, {props} AS props, ST_AsSVG(geom, 0, 7) AS svg, "
        "ST_XMin(geom) AS xmin, ST_YMin(geom) AS ymin, ST_XMax(geom) AS xmax, "
        "ST_YMax(geom) AS ymax, json_build_array({keys})::text AS key FROM page ORDER BY {o}"
    ).format(cte=query.page_cte(s, True, q.cursor), props=geojson.properties_sql(s.columns),
             keys=sql.SQL(", ").join(keys), o=s.order_sql(alias=True))
    cur = await c.conn.execute(stmt, s.params)
    rows = await cur.fetchall()
    for r in rows:
        r["href"] = c.url(f"/ogc/collections/{layer.id}/items/{r['fid']}", {"f": "html"})
        r["properties"] = orjson.loads(r["props"])
    links = _links(c, layer, q, len(rows), rows[-1]["key"] if rows else None, "html")
    nxt = next((lk["href"] for lk in links if lk["rel"] == "next"), None)
    matched = layer.feature_count if not q.has_filter and q.cursor is None else None
    feats = [{"id": r["fid"], "href": r["href"], "properties": r["properties"]} for r in rows]
    return page(c.request, "items.html", f"{layer.title_vi} · features", {},
                c.url(f"/ogc/collections/{layer.id}/items", {**dict(
                    c.request.query_params), "f": "json"}), cache_headers(c.who, etag),
                [("collections", c.url("/ogc/collections", {"f": "html"})),
                 (layer.id, c.url(f"/ogc/collections/{layer.id}", {"f": "html"}))],
                features=feats, columns=list(s.columns), svg=svg_preview(rows),
                number_returned=len(rows), number_matched=matched, next=nxt)


def _item_etag(c: Ctx, layer, fmt: str, fid: int, token: str) -> str:
    return item_etag(c.who, layer, fmt, normalised_query(c.request), fid, token)


@router.get("/{collectionId}/items/{featureId}", summary="One feature", response_class=Response,
            responses={200: {"content": {GEOJSON: {}}}}, openapi_extra=ITEM.openapi())
async def item(request: Request, collection_id: str = CollectionId,
               feature_id: str = Path(..., alias="featureId", description="Feature id (fid)"),
               c: Ctx = Depends(ctx)):
    layer = c.layer(collection_id)
    given = ITEM.given(request.query_params)
    fmt = ITEM.format(request.query_params, request.headers.get("accept", ""))
    out_crs = parse_crs(given.get("crs"), "crs")
    try:
        fid = int(feature_id)
    except ValueError:
        fid = None
    if fid is None or not -(2**63) <= fid < 2**63:
        raise NotFound(f"no feature {feature_id!r} in collection {layer.id!r}")
    s = query.SQLQuery(layer, visible_columns(c.who, layer))
    token = token_sql({n: col.type for n, col in s.columns.items()})
    path = f"/ogc/collections/{layer.id}/items/{fid}"
    if fmt == "html":
        stmt = sql.SQL("SELECT fid, {props} AS props, ST_AsSVG(geom, 0, 7) AS svg, "
                       "ST_XMin(geom) AS xmin, ST_YMin(geom) AS ymin, ST_XMax(geom) AS xmax, "
                       "ST_YMax(geom) AS ymax, {token} AS token FROM {t} WHERE fid = {fid}"
                       ).format(props=geojson.properties_sql(s.columns), token=token,
                                t=s.table, fid=s.param(fid, "bigint"))
        rows = await (await c.conn.execute(stmt, s.params)).fetchall()
        if not rows:
            raise NotFound(f"no feature {fid} in collection {layer.id!r}")
        r = rows[0]
        etag = _item_etag(c, layer, fmt, fid, r["token"])
        if (resp := conditional(request, c.who, etag)) is not None:
            return resp
        note_read(c.who, layer, s.columns)
        r["href"] = c.url(path, {"f": "html"})
        feats = [{"id": fid, "href": r["href"], "properties": orjson.loads(r["props"])}]
        return page(request, "items.html", f"{layer.title_vi} · {fid}", {},
                    c.url(path, {"f": "json"}), {**cache_headers(c.who, None), "ETag": etag},
                    [("collections", c.url("/ogc/collections", {"f": "html"})),
                     (layer.id, c.url(f"/ogc/collections/{layer.id}", {"f": "html"})),
                     ("items", c.url(f"/ogc/collections/{layer.id}/items", {"f": "html"}))],
                    features=feats, columns=list(s.columns), svg=svg_preview(rows),
                    number_returned=1, number_matched=None, next=None)
    cur = await c.conn.execute(geojson.one_feature_sql(s, fid, out_crs, token), s.params)
    row = await cur.fetchone()
    if row is None:
        raise NotFound(f"no feature {fid} in collection {layer.id!r}")
    etag = _item_etag(c, layer, fmt, fid, row["token"])
    if (resp := conditional(request, c.who, etag)) is not None:
        return resp
    note_read(c.who, layer, s.columns)
    links = [{"rel": "self", "type": GEOJSON, "href": c.url(path, dict(request.query_params))},
             {"rel": "alternate", "type": "text/html", "href": c.url(path, {"f": "html"})},
             {"rel": "collection", "type": "application/json",
              "href": c.url(f"/ogc/collections/{layer.id}")}]
    body = b"".join((row["feature"][:-1].encode(), b',"links":', orjson.dumps(links), b"}"))
    headers = cache_headers(c.who, None)
    headers["ETag"] = etag
    headers["Content-Crs"] = content_crs_header(out_crs)
    return Response(body, media_type=GEOJSON, headers=headers)
