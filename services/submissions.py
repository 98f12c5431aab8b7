"""Reports from citizens and businesses: ``POST /submissions`` (public; JSON, or a multipart
form with an optional photo), ``GET /submissions/kinds`` (public: what the form may send, from
the layer files' ``submissions:``), and the moderation queue for staff of the target layer's
owner (or admins): list, show, photo, approve, reject. The queue is never served to the
public: every route that reads it answers 401 without a credential and 404 for a report of a
layer the caller may not moderate. Refusals carry the problem in English and Vietnamese
(``description``, ``description_vi``) and the ``field`` it is about; a refused report stores
nothing."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from gis.layerdef import VectorLayerDef
from gis.settings import get_settings
from gis.submissions import SubmissionError, queue
from gis.submissions import photo as photos
from gis.submissions.check import check, submittable, text
from services.access import Principal, principal
from services.ogc.errors import OGCError

router = APIRouter(tags=["Submissions"])
FORM_LIMITS = {"max_files": 1, "max_fields": 16, "max_part_size": 64 * 1024}
DECODES = asyncio.Semaphore(2)  # photos decoded at once in a worker (memory: pixels × 4 B)
NO_STORE = {"Cache-Control": "no-store"}


class SignIn(OGCError):
    status = 401
    code = "Unauthorized"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Bearer realm="SPP Can Tho"'}


def refused(exc: SubmissionError) -> JSONResponse:
    return JSONResponse(exc.document(), status_code=exc.status, headers=NO_STORE)


async def _layers(request: Request) -> dict[str, VectorLayerDef]:
    """Definitions of the loaded vector layers (the catalog; a connection held briefly)."""
    async with request.app.state.pool.connection() as conn:
        infos = await request.app.state.catalog.layers(conn)
    return {i: info.definition for i, info in infos.items()}


@contextlib.asynccontextmanager
async def _writer(request: Request):
    """A connection to the primary in a read-write transaction (the pool's are read-only by
    default; the web role may write only the queue)."""
    router_ = request.app.state.pool
    pool = router_.primary.pool if hasattr(router_, "primary") else router_
    async with pool.connection() as conn, conn.transaction():
        await conn.execute("SET TRANSACTION READ WRITE")
        yield conn


# -- the public -------------------------------------------------------------------------------
class Refusal(BaseModel):
    code: str
    description: str
    description_vi: str | None = None
    field: str | None = None


class Accepted(BaseModel):
    id: int
    status: str
    message: dict[str, str]


REPORT_BODY = {
    "requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["layer", "lon", "lat"],
            "properties": {
                "layer": {"type": "string"}, "kind": {"type": "string"},
                "lon": {"type": "number"}, "lat": {"type": "number"},
                "properties": {"type": "object"}, "message": {"type": "string"},
                "lang": {"type": "string", "enum": ["vi", "en"]}}}},
        "multipart/form-data": {"schema": {"type": "object", "required": ["layer", "lon", "lat"],
            "properties": {
                "layer": {"type": "string"}, "kind": {"type": "string"},
                "lon": {"type": "string"}, "lat": {"type": "string"},
                "properties": {"type": "string", "description": "a JSON object"},
                "message": {"type": "string"}, "lang": {"type": "string"},
                "photo": {"type": "string", "format": "binary"}}}}}},
}


@router.post("/submissions", status_code=202, summary="Send a report (citizens, businesses)",
             response_model=Accepted, openapi_extra=REPORT_BODY,
             responses={400: {"model": Refusal}, 413: {"model": Refusal},
                        415: {"model": Refusal}, 429: {"model": Refusal}})
async def submit(request: Request):
    """A report tied to a point in the city, about a layer that takes reports (see
    /submissions/kinds). It waits for staff review; nothing of it is published before."""
    try:
        return await _submit(request)
    except SubmissionError as exc:
        return refused(exc)


async def _submit(request: Request) -> JSONResponse:
    try:
        return await _accept(request)
    finally:
        await request.close()  # a spooled photo's temporary file goes now


async def _accept(request: Request) -> JSONResponse:
    s = get_settings()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    upload: UploadFile | None = None
    if ctype == "application/json":
        body = await request.body()
        if len(body) > s.max_body_bytes:  # the route's larger limit is for photos only
            raise SubmissionError(f"a JSON report is at most {s.max_body_bytes} bytes",
                                  f"báo cáo dạng JSON tối đa {s.max_body_bytes} byte",
                                  status=413, code="PayloadTooLarge")
        try:
            raw = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise SubmissionError(f"the body is not valid JSON ({str(exc)[:80]})",
                                  "nội dung không phải JSON hợp lệ",
                                  code="InvalidJSON") from None
    elif ctype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raw, upload = await _form(request, s)
    else:
        raise SubmissionError("send the report as application/json or multipart/form-data "
                              "(with a photo)", "hãy gửi báo cáo dạng application/json hoặc "
                              "multipart/form-data (kèm ảnh)", status=415,
                              code="UnsupportedMediaType")
    loaded = await _layers(request)
    defs = submittable(loaded)
    report, kind = check(raw, defs, s.submission_text_max)
    reference = queue.reference_layer(loaded)
    photo = None
    if upload is not None:
        if not kind.photo:
            raise SubmissionError(f"a {kind.kind} report takes no photo",
                                  f"báo cáo {kind.kind} không kèm ảnh", field="photo")
        data = await upload.read(s.submission_photo_bytes + 1)
        async with DECODES:
            photo = await asyncio.to_thread(photos.clean, data, s.submission_photo_bytes,
                                            s.submission_photo_pixels)
    async with _writer(request) as conn:
        if reference is not None:
            margin = defs[report.layer_id].checks.margin_m
            cur = await conn.execute(*queue.ward_query(reference, report.lon, report.lat,
                                                       margin))
            if not (await cur.fetchone())["inside"]:
                raise queue.outside_wards(report.lon, report.lat)
        cur = await conn.execute(queue.INSERT, queue.insert_values(report, photo is not None))
        row = await cur.fetchone()
        if photo is not None:
            await conn.execute(queue.INSERT_PHOTO, queue.photo_values(row["id"], photo))
    return JSONResponse(
        {"id": row["id"], "status": "pending",
         "message": {"vi": f"Cảm ơn bạn. Báo cáo số {row['id']} đã được gửi và sẽ được cán "
                           "bộ xem xét trước khi công bố.",
                     "en": f"Thank you. Report {row['id']} was received; staff review it "
                           "before anything is published."}},
        status_code=202, headers=NO_STORE)


async def _form(request: Request, s) -> tuple[dict, UploadFile | None]:
    try:
        form = await request.form(**FORM_LIMITS)
    except HTTPException as exc:  # Starlette's refusal of a malformed or oversized form
        raise SubmissionError(f"the form cannot be read: {str(exc.detail)[:120]}",
                              "không đọc được biểu mẫu (số trường, kích thước hoặc định dạng "
                              "không hợp lệ)", code="InvalidForm") from None
    raw: dict[str, Any] = {}
    upload = None
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key != "photo":
                raise SubmissionError(f"{key[:40]}: only 'photo' may be a file",
                                      f"{key[:40]}: chỉ trường 'photo' được là tệp", field=key)
            if value.size or value.filename:
                upload = value
            continue
        if key in raw:
            raise SubmissionError(f"{key[:40]}: given twice", f"{key[:40]}: bị gửi hai lần",
                                  field=key[:40])
        raw[key] = value
    if upload is not None and not upload.size:
        raise SubmissionError("photo: the file is empty", "ảnh: tệp rỗng", field="photo")
    if isinstance(raw.get("properties"), str):
        try:
            raw["properties"] = orjson.loads(raw["properties"])
        except orjson.JSONDecodeError:
            raise SubmissionError("properties: not a valid JSON object",
                                  "properties: không phải đối tượng JSON hợp lệ",
                                  field="properties") from None
    return raw, upload


@router.get("/submissions/kinds", summary="What the public may report, by layer")
async def kinds(request: Request):
    """The layers that take reports, their kinds, the fields the public may fill (label,
    type, unit, code list), which are required, whether a photo may come, and the limits."""
    s = get_settings()
    from gis.codelists import get_codelist

    out = []
    for layer in submittable(await _layers(request)).values():
        for k in layer.submissions.kinds:
            fields = []
            for name in k.fields:
                f = layer.field[name]
                d = {"name": name, "type": f.type, "label": f.label.model_dump(),
                     "required": name in k.required, "unit": f.unit,
                     "max_length": min(f.max_length or s.submission_text_max,
                                       s.submission_text_max)}
                if f.codelist:
                    d["codes"] = [{"code": e.code, "vi": e.vi, "en": e.en}
                                  for e in get_codelist(f.codelist)]
                fields.append(d)
            out.append({"layer": layer.id, "layer_title": layer.title.model_dump(),
                        "kind": k.kind, "title": k.title.model_dump(),
                        "description": k.description.model_dump() if k.description else None,
                        "photo": k.photo, "fields": fields})
    return JSONResponse({"kinds": out, "limits": {
        "photo_bytes": s.submission_photo_bytes, "photo_pixels": s.submission_photo_pixels,
        "photo_types": sorted(photos.FORMATS.values()), "text_max": s.submission_text_max}},
        headers={"Cache-Control": "public, max-age=60"})


# -- staff --------------------------------------------------------------------------------------
async def staff(who: Principal = Depends(principal)) -> Principal:
    if who.is_public:
        raise SignIn("the moderation queue is for signed-in staff: send an API key or token "
                     "(Authorization: Bearer …)")
    return who


def _may(who: Principal, layer: VectorLayerDef | None) -> bool:
    """Who reviews a layer's reports: admins, staff of its owner, and those its ``edit``
    rule lets edit it (approving is an edit)."""
    if who.role == "admin":
        return True
    if layer is None or who.role != "staff":
        return False
    return layer.owner_code in who.departments or (
        layer.edit is not None and layer.edit.allows(who.role, who.departments))


def _audit_read(request: Request, who: Principal, rows: list[dict]) -> None:
    """Reports may hold personal data the public wrote: staff reading them is audited
    (``gis audit --action submission_read``), one row a layer, off the request path."""
    client = request.client.host if request.client else "unknown"
    for layer_id in sorted({r["layer_id"] for r in rows}):
        ids = [r["id"] for r in rows if r["layer_id"] == layer_id]
        request.app.state.audit.put((who.name, who.role, "submission_read", layer_id, [],
                                     {"path": request.url.path, "submissions": ids[:100]},
                                     client))


def _doc(row: dict, request: Request) -> dict:
    doc = {k: v for k, v in row.items()}
    for k in ("created_at", "reviewed_at"):
        doc[k] = doc[k].isoformat() if doc[k] else None
    if row["has_photo"]:
        doc["photo"] = str(request.url_for("submission_photo", sid=row["id"]))
    return doc


async def _row(request: Request, who: Principal, sid: int) -> dict:
    async with _writer(request) as conn:
        cur = await conn.execute(*queue.get_sql(sid))
        row = await cur.fetchone()
    defs = await _layers(request)
    if row is None or not _may(who, defs.get(row["layer_id"])):
        raise SubmissionError(f"no submission {sid} you may review",
                              f"không có báo cáo {sid} mà bạn được xem xét", status=404,
                              code="NotFound")
    return row


@router.get("/submissions", summary="The moderation queue (staff)")
async def queue_list(request: Request, status: str | None = Query(
        "pending", description="pending | approved | rejected"),
        layer: str | None = Query(None, max_length=100),
        limit: int = Query(100, ge=1, le=1000), after: int | None = Query(None, ge=0),
        who: Principal = Depends(staff)):
    """Reports of the layers the caller's department reviews, oldest first."""
    defs = await _layers(request)
    mine = None if who.role == "admin" else {i for i, d in defs.items()
                                             if isinstance(d, VectorLayerDef) and _may(who, d)}
    try:
        q, params = queue.list_sql(status or None, layer, mine, limit, after)
    except SubmissionError as exc:
        return refused(exc)
    async with _writer(request) as conn:
        cur = await conn.execute(q, params)
        rows = await cur.fetchall()
    _audit_read(request, who, rows)
    return JSONResponse({"submissions": [_doc(r, request) for r in rows]},
                        headers={"Cache-Control": "private, no-store"})


