"""Planning information, search and selection export against a real server with the sample set.

Areas are checked against an independent PostGIS computation on the ellipsoid,
ST_Area(ST_Intersection(zone, parcel)::geography). The service measures in the VN-2000 TM-3
105°00' plane instead (cadastral convention), so the two differ by the plane's area scale k²:
k = 0.9999 on the central meridian and grows as 1 + E²/(2R²) with the distance E from it; the
new city spans about 105.2°E-106.3°E (E up to ≈ 140 km), so k² lies in 0.9998…1.0003 and the
relative difference stays below 3e-4 (measured: ≈ 2.3e-5 in Ninh Kiều). Shares are ratios of
two areas in the same plane: the scale cancels, so they agree with the geodesic ratio to 1e-6
(tolerance 0.001 percentage points).
"""

from __future__ import annotations

import csv
import io

import pytest

from gis.text import fold_diacritics
from services.planning.search import parse_coordinates

pytest_plugins = ["tests.planning_fixtures"]
PARCEL_KEY = ("31135", 2, 49)  # = tests.planning_fixtures.PARCEL_KEY

AREA_REL = 3e-4
SHARE_ABS = 1e-3


def _fid(pdb, key=PARCEL_KEY) -> int:
    return pdb.execute("SELECT fid FROM data.cadastral_parcels WHERE commune_code = %s AND "
                       "sheet_no = %s AND parcel_no = %s", key).fetchone()["fid"]


def _geodesic_overlaps(pdb, layer: str, fid: int) -> dict[int, tuple[float, float]]:
    rows = pdb.execute(
        f"SELECT z.fid, ST_Area(ST_Intersection(z.geom, p.geom)::geography) AS a, "
        f"ST_Area(p.geom::geography) AS pa FROM data.cadastral_parcels p "
        f"JOIN data.{layer} z ON ST_Intersects(z.geom, p.geom) WHERE p.fid = %s", (fid,))
    return {r["fid"]: (r["a"], 100 * r["a"] / r["pa"]) for r in rows}


def _section(doc: dict, key: str) -> dict | None:
    return next((s for s in doc["sections"] if s["key"] == key), None)


def _check_overlaps(pdb, doc: dict, key: str, layer: str) -> int:
    sec = _section(doc, key)
    assert sec is not None, f"no {key} section"
    want = {f: v for f, v in _geodesic_overlaps(pdb, layer, doc["fid"]).items() if v[0] > 0.02}
    got = {f["fid"]: f for f in sec["features"]}
    assert set(want) <= set(got), (key, want, list(got))
    for fid, (area, share) in want.items():
        f = got[fid]
        assert f["intersection_m2"] == pytest.approx(area, rel=AREA_REL, abs=0.02), (key, fid)
        assert f["share_pct"] == pytest.approx(share, abs=SHARE_ABS + 0.0005), (key, fid)
    return len(want)


