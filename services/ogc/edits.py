"""OGC API - Features Part 4: create (POST /items), replace (PUT), update (PATCH, JSON Merge
Patch) and delete (DELETE /items/{featureId}) on the collections whose layer file has
``edit:``. Every request is one ``gis.edits.apply`` call (one new layer version, the loader's
checks), run in a thread on a connection of the owner role: the web pool's role only reads.

Who: a layer the caller may not see is a 404 as for reads; a read-only collection a 405; the
public a 401; staff of a department (or a role) the layer's ``edit`` does not name a 403.
Optimistic locking: PUT, PATCH and DELETE need ``If-Match`` with the feature's ETag (428
without, 412 when the feature changed since).
"""

from __future__ import annotations

import asyncio

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from gis import db, edits
from gis.settings import get_settings
from services.access import visible_columns
from services.auth import Unauthenticated
from services.catalog import LayerInfo
from services.limits import BodyTooLarge
from services.ogc.collections import CollectionId
from services.ogc.crs import CRS84, parse_crs
from services.ogc.errors import NotFound, OGCError
from services.ogc.http import Ctx, file_ctx, item_etag

router = APIRouter(prefix="/ogc/collections", tags=["Edit"])

FEATURE_TYPES = ("application/geo+json", "application/json")
PATCH_TYPES = ("application/merge-patch+json", "application/geo+json", "application/json")
FeatureId = Path(..., alias="featureId", description="Feature id (fid)")


class Refused(OGCError):
    def __init__(self, status: int, code: str, description: str,
                 headers: dict[str, str] | None = None):
        super().__init__(description, status=status, code=code)
        self._headers = headers or {}

    @property
    def headers(self) -> dict[str, str]:
        return self._headers


def _may_edit(c: Ctx, layer: LayerInfo) -> None:
    rule = getattr(layer.definition, "edit", None)
    if rule is None:
        raise Refused(405, "MethodNotAllowed", f"collection {layer.id!r} is read-only: its "
                      "layer file allows no edits", {"Allow": "GET, HEAD"})
    who = c.who
    if who.is_public:
        raise Unauthenticated(f"editing {layer.id!r} needs an API key or a token of a "
                              "department allowed to edit it", "invalid_request")
    if not rule.allows(who.role, who.departments):
        raise Refused(403, "Forbidden", f"your department may not edit {layer.id!r}; its "
                      f"editors: {', '.join(rule.departments)}")


def _crs(request: Request) -> tuple[str, bool]:
    """Content-Crs -> (the CRS as gis.edits takes it, latitude first)."""
    given = request.headers.get("content-crs")
    value = (given or "").strip().removeprefix("<").removesuffix(">")
    crs = parse_crs(value or CRS84, "Content-Crs")
    epsg = crs.uri.rsplit("/", 1)[-1]
    spec = "EPSG:4326" if crs.uri == CRS84 else f"EPSG:{epsg}"
    return spec, crs.lat_first


async def _body(request: Request, types: tuple[str, ...]) -> dict:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind not in types:
        raise Refused(415, "UnsupportedMediaType", f"send the feature as {' or '.join(types)}"
                      f" (Content-Type was {kind[:60] or 'missing'!r})")
    limit = min(get_settings().edit_max_body_bytes, get_settings().max_body_bytes)
    chunks, size = [], 0
    async for chunk in request.stream():  # bounded as it arrives, not after
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
    try:
        doc = orjson.loads(b"".join(chunks))
    except orjson.JSONDecodeError as exc:
        raise Refused(400, "InvalidRequestBody", f"the body is not valid JSON: "
                      f"{str(exc)[:200]}") from None
    if not isinstance(doc, dict):
        raise Refused(400, "InvalidRequestBody", "the body must be a JSON object")
    return doc


def _feature(doc: dict) -> dict:
    if doc.get("type") != "Feature":
        raise Refused(400, "InvalidRequestBody", 'the body must be a GeoJSON Feature '
                      '({"type": "Feature", "geometry": ..., "properties": ...})')
    return doc


