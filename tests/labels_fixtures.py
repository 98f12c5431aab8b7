"""Fixtures of the label tests: a database of its own with one small delivery per labelled
layer, Vietnamese names with stacked diacritics (two wards "Ninh Kiều" and "Cái Răng", the
streets "Đường 3 Tháng 2" and "Nguyễn Việt Hồng", "Sông Cần Thơ", "Rạch Ông Hữu", parcels
with sheet/parcel numbers, house numbers, an investment project, land-use plan zones),
loaded with the real `gis load`, and a real `gis serve` on it."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd
import psycopg
import pytest
import shapely

from tests.builders import parcel_frame, write
from tests.conftest import run_gis, serve

DB_NAME = "spp_labels_test"
WIDE = (105.7870, 10.0330)  # lon, lat: both wards, the streets, the river, project, zones
NEAR = (105.7835, 10.0306)  # parcels and house numbers, north of Đường 3 Tháng 2
CRS = "OGC:CRS84"


def _box(x0, y0, dx, dy):
    return shapely.box(x0, y0, x0 + dx, y0 + dy)


def label_frames() -> dict[str, gpd.GeoDataFrame]:
    wards = gpd.GeoDataFrame(
        {"MaXa": ["31135", "31153"], "TenXa": ["Ninh Kiều", "Cái Răng"],
         "Loai": ["Phường", "Phường"], "MaTinh": ["92", "92"]},
        geometry=[shapely.MultiPolygon([_box(105.772, 10.024, 0.014, 0.018)]),
                  shapely.MultiPolygon([_box(105.786, 10.024, 0.014, 0.018)])], crs=CRS)
    roads = gpd.GeoDataFrame(
        {"MaDoan": ["D-1", "D-2"], "TenDuong": ["Đường 3 Tháng 2", "Nguyễn Việt Hồng"],
         "CapDuong": ["Đường khu vực", "Đường khu vực"]},
        geometry=[shapely.LineString([(105.774, 10.0300), (105.800, 10.0300)]),
                  shapely.LineString([(105.7795, 10.025), (105.7795, 10.041)])], crs=CRS)
    waterways = gpd.GeoDataFrame(
        {"maNhanDang": ["TV-1", "TV-2"], "TenSong": ["Sông Cần Thơ", "Rạch Ông Hữu"],
         "LoaiThuyHe": ["Sông", "Rạch"], "ChieuRong": [280.0, 12.0]},
        geometry=[shapely.LineString([(105.774, 10.0370), (105.800, 10.0385)]),
                  shapely.LineString([(105.7935, 10.025), (105.7935, 10.036)])], crs=CRS)
    x, y = NEAR
    parcels = parcel_frame(3, crs="EPSG:4326", epsg=4326, start_sheet=12,
                           geoms=[_box(x - 0.0007 + 0.00045 * i, y - 0.0004, 0.0004, 0.0003)
                                  for i in range(3)])
    addresses = gpd.GeoDataFrame(
        {"MaDiaChi": ["DC-1", "DC-2", "DC-3"], "SoNha": ["12", "14A", "16/3"],
         "TenDuong": ["Đường 3 Tháng 2"] * 3},
        geometry=[shapely.Point(x - 0.0005 + 0.00045 * i, y - 0.00035) for i in range(3)],
        crs=CRS)
    project = gpd.GeoDataFrame(
        {"MaDA": ["DA-07"], "TenDA": ["Khu nhà ở Cửu Long"], "LinhVuc": ["Nhà ở"]},
        geometry=[_box(105.7885, 10.0315, 0.003, 0.002)], crs=CRS)
    zones = gpd.GeoDataFrame(
        {"MaQH": ["ODT", "TMD"], "TenDuAn": ["Khu ở Hưng Lợi", "Chợ nổi"],
         "KyQH": ["2021-2030", "2021-2030"]},
        geometry=[_box(105.7805, 10.0320, 0.003, 0.002), _box(105.7840, 10.0320, 0.003, 0.002)],
        crs=CRS)
    return {"admin_units": wards, "roads": roads, "waterways": waterways,
            "cadastral_parcels": parcels, "address_points": addresses,
            "investment_projects": project, "land_use_plan_zones": zones}


@pytest.fixture(scope="session")
def labels_db(database_url, session_dir):
    """(database URL, environment) holding the labelled deliveries."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    url = urlunsplit(urlsplit(database_url)._replace(path=f"/{DB_NAME}"))
    env = {"DATABASE_URL": url, "SPP_DATA_DIR": str(session_dir / "labels"), "COLUMNS": "200"}
    run_gis("db", "migrate", env=env, check=True)
    folder = session_dir / "labels_data"
    for layer, frame in label_frames().items():
        path = write(frame, folder / f"{layer}.geojson")
        run_gis("load", str(path), "--layer", layer, "--force", env=env, check=True)
    return url, env


@pytest.fixture(scope="session")
def labels_server(labels_db, session_dir):
    """Root URL of `gis serve` on the labels database."""
    url, env = labels_db
    with serve(url, session_dir / "labels_serve.log", SPP_DATA_DIR=env["SPP_DATA_DIR"],
               SPP_RATE_IP_PER_S="0") as root:
        yield root