def test_planning_of_the_known_parcel(web, pdb):
    fid = _fid(pdb)
    r = web.get(f"/api/parcels/{fid}/planning")
    assert r.status_code == 200
    doc = r.json()
    labels = {p["name"]: p for p in doc["properties"]}
    assert labels["sheet_no"]["value"] == 2 and labels["parcel_no"]["value"] == 49
    assert labels["sheet_no"]["label"] == {"vi": "Số hiệu tờ bản đồ", "en": "Map sheet number"}
    assert labels["land_use_code"]["meaning"]["vi"]  # meaning from gis.codelists
    assert doc["land_use"]["en"]
    # the parcel's own plane area equals the loader's (same TM-3 105°00' plane, EPSG:6960)
    assert doc["area"]["plane_m2"] == pytest.approx(labels["area_plane_m2"]["value"], abs=0.01)
    assert _check_overlaps(pdb, doc, "land_use_plan", "land_use_plan_zones") >= 1
    assert _check_overlaps(pdb, doc, "construction_plan", "construction_plan_zones") >= 1
    # the fixture's flood zone covers the western half, the project the eastern 30 %
    flood = _section(doc, "flood_risk")["features"]
    assert len(flood) == 1 and flood[0]["code"] == "D3"
    assert flood[0]["meaning"]["vi"].startswith("Ngập")
    assert flood[0]["share_pct"] == pytest.approx(50, abs=3)
    _check_overlaps(pdb, doc, "flood_risk", "flood_risk_zones")
    projects = _section(doc, "investment_projects")["features"]
    assert [p["fid"] for p in projects] and projects[0]["share_pct"] == pytest.approx(30, abs=3)
    _check_overlaps(pdb, doc, "investment_projects", "investment_projects")
    # nearest drainage line: the geodesic minimum over every line (no index, no KNN)
    near = _section(doc, "drainage_line")["features"][0]
    best = pdb.execute("SELECT l.fid, ST_Distance(l.geom::geography, p.geom::geography) AS d "
                       "FROM data.drainage_lines l, data.cadastral_parcels p WHERE p.fid = %s "
                       "ORDER BY d LIMIT 1", (fid,)).fetchone()
    assert near["distance_m"] == pytest.approx(best["d"], abs=0.01)
    # water pipes are a restricted layer: the public gets no section, as if not loaded
    assert _section(doc, "water_pipe") is None
    assert "water_pipes" not in r.text


def test_planning_areas_match_postgis_on_parcels_over_several_zones(web, pdb):
    """The fixture's D1/D2 flood zones meet on a diagonal through a block of parcels."""
    fids = [r["fid"] for r in pdb.execute(
        "SELECT p.fid FROM data.cadastral_parcels p JOIN data.flood_risk_zones z "
        "ON ST_Intersects(z.geom, p.geom) GROUP BY p.fid "
        "HAVING count(*) FILTER (WHERE ST_Area(ST_Intersection(z.geom, p.geom)::geography) "
        "> 1) >= 2 ORDER BY p.fid LIMIT 6")]
    assert len(fids) >= 3, "the sample set should have parcels across zone borders"
    for fid in fids:
        doc = web.get(f"/api/parcels/{fid}/planning").json()
        assert _check_overlaps(pdb, doc, "flood_risk", "flood_risk_zones") >= 2
        _check_overlaps(pdb, doc, "land_use_plan", "land_use_plan_zones")
        sec = _section(doc, "flood_risk")
        assert sec["covered_pct"] <= 100.001


def test_planning_html_is_printable_in_both_languages(web, pdb):
    fid = _fid(pdb)
    vi = web.get(f"/api/parcels/{fid}/planning", params={"f": "html"})
    assert vi.status_code == 200 and vi.headers["content-type"].startswith("text/html")
    assert "Thông tin quy hoạch thửa đất" in vi.text and "Số hiệu tờ bản đồ" in vi.text
    assert "Diện tích giao" in vi.text and "@media print" in vi.text
    en = web.get(f"/api/parcels/{fid}/planning", params={"f": "html", "lang": "en"})
    assert "Planning information of a parcel" in en.text and "Map sheet number" in en.text


def test_planning_errors(web):
    assert web.get("/api/parcels/999999999/planning").status_code == 404
    r = web.get("/api/parcels/abc/planning")
    assert r.status_code == 404 and r.json()["code"] == "NotFound"


def test_planning_etag_revalidates(web, pdb):
    r = web.get(f"/api/parcels/{_fid(pdb)}/planning")
    again = web.get(f"/api/parcels/{_fid(pdb)}/planning",
                    headers={"If-None-Match": r.headers["etag"]})
    assert again.status_code == 304


# -- search -----------------------------------------------------------------------------------
def _search(web, q: str) -> dict:
    r = web.get("/api/search", params={"q": q})
    assert r.status_code == 200, r.text
    return r.json()


