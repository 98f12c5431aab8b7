"""The investment project catalogue (/lists/investment_projects) against a real server on a
database of its own: our own delivery of projects (GeoJSON, the aliases a department uses) and
parcels under them. Each filter's rows equal what the database says; the CSV export (BOM)
equals the filtered list; links answer; layer text is escaped."""

from __future__ import annotations

import csv
import io
import shutil

import geopandas as gpd
import httpx
import lxml.html
import pytest
import shapely

from tests.builders import write
from tests.conftest import ROOT, run_gis, serve

EVIL = "Dự án <script>alert(1)</script> & \"Cái Răng\""
X0, Y0 = 105.770, 10.030
PROJECTS = [  # code, name, sector, ward, area (ha), capital (billion VND), status
    ("DA-01", "Khu dân cư Bến Ninh Kiều", "Nhà ở", "Ninh Kiều", 12.5, 850.0, "Đang kêu gọi"),
    ("DA-02", "Trung tâm logistics Cái Răng", "Logistics", "Cái Răng", 30.0, 1500.0,
     "Đang kêu gọi"),
    ("DA-03", EVIL, "Du lịch", "Cái Răng", 5.0, 120.0, "Đã có nhà đầu tư"),
    ("DA-04", "Bệnh viện quốc tế", "Y tế", "Ninh Kiều", 8.0, 2000.0, "Đang kêu gọi"),
]
CONTACT = "Trung tâm Xúc tiến Đầu tư, 0292 3 123 456"
SECRET = "Nguyễn Văn Bí Mật 0909 999 888"  # a personal field of this module's layer copy


@pytest.fixture(scope="module")
def server(own_database, session_dir):
    folder = session_dir / "lists_data"
    folder.mkdir(exist_ok=True)
    # the layer files with one personal field more in the projects, listed among the columns
    layers = session_dir / "layers_lists"
    shutil.copytree(ROOT / "layers", layers, dirs_exist_ok=True)
    text = (layers / "investment_projects.yaml").read_text(encoding="utf-8")
    text = text.replace("  - name: url\n", "  - name: contact_person\n    personal: true\n"
                        "    label: {vi: Người liên hệ, en: Contact person}\n"
                        "    aliases: [NguoiLienHe]\n  - name: url\n", 1)
    text = text.replace("investment_form, contact_agency]", "investment_form, contact_agency, "
                        "contact_person]", 1)
    assert "contact_person]" in text
    (layers / "investment_projects.yaml").write_text(text, encoding="utf-8")
    env = {"DATABASE_URL": own_database, "SPP_DATA_DIR": str(session_dir / "lists"),
           "SPP_LAYERS_DIR": str(layers)}
    boxes = [shapely.box(X0 + i * 0.002, Y0, X0 + i * 0.002 + 0.0015, Y0 + 0.0015)
             for i in range(len(PROJECTS))]
    parcels = gpd.GeoDataFrame(
        {"MaXa": ["31135"] * len(boxes), "SoTo": [1] * len(boxes),
         "SoThua": list(range(1, len(boxes) + 1))}, geometry=boxes, crs="OGC:CRS84")
    run_gis("load", str(write(parcels, folder / "thua.geojson")), "--layer",
            "cadastral_parcels", "--force", env=env, check=True)
    projects = gpd.GeoDataFrame(
        {"MaDA": [p[0] for p in PROJECTS], "TenDA": [p[1] for p in PROJECTS],
         "LinhVuc": [p[2] for p in PROJECTS], "TenXa": [p[3] for p in PROJECTS],
         "DienTich": [p[4] for p in PROJECTS], "TongVon": [p[5] for p in PROJECTS],
         "TinhTrang": [p[6] for p in PROJECTS], "LoaiDat": ["ODT"] * len(PROJECTS),
         "DauMoi": [CONTACT] * len(PROJECTS), "NguoiLienHe": [SECRET] * len(PROJECTS)},
        geometry=[b.buffer(-0.0003) for b in boxes], crs="OGC:CRS84")
    run_gis("load", str(write(projects, folder / "du_an.geojson")), "--layer",
            "investment_projects", "--force", env=env, check=True)
    # a plan zone south of the parcels (the browser clicks it for its code's meaning)
    zone = gpd.GeoDataFrame({"MaQH": ["ODT"], "TenXa": ["Ninh Kiều"]}, geometry=[
        shapely.box(X0, Y0 - 0.003, X0 + 0.004, Y0 - 0.001)], crs="OGC:CRS84")
    run_gis("load", str(write(zone, folder / "qh.geojson")), "--layer", "land_use_plan_zones",
            "--force", env=env, check=True)
    with serve(own_database, session_dir / "lists_serve.log", **env) as root:
        yield root


