"""OGC API - Features Part 3: queryables, CQL2 text/JSON for each operator (checked against
the database with our own SQL), filter-crs, sortby with keyset paging, properties, and
injection attempts answered 400."""

from __future__ import annotations

import json

import pytest

from tests.ogc_fixtures import REGRESSION

pytest_plugins = ["tests.ogc_fixtures"]

ITEMS = "/collections/cadastral_parcels/items"


def fids(client, **params):
    r = client.get(ITEMS, params={"limit": 10000, **params})
    assert r.status_code == 200, r.text
    return {f["id"] for f in r.json()["features"]}


def db_fids(conn, where, args=()):
    return {r["fid"] for r in conn.execute(
        f"SELECT fid FROM data.cadastral_parcels WHERE {where}", args or None)}


def test_queryables(client):
    r = client.get("/collections/cadastral_parcels/queryables")
    assert r.headers["content-type"].startswith("application/schema+json")
    doc = r.json()
    assert doc["type"] == "object" and "ward_name" in doc["properties"]
    assert doc["properties"]["sheet_no"]["type"] == "integer"
    assert doc["properties"]["valid_from"]["format"] == "date"


CASES = [
    ("ward_name = 'Cái Khế'", "ward_name = 'Cái Khế'"),
    ("sheet_no <> 3", "sheet_no <> 3"),
    ("parcel_no < 10 AND sheet_no >= 20", "parcel_no < 10 AND sheet_no >= 20"),
    ("legal_area > 727.5 OR parcel_no <= 2", "legal_area > 727.5 OR parcel_no <= 2"),
    ("NOT (land_use_code = 'ODT')", "NOT (land_use_code = 'ODT')"),
    ("address LIKE 'Số 1%'", "address LIKE 'Số 1%'"),
    ("land_use_code IN ('LUC', 'CLN')", "land_use_code IN ('LUC', 'CLN')"),
    ("parcel_no BETWEEN 5 AND 7", "parcel_no BETWEEN 5 AND 7"),
    ("address IS NULL", "address IS NULL"),
    ("address IS NOT NULL AND sheet_no = 1", "address IS NOT NULL AND sheet_no = 1"),
    ("CASEI(ward_name) = casei('CÁI KHẾ')", "lower(ward_name) = lower('CÁI KHẾ')"),
    ("valid_from > DATE('2020-06-01')", "valid_from > '2020-06-01'"),
    ("T_AFTER(valid_from, DATE('2022-01-01'))", "valid_from > '2022-01-01'"),
    ("T_BEFORE(valid_from, DATE('2006-01-01'))", "valid_from < '2006-01-01'"),
    ("T_DURING(valid_from, INTERVAL('2010-01-01', '2010-12-31'))",
     "valid_from > '2010-01-01' AND valid_from < '2010-12-31'"),
    ("T_INTERSECTS(valid_from, INTERVAL('2015-01-01', '..'))", "valid_from >= '2015-01-01'"),
    ("S_INTERSECTS(geom, BBOX(105.781, 10.0305, 105.785, 10.033))",
     "ST_Intersects(geom, ST_MakeEnvelope(105.781, 10.0305, 105.785, 10.033, 4326))"),
    ("S_WITHIN(geom, POLYGON((105.779 10.029, 105.79 10.029, 105.79 10.035, 105.779 10.035, "
     "105.779 10.029)))",
     "ST_Within(geom, ST_GeomFromText('POLYGON((105.779 10.029, 105.79 10.029, 105.79 10.035,"
     " 105.779 10.035, 105.779 10.029))', 4326))"),
    ("S_DWITHIN(geom, POINT(105.785 10.035), 60)",
     "ST_DWithin(geom::geography, ST_SetSRID(ST_Point(105.785, 10.035), 4326)::geography, 60)"),
]


@pytest.mark.parametrize("cql,where", CASES, ids=[c[0][:40] for c in CASES])
def test_cql2_text_matches_sql(client, conn, cql, where):
    expected = db_fids(conn, where)
    assert expected, "the case must select something"
    assert fids(client, filter=cql) == expected


