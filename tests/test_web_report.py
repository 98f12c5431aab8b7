"""The report form and the moderation list in a real browser: tests/web/report.spec.mjs
(playwright-core driving Debian's chromium) against a real server with the sample set. A
citizen's report through the form lands in the queue (with its photo, stripped), markup is
refused, staff reject it on the map; no request leaves the server. Screenshots:
tests/artifacts/."""

from __future__ import annotations

import json
import shutil
import subprocess

import psycopg
import pytest
from psycopg.rows import dict_row

from tests.conftest import ROOT, run_gis

pytest_plugins = ["tests.planning_fixtures"]
SPEC = ROOT / "tests" / "web" / "report.spec.mjs"


def test_a_citizen_reports_through_the_form_and_staff_review_it(planning_server, planning_db):
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (./spp setup installs it)")
    key = run_gis("keys", "create", "--name", "street lights desk", "--department", "sxd",
                  env={"DATABASE_URL": planning_db}, check=True).stdout.strip().splitlines()[-1]
    with psycopg.connect(planning_db, row_factory=dict_row) as conn:
        before = conn.execute("SELECT coalesce(max(id), 0) AS m FROM spp.submissions"
                              ).fetchone()["m"]
    proc = subprocess.run([node, str(SPEC), planning_server, key], capture_output=True,
                          text=True, timeout=300, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser test:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0 and result["ok"], json.dumps(result, ensure_ascii=False,
                                                             indent=1) + proc.stderr
    with psycopg.connect(planning_db, row_factory=dict_row) as conn:
        rows = conn.execute(
            "SELECT s.*, p.media_type, p.bytes FROM spp.submissions s LEFT JOIN "
            "spp.submission_photos p ON p.submission_id = s.id WHERE s.id > %s ORDER BY s.id",
            (before,)).fetchall()
    # the refused report stored nothing: two reports, the desktop one rejected by staff
    assert [r["layer_id"] for r in rows] == ["street_lights", "street_lights"]
    desktop, phone = rows
    assert str(desktop["id"]) == result["seen"]["accepted"]["id"]
    assert desktop["status"] == "rejected" and desktop["reason"] == "Đã có kế hoạch thay đèn"
    assert desktop["properties"] == {"street_name": "Đường 3 Tháng 2"}
    assert desktop["media_type"] == "image/png" and desktop["bytes"] > 0
    assert phone["status"] == "pending" and phone["lang"] == "en"
    for name in ("10-report-form", "11-phone-report", "12-moderation"):
        assert (ROOT / "tests" / "artifacts" / f"{name}.png").stat().st_size > 10_000
