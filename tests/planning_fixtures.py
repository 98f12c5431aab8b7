"""The sample Cần Thơ set (`gis demo --no-serve`) in a database of its own on the session's
cluster, plus a flood-risk zone and an investment project drawn over one known parcel, served
by a real `gis serve`. Its own database keeps these loads apart from the OGC tests' parcels."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import geopandas as gpd
import httpx
import psycopg
import pytest
import shapely
from psycopg.rows import dict_row

from tests.builders import write
from tests.conftest import run_gis, serve

DB_NAME = "spp_planning_test"
PARCEL_KEY = ("31135", 2, 49)  # a Ninh Kiều parcel of the sample set (sheet 2, parcel 49)


@pytest.fixture(scope="session")
def planning_db(database_url, session_dir):
    """URL of a database holding the sample set and the two extra layers."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        admin.execute(f"CREATE DATABASE {DB_NAME}")
    url = urlunsplit(urlsplit(database_url)._replace(path=f"/{DB_NAME}"))
    env = {"DATABASE_URL": url, "SPP_DATA_DIR": str(session_dir / "planning"),
           "COLUMNS": "200"}
    run_gis("demo", "--no-serve", env=env, check=True, timeout=900)
    with psycopg.connect(url, row_factory=dict_row) as conn:
        p = conn.execute(
            "SELECT fid, ST_XMin(geom) x0, ST_YMin(geom) y0, ST_XMax(geom) x1, "
            "ST_YMax(geom) y1 FROM data.cadastral_parcels WHERE commune_code = %s AND "
            "sheet_no = %s AND parcel_no = %s", PARCEL_KEY).fetchone()
    assert p, "the sample set no longer has parcel 31135/2/49"
    folder = session_dir / "planning_extra"
    folder.mkdir(mode=0o755, exist_ok=True)
    xm = (p["x0"] + p["x1"]) / 2
    # D3: the west half of the parcel's box and a margin around it; east of it a block of
    # parcels cut by a diagonal into D1 and D2, so many parcels lie in two zones
    x0, y0, x1, y1 = p["x1"] + 0.0006, p["y0"] - 0.002, p["x1"] + 0.004, p["y1"] + 0.002
    flood = gpd.GeoDataFrame(
        {"CapNgap": ["D3", "D1", "D2"], "DoSauMin": [0.5, 0.0, 0.3], "DoSauMax": [1.0, 0.3, 0.5],
         "KichBan": ["BĐKH 2050"] * 3},
        geometry=[shapely.box(p["x0"] - 0.0005, p["y0"] - 0.0005, xm, p["y1"] + 0.0005),
                  shapely.Polygon([(x0, y0), (x1, y0), (x0, y1)]),
                  shapely.Polygon([(x1, y0), (x1, y1), (x0, y1)])],
        crs="OGC:CRS84")
    run_gis("load", str(write(flood, folder / "ngap.geojson")), "--layer", "flood_risk_zones",
            "--force", "--allow-shrink", env=env, check=True)
    xq = p["x1"] - (p["x1"] - p["x0"]) * 0.3
    project = gpd.GeoDataFrame(  # overlaps the eastern 30 % of the parcel's box
        {"MaDA": ["DA-01"], "TenDA": ["Khu dân cư Bến Ninh Kiều"], "LinhVuc": ["Nhà ở"]},
        geometry=[shapely.box(xq, p["y0"] - 0.0003, p["x1"] + 0.0008, p["y1"] + 0.0003)],
        crs="OGC:CRS84")
    run_gis("load", str(write(project, folder / "du_an.geojson")), "--layer",
            "investment_projects", "--force", "--allow-shrink", env=env, check=True)
    return url


@pytest.fixture(scope="session")
def planning_server(planning_db, session_dir):
    """Base URL (http://127.0.0.1:PORT) of `gis serve` on the planning database."""
    with serve(planning_db, session_dir / "planning_serve.log",
               SPP_DATA_DIR=str(session_dir / "planning")) as root:
        yield root


@pytest.fixture(scope="session")
def web(planning_server):
    with httpx.Client(base_url=planning_server, timeout=60) as c:
        yield c


@pytest.fixture
def pdb(planning_db):
    with psycopg.connect(planning_db, autocommit=True, row_factory=dict_row) as c:
        yield c
