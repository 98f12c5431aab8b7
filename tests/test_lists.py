"""The investment project catalogue (/lists/investment_projects) against a real server on a
database of its own: our own delivery of projects (GeoJSON, the aliases a department uses) and
parcels under them. Each filter's rows equal what the database says; the CSV export (BOM)
equals the filtered list; links answer; layer text is escaped."""

from __future__ import annotations

import csv
import io

import geopandas as gpd
import httpx
import lxml.html
import pytest
import shapely

from tests.builders import write
from tests.conftest import run_gis, serve

EVIL = "Dự án <script>alert(1)</script> & \"Cái Răng\""
X0, Y0 = 105.770, 10.030
PROJECTS = [  # code, name, sector, ward, area (ha), capital (billion VND), status
    ("DA-01", "Khu dân cư Bến Ninh Kiều", "Nhà ở", "Ninh Kiều", 12.5, 850.0, "Đang kêu gọi"),
    ("DA-02", "Trung tâm logistics Cái Răng", "Logistics", "Cái Răng", 30.0, 1500.0,
     "Đang kêu gọi"),
    ("DA-03", EVIL, "Du lịch", "Cái Răng", 5.0, 120.0, "Đã có nhà đầu tư"),
    ("DA-04", "Bệnh viện quốc tế", "Y tế", "Ninh Kiều", 8.0, 2000.0, "Đang kêu gọi"),
]


@pytest.fixture(scope="module")
def server(own_database, session_dir):
    folder = session_dir / "lists_data"
    folder.mkdir(exist_ok=True)
    env = {"DATABASE_URL": own_database, "SPP_DATA_DIR": str(session_dir / "lists")}
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
         "DauMoi": ["Trung tâm Xúc tiến Đầu tư, 0292 3 123 456"] * len(PROJECTS)},
        geometry=[b.buffer(-0.0003) for b in boxes], crs="OGC:CRS84")
    run_gis("load", str(write(projects, folder / "du_an.geojson")), "--layer",
            "investment_projects", "--force", env=env, check=True)
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


def test_panel_hints_name_title_and_code_meanings(web):
    doc = web.get("/ogc/collections/investment_projects").json()["spp:map"]
    assert doc["title"] == "name" and doc["catalogue"] == "/lists/investment_projects"
    assert doc["codelists"]["land_use"]["ODT"]["vi"]
    for c in web.get("/ogc/collections").json()["collections"]:
        if c["itemType"] == "feature":
            assert c["spp:map"]["title"], c["id"]  # no panel titled by a bare id