@router.get("/submissions/{sid}", summary="One report (staff)")
async def queue_show(request: Request, sid: int, who: Principal = Depends(staff)):
    try:
        row = await _row(request, who, sid)
    except SubmissionError as exc:
        return refused(exc)
    _audit_read(request, who, [row])
    return JSONResponse(_doc(row, request), headers={"Cache-Control": "private, no-store"})


@router.get("/submissions/{sid}/photo", summary="A report's photo (staff)",
            name="submission_photo")
async def queue_photo(request: Request, sid: int, who: Principal = Depends(staff)):
    try:
        row = await _row(request, who, sid)
    except SubmissionError as exc:
        return refused(exc)
    _audit_read(request, who, [row])
    async with _writer(request) as conn:
        cur = await conn.execute(queue.PHOTO_SQL, (sid,))
        p = await cur.fetchone()
    if p is None:
        return refused(SubmissionError(f"submission {sid} has no photo",
                                       f"báo cáo {sid} không có ảnh", status=404,
                                       code="NotFound"))
    return Response(bytes(p["content"]), media_type=p["media_type"], headers={
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'", "Content-Disposition": "inline"})


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=1000)
    properties: dict[str, Any] = {}  # fields staff add (e.g. the asset's code)


class Rejection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=1000)


@router.post("/submissions/{sid}/approve", summary="Approve a report: it becomes a feature")
async def queue_approve(request: Request, sid: int, body: Approval = Body(...),
                        who: Principal = Depends(staff)):
    try:
        await _row(request, who, sid)
        defs = await _layers(request)
        row = await asyncio.to_thread(_approve, sid, who.name, body, defs)
    except SubmissionError as exc:
        return refused(exc)
    return JSONResponse(_doc(row, request), headers=NO_STORE)


