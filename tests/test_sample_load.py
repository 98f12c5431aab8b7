"""The sample delivery set through `gis demo --no-serve` and `gis load`: legacy encodings behind
lying .cpg files, two VN-2000 zones, UTM plan zones, a northing-first CSV, CAD lines."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import shapely

from gis.crs import from_wgs84, transform_geometries
from gis.text import tcvn3
from tests.conftest import run_gis

pytestmark = pytest.mark.usefixtures("own_database")


@pytest.fixture
def conn(own_conn):
    """This module's loads go to a database of its own (see conftest.own_database)."""
    return own_conn


@pytest.fixture(scope="module")
def demo(own_database, session_dir):
    proc = run_gis("demo", "--no-serve", env={"COLUMNS": "200"}, check=True)
    return proc, session_dir / "data" / "sample"


def test_demo_loads_every_sample_file(demo, conn):
    proc, _ = demo
    counts = {r["id"]: r["feature_count"] for r in conn.execute(
        "SELECT id, feature_count FROM spp.layers WHERE current_version IS NOT NULL")}
    for layer in ("admin_units", "cadastral_parcels", "land_use_plan_zones",
                  "construction_plan_zones", "water_pipes", "drainage_lines", "street_lights",
                  "fire_hydrants", "address_points"):
        assert counts.get(layer, 0) > 0, f"{layer} not loaded:\n{proc.stdout}"
    flood = next(ln for ln in proc.stdout.splitlines() if "flood_depth_100y" in ln)
    assert "cells" in flood and "features" not in flood  # rasters report their grid


# the parcels carry deliberate defects (duplicate natural keys); nothing else may be rejected
DELIBERATE_REJECTS = {"cadastral_parcels"}


def test_every_layer_gets_sample_data_without_rejects(demo, conn):
    from gis.layerdef import load_layer_defs

    defs = load_layer_defs()
    vector = {i for i, d in defs.items() if d.kind == "vector"}
    rasters = {r["id"] for r in conn.execute(
        "SELECT id FROM spp.layers WHERE current_version IS NOT NULL")} & set(defs)
    missing = sorted(i for i, d in defs.items() if d.kind == "raster" and i not in rasters)
    assert not missing, f"raster layers without sample data: {missing}\n{demo[0].stdout}"
    rows = conn.execute(
        "SELECT l.id, l.feature_count, v.count_rejected, v.rejects FROM spp.layers l JOIN "
        "spp.layer_versions v ON v.layer_id = l.id AND v.version = l.current_version"
    ).fetchall()
    counts = {r["id"]: r["feature_count"] for r in rows}
    empty = sorted(i for i in vector if not counts.get(i))
    assert not empty, f"vector layers without sample data: {empty}\n{demo[0].stdout}"
    rejected = {r["id"]: (r["count_rejected"], (r["rejects"] or [])[:3]) for r in rows
                if r["count_rejected"] and r["id"] not in DELIBERATE_REJECTS}
    assert not rejected, rejected
    assert next(r for r in rows if r["id"] == "cadastral_parcels")["count_rejected"] > 0


def test_the_city_reads_by_its_names(demo, conn):
    """Every ward's real name, the rivers, the named streets, addresses on those streets."""
    from gis.sample.wards import WARDS

    names = {r["name"] for r in conn.execute("SELECT name FROM data.admin_units")}
    assert {w.name for w in WARDS} <= names and len(WARDS) == 103
    rivers = {r["name"] for r in conn.execute("SELECT DISTINCT name FROM data.waterways")}
    assert {"Sông Hậu", "Sông Cần Thơ", "Kênh Xáng Xà No"} <= rivers
    streets = {r["name"] for r in conn.execute("SELECT DISTINCT name FROM data.roads")}
    assert {"Đường 3 Tháng 2", "Đường 30 Tháng 4", "Nguyễn Văn Cừ", "Trần Hưng Đạo",
            "Mậu Thân", "Quốc lộ 1A", "Quốc lộ 91"} <= streets
    classes = {r["road_class"] for r in conn.execute("SELECT DISTINCT road_class FROM data.roads")}
    assert {"Quốc lộ", "Đường tỉnh", "Đường chính đô thị", "Đường xã"} <= classes
    off = conn.execute("SELECT count(*) AS n FROM data.address_points a WHERE NOT EXISTS ("
                       "SELECT 1 FROM data.roads r WHERE r.name = a.street_name)").fetchone()
    assert off["n"] == 0  # every address names a street of the road layer
    places = {r["name"] for r in conn.execute("SELECT name FROM data.place_names")}
    assert {"Ninh Kiều", "Cái Răng", "Chợ nổi Cái Răng"} <= places


