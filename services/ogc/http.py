"""Request plumbing shared by the endpoints: the DB connection, the caller, negotiation,
absolute links, ETag / If-None-Match and Cache-Control."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Depends, Request, Response
from psycopg import AsyncConnection

from services.access import LayerHidden, Principal, layer_for, principal
from services.catalog import LayerInfo
from services.ogc.errors import NotFound
from services.ogc.params import parse_format

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html; charset=utf-8"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"


@dataclass
class Ctx:
    request: Request
    conn: AsyncConnection
    who: Principal
    layers: dict[str, LayerInfo]

    def layer(self, layer_id: str) -> LayerInfo:
        """The layer if this caller may see it; a missing and a hidden layer look the same."""
        try:
            return layer_for(self.who, self.layers, layer_id)
        except LayerHidden:
            raise NotFound(f"no collection {layer_id!r}; the list is at "
                           f"{self.url('/ogc/collections')}") from None

    def url(self, path: str, params: dict | None = None) -> str:
        base = str(self.request.base_url).rstrip("/")
        qs = f"?{urlencode(params)}" if params else ""
        return f"{base}{path}{qs}"


async def ctx(request: Request, who: Principal = Depends(principal)) -> AsyncIterator[Ctx]:
    app = request.app
    async with app.state.pool.connection() as conn:
        layers = await app.state.catalog.layers(conn)
        yield Ctx(request, conn, who, layers)


def negotiate(request: Request, allowed: set[str], default: str = "geojson") -> str:
    """?f= wins; otherwise text/html in Accept (a browser) gives HTML, anything else JSON."""
    f = parse_format(request.query_params.get("f"), allowed)
    if f:
        return f
    accept = request.headers.get("accept", "")
    if "html" in allowed and "text/html" in accept:
        return "html"
    return default


def etag_for(*parts: object) -> str:
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).hexdigest()[:32]
    return f'W/"{digest}"'


def normalised_query(request: Request) -> str:
    return urlencode(sorted(request.query_params.multi_items()))


def not_modified(request: Request, etag: str) -> bool:
    given = request.headers.get("if-none-match")
    if not given:
        return False
    tags = {t.strip().removeprefix("W/") for t in given.split(",")}
    return "*" in tags or etag.removeprefix("W/") in tags


def scoped_etag(who: Principal, etag: str | None) -> str | None:
    """The ETag as sent: public responses keep theirs, others carry the principal's scope,
    so two principals who see different bytes never share a validator."""
    if etag is None or who.is_public:
        return etag
    return f'{etag[:-1]}.{who.scope_key}"'


def cache_headers(who: Principal, etag: str | None, max_age: int = 0) -> dict[str, str]:
    headers = {"Cache-Control": f"{who.cache_scope}, max-age={max_age}, must-revalidate",
               "Vary": "Accept, Accept-Encoding, Authorization, X-API-Key"}
    etag = scoped_etag(who, etag)
    if etag:
        headers["ETag"] = etag
    return headers


def conditional(request: Request, who: Principal, etag: str, max_age: int = 0
                ) -> Response | None:
    """A 304 response when the client's copy is current, else None."""
    if not_modified(request, scoped_etag(who, etag)):
        return Response(status_code=304, headers=cache_headers(who, etag, max_age))
    return None