def test_search_key_function_is_fold_diacritics(pdb):
    rows = pdb.execute("SELECT full_address AS t, spp.search_key(full_address) AS k FROM "
                       "data.address_points UNION ALL SELECT old_names, spp.search_key("
                       "old_names) FROM data.admin_units UNION ALL SELECT address, "
                       "spp.search_key(address) FROM data.cadastral_parcels").fetchall()
    rows = [r for r in rows if r["t"]]
    assert len(rows) > 1000
    assert [r["t"] for r in rows if fold_diacritics(r["t"]) != r["k"]] == []
    nfd = pdb.execute("SELECT spp.search_key(%s) AS k", ("Phu\u031bo\u031b\u0300ng",)).fetchone()
    assert nfd["k"] == "phuong"  # decomposed (NFD) input folds the same


def test_address_search_without_diacritics(web, pdb):
    a = pdb.execute("SELECT fid, full_address FROM data.address_points WHERE house_number "
                    "IS NOT NULL ORDER BY fid LIMIT 1 OFFSET 7").fetchone()
    folded = fold_diacritics(a["full_address"])
    assert folded != a["full_address"].lower()  # the typed text really has no diacritics
    res = _search(web, folded)["results"]
    assert res and res[0]["kind"] == "address"
    assert res[0]["label"]["vi"] == a["full_address"]  # the exact address ranks first
    assert a["fid"] in [r["fid"] for r in res if r["kind"] == "address"]


def test_address_search_with_the_old_ward_name(web, pdb):
    a = pdb.execute("SELECT fid, house_number, street_name, old_ward_name, ward_name FROM "
                    "data.address_points WHERE old_ward_name IS NOT NULL AND "
                    "spp.search_key(full_address) NOT LIKE '%%' || "
                    "spp.search_key(replace(old_ward_name, 'Phường ', '')) || '%%' "
                    "ORDER BY fid LIMIT 1").fetchone()
    old = a["old_ward_name"].replace("Phường ", "").replace("Xã ", "")
    q = fold_diacritics(f"{a['house_number']} {a['street_name']} {old}")
    fids = [r["fid"] for r in _search(web, q)["results"] if r["kind"] == "address"]
    assert a["fid"] in fids, (q, fids)


def test_address_search_uses_the_trigram_index(pdb):
    """The load made the index (search.fields of the layer file); no search had to."""
    pdb.execute("SET enable_seqscan = off")
    plan = "\n".join(r["QUERY PLAN"] for r in pdb.execute(
        "EXPLAIN SELECT fid FROM data.address_points a WHERE spp.search_key(coalesce("
        "a.full_address, '') || ' ' || coalesce(a.old_ward_name, '') || ' ' || coalesce("
        "a.old_district, '')) LIKE '%thuong kiet%'"))
    assert "_skey" in plan, plan


def test_search_parcel_by_ward_sheet_and_number(web, pdb):
    fid = _fid(pdb)
    for q in ("Ninh Kiều tờ 2 thửa 49", "ninh kieu to 2 thua 49", "31135 2 49",
              "Phường Ninh Kiều, tờ bản đồ số 2, thửa đất số 49"):
        doc = _search(web, q)
        assert doc["interpretation"] == "parcel", q
        assert [r["fid"] for r in doc["results"]] == [fid], q
        assert doc["results"][0]["label"]["vi"].startswith("Thửa 49, tờ 2")


def test_search_parcel_with_an_old_ward_name(web, pdb):
    old = pdb.execute("SELECT old_names FROM data.admin_units WHERE code = '31135'"
                      ).fetchone()["old_names"].split(";")[-1].strip()
    doc = _search(web, f"{fold_diacritics(old)} to 2 thua 49")
    assert _fid(pdb) in [r["fid"] for r in doc["results"]]


def test_search_ward_by_old_name(web):
    res = _search(web, "thoi binh")["results"]
    assert res[0]["kind"] == "ward" and res[0]["code"] == "31135"


