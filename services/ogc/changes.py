"""The change feed of a collection (/ogc/collections/{id}/changes): the feature ids that the
published versions created, updated and deleted (gis/changefeed.py writes them), in order,
paged by cursor. The same access rules as the features: a hidden layer is a 404; who made a
change (a person) is shown to staff and administrators only."""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from services.audit import note_read
from services.ogc.collections import CollectionId
from services.ogc.errors import InvalidParameter
from services.ogc.http import JSON, Ctx, cache_headers, ctx
from services.ogc.paramspec import Formats, Params, integer

CHANGES = Params(
    integer("since", "Layer version the client holds: the changes published after it (the "
            "latest publication of that version, e.g. after a rollback). 0: from the first. "
            "Not with cursor.", 0, 2**31 - 1, 0),
    integer("cursor", "Position in the feed (`resume` or the `next` link of an earlier "
            "answer): the changes after it. Not with since.", 0, 2**63 - 1, 0),
    integer("limit", "Changes per page", 1, 10_000, 1000),
    Formats({"json": "json", "application/json": "json"}),
)
STAFF = ("staff", "admin")
ROW = {"type": "object", "properties": {
    "seq": {"type": "integer"}, "featureId": {"type": "integer"},
    "change": {"type": "string", "enum": ["created", "updated", "deleted"]},
    "version": {"type": "integer"}, "time": {"type": "string", "format": "date-time"},
    "action": {"type": "string"}, "operator": {"type": "string", "nullable": True}},
    "required": ["seq", "featureId", "change", "version", "time", "action"]}
SCHEMA = {"type": "object", "required": ["collection", "changes", "numberReturned", "resume",
                                         "links"], "properties": {
    "collection": {"type": "string"}, "currentVersion": {"type": "integer", "nullable": True},
    "changes": {"type": "array", "items": ROW}, "numberReturned": {"type": "integer"},
    "resume": {"type": "integer"}, "links": {"type": "array", "items": {"type": "object"}}}}
ERROR = {"content": {JSON: {"schema": {"type": "object", "properties": {
    "code": {"type": "string"}, "description": {"type": "string"}}}}}}

router = APIRouter(prefix="/ogc/collections", tags=["Data"])


@router.get("/{collectionId}/changes", summary="Change feed of a collection",
            description="Feature ids created, updated and deleted by each published version "
                        "(loads, edits, rollbacks), oldest first, with the version, time, "
                        "action and (staff only) operator. Page with the `next` link; poll "
                        "later with `cursor` = `resume`.",
            response_class=Response,
            responses={200: {"content": {JSON: {"schema": SCHEMA}}},
                       400: {"description": "Invalid parameter", **ERROR},
                       404: {"description": "No such collection", **ERROR}},
            openapi_extra=CHANGES.openapi())
async def changes(request: Request, collection_id: str = CollectionId, c: Ctx = Depends(ctx)):
    layer = c.layer(collection_id)
    given = CHANGES.given(request.query_params)
    CHANGES["f"].parse(given.get("f"))
    limit = CHANGES["limit"].integer(given.get("limit"))
    if "since" in given and "cursor" in given:
        raise InvalidParameter("give since (a version) or cursor (a position), not both")
    after = CHANGES["cursor"].integer(given.get("cursor"))
    since = CHANGES["since"].integer(given.get("since")) if "since" in given else None
    if since:
        after = await _position_after(c, layer.id, since, layer.current_version)
    rows = await (await c.conn.execute(
        "SELECT f.id, f.fid, f.change, s.version, s.at, s.action, s.operator "
        "FROM spp.feature_changes f JOIN spp.change_sets s ON s.id = f.set_id "
        "WHERE f.layer_id = %s AND f.id > %s ORDER BY f.id LIMIT %s",
        (layer.id, after, limit + 1))).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    note_read(c.who, layer)
    staff = c.who.role in STAFF
    out = [{"seq": r["id"], "featureId": r["fid"], "change": r["change"],
            "version": r["version"], "time": r["at"].isoformat(), "action": r["action"],
            **({"operator": r["operator"]} if staff else {})} for r in rows]
    resume = rows[-1]["id"] if rows else after
    base = f"/ogc/collections/{layer.id}"
    links = [{"rel": "self", "type": JSON, "href": c.url(f"{base}/changes", dict(given))},
             {"rel": "collection", "type": JSON, "href": c.url(base)}]
    if more:
        links.append({"rel": "next", "type": JSON, "href": c.url(
            f"{base}/changes", {"cursor": resume, "limit": limit})})
    body = {"collection": layer.id, "currentVersion": layer.current_version, "changes": out,
            "numberReturned": len(out), "resume": resume, "links": links}
    headers = cache_headers(c.who, None)
    headers["Cache-Control"] = f"{c.who.cache_scope}, no-cache"
    return Response(orjson.dumps(body), media_type=JSON, headers=headers)


async def _position_after(c: Ctx, layer_id: str, version: int, current: int | None) -> int:
    """The feed position just before the changes published after ``version`` (its latest
    change set); a version the feed never saw is a 400 naming the versions it has, but the
    current one (published before the feed began: nothing changed since)."""
    row = await (await c.conn.execute(
        "SELECT max(id) AS id FROM spp.change_sets WHERE layer_id = %s AND version = %s",
        (layer_id, version))).fetchone()
    if row["id"] is None and version == current:
        last = await (await c.conn.execute(
            "SELECT max(id) AS id FROM spp.feature_changes WHERE layer_id = %s",
            (layer_id,))).fetchone()
        return last["id"] or 0
    if row["id"] is None:
        first = await (await c.conn.execute(
            "SELECT min(version) AS v, (SELECT max(id) FROM spp.feature_changes WHERE "
            "layer_id = %s) AS last FROM spp.change_sets WHERE layer_id = %s",
            (layer_id, layer_id))).fetchone()
        known = (f"its first recorded version is v{first['v']}" if first["v"] is not None
                 else "it has recorded no version yet")
        raise InvalidParameter(
            f"since={version}: the change feed of {layer_id!r} has no version {version} "
            f"({known}); read the features afresh from /items, then follow the feed from "
            f"cursor={first['last'] or 0}")
    nxt = await (await c.conn.execute(
        "SELECT min(f.id) AS id FROM spp.change_sets s JOIN spp.feature_changes f "
        "ON f.set_id = s.id WHERE s.layer_id = %s AND s.id > %s", (layer_id, row["id"]))
    ).fetchone()
    if nxt["id"] is not None:
        return nxt["id"] - 1
    last = await (await c.conn.execute(
        "SELECT max(id) AS id FROM spp.feature_changes WHERE layer_id = %s",
        (layer_id,))).fetchone()
    return last["id"] or 0