def test_cql2_json(client, conn):
    doc = {"op": "and", "args": [
        {"op": "=", "args": [{"property": "ward_name"}, "An Hòa"]},
        {"op": "in", "args": [{"property": "land_use_code"}, ["ODT", "TMD"]]}]}
    got = fids(client, filter=json.dumps(doc), **{"filter-lang": "cql2-json"})
    assert got == db_fids(conn, "ward_name = 'An Hòa' AND land_use_code IN ('ODT', 'TMD')")


def test_filter_crs_vn2000(client, conn):
    e, n = REGRESSION["Ninh Kiều"][1][5897]
    cql = f"S_INTERSECTS(geom, BBOX({e - 40}, {n - 40}, {e + 40}, {n + 40}))"
    got = fids(client, filter=cql, **{"filter-crs": "EPSG:5897"})
    lon, lat = REGRESSION["Ninh Kiều"][0]
    within = "ST_DWithin(geom::geography, ST_SetSRID(ST_Point(%s, %s), 4326)::geography, %s)"
    assert db_fids(conn, within, (lon, lat, 39)) <= got <= db_fids(conn, within, (lon, lat, 58))
    assert got


@pytest.mark.parametrize("bad,hint", [
    ("ward_name = ", "parse"),
    ("owner_name = 'Nguyễn Văn An'", "owner_name"),
    ("owner_id_no IS NOT NULL", "owner_id_no"),
    ("extra IS NOT NULL", "extra"),
    ("no_such = 1", "no_such"),
    ("sheet_no = 'abc'", "sheet_no"),
    ("ward_name = 'x'; DROP TABLE spp.layers; --", "parse"),
    ("ward_name = 'x' OR 1=1 --", "parse"),
    ("\"ward_name\" = 'a'' OR ''1''=''1'", ""),
    ("S_INTERSECTS(geom, POINT(nan 1))", ""),
    ("T_AFTER(ward_name, DATE('2020-01-01'))", "ward_name"),
    ("pg_sleep(10) = 1", ""),
])
def test_invalid_filters_and_injection_are_400(client, conn, bad, hint):
    r = client.get(ITEMS, params={"filter": bad})
    if r.status_code == 200:  # a quoted literal is data, never SQL
        assert r.json()["numberReturned"] == 0
    else:
        assert r.status_code == 400, (bad, r.text)
        assert hint.lower() in r.json()["description"].lower()
    assert conn.execute("SELECT count(*) n FROM spp.layers").fetchone()["n"] > 0
    assert client.get(ITEMS, params={"filter": "{not json", "filter-lang": "cql2-json"}
                      ).status_code == 400
    assert client.get(ITEMS, params={"filter": "a = 1", "filter-lang": "sql"}
                      ).status_code == 400


def test_sortby_keyset_paging(client, conn):
    expected = [r["fid"] for r in conn.execute(
        "SELECT fid FROM data.cadastral_parcels ORDER BY address DESC NULLS FIRST, "
        "legal_area ASC, fid")]
    seen, url = [], ITEMS + "?sortby=-address,legal_area&limit=333"
    while url:
        doc = client.get(url).json()
        seen += [f["id"] for f in doc["features"]]
        nxt = [lk["href"] for lk in doc["links"] if lk["rel"] == "next"]
        url = nxt[0].replace(str(client.base_url), "") if nxt else None
    assert seen == expected
    assert client.get(ITEMS, params={"sortby": "owner_name"}).status_code == 400


def test_properties_selects_columns(client):
    doc = client.get(ITEMS, params={"properties": "parcel_no,ward_name", "limit": 3}).json()
    assert all(set(f["properties"]) == {"parcel_no", "ward_name"} for f in doc["features"])
    for hidden in ("owner_name", "owner_id_no", "extra", "source_row", "nope"):
        r = client.get(ITEMS, params={"properties": hidden})
        assert r.status_code == 400 and "unknown property" in r.json()["description"]