def test_the_city_is_consistent_in_space(demo, conn):
    q = lambda sql: conn.execute(sql).fetchone()["n"]  # noqa: E731
    # parcels lie in the ward their commune code names (Voronoi cells, 2 m tolerance)
    assert q("SELECT count(*) AS n FROM data.cadastral_parcels p JOIN data.admin_units a "
             "ON a.code = p.commune_code WHERE NOT ST_DWithin(a.geom::geography, "
             "ST_PointOnSurface(p.geom)::geography, 2)") == 0
    # buildings stand on parcels, projects cover parcels, hydrants and trees line roads
    assert q("SELECT count(*) AS n FROM data.buildings b WHERE NOT EXISTS (SELECT 1 FROM "
             "data.cadastral_parcels p WHERE ST_Contains(p.geom, ST_PointOnSurface(b.geom)))"
             ) == 0
    assert q("SELECT count(*) AS n FROM data.investment_projects d WHERE d.name NOT LIKE "
             "'Khu công nghiệp%' AND d.name NOT LIKE 'Trung tâm logistics%' AND d.name NOT "
             "LIKE 'Khu du lịch%' AND d.name NOT LIKE 'Nhà máy%' AND NOT EXISTS (SELECT 1 "
             "FROM data.cadastral_parcels p WHERE ST_Intersects(p.geom, d.geom))") == 0
    for layer in ("fire_hydrants", "trees", "telecom_poles"):
        assert q(f"SELECT count(*) AS n FROM data.{layer} h WHERE NOT EXISTS (SELECT 1 FROM "
                 "data.roads r WHERE ST_DWithin(r.geom::geography, h.geom::geography, 20))"
                 ) == 0, layer
    # the wards tile the city: no overlaps
    assert q("SELECT count(*) AS n FROM data.admin_units a JOIN data.admin_units b ON "
             "a.fid < b.fid AND ST_Area(ST_Intersection(a.geom, b.geom)::geography) > 1") == 0


def test_demo_second_run_changes_nothing(demo, conn):
    before = conn.execute("SELECT count(*) AS n FROM spp.layer_versions").fetchone()["n"]
    again = run_gis("demo", "--no-serve", env={"COLUMNS": "200"}, check=True)
    after = conn.execute("SELECT count(*) AS n FROM spp.layer_versions").fetchone()["n"]
    assert after == before
    assert again.stdout.count("unchanged") >= 10


def test_tcvn3_parcels_behind_a_lying_cpg_read_as_vietnamese(demo, conn):
    _, sample = demo
    cpg = (sample / "thua_dat_ninhkieu" / "thua_dat.cpg").read_text().strip()
    assert cpg.upper().replace("-", "") == "UTF8"  # the .cpg lies: the bytes are TCVN3
    dbf = (sample / "thua_dat_ninhkieu" / "thua_dat.dbf").read_bytes()
    assert tcvn3.encode("Phường") in dbf  # really TCVN3 bytes in the file
    base = conn.execute("SELECT * FROM spp.layer_versions WHERE layer_id = "
                        "'cadastral_parcels' AND source_name = 'thua_dat.shp' "
                        "ORDER BY version DESC LIMIT 1").fetchone()
    assert base["encodings"]["TenXa"]["encoding"] == "tcvn3"
    assert base["encodings"]["TenChu"]["encoding"] == "tcvn3"
    names = [r["ward_name"] for r in conn.execute(
        "SELECT DISTINCT ward_name FROM data.cadastral_parcels WHERE commune_code = '31135'")]
    assert names == ["Phường Ninh Kiều"]
    owners = [r["owner_name"] for r in conn.execute(
        "SELECT owner_name FROM data.cadastral_parcels WHERE owner_name IS NOT NULL LIMIT 200")]
    words = {w for o in owners for w in o.split()}
    assert {"Nguyễn", "Trần", "Lê"} & words  # common surnames, with their diacritics
    assert not any(ch in "µè§¬Ç" for o in owners for ch in o)  # no mojibake left


def test_vni_parcels_in_the_soctrang_zone(demo, conn):
    app = conn.execute("SELECT * FROM spp.layer_versions WHERE layer_id = 'cadastral_parcels' "
                       "AND source_name = 'thua_dat_st.shp' ORDER BY version DESC LIMIT 1"
                       ).fetchone()
    assert app["encodings"]["TenXa"]["encoding"] == "vni"
    assert app["mode"] == "append"
    assert "+lon_0=105.5 " in app["pipeline"] and "+proj=helmert" in app["pipeline"]
    wards = {r["ward_name"] for r in conn.execute(
        "SELECT DISTINCT ward_name FROM data.cadastral_parcels WHERE commune_code IN "
        "('31507', '31510', '31684')")}
    assert wards == {"Phường Mỹ Xuyên", "Phường Sóc Trăng", "Phường Phú Lợi"}


def test_invalid_rings_repaired_duplicates_and_empties_reported(demo, conn):
    base = conn.execute("SELECT * FROM spp.layer_versions WHERE layer_id = "
                        "'cadastral_parcels' AND source_name = 'thua_dat.shp' "
                        "ORDER BY version DESC LIMIT 1").fetchone()
    assert base["count_repaired"] >= 10
    assert base["count_empty"] == 2
    assert any("duplicate" in r["reason"] for r in base["rejects"])
    ok = conn.execute("SELECT bool_and(ST_IsValid(geom)) AS ok FROM data.cadastral_parcels"
                      ).fetchone()["ok"]
    assert ok


