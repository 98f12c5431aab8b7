"""Reports from citizens and businesses against a real `gis serve` and `gis submissions`
subprocesses: what the form may send, a report accepted into the moderation queue, its photo
stored without metadata, every hostile input a clear 4xx in English and Vietnamese that
stores nothing, the photo's body limit on this route only, the rate limit per address, the
queue never served to the public, and staff review (reject; approve in
test_submissions_approve.py)."""

from __future__ import annotations

import io
import json
import time

import httpx
import pytest
from PIL import Image

from tests.conftest import run_gis, serve
from tests.submission_helpers import (
    GPS_TAG,
    HANOI,
    IN_BOX_NOT_WARD,
    INSIDE,
    count,
    flood,
    jpeg_with_gps,
    noise_png,
)

pytest_plugins = ["tests.submission_fixtures"]


def auth(data, dep: str) -> dict:
    return {"X-API-Key": data["keys"][dep]}


def test_kinds_come_from_the_layer_files(http):
    r = http.get("/submissions/kinds")
    assert r.status_code == 200
    kinds = {k["kind"]: k for k in r.json()["kinds"]}
    assert set(kinds) == {"flood_observation", "missing_light", "address_correction"}
    f = kinds["flood_observation"]
    assert f["layer"] == "flood_observations" and f["photo"] is True
    fields = {x["name"]: x for x in f["fields"]}
    assert fields["depth_cm"]["required"] and fields["depth_cm"]["type"] == "integer"
    assert fields["depth_cm"]["label"] == {"vi": "Độ sâu ngập (cm)", "en": "Flood depth (cm)"}
    assert [c["code"] for c in fields["depth_class"]["codes"]] == ["D1", "D2", "D3", "D4", "D5"]
    assert "light_code" not in {x["name"] for x in kinds["missing_light"]["fields"]}
    limits = r.json()["limits"]
    assert limits["photo_bytes"] == 5_000_000 and "image/webp" in limits["photo_types"]


def test_a_report_waits_in_the_queue_which_the_public_never_reads(http, sub_data, db):
    before = count(db)
    r = http.post("/submissions", json=flood())
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    assert "Cảm ơn" in r.json()["message"]["vi"] and r.headers["cache-control"] == "no-store"
    row = db.execute("SELECT *, ST_X(geom) x, ST_Y(geom) y FROM spp.submissions WHERE id = %s",
                     (sid,)).fetchone()
    assert row["status"] == "pending" and row["layer_id"] == "flood_observations"
    assert row["properties"] == {"depth_cm": 35, "observed_at": "2025-10-02T17:45:00+07:00",
                                 "street_name": "Nguyễn Văn Cừ"}
    assert (row["x"], row["y"]) == INSIDE and count(db) == (before[0] + 1, before[1])
    # the public: 401 on every route that reads the queue
    for path in ("/submissions", f"/submissions/{sid}", f"/submissions/{sid}/photo",
                 "/submissions?status=pending&layer=flood_observations"):
        r = http.get(path)
        assert r.status_code == 401 and "WWW-Authenticate" in r.headers, path
        assert "Nguyễn Văn Cừ" not in r.text
    for path in (f"/submissions/{sid}/approve", f"/submissions/{sid}/reject"):
        assert http.post(path, json={"reason": "x"}).status_code == 401
    # staff of another department: not in their list, and 404 (not 403) for the report
    other = auth(sub_data, "ca")
    assert sid not in [s["id"] for s in http.get("/submissions", headers=other).json()[
        "submissions"]]
    assert http.get(f"/submissions/{sid}", headers=other).status_code == 404
    assert http.post(f"/submissions/{sid}/reject", json={"reason": "no"},
                     headers=other).status_code == 404
    # the owner's staff see it
    mine = http.get("/submissions", headers=auth(sub_data, "snnmt")).json()["submissions"]
    doc = next(s for s in mine if s["id"] == sid)
    assert doc["message"] == "Nước ngập tới đầu gối sau cơn mưa lớn." and doc["lon"] == INSIDE[0]
    assert http.get(f"/submissions/{sid}", headers=auth(sub_data, "admin")).status_code == 200
    # staff reading reports is audited (they may hold what the public wrote about itself)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        rows = db.execute("SELECT actor, detail FROM spp.audit_log WHERE action = "
                          "'submission_read' AND layer_id = 'flood_observations'").fetchall()
        if len(rows) >= 2:
            break
        time.sleep(0.3)
    assert any(sid in r["detail"]["submissions"] for r in rows), rows


