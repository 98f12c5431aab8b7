"""Shared fixtures of the OGC API tests: real layers loaded with `gis load`, and a real
uvicorn server (`python -m gis serve`) on a free loopback port against the test database."""

from __future__ import annotations

import geopandas as gpd
import httpx
import numpy as np
import pytest
import shapely

from tests.builders import parcel_frame, write
from tests.conftest import run_gis, serve

N_PARCELS = 2500
WARDS = np.array(["An Hòa", "Cái Khế", "Xuân Khánh", "Tân An"])
# Regression points of shared/reference/vn2000.md: WGS 84 and the EPSG:6960 coordinates
REGRESSION = {
    "Ninh Kiều": ((105.78, 10.03), {5897: (585308.926, 1109275.197),
                                     9209: (530497.564, 1109187.178),
                                     3405: (585283.330, 1108942.381)}),
    "Vị Thanh": ((105.47, 9.78), {5897: (551364.357, 1081560.754),
                                   9209: (496513.312, 1081525.264),
                                   3405: (551348.946, 1081236.253)}),
    "Sóc Trăng": ((105.97, 9.60), {5897: (606275.984, 1061768.143),
                                    9209: (551391.972, 1061653.388),
                                    3405: (606244.098, 1061449.580)}),
}
SECRET_IDS = [f"0921{i:08d}" for i in range(N_PARCELS)]  # CCCD numbers: must never leak
SECRET_NAMES = ["Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường"]  # TenChu of parcel_frame


@pytest.fixture(scope="session")
def ogc_data(database_url, session_dir):
    """Parcels (2 500, with personal fields), hydrants at the regression points, and a
    restricted layer (water pipes) the public must not see."""
    folder = session_dir / "ogc_data"
    folder.mkdir(mode=0o755, exist_ok=True)
    i = np.arange(N_PARCELS)
    parcels = parcel_frame(
        N_PARCELS, CCCD=SECRET_IDS, TenXa=WARDS[i % 4],
        TuNgay=[f"{2005 + k % 20}-{1 + k % 12:02d}-{1 + k % 28:02d}" for k in i],
        DiaChi=[None if k % 10 == 0 else f"Số {k} đường 30/4" for k in i])
    run_gis("load", str(write(parcels, folder / "thua_dat.shp")), "--layer",
            "cadastral_parcels", "--force", check=True)
    names = list(REGRESSION)
    hydrants = gpd.GeoDataFrame(
        {"MaTru": [f"TN-{k}" for k in range(3)], "LoaiTru": ["trụ nổi", "trụ âm", "trụ nổi"],
         "DuongKinh": [100, 125, 100], "ViTri": names},
        geometry=[shapely.Point(*REGRESSION[n][0]) for n in names], crs="OGC:CRS84")
    run_gis("load", str(write(hydrants, folder / "tru_nuoc.geojson")), "--layer",
            "fire_hydrants", "--force", check=True)
    pipes = gpd.GeoDataFrame(
        {"MaOng": ["ONG-1", "ONG-2"], "DuongKinh": [200, 300]},
        geometry=[shapely.LineString([(105.78, 10.03), (105.79, 10.04)]),
                  shapely.LineString([(105.77, 10.02), (105.78, 10.03)])], crs="OGC:CRS84")
    run_gis("load", str(write(pipes, folder / "ong_nuoc.geojson")), "--layer", "water_pipes",
            "--force", check=True)
    from gis import db

    with db.connect() as conn:  # ids depend on what other tests loaded before
        fid = conn.execute("SELECT min(fid) AS f FROM data.cadastral_parcels").fetchone()["f"]
    return {"parcels": N_PARCELS, "hydrants": names, "fid": fid}


@pytest.fixture(scope="session")
def ogc_server(ogc_data, database_url, session_dir):
    """Base URL (http://127.0.0.1:PORT/ogc) of a real `gis serve` process."""
    with serve(database_url, session_dir / "ogc_serve.log") as root:
        yield root + "/ogc"


@pytest.fixture(scope="session")
def client(ogc_server):
    with httpx.Client(base_url=ogc_server, timeout=60) as c:
        yield c