def _approve(sid: int, actor: str, body: Approval, defs: dict) -> dict:
    from gis import db

    s = get_settings()
    if not s.database_url and s.web_database_url:  # a web tier holding only the web role
        raise SubmissionError(
            "approving needs the owner role (DATABASE_URL), which this server does not hold; "
            "approve with `gis submissions approve`", "máy chủ này không có quyền ghi dữ liệu "
            "lớp (DATABASE_URL); hãy duyệt bằng lệnh `gis submissions approve`", status=503,
            code="ServiceUnavailable")
    with db.connect() as conn:  # the edit path writes layer versions (the owner role)
        return queue.approve(conn, sid, actor, body.note, body.properties, defs)


@router.post("/submissions/{sid}/reject", summary="Reject a report, with the reason")
async def queue_reject(request: Request, sid: int, body: Rejection = Body(...),
                       who: Principal = Depends(staff)):
    try:
        await _row(request, who, sid)
        reason = text(body.reason, "reason", 1000)
        if not reason:
            raise SubmissionError("reason: say why", "reason: ghi lý do", field="reason")
        async with _writer(request) as conn:
            cur = await conn.execute(
                "UPDATE spp.submissions SET status = 'rejected', reason = %s, reviewed_by = "
                "%s, reviewed_at = now() WHERE id = %s AND status = 'pending' RETURNING id",
                (reason, who.name, sid))
            if await cur.fetchone() is None:
                raise SubmissionError(f"submission {sid} is already decided",
                                      f"báo cáo {sid} đã được xử lý", status=409,
                                      code="AlreadyDecided")
            cur = await conn.execute(*queue.get_sql(sid))
            row = await cur.fetchone()
            await conn.execute(
                "INSERT INTO spp.audit_log (actor, role, action, layer_id, detail) VALUES "
                "(%s, %s, 'submission_reject', %s, %s::jsonb)",
                (who.name, who.role, row["layer_id"],
                 orjson.dumps({"submission": sid, "reason": reason}).decode()))
    except SubmissionError as exc:
        return refused(exc)
    return JSONResponse(_doc(row, request), headers=NO_STORE)
