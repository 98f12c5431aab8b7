"""The moderation queue (``spp.submissions``, ``spp.submission_photos``): what the CLI and the
staff routes read and decide. Nothing here is served to the public. Approving a report makes
it a feature of its layer through the one edit path (``gis.edits.apply``), in the same
transaction as the queue's row, with lineage ``submission:<id>``."""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from gis.layerdef import VectorLayerDef
from gis.submissions import SubmissionError
from gis.submissions.check import Report, text

COLUMNS = ("s.id, s.layer_id, s.kind, s.status, ST_X(s.geom) AS lon, ST_Y(s.geom) AS lat, "
           "s.properties, s.message, s.lang, s.has_photo, s.created_at, s.reviewed_at, "
           "s.reviewed_by, s.note, s.reason, s.feature_id, s.layer_version")
INSERT = ("INSERT INTO spp.submissions (layer_id, kind, geom, properties, message, lang, "
          "has_photo) VALUES (%s, %s, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s, %s, %s, %s) "
          "RETURNING id, created_at")
INSERT_PHOTO = ("INSERT INTO spp.submission_photos (submission_id, media_type, width, height, "
                "bytes, sha256, content) VALUES (%s, %s, %s, %s, %s, %s, %s)")
STATUSES = ("pending", "approved", "rejected")
LINEAGE = "submission:{}"


def insert_values(report: Report, has_photo: bool) -> tuple:
    return (report.layer_id, report.kind, report.lon, report.lat, Jsonb(report.properties),
            report.message, report.lang, has_photo)


def photo_values(sid: int, photo) -> tuple:
    return (sid, photo.media_type, photo.width, photo.height, len(photo.content),
            photo.sha256, photo.content)


def ward_query(reference_id: str, lon: float, lat: float, margin_m: float):
    """(SQL, params): is the point within ``margin_m`` of a polygon of the reference layer
    (the layer whose file has ``checks.reference_for``: the wards)? An index-backed box test
    first, the geodesic distance on what it keeps."""
    deg = margin_m / 100_000 + 1e-6  # ≥ the margin in degrees at Cần Thơ's latitude
    q = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE geom && ST_Expand(p.pt, %s) AND "
                "ST_DWithin(geom::geography, p.pt::geography, %s)) AS inside FROM (SELECT "
                "ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS pt) p").format(
        sql.Identifier("data", reference_id))
    return q, (deg, margin_m, lon, lat)


def outside_wards(lon: float, lat: float) -> SubmissionError:
    return SubmissionError(
        f"the place ({lon:.5f}, {lat:.5f}) is not in a ward or commune of Thành phố Cần Thơ; "
        "pick a place in the city", f"vị trí ({lon:.5f}, {lat:.5f}) không thuộc phường/xã nào "
        "của Thành phố Cần Thơ; hãy chọn một vị trí trong thành phố", code="OutsideCity",
        field="point")


def reference_layer(defs: dict) -> str | None:
    """The id of the layer the city's wards are (``checks.reference_for``), if any."""
    return next((d.id for d in defs.values() if isinstance(d, VectorLayerDef)
                 and d.checks.reference_for is not None), None)


def _where(status: str | None, layer: str | None, layers: set[str] | None):
    clauses, params = [], []
    if status:
        if status not in STATUSES:
            raise SubmissionError(f"status: one of {', '.join(STATUSES)}",
                                  f"status: một trong {', '.join(STATUSES)}", field="status")
        clauses.append("s.status = %s")
        params.append(status)
    if layer:
        clauses.append("s.layer_id = %s")
        params.append(layer)
    if layers is not None:
        clauses.append("s.layer_id = ANY(%s)")
        params.append(sorted(layers))
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def list_sql(status: str | None = None, layer: str | None = None,
             layers: set[str] | None = None, limit: int = 200, after: int | None = None):
    """(SQL, params) of the queue, oldest pending first; ``layers``: only these layers."""
    where, params = _where(status, layer, layers)
    if after is not None:
        where += (" AND " if where else " WHERE ") + "s.id > %s"
        params.append(after)
    return (f"SELECT {COLUMNS} FROM spp.submissions s{where} ORDER BY s.id LIMIT %s",
            [*params, limit])


def get_sql(sid: int) -> tuple[str, tuple]:
    return f"SELECT {COLUMNS} FROM spp.submissions s WHERE s.id = %s", (sid,)