@pytest.fixture(scope="module")
def web(server):
    with httpx.Client(base_url=server, timeout=60) as c:
        yield c


def _codes(web, params: dict) -> list[str]:
    r = web.get("/ogc/collections/investment_projects/items", params={"f": "json", **params})
    assert r.status_code == 200, r.text
    return [f["properties"]["project_code"] for f in r.json()["features"]]


CASES = [  # the CQL2 text the page builds for each filter, and the database's condition
    ("sector = 'Logistics'", "sector = 'Logistics'"),
    ("ward_name = 'Cái Răng'", "ward_name = 'Cái Răng'"),
    ("status = 'Đang kêu gọi'", "status = 'Đang kêu gọi'"),
    ("site_area >= 8 AND site_area <= 12.5", "site_area BETWEEN 8 AND 12.5"),
    ("total_investment >= 1000", "total_investment >= 1000"),
    ("(CASEI(name) LIKE CASEI('%bệnh%') OR CASEI(project_code) LIKE CASEI('%bệnh%'))",
     "lower(name) LIKE '%bệnh%'"),
]


@pytest.mark.parametrize(("cql", "where"), CASES)
def test_each_filter_gives_the_projects_the_database_says(web, own_database, cql, where):
    import psycopg

    with psycopg.connect(own_database) as c:
        want = [r[0] for r in c.execute(
            f"SELECT project_code FROM data.investment_projects WHERE {where} ORDER BY 1")]
    assert want, "a filter case must select something"
    got = _codes(web, {"filter": cql, "filter-lang": "cql2-text", "sortby": "+project_code"})
    assert got == want
    r = web.get("/lists/investment_projects/export.csv",
                params={"filter": cql, "filter-lang": "cql2-text", "sortby": "+project_code"})
    assert r.status_code == 200 and r.content.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["project_code"] for row in rows] == want
    names = {p[0]: p[1] for p in PROJECTS}
    assert all(row["name"] == names[row["project_code"]] for row in rows)  # Vietnamese intact


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_page_escapes_and_links_resolve(web, lang):
    r = web.get("/lists/investment_projects", params={"lang": lang})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<script>alert(1)" not in r.text  # the project name reaches the page escaped
    doc = lxml.html.fromstring(r.content)
    options = doc.xpath("//select[@name='ward_name']/option/text()")
    assert {"Ninh Kiều", "Cái Răng"} <= set(options)
    assert doc.xpath("//h1")[0].text_content() == (
        "Danh mục dự án kêu gọi đầu tư" if lang == "vi" else
        "Catalogue of projects open for investment")
    fid = web.get("/ogc/collections/investment_projects/items",
                  params={"f": "json", "project_code": "DA-03"}).json()["features"][0]["id"]
    plan = web.get(f"/lists/investment_projects/{fid}/planning", params={"lang": lang},
                   follow_redirects=True)
    assert plan.status_code == 200 and "/api/parcels/" in str(plan.url)
    for src in doc.xpath("//script/@src"):
        assert web.get(src).status_code == 200


@pytest.mark.parametrize("path", ["/lists/cadastral_parcels", "/lists/water_pipes",
                                  "/lists/%3Cscript%3E", "/lists/investment_projects/x/planning",
                                  "/lists/investment_projects/99999/planning"])