@pytest.mark.parametrize("q,order", [
    ("10.03, 105.78", "lat, lon"), ("105.78 10.03", "lon, lat"),
    ("X=1109275.197 Y=585308.926", "northing, easting"),
    ("585308.926 1109275.197", "easting, northing"),
    ("1109275.197, 585308.926", "northing, easting"),
])
def test_search_coordinates(web, q, order):
    doc = _search(web, q)
    assert doc["interpretation"] == "coordinates"
    point = doc["results"][0]
    assert point["kind"] == "coordinate" and point["input"]["order"] == order
    # the vn2000.md regression point, through EPSG:6960 (5e-8° ≈ 5 mm)
    assert point["point"] == pytest.approx([105.78, 10.03], abs=5e-8)
    assert point["ward"] == "Ninh Kiều"


def test_coordinate_parsing_rejects_non_places():
    assert parse_coordinates("12 153") is None  # sheet/parcel numbers, not a place
    assert parse_coordinates("31135 2 49") is None


# -- selection export -------------------------------------------------------------------------
def test_export_geojson_and_csv(web, pdb):
    fids = [r["fid"] for r in pdb.execute(
        "SELECT fid FROM data.cadastral_parcels ORDER BY fid LIMIT 5")]
    r = web.get("/api/export", params={"layer": "cadastral_parcels",
                                       "fids": ",".join(map(str, fids)), "f": "geojson"})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    doc = r.json()
    assert [f["id"] for f in doc["features"]] == fids
    assert "sheet_no" in doc["features"][0]["properties"]
    c = web.get("/api/export", params={"layer": "cadastral_parcels",
                                       "fids": ",".join(map(str, fids)), "f": "csv"})
    rows = list(csv.DictReader(io.StringIO(c.content.decode("utf-8-sig"))))
    assert [int(x["fid"]) for x in rows] == fids and rows[0]["wkt"].startswith("MULTIPOLYGON")


def test_export_errors(web):
    assert web.get("/api/export", params={"layer": "water_pipes", "fids": "1"}
                   ).status_code == 404  # restricted: like a missing layer
    assert web.get("/api/export", params={"layer": "nope", "fids": "1"}).status_code == 404
    assert web.get("/api/export", params={"layer": "cadastral_parcels", "fids": "1,x"}
                   ).status_code == 400
    assert web.get("/api/export", params={"layer": "cadastral_parcels"}).status_code == 400


# -- personal data ----------------------------------------------------------------------------
def test_no_personal_data_in_planning_search_or_export(web, pdb):
    secrets = set()
    for r in pdb.execute("SELECT owner_name, owner_id_no FROM data.cadastral_parcels"):
        if r["owner_id_no"]:
            secrets.add(r["owner_id_no"])
        if r["owner_name"] and len(r["owner_name"].split()) >= 3:
            secrets.add(r["owner_name"])
    # owners named after a street (Nguyễn Văn Linh is a Cần Thơ street too) are public text
    public = " ".join(r["t"] for r in pdb.execute(
        "SELECT coalesce(full_address, '') AS t FROM data.address_points UNION ALL "
        "SELECT coalesce(address, '') FROM data.cadastral_parcels"))
    secrets = {s for s in secrets if s not in public}
    assert len(secrets) > 100
    fids = [r["fid"] for r in pdb.execute(
        "SELECT fid FROM data.cadastral_parcels WHERE owner_id_no IS NOT NULL "
        "ORDER BY fid LIMIT 40")]
    bodies = []
    for fid in fids[:8]:
        bodies.append(web.get(f"/api/parcels/{fid}/planning").text)
        bodies.append(web.get(f"/api/parcels/{fid}/planning", params={"f": "html"}).text)
    for q in ("Ninh Kiều tờ 2 thửa 49", "ly thuong kiet", "10.03, 105.78", "nguyen van"):
        bodies.append(web.get("/api/search", params={"q": q}).text)
    for f in ("geojson", "csv"):
        bodies.append(web.get("/api/export", params={
            "layer": "cadastral_parcels", "fids": ",".join(map(str, fids)), "f": f}).text)
    for body in bodies:
        assert "owner_name" not in body and "owner_id_no" not in body
        assert "Tên chủ sử dụng" not in body
        leaked = [s for s in secrets if s in body]
        assert not leaked, leaked[:3]


