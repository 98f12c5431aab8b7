"""Approving reports: `gis submissions approve` and the staff route turn a report into a
feature of its layer through the edit path (gis.edits.apply: the loader's own checks), a new
layer version with lineage submission:<id>, served by the OGC API and listed by
`gis layer history`. A report the layer's rules refuse stays pending."""

from __future__ import annotations

import time

from tests.conftest import run_gis
from tests.submission_helpers import INSIDE, flood, jpeg_with_gps

pytest_plugins = ["tests.submission_fixtures"]


def _served(http, layer: str, fid: str) -> dict:
    deadline = time.monotonic() + 10  # the catalog is read again within its TTL
    while True:
        r = http.get(f"/ogc/collections/{layer}/items/{fid}")
        if r.status_code == 200 or time.monotonic() > deadline:
            assert r.status_code == 200, r.text
            return r.json()
        time.sleep(0.3)


def test_approve_with_the_cli_makes_a_feature_with_its_lineage(http, db):
    r = http.post("/submissions", json={
        "layer": "street_lights", "kind": "missing_light", "lon": INSIDE[0], "lat": INSIDE[1],
        "properties": {"street_name": "Hòa Bình", "status": "Không sáng"},
        "message": "Đoạn đường tối từ số 10 đến số 40."})
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    # staff add the pole code the public cannot know (street lights' ids may be generated,
    # so the report would also pass without it)
    proc = run_gis("submissions", "approve", str(sid), "--set", "light_code=DCS-0107",
                   "--note", "Đã kiểm tra tại hiện trường")
    assert proc.returncode == 0, proc.stderr
    row = db.execute("SELECT * FROM spp.submissions WHERE id = %s", (sid,)).fetchone()
    assert row["status"] == "approved" and row["note"] == "Đã kiểm tra tại hiện trường"
    feature = _served(http, "street_lights", row["feature_id"])
    assert feature["properties"]["light_code"] == "DCS-0107"
    assert feature["properties"]["street_name"] == "Hòa Bình"
    assert feature["geometry"]["coordinates"] == list(INSIDE)
    history = run_gis("layer", "history", "street_lights", env={"COLUMNS": "250"})
    assert f"submission:{sid}" in history.stdout, history.stdout
    version = db.execute("SELECT * FROM spp.layer_versions WHERE layer_id = 'street_lights' "
                         "AND version = %s", (row["layer_version"],)).fetchone()
    assert version["source_name"] == f"submission:{sid}" and version["status"] == "current"
    assert version["mode"] == "edit"
    proc = run_gis("submissions", "approve", str(sid))
    assert proc.returncode != 0 and "already approved" in proc.stderr
    audit = db.execute("SELECT * FROM spp.audit_log WHERE action = 'submission_approve' AND "
                       "detail->>'submission' = %s", (str(sid),)).fetchone()
    assert audit is not None


def test_staff_approve_on_the_web(http, sub_data, db):
    doc = flood()
    form = {k: (__import__("json").dumps(v) if k == "properties" else str(v))
            for k, v in doc.items()}
    r = http.post("/submissions", data=form,
                  files={"photo": ("a.jpg", jpeg_with_gps(), "image/jpeg")})
    assert r.status_code == 202, r.text
    sid = r.json()["id"]
    assert http.post(f"/submissions/{sid}/approve", json={}).status_code == 401
    other = {"X-API-Key": sub_data["keys"]["sxd"]}
    assert http.post(f"/submissions/{sid}/approve", json={}, headers=other).status_code == 404
    staff = {"X-API-Key": sub_data["keys"]["snnmt"]}
    r = http.post(f"/submissions/{sid}/approve", json={"note": "Xác nhận",
                                                      "properties": {"source": "Người dân"}},
                  headers=staff)
    assert r.status_code == 200, r.text
    done = r.json()
    assert done["status"] == "approved" and done["reviewed_by"].startswith("key:")
    feature = _served(http, "flood_observations", done["feature_id"])
    assert feature["properties"]["depth_cm"] == 35
    assert feature["properties"]["source"] == "Người dân"
    assert feature["properties"]["observed_at"].startswith("2025-10-02T10:45:00")  # 17:45+07
    version = db.execute("SELECT source_name, edits FROM spp.layer_versions WHERE layer_id = "
                         "'flood_observations' AND version = %s",
                         (done["layer_version"],)).fetchone()
    assert version["source_name"] == f"submission:{sid}"
    assert version["edits"]["created"] == [int(done["feature_id"])]
    r = http.post(f"/submissions/{sid}/approve", json={}, headers=staff)
    assert r.status_code == 409 and r.json()["description_vi"]
    # the queue's listing of approved reports, for the owner's staff
    listed = http.get("/submissions", params={"status": "approved"}, headers=staff).json()
    assert sid in [s["id"] for s in listed["submissions"]]
