"""The hot path of vector tiles: ``GET /ogc/collections/{id}/tiles/WebMercatorQuad/{z}/{y}/{x}``
(and its ``.pbf``/``.mvt`` and ``xyz/{z}/{x}/{y}.pbf`` forms) without a query string.

A map asks for dozens of these a view; at high zooms their SQL takes about a millisecond, less
than FastAPI's routing over every route, its dependency solving and a checked-out psycopg
connection (an extra round trip to check it) cost. Like the items hot path
(``services.ogc.hotpath``) this plain ASGI handler sits in front of the FastAPI application and
calls the very function the FastAPI route calls (``tiles.api.tile_response``), so the answer,
the access checks, the audit and the errors are the same; the tile query runs on the page
connections (``services.pages``). Anything else (another path, a query string, another
method) goes on to FastAPI.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from starlette.requests import Request

from services.ogc.errors import unexpected_error_response
from services.ogc.hotpath import hot_ctx
from services.tiles import mvt
from services.tiles.api import tile_response, vector_layer
from services.tiles.matrix import TMS_ID, parse_tile

_BASE = rf"/ogc/collections/([^/]+)/tiles/{TMS_ID}"
_OGC = re.compile(_BASE + r"/([^/.]+)/([^/.]+)/([^/.]+)(?:\.(?:pbf|mvt))?")
_XYZ = re.compile(_BASE + r"/xyz/([^/.]+)/([^/.]+)/([^/.]+)\.(?:pbf|mvt)")


# the FastAPI routes' templates, for the metrics' route label (services.telemetry.route_of)
_TEMPLATE = "/ogc/collections/{collectionId}/tiles/{tileMatrixSetId}"
_ROUTE_OGC = SimpleNamespace(path=_TEMPLATE + "/{z}/{y}/{x}")
_ROUTE_XYZ = SimpleNamespace(path=_TEMPLATE + "/xyz/{z}/{x}/{y}.{ext}")


def _address(path: str) -> tuple[SimpleNamespace, str, str, str, str] | None:
    """(route, collection, z, y, x) of a tile path, or None for any other path."""
    if m := _OGC.fullmatch(path):
        return _ROUTE_OGC, m[1], m[2], m[3], m[4]
    if m := _XYZ.fullmatch(path):
        return _ROUTE_XYZ, m[1], m[2], m[4], m[3]
    return None


class TilesHotPath:
    def __init__(self, app, fastapi_app):
        self.app = app  # the next handler: everything this does not answer
        self.fastapi_app = fastapi_app
        self.state = fastapi_app.state

    async def __call__(self, scope, receive, send):
        if (scope["type"] != "http" or scope["method"] != "GET" or scope["query_string"]
                or (address := _address(scope["path"])) is None):
            return await self.app(scope, receive, send)
        scope["app"] = self.fastapi_app  # as Starlette sets it: request.app, request.state
        scope["route"] = address[0]
        request = Request(scope, receive)
        try:
            c = await hot_ctx(self.state, request)
            layer = vector_layer(c, address[1])
            z, y, x = parse_tile(*address[2:])
            response = await tile_response(request, c, [mvt.tile_layer(c.who, layer)], z, y, x)
        except Exception as exc:  # the same OGC exception documents as FastAPI's handlers
            response = unexpected_error_response(exc, scope["path"])
        await response(scope, receive, send)