def test_photo_is_judged_by_content_and_stored_without_metadata(http, sub_data, db):
    original = jpeg_with_gps()
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(GPS_TAG)  # it has a position
    doc = flood()
    form = {k: (json.dumps(v) if k == "properties" else str(v)) for k, v in doc.items()}
    # declared as a PNG named .png: the content decides, it is a JPEG
    r = http.post("/submissions", data=form,
                  files={"photo": ("anh.png", original, "image/png")})
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    stored = db.execute("SELECT * FROM spp.submission_photos WHERE submission_id = %s",
                        (sid,)).fetchone()
    assert stored["media_type"] == "image/jpeg"
    assert (stored["width"], stored["height"]) == (480, 640)  # the orientation applied
    content = bytes(stored["content"])
    im = Image.open(io.BytesIO(content))
    assert not im.getexif() and not im.getexif().get_ifd(GPS_TAG)
    assert b"owner secret" not in content and "Nguyễn".encode() not in content
    assert b"PhoneMaker" not in content
    assert not {"exif", "xmp", "icc_profile"} & set(im.info)
    # the photo for staff only
    assert http.get(f"/submissions/{sid}/photo").status_code == 401
    r = http.get(f"/submissions/{sid}/photo", headers=auth(sub_data, "snnmt"))
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert r.content == content and r.headers["x-content-type-options"] == "nosniff"
    listed = http.get(f"/submissions/{sid}", headers=auth(sub_data, "snnmt")).json()
    assert listed["has_photo"] and listed["photo"].endswith(f"/submissions/{sid}/photo")


def _form(doc: dict) -> dict:
    return {k: (json.dumps(v) if k == "properties" else str(v)) for k, v in doc.items()}


def _pixel_bomb() -> bytes:
    out = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(out, "PNG")  # 100 Mpx in a few kB
    return out.getvalue()