# -- flood depth (raster) ---------------------------------------------------------------------
def _flood_rows(doc_rows: list[dict]) -> dict[str, list[float]]:
    return {r["layer"]: [c["share"] for c in r["classes"]] for r in doc_rows}


def test_planning_flood_depth_equals_the_parcel_flood_service(web, pdb):
    """The sample flood grids (100- and 10-year, 5 m cells) cover Ninh Kiều and Cái Răng: the
    known parcel and a deeply flooded one get the same class shares as /api/parcels/{fid}/flood."""
    box = web.get("/api/rasters/flood_depth_100y").json()["bbox"]
    inside = [r["fid"] for r in pdb.execute(
        "SELECT fid FROM data.cadastral_parcels WHERE ST_Within(geom, ST_MakeEnvelope("
        "%s, %s, %s, %s, 4326)) ORDER BY fid", box)]
    assert len(inside) >= 10, "the sample parcels should lie in the flood grid"
    inside = inside[::max(1, len(inside) // 40)]  # 40 spread over the grid, low ground too
    deep = next((fid for fid in inside if any(  # a parcel on low ground: deeper classes too
        (r["max"] or 0) > 0.5 for r in web.get(f"/api/parcels/{fid}/flood").json()["flood"])),
        None)
    assert deep is not None, "no sample parcel with more than 0.5 m of 100-year flood depth"
    fids = [_fid(pdb), deep]
    for fid in fids:
        doc = web.get(f"/api/parcels/{fid}/planning").json()
        flood = web.get(f"/api/parcels/{fid}/flood").json()["flood"]
        got = _flood_rows(doc["flood_depth"])
        assert set(got) == {"flood_depth_100y", "flood_depth_10y"}, fid
        assert got == _flood_rows(flood), fid
        for row in doc["flood_depth"]:
            assert row["count"] > 0 and sum(c["share"] for c in row["classes"]) == \
                pytest.approx(1.0), (fid, row["layer"])
            assert row["summary"]["vi"].startswith(row["title"]["vi"])
            assert " of the area" in row["summary"]["en"]
            assert all(c["color"].startswith("#") for c in row["classes"])
        want = {r["layer"]: r["summary"] for r in flood}
        assert {r["layer"]: r["summary"] for r in doc["flood_depth"]} == want
    html = web.get(f"/api/parcels/{fids[0]}/planning", params={"f": "html"}).text
    assert "Độ sâu ngập (mô hình thủy lực)" in html
    assert doc["flood_depth"][0]["summary"]["vi"] in web.get(
        f"/api/parcels/{fids[-1]}/planning", params={"f": "html"}).text
    en = web.get(f"/api/parcels/{fids[-1]}/planning", params={"f": "html", "lang": "en"}).text
    assert doc["flood_depth"][0]["summary"]["en"] in en


def test_planning_flood_depth_outside_the_grid_has_no_shares(web, pdb):
    """Sóc Trăng parcels lie far outside the sample flood grids: entries without classes."""
    row = pdb.execute("SELECT fid FROM data.cadastral_parcels WHERE ST_X(ST_Centroid(geom)) "
                      "> 105.9 ORDER BY fid LIMIT 1").fetchone()
    if row is None:
        pytest.skip("no parcel east of the flood grid in the sample set")
    doc = web.get(f"/api/parcels/{row['fid']}/planning").json()
    assert doc["flood_depth"] and all(r["classes"] == [] and r["count"] == 0
                                      for r in doc["flood_depth"])
