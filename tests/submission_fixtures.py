"""Shared fixtures of the submission tests: a database of their own with one ward (the city's
reference polygons), street lights, flood observations and address points loaded with
`gis load`, API keys of the departments, and a real `gis serve` on it."""

from __future__ import annotations

import geopandas as gpd
import httpx
import psycopg
import pytest
import shapely
from psycopg.rows import dict_row

from tests.builders import write
from tests.conftest import run_gis, serve
from tests.submission_helpers import WARD, keys_for


@pytest.fixture(scope="module")
def sub_data(own_database, session_dir):
    folder = session_dir / "submission_data"
    folder.mkdir(mode=0o755, exist_ok=True)
    wards = gpd.GeoDataFrame({"MaXa": ["31117"], "Ten": ["Ninh Kiều"], "Loai": ["phường"]},
                             geometry=[shapely.MultiPolygon([WARD])], crs="OGC:CRS84")
    run_gis("load", str(write(wards, folder / "wards.geojson")), "--layer", "admin_units",
            check=True)
    lights = gpd.GeoDataFrame(
        {"MaDen": ["DCS-1", "DCS-2"], "TenDuong": ["Hòa Bình", "Trần Phú"]},
        geometry=[shapely.Point(105.781, 10.031), shapely.Point(105.782, 10.032)],
        crs="OGC:CRS84")
    run_gis("load", str(write(lights, folder / "lights.geojson")), "--layer", "street_lights",
            check=True)
    floods = gpd.GeoDataFrame(
        {"DoSau": [20], "ThoiGian": ["2025-10-01T18:00:00+07:00"], "TenDuong": ["Mậu Thân"]},
        geometry=[shapely.Point(105.77, 10.02)], crs="OGC:CRS84")
    run_gis("load", str(write(floods, folder / "ngap.geojson")), "--layer",
            "flood_observations", check=True)
    addresses = gpd.GeoDataFrame(
        {"MaDiaChi": ["DC-1"], "SoNha": ["12"], "TenDuong": ["Lý Tự Trọng"]},
        geometry=[shapely.Point(105.783, 10.033)], crs="OGC:CRS84")
    run_gis("load", str(write(addresses, folder / "dc.geojson")), "--layer", "address_points",
            check=True)
    return {"keys": keys_for("sxd", "snnmt", "skhcn", "ca", "admin")}


@pytest.fixture(scope="module")
def sub_server(sub_data, own_database, session_dir):
    with serve(own_database, session_dir / "submissions_serve.log",
               SPP_SUBMISSION_RATE_PER_HOUR="0", SPP_RATE_IP_PER_S="0") as root:
        yield root


@pytest.fixture(scope="module")
def http(sub_server):
    with httpx.Client(base_url=sub_server, timeout=60) as c:
        yield c


@pytest.fixture
def db(own_database):
    with psycopg.connect(own_database, autocommit=True, row_factory=dict_row) as c:
        yield c