HOSTILE = {
    # name: (request kwargs, status, field)
    "script_in_message": (dict(json=flood(message="<script>alert(1)</script>")), 400,
                          "message"),
    "script_in_field": (dict(json=flood(properties={
        "depth_cm": 10, "observed_at": "2025-10-02T17:45",
        "street_name": '<img src=x onerror="alert(1)">'})), 400, "street_name"),
    "javascript_url": (dict(json=flood(message="xem javascript:alert(1)")), 400, "message"),
    "outside_city": (dict(json=flood(lon=HANOI[0], lat=HANOI[1])), 400, "point"),
    "swapped_axes": (dict(json=flood(lon=INSIDE[1], lat=INSIDE[0])), 400, "point"),
    "in_box_not_in_a_ward": (dict(json=flood(lon=IN_BOX_NOT_WARD[0],
                                             lat=IN_BOX_NOT_WARD[1])), 400, "point"),
    "no_place": (dict(json={k: v for k, v in flood().items() if k not in ("lon", "lat")}),
                 400, "point"),
    "nan_place": (dict(content=b'{"layer": "flood_observations", "lon": NaN, "lat": 10}',
                       headers={"content-type": "application/json"}), 400, None),
    "unknown_layer": (dict(json=flood(layer="no_such_layer")), 400, "layer"),
    "layer_without_reports": (dict(json=flood(layer="water_pipes")), 400, "layer"),
    "unknown_kind": (dict(json=flood(kind="earthquake")), 400, "kind"),
    "missing_required": (dict(json=flood(properties={"street_name": "Mậu Thân"})), 400,
                         "depth_cm"),
    "wrong_type": (dict(json=flood(properties={"depth_cm": "deep", "observed_at":
                                               "2025-10-02T17:45"})), 400, "depth_cm"),
    "not_in_code_list": (dict(json=flood(properties={
        "depth_cm": 10, "observed_at": "2025-10-02T17:45", "depth_class": "D9"})), 400,
        "depth_class"),
    "future_time": (dict(json=flood(properties={"depth_cm": 10,
                                                "observed_at": "2999-01-01T00:00"})), 400,
                    "observed_at"),
    "field_not_for_the_public": (dict(json=flood(properties={
        "depth_cm": 10, "observed_at": "2025-10-02T17:45", "source": "x"})), 400, "source"),
    "unknown_top_key": (dict(json={**flood(), "status": "approved"}), 400, "status"),
    "text_too_long": (dict(json=flood(message="a" * 1001)), 400, "message"),
    "bad_json": (dict(content=b'{"layer": "flood_', headers={"content-type":
                                                          "application/json"}), 400, None),
    "json_array": (dict(json=[1, 2]), 400, None),
    "deep_json": (dict(content=b"[" * 5000 + b"]" * 5000,
                       headers={"content-type": "application/json"}), 400, None),
    "wrong_content_type": (dict(content=b"layer=x", headers={"content-type": "text/plain"}),
                           415, None),
    "json_too_large": (dict(json=flood(message="x" * 1_200_000)), 413, None),
    "photo_not_an_image": (dict(data=_form(flood()), files={
        "photo": ("a.jpg", b"<html><script>alert(1)</script></html>", "image/jpeg")}), 415,
        "photo"),
    "photo_gif": (dict(data=_form(flood()), files={
        "photo": ("a.gif", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;", "image/gif")}), 415,
        "photo"),
    "photo_damaged": (dict(data=_form(flood()), files={
        "photo": ("a.jpg", jpeg_with_gps()[:900], "image/jpeg")}), 400, "photo"),
    "photo_too_many_pixels": (dict(data=_form(flood()), files={
        "photo": ("a.png", _pixel_bomb(), "image/png")}), 413, "photo"),
    "photo_too_large": (dict(data=_form(flood()), files={
        "photo": ("a.jpg", b"\xff\xd8\xff" + b"\0" * 5_000_100, "image/jpeg")}), 413,
        "photo"),
    "two_files": (dict(data=_form(flood()), files=[
        ("photo", ("a.png", noise_png(8), "image/png")),
        ("photo", ("b.png", noise_png(8), "image/png"))]), 400, None),
    "file_in_another_field": (dict(data=_form(flood()), files={
        "message": ("a.png", noise_png(8), "image/png")}), 400, "message"),
    "too_many_form_fields": (dict(data={**_form(flood()), **{f"f{i}": "x" for i in range(30)}}),
                             400, None),
    "form_properties_not_json": (dict(data={**_form(flood()), "properties": "{depth"}), 400,
                                 "properties"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_input_is_a_clear_4xx_and_stores_nothing(http, db, case):
    kwargs, status, field = HOSTILE[case]
    before = count(db)
    r = http.post("/submissions", **kwargs)
    assert r.status_code == status, (case, r.status_code, r.text)
    doc = r.json()
    assert doc["description"] and doc.get("description_vi"), doc
    assert field is None or doc.get("field") == field, doc
    assert "Traceback" not in r.text and "<script" not in r.text.lower()
    assert count(db) == before, case


def test_huge_multipart_is_refused_before_it_is_read(http, db):
    """Beyond the photo limit and the form's overhead: 413 from the body limit itself, in
    English and Vietnamese, announced or streamed (chunked, no Content-Length)."""
    before = count(db)
    big = b"\0" * 6_000_000
    r = http.post("/submissions", data=_form(flood()),
                  files={"photo": ("a.jpg", big, "image/jpeg")})
    assert r.status_code == 413 and r.json()["description_vi"], r.text

    def chunks():  # a well-formed form whose photo part never ends
        yield (b'--zz\r\nContent-Disposition: form-data; name="layer"\r\n\r\n'
               b'flood_observations\r\n--zz\r\nContent-Disposition: form-data; '
               b'name="photo"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n')
        for _ in range(120):
            yield b"x" * 65536

    r = http.post("/submissions", content=chunks(),
                  headers={"content-type": "multipart/form-data; boundary=zz"})
    assert r.status_code == 413 and r.json()["description_vi"], r.text
    assert count(db) == before


def test_the_photo_body_limit_holds_on_this_route_only(http, sub_data, db):
    photo = noise_png(900)  # ≈ 2.4 MB: above SPP_MAX_BODY_BYTES, under the photo limit
    assert 1_000_000 < len(photo) < 5_000_000
    r = http.post("/submissions", data=_form(flood()),
                  files={"photo": ("a.png", photo, "image/png")})
    assert r.status_code == 202, r.text
    # the same body on any other route: the general limit
    for path in ("/ogc/collections/flood_observations/items", "/submissions/kinds",
                 f"/submissions/{r.json()['id']}/reject"):
        r2 = http.post(path, content=photo, headers={"content-type": "image/png",
                                                     **auth(sub_data, "snnmt")})
        assert r2.status_code == 413, (path, r2.status_code)
        assert "1000000" in r2.json()["description"]


def test_reports_are_rate_limited_per_address(sub_data, own_database, session_dir, db):
    with serve(own_database, session_dir / "submissions_rate.log",
               SPP_SUBMISSION_RATE_PER_HOUR="1", SPP_SUBMISSION_RATE_BURST="2") as root, \
            httpx.Client(base_url=root, timeout=30) as c:
        before = count(db)
        assert c.post("/submissions", json=flood()).status_code == 202
        assert c.post("/submissions", json=flood(layer="nope")).status_code == 400  # counts
        r = c.post("/submissions", json=flood())
        assert r.status_code == 429, r.text
        assert int(r.headers["Retry-After"]) > 600  # one report an hour
        assert "báo cáo" in r.json()["description_vi"]
        assert count(db) == (before[0] + 1, before[1])
        # reading is not a report: other routes are not held back by it
        assert c.get("/submissions/kinds").status_code == 200
        assert c.get("/ogc/collections/flood_observations/items").status_code == 200


def test_the_queue_is_in_no_public_answer(http, sub_server):
    """A report with a unique marker, then every GET route of the OpenAPI document (path
    parameters pinned to real resources) and the web map's pages asked by the public: the
    marker is in none; every /submissions route but the two public ones answers 401."""
    marker = "MARKER-7f3a9c"
    r = http.post("/submissions", json=flood(message=f"Ngập {marker}",
                                             properties={"depth_cm": 5,
                                                         "observed_at": "2025-10-02T17:45",
                                                         "street_name": marker}))
    assert r.status_code == 202
    sid = r.json()["id"]
    doc = http.get("/ogc/openapi").json()
    pins = {"collectionId": "flood_observations", "featureId": "1", "sid": str(sid),
            "tileMatrixSetId": "WebMercatorQuad", "styleId": "flood_observations",
            "tileMatrix": "15", "tileRow": "15320", "tileCol": "25995", "fid": "1",
            "layer_id": "flood_observations", "tms": "WebMercatorQuad", "z": "15", "x": "25995",
            "y": "15320"}
    asked = 0
    for path, ops in doc["paths"].items():
        if "get" not in ops:
            continue
        url = path
        for name, value in pins.items():
            url = url.replace("{" + name + "}", value)
        if "{" in url:
            continue
        # a search echoes its words: it is asked a prefix of the marker
        for q in ("", "?f=json", "?f=html", "?layer=flood_observations&q=" + marker[:-2]):
            r = http.get(url + q)
            asked += 1
            assert marker not in r.text, (url + q, r.status_code)
            if url.startswith("/submissions") and url != "/submissions/kinds":
                assert r.status_code == 401, url
    assert asked > 20
    for page in ("/", "/static/app.js", "/ogc/collections/flood_observations/items?limit=1000",
                 "/api/search?q=" + marker[:-2]):
        assert marker not in http.get(page).text


def test_reject_with_the_cli_and_by_staff_on_the_web(http, sub_data, db):
    sid = http.post("/submissions", json=flood()).json()["id"]
    proc = run_gis("submissions", "list", "--layer", "flood_observations",
                   env={"COLUMNS": "250"})
    assert proc.returncode == 0 and f"\n│ {sid} " in proc.stdout.replace("┃", "│"), proc.stdout
    proc = run_gis("submissions", "show", str(sid))
    assert proc.returncode == 0 and json.loads(proc.stdout)["properties"]["depth_cm"] == 35
    assert run_gis("submissions", "reject", str(sid)).returncode != 0  # --reason is required
    proc = run_gis("submissions", "reject", str(sid), "--reason", "Trùng với báo cáo khác")
    assert proc.returncode == 0, proc.stderr
    row = db.execute("SELECT status, reason, reviewed_by FROM spp.submissions WHERE id = %s",
                     (sid,)).fetchone()
    assert row["status"] == "rejected" and row["reason"] == "Trùng với báo cáo khác"
    proc = run_gis("submissions", "reject", str(sid), "--reason", "again")
    assert proc.returncode != 0 and "already rejected" in proc.stderr
    proc = run_gis("submissions", "list", "--status", "rejected", env={"COLUMNS": "250"})
    assert "Trùng với báo cáo khác" in proc.stdout
    assert run_gis("submissions", "show", "999999").returncode != 0
    # on the web: the owner's staff reject, with a reason; a second decision is a 409
    sid2 = http.post("/submissions", json=flood()).json()["id"]
    staff = auth(sub_data, "snnmt")
    assert http.post(f"/submissions/{sid2}/reject", json={}, headers=staff).status_code == 400
    r = http.post(f"/submissions/{sid2}/reject", json={"reason": "Ảnh không rõ"}, headers=staff)
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    assert http.post(f"/submissions/{sid2}/reject", json={"reason": "x"},
                     headers=staff).status_code == 409
    audit = db.execute("SELECT actor FROM spp.audit_log WHERE action = 'submission_reject' "
                       "AND detail->>'submission' = %s", (str(sid2),)).fetchone()
    assert audit and audit["actor"].startswith("key:")


def test_staff_routes_refuse_bad_input_with_a_4xx(http, sub_data, db):
    """With a credential (the anonymous schemathesis run only sees 401s here): bad JSON,
    wrong types, unknown keys, markup, unknown ids and statuses are 4xx; nothing decided."""
    sid = http.post("/submissions", json=flood()).json()["id"]
    staff = auth(sub_data, "snnmt")
    bodies = [b"{", b"[]", b'{"reason": 5}', b'{"reason": ""}', b'{"reason": "x", "y": 1}',
              b'{"reason": "<script>alert(1)</script>"}', b'{"reason": "' + b"x" * 2000 + b'"}',
              b'{"note": "<b>x</b>"}', b'{"properties": []}', b'{"properties": {"nope": 1}}',
              b'{"properties": {"depth_cm": "deep"}}', b"\xff\xfe", b"null"]
    for body in bodies:
        for act in ("approve", "reject"):
            r = http.post(f"/submissions/{sid}/{act}", content=body,
                          headers={**staff, "content-type": "application/json"})
            assert 400 <= r.status_code < 500, (act, body[:40], r.status_code, r.text)
    for path in ("/submissions?status=bogus", "/submissions?limit=0", "/submissions?after=-1",
                 "/submissions/999999999", "/submissions/-1", "/submissions/abc",
                 "/submissions/99999999999999999999999", "/submissions/999999999/photo",
                 f"/submissions/{sid}/photo"):
        r = http.get(path, headers=staff)
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text)
    assert http.post("/submissions/999999999/approve", json={},
                     headers=staff).status_code == 404
    assert db.execute("SELECT status FROM spp.submissions WHERE id = %s",
                      (sid,)).fetchone()["status"] == "pending"
