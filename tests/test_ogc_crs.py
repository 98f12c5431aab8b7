"""OGC API - Features Part 2: CRS of responses, bbox-crs, Content-Crs; VN-2000 output through
EPSG:6960 checked at 1 mm against the regression points of shared/reference/vn2000.md."""

from __future__ import annotations

import math

import pytest

from gis.crs import from_wgs84
from tests.ogc_fixtures import REGRESSION

pytest_plugins = ["tests.ogc_fixtures"]

EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"


def hydrants(client, **params):
    doc = client.get("/collections/fire_hydrants/items", params={"limit": 100, **params})
    assert doc.status_code == 200, doc.text
    return doc, {f["properties"]["location"]: f["geometry"]["coordinates"]
                 for f in doc.json()["features"]}


@pytest.mark.parametrize("epsg", [5897, 9209, 3405])
def test_vn2000_projected_output_matches_regression_points(client, epsg):
    r, coords = hydrants(client, crs=EPSG.format(epsg))
    assert r.headers["content-crs"] == f"<{EPSG.format(epsg)}>"
    for name, (_lonlat, expected) in REGRESSION.items():
        e, n = coords[name]
        ee, en = expected[epsg]
        assert math.hypot(e - ee, n - en) <= 0.001, (name, epsg, e - ee, n - en)


def test_vn2000_geographic_output_is_lat_lon_and_exact(client):
    _, coords = hydrants(client, crs="EPSG:4756")
    op = from_wgs84("vn2000-geographic")
    for name, (lonlat, _) in REGRESSION.items():
        lon, lat = op.transform([lonlat[0]], [lonlat[1]])
        got_lat, got_lon = coords[name]
        assert abs(got_lat - lat[0]) < 1e-8 and abs(got_lon - lon[0]) < 1e-8  # < 1 mm


def test_epsg4326_is_lat_lon_and_crs84_lon_lat(client):
    _, latlon = hydrants(client, crs=EPSG.format(4326))
    _, lonlat = hydrants(client)
    for name, (ll, _) in REGRESSION.items():
        assert latlon[name] == pytest.approx([ll[1], ll[0]], abs=1e-9)
        assert lonlat[name] == pytest.approx(list(ll), abs=1e-9)


def test_web_mercator(client):
    _, coords = hydrants(client, crs="EPSG:3857")
    lon, lat = REGRESSION["Ninh Kiều"][0]
    x = math.radians(lon) * 6378137
    y = math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) * 6378137
    assert coords["Ninh Kiều"] == pytest.approx([x, y], abs=0.001)


@pytest.mark.parametrize("epsg", [5897, 9209, 3405])
def test_bbox_in_vn2000(client, epsg):
    e, n = REGRESSION["Vị Thanh"][1][epsg]
    _, coords = hydrants(client, **{"bbox": f"{e - 5},{n - 5},{e + 5},{n + 5}",
                                    "bbox-crs": EPSG.format(epsg)})
    assert set(coords) == {"Vị Thanh"}


def test_bbox_crs_4326_is_lat_lon(client):
    _, coords = hydrants(client, **{"bbox": "9.5,105.9,9.7,106.0", "bbox-crs": "EPSG:4326"})
    assert set(coords) == {"Sóc Trăng"}


def test_feature_in_vn2000(client):
    fid = client.get("/collections/fire_hydrants/items", params={"limit": 100}).json()
    ninh_kieu = next(f["id"] for f in fid["features"]
                     if f["properties"]["location"] == "Ninh Kiều")
    r = client.get(f"/collections/fire_hydrants/items/{ninh_kieu}", params={"crs": "EPSG:5897"})
    assert r.headers["content-crs"] == f"<{EPSG.format(5897)}>"
    e, n = r.json()["geometry"]["coordinates"]
    ee, en = REGRESSION["Ninh Kiều"][1][5897]
    assert math.hypot(e - ee, n - en) <= 0.001


def test_unknown_crs_is_400(client):
    for params in ({"crs": "EPSG:5194"}, {"bbox-crs": "EPSG:32648", "bbox": "1,2,3,4"},
                   {"crs": "nonsense"}, {"filter-crs": "EPSG:1"}):
        r = client.get("/collections/fire_hydrants/items", params=params)
        assert r.status_code == 400 and "CRS" in r.json()["description"], params


def test_collections_advertise_crs(client):
    doc = client.get("/collections/fire_hydrants").json()
    for epsg in (4326, 3857, 5897, 9209, 3405, 4756):
        assert EPSG.format(epsg) in doc["crs"]