def test_parcel_areas_in_the_vn2000_plane_match_the_delivered_area(demo, conn):
    rows = conn.execute("SELECT legal_area, area_plane_m2, area_geodesic_m2 FROM "
                        "data.cadastral_parcels WHERE legal_area IS NOT NULL").fetchall()
    legal = np.array([r["legal_area"] for r in rows])
    plane = np.array([r["area_plane_m2"] for r in rows])
    geodesic = np.array([r["area_geodesic_m2"] for r in rows])
    # the delivered DienTich is the TM-3 plane area rounded to 0.1 m² (repaired rings aside)
    assert np.median(np.abs(legal - plane)) < 0.06
    # the plane area differs from the ellipsoid one by the TM-3 scale (k0 0.9999 + distance)
    ratio = np.median(plane / geodesic)
    assert 0.9997 < ratio < 1.0003 and ratio != 1.0


def test_nfd_text_from_the_geopackage_is_stored_nfc(demo, conn):
    import unicodedata

    names = [r["ward_name"] for r in conn.execute(
        "SELECT DISTINCT ward_name FROM data.land_use_plan_zones WHERE ward_name IS NOT NULL")]
    assert names
    assert all(unicodedata.is_normalized("NFC", n) for n in names)


def test_address_csv_is_northing_first_and_lands_on_its_coordinates(demo, conn):
    _, sample = demo
    with open(sample / "dia_chi" / "dia_chi.csv", encoding="utf-8") as fh:
        first = next(csv.DictReader(fh))
    x, y = float(first["X"]), float(first["Y"])
    assert x > 1_000_000 > y  # X is the northing
    row = conn.execute("SELECT ST_X(geom) AS lon, ST_Y(geom) AS lat, street_name, ward_name "
                       "FROM data.address_points WHERE address_code = %s",
                       (first["MaDiaChi"],)).fetchone()
    expected = transform_geometries(np.array([shapely.Point(row["lon"], row["lat"])]),
                                    from_wgs84("vn2000-cantho"))[0]
    assert abs(expected.x - y) < 0.001 and abs(expected.y - x) < 0.001  # 1 mm round trip
    assert row["street_name"] == first["TenDuong"]
    version = conn.execute("SELECT axis_order FROM spp.layer_versions WHERE layer_id = "
                           "'address_points' ORDER BY version DESC LIMIT 1").fetchone()
    assert "northing" in version["axis_order"]


def test_encoding_override_forces_one_reading(demo, conn, tmp_path):
    """--encoding cp1252 on a TCVN3 file keeps the glyphs: the user's choice wins."""
    _, sample = demo
    # --allow-shrink: the Ninh Kiều file alone would replace the Sóc Trăng parcels too
    run_gis("load", str(sample / "thua_dat_ninhkieu" / "thua_dat.shp"), "--layer",
            "cadastral_parcels", "--encoding", "latin1", "--dry-run", "--allow-shrink",
            check=True)
    row = conn.execute("SELECT encodings FROM spp.layer_versions WHERE layer_id = "
                       "'cadastral_parcels' AND status = 'dry_run' ORDER BY version DESC "
                       "LIMIT 1").fetchone()
    assert row["encodings"]["TenXa"]["encoding"] == "latin1"
    assert row["encodings"]["TenXa"]["forced"] is True
    bad = run_gis("load", str(sample / "thua_dat_ninhkieu" / "thua_dat.shp"), "--layer",
                  "cadastral_parcels", "--encoding", "klingon")
    assert bad.returncode == 2 and "klingon" in bad.stderr and "tcvn3" in bad.stderr


def test_place_names_are_found_by_the_search_box(demo, own_database, session_dir):
    """A planner types a place's name, with or without accents: the place comes first, before
    the addresses that merely lie in a ward of that name; the ward itself is listed once."""
    import httpx

    from tests.conftest import serve

    with serve(own_database, session_dir / "sample_search_serve.log") as root:
        def search(q):
            r = httpx.get(f"{root}/api/search", params={"q": q}, timeout=60)
            assert r.status_code == 200, r.text
            return r.json()["results"]

        hits = search("cho noi cai rang")
        assert (hits[0]["kind"], hits[0]["layer"], hits[0]["label"]["vi"]) == (
            "place", "place_names", "Chợ nổi Cái Răng")
        lon, lat = hits[0]["point"]
        assert 105.7 < lon < 105.9 and 9.9 < lat < 10.1
        hits = search("Cái Răng")
        kinds = [(h["kind"], h["label"]["vi"]) for h in hits]
        assert kinds[0] == ("ward", "Cái Răng"), kinds
        assert ("place", "Chợ nổi Cái Răng") in kinds
        assert ("place", "Cái Răng") not in kinds  # the ward hit stands for its place name
        assert [k for k, _ in kinds].index("place") < (
            [k for k, _ in kinds] + ["address"]).index("address")