def _if_match(request: Request) -> str | None:
    """The feature token the editor saw: 428 without If-Match; '*' checks nothing."""
    given = request.headers.get("if-match")
    if not given or not given.strip():
        raise Refused(428, "PreconditionRequired", "send If-Match with the feature's ETag "
                      "(read it with GET first), so that no one's change is overwritten")
    if given.strip() == "*":
        return None
    token = edits.token_of(given.split(",")[0])
    if token is None or len(token) != 16:
        raise Refused(412, "PreconditionFailed", "If-Match is not an ETag of this feature")
    return token


def _fid(layer: LayerInfo, feature_id: str) -> int:
    try:
        fid = int(feature_id)
    except ValueError:
        fid = None
    if fid is None or not 0 < fid < 2**63:
        raise NotFound(f"no feature {feature_id[:40]!r} in collection {layer.id!r}")
    return fid


def _run(layer: LayerInfo, ops: list[edits.Op], c: Ctx, crs: str, swap: bool
         ) -> edits.EditResult:
    visible = {n: col.type for n, col in visible_columns(c.who, layer).items()}
    client = (c.request.scope.get("client") or ("unknown", 0))[0]
    lineage = {"source": "OGC API", "role": c.who.role, "client": client,
               "method": c.request.method}
    with db.connect(options="-c application_name=spp-edits") as conn:
        return edits.apply(conn, layer.definition, ops, c.who.name, lineage, crs=crs,
                           axis_swap=swap, visible=visible)


async def _apply(c: Ctx, layer: LayerInfo, op: edits.Op, crs: str = "EPSG:4326",
                 swap: bool = False) -> edits.EditResult:
    try:
        return await asyncio.to_thread(_run, layer, [op], c, crs, swap)
    except edits.EditBusy as exc:
        raise Refused(409, "Conflict", str(exc), {"Retry-After": str(exc.retry_after)}) from None
    except edits.EditNotFound:
        raise NotFound(f"no feature {op.fid} in collection {layer.id!r}") from None
    except edits.EditError as exc:
        code = {400: "InvalidValue", 409: "Conflict", 412: "PreconditionFailed"}
        raise Refused(exc.status, code.get(exc.status, "InvalidValue"), str(exc)) from None


def _answer(c: Ctx, layer: LayerInfo, result: edits.EditResult, status: int) -> Response:
    fid = result.fids[0]
    body = {"id": fid, "version": result.version}
    if result.warnings:
        body["warnings"] = result.warnings
    headers = {"Cache-Control": "no-store"}
    if fid in result.tokens:
        headers["ETag"] = item_etag(c.who, layer, "geojson", "", fid, result.tokens[fid])
        headers["Location"] = c.url(f"/ogc/collections/{layer.id}/items/{fid}")
    return Response(orjson.dumps(body), status_code=status, media_type="application/json",
                    headers=headers)


_FEATURE_SCHEMA = {
    "type": "object", "required": ["type", "geometry", "properties"],
    "properties": {"type": {"type": "string", "enum": ["Feature"]},
                   "geometry": {"type": "object", "required": ["type", "coordinates"],
                                "properties": {"type": {"type": "string"},
                                               "coordinates": {"type": "array", "items": {}}}},
                   "properties": {"type": "object"}}}
_PATCH_SCHEMA = {"type": "object", "properties": {
    "geometry": _FEATURE_SCHEMA["properties"]["geometry"],
    "properties": {"type": "object"}}}
# The request headers are told in the descriptions, not declared as parameters: the fuzz
# test's generator (schemathesis' header mutations) crashes CPython 3.11's ast module from
# its worker threads on them.
_CONTENT_CRS = ("The geometry's CRS is the Content-Crs header, a URI in angle brackets "
                "(default CRS84); VN-2000 (EPSG 5897, 9209, 3405, 4756) is transformed "
                "through EPSG:6960 as in loads. ")
_IF_MATCH = ("If-Match must carry the feature's ETag (from GET): 428 without it, 412 when "
             "the feature changed since. ")