PHOTO_SQL = ("SELECT media_type, width, height, bytes, content FROM spp.submission_photos "
             "WHERE submission_id = %s")


def get(conn: psycopg.Connection, sid: int) -> dict:
    row = conn.execute(*get_sql(sid)).fetchone()
    if row is None:
        raise not_found(sid)
    return row


def not_found(sid: int) -> SubmissionError:
    return SubmissionError(f"no submission {sid}", f"không có báo cáo {sid}", status=404,
                           code="NotFound")


def _pending(row: dict) -> None:
    if row["status"] != "pending":
        raise SubmissionError(
            f"submission {row['id']} is already {row['status']}",
            f"báo cáo {row['id']} đã được xử lý ({row['status']})", status=409,
            code="AlreadyDecided")


def reject(conn: psycopg.Connection, sid: int, reason: str, actor: str) -> dict:
    reason = text(reason, "reason", 1000)
    if not reason:
        raise SubmissionError("reason: say why the report is rejected",
                              "reason: ghi lý do từ chối báo cáo", field="reason")
    with conn.transaction():
        row = conn.execute(get_sql(sid)[0] + " FOR UPDATE", (sid,)).fetchone()
        if row is None:
            raise not_found(sid)
        _pending(row)
        conn.execute("UPDATE spp.submissions SET status = 'rejected', reason = %s, "
                     "reviewed_by = %s, reviewed_at = now() WHERE id = %s",
                     (reason, actor, sid))
        _audit(conn, actor, "submission_reject", row["layer_id"],
               {"submission": sid, "reason": reason})
    return get(conn, sid)


def _audit(conn, actor: str, action: str, layer_id: str, detail: dict) -> None:
    from gis.versions import audit

    audit(conn, actor, action, layer_id, detail, role="staff")


def approve(conn: psycopg.Connection, sid: int, actor: str, note: str | None = None,
            values: dict | None = None, defs: dict | None = None) -> dict:
    """Make the report a feature of its layer: its point and properties, with ``values``
    (fields staff add, e.g. an asset code the public cannot know), through the edit path in
    one transaction with the queue row. Returns the decided row."""
    from gis import edits
    from gis.layerdef import load_layer_defs

    note = text(note, "note", 1000)
    defs = load_layer_defs() if defs is None else defs
    with conn.transaction():
        row = conn.execute(get_sql(sid)[0] + " FOR UPDATE", (sid,)).fetchone()
        if row is None:
            raise not_found(sid)
        _pending(row)
        layer = defs.get(row["layer_id"])
        if not isinstance(layer, VectorLayerDef):
            raise SubmissionError(f"layer {row['layer_id']!r} is no longer defined",
                                  f"lớp {row['layer_id']!r} không còn được định nghĩa",
                                  status=409, code="UnknownLayer")
        unknown = sorted(set(values or {}) - set(layer.field))
        if unknown:
            raise SubmissionError(
                f"{', '.join(unknown)}: not fields of {layer.id} ({', '.join(layer.field)})",
                f"{', '.join(unknown)}: không phải trường của lớp {layer.id}",
                field=unknown[0])
        feature = {"type": "Feature",
                   "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                   "properties": {**row["properties"], **(values or {})}}
        lineage = {"source": LINEAGE.format(sid), "role": "staff", "submission": sid}
        try:  # the one edit path: the loader's checks, a new version, audit, change feed
            result = edits.apply(conn, layer, [edits.Op("create", feature=feature)], actor,
                                 lineage)
        except edits.EditError as exc:
            raise SubmissionError(
                f"the report does not make a valid feature of {layer.id}: {exc}",
                f"báo cáo chưa tạo được đối tượng hợp lệ của lớp {layer.id}: {exc}",
                status=exc.status, code="EditRefused") from None
        result = {"feature_id": result.fids[0], "version": result.version}
        conn.execute("UPDATE spp.submissions SET status = 'approved', note = %s, "
                     "reviewed_by = %s, reviewed_at = now(), feature_id = %s, "
                     "layer_version = %s WHERE id = %s",
                     (note, actor, str(result["feature_id"]), result["version"], sid))
        _audit(conn, actor, "submission_approve", layer.id,
               {"submission": sid, "feature": result["feature_id"],
                "version": result["version"]})
    return get(conn, sid)