def test_no_list_is_404(web, path):
    assert web.get(path).status_code == 404


ODD = ["\x00", "a\x00", "\u00b2", "\u0663", "-0", "1e999", "%", "..", "\ud7ff", "x" * 3000,
       "'", "<script>"]
SWEEP = ["/lists/{v}", "/lists/investment_projects?lang={v}",
         "/lists/investment_projects/{v}/planning",
         "/lists/investment_projects/1/planning?lang={v}",
         "/lists/investment_projects/export.csv?filter={v}&filter-lang=cql2-text",
         "/lists/investment_projects/export.csv?sortby={v}",
         "/lists/investment_projects/export.csv?{v}=1", "/lists/{v}/export.csv"]


def test_odd_values_are_never_a_server_error(web):
    from urllib.parse import quote

    bad = []
    for template in SWEEP:
        for v in ODD:
            url = template.format(v=quote(v.encode("utf-8", "surrogatepass"), safe=""))
            r = web.get(url)
            if r.status_code >= 500 or (r.status_code >= 400 and "html" in
                                        r.headers.get("content-type", "")):
                bad.append((url[:120], r.status_code, r.text[:120]))
    assert not bad, bad
    assert web.get("/lists/investment_projects").status_code == 200


def test_panel_hints_name_title_and_code_meanings(web):
    doc = web.get("/ogc/collections/investment_projects").json()["spp:map"]
    assert doc["title"] == "name" and doc["catalogue"] == "/lists/investment_projects"
    assert doc["codelists"]["land_use"]["ODT"]["vi"]
    for c in web.get("/ogc/collections").json()["collections"]:
        if c["itemType"] == "feature":
            assert c["spp:map"]["title"], c["id"]  # no panel titled by a bare id


def test_personal_fields_never_reach_the_public(web, own_database):
    import psycopg

    with psycopg.connect(own_database) as c:
        n = c.execute("SELECT count(*) FROM data.investment_projects WHERE contact_person = %s",
                      (SECRET,)).fetchone()[0]
    assert n == len(PROJECTS)  # the database holds it, so a leak would show below
    assert len(_codes(web, {})) == len(PROJECTS)  # the list itself is public
    bodies = [web.get(p) for p in (
        "/lists/investment_projects", "/lists/investment_projects?lang=en",
        "/lists/investment_projects/export.csv", "/ogc/collections/investment_projects",
        "/ogc/collections/investment_projects/items?f=json",
        "/ogc/collections/investment_projects/queryables")]
    for r in bodies:
        assert r.status_code == 200, r.url
        assert SECRET not in r.text and "contact_person" not in r.text, r.url
    r = web.get("/lists/investment_projects/export.csv",
                params={"filter": f"contact_person = '{SECRET}'", "filter-lang": "cql2-text"})
    assert r.status_code == 400  # not even filterable by the public


def test_map_panel_in_chromium(server, web):
    """tests/web/lists.spec.mjs: on a phone, the list filters, its row opens the map at the
    project with its name, status and contacts in the panel, a plan zone shows its code's
    meaning, and no request leaves the server."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (./spp setup installs it)")
    import json
    import subprocess

    from gis.codelists import CODELISTS

    odt = next(e for e in CODELISTS["land_use"] if e.code == "ODT")
    proc = subprocess.run([node, str(ROOT / "tests" / "web" / "lists.spec.mjs"), server,
                           json.dumps({"name": PROJECTS[0][1], "status": PROJECTS[0][6],
                                       "contact": CONTACT, "odt": odt.vi,
                                       "zone": [X0 + 0.002, Y0 - 0.002]})],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    assert lines, f"no result from the browser test:\n{proc.stdout}\n{proc.stderr}"
    result = json.loads(lines[-1])
    assert proc.returncode == 0 and result["ok"], json.dumps(result, ensure_ascii=False,
                                                             indent=1) + proc.stderr
    assert result["seen"]["rows"] == len(PROJECTS)
    assert result["seen"]["caiRang"] == sum(p[3] == "Cái Răng" for p in PROJECTS)