_ERRORS = {str(s): {"description": d} for s, d in (
    (400, "Invalid feature (the loader's reason)"), (401, "No credential"),
    (403, "Not an editor of this collection"), (404, "No such collection or feature"),
    (405, "Read-only collection"), (409, "Layer busy (Retry-After) or natural key taken"),
    (413, "Body too large"), (415, "Wrong Content-Type"))}


def _doc(body: dict | None, types: tuple[str, ...], if_match: bool, ok: dict) -> dict:
    out: dict = {"description": (_CONTENT_CRS if body else "") + (_IF_MATCH if if_match
                                                                   else "")
                 + "Needs an API key or token of a department the layer file's edit: names.",
                 "responses": {**ok, **_ERRORS}}
    if if_match:
        out["responses"].update({"412": {"description": "The feature changed (stale ETag)"},
                                 "428": {"description": "If-Match missing"}})
    if body is not None:
        out["requestBody"] = {"required": True,
                              "content": {t: {"schema": body} for t in types}}
    return out


def _existing(request: Request, c: Ctx, collection_id: str, feature_id: str):
    """The layer, feature id and expected ETag of an edit of an existing feature, in the
    order the checks answer: hidden or unknown layer, no right to edit, bad id, no If-Match."""
    layer = c.layer(collection_id)
    _may_edit(c, layer)
    return layer, _fid(layer, feature_id), _if_match(request)


@router.post("/{collectionId}/items", summary="Add a feature (Part 4)", status_code=201,
             response_class=Response, openapi_extra=_doc(
                 _FEATURE_SCHEMA, FEATURE_TYPES, False,
                 {"201": {"description": "Created; Location names the feature"}}))
async def create(request: Request, collection_id: str = CollectionId,
                 c: Ctx = Depends(file_ctx)):
    layer = c.layer(collection_id)
    _may_edit(c, layer)
    crs, swap = _crs(request)
    doc = _feature(await _body(request, FEATURE_TYPES))
    result = await _apply(c, layer, edits.Op("create", feature=doc), crs, swap)
    return _answer(c, layer, result, 201)


@router.put("/{collectionId}/items/{featureId}", summary="Replace a feature (Part 4)",
            response_class=Response, openapi_extra=_doc(
                _FEATURE_SCHEMA, FEATURE_TYPES, True, {"200": {"description": "Replaced"}}))
async def replace(request: Request, collection_id: str = CollectionId,
                  feature_id: str = FeatureId, c: Ctx = Depends(file_ctx)):
    layer, fid, expect = _existing(request, c, collection_id, feature_id)
    crs, swap = _crs(request)
    doc = _feature(await _body(request, FEATURE_TYPES))
    result = await _apply(c, layer, edits.Op("replace", fid, doc, expect), crs, swap)
    return _answer(c, layer, result, 200)


@router.patch("/{collectionId}/items/{featureId}",
              summary="Update a feature with a JSON Merge Patch (Part 4)",
              response_class=Response, openapi_extra=_doc(
                  _PATCH_SCHEMA, PATCH_TYPES, True, {"200": {"description": "Updated"}}))
async def update(request: Request, collection_id: str = CollectionId,
                 feature_id: str = FeatureId, c: Ctx = Depends(file_ctx)):
    layer, fid, expect = _existing(request, c, collection_id, feature_id)
    crs, swap = _crs(request)
    doc = await _body(request, PATCH_TYPES)
    result = await _apply(c, layer, edits.Op("update", fid, doc, expect), crs, swap)
    return _answer(c, layer, result, 200)


@router.delete("/{collectionId}/items/{featureId}", summary="Delete a feature (Part 4)",
               status_code=204, response_class=Response, openapi_extra=_doc(
                   None, (), True, {"204": {"description": "Deleted"}}))
async def delete(request: Request, collection_id: str = CollectionId,
                 feature_id: str = FeatureId, c: Ctx = Depends(file_ctx)):
    layer, fid, expect = _existing(request, c, collection_id, feature_id)
    await _apply(c, layer, edits.Op("delete", fid, None, expect))
    return Response(status_code=204, headers={"Cache-Control": "no-store"})
