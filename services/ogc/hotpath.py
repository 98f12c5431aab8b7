"""The hot path of OGC API - Features: GeoJSON pages of ``/ogc/collections/{id}/items``.

Answered by this plain ASGI handler in front of the FastAPI application (``services.app.
Service`` puts it right behind the request limits, rate limits and audit trail), so without
FastAPI's middleware stack, routing and dependency solving, which together cost more Python
time than the rest of such a request (bench/README.md). It calls the very function the FastAPI
route calls (``items.items_response``), so the answer, the access checks and the errors are the
same; it gzips by itself. Every other format, method and path goes on to FastAPI.
"""

from __future__ import annotations

import re
import zlib

from starlette.requests import Request
from starlette.responses import Response

from gis.layerdef import CATALOGUE_ID
from services.access import principal
from services.ogc.errors import OGCError, unexpected_error_response
from services.ogc.http import Ctx
from services.ogc.items import items_response, request_format

_ITEMS = re.compile(r"/ogc/collections/([^/]+)/items")
GZIP_MIN_BYTES = 1000
GZIP_LEVEL = 5  # level 9 (the middleware's default) costs twice the time for ~3 % less


class ItemsHotPath:
    def __init__(self, app):
        self.app = app  # the FastAPI application: everything this does not answer
        self.state = app.state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "GET":
            return await self.app(scope, receive, send)
        m = _ITEMS.fullmatch(scope["path"])
        if m is None or m[1] == CATALOGUE_ID:  # the records of the catalogue: its own route
            return await self.app(scope, receive, send)
        scope["app"] = self.app  # as Starlette sets it: request.app, request.state
        request = Request(scope, receive)
        try:
            fmt = request_format(request)
        except OGCError:  # a bad f=: FastAPI's route gives the same 400
            return await self.app(scope, receive, send)
        if fmt != "geojson":
            return await self.app(scope, receive, send)
        try:
            response = await items_response(await hot_ctx(self.state, request), m[1], fmt)
        except Exception as exc:  # the same OGC exception documents as FastAPI's handlers
            response = unexpected_error_response(exc, scope["path"])
        await gzipped(request, response)(scope, receive, send)


async def hot_ctx(state, request: Request) -> Ctx:
    """The context of a hot-path request: who asks, the catalogue (re-read at most once a
    second) and no psycopg connection: its query runs on the page connections
    (services.pages)."""
    who = await principal(request)
    layers = state.catalog.fresh()
    if layers is None:
        async with state.pool.connection() as conn:
            layers = await state.catalog.layers(conn)
    return Ctx(request, None, who, layers, state.pages)


def gzipped(request: Request, response: Response) -> Response:
    body = response.body
    if (len(body) < GZIP_MIN_BYTES or "gzip" not in request.headers.get("accept-encoding", "")
            or "content-encoding" in response.headers):
        return response
    z = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
    response.body = z.compress(body) + z.flush()
    response.headers["Content-Encoding"] = "gzip"
    response.headers["Content-Length"] = str(len(response.body))
    return response
