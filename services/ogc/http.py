"""Request plumbing shared by the endpoints: the DB connection, the caller, negotiation,
absolute links, ETag / If-None-Match and Cache-Control."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlencode

from fastapi import Depends, Request, Response
from psycopg import AsyncConnection

from services.access import LayerHidden, Principal, layer_for, principal
from services.catalog import LayerInfo
from services.ogc.errors import NotFound
from services.ogc.params import parse_format
from services.pages import PagePool

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html; charset=utf-8"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
# left as they are in query values (RFC 3986 allows them there): a bbox or a CRS URI stays
# readable, and urlencode takes its fast path instead of quoting character by character
URL_SAFE = ",:/"


@dataclass
class Ctx:
    """One request: its connection (if it holds one), its caller, the catalog's layers as
    read for it, and absolute links. Vector and raster endpoints alike."""

    request: Request
    conn: AsyncConnection | None  # None on the items hot path (it uses pages) and for rasters
    who: Principal
    layers: dict[str, LayerInfo]  # vector layers
    pages: PagePool | None = None  # runs the GeoJSON page queries (services.pages)
    rasters: dict[str, LayerInfo] | None = None  # None (hot path): the catalog's last read
    _base: str | None = field(default=None, repr=False)

    def raster_layers(self) -> dict[str, LayerInfo]:
        if self.rasters is None:
            self.rasters = self.request.app.state.catalog.of_kind("raster")
        return self.rasters

    def layer(self, layer_id: str) -> LayerInfo:
        """The layer if this caller may see it; a missing and a hidden layer look the same."""
        try:
            return layer_for(self.who, self.layers, layer_id)
        except LayerHidden:
            try:  # a raster collection has a coverage and map tiles, no features
                raster = layer_for(self.who, self.raster_layers(), layer_id)
            except LayerHidden:
                raise NotFound(f"no collection {layer_id!r}; the list is at "
                               f"{self.url('/ogc/collections')}") from None
            raise NotFound(f"collection {raster.id!r} is a raster layer (a coverage): it has no "
                           f"features; see {self.url(f'/ogc/collections/{raster.id}')} for "
                           "its coverage and map tiles") from None

    def raster(self, layer_id: str) -> LayerInfo:
        """The raster layer if this caller may see it (routes returning its data note the read
        for the audit with ``services.audit.note_read``)."""
        try:
            info = layer_for(self.who, self.raster_layers(), layer_id)
        except LayerHidden:
            raise NotFound(f"no raster collection {layer_id!r}; the list is at "
                           f"{self.url('/api/rasters')}") from None
        return info

    def url(self, path: str, params: dict | list | None = None) -> str:
        base = self._base
        if base is None:
            base = self._base = base_url(self.request.scope)
        return f"{base}{path}?{urlencode(params, safe=URL_SAFE)}" if params else f"{base}{path}"


def query_pair(key: str, value: str) -> str:
    """``key=value`` encoded as ``Ctx.url`` encodes each of its parameters."""
    return f"{quote_plus(key, URL_SAFE)}={quote_plus(value, URL_SAFE)}"


_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def base_url(scope) -> str:
    """``scheme://host[:port][root_path]`` of the request, no trailing slash: what Starlette's
    ``Request.base_url`` gives, without parsing a whole URL on every request."""
    scheme = scope.get("scheme", "http")
    root = scope.get("app_root_path", scope.get("root_path", "")).rstrip("/")
    for key, value in scope.get("headers", ()):
        if key == b"host":
            return f"{scheme}://{value.decode('latin-1')}{root}"
    server = scope.get("server")
    if server is None:
        return root
    host, port = server
    if port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}{root}"
    return f"{scheme}://{host}:{port}{root}"


async def ctx(request: Request, who: Principal = Depends(principal)) -> AsyncIterator[Ctx]:
    """A request holding a connection for its queries."""
    catalog = request.app.state.catalog
    async with request.app.state.pool.connection() as conn:
        layers = await catalog.layers(conn)
        yield Ctx(request, conn, who, layers, request.app.state.pages,
                  catalog.of_kind("raster"))


async def file_ctx(request: Request, who: Principal = Depends(principal)) -> Ctx:
    """A request answered from files (rasters): a connection only to read the catalog."""
    catalog = request.app.state.catalog
    async with request.app.state.pool.connection() as conn:
        layers = await catalog.layers(conn)
    return Ctx(request, None, who, layers, rasters=catalog.of_kind("raster"))


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


def item_etag(who: Principal, layer: LayerInfo, fmt: str, query: str, fid: int,
              token: str) -> str:
    """A feature's ETag as sent: its representation (format, query, layer definition, who)
    then ``-<token>``, the feature's content as this caller sees it (``gis.edits.token_sql``):
    it changes exactly when the feature does, and If-Match of an edit compares that part."""
    digest = etag_for("item", layer.id, layer.definition_sha, who.cache_scope, fmt, query, fid)
    return scoped_etag(who, f'{digest[:-1]}-{token}"')


def normalised_query(request: Request) -> str:
    """The query string with its parameters in a fixed order, for ETags (as sent: two
    spellings of one value only cost a cache miss)."""
    return "&".join(sorted(request.scope.get("query_string", b"").decode("latin-1").split("&")))


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
